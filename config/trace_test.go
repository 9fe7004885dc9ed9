package config

import (
	"errors"
	"strings"
	"testing"
)

const traceBase = `
tenants:
  - name: okta
    token_env: OKTA_SCIM_TOKEN
`

func TestTraceDefaultsOff(t *testing.T) {
	c, err := Parse([]byte(traceBase), "", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.Trace.Enabled || c.Trace.MaxBodyBytes != DefaultTraceBodyBytes {
		t.Fatalf("trace defaults = %+v, want off with %d body bytes", c.Trace, DefaultTraceBodyBytes)
	}
}

func TestTraceValues(t *testing.T) {
	for _, tc := range []struct {
		src       string
		enabled   bool
		bodyBytes int
	}{
		{"trace: {enabled: true}\n", true, DefaultTraceBodyBytes},
		{"trace: {enabled: true, max_body_bytes: 0}\n", true, 0},
		{"trace:\n  enabled: false\n  max_body_bytes: 1048576\n", false, MaxTraceBodyBytes},
	} {
		c, err := Parse([]byte(tc.src+traceBase), "", getenv)
		if err != nil {
			t.Fatalf("%q: %v", tc.src, err)
		}
		if c.Trace.Enabled != tc.enabled || c.Trace.MaxBodyBytes != tc.bodyBytes {
			t.Errorf("%q: trace = %+v", tc.src, c.Trace)
		}
	}
}

func TestTraceBadValues(t *testing.T) {
	for src, want := range map[string]string{
		"trace: {max_body_bytes: -1}\n":      "trace.max_body_bytes: want 0 (no bodies) to 1048576, got -1",
		"trace: {max_body_bytes: 1048577}\n": "trace.max_body_bytes: want 0 (no bodies) to 1048576, got 1048577",
		"trace: {enabled: yes-please}\n":     "enabled",
		"trace: {max_bytes: 10}\n":           "max_bytes",
	} {
		_, err := Parse([]byte(src+traceBase), "", getenv)
		if _, ok := errors.AsType[*ValidationError](err); !ok {
			t.Errorf("%q: err = %v, want a *ValidationError", src, err)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %q does not mention %q", src, err, want)
		}
	}
}
