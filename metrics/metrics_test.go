package metrics_test

import (
	"bytes"
	"context"
	"database/sql"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the driver of the pool WatchDB is tested with
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/scimbridge/scimbridge/metrics"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// newMetrics builds a Metrics on its own registry for tenant okta and
// target jira.
func newMetrics(t *testing.T, opts metrics.Options) (*metrics.Metrics, *prometheus.Registry) {
	t.Helper()
	if opts.Tenants == nil {
		opts.Tenants = []string{"okta"}
	}
	if opts.Targets == nil {
		opts.Targets = []string{"jira"}
	}
	reg := prometheus.NewRegistry()
	m, err := metrics.New(reg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// sample finds the series of name whose labels include want; ok is false if
// there is none. Counters and gauges give their value, histograms their
// count.
func sample(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabels(m, want) {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.Counter.GetValue(), true
			case m.Gauge != nil:
				return m.Gauge.GetValue(), true
			case m.Histogram != nil:
				return float64(m.Histogram.GetSampleCount()), true
			}
		}
	}
	return 0, false
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	have := map[string]string{}
	for _, lp := range m.GetLabel() {
		have[lp.GetName()] = lp.GetValue()
	}
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}

// mustSample is sample that fails the test when the series is missing.
func mustSample(t *testing.T, g prometheus.Gatherer, name string, want map[string]string) float64 {
	t.Helper()
	v, ok := sample(t, g, name, want)
	if !ok {
		t.Fatalf("no series %s%v", name, want)
	}
	return v
}

type labels = map[string]string

func TestNewCreatesSeriesAtZero(t *testing.T) {
	_, reg := newMetrics(t, metrics.Options{})
	zero := []struct {
		name   string
		labels labels
	}{
		{"scimbridge_scim_requests_total", labels{"tenant": "okta", "resource": "Users", "method": "POST", "code": "201"}},
		{"scimbridge_scim_request_duration_seconds", labels{"tenant": "okta", "resource": "Groups", "method": "PATCH"}},
		{"scimbridge_applies_total", labels{"target": "jira", "action": "created", "outcome": "success"}},
		{"scimbridge_applies_total", labels{"target": "jira", "action": "failed", "outcome": "failure"}},
		{"scimbridge_atlassian_requests_total", labels{"target": "jira", "operation": "create_user", "status": "ok"}},
		{"scimbridge_atlassian_request_duration_seconds", labels{"target": "jira", "operation": "list_users"}},
		{"scimbridge_atlassian_rate_limited_total", labels{"target": "jira"}},
		{"scimbridge_atlassian_retry_after_seconds_total", labels{"target": "jira"}},
		{"scimbridge_reconcile_runs_total", labels{"kind": "reconcile", "status": "succeeded"}},
		{"scimbridge_reconcile_duration_seconds", labels{"kind": "push"}},
		{"scimbridge_reconcile_last_success_timestamp_seconds", labels{"kind": "reconcile"}},
		{"scimbridge_drift_repaired_total", labels{"target": "jira"}},
		{"scimbridge_drift_found_total", labels{"target": "jira"}},
	}
	for _, z := range zero {
		if v := mustSample(t, reg, z.name, z.labels); v != 0 {
			t.Errorf("%s%v = %v at start, want 0", z.name, z.labels, v)
		}
	}
	for _, name := range []string{"go_goroutines", "process_start_time_seconds"} {
		if _, ok := sample(t, reg, name, nil); !ok {
			t.Errorf("%s missing: the Go and process collectors are not registered", name)
		}
	}
	// One registry, one Metrics: a second New on it is refused, not a panic.
	if _, err := metrics.New(reg, metrics.Options{}); err == nil {
		t.Fatal("a second New on the same registry succeeded")
	}
}

func TestSCIMLabelsAreBounded(t *testing.T) {
	m, reg := newMetrics(t, metrics.Options{})
	h := m.SCIM(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost:
			w.WriteHeader(http.StatusCreated)
		case strings.Contains(r.URL.Path, "boom"):
			http.Error(w, "internal error", http.StatusInternalServerError)
		case strings.Contains(r.URL.Path, "silent"):
			// writes nothing: net/http answers 200
		default:
			_, _ = io.WriteString(w, "{}")
		}
	}))
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	send := func(method, path string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	send(http.MethodGet, "/scim/v2/okta/Users")
	send(http.MethodGet, "/scim/v2/okta/users/ada@example.com") // endpoint case folded; the user name is no label
	send(http.MethodGet, "/scim/v2/okta/Users/silent")
	send(http.MethodPost, "/scim/v2/okta/Groups")
	send(http.MethodGet, "/scim/v2/okta/Groups/boom")
	send(http.MethodGet, "/scim/v2/evil-tenant/Users")      // not configured
	send(http.MethodGet, "/scim/v2/okta/Bulk")              // no such resource
	send(http.MethodGet, "/scim/v2/okta//Schemas/")         // stray slashes
	send("PROPFIND", "/scim/v2/okta/ServiceProviderConfig") // odd method

	want := []struct {
		l labels
		v float64
	}{
		{labels{"tenant": "okta", "resource": "Users", "method": "GET", "code": "200"}, 3},
		{labels{"tenant": "okta", "resource": "Groups", "method": "POST", "code": "201"}, 1},
		{labels{"tenant": "okta", "resource": "Groups", "method": "GET", "code": "500"}, 1},
		{labels{"tenant": "unknown", "resource": "Users", "method": "GET", "code": "200"}, 1},
		{labels{"tenant": "okta", "resource": "other", "method": "GET", "code": "200"}, 1},
		{labels{"tenant": "okta", "resource": "Schemas", "method": "GET", "code": "200"}, 1},
		{labels{"tenant": "okta", "resource": "ServiceProviderConfig", "method": "other", "code": "200"}, 1},
	}
	for _, w := range want {
		if got := mustSample(t, reg, "scimbridge_scim_requests_total", w.l); got != w.v {
			t.Errorf("scim_requests_total%v = %v, want %v", w.l, got, w.v)
		}
	}
	if got := mustSample(t, reg, "scimbridge_scim_request_duration_seconds", labels{"tenant": "okta", "resource": "Users", "method": "GET"}); got != 3 {
		t.Errorf("duration count for okta Users GET = %v, want 3", got)
	}
	text := scrape(t, reg)
	for _, leak := range []string{"ada@example.com", "evil-tenant", "PROPFIND", "Bulk"} {
		if strings.Contains(text, leak) {
			t.Errorf("the scrape holds %q: a label value is unbounded", leak)
		}
	}
}

// scrape serves reg through Handler once and returns the body.
func scrape(t *testing.T, g prometheus.Gatherer) string {
	t.Helper()
	rec := httptest.NewRecorder()
	metrics.Handler(g, nil).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: %d %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

func TestRecordedAndRunFinished(t *testing.T) {
	m, reg := newMetrics(t, metrics.Options{})
	m.Recorded("push", store.Result{Target: "jira", UserName: "ada", Action: "created"})
	m.Recorded("push", store.Result{Target: "jira", UserName: "bob", Action: "parked", Error: "licence"})
	m.Recorded("reconcile", store.Result{Target: "jira", Action: "updated"})
	m.Recorded("reconcile", store.Result{Target: "jira", Action: "unchanged"})
	m.Recorded("reconcile", store.Result{Target: "jira", Action: "failed"})
	m.Recorded("dry-run", store.Result{Target: "jira", Action: "deactivated"})
	m.Recorded("push", store.Result{Target: "confluence", Action: "frobnicated"}) // unknown target and action

	for _, w := range []struct {
		name string
		l    labels
		v    float64
	}{
		{"scimbridge_applies_total", labels{"target": "jira", "action": "created", "outcome": "success"}, 1},
		{"scimbridge_applies_total", labels{"target": "jira", "action": "parked", "outcome": "failure"}, 1},
		{"scimbridge_applies_total", labels{"target": "jira", "action": "failed", "outcome": "failure"}, 1},
		{"scimbridge_applies_total", labels{"target": "jira", "action": "deactivated", "outcome": "dry_run"}, 1},
		{"scimbridge_applies_total", labels{"target": "unknown", "action": "other", "outcome": "success"}, 1},
		// found: reconcile updated + failed, dry-run deactivated; repaired: only the reconcile's update.
		{"scimbridge_drift_found_total", labels{"target": "jira"}, 3},
		{"scimbridge_drift_repaired_total", labels{"target": "jira"}, 1},
	} {
		if got := mustSample(t, reg, w.name, w.l); got != w.v {
			t.Errorf("%s%v = %v, want %v", w.name, w.l, got, w.v)
		}
	}

	start := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	end := start.Add(90 * time.Second)
	m.RunFinished(store.Run{Kind: "reconcile", Status: "succeeded", StartedAt: start, FinishedAt: &end})
	earlier := start.Add(-time.Hour)
	m.RunFinished(store.Run{Kind: "reconcile", Status: "succeeded", StartedAt: earlier.Add(-time.Minute), FinishedAt: &earlier})
	m.RunFinished(store.Run{Kind: "reconcile", Status: "aborted", StartedAt: start, FinishedAt: &end})
	m.RunFinished(store.Run{Kind: "push", Status: "failed", StartedAt: start, FinishedAt: &end})
	if got := mustSample(t, reg, "scimbridge_reconcile_runs_total", labels{"kind": "reconcile", "status": "succeeded"}); got != 2 {
		t.Errorf("reconcile succeeded runs = %v, want 2", got)
	}
	if got := mustSample(t, reg, "scimbridge_reconcile_runs_total", labels{"kind": "reconcile", "status": "aborted"}); got != 1 {
		t.Errorf("reconcile aborted runs = %v, want 1", got)
	}
	if got := mustSample(t, reg, "scimbridge_reconcile_duration_seconds", labels{"kind": "reconcile"}); got != 3 {
		t.Errorf("reconcile durations observed = %v, want 3", got)
	}
	// The older success finished later in wall time but does not move the gauge back.
	if got := mustSample(t, reg, "scimbridge_reconcile_last_success_timestamp_seconds", labels{"kind": "reconcile"}); got != float64(end.Unix()) {
		t.Errorf("last success = %v, want %d", got, end.Unix())
	}
	if got := mustSample(t, reg, "scimbridge_reconcile_last_success_timestamp_seconds", labels{"kind": "push"}); got != 0 {
		t.Errorf("last push success = %v after only a failed push, want 0", got)
	}
}

func TestOutboxGaugesReadTheStoreAtScrapeTime(t *testing.T) {
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	clk := func() time.Time { return now }
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "outbox.db"), sqlite.Options{Now: clk})
	if err != nil {
		t.Fatal(err)
	}
	m, reg := newMetrics(t, metrics.Options{Now: func() time.Time { return now.Add(90 * time.Second) }})
	if err := m.WatchOutbox(st); err != nil {
		t.Fatal(err)
	}
	if got := mustSample(t, reg, "scimbridge_outbox_jobs", labels{"state": "pending"}); got != 0 {
		t.Fatalf("pending on an empty store = %v", got)
	}
	if got := mustSample(t, reg, "scimbridge_outbox_oldest_job_age_seconds", nil); got != 0 {
		t.Fatalf("oldest age on an empty store = %v, want 0", got)
	}
	for _, name := range []string{"ada", "bob", "cy"} {
		if _, err := st.CreateUser(t.Context(), store.User{Tenant: "okta", UserName: name, Active: true, Attributes: map[string]any{}}); err != nil {
			t.Fatal(err)
		}
	}
	jobs, err := st.DueJobs(t.Context(), now, 10)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("due jobs = %d, %v", len(jobs), err)
	}
	if err := st.ParkJob(t.Context(), jobs[0], "licence limit"); err != nil {
		t.Fatal(err)
	}
	if got := mustSample(t, reg, "scimbridge_outbox_jobs", labels{"state": "pending"}); got != 2 {
		t.Errorf("pending = %v, want 2", got)
	}
	if got := mustSample(t, reg, "scimbridge_outbox_jobs", labels{"state": "parked"}); got != 1 {
		t.Errorf("parked = %v, want 1", got)
	}
	if got := mustSample(t, reg, "scimbridge_jobs_parked", nil); got != 1 {
		t.Errorf("jobs_parked = %v, want 1", got)
	}
	if got := mustSample(t, reg, "scimbridge_outbox_oldest_job_age_seconds", nil); got != 90 {
		t.Errorf("oldest age = %v, want 90", got)
	}

	// A store that cannot answer: the scrape still serves everything else
	// and the failure is logged.
	st.Close()
	var logs bytes.Buffer
	rec := httptest.NewRecorder()
	metrics.Handler(reg, slog.New(slog.NewTextHandler(&logs, nil))).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "scimbridge_applies_total") {
		t.Fatalf("scrape with a closed store: %d, body has applies: %v", rec.Code, strings.Contains(rec.Body.String(), "scimbridge_applies_total"))
	}
	if strings.Contains(rec.Body.String(), "scimbridge_outbox_jobs{") {
		t.Error("outbox gauges served although the store failed")
	}
	if !strings.Contains(logs.String(), "outbox stats") {
		t.Errorf("the failed outbox read was not logged: %q", logs.String())
	}
}

// slowSource answers JobStats only when its context ends.
type slowSource struct{}

func (slowSource) JobStats(ctx context.Context) (store.JobStats, error) {
	<-ctx.Done()
	return store.JobStats{}, ctx.Err()
}

func TestOutboxReadIsBounded(t *testing.T) {
	m, reg := newMetrics(t, metrics.Options{OutboxTimeout: 50 * time.Millisecond})
	if err := m.WatchOutbox(slowSource{}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := reg.Gather(); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "deadline") {
			t.Fatalf("gather with a stuck store: err = %v, want a deadline error", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a stuck store blocked the scrape")
	}
}

func TestWatchDB(t *testing.T) {
	m, reg := newMetrics(t, metrics.Options{})
	db, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "pool.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(3)
	if err := m.WatchDB("writer", db); err != nil {
		t.Fatal(err)
	}
	if got := mustSample(t, reg, "go_sql_max_open_connections", labels{"db_name": "writer"}); got != 3 {
		t.Fatalf("max open connections = %v, want 3", got)
	}
	if err := m.WatchDB("writer", db); err == nil {
		t.Fatal("the same pool name registered twice")
	}
}

func TestHandlerServesTextFormat(t *testing.T) {
	_, reg := newMetrics(t, metrics.Options{})
	text := scrape(t, reg)
	for _, want := range []string{
		"# HELP scimbridge_scim_requests_total ",
		"# TYPE scimbridge_scim_request_duration_seconds histogram",
		`scimbridge_atlassian_requests_total{operation="get_user",status="ok",target="jira"} 0`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
}
