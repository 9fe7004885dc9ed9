package admin_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/scimbridge/scimbridge/admin"
)

// FuzzJSONBodies sends arbitrary bodies to every endpoint that reads one,
// over a real server: never a 5xx, never a panic (the server would log it
// and drop the connection, which fails the request).
func FuzzJSONBodies(f *testing.F) {
	for _, b := range []string{
		`{"tenant":"okta","user":{"userName":"a@b.c","emails":[{"value":"a@b.c"}]},"groups":["jira-users"]}`,
		`{"tenant":"strict","user":{"userName":"x","displayName":"y","emails":"z"}}`,
		`{"tenant":"okta","user":{"userName":{"value":[[[[1]]]]}},"groups":[null]}`,
		`{"target":"jira","username":"alice"}`,
		`{"target":"jira","username":"\u0000"}`,
		`{"target":"confluence","username":"bob","x":1}`,
		`[]`, `null`, `"x"`, `{`, `{"tenant":1}`, `{"user":{}}`, "\xff\xfe", ``,
	} {
		for ep := range uint8(3) {
			f.Add(ep, []byte(b))
		}
	}
	h := newHarness(f, func(o *admin.Options) { o.MaxBodyBytes = 4096 })
	h.seedLinks()
	f.Fuzz(func(t *testing.T, ep uint8, body []byte) {
		h := *h // the harness reports to this run's t, not to f
		h.t = t
		var r resp
		switch ep % 3 {
		case 0:
			r = h.admin(http.MethodPost, "/api/v1/preview", string(body))
		case 1:
			r = h.admin(http.MethodPost, "/api/v1/login-events", string(body))
		case 2:
			ts := strconv.FormatInt(epoch.Unix(), 10)
			sig := "sha256=00"
			if len(body)%2 == 0 { // half the bodies are signed properly
				sig = admin.Sign(webhookSecret, ts, body)
			}
			r = h.request(http.MethodPost, "/api/v1/webhooks/reconcile", "", body, map[string]string{
				admin.TimestampHeader: ts, admin.SignatureHeader: sig})
		}
		if r.status >= 500 {
			t.Fatalf("endpoint %d: %d %s for body %q", ep%3, r.status, r.body, body)
		}
		if r.status >= 400 {
			wantError(t, r, r.status, errorCode(r.status), "")
		}
	})
}

// errorCode is the code each 4xx status carries.
func errorCode(status int) string {
	return map[int]string{
		http.StatusBadRequest: "bad_request", http.StatusUnauthorized: "unauthorized", http.StatusNotFound: "not_found",
		http.StatusRequestEntityTooLarge: "payload_too_large", http.StatusUnprocessableEntity: "mapping_failed",
		http.StatusTooManyRequests: "too_many_requests",
	}[status]
}
