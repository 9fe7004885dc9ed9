package admin

import (
	"crypto/hmac"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// FuzzVerify feeds the webhook verifier arbitrary headers and bodies: it
// never panics, refuses with 401 or 429 only, and accepts only a call
// whose signature is right and whose timestamp is in the window, once.
func FuzzVerify(f *testing.F) {
	secret := []byte("fuzz-secret")
	now := time.Unix(1_772_366_400, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	f.Add(ts, Sign(secret, ts, []byte("{}")), []byte("{}"), false)
	f.Add(ts, Sign(secret, ts, []byte("{}")), []byte("{}"), true)
	f.Add(ts, Sign(secret, ts, nil), []byte("{ }"), false)
	f.Add("", "", []byte(nil), false)
	f.Add("1772366099", Sign(secret, "1772366099", nil), []byte(nil), true)
	f.Add("99999999999", "sha256=", []byte("x"), false)
	f.Add(ts, "sha256="+string(make([]byte, 64)), []byte("x"), false)
	f.Add("-5", "SHA256=00", []byte("\x00\xff"), true)
	f.Fuzz(func(t *testing.T, tsHeader, sigHeader string, body []byte, signIt bool) {
		v := newVerifier(secret, 4)
		if signIt {
			// Half the runs sign properly, so the window and replay paths
			// are reached with arbitrary timestamps and bodies.
			sigHeader = Sign(secret, tsHeader, body)
		}
		_, _, err := v.verify(now, tsHeader, sigHeader, body)
		if err != nil {
			if err.status != http.StatusUnauthorized && err.status != http.StatusTooManyRequests {
				t.Fatalf("refused with %d", err.status)
			}
			if err.detail == "" {
				t.Fatal("refused without a detail")
			}
			return
		}
		good := Sign(secret, tsHeader, body)
		if len(sigHeader) != len(good) || !hmac.Equal([]byte(lowerHex(sigHeader)), []byte(good)) {
			t.Fatalf("accepted signature %q for ts %q body %q; want %q", sigHeader, tsHeader, body, good)
		}
		sec, perr := strconv.ParseInt(tsHeader, 10, 64)
		if perr != nil {
			t.Fatalf("accepted unparsable timestamp %q", tsHeader)
		}
		if d := now.Sub(time.Unix(sec, 0)); d > WebhookWindow || d < -WebhookWindow {
			t.Fatalf("accepted timestamp %q, %v away", tsHeader, d)
		}
		if _, _, again := v.verify(now, tsHeader, sigHeader, body); again == nil {
			t.Fatal("accepted the same call twice")
		}
	})
}

// lowerHex lowercases ASCII letters (signatures may come in upper case).
func lowerHex(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
