package admin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Webhook headers: the caller signs "<timestamp>.<body>" with the shared
// secret (HMAC-SHA256) and sends the timestamp and the hex digest.
const (
	TimestampHeader = "X-Scimbridge-Timestamp"
	SignatureHeader = "X-Scimbridge-Signature"
	signaturePrefix = "sha256="
	// WebhookWindow is how far the signed timestamp may be from our clock,
	// in either direction.
	WebhookWindow = 5 * time.Minute
)

// Sign returns the X-Scimbridge-Signature value for body sent with the
// X-Scimbridge-Timestamp value ts; callers and tests use it to sign.
func Sign(secret []byte, ts string, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// webhookError is a refused webhook call: the status and what to tell the
// caller (never the expected signature or the secret).
type webhookError struct {
	status int
	code   string
	detail string
}

func (e *webhookError) Error() string { return e.detail }

func refused(detail string) *webhookError {
	return &webhookError{status: http.StatusUnauthorized, code: "unauthorized", detail: detail}
}

// verifier checks webhook signatures and remembers the accepted ones until
// their timestamp leaves the window, so a captured request cannot be played
// again. Its memory settles concurrent copies of one call at once and
// bounds how many live signatures are kept; the store (RememberSignature)
// keeps them across a restart.
type verifier struct {
	secret []byte
	window time.Duration
	max    int

	mu   sync.Mutex
	seen map[string]time.Time // timestamp "." signature -> when it stops mattering
}

func newVerifier(secret []byte, max int) *verifier {
	return &verifier{secret: append([]byte(nil), secret...), window: WebhookWindow, max: max, seen: map[string]time.Time{}}
}

// maxTimestampDigits bounds the timestamp header: unix seconds have 10
// digits until the year 2286; 12 leave room without overflow worries.
const maxTimestampDigits = 12

// replayed is the refusal of a signature accepted before.
func replayed() *webhookError {
	return refused("this signature was already used; sign each call with a fresh timestamp")
}

// verify accepts a call whose signature is right, whose timestamp is within
// the window of now, and which was not accepted before (by this process).
// It returns the replay key of the call and when it stops mattering, for
// the store to remember too; forget undoes the acceptance when that fails.
// The MAC is checked before the window and the replay cache, so only
// correctly signed calls can ever occupy the cache.
func (v *verifier) verify(now time.Time, tsHeader, sigHeader string, body []byte) (key string, expires time.Time, _ *webhookError) {
	if tsHeader == "" || sigHeader == "" {
		return "", time.Time{}, refused(fmt.Sprintf("both %s and %s headers are required", TimestampHeader, SignatureHeader))
	}
	if len(tsHeader) > maxTimestampDigits || strings.Trim(tsHeader, "0123456789") != "" {
		return "", time.Time{}, refused(TimestampHeader + " must be unix seconds (decimal digits)")
	}
	ts, err := strconv.ParseInt(tsHeader, 10, 64)
	if err != nil {
		return "", time.Time{}, refused(TimestampHeader + " must be unix seconds (decimal digits)")
	}
	hexSig, ok := strings.CutPrefix(sigHeader, signaturePrefix)
	if !ok || len(hexSig) != 2*sha256.Size {
		return "", time.Time{}, refused(SignatureHeader + ` must be "sha256=" followed by 64 hex digits`)
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil {
		return "", time.Time{}, refused(SignatureHeader + ` must be "sha256=" followed by 64 hex digits`)
	}
	if !hmac.Equal(got, mac(v.secret, tsHeader, body)) {
		return "", time.Time{}, refused("the signature does not match the body and timestamp")
	}
	at := time.Unix(ts, 0)
	if d := now.Sub(at); d > v.window || d < -v.window {
		return "", time.Time{}, refused(fmt.Sprintf("the timestamp is more than %v away from the server's clock", v.window))
	}
	key = tsHeader + "." + strings.ToLower(hexSig)
	expires = at.Add(v.window)
	if err := v.remember(now, key, expires); err != nil {
		return "", time.Time{}, err
	}
	return key, expires, nil
}

// remember adds key to the cache unless it is there already (a replay) or
// the cache is full of live signatures.
func (v *verifier) remember(now time.Time, key string, expires time.Time) *webhookError {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, dup := v.seen[key]; dup {
		return replayed()
	}
	if len(v.seen) >= v.max {
		for k, exp := range v.seen {
			if !now.Before(exp) {
				delete(v.seen, k)
			}
		}
	}
	if len(v.seen) >= v.max {
		// Guess: refusing is safer than forgetting a live signature, which
		// would make it replayable. Only correctly signed calls get here, so
		// only a secret holder can fill the cache.
		return &webhookError{status: http.StatusTooManyRequests, code: "too_many_requests",
			detail: "too many webhook calls within the signature window; try again later"}
	}
	v.seen[key] = expires
	return nil
}

// forget drops key from the cache: the call it belongs to was not accepted
// after all (the store could not record it), so a retry must not be
// refused as a replay.
func (v *verifier) forget(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.seen, key)
}

// webhookHandler serves POST /api/v1/webhooks/reconcile.
func (a *API) webhookHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method_not_allowed", r.Method+" is not allowed here; use POST")
		return
	}
	if a.webhook == nil {
		writeError(w, http.StatusForbidden, "forbidden",
			"the reconcile webhook is disabled: no webhook secret is configured (webhook.secret_env)")
		return
	}
	q := r.URL.Query()
	if q.Has("dry_run") || q.Has("force") {
		// Guess: the query string is not signed, so anyone on the path could
		// add force=true to a captured call; the webhook starts plain runs
		// only. Dry runs and forced runs go through the admin token.
		badRequest(w, "dry_run and force are not accepted on the webhook (the query string is not signed); use POST /api/v1/reconcile with the admin token")
		return
	}
	body, ok := a.readBody(w, r)
	if !ok {
		return
	}
	now := a.now()
	key, expires, werr := a.webhook.verify(now, r.Header.Get(TimestampHeader), r.Header.Get(SignatureHeader), body)
	if werr == nil {
		// The cache forgets on restart; the store does not, so a call
		// captured before a restart is still refused within its window.
		fresh, err := a.st.RememberSignature(r.Context(), key, expires, now)
		if err != nil {
			a.webhook.forget(key)
			a.internalError(w, r, "recording the webhook signature", err)
			return
		}
		if !fresh {
			werr = replayed()
		}
	}
	if werr != nil {
		a.log.WarnContext(r.Context(), "admin api: webhook refused", "reason", werr.detail, "remote", r.RemoteAddr)
		writeError(w, werr.status, werr.code, werr.detail)
		return
	}
	a.trigger(w, r, TriggerRequest{Trigger: TriggerWebhook})
}
