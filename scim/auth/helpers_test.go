package auth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// fakeClock is an injected clock that only moves when told to.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newReq builds a request with the given Authorization value ("" for none) from remote.
func newReq(authz, remote string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/scim/v2/acme/Users", nil)
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	if remote != "" {
		r.RemoteAddr = remote
	}
	return r
}

// wantStatus fails unless err is an *Error with the given status (0: err must be nil).
func wantStatus(t *testing.T, err error, status int) *Error {
	t.Helper()
	if status == 0 {
		if err != nil {
			t.Fatalf("Authenticate = %v, want success", err)
		}
		return nil
	}
	if err == nil {
		t.Fatalf("Authenticate succeeded, want status %d", status)
	}
	ae, ok := errors.AsType[*Error](err)
	if !ok {
		t.Fatalf("Authenticate error %T %v is not *Error", err, err)
	}
	if ae.Status != status {
		t.Fatalf("status = %d (%q), want %d", ae.Status, ae.Detail, status)
	}
	if ae.Error() != ae.Detail || ae.Detail == "" {
		t.Fatalf("Error() = %q, Detail = %q: want equal and non-empty", ae.Error(), ae.Detail)
	}
	return ae
}

const (
	testIssuer   = "https://idp.example.test/"
	testAudience = "scimbridge"
)

// claimsAt returns valid registered claims for the clock's current time.
func claimsAt(now time.Time) jwt.RegisteredClaims {
	return jwt.RegisteredClaims{
		Issuer:    testIssuer,
		Subject:   "provisioner",
		Audience:  jwt.ClaimStrings{testAudience},
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
	}
}

// sign signs claims with method and key, adding a kid header when kid is not empty.
func sign(t testing.TB, method jwt.SigningMethod, key any, kid string, claims jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign %s: %v", method.Alg(), err)
	}
	return s
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func rsaJWK(kid, use string, k *rsa.PublicKey) map[string]string {
	m := map[string]string{"kty": "RSA", "kid": kid, "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	if use != "" {
		m["use"] = use
	}
	if kid == "" {
		delete(m, "kid")
	}
	return m
}

func ecJWK(kid string, k *ecdsa.PublicKey) map[string]string {
	raw, err := k.Bytes() // 0x04 || X || Y
	if err != nil {
		panic(err)
	}
	size := (k.Curve.Params().BitSize + 7) / 8
	crv := map[int]string{256: "P-256", 384: "P-384"}[k.Curve.Params().BitSize]
	return map[string]string{"kty": "EC", "use": "sig", "kid": kid, "crv": crv,
		"x": b64(raw[1 : 1+size]), "y": b64(raw[1+size:])}
}

func jwksJSON(t testing.TB, keys ...map[string]string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func genRSA(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func genEC(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func bearer(tok string) string { return "Bearer " + tok }

// noSecret fails if s contains any of the secrets.
func noSecret(t *testing.T, s string, secrets ...string) {
	t.Helper()
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Fatalf("%q contains a secret", s)
		}
	}
}
