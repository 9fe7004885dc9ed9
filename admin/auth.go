package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// authenticate lets through requests bearing the admin token. Only the
// token's SHA-256 is kept, and digests are compared in constant time, so
// neither the comparison's timing nor a memory dump reveals the token. A
// tenant's SCIM token is a different secret and simply does not match.
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !a.enabled {
			writeError(w, http.StatusForbidden, "forbidden",
				"the admin API is disabled: no admin token is configured (admin.token_env)")
			return
		}
		token, ok := bearer(r)
		if !ok {
			unauthorized(w, "send the admin token as Authorization: Bearer <token>")
			return
		}
		sum := sha256.Sum256([]byte(token))
		if subtle.ConstantTimeCompare(sum[:], a.tokenHash[:]) != 1 {
			unauthorized(w, "the bearer token is not the admin token")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// bearer extracts the token of an "Authorization: Bearer <token>" header;
// the scheme is case-insensitive (RFC 9110 section 11.1).
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func unauthorized(w http.ResponseWriter, detail string) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="scimbridge-admin"`)
	writeError(w, http.StatusUnauthorized, "unauthorized", detail)
}
