package metrics_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/metrics"
)

func TestWatchLookupCacheReadsAtEachScrape(t *testing.T) {
	m, reg := newMetrics(t, metrics.Options{})
	st := metrics.LookupCacheStats{Hits: 7, Misses: 3, Entries: 2, Bytes: 1500, MaxBytes: 8 << 20}
	if err := m.WatchLookupCache(func() metrics.LookupCacheStats { return st }); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"scimbridge_lookup_cache_hits_total": 7, "scimbridge_lookup_cache_misses_total": 3,
		"scimbridge_lookup_cache_entries": 2, "scimbridge_lookup_cache_bytes": 1500,
		"scimbridge_lookup_cache_max_bytes": 8 << 20,
	}
	for name, v := range want {
		if got := mustSample(t, reg, name, labels{}); got != v {
			t.Errorf("%s = %v, want %v", name, got, v)
		}
	}
	st.Hits = 9
	if got := mustSample(t, reg, "scimbridge_lookup_cache_hits_total", labels{}); got != 9 {
		t.Errorf("hits after a change = %v, want 9 (read at each scrape)", got)
	}
	if err := m.WatchLookupCache(func() metrics.LookupCacheStats { return st }); err == nil {
		t.Error("registered twice")
	}
}
