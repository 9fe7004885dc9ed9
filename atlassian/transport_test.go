package atlassian_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
)

type step struct {
	status int
	header map[string]string
	body   string
	drop   bool          // hijack and close the connection without answering
	delay  time.Duration // fake-clock delay before answering
}

type hit struct {
	at        time.Time
	method    string
	path      string
	requestID string
}

// script answers with steps in order; the last step repeats.
type script struct {
	mu    sync.Mutex
	steps []step
	hits  []hit
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	i := len(s.hits)
	s.hits = append(s.hits, hit{at: time.Now(), method: r.Method, path: r.URL.Path, requestID: r.Header.Get("X-Request-Id")})
	st := s.steps[min(i, len(s.steps)-1)]
	s.mu.Unlock()
	_, _ = io.Copy(io.Discard, r.Body)
	if st.delay > 0 {
		select {
		case <-time.After(st.delay):
		case <-r.Context().Done(): // the client gave up and closed the connection
			return
		}
	}
	if st.drop {
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = c.Close()
		}
		return
	}
	for k, v := range st.header {
		w.Header().Set(k, v)
	}
	if st.body != "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(st.status)
	_, _ = io.WriteString(w, st.body)
}

func (s *script) arrivals() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

// gaps returns the fake-clock time between consecutive arrivals.
func (s *script) gaps() []time.Duration {
	h := s.arrivals()
	var out []time.Duration
	for i := 1; i < len(h); i++ {
		out = append(out, h[i].at.Sub(h[i-1].at))
	}
	return out
}

const testToken = "pat-s3cr3t-TOKEN-value"

func identityJitter(c time.Duration) time.Duration { return c }

// withServer runs f inside a synctest bubble with a scripted server and a transport to it.
func withServer(t *testing.T, steps []step, opts atlassian.TransportOptions, f func(t *testing.T, tr *atlassian.Transport, s *script, p *pipeNet)) {
	t.Helper()
	synctest.Test(t, func(t *testing.T) {
		s := &script{steps: steps}
		p, stop := startPipeNet(t, s)
		defer stop()
		if opts.BaseURL == "" {
			opts.BaseURL = "http://jira.test/jira"
		}
		if opts.Auth.IsZero() {
			opts.Auth = atlassian.BearerToken(testToken)
		}
		opts.HTTPClient = p.client
		tr, err := atlassian.NewTransport(opts)
		if err != nil {
			t.Fatal(err)
		}
		f(t, tr, s, p)
	})
}

var getUser = atlassian.Request{Method: http.MethodGet, Path: "/rest/api/2/user"}

func TestBackoffSequenceIsExponentialAndCapped(t *testing.T) {
	opts := atlassian.TransportOptions{MaxRetries: 6, MinBackoff: 100 * time.Millisecond, MaxBackoff: time.Second, Jitter: identityJitter}
	withServer(t, []step{{status: 503}}, opts, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		_, err := tr.Do(t.Context(), getUser)
		e, ok := errors.AsType[*atlassian.Error](err)
		if !ok || e.Kind != atlassian.Transient || e.Status != 503 {
			t.Fatalf("err = %v, want Transient 503", err)
		}
		want := []time.Duration{100, 200, 400, 800, 1000, 1000}
		got := s.gaps()
		if len(got) != len(want) {
			t.Fatalf("gaps = %v, want %d retries", got, len(want))
		}
		for i := range want {
			if got[i] != want[i]*time.Millisecond {
				t.Errorf("gap %d = %v, want %v", i, got[i], want[i]*time.Millisecond)
			}
		}
	})
}

func TestFullJitterStaysWithinCeiling(t *testing.T) {
	opts := atlassian.TransportOptions{MaxRetries: 8, MinBackoff: 100 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}
	withServer(t, []step{{status: 502}}, opts, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		_, _ = tr.Do(t.Context(), getUser)
		got := s.gaps()
		if len(got) != 8 {
			t.Fatalf("retries = %d, want 8", len(got))
		}
		ceiling := 100 * time.Millisecond
		for i, g := range got {
			if g < 0 || g > ceiling {
				t.Errorf("gap %d = %v, outside [0, %v]", i, g, ceiling)
			}
			ceiling = min(2*ceiling, 500*time.Millisecond)
		}
	})
}

func TestRetryAfterSecondsHonouredExactly(t *testing.T) {
	steps := []step{{status: 429, header: map[string]string{"Retry-After": "3"}}, {status: 200, body: `{"name":"fred"}`}}
	withServer(t, steps, atlassian.TransportOptions{MaxBackoff: 10 * time.Millisecond}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		resp, err := tr.Do(t.Context(), getUser)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Attempts != 2 || string(resp.Body) != `{"name":"fred"}` {
			t.Errorf("attempts=%d body=%s", resp.Attempts, resp.Body)
		}
		if g := s.gaps(); len(g) != 1 || g[0] != 3*time.Second {
			t.Errorf("gaps = %v, want [3s] (Retry-After wins over MaxBackoff)", g)
		}
	})
}

func TestRetryAfterHTTPDateHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// Inside the bubble the clock starts at 2000-01-01T00:00:00Z, so the date is exact.
		when := time.Now().Add(7 * time.Second).UTC().Format(http.TimeFormat)
		s := &script{steps: []step{{status: 503, header: map[string]string{"Retry-After": when}}, {status: 204}}}
		p, stop := startPipeNet(t, s)
		defer stop()
		tr, err := atlassian.NewTransport(atlassian.TransportOptions{BaseURL: "http://jira.test", Auth: atlassian.BearerToken(testToken), HTTPClient: p.client})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Do(t.Context(), getUser); err != nil {
			t.Fatal(err)
		}
		if g := s.gaps(); len(g) != 1 || g[0] != 7*time.Second {
			t.Errorf("gaps = %v, want [7s]", g)
		}
	})
}

func TestRetryAfterBeyondMaxIsReturnedToCaller(t *testing.T) {
	steps := []step{{status: 429, header: map[string]string{"Retry-After": "600"}, body: `{"message":"Rate limit exceeded"}`}}
	withServer(t, steps, atlassian.TransportOptions{MaxRetryAfter: time.Minute}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		start := time.Now()
		_, err := tr.Do(t.Context(), getUser)
		if !errors.Is(err, atlassian.RateLimited) {
			t.Fatalf("err = %v, want RateLimited", err)
		}
		e, _ := errors.AsType[*atlassian.Error](err)
		if e.RetryAfter != 10*time.Minute {
			t.Errorf("RetryAfter = %v, want 10m", e.RetryAfter)
		}
		if n := len(s.arrivals()); n != 1 || time.Since(start) != 0 {
			t.Errorf("attempts = %d after %v, want 1 immediately", n, time.Since(start))
		}
	})
}

func TestXRateLimitFillRateGivesWaitWithoutRetryAfter(t *testing.T) {
	steps := []step{
		{status: 429, header: map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0",
			"X-RateLimit-FillRate": "4", "X-RateLimit-Interval-Seconds": "1"}},
		{status: 200},
	}
	withServer(t, steps, atlassian.TransportOptions{MinBackoff: 5 * time.Second, Jitter: identityJitter}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		if _, err := tr.Do(t.Context(), getUser); err != nil {
			t.Fatal(err)
		}
		// One token refills in Interval/FillRate = 250ms; the 5s backoff is not used.
		if g := s.gaps(); len(g) != 1 || g[0] != 250*time.Millisecond {
			t.Errorf("gaps = %v, want [250ms]", g)
		}
	})
}

func TestExhaustedRemainingPausesFollowingCalls(t *testing.T) {
	steps := []step{
		{status: 200, header: map[string]string{"X-RateLimit-Remaining": "0", "Retry-After": "2"}},
		{status: 200, header: map[string]string{"X-RateLimit-Remaining": "5", "Retry-After": "0"}},
	}
	withServer(t, steps, atlassian.TransportOptions{}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		for range 3 {
			if _, err := tr.Do(t.Context(), getUser); err != nil {
				t.Fatal(err)
			}
		}
		g := s.gaps()
		if len(g) != 2 || g[0] != 2*time.Second || g[1] != 0 {
			t.Errorf("gaps = %v, want [2s 0s]", g)
		}
	})
}

func TestAdvertisedFillRateCapsClientRate(t *testing.T) {
	steps := []step{{status: 200, header: map[string]string{"X-RateLimit-Limit": "1", "X-RateLimit-Remaining": "1",
		"X-RateLimit-FillRate": "2", "X-RateLimit-Interval-Seconds": "1", "Retry-After": "0"}}}
	withServer(t, steps, atlassian.TransportOptions{RatePerSecond: 100, Burst: 10}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		for range 4 {
			if _, err := tr.Do(t.Context(), getUser); err != nil {
				t.Fatal(err)
			}
		}
		// The first answer advertises 2 requests/s with a bucket of 1: later calls go at 95% of
		// that rate, 1/1.9 s apart.
		g := s.gaps()
		rate := 1.9
		gap := time.Duration(float64(time.Second) / rate)
		want := []time.Duration{0, gap, gap}
		if fmt.Sprint(g) != fmt.Sprint(want) {
			t.Errorf("gaps = %v, want %v", g, want)
		}
	})
}

func TestClientRateLimit(t *testing.T) {
	withServer(t, []step{{status: 200}}, atlassian.TransportOptions{RatePerSecond: 10, Burst: 2}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		for range 5 {
			if _, err := tr.Do(t.Context(), getUser); err != nil {
				t.Fatal(err)
			}
		}
		g := s.gaps()
		want := []time.Duration{0, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}
		if fmt.Sprint(g) != fmt.Sprint(want) {
			t.Errorf("gaps = %v, want %v", g, want)
		}
	})
}

func TestPOSTNotRetriedOn503OrDroppedConnection(t *testing.T) {
	post := atlassian.Request{Method: http.MethodPost, Path: "/rest/api/2/user", Body: map[string]string{"name": "x"}}
	for _, st := range []step{{status: 503}, {status: 502}, {status: 504}, {drop: true}} {
		t.Run(fmt.Sprintf("status=%d,drop=%t", st.status, st.drop), func(t *testing.T) {
			withServer(t, []step{st, {status: 201}}, atlassian.TransportOptions{MinBackoff: time.Millisecond}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
				_, err := tr.Do(t.Context(), post)
				if !errors.Is(err, atlassian.Transient) {
					t.Fatalf("err = %v, want Transient", err)
				}
				if n := len(s.arrivals()); n != 1 {
					t.Errorf("POST sent %d times, want 1", n)
				}
				// The same failure on a retry-safe POST is retried.
				retrySafe := post
				retrySafe.RetrySafe = true
				if _, err := tr.Do(t.Context(), retrySafe); err != nil {
					t.Errorf("retry-safe POST: %v", err)
				}
			})
		})
	}
}

func TestPOSTRetriedOn429(t *testing.T) {
	steps := []step{{status: 429, header: map[string]string{"Retry-After": "1"}}, {status: 201}}
	withServer(t, steps, atlassian.TransportOptions{}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		resp, err := tr.Do(t.Context(), atlassian.Request{Method: http.MethodPost, Path: "/rest/api/2/group"})
		if err != nil || resp.Status != 201 || len(s.arrivals()) != 2 {
			t.Fatalf("resp=%v err=%v arrivals=%d, want 201 after one retry", resp, err, len(s.arrivals()))
		}
	})
}

func TestGETRetriedAfterDroppedConnection(t *testing.T) {
	withServer(t, []step{{drop: true}, {drop: true}, {status: 200}}, atlassian.TransportOptions{MinBackoff: time.Millisecond}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		resp, err := tr.Do(t.Context(), getUser)
		if err != nil || resp.Attempts != 3 {
			t.Fatalf("resp=%+v err=%v, want success on attempt 3", resp, err)
		}
	})
}

func TestFailedDialIsRetriedEvenForPOST(t *testing.T) {
	opts := atlassian.TransportOptions{MaxRetries: 2, MinBackoff: time.Millisecond}
	withServer(t, []step{{status: 201}}, opts, func(t *testing.T, tr *atlassian.Transport, _ *script, p *pipeNet) {
		_ = p.Close() // nobody accepts: every dial fails before anything is sent
		_, err := tr.Do(t.Context(), atlassian.Request{Method: http.MethodPost, Path: "/rest/api/2/user"})
		if !errors.Is(err, atlassian.Transient) {
			t.Fatalf("err = %v, want Transient", err)
		}
		if n := p.dialCount(); n != 3 {
			t.Errorf("dials = %d, want 3 (1 + MaxRetries)", n)
		}
	})
}

func TestPerAttemptTimeout(t *testing.T) {
	opts := atlassian.TransportOptions{Timeout: time.Second, MaxRetries: 1, MinBackoff: time.Millisecond, Jitter: identityJitter}
	withServer(t, []step{{status: 200, delay: 5 * time.Second}, {status: 200}}, opts, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		start := time.Now()
		resp, err := tr.Do(t.Context(), getUser)
		if err != nil || resp.Attempts != 2 {
			t.Fatalf("resp=%+v err=%v, want success on attempt 2", resp, err)
		}
		if d := time.Since(start); d != time.Second+time.Millisecond {
			t.Errorf("took %v, want 1s timeout + 1ms backoff", d)
		}
	})
}

func TestTimeoutWithoutRetriesIsTransient(t *testing.T) {
	opts := atlassian.TransportOptions{Timeout: time.Second, MaxRetries: -1}
	withServer(t, []step{{status: 200, delay: 5 * time.Second}}, opts, func(t *testing.T, tr *atlassian.Transport, _ *script, _ *pipeNet) {
		_, err := tr.Do(t.Context(), getUser)
		if !errors.Is(err, atlassian.Transient) || !strings.Contains(err.Error(), "no answer within 1s") {
			t.Fatalf("err = %v, want Transient timeout", err)
		}
	})
}

func TestContextCancelAbortsRetryWait(t *testing.T) {
	steps := []step{{status: 429, header: map[string]string{"Retry-After": "60"}}}
	withServer(t, steps, atlassian.TransportOptions{}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		ctx, cancel := context.WithCancel(t.Context())
		go func() {
			time.Sleep(1500 * time.Millisecond)
			cancel()
		}()
		start := time.Now()
		_, err := tr.Do(ctx, getUser)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if d := time.Since(start); d != 1500*time.Millisecond {
			t.Errorf("returned after %v, want 1.5s (the cancel), not 60s", d)
		}
		if n := len(s.arrivals()); n != 1 {
			t.Errorf("attempts = %d, want 1", n)
		}
	})
}

func TestContextCancelAbortsPauseAndLimiterWait(t *testing.T) {
	steps := []step{{status: 200, header: map[string]string{"X-RateLimit-Remaining": "0", "Retry-After": "30"}}}
	withServer(t, steps, atlassian.TransportOptions{}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		if _, err := tr.Do(t.Context(), getUser); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		start := time.Now()
		_, err := tr.Do(ctx, getUser)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) != 2*time.Second {
			t.Fatalf("err = %v after %v, want DeadlineExceeded after 2s", err, time.Since(start))
		}
		if n := len(s.arrivals()); n != 1 {
			t.Errorf("requests = %d, want 1 (the paused call never went out)", n)
		}
	})
}

func TestRequestIDSentAndStableAcrossRetries(t *testing.T) {
	var logs bytes.Buffer
	opts := atlassian.TransportOptions{MinBackoff: time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	withServer(t, []step{{status: 503}, {status: 200}}, opts, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		resp, err := tr.Do(t.Context(), getUser)
		if err != nil {
			t.Fatal(err)
		}
		h := s.arrivals()
		if len(h) != 2 || h[0].requestID == "" || h[0].requestID != h[1].requestID || h[0].requestID != resp.RequestID {
			t.Fatalf("request ids = %+v, resp id %q", h, resp.RequestID)
		}
		lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
		if len(lines) != 3 { // attempt 1, retry warning, attempt 2
			t.Fatalf("log lines = %d:\n%s", len(lines), logs.String())
		}
		for _, l := range lines {
			if !strings.Contains(l, `"request_id":"`+resp.RequestID+`"`) {
				t.Errorf("log line without request id: %s", l)
			}
		}
	})
}

func TestNoCredentialInLogsOrErrors(t *testing.T) {
	const user, password = "svc-bridge", "b4sic-P@ssw0rd-secret"
	basicB64 := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	secrets := []string{testToken, password, basicB64}
	for _, auth := range []atlassian.Auth{atlassian.BearerToken(testToken), atlassian.BasicAuth(user, password)} {
		t.Run(auth.String(), func(t *testing.T) {
			var logs bytes.Buffer
			opts := atlassian.TransportOptions{Auth: auth, MaxRetries: 2, MinBackoff: time.Millisecond,
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
			steps := []step{
				{status: 401, header: map[string]string{"X-Seraph-LoginReason": "AUTHENTICATED_FAILED"}, body: `{"errorMessages":["unauthorized"]}`},
				{status: 503}, {drop: true}, {status: 503},
			}
			withServer(t, steps, opts, func(t *testing.T, tr *atlassian.Transport, _ *script, p *pipeNet) {
				var errs []error
				for range 2 {
					_, err := tr.Do(t.Context(), getUser)
					errs = append(errs, err)
				}
				_ = p.Close()
				_, err := tr.Do(t.Context(), getUser)
				errs = append(errs, err)
				if !errors.Is(errs[0], atlassian.Unauthorized) || !errors.Is(errs[1], atlassian.Transient) || !errors.Is(errs[2], atlassian.Transient) {
					t.Fatalf("errors = %v", errs)
				}
				texts := []string{logs.String(), fmt.Sprintf("%v %+v %#v", auth, auth, auth), fmt.Sprintf("%#v %+v", opts, opts)}
				for _, err := range errs {
					texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err))
				}
				if logs.Len() == 0 {
					t.Fatal("no log output captured")
				}
				for _, text := range texts {
					for _, secret := range secrets {
						if strings.Contains(text, secret) {
							t.Errorf("secret %q leaked in: %s", secret[:4]+"…", text)
						}
					}
				}
			})
		})
	}
}

func TestNewTransportRejectsBadOptionsWithoutEchoingSecrets(t *testing.T) {
	cases := []struct {
		name string
		opts atlassian.TransportOptions
	}{
		{"no base", atlassian.TransportOptions{Auth: atlassian.BearerToken("t")}},
		{"userinfo", atlassian.TransportOptions{BaseURL: "https://admin:hunter2-secret@jira.example.com", Auth: atlassian.BearerToken("t")}},
		{"unparsable", atlassian.TransportOptions{BaseURL: "http://a b:hunter2-secret@x/%zz", Auth: atlassian.BearerToken("t")}},
		{"relative", atlassian.TransportOptions{BaseURL: "/jira", Auth: atlassian.BearerToken("t")}},
		{"query", atlassian.TransportOptions{BaseURL: "http://jira/?os_password=hunter2-secret", Auth: atlassian.BearerToken("t")}},
		{"no auth", atlassian.TransportOptions{BaseURL: "http://jira"}},
		{"empty token", atlassian.TransportOptions{BaseURL: "http://jira", Auth: atlassian.BearerToken("")}},
		{"newline", atlassian.TransportOptions{BaseURL: "http://jira", Auth: atlassian.BasicAuth("u", "hunter2-secret\r\nX: y")}},
		{"negative", atlassian.TransportOptions{BaseURL: "http://jira", Auth: atlassian.BearerToken("t"), RatePerSecond: -1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := atlassian.NewTransport(tc.opts)
			if err == nil || tr != nil {
				t.Fatalf("NewTransport = %v, %v; want error", tr, err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the secret: %v", err)
			}
		})
	}
}

func TestPathJoinAndQueryEncoding(t *testing.T) {
	withServer(t, []step{{status: 200, body: `{"name":"a b"}`}}, atlassian.TransportOptions{BaseURL: "http://jira.test/jira/"}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		var out struct{ Name string }
		req := getUser
		req.Query = map[string][]string{"username": {"a b&c"}}
		if _, err := tr.DoJSON(t.Context(), req, &out); err != nil || out.Name != "a b" {
			t.Fatalf("out=%+v err=%v", out, err)
		}
		if h := s.arrivals(); h[0].path != "/jira/rest/api/2/user" {
			t.Errorf("path = %q", h[0].path)
		}
	})
}

func TestDoJSONBadBody(t *testing.T) {
	withServer(t, []step{{status: 200, body: `{not json`}}, atlassian.TransportOptions{}, func(t *testing.T, tr *atlassian.Transport, _ *script, _ *pipeNet) {
		var out struct{}
		_, err := tr.DoJSON(t.Context(), getUser, &out)
		if atlassian.KindOf(err) != atlassian.Other || !strings.Contains(err.Error(), "decode answer") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestDecodeErrorHookIsUsed(t *testing.T) {
	opts := atlassian.TransportOptions{DecodeError: func(status int, _ http.Header, body []byte) *atlassian.Error {
		return &atlassian.Error{Kind: atlassian.DeleteRefused, Messages: []string{string(body)}}
	}}
	withServer(t, []step{{status: 400, body: `vetoed`}}, opts, func(t *testing.T, tr *atlassian.Transport, _ *script, _ *pipeNet) {
		_, err := tr.Do(t.Context(), atlassian.Request{Method: http.MethodDelete, Path: "/rest/api/2/user"})
		e, ok := errors.AsType[*atlassian.Error](err)
		if !ok || e.Kind != atlassian.DeleteRefused || e.Status != 400 || e.Op != "DELETE /rest/api/2/user" || e.RequestID == "" {
			t.Fatalf("err = %#v", err)
		}
	})
}
