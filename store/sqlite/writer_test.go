package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// These tests drive the writer deterministically: blockWriter parks the
// writer inside a request, the test queues requests one by one (waiting
// until each is in the queue, so their order is known), and releasing the
// writer makes it take all of them into the blocker's batch.

// waitFor polls cond until it holds or a generous deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// blockWriter occupies the writer with a request that waits for release to
// be called; release returns that request's result.
func blockWriter(t *testing.T, db *DB) (release func() error) {
	t.Helper()
	started, unblock := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- db.write(context.Background(), func(*wtx) error {
			close(started)
			<-unblock
			return nil
		})
	}()
	<-started
	return func() error {
		close(unblock)
		return <-done
	}
}

// queue starts op in a goroutine and waits until its request is queued
// behind the blocked writer; the returned channel yields op's error.
func queue(t *testing.T, db *DB, op func() error) <-chan error {
	t.Helper()
	n := len(db.wr.reqs)
	out := make(chan error, 1)
	go func() { out <- op() }()
	waitFor(t, "the request is queued", func() bool { return len(db.wr.reqs) == n+1 })
	return out
}

// result waits for an outcome with a deadline.
func result(t *testing.T, c <-chan error) error {
	t.Helper()
	select {
	case err := <-c:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("no answer within 10s")
		return nil
	}
}

func TestBatchIsolatesFailures(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	alice, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "alice"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "G", Members: []store.Member{{Value: alice.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	jobsBefore, err := db.PendingJobs(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	commits := db.wr.commits.Load()
	release := blockWriter(t, db)

	var bob, carol, updated store.User
	refused := errors.New("refused by callback")
	cases := []struct {
		name  string
		op    func() error
		check func(error) bool
	}{
		{"create bob", func() (err error) {
			bob, err = db.CreateUser(ctx, store.User{Tenant: "t", UserName: "bob"})
			return err
		}, func(err error) bool { return err == nil }},
		{"create BOB (taken earlier in the same batch)", func() error {
			_, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "BOB"})
			return err
		}, func(err error) bool { return errors.Is(err, store.ErrConflict) }},
		{"rename group, then fail on a member", func() error {
			_, err := db.UpdateGroup(ctx, "t", g.ID, func(x *store.Group) error {
				x.DisplayName = "renamed"
				x.Members = []store.Member{{Value: "no-such-id"}}
				return nil
			})
			return err
		}, func(err error) bool { return errors.Is(err, store.ErrInvalidMember) }},
		{"update refused by fn", func() error {
			_, err := db.UpdateUser(ctx, "t", alice.ID, func(x *store.User) error { x.Active = true; return refused })
			return err
		}, func(err error) bool { return errors.Is(err, refused) }},
		{"delete missing user", func() error { return db.DeleteUser(ctx, "t", "missing") },
			func(err error) bool { return errors.Is(err, store.ErrNotFound) }},
		{"update alice", func() (err error) {
			updated, err = db.UpdateUser(ctx, "t", alice.ID, func(x *store.User) error { x.Attributes["title"] = "x"; return nil })
			return err
		}, func(err error) bool { return err == nil }},
		{"create with the group's id", func() error {
			_, err := db.CreateUser(ctx, store.User{ID: g.ID, Tenant: "t", UserName: "clash"})
			return err
		}, func(err error) bool { return errors.Is(err, store.ErrConflict) }},
		{"fn panics after changing the user", func() error {
			_, err := db.UpdateUser(ctx, "t", alice.ID, func(x *store.User) error { x.UserName = "mallory"; panic("boom") })
			return err
		}, func(err error) bool { return err != nil && strings.Contains(err.Error(), "panicked: boom") }},
		{"create carol", func() (err error) {
			carol, err = db.CreateUser(ctx, store.User{Tenant: "t", UserName: "carol"})
			return err
		}, func(err error) bool { return err == nil }},
	}
	outs := make([]<-chan error, len(cases))
	for i, c := range cases {
		outs[i] = queue(t, db, c.op)
	}
	if err := release(); err != nil {
		t.Fatalf("blocking request: %v", err)
	}
	for i, c := range cases {
		if err := result(t, outs[i]); !c.check(err) {
			t.Errorf("%s: unexpected outcome %v", c.name, err)
		}
	}
	// The blocker and the nine requests shared one commit.
	if n := db.wr.commits.Load() - commits; n != 1 {
		t.Errorf("%d commits, want 1", n)
	}

	us, _, err := db.ListUsers(ctx, "t", store.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, u := range us {
		names = append(names, u.UserName)
	}
	if !slices.Equal(names, []string{"alice", "bob", "carol"}) {
		t.Errorf("users = %v, want alice bob carol", names)
	}
	a, err := db.GetUser(ctx, "t", alice.ID)
	// Version 2 came with joining G; the title is change 3.
	if err != nil || a.Version != 3 || a.Attributes["title"] != "x" || a.Active || a.UserName != "alice" {
		t.Errorf("alice = %+v, %v; want version 3 with only the title changed", a, err)
	}
	if updated.Version != 3 || bob.Version != 1 || carol.Version != 1 {
		t.Errorf("returned versions: update %d, bob %d, carol %d", updated.Version, bob.Version, carol.Version)
	}
	gg, err := db.GetGroup(ctx, "t", g.ID, true)
	if err != nil || gg.DisplayName != "G" || gg.Version != 1 || len(gg.Members) != 1 || gg.Members[0].Value != alice.ID {
		t.Errorf("group = %+v, %v; the failed update must change nothing", gg, err)
	}
	jobsAfter, err := db.PendingJobs(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]store.Job{}
	for _, j := range jobsAfter {
		byID[j.ResourceID] = j
	}
	if len(jobsAfter) != len(jobsBefore)+2 || byID[bob.ID].ID == 0 || byID[carol.ID].ID == 0 {
		t.Errorf("jobs before %+v, after %+v; want bob's and carol's added", jobsBefore, jobsAfter)
	}
	// The group's failed update left its job alone; alice's update made
	// hers due again.
	for _, j := range jobsBefore {
		now := byID[j.ResourceID]
		if j.ResourceID == g.ID && !now.NotBefore.Equal(j.NotBefore) {
			t.Errorf("group job changed by a failed update: %+v -> %+v", j, now)
		}
		if j.ResourceID == alice.ID && !now.NotBefore.After(j.NotBefore) {
			t.Errorf("alice's job not made due by her update: %+v -> %+v", j, now)
		}
	}
}

func TestCancelledWhileQueuedIsNotRun(t *testing.T) {
	db, _ := open(t)
	release := blockWriter(t, db)
	qctx, cancel := context.WithCancel(t.Context())
	late := queue(t, db, func() error {
		_, err := db.CreateUser(qctx, store.User{Tenant: "t", UserName: "late"})
		return err
	})
	kept := queue(t, db, func() error {
		_, err := db.CreateUser(t.Context(), store.User{Tenant: "t", UserName: "kept"})
		return err
	})
	cancel()
	// The caller gets ctx.Err() at once, while the writer is still blocked.
	if err := result(t, late); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled create: err = %v, want context.Canceled", err)
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := result(t, kept); err != nil {
		t.Errorf("create queued behind a cancelled one: %v", err)
	}
	us, total, err := db.ListUsers(t.Context(), "t", store.Query{Limit: 10})
	if err != nil || total != 1 || us[0].UserName != "kept" {
		t.Errorf("users = %+v (%d), %v; the cancelled create must not run", us, total, err)
	}
	// A request whose ctx is done when the writer reaches it, before its
	// caller noticed, is answered with ctx.Err() and not run.
	ctx, cancel2 := context.WithCancel(t.Context())
	cancel2()
	ran := false
	r := &request{ctx: ctx, run: func(*wtx) error { ran = true; return nil }, done: make(chan error, 1)}
	db.wr.reqs <- r
	if err := result(t, r.done); !errors.Is(err, context.Canceled) || ran {
		t.Errorf("request with a done ctx: err = %v, ran = %v", err, ran)
	}
	// Writes with an already cancelled ctx never reach the queue.
	if _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "never"}); !errors.Is(err, context.Canceled) {
		t.Errorf("create with a cancelled ctx: %v", err)
	}
}

func TestCancelledAfterStartWaitsForCommit(t *testing.T) {
	db, _ := open(t)
	u, err := db.CreateUser(t.Context(), store.User{Tenant: "t", UserName: "u"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	got, err := db.UpdateUser(ctx, "t", u.ID, func(x *store.User) error {
		cancel() // the caller gives up while its work runs
		x.Active = true
		return nil
	})
	if err != nil || !got.Active || got.Version != 2 {
		t.Fatalf("UpdateUser = %+v, %v; want the committed result", got, err)
	}
	if now, err := db.GetUser(t.Context(), "t", u.ID); err != nil || !now.Active || now.Version != 2 {
		t.Errorf("after commit: %+v, %v", now, err)
	}
}

func TestPanicInCallbackIsIsolated(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	u, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "u"})
	if err != nil {
		t.Fatal(err)
	}
	// Alone in its batch (no savepoint) and in a batch of several.
	if _, err := db.UpdateUser(ctx, "t", u.ID, func(x *store.User) error { x.Active = true; panic("boom") }); err == nil ||
		!strings.Contains(err.Error(), "panicked: boom") {
		t.Errorf("UpdateUser with a panicking fn: %v", err)
	}
	g, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "G"})
	if err != nil {
		t.Fatal(err)
	}
	release := blockWriter(t, db)
	panicked := queue(t, db, func() error {
		_, err := db.UpdateGroup(ctx, "t", g.ID, func(x *store.Group) error {
			x.DisplayName = "H"
			_ = x.Members[len(x.Members)] // a runtime panic, not a panic(string)
			return nil
		})
		return err
	})
	fine := queue(t, db, func() error {
		_, err := db.UpdateUser(ctx, "t", u.ID, func(x *store.User) error { x.ExternalID = "e"; return nil })
		return err
	})
	if err := release(); err != nil {
		t.Fatal(err)
	}
	if err := result(t, panicked); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("UpdateGroup with a panicking fn: %v", err)
	}
	if err := result(t, fine); err != nil {
		t.Errorf("update batched with a panicking one: %v", err)
	}
	got, err := db.GetUser(ctx, "t", u.ID)
	if err != nil || got.Active || got.ExternalID != "e" || got.Version != 2 {
		t.Errorf("user = %+v, %v; want only the externalId change", got, err)
	}
	if gg, err := db.GetGroup(ctx, "t", g.ID, false); err != nil || gg.DisplayName != "G" || gg.Version != 1 {
		t.Errorf("group = %+v, %v; the panicking update must change nothing", gg, err)
	}
}

// A request that breaks the shared transaction (here by ending it itself;
// in production SQLite does that on some I/O errors) costs the requests
// before it their work, which they are told; the requests after it run in
// the next transaction.
func TestBrokenBatchRetriesTheRest(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	release := blockWriter(t, db)
	before := queue(t, db, func() error { _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "before"}); return err })
	rogue := queue(t, db, func() error {
		return db.write(ctx, func(tx *wtx) error {
			_, err := tx.ExecContext(ctx, "ROLLBACK")
			return errors.Join(err, errors.New("rogue"))
		})
	})
	after := queue(t, db, func() error { _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "after"}); return err })
	if err := release(); err == nil || !strings.Contains(err.Error(), "write batch aborted") {
		t.Errorf("blocking request (first of the batch): %v, want the batch's abort", err)
	}
	if err := result(t, before); err == nil || !strings.Contains(err.Error(), "write batch aborted") {
		t.Errorf("request before the break: %v, want the batch's abort", err)
	}
	if err := result(t, rogue); err == nil || !strings.Contains(err.Error(), "rogue") {
		t.Errorf("breaking request: %v, want its own error", err)
	}
	if err := result(t, after); err != nil {
		t.Errorf("request after the break: %v", err)
	}
	us, _, err := db.ListUsers(ctx, "t", store.Query{Limit: 10})
	if err != nil || len(us) != 1 || us[0].UserName != "after" {
		t.Errorf("users = %+v, %v; want only after", us, err)
	}
}

// When COMMIT fails every request of the batch gets its error and nothing
// of the batch is stored; the writer goes on.
func TestCommitFailureFailsTheBatch(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	release := blockWriter(t, db)
	first := queue(t, db, func() error { _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "first"}); return err })
	// A deferred foreign key violation surfaces only at COMMIT.
	bad := queue(t, db, func() error {
		return db.write(ctx, func(tx *wtx) error {
			if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO members (group_id, member_id, member_kind) VALUES ('no-group', 'x', 'User')")
			return err
		})
	})
	last := queue(t, db, func() error { _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "last"}); return err })
	blocker := make(chan error, 1)
	blocker <- release()
	for name, c := range map[string]<-chan error{"blocker": blocker, "first": first, "bad": bad, "last": last} {
		if err := result(t, c); err == nil || !strings.Contains(err.Error(), "commit: FOREIGN KEY") {
			t.Errorf("%s: %v, want the commit error", name, err)
		}
	}
	if _, total, err := db.ListUsers(ctx, "t", store.Query{}); err != nil || total != 0 {
		t.Errorf("%d users after a failed commit, %v", total, err)
	}
	if _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "next"}); err != nil {
		t.Errorf("create after a failed commit: %v", err)
	}
	if js, err := db.PendingJobs(ctx, 10); err != nil || len(js) != 1 {
		t.Errorf("jobs = %+v, %v; want only next's", js, err)
	}
}

func TestCloseDrainsQueuedWrites(t *testing.T) {
	goroutines := runtime.NumGoroutine()
	p := filepath.Join(t.TempDir(), "x.db")
	db, err := Open(t.Context(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	release := blockWriter(t, db)
	const n = 5
	outs := make([]<-chan error, n)
	for i := range n {
		outs[i] = queue(t, db, func() error {
			_, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "u" + string(rune('a'+i))})
			return err
		})
	}
	closed := make(chan error, 1)
	go func() { closed <- db.Close() }()
	waitFor(t, "Close stops accepting writes", db.wr.isClosed)
	if _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "too-late"}); !errors.Is(err, ErrClosed) {
		t.Errorf("create after Close: %v, want ErrClosed", err)
	}
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) before the queued writes ran", err)
	default:
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	for i, c := range outs {
		if err := result(t, c); err != nil {
			t.Errorf("queued create %d: %v", i, err)
		}
	}
	if err := result(t, closed); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	waitFor(t, "every goroutine of the store has ended", func() bool { return runtime.NumGoroutine() <= goroutines })

	db, err = Open(t.Context(), p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, total, err := db.ListUsers(ctx, "t", store.Query{}); err != nil || total != n {
		t.Errorf("%d users after reopen, %v; want %d", total, err, n)
	}
}

// A batch takes at most maxBatch requests; the rest go into the next one.
func TestBatchCap(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	commits := db.wr.commits.Load()
	release := blockWriter(t, db)
	const n = maxBatch + 10
	outs := make([]<-chan error, n)
	for i := range n {
		outs[i] = queue(t, db, func() error {
			_, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: fmt.Sprintf("u%d", i)})
			return err
		})
	}
	if err := release(); err != nil {
		t.Fatal(err)
	}
	for i, c := range outs {
		if err := result(t, c); err != nil {
			t.Errorf("create %d: %v", i, err)
		}
	}
	if got := db.wr.commits.Load() - commits; got != 2 {
		t.Errorf("%d commits for the blocker and %d requests, want 2", got, n)
	}
	if _, total, err := db.ListUsers(ctx, "t", store.Query{}); err != nil || total != n {
		t.Errorf("%d users, %v; want %d", total, err, n)
	}
}
