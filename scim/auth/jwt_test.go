package auth

import (
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

var hsSecret = []byte("hs256-shared-secret-0123456789-abcdefghij")

func hsAuth(t *testing.T, clock *fakeClock) *Authenticator {
	t.Helper()
	a, err := New([]Tenant{
		{Name: "acme", JWT: &JWT{Issuer: testIssuer, Audiences: []string{testAudience, "scimbridge-alt"}, HS256Secret: hsSecret}},
		{Name: "globex", TokenHashes: [][32]byte{HashToken(globexTok)}},
	}, Options{Now: clock.Now, MaxFailures: 1000})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func TestHS256(t *testing.T) {
	clock := newClock()
	a := hsAuth(t, clock)
	now := clock.Now()
	mod := func(f func(c *jwt.RegisteredClaims)) jwt.RegisteredClaims {
		c := claimsAt(now)
		f(&c)
		return c
	}
	hs := func(c jwt.Claims) string { return sign(t, jwt.SigningMethodHS256, hsSecret, "", c) }
	rsaKey := genRSA(t)

	tests := []struct {
		name   string
		tenant string
		token  string
		status int
		detail string
	}{
		{"good", "acme", hs(claimsAt(now)), 0, ""},
		{"second configured audience", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"scimbridge-alt"} })), 0, ""},
		{"aud array with ours", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"other", testAudience} })), 0, ""},
		{"aud as plain string", "acme", hs(jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "exp": now.Add(time.Hour).Unix()}), 0, ""},
		{"expired within leeway", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-20 * time.Second)) })), 0, ""},
		{"nbf within leeway", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(20 * time.Second)) })), 0, ""},
		{"nbf in past", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(-time.Hour)) })), 0, ""},
		{"expired", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-31 * time.Second)) })), 401, detailExpired},
		{"nbf in future", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(31 * time.Second)) })), 401, detailNotYetValid},
		{"no exp", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.ExpiresAt = nil })), 401, detailNoClaim},
		{"wrong issuer", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.Issuer = "https://evil.example.test/" })), 401, detailIssuer},
		{"no issuer", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.Issuer = "" })), 401, detailNoClaim},
		{"wrong audience", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"jira"} })), 401, detailAudience},
		{"aud array without ours", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.Audience = jwt.ClaimStrings{"jira", "crowd"} })), 401, detailAudience},
		{"no audience", "acme", hs(mod(func(c *jwt.RegisteredClaims) { c.Audience = nil })), 401, detailNoClaim},
		{"aud wrong type", "acme", hs(jwt.MapClaims{"iss": testIssuer, "aud": 42, "exp": now.Add(time.Hour).Unix()}), 401, detailInvalid},
		{"wrong secret", "acme", sign(t, jwt.SigningMethodHS256, []byte("another-secret-0123456789-abcdefghijk"), "", claimsAt(now)), 401, detailInvalid},
		{"HS512 with the right secret", "acme", sign(t, jwt.SigningMethodHS512, hsSecret, "", claimsAt(now)), 401, detailInvalid},
		{"alg none", "acme", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claimsAt(now)), 401, detailInvalid},
		{"RS256 at HS256 tenant", "acme", sign(t, jwt.SigningMethodRS256, rsaKey, "", claimsAt(now)), 401, detailInvalid},
		{"tampered payload", "acme", tamperPayload(t, hs(claimsAt(now))), 401, detailInvalid},
		{"garbage", "acme", "a.b.c", 401, detailInvalid},
		{"valid JWT at static-only tenant", "globex", hs(claimsAt(now)), 401, detailInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ae := wantStatus(t, a.Authenticate(newReq(bearer(tc.token), "192.0.2.7:1"), tc.tenant), tc.status)
			if ae != nil {
				if ae.Detail != tc.detail {
					t.Errorf("Detail = %q, want %q", ae.Detail, tc.detail)
				}
				noSecret(t, ae.Detail, tc.token, string(hsSecret))
			}
		})
	}

	// The same token expires as the injected clock moves.
	tok := hs(claimsAt(now))
	clock.Advance(time.Hour + 29*time.Second)
	wantStatus(t, a.Authenticate(newReq(bearer(tok), "192.0.2.7:1"), "acme"), 0)
	clock.Advance(2 * time.Second)
	wantStatus(t, a.Authenticate(newReq(bearer(tok), "192.0.2.7:1"), "acme"), 401)
}

// tamperPayload swaps the payload for one with a different subject, keeping the signature.
func tamperPayload(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	parts[1] = b64([]byte(`{"iss":"` + testIssuer + `","aud":"` + testAudience + `","exp":4102444800,"sub":"admin"}`))
	return strings.Join(parts, ".")
}

func TestJWKSFile(t *testing.T) {
	clock := newClock()
	now := clock.Now()
	r1, r2, rEnc := genRSA(t), genRSA(t), genRSA(t)
	e1, e384 := genEC(t, elliptic.P256()), genEC(t, elliptic.P384())
	octSecret := []byte("oct-key-material-0123456789abcdefghij")

	path := writeFile(t, jwksJSON(t,
		rsaJWK("r1", "sig", &r1.PublicKey),
		rsaJWK("", "", &r2.PublicKey), // no kid, no use: usable for kid-less tokens
		rsaJWK("enc1", "enc", &rEnc.PublicKey),
		ecJWK("e1", &e1.PublicKey),
		ecJWK("p384", &e384.PublicKey),
		map[string]string{"kty": "oct", "kid": "o1", "k": b64(octSecret)},
		map[string]string{"kty": "OKP", "kid": "ed", "crv": "Ed25519", "x": b64(make([]byte, 32))},
	))
	a, err := New([]Tenant{{Name: "acme", JWT: &JWT{Issuer: testIssuer, Audiences: []string{testAudience}, JWKSFile: path}}},
		Options{Now: clock.Now, MaxFailures: 1000})
	if err != nil {
		t.Fatalf("New: %v", err)
	}

	pubDER, err := x509.MarshalPKIXPublicKey(&r1.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	expired := claimsAt(now)
	expired.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute))
	c := claimsAt(now)

	tests := []struct {
		name   string
		token  string
		status int
		detail string
	}{
		{"RS256 kid r1", sign(t, jwt.SigningMethodRS256, r1, "r1", c), 0, ""},
		{"ES256 kid e1", sign(t, jwt.SigningMethodES256, e1, "e1", c), 0, ""},
		{"RS256 without kid tries all RSA keys", sign(t, jwt.SigningMethodRS256, r2, "", c), 0, ""},
		{"RS256 without kid, r1", sign(t, jwt.SigningMethodRS256, r1, "", c), 0, ""},
		{"ES256 without kid", sign(t, jwt.SigningMethodES256, e1, "", c), 0, ""},
		{"RS256 expired", sign(t, jwt.SigningMethodRS256, r1, "r1", expired), 401, detailExpired},
		{"RS256 signed by r2 claiming kid r1", sign(t, jwt.SigningMethodRS256, r2, "r1", c), 401, detailInvalid},
		{"unknown kid", sign(t, jwt.SigningMethodRS256, r1, "nope", c), 401, detailInvalid},
		{"kid of EC key on RS256 token", sign(t, jwt.SigningMethodRS256, r1, "e1", c), 401, detailInvalid},
		{"kid of RSA key on ES256 token", sign(t, jwt.SigningMethodES256, e1, "r1", c), 401, detailInvalid},
		{"use enc key is ignored", sign(t, jwt.SigningMethodRS256, rEnc, "enc1", c), 401, detailInvalid},
		{"use enc key without kid", sign(t, jwt.SigningMethodRS256, rEnc, "", c), 401, detailInvalid},
		{"P-384 key is ignored", sign(t, jwt.SigningMethodES384, e384, "p384", c), 401, detailInvalid},
		{"oct key never becomes an HS256 secret", sign(t, jwt.SigningMethodHS256, octSecret, "o1", c), 401, detailInvalid},
		{"HS256 signed with public key DER", sign(t, jwt.SigningMethodHS256, pubDER, "r1", c), 401, detailInvalid},
		{"HS256 signed with public key PEM", sign(t, jwt.SigningMethodHS256, pubPEM, "", c), 401, detailInvalid},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "r1", c), 401, detailInvalid},
		{"PS256 with r1", sign(t, jwt.SigningMethodPS256, r1, "r1", c), 401, detailInvalid},
		{"kid not a string", signWithHeader(t, r1, map[string]any{"kid": 7}, c), 401, detailInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ae := wantStatus(t, a.Authenticate(newReq(bearer(tc.token), "192.0.2.8:1"), "acme"), tc.status)
			if ae != nil && ae.Detail != tc.detail {
				t.Errorf("Detail = %q, want %q", ae.Detail, tc.detail)
			}
		})
	}
}

func signWithHeader(t *testing.T, key any, header map[string]any, c jwt.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	for k, v := range header {
		tok.Header[k] = v
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestJWKSFileInvalid(t *testing.T) {
	r := genRSA(t)
	e := genEC(t, elliptic.P256())
	good := rsaJWK("r", "sig", &r.PublicKey)
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{}
		for kk, vv := range base {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	small := genSmallRSAJWK(t)
	offCurve := with(ecJWK("e", &e.PublicKey), "y", b64(make([]byte, 32)))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"not json", []byte("{keys: nope"), "parse JWKS"},
		{"keys wrong type", []byte(`{"keys": {"kty":"RSA"}}`), "parse JWKS"},
		{"empty", []byte(`{"keys": []}`), "no usable"},
		{"no keys member", []byte(`{}`), "no usable"},
		{"only enc keys", jwksJSON(t, rsaJWK("r", "enc", &r.PublicKey)), "no usable"},
		{"rsa bad n", jwksJSON(t, with(good, "n", "!!!")), "modulus"},
		{"rsa missing e", jwksJSON(t, with(good, "e", "")), "exponent"},
		{"rsa even e", jwksJSON(t, with(good, "e", b64([]byte{1, 0}))), "exponent"},
		{"rsa huge e", jwksJSON(t, with(good, "e", b64([]byte{1, 0, 0, 0, 0, 1}))), "exponent"},
		{"rsa 1024 bits", jwksJSON(t, small), "bits"},
		{"ec off curve", jwksJSON(t, offCurve), "point"},
		{"ec short x", jwksJSON(t, with(ecJWK("e", &e.PublicKey), "x", b64([]byte{1, 2, 3}))), "32 bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, tc.data)
			_, err := New([]Tenant{{Name: "acme", JWT: &JWT{Issuer: testIssuer, Audiences: []string{testAudience}, JWKSFile: path}}}, Options{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New error = %v, want one mentioning %q", err, tc.want)
			}
		})
	}
	t.Run("missing file", func(t *testing.T) {
		_, err := New([]Tenant{{Name: "acme", JWT: &JWT{Issuer: testIssuer, Audiences: []string{testAudience}, JWKSFile: t.TempDir() + "/none.json"}}}, Options{})
		if err == nil || !strings.Contains(err.Error(), "read JWKS file") {
			t.Fatalf("New error = %v", err)
		}
	})
	t.Run("padded base64 is tolerated", func(t *testing.T) {
		padded := with(good, "e", "AQAB")
		padded["n"] += strings.Repeat("=", (4-len(padded["n"])%4)%4)
		path := writeFile(t, jwksJSON(t, padded))
		if _, err := New([]Tenant{{Name: "acme", JWT: &JWT{Issuer: testIssuer, Audiences: []string{testAudience}, JWKSFile: path}}}, Options{}); err != nil {
			t.Fatalf("New: %v", err)
		}
	})
}

// genSmallRSAJWK builds a JWK for a 1024-bit modulus (an odd 1024-bit number suffices: it must be
// refused on size before anything else).
func genSmallRSAJWK(t *testing.T) map[string]string {
	t.Helper()
	n := make([]byte, 128)
	n[0], n[127] = 0xc1, 0x01
	return map[string]string{"kty": "RSA", "kid": "small", "n": b64(n), "e": "AQAB"}
}
