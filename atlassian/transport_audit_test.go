package atlassian_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
)

// A redirect is an answer to report, not to follow: net/http turns a redirected PUT, POST or DELETE
// into a GET, so a write redirected to a login page (an SSO filter, a proxy) would come back as a
// 200 and read as success without anything having changed.
func TestRedirectIsNotFollowed(t *testing.T) {
	steps := []step{
		{status: http.StatusFound, header: map[string]string{"Location": "http://sso.test/login.jsp?os_destination=%2Frest&ticket=abc"}},
		{status: http.StatusOK, body: `{"name":"login page"}`},
	}
	put := atlassian.Request{Method: http.MethodPut, Path: "/rest/api/2/user", Body: map[string]bool{"active": false}}
	withServer(t, steps, atlassian.TransportOptions{MinBackoff: time.Millisecond}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		_, err := tr.Do(t.Context(), put)
		e, ok := errors.AsType[*atlassian.Error](err)
		if !ok || e.Status != http.StatusFound {
			t.Fatalf("err = %v, want an *Error with status 302", err)
		}
		if h := s.arrivals(); len(h) != 1 || h[0].method != http.MethodPut {
			t.Fatalf("requests = %+v, want the PUT only", h)
		}
		if msg := err.Error(); !strings.Contains(msg, "http://sso.test/login.jsp") || strings.Contains(msg, "ticket=abc") {
			t.Errorf("error %q should name the redirect target without its query", msg)
		}
	})
}

// The transport's own client (no HTTPClient given) does not follow redirects either.
func TestDefaultClientDoesNotFollowRedirects(t *testing.T) {
	var followed atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			followed.Add(1)
			_, _ = io.WriteString(w, "login page")
			return
		}
		http.Redirect(w, r, "/login", http.StatusMovedPermanently)
	}))
	t.Cleanup(srv.Close)
	tr, err := atlassian.NewTransport(atlassian.TransportOptions{BaseURL: srv.URL, Auth: atlassian.BasicAuth("u", "p"), MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tr.Do(t.Context(), atlassian.Request{Method: http.MethodDelete, Path: "/rest/api/2/user"})
	if e, ok := errors.AsType[*atlassian.Error](err); !ok || e.Status != http.StatusMovedPermanently {
		t.Fatalf("err = %v, want an *Error with status 301", err)
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the redirect was followed %d time(s)", n)
	}
}

// A server or proxy that quotes the request's credentials in its error body must not carry them
// into the *Error, its string, or anything logged from it.
func TestEchoedCredentialsAreRedacted(t *testing.T) {
	const user, password = "svc-bridge", "b4sic-P@ssw0rd-secret"
	basicB64 := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	for _, tc := range []struct {
		auth    atlassian.Auth
		secrets []string
	}{
		{atlassian.BearerToken(testToken), []string{testToken}},
		{atlassian.BasicAuth(user, password), []string{password, basicB64}},
	} {
		t.Run(tc.auth.String(), func(t *testing.T) {
			echo := strings.Join(tc.secrets, " / ")
			body := fmt.Sprintf(`{"errorMessages":["refused: Authorization %s"],"errors":{"password":%q},"reason":%q}`, echo, echo, tc.secrets[0])
			steps := []step{{status: http.StatusBadRequest, body: body}}
			opts := atlassian.TransportOptions{Auth: tc.auth, DecodeError: func(status int, _ http.Header, b []byte) *atlassian.Error {
				// A decoder that copies the body into every field the way product decoders do.
				return &atlassian.Error{Kind: atlassian.Invalid, Code: tc.secrets[0], Messages: []string{string(b)},
					Fields: map[string]string{"password": echo}}
			}}
			withServer(t, steps, opts, func(t *testing.T, tr *atlassian.Transport, _ *script, _ *pipeNet) {
				_, err := tr.Do(t.Context(), getUser)
				e, ok := errors.AsType[*atlassian.Error](err)
				if !ok {
					t.Fatalf("err = %v", err)
				}
				texts := []string{err.Error(), e.Text(), e.Code, fmt.Sprint(e.Messages, e.Fields)}
				for _, text := range texts {
					for _, s := range tc.secrets {
						if strings.Contains(text, s) {
							t.Errorf("secret %q… leaked in %s", s[:4], text)
						}
					}
				}
				if !strings.Contains(e.Messages[0], "refused: Authorization") || !strings.Contains(e.Messages[0], "[REDACTED]") {
					t.Errorf("message lost its non-secret text: %q", e.Messages[0])
				}
			})
		})
	}
}

// A client-side rate limit that cannot grant a token before the caller's deadline ends the call at
// once, and the error says why in a way callers can test for.
func TestClientRateLimitBeyondDeadline(t *testing.T) {
	opts := atlassian.TransportOptions{RatePerSecond: 0.01, Burst: 1}
	withServer(t, []step{{status: 200}}, opts, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		if _, err := tr.Do(t.Context(), getUser); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		_, err := tr.Do(ctx, getUser)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want one that wraps context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("returned after %v; the limiter knew at once that 100s > 5s", d)
		}
		if n := len(s.arrivals()); n != 1 {
			t.Errorf("requests = %d, want 1", n)
		}
	})
}

// Item 4 of the issue, status by status: 429, 502, 503 and 504 are retried for every idempotent
// method; other failures, 500 included, are answered at once.
func TestRetriedStatusesAndMethods(t *testing.T) {
	for _, status := range []int{400, 401, 403, 404, 409, 500, 501, 505} {
		for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
			t.Run(fmt.Sprintf("%s %d not retried", method, status), func(t *testing.T) {
				withServer(t, []step{{status: status}, {status: 200}}, atlassian.TransportOptions{MinBackoff: time.Millisecond}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
					_, err := tr.Do(t.Context(), atlassian.Request{Method: method, Path: "/rest/x"})
					if e, ok := errors.AsType[*atlassian.Error](err); !ok || e.Status != status {
						t.Fatalf("err = %v, want the %d", err, status)
					}
					if n := len(s.arrivals()); n != 1 {
						t.Errorf("sent %d times, want 1", n)
					}
				})
			})
		}
	}
	for _, status := range []int{429, 502, 503, 504} {
		for _, method := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete} {
			t.Run(fmt.Sprintf("%s %d retried", method, status), func(t *testing.T) {
				withServer(t, []step{{status: status}, {status: status}, {status: 204}}, atlassian.TransportOptions{MinBackoff: time.Millisecond}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
					resp, err := tr.Do(t.Context(), atlassian.Request{Method: method, Path: "/rest/x"})
					if err != nil || resp.Attempts != 3 || len(s.arrivals()) != 3 {
						t.Fatalf("resp=%+v err=%v, want success on attempt 3", resp, err)
					}
				})
			})
		}
	}
}

// A 503 that says when to come back (doc §6.2: "some 5xx (503) also carry Retry-After") is retried
// after that wait, not after the backoff; when retries run out the error carries the wait.
func TestServiceUnavailableRetryAfter(t *testing.T) {
	steps := []step{{status: 503, header: map[string]string{"Retry-After": "7"}}, {status: 200}}
	withServer(t, steps, atlassian.TransportOptions{MinBackoff: time.Millisecond, MaxBackoff: time.Millisecond}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		if _, err := tr.Do(t.Context(), getUser); err != nil {
			t.Fatal(err)
		}
		if g := s.gaps(); len(g) != 1 || g[0] != 7*time.Second {
			t.Errorf("gaps = %v, want [7s]", g)
		}
	})
	steps = []step{{status: 429, header: map[string]string{"Retry-After": "2"}}}
	withServer(t, steps, atlassian.TransportOptions{MaxRetries: 2}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		_, err := tr.Do(t.Context(), atlassian.Request{Method: http.MethodPost, Path: "/rest/x"})
		e, ok := errors.AsType[*atlassian.Error](err)
		if !ok || e.Kind != atlassian.RateLimited || e.RetryAfter != 2*time.Second {
			t.Fatalf("err = %v, want RateLimited with RetryAfter 2s", err)
		}
		if n := len(s.arrivals()); n != 3 {
			t.Errorf("sent %d times, want 1 + 2 retries", n)
		}
	})
}

// A Transport (or a product client holding one) that ends up in a log line or an error message by
// accident still shows no credential, in any fmt verb or slog handler.
func TestPrintedTransportShowsNoSecret(t *testing.T) {
	const password = "Pr1nted-P@ssword-x7"
	for _, auth := range []atlassian.Auth{atlassian.BasicAuth("app", password), atlassian.BearerToken(password)} {
		tr, err := atlassian.NewTransport(atlassian.TransportOptions{BaseURL: "http://crowd.test/crowd", Auth: auth})
		if err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		fmt.Fprintf(&buf, "%v %+v %#v %s", tr, tr, tr, []any{tr, auth, &auth})
		slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "transport", tr, "auth", auth)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "transport", tr, "auth", auth)
		if strings.Contains(buf.String(), password) {
			t.Errorf("%v: the secret shows in %s", auth, buf.String())
		}
	}
}

// Request.Secrets are redacted from the answer like the credentials; the rest of the text stays.
func TestRequestSecretsAreRedacted(t *testing.T) {
	steps := []step{{status: 400, body: `{"errorMessages":["rejected {\"password\":\"N3wUser-pw\"}"],"errors":{"password":"N3wUser-pw is too weak"}}`}}
	opts := atlassian.TransportOptions{DecodeError: func(_ int, _ http.Header, b []byte) *atlassian.Error {
		return &atlassian.Error{Kind: atlassian.Invalid, Messages: []string{string(b)}, Fields: map[string]string{"password": "N3wUser-pw is too weak"}}
	}}
	withServer(t, steps, opts, func(t *testing.T, tr *atlassian.Transport, _ *script, _ *pipeNet) {
		_, err := tr.Do(t.Context(), atlassian.Request{Method: http.MethodPost, Path: "/rest/api/2/user",
			Body: map[string]string{"password": "N3wUser-pw"}, Secrets: []string{"N3wUser-pw", ""}})
		if err == nil || strings.Contains(err.Error(), "N3wUser-pw") || !strings.Contains(err.Error(), "is too weak") {
			t.Fatalf("err = %v: want the messages without the password", err)
		}
	})
}
