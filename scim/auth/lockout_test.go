package auth

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLockout(t *testing.T) {
	clock := newClock()
	var logs bytes.Buffer
	a := staticAuth(t, Options{Now: clock.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))}) // defaults: 20 per minute
	const attacker = "203.0.113.5:40000"
	bad := func(remote string) error { return a.Authenticate(newReq("Bearer guess", remote), "acme") }
	good := func(remote string) error { return a.Authenticate(newReq("Bearer "+acmeOld, remote), "acme") }

	// Failures 1..20 at one per second are plain 401s.
	for i := range 20 {
		wantStatus(t, bad(attacker), 401)
		if i < 19 {
			clock.Advance(time.Second)
		}
	}
	// t0+19s: the 21st failure is refused; the oldest failure (t0) leaves the window at t0+60s.
	ae := wantStatus(t, bad(attacker), 429)
	if ae.RetryAfter != 41*time.Second || ae.Detail != detailTooManyFails {
		t.Fatalf("429 = %+v, want RetryAfter 41s", ae)
	}
	// Other failure kinds count too, the port does not matter, and the tenant does not matter.
	wantStatus(t, a.Authenticate(newReq("", "203.0.113.5:1"), "globex"), 429)
	wantStatus(t, a.Authenticate(newReq("Basic eA==", "203.0.113.5:2"), "nope"), 429)

	// Valid credentials from the locked-out address still pass.
	wantStatus(t, good(attacker), 0)
	wantStatus(t, a.Authenticate(newReq("Bearer "+globexTok, attacker), "globex"), 0)
	// Other addresses are unaffected.
	wantStatus(t, bad("203.0.113.6:40000"), 401)
	wantStatus(t, bad("[2001:db8::5]:443"), 401)

	// Refused attempts are not recorded: hammering does not extend the lockout.
	for range 100 {
		wantStatus(t, bad(attacker), 429)
	}
	clock.Advance(40 * time.Second) // t0+59s
	ae = wantStatus(t, bad(attacker), 429)
	if ae.RetryAfter != time.Second {
		t.Fatalf("RetryAfter at t0+59s = %v, want 1s", ae.RetryAfter)
	}
	clock.Advance(time.Second) // t0+60s: the t0 failure leaves the window, one slot frees
	wantStatus(t, bad(attacker), 401)
	ae = wantStatus(t, bad(attacker), 429)
	if ae.RetryAfter != time.Second { // next slot: the t0+1s failure, at t0+61s
		t.Fatalf("RetryAfter = %v, want 1s", ae.RetryAfter)
	}

	// After a full quiet window the address has all 20 attempts again.
	clock.Advance(time.Minute)
	for range 20 {
		wantStatus(t, bad(attacker), 401)
	}
	ae = wantStatus(t, bad(attacker), 429)
	if ae.RetryAfter != time.Minute {
		t.Fatalf("RetryAfter for 20 failures at one instant = %v, want 1m", ae.RetryAfter)
	}

	if n := strings.Count(logs.String(), "authentication lockout"); n != 3 {
		t.Errorf("lockout logged %d times, want once per episode (3): %s", n, logs.String())
	}
	noSecret(t, logs.String(), acmeOld, globexTok, "guess")
}

func TestLockoutCustomOptionsAndIPv6(t *testing.T) {
	clock := newClock()
	a := staticAuth(t, Options{Now: clock.Now, MaxFailures: 2, Window: 10 * time.Second})
	bad := func(remote string) error { return a.Authenticate(newReq("Bearer guess", remote), "acme") }

	wantStatus(t, bad("[2001:db8::1]:1"), 401)
	wantStatus(t, bad("[2001:db8:0:0::1]:2"), 401) // same address, other spelling
	ae := wantStatus(t, bad("[2001:db8::1]:3"), 429)
	if ae.RetryAfter != 10*time.Second {
		t.Fatalf("RetryAfter = %v, want 10s", ae.RetryAfter)
	}
	wantStatus(t, bad("[2001:db8::2]:1"), 401)

	// IPv4 and its IPv4-mapped IPv6 form are one client.
	wantStatus(t, bad("192.0.2.50:1"), 401)
	wantStatus(t, bad("[::ffff:192.0.2.50]:1"), 401)
	wantStatus(t, bad("192.0.2.50:2"), 429)

	clock.Advance(10*time.Second + 500*time.Millisecond)
	wantStatus(t, bad("[2001:db8::1]:3"), 401)
}

func TestFailureTableBounded(t *testing.T) {
	clock := newClock()
	ft := newFailureTable(clock.Now, 3, time.Minute, 100)
	for i := range 250 {
		if _, locked, _ := ft.fail(fmt.Sprintf("10.0.%d.%d", i/256, i%256)); locked {
			t.Fatalf("first failure of address %d locked", i)
		}
		clock.Advance(time.Millisecond)
	}
	if n := ft.tracked(); n != 100 {
		t.Fatalf("tracked = %d, want the cap 100", n)
	}
	// The newest addresses are kept, the oldest dropped.
	ft.mu.Lock()
	_, newest := ft.addrs["10.0.0.249"]
	_, oldest := ft.addrs["10.0.0.0"]
	ft.mu.Unlock()
	if !newest || oldest {
		t.Fatalf("newest kept = %v, oldest kept = %v; want true, false", newest, oldest)
	}

	// Entries whose failures all left the window are pruned on the next failure.
	clock.Advance(time.Minute + time.Second)
	ft.fail("10.9.9.9")
	if n := ft.tracked(); n != 1 {
		t.Fatalf("tracked after window = %d, want 1", n)
	}

	// A locked address keeps at most max timestamps however often it fails.
	for range 1000 {
		ft.fail("10.9.9.9")
	}
	ft.mu.Lock()
	n := len(ft.addrs["10.9.9.9"].Value.(*failureEntry).times)
	ft.mu.Unlock()
	if n != 3 {
		t.Fatalf("stored failures = %d, want 3", n)
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct{ d, window, want time.Duration }{
		{0, time.Minute, time.Second},
		{-5 * time.Second, time.Minute, time.Second},
		{time.Millisecond, time.Minute, time.Second},
		{1500 * time.Millisecond, time.Minute, 2 * time.Second},
		{40 * time.Second, time.Minute, 40 * time.Second},
		{time.Hour, time.Minute, time.Minute}, // clock went backwards
		{90 * time.Second, 1500 * time.Millisecond, 2 * time.Second},
	}
	for _, tc := range tests {
		if got := retryAfter(tc.d, tc.window); got != tc.want {
			t.Errorf("retryAfter(%v, %v) = %v, want %v", tc.d, tc.window, got, tc.want)
		}
	}
}
