package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// minHS256Secret is the shortest accepted HS256 secret: RFC 7518 section 3.2 requires a key at
// least as long as the hash output (256 bits).
const minHS256Secret = 32

// jwtVerifier validates bearer JWTs for one tenant. Exactly one of secret, keys and remote is set.
type jwtVerifier struct {
	parser *jwt.Parser
	secret []byte      // HS256
	keys   []publicKey // JWKSFile
	remote *remoteKeys // JWKSURL
}

var (
	errBadKid = errors.New("kid header is not a string")
	errNoKey  = errors.New("no key matches the token's kid and alg")
)

func newJWTVerifier(tenant string, c JWT, now func() time.Time, leeway time.Duration, client *http.Client, log *slog.Logger) (*jwtVerifier, error) {
	if c.Issuer == "" {
		return nil, errors.New("jwt: issuer is required")
	}
	if len(c.Audiences) == 0 {
		// jwt/v5 skips the aud check for an empty list, which would accept tokens minted for any
		// other service by the same issuer.
		return nil, errors.New("jwt: at least one audience is required")
	}
	for i, aud := range c.Audiences {
		if aud == "" {
			return nil, fmt.Errorf("jwt: audience %d is empty", i)
		}
	}
	sources := 0
	for _, set := range []bool{len(c.HS256Secret) > 0, c.JWKSFile != "", c.JWKSURL != ""} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return nil, fmt.Errorf("jwt: exactly one of HS256Secret, JWKSFile and JWKSURL must be set, got %d", sources)
	}

	v := &jwtVerifier{}
	methods := []string{jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg()}
	switch {
	case len(c.HS256Secret) > 0:
		if len(c.HS256Secret) < minHS256Secret {
			return nil, fmt.Errorf("jwt: HS256 secret is %d bytes, need at least %d", len(c.HS256Secret), minHS256Secret)
		}
		v.secret = append([]byte(nil), c.HS256Secret...)
		methods = []string{jwt.SigningMethodHS256.Alg()}
	case c.JWKSFile != "":
		keys, err := readJWKSFile(c.JWKSFile)
		if err != nil {
			return nil, fmt.Errorf("jwt: %w", err)
		}
		v.keys = keys
	default:
		u, err := url.Parse(c.JWKSURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, errors.New("jwt: JWKS URL must be an absolute http or https URL")
		}
		v.remote = newRemoteKeys(tenant, u, client, now, log)
	}

	v.parser = jwt.NewParser(
		// Pinning the methods is what rejects "none" and an HS256 token "signed" with a public key.
		jwt.WithValidMethods(methods),
		jwt.WithIssuer(c.Issuer),
		jwt.WithAudience(c.Audiences...), // any one of them suffices
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
		// Strict base64 makes the signature encoding canonical, so a token cannot be altered into
		// another string that still verifies.
		jwt.WithStrictDecoding(),
	)
	return v, nil
}

// verify returns "" for a valid token, else a fixed failure detail.
func (v *jwtVerifier) verify(ctx context.Context, token string) string {
	var claims jwt.RegisteredClaims
	_, err := v.parser.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		return v.keyFor(ctx, t)
	})
	if err == nil {
		return ""
	}
	// Claims are validated only after the signature verified, so these details are told only to
	// holders of a genuinely signed token.
	switch {
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return detailNoClaim
	case errors.Is(err, jwt.ErrTokenExpired):
		return detailExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return detailNotYetValid
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return detailIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return detailAudience
	}
	return detailInvalid
}

// keyFor is the jwt.Keyfunc: the method is already checked against the pinned list.
func (v *jwtVerifier) keyFor(ctx context.Context, t *jwt.Token) (any, error) {
	if v.secret != nil {
		return v.secret, nil
	}
	var kid string
	if raw, ok := t.Header["kid"]; ok {
		s, ok := raw.(string)
		if !ok {
			return nil, errBadKid
		}
		kid = s
	}
	alg := t.Method.Alg()
	var keys []jwt.VerificationKey
	if v.remote != nil {
		keys = v.remote.find(ctx, kid, alg)
	} else {
		keys = selectKeys(v.keys, kid, alg)
	}
	switch len(keys) {
	case 0:
		return nil, errNoKey
	case 1:
		return keys[0], nil
	}
	return jwt.VerificationKeySet{Keys: keys}, nil
}

// selectKeys returns the keys for alg with the given kid, or every key for alg when kid is empty.
func selectKeys(keys []publicKey, kid, alg string) []jwt.VerificationKey {
	var out []jwt.VerificationKey
	for _, k := range keys {
		if k.alg == alg && (kid == "" || k.kid == kid) {
			out = append(out, k.key)
		}
	}
	return out
}
