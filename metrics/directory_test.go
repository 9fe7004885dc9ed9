package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/atlassian/jira"
	"github.com/scimbridge/scimbridge/metrics"
	"github.com/scimbridge/scimbridge/reconcile"
)

// The decorator is what the engine gets as a target's directory.
var _ reconcile.Directory = (*metrics.InstrumentedDirectory)(nil)

// jiraClient is a real Jira client for url whose HTTP attempts go through
// m's RoundTripper.
func jiraClient(t *testing.T, m *metrics.Metrics, url string, to atlassian.TransportOptions) *jira.Client {
	t.Helper()
	to.BaseURL, to.Auth, to.Timeout = url, atlassian.BearerToken("pat"), 10*time.Second
	to.HTTPClient = &http.Client{Transport: m.RoundTripper("jira", nil)}
	c, err := jira.New(jira.Options{TransportOptions: to})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDirectoryCountsCallsByOperationAndStatus(t *testing.T) {
	m, reg := newMetrics(t, metrics.Options{})
	emu := atlassiantest.New(atlassiantest.Options{Token: "pat"})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	dir := m.Directory("jira", jiraClient(t, m, srv.URL, atlassian.TransportOptions{
		// A server wait longer than this is handed back to the caller, not sat out.
		MaxRetryAfter: time.Millisecond,
	}))
	ctx := t.Context()

	if _, err := dir.GetUser(ctx, "nobody"); !errors.Is(err, atlassian.NotFound) {
		t.Fatalf("GetUser(nobody) = %v, want not found", err)
	}
	if _, err := dir.CreateUser(ctx, atlassian.NewUser{Name: "ada", DisplayName: "Ada", Email: "ada@example.com", Active: true}); err != nil {
		t.Fatal(err)
	}
	if err := dir.SetActive(ctx, "ada", false); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := dir.GetUser(canceled, "ada"); err == nil {
		t.Fatal("GetUser with a canceled context succeeded")
	}
	// A rate limit whose Retry-After is beyond MaxRetryAfter: the call ends rate limited.
	emu.SetFaults(atlassiantest.Faults{RateLimitPerSecond: 0.01, Burst: 1})
	if _, err := dir.GetUser(ctx, "ada"); err != nil {
		t.Fatalf("first call within the burst: %v", err)
	}
	if _, err := dir.GetUser(ctx, "ada"); atlassian.KindOf(err) != atlassian.RateLimited {
		t.Fatalf("second call: %v, want rate limited", err)
	}

	for _, w := range []struct {
		name string
		l    labels
		v    float64
	}{
		{"scimbridge_atlassian_requests_total", labels{"target": "jira", "operation": "get_user", "status": "not_found"}, 1},
		{"scimbridge_atlassian_requests_total", labels{"target": "jira", "operation": "get_user", "status": "ok"}, 1},
		{"scimbridge_atlassian_requests_total", labels{"target": "jira", "operation": "get_user", "status": "canceled"}, 1},
		{"scimbridge_atlassian_requests_total", labels{"target": "jira", "operation": "get_user", "status": "rate_limited"}, 1},
		{"scimbridge_atlassian_requests_total", labels{"target": "jira", "operation": "create_user", "status": "ok"}, 1},
		{"scimbridge_atlassian_requests_total", labels{"target": "jira", "operation": "set_active", "status": "ok"}, 1},
		{"scimbridge_atlassian_request_duration_seconds", labels{"target": "jira", "operation": "get_user"}, 4},
		{"scimbridge_atlassian_rate_limited_total", labels{"target": "jira"}, 1},
		{"scimbridge_atlassian_attempts_total", labels{"target": "jira", "code": "429"}, 1},
	} {
		if got := mustSample(t, reg, w.name, w.l); got != w.v {
			t.Errorf("%s%v = %v, want %v", w.name, w.l, got, w.v)
		}
	}
	// 0.01 tokens per second: the emulator asks for about 100 s.
	if got := mustSample(t, reg, "scimbridge_atlassian_retry_after_seconds_total", labels{"target": "jira"}); got < 50 {
		t.Errorf("retry_after_seconds_total = %v, want the ~100 s the emulator asked for", got)
	}
}

// A 429 the transport absorbs by retrying is invisible in the call's
// status but still counted: that is what a 429 storm alert needs.
func TestRateLimitedCountsRetried429s(t *testing.T) {
	m, reg := newMetrics(t, metrics.Options{})
	emu := atlassiantest.New(atlassiantest.Options{Token: "pat"})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		emu.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	dir := m.Directory("jira", jiraClient(t, m, srv.URL, atlassian.TransportOptions{
		MinBackoff: time.Millisecond, Jitter: func(time.Duration) time.Duration { return 0 },
	}))
	if _, err := dir.ListGroups(t.Context()); err != nil {
		t.Fatalf("ListGroups after one 429: %v", err)
	}
	if got := mustSample(t, reg, "scimbridge_atlassian_requests_total", labels{"operation": "list_groups", "status": "ok"}); got != 1 {
		t.Errorf("list_groups ok = %v, want 1", got)
	}
	if got := mustSample(t, reg, "scimbridge_atlassian_rate_limited_total", labels{"target": "jira"}); got != 1 {
		t.Errorf("rate_limited_total = %v, want 1 (the retried 429)", got)
	}
	if got := mustSample(t, reg, "scimbridge_atlassian_attempts_total", labels{"code": "200"}); got != 1 {
		t.Errorf("attempts{code=200} = %v, want 1", got)
	}
}

// A target that does not answer at all: the attempt counts as "error" and
// the call carries the transport's kind.
func TestUnreachableTarget(t *testing.T) {
	m, reg := newMetrics(t, metrics.Options{})
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	dir := m.Directory("jira", jiraClient(t, m, url, atlassian.TransportOptions{MaxRetries: -1}))
	if err := dir.DeleteUser(t.Context(), "ada"); err == nil {
		t.Fatal("DeleteUser on a closed server succeeded")
	}
	if got := mustSample(t, reg, "scimbridge_atlassian_attempts_total", labels{"code": "error"}); got != 1 {
		t.Errorf("attempts{code=error} = %v, want 1", got)
	}
	if got := mustSample(t, reg, "scimbridge_atlassian_requests_total", labels{"operation": "delete_user", "status": "transient"}); got != 1 {
		t.Errorf("delete_user transient = %v, want 1", got)
	}
}
