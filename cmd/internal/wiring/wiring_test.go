package wiring

import (
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/metrics"
	"github.com/scimbridge/scimbridge/reconcile"
)

const (
	jiraToken = "jira-pat"
	crowdApp  = "bridge-app"
	crowdPass = "crowd-secret"
)

// emulators starts a Jira face that accepts only jiraToken and a Crowd face that accepts only
// crowdApp/crowdPass, each with user "alice", and returns a config with one target for each.
func emulators(t *testing.T) *config.Config {
	t.Helper()
	start := func(opts atlassiantest.Options) string {
		e := atlassiantest.New(opts)
		if err := e.AddUser(atlassiantest.SeedUser{Name: "alice"}); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(e)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	jiraURL := start(atlassiantest.Options{Token: jiraToken})
	crowdURL := start(atlassiantest.Options{User: crowdApp, Password: crowdPass})
	return &config.Config{Targets: []config.Target{
		{Name: "jira", Kind: config.KindJiraDC, URL: jiraURL, Token: config.NewSecret(jiraToken),
			RateLimit: 1000, Burst: 10, Timeout: config.Duration(5 * time.Second)},
		{Name: "crowd", Kind: config.KindCrowd, URL: crowdURL + "/crowd", User: crowdApp, Password: config.NewSecret(crowdPass),
			RateLimit: 1000, Burst: 10, Timeout: config.Duration(5 * time.Second), ApplicationKeys: []string{"kept"}},
	}}
}

func TestTargetsAuthenticateAndDefaultKeys(t *testing.T) {
	cfg := emulators(t)
	tgs, err := Targets(cfg, slog.New(slog.DiscardHandler), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tgs) != 2 || tgs[0].Name != "jira" || tgs[1].Name != "crowd" {
		t.Fatalf("targets = %+v, want jira then crowd", tgs)
	}
	// Jira gets the default application key; a configured list is kept as is.
	if want := []string{"jira-software"}; !slices.Equal(tgs[0].ApplicationKeys, want) {
		t.Errorf("jira application keys = %v, want %v", tgs[0].ApplicationKeys, want)
	}
	if want := []string{"kept"}; !slices.Equal(tgs[1].ApplicationKeys, want) {
		t.Errorf("crowd application keys = %v, want %v", tgs[1].ApplicationKeys, want)
	}
	// Each emulator refuses other credentials, so a found user proves the right auth reached it:
	// Bearer for the token target, basic for the user/password one.
	for _, tg := range tgs {
		u, err := tg.Dir.GetUser(t.Context(), "alice")
		if err != nil {
			t.Errorf("%s: GetUser(alice): %v", tg.Name, err)
			continue
		}
		if u.Name != "alice" {
			t.Errorf("%s: GetUser(alice) = %q", tg.Name, u.Name)
		}
	}
}

func TestTargetsRefuseBadURL(t *testing.T) {
	cfg := &config.Config{Targets: []config.Target{{Name: "broken", Kind: config.KindJiraDC, URL: "::not a url", RateLimit: 1, Burst: 1}}}
	_, err := Targets(cfg, slog.New(slog.DiscardHandler), nil)
	if err == nil || !strings.Contains(err.Error(), `target "broken"`) {
		t.Fatalf("Targets(invalid URL) error = %v, want one naming the target", err)
	}
}

func TestTargetsInstrumented(t *testing.T) {
	cfg := emulators(t)
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, metrics.Options{Targets: []string{"jira", "crowd"}})
	if err != nil {
		t.Fatal(err)
	}
	tgs, err := Targets(cfg, slog.New(slog.DiscardHandler), m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tgs[0].Dir.GetUser(t.Context(), "alice"); err != nil {
		t.Fatal(err)
	}
	// The directory wrapper counts the call, the transport wrapper the HTTP attempt.
	if got := sample(t, reg, "scimbridge_atlassian_requests_total", map[string]string{"target": "jira", "operation": "get_user", "status": "ok"}); got != 1 {
		t.Errorf("get_user calls counted = %v, want 1", got)
	}
	if got := sample(t, reg, "scimbridge_atlassian_attempts_total", map[string]string{"target": "jira", "code": "200"}); got != 1 {
		t.Errorf("HTTP attempts counted = %v, want 1", got)
	}
}

// sample returns the value of the counter name with exactly the given labels, or -1.
func sample(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	metric:
		for _, m := range f.GetMetric() {
			if len(m.GetLabel()) != len(labels) {
				continue
			}
			for _, l := range m.GetLabel() {
				if labels[l.GetName()] != l.GetValue() {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

func TestTenants(t *testing.T) {
	lc := config.Lifecycle{
		OnDeactivate: "disable", OnDelete: "delete", RemoveGroupsOnDeactivate: true,
		DeleteAfter: config.Duration(30 * 24 * time.Hour), InactiveAfter: config.Duration(90 * 24 * time.Hour),
		NeverLoggedIn: "deactivate", ExemptGroups: []string{"vip"}, ReactivateOnLogin: true,
	}
	cfg := &config.Config{
		Targets: []config.Target{{Name: "jira"}, {Name: "crowd"}},
		Tenants: []config.Tenant{
			{Name: "okta", Priority: 2, Lifecycle: lc},
			{Name: "entra", Targets: []string{"crowd"}},
		},
	}
	got := Tenants(cfg)
	if len(got) != 2 {
		t.Fatalf("tenants = %+v, want 2", got)
	}
	if got[0].Name != "okta" || got[0].Priority != 2 || !slices.Equal(got[0].Targets, []string{"jira", "crowd"}) {
		t.Errorf("okta = %+v, want priority 2 and every target", got[0])
	}
	want := reconcile.Lifecycle{
		OnDeactivate: "disable", OnDelete: "delete", RemoveGroupsOnDeactivate: true,
		DeleteAfter: 30 * 24 * time.Hour, InactiveAfter: 90 * 24 * time.Hour,
		NeverLoggedIn: "deactivate", ExemptGroups: []string{"vip"}, ReactivateOnLogin: true,
	}
	if d := cmp.Diff(want, got[0].Lifecycle); d != "" {
		t.Errorf("okta lifecycle (-want +got):\n%s", d)
	}
	if got[1].Name != "entra" || !slices.Equal(got[1].Targets, []string{"crowd"}) {
		t.Errorf("entra = %+v, want only its named target", got[1])
	}
}
