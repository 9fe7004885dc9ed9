package admin

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

// forget takes a signature back (the store could not record it), so the
// same call is accepted when it comes again.
func TestVerifierForget(t *testing.T) {
	secret := []byte("internal-secret-0123")
	v := newVerifier(secret, 2)
	now := time.Unix(1_772_366_400, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := Sign(secret, ts, nil)
	key, exp, err := v.verify(now, ts, sig, nil)
	if err != nil {
		t.Fatal(err.detail)
	}
	if want := ts + "." + sig[len(signaturePrefix):]; key != want || !exp.Equal(now.Add(WebhookWindow)) {
		t.Fatalf("key %q expires %v; want %q and %v", key, exp, want, now.Add(WebhookWindow))
	}
	if _, _, err := v.verify(now, ts, sig, nil); err == nil || err.status != http.StatusUnauthorized {
		t.Fatalf("replay: %v", err)
	}
	v.forget(key)
	if _, _, err := v.verify(now, ts, sig, nil); err != nil {
		t.Fatalf("after forget: %v", err.detail)
	}
}
