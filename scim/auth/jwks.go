package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// maxJWKSBytes bounds a JWKS document; real ones are a few kB.
	maxJWKSBytes = 1 << 20
	// refetchInterval is the least time between two fetches of a JWKS URL.
	refetchInterval = time.Minute
	// minRSABits: Guess: 2048 is the NIST minimum and what every major IdP publishes.
	minRSABits = 2048
)

// publicKey is one usable verification key from a JWKS.
type publicKey struct {
	kid string
	alg string // "RS256" or "ES256"
	key any    // *rsa.PublicKey or *ecdsa.PublicKey
}

// jsonWebKey holds the RFC 7517/7518 members this package reads; others are ignored.
type jsonWebKey struct {
	Kty string `json:"kty"`
	Use string `json:"use"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	N   string `json:"n"`
	E   string `json:"e"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
}

func readJWKSFile(path string) ([]publicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read JWKS file: %w", err)
	}
	keys, err := parseJWKS(data)
	if err != nil {
		return nil, fmt.Errorf("JWKS file %q: %w", path, err)
	}
	return keys, nil
}

// parseJWKS returns the RS256 and ES256 (P-256) signing keys of a JWKS. Keys meant for encryption,
// of another type or curve, or labelled with another alg are skipped; a malformed RSA or P-256 key
// is an error, because it means the document is not what its publisher intended.
func parseJWKS(data []byte) ([]publicKey, error) {
	var set struct {
		Keys []jsonWebKey `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return nil, fmt.Errorf("parse JWKS: %w", err)
	}
	var keys []publicKey
	for i, k := range set.Keys {
		if k.Use != "" && k.Use != "sig" {
			continue
		}
		var (
			pk  any
			alg string
			err error
		)
		switch {
		case k.Kty == "RSA" && (k.Alg == "" || k.Alg == "RS256"):
			alg = "RS256"
			pk, err = parseRSAKey(k)
		case k.Kty == "EC" && k.Crv == "P-256" && (k.Alg == "" || k.Alg == "ES256"):
			alg = "ES256"
			pk, err = parseECKey(k)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("JWKS key %d (kid %q): %w", i, k.Kid, err)
		}
		keys = append(keys, publicKey{kid: k.Kid, alg: alg, key: pk})
	}
	if len(keys) == 0 {
		return nil, errors.New("JWKS has no usable RS256 or ES256 signing key")
	}
	return keys, nil
}

func parseRSAKey(k jsonWebKey) (*rsa.PublicKey, error) {
	nb, err := decodeB64URL(k.N)
	if err != nil {
		return nil, fmt.Errorf("rsa modulus n: %w", err)
	}
	eb, err := decodeB64URL(k.E)
	if err != nil {
		return nil, fmt.Errorf("rsa exponent e: %w", err)
	}
	n := new(big.Int).SetBytes(nb)
	if n.BitLen() < minRSABits {
		return nil, fmt.Errorf("rsa modulus has %d bits, need at least %d", n.BitLen(), minRSABits)
	}
	if n.Bit(0) == 0 {
		return nil, errors.New("rsa modulus is even")
	}
	e := new(big.Int).SetBytes(eb)
	if !e.IsInt64() || e.Int64() < 3 || e.Int64() > 1<<31-1 || e.Bit(0) == 0 {
		return nil, errors.New("rsa exponent must be odd and between 3 and 2^31-1")
	}
	return &rsa.PublicKey{N: n, E: int(e.Int64())}, nil
}

func parseECKey(k jsonWebKey) (*ecdsa.PublicKey, error) {
	x, err := decodeB64URL(k.X)
	if err != nil {
		return nil, fmt.Errorf("ec x: %w", err)
	}
	y, err := decodeB64URL(k.Y)
	if err != nil {
		return nil, fmt.Errorf("ec y: %w", err)
	}
	// RFC 7518 section 6.2.1.2: coordinates are the full field size, 32 bytes for P-256.
	if len(x) != 32 || len(y) != 32 {
		return nil, errors.New("ec P-256 coordinates must be 32 bytes each")
	}
	point := append(append([]byte{4}, x...), y...)
	pk, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point)
	if err != nil {
		return nil, fmt.Errorf("ec P-256 point: %w", err)
	}
	return pk, nil
}

// decodeB64URL decodes base64url, tolerating the padding that some publishers add.
func decodeB64URL(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("missing")
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, errors.New("not base64url")
	}
	return b, nil
}

// remoteKeys caches the keys of a JWKS URL. It fetches on first use and again when a token asks
// for a key it does not have, at most once per refetchInterval; a failed fetch keeps the old keys.
type remoteKeys struct {
	tenant  string
	url     string
	safeURL string // without userinfo, query or fragment, for logs
	client  *http.Client
	now     func() time.Time
	log     *slog.Logger

	// fetchMu serialises fetches: concurrent requests for an unknown kid wait for the one fetch in
	// flight and then look again instead of each fetching.
	fetchMu sync.Mutex

	mu        sync.Mutex // guards the fields below
	keys      []publicKey
	attempted bool
	lastFetch time.Time
}

func newRemoteKeys(tenant string, u *url.URL, client *http.Client, now func() time.Time, log *slog.Logger) *remoteKeys {
	safe := *u
	safe.User, safe.RawQuery, safe.ForceQuery, safe.Fragment, safe.RawFragment = nil, "", false, "", ""
	return &remoteKeys{tenant: tenant, url: u.String(), safeURL: safe.String(), client: client, now: now, log: log}
}

// find returns the keys for kid and alg (every key for alg when kid is empty), fetching if needed.
func (rk *remoteKeys) find(ctx context.Context, kid, alg string) []jwt.VerificationKey {
	if keys, _, _ := rk.lookup(kid, alg); len(keys) > 0 {
		return keys
	}
	rk.fetchMu.Lock()
	defer rk.fetchMu.Unlock()
	// Another request may have fetched while this one waited.
	keys, attempted, last := rk.lookup(kid, alg)
	if len(keys) > 0 {
		return keys
	}
	if attempted && rk.now().Sub(last) <= refetchInterval {
		return nil
	}
	rk.fetch(ctx)
	keys, _, _ = rk.lookup(kid, alg)
	return keys
}

func (rk *remoteKeys) lookup(kid, alg string) (keys []jwt.VerificationKey, attempted bool, last time.Time) {
	rk.mu.Lock()
	defer rk.mu.Unlock()
	return selectKeys(rk.keys, kid, alg), rk.attempted, rk.lastFetch
}

// fetch replaces the cached keys with the URL's current ones; on failure it logs and keeps them.
// The caller holds fetchMu.
func (rk *remoteKeys) fetch(ctx context.Context) {
	rk.mu.Lock()
	rk.attempted, rk.lastFetch = true, rk.now()
	rk.mu.Unlock()

	keys, err := rk.get(ctx)
	if err != nil {
		rk.log.Warn("fetch JWKS; keeping previous keys", "tenant", rk.tenant, "url", rk.safeURL, "err", err)
		return
	}
	rk.mu.Lock()
	rk.keys = keys
	rk.mu.Unlock()
}

func (rk *remoteKeys) get(ctx context.Context) ([]publicKey, error) {
	// The fetch serves every waiting request, so one caller going away must not abort it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultHTTPTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rk.url, nil)
	if err != nil {
		return nil, errors.New("build request")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := rk.client.Do(req)
	if err != nil {
		// *url.Error repeats the full URL, which may carry credentials in its query.
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err
		}
		return nil, fmt.Errorf("get: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get: status %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("body exceeds %d bytes", maxJWKSBytes)
	}
	return parseJWKS(body)
}
