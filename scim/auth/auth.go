// Package auth authenticates SCIM (and later admin) requests for scimbridge.
//
// One Authenticator serves every tenant. A tenant accepts static bearer tokens, stored only as
// SHA-256 digests and compared in constant time, and optionally bearer JWTs (HS256 with a shared
// secret, or RS256/ES256 with keys from a JWKS file or URL). Failed attempts are counted per client
// address; an address that fails too often gets 429 for its further failures, while a request with
// valid credentials is always accepted.
//
// Errors never contain a token, a secret or a key: Detail strings are fixed texts.
package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"time"
)

// Defaults for zero Options fields.
const (
	// DefaultMaxFailures is the number of failed attempts per client address allowed per window.
	DefaultMaxFailures = 20
	// DefaultWindow is the sliding window over which failures are counted.
	DefaultWindow = time.Minute
	// DefaultLeeway is the clock skew allowed for a JWT's exp and nbf. 30 s covers ordinary NTP drift
	// between an IdP and this server without keeping expired tokens alive noticeably longer.
	DefaultLeeway = 30 * time.Second
	// DefaultHTTPTimeout bounds one JWKS fetch.
	DefaultHTTPTimeout = 10 * time.Second

	// maxTrackedAddresses caps the failure table so that a flood from many addresses cannot grow
	// memory without bound; the address with the oldest recorded failure is dropped first.
	maxTrackedAddresses = 100_000
	// maxTokenLen rejects absurd tokens before hashing or JWT parsing.
	// Guess: real static tokens and IdP JWTs are far below 8 KiB; net/http allows 1 MiB of headers.
	maxTokenLen = 8 << 10
)

// Tenant is one tenant's credentials.
type Tenant struct {
	// Name is the tenant's name as it appears in the URL (/scim/v2/{tenant}).
	Name string
	// TokenHashes are the SHA-256 digests (see HashToken) of every accepted static bearer token;
	// several allow rotation without downtime.
	TokenHashes [][32]byte
	// JWT enables bearer JWTs for this tenant; nil accepts no JWT.
	JWT *JWT
}

// JWT configures bearer JWT validation for a tenant. Exactly one key source
// (HS256Secret, JWKSFile or JWKSURL) is set.
type JWT struct {
	// Issuer must equal the token's iss claim.
	Issuer string
	// Audiences: the token's aud (string or array) must contain at least one of these.
	Audiences []string
	// HS256Secret is the HS256 shared secret; at least 32 bytes (RFC 7518 section 3.2).
	HS256Secret []byte
	// JWKSFile is a JWKS file with RS256/ES256 keys. It is read by New; an invalid file is an error there.
	JWKSFile string
	// JWKSURL serves RS256/ES256 keys as a JWKS. It is fetched on first use and refetched when a token
	// names an unknown kid, at most once a minute.
	JWKSURL string
}

// Options tune an Authenticator. The zero value gives the documented defaults.
type Options struct {
	// Now is the clock for JWT times, lockout windows and JWKS refetch limits; nil means time.Now.
	Now func() time.Time
	// HTTPClient fetches JWKSURL; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
	// MaxFailures is the number of failed attempts per client address allowed within Window; further
	// failures get 429. 0 means 20.
	MaxFailures int
	// Window is the sliding window for MaxFailures; 0 means one minute.
	Window time.Duration
	// Leeway is the clock skew allowed when checking a JWT's exp and nbf; 0 means 30 s.
	Leeway time.Duration
	// Logger receives JWKS fetch problems and lockout notices, never a token or secret; nil discards.
	Logger *slog.Logger
}

// Error is an authentication failure. Status is 401 or 429; RetryAfter is set (whole seconds, at
// least 1 s) for 429. Detail says what is wrong without echoing any credential.
type Error struct {
	Status     int           // http.StatusUnauthorized or http.StatusTooManyRequests
	Detail     string        // for the SCIM error body's detail
	RetryAfter time.Duration // for the Retry-After header; zero unless Status is 429
}

// Error returns Detail.
func (e *Error) Error() string { return e.Detail }

// Fixed error details; none of them contains request data.
const (
	detailMissing      = "missing Authorization header"
	detailMultiple     = "more than one Authorization header"
	detailScheme       = "Authorization header must use the Bearer scheme"
	detailEmpty        = "empty bearer token"
	detailTooLong      = "bearer token is too long"
	detailInvalid      = "invalid bearer token"
	detailExpired      = "bearer token has expired"
	detailNotYetValid  = "bearer token is not valid yet"
	detailNoClaim      = "bearer token has no exp claim"
	detailIssuer       = "bearer token has the wrong issuer"
	detailAudience     = "bearer token has the wrong audience"
	detailTooManyFails = "too many failed authentication attempts; retry later"
)

// HashToken returns the SHA-256 digest of a static bearer token, the form in which Tenant keeps it.
func HashToken(token string) [32]byte {
	return sha256.Sum256([]byte(token))
}

// Authenticator checks bearer credentials for every tenant. It is safe for concurrent use.
type Authenticator struct {
	tenants  map[string]*tenantAuth
	failures *failureTable
	log      *slog.Logger
}

type tenantAuth struct {
	hashes []byte // concatenated 32-byte digests
	jwt    *jwtVerifier
}

// New validates the tenants and options and builds an Authenticator. JWKS files are read here;
// JWKS URLs are fetched on first use.
func New(tenants []Tenant, opts Options) (*Authenticator, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	if opts.MaxFailures < 0 {
		return nil, fmt.Errorf("auth options: MaxFailures %d is negative", opts.MaxFailures)
	}
	if opts.Window < 0 {
		return nil, fmt.Errorf("auth options: Window %s is negative", opts.Window)
	}
	if opts.Leeway < 0 {
		return nil, fmt.Errorf("auth options: Leeway %s is negative", opts.Leeway)
	}
	maxFailures, window, leeway := opts.MaxFailures, opts.Window, opts.Leeway
	if maxFailures == 0 {
		maxFailures = DefaultMaxFailures
	}
	if window == 0 {
		window = DefaultWindow
	}
	if leeway == 0 {
		leeway = DefaultLeeway
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: DefaultHTTPTimeout}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	a := &Authenticator{
		tenants:  make(map[string]*tenantAuth, len(tenants)),
		failures: newFailureTable(now, maxFailures, window, maxTrackedAddresses),
		log:      logger,
	}
	emptyHash := HashToken("")
	for i, t := range tenants {
		if t.Name == "" {
			return nil, fmt.Errorf("tenant %d: empty name", i)
		}
		if _, dup := a.tenants[t.Name]; dup {
			return nil, fmt.Errorf("tenant %q: defined twice", t.Name)
		}
		if len(t.TokenHashes) == 0 && t.JWT == nil {
			return nil, fmt.Errorf("tenant %q: no token hashes and no JWT: nothing could authenticate", t.Name)
		}
		ta := &tenantAuth{hashes: make([]byte, 0, 32*len(t.TokenHashes))}
		for j, h := range t.TokenHashes {
			// An unset secret environment variable typically ends up as the hash of "" or as zeros.
			if h == emptyHash || h == ([32]byte{}) {
				return nil, fmt.Errorf("tenant %q: token hash %d is empty or the hash of an empty token", t.Name, j)
			}
			ta.hashes = append(ta.hashes, h[:]...)
		}
		if t.JWT != nil {
			v, err := newJWTVerifier(t.Name, *t.JWT, now, leeway, client, logger)
			if err != nil {
				return nil, fmt.Errorf("tenant %q: %w", t.Name, err)
			}
			ta.jwt = v
		}
		a.tenants[t.Name] = ta
	}
	return a, nil
}

// Authenticate checks r's Authorization header for tenant. It returns nil, or an error that is *Error:
// 401 for missing or wrong credentials, 429 when the client address has failed too often recently.
// Credentials are checked before the lockout, so valid credentials always pass.
func (a *Authenticator) Authenticate(r *http.Request, tenant string) error {
	detail := a.check(r, tenant)
	if detail == "" {
		return nil
	}
	addr := clientAddr(r.RemoteAddr)
	retry, locked, first := a.failures.fail(addr)
	if locked {
		if first {
			a.log.Warn("authentication lockout", "client", addr, "tenant", tenant, "retry_after", retry)
		}
		return &Error{Status: http.StatusTooManyRequests, Detail: detailTooManyFails, RetryAfter: retry}
	}
	return &Error{Status: http.StatusUnauthorized, Detail: detail}
}

// check returns "" when the request carries valid credentials for tenant, else the failure detail.
func (a *Authenticator) check(r *http.Request, tenant string) string {
	token, detail := bearerToken(r.Header)
	if detail != "" {
		return detail
	}
	ta := a.tenants[tenant]
	if ta == nil {
		return detailInvalid
	}
	if ta.matchStatic(token) {
		return ""
	}
	if ta.jwt == nil {
		return detailInvalid
	}
	return ta.jwt.verify(r.Context(), token)
}

// matchStatic compares the token's digest with every hash of the tenant, without an early exit, so
// that timing reveals neither which hash matched nor how many there are beyond their count.
func (ta *tenantAuth) matchStatic(token string) bool {
	sum := HashToken(token)
	match := 0
	for h := range chunks32(ta.hashes) {
		match |= subtle.ConstantTimeCompare(sum[:], h)
	}
	return match == 1
}

func chunks32(b []byte) func(func([]byte) bool) {
	return func(yield func([]byte) bool) {
		for len(b) >= 32 {
			if !yield(b[:32]) {
				return
			}
			b = b[32:]
		}
	}
}

// bearerToken extracts the token from "Authorization: Bearer <token>". The scheme is matched
// case-insensitively (RFC 9110 section 11.1) and surrounding whitespace is trimmed.
func bearerToken(h http.Header) (token, detail string) {
	values := h.Values("Authorization")
	switch len(values) {
	case 0:
		return "", detailMissing
	case 1:
	default:
		// Guess: two headers are ambiguous (a proxy may have added one); refuse rather than pick.
		return "", detailMultiple
	}
	v := strings.Trim(values[0], " \t")
	if v == "" {
		return "", detailMissing
	}
	scheme, rest := v, ""
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		scheme, rest = v[:i], v[i+1:]
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", detailScheme
	}
	token = strings.Trim(rest, " \t")
	switch {
	case token == "":
		return "", detailEmpty
	case len(token) > maxTokenLen:
		return "", detailTooLong
	case strings.ContainsAny(token, " \t\r\n\x00"):
		return "", detailInvalid
	}
	return token, ""
}

// clientAddr is the host part of RemoteAddr, normalised so that one client has one key
// (IPv4-mapped IPv6 is unmapped, zones dropped). Unparsable values are used as they are.
func clientAddr(remote string) string {
	host := remote
	if h, _, err := net.SplitHostPort(remote); err == nil {
		host = h
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.Unmap().WithZone("").String()
	}
	return host
}
