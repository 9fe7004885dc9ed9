package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
)

// Login events (store.LoginRecorder).

func loginRecorder(t *testing.T, s EngineStore) store.LoginRecorder {
	t.Helper()
	r, ok := s.(store.LoginRecorder)
	if !ok {
		t.Fatalf("%T does not implement store.LoginRecorder", s)
	}
	return r
}

func recordLogin(t *testing.T, r store.LoginRecorder, target, username string, at time.Time) []store.Link {
	t.Helper()
	ls, err := r.RecordLogin(t.Context(), target, username, at)
	if err != nil {
		t.Fatalf("RecordLogin(%s, %q): %v", target, username, err)
	}
	return ls
}

func testRecordLogin(t *testing.T, s EngineStore, c *clock) {
	rec := loginRecorder(t, s)
	zone := time.FixedZone("X", -5*3600)
	at := time.Date(2026, 5, 2, 9, 30, 0, 42, zone)
	newer := at.Add(time.Hour)
	user := func(target, tenant, id, applied string, state store.LinkState, last *time.Time) store.Link {
		return store.Link{Target: target, Tenant: tenant, ResourceID: id, Kind: store.KindUser,
			DesiredName: applied, AppliedName: applied, Key: "K-" + id, State: state, LastLoginAt: last,
			Desired: []byte(`{"d":1}`), Applied: []byte(`{"a":1}`)}
	}
	links := []store.Link{
		user("jira", "a", "u1", "Alice", store.LinkActive, nil),         // matches, first login
		user("jira", "b", "u9", "ALICE", store.LinkDeactivated, &newer), // matches, already newer
		user("jira", "a", "u2", "alice", store.LinkDeleted, nil),        // deleted: not ours any more
		user("jira", "a", "u3", "alice", store.LinkSkipped, nil),        // skipped: never ours
		user("jira", "a", "u4", "alicia", store.LinkActive, nil),        // another name
		user("confluence", "a", "u1", "alice", store.LinkActive, nil),   // another target
		user("jira", "a", "u5", "Åsa", store.LinkActive, nil),           // non-ASCII
		user("jira", "a", "u6", "", store.LinkPending, nil),             // nothing applied yet
		{Target: "jira", Tenant: "a", ResourceID: "g1", Kind: store.KindGroup, // a group of that name
			DesiredName: "alice", AppliedName: "alice", State: store.LinkActive},
	}
	renamed := user("jira", "a", "u7", "bob.old", store.LinkActive, nil)
	renamed.DesiredName = "alice" // a pending rename: the target knows bob.old
	links = append(links, renamed)
	for _, l := range links {
		putLink(t, s, l)
	}
	before := map[string]store.Link{}
	for _, l := range links {
		before[l.Target+"/"+l.Tenant+"/"+l.ResourceID] = getLink(t, s, l.Target, l.Tenant, l.ResourceID)
	}
	c.Advance(time.Minute) // a write that touched UpdatedAt would show

	got := recordLogin(t, rec, "jira", "alice", at)
	if keys := linkKeys(got); !slices.Equal(keys, []string{"a/u1", "b/u9"}) {
		t.Fatalf("RecordLogin matched %v, want [a/u1 b/u9]", keys)
	}
	want1 := before["jira/a/u1"]
	want1.LastLoginAt = ptrTime(at.UTC())
	if d := cmp.Diff(want1, got[0]); d != "" {
		t.Errorf("recorded link (-want +got):\n%s", d)
	}
	if d := cmp.Diff(before["jira/b/u9"], got[1]); d != "" {
		t.Errorf("a link with a newer login changed (-want +got):\n%s", d)
	}
	requireUTC(t, "recorded login", *got[0].LastLoginAt)
	for key, b := range before {
		l := getLink(t, s, b.Target, b.Tenant, b.ResourceID)
		want := b
		if key == "jira/a/u1" {
			want = want1
		}
		if d := cmp.Diff(want, l); d != "" {
			t.Errorf("link %s after RecordLogin (-want +got):\n%s", key, d)
		}
	}

	// An older event keeps the newer login; the link is still returned.
	got = recordLogin(t, rec, "jira", "ALICE", at.Add(-time.Minute))
	if len(got) != 2 || !got[0].LastLoginAt.Equal(at) || !got[1].LastLoginAt.Equal(newer) {
		t.Errorf("an older login event: %+v", got)
	}
	// Unicode case folding, like userName.
	got = recordLogin(t, rec, "jira", "åSA", at)
	if keys := linkKeys(got); !slices.Equal(keys, []string{"a/u5"}) || !got[0].LastLoginAt.Equal(at) {
		t.Errorf("RecordLogin(åSA) = %+v", got)
	}
	// Nothing matches: no error, nothing written.
	for _, name := range []string{"nobody", "bob", "alic", "alice "} {
		if got := recordLogin(t, rec, "jira", name, at); len(got) != 0 {
			t.Errorf("RecordLogin(%q) matched %v", name, linkKeys(got))
		}
	}
	if got := recordLogin(t, rec, "crowd", "alice", at); len(got) != 0 {
		t.Errorf("RecordLogin on a target without links matched %v", linkKeys(got))
	}
	if l := getLink(t, s, "jira", "a", "u7"); l.LastLoginAt != nil {
		t.Errorf("a login under the desired (not yet applied) name was recorded: %+v", l)
	}
	// Bad input is refused.
	for _, bad := range [][2]string{{"", "alice"}, {"jira", ""}} {
		if _, err := rec.RecordLogin(t.Context(), bad[0], bad[1], at); err == nil {
			t.Errorf("RecordLogin(%q, %q) succeeded", bad[0], bad[1])
		}
	}
}

// Logins recorded concurrently keep the latest, whatever the order in
// which their writes land: none overwrites a later one.
func testRecordLoginConcurrent(t *testing.T, s EngineStore, _ *clock) {
	rec := loginRecorder(t, s)
	putLink(t, s, store.Link{Target: "jira", Tenant: "a", ResourceID: "u1", Kind: store.KindUser,
		AppliedName: "carol", DesiredName: "carol", State: store.LinkActive})
	base := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	const n = 24
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			// Odd i first, so the latest login is not the last one sent.
			at := base.Add(time.Duration((i*7)%n) * time.Second)
			if _, err := rec.RecordLogin(t.Context(), "jira", "Carol", at); err != nil {
				errs <- fmt.Errorf("RecordLogin(%v): %w", at, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	l := getLink(t, s, "jira", "a", "u1")
	if want := base.Add((n - 1) * time.Second); l.LastLoginAt == nil || !l.LastLoginAt.Equal(want) {
		t.Fatalf("last login after %d concurrent events = %v, want %v", n, l.LastLoginAt, want)
	}
}
