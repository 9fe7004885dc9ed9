package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func newTestEnv(t *testing.T, rate float64, burst int) (*env, *scimClient) {
	t.Helper()
	e, err := newEnv(t.Context(), envOptions{dir: t.TempDir(), rate: rate, burst: burst, preset: "okta",
		log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.close)
	return e, newSCIMClient(e.scimURL, e.token)
}

// The whole pipeline over loopback: every created user is seen by the
// meter, and each kind of change costs the calls issue 4 item 8 demands.
func TestLatencyAndCallsPerChange(t *testing.T) {
	e, c := newTestEnv(t, 0, 1)
	lat, err := measureLatency(t.Context(), e, c, 5, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(lat.fromAnswer) != 5 || len(lat.ids) != 5 {
		t.Fatalf("latency samples %d, ids %d; want 5 each", len(lat.fromAnswer), len(lat.ids))
	}
	if quantile(lat.fromSend, 1) < quantile(lat.fromAnswer, 1) {
		t.Fatalf("from-send max %s below from-answer max %s", quantile(lat.fromSend, 1), quantile(lat.fromAnswer, 1))
	}
	changes, err := measureChanges(t.Context(), e, c, lat.ids, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	want := []int{5, 0, 5}
	if len(changes) != len(want) {
		t.Fatalf("got %d change kinds, want %d", len(changes), len(want))
	}
	for i, ch := range changes {
		if ch.calls.total() != want[i] || ch.calls[callKey{"user update", 200}] != want[i] {
			t.Errorf("%s: calls %v, want %d user updates and nothing else", ch.what, ch.calls.rows(), want[i])
		}
	}
	for _, u := range e.emu.State().Users {
		if strings.HasPrefix(u.Name, "lat-") && !strings.HasPrefix(u.DisplayName, "Put ") {
			t.Errorf("user %s has display name %q after the last PUT", u.Name, u.DisplayName)
		}
	}
}

// A small initial load against a rate-limited emulator ends with everything
// in the emulator and exactly one successful call per user, group and
// membership.
func TestLoad(t *testing.T) {
	e, c := newTestEnv(t, 2000, 200)
	s := loadSpec{users: 30, groups: 3, memberships: 70, clients: 4}
	res, err := measureLoad(t.Context(), e, c, s, nil, 0, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := res.calls.count("2xx"), s.users+s.groups+s.memberships; got != want {
		t.Fatalf("successful calls %d, want %d: %v", got, want, res.calls.rows())
	}
	if problem := verifyLoad(e, s); problem != "" {
		t.Fatal(problem)
	}
	if res.total <= 0 || res.total > res.wall {
		t.Fatalf("total %s outside (0, wall %s]", res.total, res.wall)
	}
}

func TestLoadPatchMode(t *testing.T) {
	e, c := newTestEnv(t, 0, 1)
	s := loadSpec{users: 12, groups: 2, memberships: 20, clients: 2, patch: true, patchBatch: 3}
	if _, err := measureLoad(t.Context(), e, c, s, nil, 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	if problem := verifyLoad(e, s); problem != "" {
		t.Fatal(problem)
	}
}

func TestGroupMembersSpreadEvenly(t *testing.T) {
	s := loadSpec{users: 7, groups: 3, memberships: 10}
	per := map[int]int{}
	total := 0
	for g := range s.groups {
		seen := map[int]bool{}
		for _, u := range groupMembers(s, g) {
			if seen[u] {
				t.Fatalf("group %d lists user %d twice", g, u)
			}
			seen[u] = true
			per[u]++
			total++
		}
	}
	if total != s.memberships {
		t.Fatalf("%d memberships, want %d", total, s.memberships)
	}
	for u, n := range per {
		if n < 1 || n > 2 {
			t.Fatalf("user %d is in %d groups; want 1 or 2", u, n)
		}
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--phases", "latency,bogus"},
		{"--rate", "-1"},
		{"--burst", "0"},
		{"--users", "10", "--groups", "2", "--memberships", "30"}, // 15 per group > 10 users
		{"--memberships", "5", "--groups", "0"},
		{"--clients", "0"},
		{"extra"},
	} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
	o, err := parseFlags([]string{"--phases", "load", "--users", "10", "--groups", "2", "--memberships", "20"}, io.Discard)
	if err != nil || len(o.phases) != 1 || o.load.memberships != 20 {
		t.Fatalf("parseFlags = %+v, %v", o, err)
	}
}

func TestRunSmall(t *testing.T) {
	var out bytes.Buffer
	err := run(t.Context(), []string{"--latency-n", "3", "--change-n", "2", "--users", "10", "--groups", "2",
		"--memberships", "12", "--rate", "1000", "--burst", "100", "--quiet", "--wallprofile", "5ms"}, &out, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SCIM 201 -> user created", "2 calls = 1.00 per change", "0 calls = 0.00 per change",
		"calls needed 24", "engine workers, wall-clock samples", "engine store writes: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestWallProfileAttribution(t *testing.T) {
	prof := `goroutine profile: total 4
2 @ 0x1 0x2
#	0x1	golang.org/x/time/rate.(*Limiter).wait+0x10	/x/rate.go:1
#	0x2	github.com/scimbridge/scimbridge/reconcile.(*applier).addMember+0x20	/r/user.go:1
#	0x3	github.com/scimbridge/scimbridge/reconcile.(*pass).work+0x30	/r/engine.go:1

1 @ 0x4
#	0x4	github.com/scimbridge/scimbridge/store/sqlite.(*DB).write+0x1	/s/w.go:1
#	0x5	github.com/scimbridge/scimbridge/reconcile.(*applier).present+0x1	/r/user.go:2
#	0x6	github.com/scimbridge/scimbridge/reconcile.(*pass).work+0x1	/r/engine.go:3

1 @ 0x8
#	0x8	github.com/scimbridge/scimbridge/store/sqlite.(*DB).write+0x1	/s/w.go:1
#	0x9	github.com/scimbridge/scimbridge/reconcile.(*Engine).settle+0x1	/r/engine.go:2
#	0xa	github.com/scimbridge/scimbridge/reconcile.(*pass).settleLoop+0x1	/r/engine.go:3

1 @ 0xb
#	0xb	github.com/scimbridge/scimbridge/store/sqlite.(*DB).DueJobs+0x1	/s/jobs.go:1
#	0xc	github.com/scimbridge/scimbridge/reconcile.(*pass).run+0x1	/r/engine.go:4
#	0xd	github.com/scimbridge/scimbridge/reconcile.(*Engine).Drain+0x1	/r/engine.go:5

1 @ 0x7
#	0x7	net/http.(*conn).serve+0x1	/n/server.go:1
`
	p := &wallProfile{by: map[string]int{}}
	p.add(strings.NewReader(prof))
	if p.workers != 3 {
		t.Fatalf("workers %d, want 3", p.workers)
	}
	if got := p.by["reconcile.(*applier).addMember | client rate limiter"]; got != 2 {
		t.Errorf("limiter samples %d, want 2 (%v)", got, p.by)
	}
	if got := p.by["reconcile.(*applier).present | store write (group commit)"]; got != 1 {
		t.Errorf("store write samples %d, want 1 (%v)", got, p.by)
	}
	if p.settler != 1 || p.drain != 1 {
		t.Errorf("settler samples %d, due-job reads %d; want 1 and 1", p.settler, p.drain)
	}
}
