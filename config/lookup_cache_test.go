package config

import (
	"strings"
	"testing"
)

func TestLookupCacheMiB(t *testing.T) {
	for src, want := range map[string]int{
		"":                         DefaultLookupCacheMiB << 20,
		"lookup_cache_mib: 0\n":    -1,
		"lookup_cache_mib: 64\n":   64 << 20,
		"lookup_cache_mib: 4096\n": 4096 << 20,
	} {
		c, err := Parse([]byte(src+metricsBase), "", getenv)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if got := c.LookupCacheBytes(); got != want {
			t.Errorf("%q: LookupCacheBytes() = %d, want %d", src, got, want)
		}
	}
	for _, src := range []string{"lookup_cache_mib: -1\n", "lookup_cache_mib: 4097\n", "lookup_cache_mib: lots\n"} {
		_, err := Parse([]byte(src+metricsBase), "", getenv)
		if err == nil || !strings.Contains(err.Error(), "lookup_cache_mib") {
			t.Errorf("%q: err = %v, want one naming lookup_cache_mib", src, err)
		}
	}
}
