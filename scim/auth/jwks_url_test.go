package auth

import (
	"bytes"
	"crypto/elliptic"
	"crypto/rsa"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwksServer serves a replaceable JWKS on 127.0.0.1 and counts requests.
type jwksServer struct {
	*httptest.Server
	body atomic.Pointer[[]byte]
	hits atomic.Int64
	down atomic.Bool // answer 500
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{}
	s.body.Store(&body)
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if s.down.Load() {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(*s.body.Load())
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) set(body []byte) { s.body.Store(&body) }

func urlAuth(t *testing.T, clock *fakeClock, url string, logger *slog.Logger) *Authenticator {
	t.Helper()
	a, err := New([]Tenant{{Name: "acme", JWT: &JWT{Issuer: testIssuer, Audiences: []string{testAudience}, JWKSURL: url}}},
		Options{Now: clock.Now, MaxFailures: 1000, Logger: logger})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func rsTok(t *testing.T, clock *fakeClock, k *rsa.PrivateKey, kid string) string {
	return sign(t, jwt.SigningMethodRS256, k, kid, claimsAt(clock.Now()))
}

func TestJWKSURLRotationAndRateLimit(t *testing.T) {
	clock := newClock()
	k1, k2, k3 := genRSA(t), genRSA(t), genRSA(t)
	e1 := genEC(t, elliptic.P256())
	srv := newJWKSServer(t, jwksJSON(t, rsaJWK("k1", "sig", &k1.PublicKey), ecJWK("e1", &e1.PublicKey)))
	var logs bytes.Buffer
	a := urlAuth(t, clock, srv.URL+"/keys", slog.New(slog.NewTextHandler(&logs, nil)))
	auth := func(tok string) error { return a.Authenticate(newReq(bearer(tok), "192.0.2.10:1"), "acme") }
	hits := func(want int64) {
		t.Helper()
		if got := srv.hits.Load(); got != want {
			t.Fatalf("JWKS server hits = %d, want %d", got, want)
		}
	}

	hits(0) // New does not fetch
	wantStatus(t, auth(rsTok(t, clock, k1, "k1")), 0)
	hits(1)
	wantStatus(t, auth(rsTok(t, clock, k1, "k1")), 0)
	wantStatus(t, auth(sign(t, jwt.SigningMethodES256, e1, "e1", claimsAt(clock.Now()))), 0)
	hits(1) // cached

	// The IdP rotates: k2 appears. Within a minute of the last fetch an unknown kid is not refetched.
	srv.set(jwksJSON(t, rsaJWK("k1", "sig", &k1.PublicKey), rsaJWK("k2", "sig", &k2.PublicKey)))
	clock.Advance(30 * time.Second)
	wantStatus(t, auth(rsTok(t, clock, k2, "k2")), 401)
	hits(1)
	clock.Advance(30 * time.Second) // exactly one minute: still not "more than a minute ago"
	wantStatus(t, auth(rsTok(t, clock, k2, "k2")), 401)
	hits(1)
	clock.Advance(time.Second)
	wantStatus(t, auth(rsTok(t, clock, k2, "k2")), 0)
	hits(2)
	wantStatus(t, auth(rsTok(t, clock, k1, "k1")), 0)
	// e1 left the set with the refetch.
	wantStatus(t, auth(sign(t, jwt.SigningMethodES256, e1, "e1", claimsAt(clock.Now()))), 401)
	hits(2)

	// A flood of unknown kids costs at most one fetch a minute.
	for i := range 10 {
		clock.Advance(5 * time.Second)
		wantStatus(t, auth(rsTok(t, clock, k3, "unknown-"+string(rune('a'+i)))), 401)
	}
	hits(2) // 50 s since the last fetch
	clock.Advance(11 * time.Second)
	wantStatus(t, auth(rsTok(t, clock, k3, "k3")), 401)
	hits(3)

	// The server fails: old keys stay in use; the failed attempt also counts for the rate limit.
	srv.down.Store(true)
	clock.Advance(2 * time.Minute)
	wantStatus(t, auth(rsTok(t, clock, k3, "k3")), 401)
	hits(4)
	wantStatus(t, auth(rsTok(t, clock, k1, "k1")), 0)
	wantStatus(t, auth(rsTok(t, clock, k2, "k2")), 0)
	wantStatus(t, auth(rsTok(t, clock, k3, "k3")), 401)
	hits(4)
	if !strings.Contains(logs.String(), "status 500") {
		t.Errorf("log does not report the failed fetch: %q", logs.String())
	}

	// The server is gone altogether: still the old keys.
	srv.Close()
	clock.Advance(2 * time.Minute)
	wantStatus(t, auth(rsTok(t, clock, k3, "k3")), 401)
	wantStatus(t, auth(rsTok(t, clock, k1, "k1")), 0)
	hits(4)
}

func TestJWKSURLFirstFetchFails(t *testing.T) {
	clock := newClock()
	k1 := genRSA(t)
	srv := newJWKSServer(t, jwksJSON(t, rsaJWK("k1", "sig", &k1.PublicKey)))
	srv.down.Store(true)
	a := urlAuth(t, clock, srv.URL, nil)
	auth := func() error { return a.Authenticate(newReq(bearer(rsTok(t, clock, k1, "k1")), "192.0.2.11:1"), "acme") }

	wantStatus(t, auth(), 401)
	srv.down.Store(false)
	clock.Advance(59 * time.Second)
	wantStatus(t, auth(), 401) // rate limited even though no key was ever loaded
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("hits = %d, want 1", got)
	}
	clock.Advance(2 * time.Second)
	wantStatus(t, auth(), 0)
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("hits = %d, want 2", got)
	}
}

func TestJWKSURLNoStampede(t *testing.T) {
	clock := newClock()
	k1, k2 := genRSA(t), genRSA(t)
	srv := newJWKSServer(t, jwksJSON(t, rsaJWK("k1", "sig", &k1.PublicKey)))
	a := urlAuth(t, clock, srv.URL, nil)

	burst := func(tok string) {
		t.Helper()
		var wg sync.WaitGroup
		var failed atomic.Int64
		for range 40 {
			wg.Go(func() {
				if a.Authenticate(newReq(bearer(tok), "192.0.2.12:1"), "acme") != nil {
					failed.Add(1)
				}
			})
		}
		wg.Wait()
		if n := failed.Load(); n != 0 {
			t.Fatalf("%d of 40 concurrent requests failed", n)
		}
	}
	burst(rsTok(t, clock, k1, "k1")) // first use by 40 requests at once
	if got := srv.hits.Load(); got != 1 {
		t.Fatalf("hits after first-use burst = %d, want 1", got)
	}
	srv.set(jwksJSON(t, rsaJWK("k1", "sig", &k1.PublicKey), rsaJWK("k2", "sig", &k2.PublicKey)))
	clock.Advance(2 * time.Minute)
	burst(rsTok(t, clock, k2, "k2")) // 40 requests with a new kid at once
	if got := srv.hits.Load(); got != 2 {
		t.Fatalf("hits after rotation burst = %d, want 2", got)
	}
}

func TestJWKSURLLogsNoSecret(t *testing.T) {
	const secret = "s3cr3t-query-value"
	clock := newClock()
	k1 := genRSA(t)
	srv := newJWKSServer(t, []byte(`not json`))
	var logs bytes.Buffer
	a := urlAuth(t, clock, srv.URL+"/keys?access_token="+secret, slog.New(slog.NewTextHandler(&logs, nil)))
	tok := rsTok(t, clock, k1, "k1")
	ae := wantStatus(t, a.Authenticate(newReq(bearer(tok), "192.0.2.13:1"), "acme"), 401)
	noSecret(t, ae.Detail, secret, tok)

	srv.Close() // now a connection error, whose *url.Error would repeat the URL
	clock.Advance(2 * time.Minute)
	wantStatus(t, a.Authenticate(newReq(bearer(tok), "192.0.2.13:1"), "acme"), 401)

	out := logs.String()
	if strings.Count(out, "fetch JWKS") != 2 || !strings.Contains(out, "parse JWKS") {
		t.Fatalf("want two fetch failures logged, got %q", out)
	}
	if !strings.Contains(out, strings.TrimPrefix(srv.URL, "http://")+"/keys") {
		t.Errorf("log should name the JWKS host and path: %q", out)
	}
	noSecret(t, out, secret, tok)
}
