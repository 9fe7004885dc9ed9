package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/config"
)

// issueMetrics are the names issue 6 promises dashboards and alerts.
var issueMetrics = []string{
	"scimbridge_scim_requests_total",
	"scimbridge_scim_request_duration_seconds",
	"scimbridge_outbox_jobs",
	"scimbridge_outbox_oldest_job_age_seconds",
	"scimbridge_jobs_parked",
	"scimbridge_applies_total",
	"scimbridge_atlassian_requests_total",
	"scimbridge_atlassian_request_duration_seconds",
	"scimbridge_atlassian_rate_limited_total",
	"scimbridge_reconcile_runs_total",
	"scimbridge_reconcile_duration_seconds",
	"scimbridge_reconcile_last_success_timestamp_seconds",
	"scimbridge_drift_repaired_total",
}

// Paths of the dashboard and the alert rules, from this package's directory.
const (
	dashboardFile = "../../dashboards/scimbridge.json"
	alertsFile    = "../../deploy/prometheus/scimbridge-alerts.yml"
)

// mxSample is one line of a scrape.
type mxSample struct {
	name   string
	labels map[string]string
	value  float64
}

// mxScrape is a parsed /metrics answer.
type mxScrape struct {
	families map[string]string // # TYPE name -> type
	samples  []mxSample
	text     string
}

var mxLabelRE = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// scrapeMetrics GETs url and parses the text exposition format.
func scrapeMetrics(t *testing.T, url string) mxScrape {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s: %d %v", url, resp.StatusCode, err)
	}
	s := mxScrape{families: map[string]string{}, text: string(body)}
	sc := bufio.NewScanner(strings.NewReader(s.text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			f := strings.Fields(rest)
			if len(f) == 2 {
				s.families[f[0]] = f[1]
			}
			continue
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if sp < 0 || err != nil {
			t.Fatalf("unparsable sample line %q", line)
		}
		series := line[:sp]
		smp := mxSample{name: series, labels: map[string]string{}, value: v}
		if i := strings.IndexByte(series, '{'); i >= 0 {
			smp.name = series[:i]
			for _, m := range mxLabelRE.FindAllStringSubmatch(series[i:], -1) {
				smp.labels[m[1]] = m[2]
			}
		}
		s.samples = append(s.samples, smp)
	}
	return s
}

// value sums the samples of name whose labels include want; ok is false if
// there is none.
func (s mxScrape) value(name string, want map[string]string) (float64, bool) {
	sum, found := 0.0, false
	for _, smp := range s.samples {
		if smp.name != name {
			continue
		}
		match := true
		for k, v := range want {
			if smp.labels[k] != v {
				match = false
				break
			}
		}
		if match {
			sum, found = sum+smp.value, true
		}
	}
	return sum, found
}

// names are the series names a PromQL expression can use: every sample
// name (histograms give _bucket, _sum and _count).
func (s mxScrape) names() map[string]bool {
	out := map[string]bool{}
	for _, smp := range s.samples {
		out[smp.name] = true
	}
	return out
}

// waitMetrics scrapes until cond holds, or fails after a deadline.
func waitMetrics(t *testing.T, url, what string, cond func(mxScrape) bool) mxScrape {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s := scrapeMetrics(t, url)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within 30 s; last scrape:\n%s", what, grepScimbridge(s.text))
		}
		time.Sleep(50 * time.Millisecond) // polling a condition with a deadline
	}
}

func grepScimbridge(text string) string {
	var keep []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "scimbridge_") && !strings.Contains(l, "_bucket") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

type lbl = map[string]string

// at reads one value, failing the test when the series is missing.
func at(t *testing.T, s mxScrape, name string, want lbl) float64 {
	t.Helper()
	v, ok := s.value(name, want)
	if !ok {
		t.Fatalf("no series %s%v in the scrape", name, want)
	}
	return v
}

// startServe runs `scimbridge serve` with body as its config until the test
// ends and returns its stdout once it listens.
func startServe(t *testing.T, body string, envs map[string]string) (*syncBuffer, *syncBuffer) {
	t.Helper()
	cfgPath := writeConfig(t, body)
	ctx, cancel := context.WithCancel(t.Context())
	var out, logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--config", cfgPath}, env(envs), &out, &logs) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30 s")
		}
	})
	waitFor(t, &out, "listening on http://")
	return &out, &logs
}

func send(t *testing.T, method, url, token, body string) int {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func scimUser(name, display string) string {
	return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"displayName":%q,"active":true,`+
		`"emails":[{"value":%q,"type":"work","primary":true}]}`, name, display, name)
}

// scimID creates a user and returns its id.
func scimID(t *testing.T, base, token, name string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/scim/v2/okta/Users", strings.NewReader(scimUser(name, name)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var u struct{ ID string }
	if err := json.NewDecoder(resp.Body).Decode(&u); err != nil || resp.StatusCode != http.StatusCreated || u.ID == "" {
		t.Fatalf("create %s: %d %v %q", name, resp.StatusCode, err, u.ID)
	}
	return u.ID
}

// TestMetricsWhileServing runs serve against the emulator with a real SQLite
// file, drives SCIM requests, a slow target, a licence failure, drift and a
// rate-limited reconcile, and checks that every promised series is there
// from the start and moves when it should.
func TestMetricsWhileServing(t *testing.T) {
	emu := atlassiantest.New(atlassiantest.Options{Token: "jira-pat", LicenseSeats: 2})
	jira := httptest.NewServer(emu)
	t.Cleanup(jira.Close)
	dir := t.TempDir()
	out, logs := startServe(t, fmt.Sprintf(`listen: 127.0.0.1:0
database: %s
admin:
  token_env: ADMIN_TOKEN
targets:
  - {name: jira, kind: jira-dc, url: %s, token_env: JIRA_TOKEN, rate_limit: 1000, burst: 100}
tenants:
  - {name: okta, preset: okta, token_env: T}
`, filepath.Join(dir, "db.sqlite"), jira.URL), map[string]string{"T": "tok-okta", "JIRA_TOKEN": "jira-pat", "ADMIN_TOKEN": "tok-admin"})
	base := "http://" + waitFor(t, out, "listening on http://")
	metricsURL := base + "/metrics"

	// At start every promised name is there, its labelled series at zero.
	s := scrapeMetrics(t, metricsURL)
	for _, name := range issueMetrics {
		if s.families[name] == "" {
			t.Errorf("%s is not exported at start", name)
		}
	}
	for _, z := range []struct {
		name string
		l    lbl
	}{
		{"scimbridge_scim_requests_total", lbl{"tenant": "okta", "resource": "Users", "method": "POST", "code": "201"}},
		{"scimbridge_atlassian_rate_limited_total", lbl{"target": "jira"}},
		{"scimbridge_drift_repaired_total", lbl{"target": "jira"}},
		{"scimbridge_reconcile_last_success_timestamp_seconds", lbl{"kind": "reconcile"}},
		{"scimbridge_jobs_parked", nil},
	} {
		if v := at(t, s, z.name, z.l); v != 0 {
			t.Errorf("%s%v = %v at start, want 0", z.name, z.l, v)
		}
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := s.value(name, nil); !ok {
			t.Errorf("%s missing", name)
		}
	}
	// The store's connection pools, as client_golang's DBStats collector
	// names them.
	for pool, max := range map[string]float64{"writer": 1, "reader": 4, "checkpoint": 1} {
		if v, ok := s.value("go_sql_max_open_connections", lbl{"db_name": pool}); !ok || v != max {
			t.Errorf("go_sql_max_open_connections{db_name=%q} = %v (present %v), want %v", pool, v, ok, max)
		}
		if _, ok := s.value("go_sql_wait_count_total", lbl{"db_name": pool}); !ok {
			t.Errorf("go_sql_wait_count_total{db_name=%q} missing", pool)
		}
	}

	// SCIM traffic: two users, a list, a wrong token, an unknown tenant.
	const tok = "tok-okta"
	scimID(t, base, tok, "ada@example.com")
	scimID(t, base, tok, "bob@example.com")
	if c := send(t, http.MethodGet, base+`/scim/v2/okta/Users?filter=userName%20eq%20%22ada@example.com%22`, tok, ""); c != http.StatusOK {
		t.Fatalf("filtered GET: %d", c)
	}
	// The same lookup twice more: cached on its second miss, then a hit.
	for range 2 {
		if c := send(t, http.MethodGet, base+`/scim/v2/okta/Users?filter=userName%20eq%20%22ada@example.com%22`, tok, ""); c != http.StatusOK {
			t.Fatalf("filtered GET: %d", c)
		}
	}
	lc := scrapeMetrics(t, metricsURL)
	for name, want := range map[string]float64{
		"scimbridge_lookup_cache_hits_total": 1, "scimbridge_lookup_cache_misses_total": 2,
		"scimbridge_lookup_cache_entries": 1, "scimbridge_lookup_cache_max_bytes": config.DefaultLookupCacheMiB << 20,
	} {
		if got := at(t, lc, name, nil); got != want {
			t.Errorf("%s = %v after three lookups of one user, want %v", name, got, want)
		}
	}
	if c := send(t, http.MethodGet, base+"/scim/v2/okta/Users", "wrong-token", ""); c != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", c)
	}
	if c := send(t, http.MethodGet, base+"/scim/v2/nobody/Users", tok, ""); c != http.StatusNotFound {
		t.Fatalf("unknown tenant: %d", c)
	}
	// The run is counted when the pass that applied the users finishes,
	// a moment after the applies themselves: wait for both.
	s = waitMetrics(t, metricsURL, "two users created in Jira and their push run finished", func(s mxScrape) bool {
		v, _ := s.value("scimbridge_applies_total", lbl{"target": "jira", "action": "created", "outcome": "success"})
		runs, _ := s.value("scimbridge_reconcile_runs_total", lbl{"kind": "push", "status": "succeeded"})
		return v >= 2 && runs >= 1
	})
	for _, w := range []struct {
		name string
		l    lbl
		v    float64
	}{
		{"scimbridge_scim_requests_total", lbl{"tenant": "okta", "resource": "Users", "method": "POST", "code": "201"}, 2},
		{"scimbridge_scim_requests_total", lbl{"tenant": "okta", "resource": "Users", "method": "GET", "code": "401"}, 1},
		{"scimbridge_scim_requests_total", lbl{"tenant": "unknown", "resource": "Users", "method": "GET", "code": "404"}, 1},
		{"scimbridge_scim_request_duration_seconds_count", lbl{"tenant": "okta", "resource": "Users", "method": "POST"}, 2},
	} {
		if got := at(t, s, w.name, w.l); got != w.v {
			t.Errorf("%s%v = %v, want %v", w.name, w.l, got, w.v)
		}
	}
	if at(t, s, "scimbridge_atlassian_requests_total", lbl{"target": "jira", "operation": "create_user", "status": "ok"}) < 2 {
		t.Error("the two creations are not counted as Atlassian create_user calls")
	}
	if at(t, s, "scimbridge_atlassian_request_duration_seconds_count", lbl{"target": "jira", "operation": "create_user"}) < 2 {
		t.Error("the two creations are not timed")
	}
	if at(t, s, "scimbridge_reconcile_runs_total", lbl{"kind": "push", "status": "succeeded"}) < 1 {
		t.Error("no successful push run counted")
	}

	// A slow Jira: the third user's change waits in the outbox meanwhile.
	emu.SetFaults(atlassiantest.Faults{LatencyMS: 1000})
	carol := scimID(t, base, tok, "carol@example.com")
	waitMetrics(t, metricsURL, "a pending job with an age", func(s mxScrape) bool {
		p, _ := s.value("scimbridge_outbox_jobs", lbl{"state": "pending"})
		age, _ := s.value("scimbridge_outbox_oldest_job_age_seconds", nil)
		return p >= 1 && age > 0
	})
	emu.SetFaults(atlassiantest.Faults{})
	// Two seats: carol's account exceeds the licence and her job is parked.
	s = waitMetrics(t, metricsURL, "carol's job parked", func(s mxScrape) bool {
		v, _ := s.value("scimbridge_jobs_parked", nil)
		return v == 1
	})
	if got := at(t, s, "scimbridge_outbox_jobs", lbl{"state": "parked"}); got != 1 {
		t.Errorf("outbox_jobs{state=parked} = %v, want 1", got)
	}
	if got := at(t, s, "scimbridge_applies_total", lbl{"target": "jira", "action": "parked", "outcome": "failure"}); got < 1 {
		t.Errorf("applies_total{action=parked,outcome=failure} = %v, want >= 1", got)
	}
	// Deleting carol in the IdP resolves it; the reconcile below then has
	// nothing it cannot do.
	if c := send(t, http.MethodDelete, base+"/scim/v2/okta/Users/"+carol, tok, ""); c != http.StatusNoContent {
		t.Fatalf("delete carol: %d", c)
	}
	waitMetrics(t, metricsURL, "outbox empty", func(s mxScrape) bool {
		p, _ := s.value("scimbridge_outbox_jobs", lbl{"state": "pending"})
		k, _ := s.value("scimbridge_jobs_parked", nil)
		return p == 0 && k == 0
	})

	// Drift made by hand in Jira, repaired by a reconcile that runs into
	// Jira's rate limit.
	if c := send(t, http.MethodPut, jira.URL+"/rest/api/2/user?username=ada@example.com", "jira-pat",
		`{"displayName":"Changed by hand"}`); c != http.StatusOK {
		t.Fatalf("hand edit in Jira: %d", c)
	}
	emu.SetFaults(atlassiantest.Faults{RateLimitPerSecond: 5, Burst: 1})
	if c := send(t, http.MethodPost, base+"/api/v1/reconcile", "tok-admin", ""); c/100 != 2 {
		t.Fatalf("trigger reconcile: %d", c)
	}
	s = waitMetrics(t, metricsURL, "a successful reconcile", func(s mxScrape) bool {
		v, _ := s.value("scimbridge_reconcile_runs_total", lbl{"kind": "reconcile"})
		return v >= 1
	})
	emu.SetFaults(atlassiantest.Faults{})
	if got := at(t, s, "scimbridge_reconcile_runs_total", lbl{"kind": "reconcile", "status": "succeeded"}); got != 1 {
		t.Fatalf("reconcile runs succeeded = %v, want 1; scrape:\n%s", got, grepScimbridge(s.text))
	}
	for _, w := range []struct {
		name string
		l    lbl
	}{
		{"scimbridge_drift_repaired_total", lbl{"target": "jira"}},
		{"scimbridge_reconcile_duration_seconds_count", lbl{"kind": "reconcile"}},
		{"scimbridge_atlassian_rate_limited_total", lbl{"target": "jira"}},
		{"scimbridge_atlassian_retry_after_seconds_total", lbl{"target": "jira"}},
		{"scimbridge_atlassian_requests_total", lbl{"target": "jira", "operation": "list_users", "status": "ok"}},
		{"scimbridge_applies_total", lbl{"target": "jira", "action": "updated", "outcome": "success"}},
	} {
		if got := at(t, s, w.name, w.l); got < 1 {
			t.Errorf("%s%v = %v after the reconcile, want >= 1", w.name, w.l, got)
		}
	}
	if last := at(t, s, "scimbridge_reconcile_last_success_timestamp_seconds", lbl{"kind": "reconcile"}); last < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last reconcile success = %v, want about now", last)
	}
	// Every promised name moved, except the outbox gauges, which are back at
	// zero (they moved above).
	for _, name := range issueMetrics {
		if v, _ := s.value(name, nil); v == 0 && !strings.HasPrefix(name, "scimbridge_outbox_") && name != "scimbridge_jobs_parked" {
			if h, _ := s.value(name+"_count", nil); h == 0 {
				t.Errorf("%s never moved", name)
			}
		}
	}
	// Label values stay bounded: no user name, no token.
	for _, leak := range []string{"ada@example.com", "carol", "tok-okta", "jira-pat", "wrong-token", "nobody"} {
		if strings.Contains(s.text, leak) {
			t.Errorf("the scrape holds %q", leak)
		}
	}
	if strings.Contains(logs.String(), "tok-okta") {
		t.Error("the SCIM token appeared in the logs")
	}
}

// With metrics_listen, /metrics is served there and not on the main
// listener.
func TestMetricsListen(t *testing.T) {
	dir := t.TempDir()
	out, _ := startServe(t, fmt.Sprintf("listen: 127.0.0.1:0\nmetrics_listen: 127.0.0.1:0\ndatabase: %s\ntenants:\n  - name: okta\n    token_env: T\n",
		filepath.Join(dir, "db.sqlite")), map[string]string{"T": "tok-okta"})
	main := "http://" + waitFor(t, out, "listening on http://")
	maddr := strings.TrimSuffix(waitFor(t, out, "metrics on http://"), "/metrics")
	s := scrapeMetrics(t, "http://"+maddr+"/metrics")
	if s.families["scimbridge_scim_requests_total"] == "" {
		t.Fatalf("the metrics listener does not serve the metrics:\n%s", s.text)
	}
	if c := send(t, http.MethodGet, main+"/metrics", "", ""); c != http.StatusNotFound {
		t.Fatalf("GET /metrics on the main listener = %d, want 404 when metrics_listen is set", c)
	}
}

// promqlFuncs are the functions, aggregations and keywords of PromQL that
// look like names.
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
	"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true, "atan2": true,
}

var (
	promqlStringRE   = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlBracesRE   = regexp.MustCompile(`\{[^{}]*\}`)
	promqlRangeRE    = regexp.MustCompile(`\[[^\[\]]*\]`)
	promqlGroupingRE = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promqlVarRE      = regexp.MustCompile(`\$\{?[A-Za-z_][A-Za-z0-9_]*\}?`)
	promqlIdentRE    = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*`)
	labelValuesRE    = regexp.MustCompile(`^\s*label_values\(\s*(?:(.*?)\s*,\s*)?[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`)
)

// metricNames returns the metric names an expression selects: what is left
// after string literals, label matchers, ranges, grouping clauses and
// Grafana variables are removed, minus functions (a name before "(") and
// keywords. A Grafana label_values(metric, label) query gives its metric.
func metricNames(expr string) ([]string, error) {
	if m := labelValuesRE.FindStringSubmatch(expr); m != nil {
		expr = m[1]
	}
	if strings.Count(expr, "(") != strings.Count(expr, ")") || strings.Count(expr, "{") != strings.Count(expr, "}") ||
		strings.Count(expr, "[") != strings.Count(expr, "]") {
		return nil, fmt.Errorf("unbalanced brackets in %q", expr)
	}
	e := promqlStringRE.ReplaceAllString(expr, `""`)
	e = promqlBracesRE.ReplaceAllString(e, " ")
	e = promqlRangeRE.ReplaceAllString(e, " ")
	e = promqlGroupingRE.ReplaceAllString(e, " ")
	e = promqlVarRE.ReplaceAllString(e, " ")
	var names []string
	for _, loc := range promqlIdentRE.FindAllStringIndex(e, -1) {
		name := e[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsRune("0123456789.", rune(e[loc[0]-1])) {
			continue // the exponent or unit of a number: 1e3, 5m
		}
		if strings.HasPrefix(strings.TrimLeft(e[loc[1]:], " \t\n"), "(") || promqlKeywords[strings.ToLower(name)] {
			continue // a function or a keyword
		}
		names = append(names, name)
	}
	return names, nil
}

func TestMetricNamesExtraction(t *testing.T) {
	for expr, want := range map[string][]string{
		`sum by (tenant, code) (rate(scimbridge_scim_requests_total{instance=~"$instance", code=~"5.."}[$__rate_interval]))`:  {"scimbridge_scim_requests_total"},
		`histogram_quantile(0.95, sum by (le) (rate(a_bucket[5m]))) > 1e3 and on (instance) b offset 5m`:                      {"a_bucket", "b"},
		`(time() - x{kind="reconcile"} > 26 * 3600) and on (instance, job) (time() - process_start_time_seconds > 26 * 3600)`: {"x", "process_start_time_seconds"},
		`label_values(scimbridge_atlassian_requests_total{instance=~"$instance"}, target)`:                                    {"scimbridge_atlassian_requests_total"},
		`label_values(instance)`:     nil,
		`max(foo{a="sum(bar)"})`:     {"foo"},
		`deriv(q[30m]) > 0 unless z`: {"q", "z"},
	} {
		got, err := metricNames(expr)
		if err != nil {
			t.Errorf("%q: %v", expr, err)
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("metricNames(%q) = %q, want %q", expr, got, want)
		}
	}
	if _, err := metricNames(`sum(rate(x[5m])`); err == nil {
		t.Error("an unbalanced expression was accepted")
	}
}

// grafanaDashboard is the part of the dashboard JSON the test reads.
type grafanaDashboard struct {
	SchemaVersion int    `json:"schemaVersion"`
	UID           string `json:"uid"`
	Title         string `json:"title"`
	Panels        []struct {
		ID         int    `json:"id"`
		Type       string `json:"type"`
		Title      string `json:"title"`
		Datasource *struct {
			UID string `json:"uid"`
		} `json:"datasource"`
		GridPos struct{ X, Y, W, H int } `json:"gridPos"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	} `json:"panels"`
	Templating struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type alertRules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestDashboardAndAlertsUseExportedNames parses the Grafana dashboard and
// the Prometheus alert rules and checks that every metric name in every
// expression is one a running scimbridge exports (taken from a live
// scrape), that every promised metric has a panel, and that the alerts the
// issue asks for exist.
func TestDashboardAndAlertsUseExportedNames(t *testing.T) {
	dir := t.TempDir()
	out, _ := startServe(t, fmt.Sprintf(`listen: 127.0.0.1:0
database: %s
targets:
  - {name: jira, kind: jira-dc, url: http://127.0.0.1:1, token_env: JIRA_TOKEN}
tenants:
  - {name: okta, token_env: T}
`, filepath.Join(dir, "db.sqlite")), map[string]string{"T": "tok-okta", "JIRA_TOKEN": "jira-pat"})
	exported := scrapeMetrics(t, "http://"+waitFor(t, out, "listening on http://")+"/metrics").names()

	check := func(where, expr string) []string {
		t.Helper()
		names, err := metricNames(expr)
		if err != nil {
			t.Errorf("%s: %v", where, err)
		}
		if len(names) == 0 && !strings.HasPrefix(strings.TrimSpace(expr), "label_values(instance") {
			t.Errorf("%s: no metric name found in %q", where, expr)
		}
		for _, n := range names {
			if !exported[n] {
				t.Errorf("%s: %q is not exported by scimbridge (expr %q)", where, n, expr)
			}
		}
		return names
	}

	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	if d.SchemaVersion < 36 || d.UID == "" || d.Title == "" {
		t.Errorf("dashboard: schemaVersion %d (want Grafana 10+, >= 36), uid %q, title %q", d.SchemaVersion, d.UID, d.Title)
	}
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.Type
		if v.Type != "query" {
			continue
		}
		var q struct{ Query string }
		if err := json.Unmarshal(v.Query, &q); err != nil {
			var s string
			if json.Unmarshal(v.Query, &s) != nil {
				t.Errorf("variable %s: unreadable query %s", v.Name, v.Query)
			}
			q.Query = s
		}
		check("variable "+v.Name, q.Query)
	}
	if vars["datasource"] != "datasource" {
		t.Errorf("dashboard has no datasource variable: %v", vars)
	}
	used := map[string]bool{}
	ids := map[int]bool{}
	for _, p := range d.Panels {
		where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
		if ids[p.ID] {
			t.Errorf("%s: duplicate id", where)
		}
		ids[p.ID] = true
		if p.GridPos.W <= 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("%s: gridPos %+v outside the 24 columns", where, p.GridPos)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" {
			t.Errorf("%s: datasource is not the ${datasource} variable", where)
		}
		if len(p.Targets) == 0 {
			t.Errorf("%s: no queries", where)
		}
		for _, tg := range p.Targets {
			for _, n := range check(where, tg.Expr) {
				used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_count"), "_sum")] = true
			}
		}
	}
	for _, name := range issueMetrics {
		if !used[name] {
			t.Errorf("no dashboard panel shows %s", name)
		}
	}

	raw, err = os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var rules alertRules
	dec := yaml.NewDecoder(strings.NewReader(string(raw)))
	dec.KnownFields(true)
	if err := dec.Decode(&rules); err != nil {
		t.Fatalf("alert rules YAML: %v", err)
	}
	alerts := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			where := "alert " + r.Alert
			alerts[r.Alert] = true
			check(where, r.Expr)
			if _, err := time.ParseDuration(r.For); err != nil {
				t.Errorf("%s: for %q: %v", where, r.For, err)
			}
			if sev := r.Labels["severity"]; sev != "warning" && sev != "critical" {
				t.Errorf("%s: severity %q", where, sev)
			}
			if r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("%s: summary and description are required", where)
			}
		}
	}
	want := []string{"ScimbridgeReconcileStale", "ScimbridgeJobsParked", "ScimbridgeSCIMServerErrors",
		"ScimbridgeAtlassianRateLimitStorm", "ScimbridgeOutboxGrowing"}
	for _, a := range want {
		if !alerts[a] {
			t.Errorf("alert %s missing; have %v", a, slices.Sorted(maps.Keys(alerts)))
		}
	}
}
