package admin_test

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/admin"
)

// runKeys are the keys of a run object, exactly.
var runKeys = []string{"counts", "error", "finished_at", "id", "kind", "started_at", "status", "trigger"}

func TestReconcileTrigger(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		query string
		want  admin.TriggerRequest
		kind  string
	}{
		{"", admin.TriggerRequest{Trigger: "api"}, "reconcile"},
		{"?dry_run=true", admin.TriggerRequest{Trigger: "api", DryRun: true}, "dry-run"},
		{"?dry_run=true&force=true", admin.TriggerRequest{Trigger: "api", DryRun: true, Force: true}, "dry-run"},
		{"?force=1&dry_run=false", admin.TriggerRequest{Trigger: "api", Force: true}, "reconcile"},
	}
	for i, c := range cases {
		r := h.admin(http.MethodPost, "/api/v1/reconcile"+c.query, "")
		if r.status != http.StatusAccepted {
			t.Fatalf("%q: status %d %s", c.query, r.status, r.body)
		}
		m := r.json(t)
		if got := keys(m); !slices.Equal(got, runKeys) {
			t.Errorf("%q: run keys %v, want %v", c.query, got, runKeys)
		}
		if m["id"] != float64(i+1) || m["kind"] != c.kind || m["trigger"] != "api" || m["status"] != "queued" ||
			m["finished_at"] != nil || m["error"] != "" {
			t.Errorf("%q: run %v", c.query, m)
		}
		if counts, ok := m["counts"].(map[string]any); !ok || len(counts) != 0 {
			t.Errorf("%q: counts %v, want {}", c.query, m["counts"])
		}
		if m["started_at"] != epoch.Format(time.RFC3339) {
			t.Errorf("%q: started_at %v, want %s", c.query, m["started_at"], epoch.Format(time.RFC3339))
		}
		calls := h.rec.calls()
		if got := calls[len(calls)-1]; got != c.want {
			t.Errorf("%q: reconciler got %+v, want %+v", c.query, got, c.want)
		}
	}
	n := len(h.rec.calls())
	for _, q := range []string{"?dry_run=maybe", "?force=yes%20please", "?dry_run="} {
		r := h.admin(http.MethodPost, "/api/v1/reconcile"+q, "")
		if q == "?dry_run=" {
			// An empty value is the same as absent.
			if r.status != http.StatusAccepted {
				t.Errorf("%q: %d %s", q, r.status, r.body)
			}
			n++
			continue
		}
		wantError(t, r, http.StatusBadRequest, "bad_request", "must be true or false")
	}
	if got := len(h.rec.calls()); got != n {
		t.Errorf("reconciler called %d times, want %d (bad flags trigger nothing)", got, n)
	}
}

func TestReconcileTriggerError(t *testing.T) {
	h := newHarness(t, nil)
	h.rec.err = errBoom
	r := h.admin(http.MethodPost, "/api/v1/reconcile", "")
	wantError(t, r, http.StatusInternalServerError, "internal", "see the server log")
	if strings.Contains(string(r.body), "disk on fire") {
		t.Errorf("internal error text in the response: %s", r.body)
	}
	if !strings.Contains(h.logs.String(), "disk on fire") {
		t.Errorf("the error is not in the log:\n%s", h.logs.String())
	}
}

// signedWebhook sends a webhook call signed for timestamp ts.
func (h *harness) signedWebhook(ts int64, body []byte) resp {
	h.t.Helper()
	s := strconv.FormatInt(ts, 10)
	return h.request(http.MethodPost, "/api/v1/webhooks/reconcile", "", body, map[string]string{
		admin.TimestampHeader: s,
		admin.SignatureHeader: admin.Sign(webhookSecret, s, body),
	})
}

func TestWebhook(t *testing.T) {
	h := newHarness(t, nil)
	body := []byte(`{"event":"okta.group.changed"}`)
	accepted := 0
	accept := func(name string, r resp) {
		t.Helper()
		if r.status != http.StatusAccepted {
			t.Fatalf("%s: status %d %s, want 202", name, r.status, r.body)
		}
		accepted++
		m := r.json(t)
		if !slices.Equal(keys(m), runKeys) || m["trigger"] != "webhook" || m["status"] != "queued" {
			t.Errorf("%s: run %v", name, m)
		}
	}
	refuse := func(name string, r resp, detail string) {
		t.Helper()
		wantError(t, r, http.StatusUnauthorized, "unauthorized", detail)
		h.noSecrets(r.body)
	}
	now := epoch.Unix()
	ts := strconv.FormatInt(now, 10)

	accept("good signature", h.signedWebhook(now, body))
	accept("empty body", h.signedWebhook(now, nil))
	accept("exactly 5 minutes old", h.signedWebhook(now-300, body))
	accept("exactly 5 minutes ahead", h.signedWebhook(now+300, body))
	refuse("6 minutes old", h.signedWebhook(now-301, body), "more than 5m0s away")
	refuse("6 minutes ahead", h.signedWebhook(now+301, body), "more than 5m0s away")
	refuse("replay", h.signedWebhook(now, body), "already used")

	post := func(hdr map[string]string, b []byte) resp {
		return h.request(http.MethodPost, "/api/v1/webhooks/reconcile", "", b, hdr)
	}
	sig := admin.Sign(webhookSecret, ts, body)
	refuse("no headers", post(nil, body), "headers are required")
	refuse("no signature", post(map[string]string{admin.TimestampHeader: ts}, body), "headers are required")
	refuse("no timestamp", post(map[string]string{admin.SignatureHeader: sig}, body), "headers are required")
	refuse("tampered body", post(map[string]string{admin.TimestampHeader: ts, admin.SignatureHeader: sig},
		[]byte(`{"event":"okta.group.changeD"}`)), "does not match")
	refuse("other timestamp, same signature", post(map[string]string{
		admin.TimestampHeader: strconv.FormatInt(now+1, 10), admin.SignatureHeader: sig}, body), "does not match")
	refuse("wrong secret", post(map[string]string{admin.TimestampHeader: strconv.FormatInt(now+2, 10),
		admin.SignatureHeader: admin.Sign([]byte("other"), strconv.FormatInt(now+2, 10), body)}, body), "does not match")
	refuse("bad signature hex", post(map[string]string{admin.TimestampHeader: ts,
		admin.SignatureHeader: "sha256=" + strings.Repeat("zz", 32)}, body), "64 hex digits")
	refuse("no sha256= prefix", post(map[string]string{admin.TimestampHeader: ts,
		admin.SignatureHeader: strings.TrimPrefix(sig, "sha256=")}, body), "64 hex digits")
	refuse("short signature", post(map[string]string{admin.TimestampHeader: ts, admin.SignatureHeader: sig[:40]}, body), "64 hex digits")
	for _, bad := range []string{"-1", "1e9", "17000000000000", "0x10", "abc"} {
		refuse("timestamp "+bad, post(map[string]string{admin.TimestampHeader: bad,
			admin.SignatureHeader: admin.Sign(webhookSecret, bad, body)}, body), "unix seconds")
	}
	// A signature with upper-case hex is the same signature: still a replay.
	refuse("replay in upper case", post(map[string]string{admin.TimestampHeader: ts,
		admin.SignatureHeader: "sha256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256="))}, body), "already used")

	// Once the clock moves past the window the old call is stale as well.
	h.clock.Advance(10 * time.Minute)
	refuse("replay after the window", h.signedWebhook(now, body), "more than 5m0s away")
	accept("fresh call after the window", h.signedWebhook(epoch.Add(10*time.Minute).Unix(), body))

	// The admin token is not a webhook credential.
	r := h.request(http.MethodPost, "/api/v1/webhooks/reconcile", adminToken, body, nil)
	refuse("admin token instead of a signature", r, "headers are required")

	calls := h.rec.calls()
	if len(calls) != accepted {
		t.Fatalf("reconciler called %d times, want %d (refused calls trigger nothing)", len(calls), accepted)
	}
	for _, c := range calls {
		if c != (admin.TriggerRequest{Trigger: "webhook"}) {
			t.Errorf("reconciler got %+v, want a plain webhook trigger", c)
		}
	}
	if !strings.Contains(h.logs.String(), "webhook refused") {
		t.Error("refused webhooks are not logged")
	}
}

func TestWebhookRefusesOtherInput(t *testing.T) {
	h := newHarness(t, func(o *admin.Options) { o.MaxBodyBytes = 64 })
	ts := strconv.FormatInt(epoch.Unix(), 10)
	big := []byte(strings.Repeat("x", 65))
	r := h.request(http.MethodPost, "/api/v1/webhooks/reconcile", "", big, map[string]string{
		admin.TimestampHeader: ts, admin.SignatureHeader: admin.Sign(webhookSecret, ts, big)})
	wantError(t, r, http.StatusRequestEntityTooLarge, "payload_too_large", "larger than 64 bytes")

	body := []byte("{}")
	hdr := map[string]string{admin.TimestampHeader: ts, admin.SignatureHeader: admin.Sign(webhookSecret, ts, body)}
	r = h.request(http.MethodPost, "/api/v1/webhooks/reconcile?force=true", "", body, hdr)
	wantError(t, r, http.StatusBadRequest, "bad_request", "not signed")
	r = h.request(http.MethodGet, "/api/v1/webhooks/reconcile", "", nil, hdr)
	wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
	if n := len(h.rec.calls()); n != 0 {
		t.Errorf("reconciler called %d times", n)
	}
	// The refusals above did not burn the signature: it still works once.
	r = h.request(http.MethodPost, "/api/v1/webhooks/reconcile", "", body, hdr)
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d %s", r.status, r.body)
	}
}

func TestWebhookDisabled(t *testing.T) {
	h := newHarness(t, func(o *admin.Options) { o.WebhookSecret = nil })
	r := h.signedWebhook(epoch.Unix(), []byte("{}"))
	wantError(t, r, http.StatusForbidden, "forbidden", "webhook is disabled")
	if n := len(h.rec.calls()); n != 0 {
		t.Errorf("reconciler called %d times", n)
	}
}

// TestWebhookConcurrentReplay sends one signed call many times at once:
// exactly one may start a run.
func TestWebhookConcurrentReplay(t *testing.T) {
	h := newHarness(t, nil)
	body := []byte(`{"n":1}`)
	const n = 16
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { statuses[i] = h.signedWebhook(epoch.Unix(), body).status })
	}
	wg.Wait()
	ok := 0
	for _, s := range statuses {
		switch s {
		case http.StatusAccepted:
			ok++
		case http.StatusUnauthorized:
		default:
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 || len(h.rec.calls()) != 1 {
		t.Errorf("%d accepted, %d triggers; want exactly 1 of each (statuses %v)", ok, len(h.rec.calls()), statuses)
	}
}

func TestWebhookReplayCacheBound(t *testing.T) {
	h := newHarness(t, func(o *admin.Options) { o.ReplayCacheSize = 3 })
	now := epoch.Unix()
	for i := range 3 {
		if r := h.signedWebhook(now, []byte{byte('a' + i)}); r.status != http.StatusAccepted {
			t.Fatalf("call %d: %d %s", i, r.status, r.body)
		}
	}
	// Full of live signatures: forgetting one would make it replayable, so
	// a new call is refused instead.
	r := h.signedWebhook(now, []byte("d"))
	wantError(t, r, http.StatusTooManyRequests, "too_many_requests", "try again later")
	if r := h.signedWebhook(now, []byte("a")); r.status != http.StatusUnauthorized {
		t.Errorf("replay while full: %d, want 401", r.status)
	}
	// Past the window the old entries expire and make room.
	h.clock.Advance(5*time.Minute + time.Second)
	later := epoch.Add(5*time.Minute + time.Second).Unix()
	for i := range 3 {
		if r := h.signedWebhook(later, []byte{byte('x' + i)}); r.status != http.StatusAccepted {
			t.Fatalf("call %d after expiry: %d %s", i, r.status, r.body)
		}
	}
	if n := len(h.rec.calls()); n != 6 {
		t.Errorf("reconciler called %d times, want 6", n)
	}
}
