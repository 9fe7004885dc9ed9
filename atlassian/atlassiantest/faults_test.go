package atlassiantest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// atlassian-api.md 6.1, 8: a token bucket; every affected response carries X-RateLimit-Limit,
// -Remaining, -Interval-Seconds, -FillRate and retry-after (0 while tokens remain); 429 when empty.
func TestRateLimitHeaders(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	env.do("POST", "/_emulator/faults", map[string]any{"rate_limit_per_second": 10, "burst": 3}).want(t, http.StatusOK)
	path := "/user?username=amy"
	for i, wantRemaining := range []string{"2", "1", "0"} {
		r := env.jira("GET", path, nil).want(t, http.StatusOK)
		h := r.header
		if h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != wantRemaining ||
			h.Get("X-RateLimit-Interval-Seconds") != "1" || h.Get("X-RateLimit-FillRate") != "10" || h.Get("Retry-After") != "0" {
			t.Fatalf("request %d headers %v", i, h)
		}
	}
	r := env.jira("GET", path, nil).want(t, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "1" || r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("X-RateLimit-Limit") != "3" {
		t.Fatalf("429 headers %v", r.header)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("429 Content-Type %q", r.header.Get("Content-Type"))
	}
	// The control surface is never rate limited.
	for range 5 {
		env.doAuth("", "GET", "/_emulator/state", nil).want(t, http.StatusOK)
	}
	// 100 ms at 10/s refills one token.
	env.clock.advance(100 * time.Millisecond)
	env.jira("GET", path, nil).want(t, http.StatusOK)
	env.jira("GET", path, nil).want(t, http.StatusTooManyRequests)
	// Crowd is limited by the same bucket.
	env.crowd("GET", "/user?username=amy", nil).want(t, http.StatusTooManyRequests)
	// Switching faults off removes the limiter and its headers.
	env.do("POST", "/_emulator/faults", map[string]any{}).want(t, http.StatusOK)
	if r := env.jira("GET", path, nil).want(t, http.StatusOK); r.header.Get("X-RateLimit-Limit") != "" {
		t.Fatalf("headers without limiter: %v", r.header)
	}
}

// atlassian-api.md 6.1: slow rates stretch the interval; Retry-After counts the whole seconds to
// the next token.
func TestRateLimitSlowRate(t *testing.T) {
	env := newEnv(t, Options{})
	env.e.SetFaults(Faults{RateLimitPerSecond: 0.25})
	r := env.jira("GET", "/user/search?username=.", nil).want(t, http.StatusOK)
	if r.header.Get("X-RateLimit-Interval-Seconds") != "4" || r.header.Get("X-RateLimit-FillRate") != "1" || r.header.Get("X-RateLimit-Limit") != "1" {
		t.Fatalf("slow-rate headers %v", r.header)
	}
	r = env.jira("GET", "/user/search?username=.", nil).want(t, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") != "4" {
		t.Fatalf("Retry-After %q, want 4", r.header.Get("Retry-After"))
	}
	env.clock.advance(3 * time.Second)
	if r := env.jira("GET", "/user/search?username=.", nil).want(t, http.StatusTooManyRequests); r.header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After after 3s %q, want 1", r.header.Get("Retry-After"))
	}
	env.clock.advance(time.Second)
	env.jira("GET", "/user/search?username=.", nil).want(t, http.StatusOK)
}

// start_empty: the bucket begins with no tokens, so the first call is refused and the next is
// admitted once one token has refilled.
func TestRateLimitStartEmpty(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	env.do("POST", "/_emulator/faults", map[string]any{"rate_limit_per_second": 10, "burst": 3, "start_empty": true}).want(t, http.StatusOK)
	r := env.jira("GET", "/user?username=amy", nil).want(t, http.StatusTooManyRequests)
	if r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("X-RateLimit-Limit") != "3" {
		t.Fatalf("429 headers %v", r.header)
	}
	env.clock.advance(100 * time.Millisecond)
	env.jira("GET", "/user?username=amy", nil).want(t, http.StatusOK)
	env.jira("GET", "/user?username=amy", nil).want(t, http.StatusTooManyRequests)
}

// Fault injection: error rate 1 answers every API call with the configured status and the face's
// error body; the control surface is unaffected; switching off restores service.
func TestErrorInjection(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	env.e.SetFaults(Faults{ErrorRate: 1, ErrorStatus: 502})
	jiraEnvelope(t, env.jira("GET", "/user?username=amy", nil).want(t, http.StatusBadGateway))
	if reason, _ := crowdReason(t, env.crowd("GET", "/user?username=amy", nil).want(t, http.StatusBadGateway)); reason != "OPERATION_FAILED" {
		t.Fatalf("crowd injected reason %q", reason)
	}
	// An injected error changes nothing.
	env.jira("DELETE", "/user?username=amy", nil).want(t, http.StatusBadGateway)
	if _, ok := env.stateUser("amy"); !ok {
		t.Fatal("faulted delete removed the user")
	}
	env.doAuth("", "GET", "/_emulator/state", nil).want(t, http.StatusOK)
	env.e.SetFaults(Faults{ErrorRate: 1})
	env.jira("GET", "/user?username=amy", nil).want(t, http.StatusServiceUnavailable)
	env.e.SetFaults(Faults{})
	env.jira("GET", "/user?username=amy", nil).want(t, http.StatusOK)
}

// Seeded randomness: the same seed gives the same fault sequence; a partial rate faults some but
// not all requests.
func TestErrorInjectionRepeatable(t *testing.T) {
	run := func(seed int64) string {
		env := newEnv(t, Options{Seed: seed})
		env.e.SetFaults(Faults{ErrorRate: 0.5})
		var b strings.Builder
		for range 64 {
			if env.jira("GET", "/serverInfo", nil).status == http.StatusOK {
				b.WriteByte('.')
			} else {
				b.WriteByte('x')
			}
		}
		return b.String()
	}
	a, b := run(42), run(42)
	if a != b {
		t.Fatalf("same seed, different sequences:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, ".") || !strings.Contains(a, "x") {
		t.Fatalf("rate 0.5 gave %s", a)
	}
	if c := run(7); c == a {
		t.Fatalf("different seeds gave the same 64-request sequence %s", a)
	}
}

// drop_rate closes the connection without an answer (recorded with status 0); the control
// surface keeps working.
func TestDropConnection(t *testing.T) {
	env := newEnv(t, Options{})
	env.do("POST", "/_emulator/faults", map[string]any{"drop_rate": 1}).want(t, http.StatusOK)
	req, err := http.NewRequestWithContext(t.Context(), "GET", env.srv.URL+"/rest/api/2/serverInfo", nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := env.srv.Client().Do(req)
	if err == nil {
		res.Body.Close()
		t.Fatalf("dropped request got status %d", res.StatusCode)
	}
	env.doAuth("", "GET", "/_emulator/state", nil).want(t, http.StatusOK)
	recs := env.e.Requests()
	if len(recs) == 0 || recs[len(recs)-1].Status != 0 || recs[len(recs)-1].Path != "/rest/api/2/serverInfo" {
		t.Fatalf("request log %v", recs)
	}
}

// Latency delays the request without holding the directory lock: while the delayed request is in
// flight, the write lock stays free (polled with TryLock until half the latency has passed).
func TestLatencyDoesNotHoldLock(t *testing.T) {
	e := New(Options{})
	const latency = 400 * time.Millisecond
	e.SetFaults(Faults{LatencyMS: int(latency / time.Millisecond)})
	active := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(e)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateActive {
			select {
			case active <- struct{}{}:
			default:
			}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	start := time.Now()
	done := make(chan time.Duration, 1)
	go func() {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/rest/api/2/serverInfo", nil)
		if res, err := srv.Client().Do(req); err == nil {
			res.Body.Close()
		}
		done <- time.Since(start)
	}()
	<-active // the request's first bytes arrived; the handler is starting its delay
	probes := 0
	for time.Since(start) < latency/2 {
		if !e.mu.TryLock() {
			t.Fatal("directory lock held while a request waits out its latency")
		}
		e.mu.Unlock()
		probes++
	}
	select {
	case d := <-done:
		t.Fatalf("delayed request finished after %v, before half its latency", d)
	default:
	}
	if d := <-done; d < latency {
		t.Fatalf("request took %v, less than the injected %v", d, latency)
	}
	if probes == 0 {
		t.Fatal("no lock probes ran")
	}
}

// POST /_emulator/faults validates; GET returns what is in force; SetFaults clamps.
func TestFaultsControl(t *testing.T) {
	env := newEnv(t, Options{})
	for _, bad := range []string{
		`{"error_rate":2}`, `{"error_rate":-0.1}`, `{"drop_rate":1.5}`, `{"error_status":200}`,
		`{"latency_ms":-1}`, `{"latency_ms":999999}`, `{"rate_limit_per_second":-1}`, `{"burst":-2}`,
		`{"typo":1}`, `{`, `[]`,
	} {
		r := env.doAuth("", "POST", "/_emulator/faults", bad).want(t, http.StatusBadRequest)
		if !strings.Contains(string(r.body), `"error"`) {
			t.Errorf("%s: body %s", bad, r.body)
		}
	}
	if f := env.e.currentFaults(); f != (Faults{}) {
		t.Fatalf("refused configs changed faults to %+v", f)
	}
	set := `{"error_rate":0.2,"error_status":503,"latency_ms":10,"rate_limit_per_second":50,"burst":10,"drop_rate":0.01}`
	env.doAuth("", "POST", "/_emulator/faults", set).want(t, http.StatusOK)
	got := env.doAuth("", "GET", "/_emulator/faults", nil).want(t, http.StatusOK).obj(t)
	want := map[string]any{"error_rate": 0.2, "error_status": 503.0, "latency_ms": 10.0, "rate_limit_per_second": 50.0, "burst": 10.0, "drop_rate": 0.01}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("faults[%s] = %v, want %v", k, got[k], v)
		}
	}
	env.e.SetFaults(Faults{ErrorRate: 7, DropRate: -1, ErrorStatus: 99, LatencyMS: -5})
	if f := env.e.currentFaults(); f.ErrorRate != 1 || f.DropRate != 0 || f.ErrorStatus != 0 || f.LatencyMS != 0 {
		t.Fatalf("clamped %+v", f)
	}
}

// atlassian-api.md 6.1: Jira DC limits only authenticated REST requests. A refused login and an
// anonymous serverInfo neither take a token nor carry the X-RateLimit-* headers.
func TestRateLimitOnlyAuthenticated(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	env.e.SetFaults(Faults{RateLimitPerSecond: 1, Burst: 1})
	for range 3 {
		r := env.doAuth("", "GET", "/rest/api/2/serverInfo", nil).want(t, http.StatusOK)
		if h := r.header.Get("X-RateLimit-Limit"); h != "" {
			t.Fatalf("anonymous serverInfo carries X-RateLimit-Limit %q", h)
		}
	}
	for _, auth := range []string{"Bearer wrong", basic(testUser, "wrong"), ""} {
		r := env.doAuth(auth, "GET", "/rest/api/2/user?username=amy", nil).want(t, http.StatusUnauthorized)
		if h := r.header.Get("X-RateLimit-Remaining"); h != "" {
			t.Fatalf("401 for %q carries X-RateLimit-Remaining %q", auth, h)
		}
	}
	// The one token is still there for the first authenticated call.
	r := env.jira("GET", "/user?username=amy", nil).want(t, http.StatusOK)
	if r.header.Get("X-RateLimit-Remaining") != "0" || r.header.Get("Retry-After") != "0" {
		t.Fatalf("first authenticated call headers %v", r.header)
	}
	env.jira("GET", "/serverInfo", nil).want(t, http.StatusTooManyRequests)
}
