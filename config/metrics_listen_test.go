package config

import (
	"strings"
	"testing"
)

const metricsBase = `
listen: 127.0.0.1:8080
tenants:
  - name: okta
    token_env: OKTA_SCIM_TOKEN
`

func TestMetricsListen(t *testing.T) {
	c, err := Parse([]byte(metricsBase), "", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsListen != "" {
		t.Fatalf("metrics_listen defaults to %q, want empty (metrics on listen)", c.MetricsListen)
	}
	c, err = Parse([]byte("metrics_listen: 0.0.0.0:9464\n"+metricsBase), "", getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsListen != "0.0.0.0:9464" {
		t.Fatalf("metrics_listen = %q", c.MetricsListen)
	}
	// Two ephemeral ports are two listeners, not a clash.
	if _, err := Parse([]byte("metrics_listen: 127.0.0.1:0\n"+strings.Replace(metricsBase, ":8080", ":0", 1)), "", getenv); err != nil {
		t.Fatalf("both on port 0: %v", err)
	}
	for src, want := range map[string]string{
		"metrics_listen: nowhere\n":         "metrics_listen: want host:port such as 127.0.0.1:8080",
		"metrics_listen: 127.0.0.1:70000\n": "metrics_listen: want host:port such as 127.0.0.1:8080 (port 0 to 65535)",
		"metrics_listen: 127.0.0.1:8080\n":  "metrics_listen: is the same address as listen",
		"metrics_listen: [9464]\n":          "metrics_listen",
	} {
		_, err := Parse([]byte(src+metricsBase), "", getenv)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", src, err, want)
		}
	}
}
