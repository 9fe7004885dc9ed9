package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzAuthorizationHeader feeds arbitrary Authorization values to a tenant with a static token and
// an HS256 JWT. It must never panic, and a request passes exactly when the header is a Bearer
// header carrying the static token or the one valid JWT.
func FuzzAuthorizationHeader(f *testing.F) {
	clock := newClock()
	const static = "static-token-0123456789abcdef"
	a, err := New([]Tenant{{
		Name:        "acme",
		TokenHashes: [][32]byte{HashToken(static)},
		JWT:         &JWT{Issuer: testIssuer, Audiences: []string{testAudience}, HS256Secret: hsSecret},
	}}, Options{Now: clock.Now, MaxFailures: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	validJWT := sign(f, jwt.SigningMethodHS256, hsSecret, "", claimsAt(clock.Now()))

	for _, seed := range []string{
		"", "Bearer " + static, "bearer " + static, "  BEARER \t" + static + " ", "Bearer " + validJWT,
		"Bearer " + validJWT + "=", "Bearer " + strings.ToUpper(validJWT), "Bearer", "Bearer ", "non-token",
		"Basic dXNlcjpwYXNz", "Bearer a.b.c", "Bearer eyJhbGciOiJub25lIn0.e30.", "Bearer " + static + "\x00",
		"Bearer\t\t" + static, "Bearer " + static[:5], "Bearerx " + static, "Bearer ..", "Bearer ....",
		"Bearer eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjF9.", "Bearer eyJ9.eyJ9.eyJ9", "Bearer " + strings.Repeat("A", 9000),
	} {
		f.Add(seed)
	}

	f.Fuzz(func(t *testing.T, header string) {
		r := newReq("", "192.0.2.99:1")
		r.Header["Authorization"] = []string{header}
		err := a.Authenticate(r, "acme")

		v := strings.Trim(header, " \t")
		want := false
		if len(v) > 7 && strings.EqualFold(v[:6], "bearer") && (v[6] == ' ' || v[6] == '\t') {
			tok := strings.Trim(v[7:], " \t")
			want = tok == static || tok == validJWT
		}
		if want != (err == nil) {
			t.Fatalf("header %q: Authenticate = %v, want success %v", header, err, want)
		}
		if err == nil {
			return
		}
		ae, ok := errors.AsType[*Error](err)
		if !ok || (ae.Status != 401 && ae.Status != 429) || ae.Detail == "" {
			t.Fatalf("header %q: error %#v", header, err)
		}
		if tok := strings.TrimSpace(strings.TrimPrefix(strings.ToLower(v), "bearer")); len(tok) >= 12 &&
			strings.Contains(strings.ToLower(ae.Detail), tok) {
			t.Fatalf("detail %q echoes the token", ae.Detail)
		}
	})
}

func BenchmarkStaticToken(b *testing.B) {
	hashes := make([][32]byte, 3) // a tenant mid-rotation with three live tokens
	for i := range hashes {
		hashes[i] = HashToken("tok-" + string(rune('a'+i)) + "-0123456789abcdef0123456789")
	}
	a, err := New([]Tenant{{Name: "acme", TokenHashes: hashes}}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	r := newReq("Bearer tok-c-0123456789abcdef0123456789", "192.0.2.1:1")
	b.ReportAllocs()
	for b.Loop() {
		if err := a.Authenticate(r, "acme"); err != nil {
			b.Fatal(err)
		}
	}
}
