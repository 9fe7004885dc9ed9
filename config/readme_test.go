package config

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The configuration shown in README.md is checked against the config types,
// so the documentation cannot drift from what the service accepts.
func TestREADMEConfigExamplesParse(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```yaml\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	var main, extra string
	for _, b := range blocks {
		switch {
		case strings.HasPrefix(b[1], "listen:"):
			main = b[1]
		case strings.HasPrefix(b[1], "webhook:"):
			extra = b[1]
		}
	}
	if main == "" || extra == "" {
		t.Fatalf("README.md has no full config example (want yaml blocks starting with listen: and webhook:)")
	}
	dir := t.TempDir()
	jwks, err := os.ReadFile("testdata/entra-jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "entra-jwks.json"), jwks, 0o600); err != nil {
		t.Fatal(err)
	}
	// Every *_env variable the example names gets a distinct, long enough value.
	getenv := func(name string) string { return "readme-example-secret-value-for-" + name }
	c, err := Parse([]byte(main+extra), dir, getenv)
	if err != nil {
		t.Fatalf("the README's configuration does not load:\n%v", err)
	}
	if len(c.Tenants) < 2 || len(c.Targets) < 1 || c.Reconcile.Schedule == "" || c.Tenants[0].Compiled == nil {
		t.Fatalf("README config loaded partially: %+v", c)
	}
}
