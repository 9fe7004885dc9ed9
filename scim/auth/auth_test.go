package auth

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

const (
	acmeOld   = "acme-old-0123456789abcdef"
	acmeNew   = "acme-new-fedcba9876543210"
	globexTok = "globex-token-abcdef"
)

func staticAuth(t *testing.T, opts Options) *Authenticator {
	t.Helper()
	a, err := New([]Tenant{
		{Name: "acme", TokenHashes: [][32]byte{HashToken(acmeOld), HashToken(acmeNew)}},
		{Name: "globex", TokenHashes: [][32]byte{HashToken(globexTok)}},
	}, opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func TestStaticTokens(t *testing.T) {
	a := staticAuth(t, Options{MaxFailures: 1000})
	tests := []struct {
		name   string
		tenant string
		header []string // Authorization values; nil: none
		status int
		detail string
	}{
		{"good", "acme", []string{"Bearer " + acmeOld}, 0, ""},
		{"rotation second hash", "acme", []string{"Bearer " + acmeNew}, 0, ""},
		{"other tenant", "globex", []string{"Bearer " + globexTok}, 0, ""},
		{"bearer lower case", "acme", []string{"bearer " + acmeOld}, 0, ""},
		{"BEARER upper case", "acme", []string{"BEARER " + acmeOld}, 0, ""},
		{"surrounding spaces", "acme", []string{"  Bearer   " + acmeOld + "  "}, 0, ""},
		{"tab separator", "acme", []string{"Bearer\t" + acmeOld}, 0, ""},
		{"wrong token", "acme", []string{"Bearer acme-guess"}, 401, detailInvalid},
		{"prefix of token", "acme", []string{"Bearer " + acmeOld[:10]}, 401, detailInvalid},
		{"token plus suffix", "acme", []string{"Bearer " + acmeOld + "x"}, 401, detailInvalid},
		{"token with inner space", "acme", []string{"Bearer " + acmeOld + " x"}, 401, detailInvalid},
		{"other tenant's token", "acme", []string{"Bearer " + globexTok}, 401, detailInvalid},
		{"acme token at globex", "globex", []string{"Bearer " + acmeNew}, 401, detailInvalid},
		{"unknown tenant", "initech", []string{"Bearer " + acmeOld}, 401, detailInvalid},
		{"missing header", "acme", nil, 401, detailMissing},
		{"blank header", "acme", []string{"   "}, 401, detailMissing},
		{"basic", "acme", []string{"Basic YWRtaW46" + acmeOld}, 401, detailScheme},
		{"okta non-token", "acme", []string{"non-token"}, 401, detailScheme},
		{"bare token without scheme", "acme", []string{acmeOld}, 401, detailScheme},
		{"bearer without token", "acme", []string{"Bearer"}, 401, detailEmpty},
		{"bearer with spaces only", "acme", []string{"Bearer    "}, 401, detailEmpty},
		{"scheme glued to token", "acme", []string{"Bearer" + acmeOld}, 401, detailScheme},
		{"two headers", "acme", []string{"Bearer " + acmeOld, "Bearer " + acmeOld}, 401, detailMultiple},
		{"huge token", "acme", []string{"Bearer " + strings.Repeat("a", maxTokenLen+1)}, 401, detailTooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newReq("", "192.0.2.1:5555")
			for _, v := range tc.header {
				r.Header.Add("Authorization", v)
			}
			err := a.Authenticate(r, tc.tenant)
			ae := wantStatus(t, err, tc.status)
			if ae == nil {
				return
			}
			if ae.Detail != tc.detail {
				t.Errorf("Detail = %q, want %q", ae.Detail, tc.detail)
			}
			if ae.RetryAfter != 0 {
				t.Errorf("RetryAfter = %v on a 401", ae.RetryAfter)
			}
			noSecret(t, ae.Detail, acmeOld, acmeNew, globexTok, "acme-guess", "YWRtaW46")
		})
	}
}

func TestHashToken(t *testing.T) {
	// Known SHA-256 of "abc" (FIPS 180-2 example).
	got := HashToken("abc")
	const want = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if h := hex.EncodeToString(got[:]); h != want {
		t.Fatalf("HashToken(abc) = %s, want %s", h, want)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef-secret")
	good := func() *JWT { return &JWT{Issuer: testIssuer, Audiences: []string{testAudience}, HS256Secret: secret} }
	tok := [][32]byte{HashToken("t")}
	tests := []struct {
		name    string
		tenants []Tenant
		opts    Options
		want    string
	}{
		{"empty name", []Tenant{{TokenHashes: tok}}, Options{}, "empty name"},
		{"duplicate", []Tenant{{Name: "a", TokenHashes: tok}, {Name: "a", TokenHashes: tok}}, Options{}, "defined twice"},
		{"no credentials", []Tenant{{Name: "a"}}, Options{}, "nothing could authenticate"},
		{"hash of empty token", []Tenant{{Name: "a", TokenHashes: [][32]byte{HashToken("")}}}, Options{}, "hash 0"},
		{"zero hash", []Tenant{{Name: "a", TokenHashes: [][32]byte{HashToken("x"), {}}}}, Options{}, "hash 1"},
		{"negative failures", []Tenant{{Name: "a", TokenHashes: tok}}, Options{MaxFailures: -1}, "MaxFailures"},
		{"negative window", []Tenant{{Name: "a", TokenHashes: tok}}, Options{Window: -1}, "Window"},
		{"negative leeway", []Tenant{{Name: "a", TokenHashes: tok}}, Options{Leeway: -1}, "Leeway"},
		{"jwt no issuer", []Tenant{{Name: "a", JWT: func() *JWT { j := good(); j.Issuer = ""; return j }()}}, Options{}, "issuer"},
		{"jwt no audience", []Tenant{{Name: "a", JWT: func() *JWT { j := good(); j.Audiences = nil; return j }()}}, Options{}, "audience"},
		{"jwt empty audience", []Tenant{{Name: "a", JWT: func() *JWT { j := good(); j.Audiences = []string{""}; return j }()}}, Options{}, "audience 0"},
		{"jwt no source", []Tenant{{Name: "a", JWT: func() *JWT { j := good(); j.HS256Secret = nil; return j }()}}, Options{}, "got 0"},
		{"jwt two sources", []Tenant{{Name: "a", JWT: func() *JWT { j := good(); j.JWKSURL = "https://idp.example.test/keys"; return j }()}}, Options{}, "got 2"},
		{"jwt short secret", []Tenant{{Name: "a", JWT: func() *JWT { j := good(); j.HS256Secret = []byte("short-secret"); return j }()}}, Options{}, "at least 32"},
		{"jwt bad url", []Tenant{{Name: "a", JWT: &JWT{Issuer: testIssuer, Audiences: []string{testAudience}, JWKSURL: "file:///etc/keys"}}}, Options{}, "http or https"},
		{"jwt relative url", []Tenant{{Name: "a", JWT: &JWT{Issuer: testIssuer, Audiences: []string{testAudience}, JWKSURL: "/keys"}}}, Options{}, "http or https"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := New(tc.tenants, tc.opts)
			if err == nil || a != nil {
				t.Fatalf("New = %v, %v; want error containing %q", a, err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not mention %q", err, tc.want)
			}
			noSecret(t, err.Error(), string(secret), "short-secret")
		})
	}
}

func TestClientAddr(t *testing.T) {
	tests := map[string]string{
		"192.0.2.1:1234":          "192.0.2.1",
		"[2001:db8::1]:443":       "2001:db8::1",
		"[2001:DB8:0::1]:443":     "2001:db8::1",
		"[::ffff:192.0.2.1]:80":   "192.0.2.1",
		"[fe80::1%eth0]:80":       "fe80::1",
		"192.0.2.1":               "192.0.2.1",
		"not-an-address":          "not-an-address",
		"@unix-socket":            "@unix-socket",
		"":                        "",
		"[2001:db8::1%zone]:9999": "2001:db8::1",
	}
	for in, want := range tests {
		if got := clientAddr(in); got != want {
			t.Errorf("clientAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorUnwrapsAsError(t *testing.T) {
	a := staticAuth(t, Options{})
	err := a.Authenticate(newReq("Bearer nope", "192.0.2.9:1"), "acme")
	var ae *Error
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("errors.As(%v) = %v, %+v", err, errors.As(err, &ae), ae)
	}
}

// TestConcurrentAuthenticate runs good and bad requests in parallel; with -race it checks the
// shared tables.
func TestConcurrentAuthenticate(t *testing.T) {
	a := staticAuth(t, Options{MaxFailures: 5})
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 16 {
		wg.Go(func() {
			for range 50 {
				remote := fmt.Sprintf("198.51.100.%d:1", i%8)
				if err := a.Authenticate(newReq("Bearer "+acmeNew, remote), "acme"); err != nil {
					errs <- err
					return
				}
				err := a.Authenticate(newReq("Bearer wrong", remote), "acme")
				if ae, ok := errors.AsType[*Error](err); !ok || (ae.Status != 401 && ae.Status != 429) {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("unexpected result: %v", err)
	}
}
