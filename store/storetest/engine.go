package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
)

// EngineStore is a backend under RunEngine: a store.Store that also
// implements store.EngineStore.
type EngineStore interface {
	store.Store
	store.EngineStore
}

// RunEngine runs the conformance suite of store.EngineStore (and of the
// per-user enqueue rule of store.Store), one subtest per topic, each on a
// fresh store from newStore. newStore must make the store read the time
// from now (the suite moves it by hand; it starts in a non-UTC zone).
//
// Beyond the comments in package store, the suite pins down these rules:
//   - DueJobs, PendingJobs and ParkedJobs return nothing for limit 0.
//   - ParkJob, like RetryJob, only records the error when the job was
//     enqueued again since it was read: the newer change stays due.
//   - UnparkJobs resets Attempts to 0.
//   - A job completed and then enqueued again is a new job: a stale
//     CompleteJob of the old one never removes it.
//   - GetUserAny returns a live user's Groups like GetUser.
//   - ListLinks lets fn write (PutLink) while it walks.
//   - ListResults with an explicit Action "unchanged" returns those results
//     without All.
//   - Changes round-trip like attributes (integers int64, decimals
//     float64, objects map[string]any, arrays []any).
func RunEngine(t *testing.T, newStore func(t *testing.T, now func() time.Time) EngineStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s EngineStore, c *clock)
	}{
		{"DueJobs", testDueJobs},
		{"CompleteJob", testCompleteJob},
		{"RetryJob", testRetryJob},
		{"ParkAndUnpark", testParkAndUnpark},
		{"EnqueueJob", testEnqueueJob},
		{"JobStats", testJobStats},
		{"EnqueueRuleForGroups", testEnqueueRuleForGroups},
		{"EnqueueRuleCycles", testEnqueueRuleCycles},
		{"TombstoneReads", testTombstoneReads},
		{"GroupsContaining", testGroupsContaining},
		{"Links", testLinks},
		{"LinksByDesiredName", testLinksByDesiredName},
		{"ListLinks", testListLinks},
		{"Bulk", testBulk},
		{"Runs", testRuns},
		{"Results", testResults},
		{"UserHistory", testUserHistory},
		{"PruneRuns", testPruneRuns},
		{"SettleJobs", testSettleJobs},
		{"RecordLogin", testRecordLogin}, {"RecordLoginConcurrent", testRecordLoginConcurrent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 123456789, time.FixedZone("CEST", 2*3600))}
			s := newStore(t, c.Now)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s, c)
		})
	}
}

// clock is the suite's manual clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// jobOf returns the pending or parked job of the resource.
func jobOf(t *testing.T, s EngineStore, kind store.ResourceKind, id string) (store.Job, bool) {
	t.Helper()
	parked, err := s.ParkedJobs(t.Context(), 10000)
	if err != nil {
		t.Fatalf("ParkedJobs: %v", err)
	}
	for _, j := range slices.Concat(jobs(t, s), parked) {
		if j.Kind == kind && j.ResourceID == id {
			return j, true
		}
	}
	return store.Job{}, false
}

func mustJob(t *testing.T, s EngineStore, kind store.ResourceKind, id string) store.Job {
	t.Helper()
	j, ok := jobOf(t, s, kind, id)
	if !ok {
		t.Fatalf("no job for %s %s", kind, id)
	}
	return j
}

func dueIDs(t *testing.T, s EngineStore, now time.Time, limit int) []string {
	t.Helper()
	js, err := s.DueJobs(t.Context(), now, limit)
	if err != nil {
		t.Fatalf("DueJobs: %v", err)
	}
	out := make([]string, len(js))
	for i, j := range js {
		if j.State != store.JobPending {
			t.Errorf("DueJobs returned a job in state %q: %+v", j.State, j)
		}
		out[i] = j.ResourceID
	}
	return out
}

// settleAll completes every pending job, as a successful engine pass would.
func settleAll(t *testing.T, s EngineStore) {
	t.Helper()
	for _, j := range jobs(t, s) {
		if err := s.CompleteJob(t.Context(), j); err != nil {
			t.Fatalf("CompleteJob: %v", err)
		}
	}
	if js := jobs(t, s); len(js) != 0 {
		t.Fatalf("jobs left after completing all: %+v", js)
	}
}

func touchUser(t *testing.T, s store.Store, tenant, id string) {
	t.Helper()
	if _, err := s.UpdateUser(t.Context(), tenant, id, func(u *store.User) error {
		n, _ := asInt(u.Attributes["n"])
		u.Attributes["n"] = n + 1
		return nil
	}); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
}

func testDueJobs(t *testing.T, s EngineStore, c *clock) {
	a := createUser(t, s, store.User{Tenant: "t1", UserName: "a"})
	t0 := c.Now()
	c.Advance(time.Second)
	b := createUser(t, s, store.User{Tenant: "t1", UserName: "b"})
	c.Advance(time.Second)
	cc := createUser(t, s, store.User{Tenant: "t2", UserName: "c"})

	js, err := s.DueJobs(t.Context(), c.Now(), 10)
	if err != nil || len(js) != 3 {
		t.Fatalf("DueJobs = %+v, %v; want 3 jobs", js, err)
	}
	for _, j := range js {
		requireUTC(t, "due job", j.NotBefore, j.CreatedAt)
		if j.Seq == 0 || j.State != store.JobPending || j.Attempts != 0 || j.ID == 0 || j.Kind != store.KindUser {
			t.Errorf("fresh job = %+v", j)
		}
	}
	if !js[0].NotBefore.Equal(t0) || !js[0].CreatedAt.Equal(t0) {
		t.Errorf("job of a: due %v created %v, want both %v", js[0].NotBefore, js[0].CreatedAt, t0)
	}
	if got, want := dueIDs(t, s, c.Now(), 10), []string{a.ID, b.ID, cc.ID}; !slices.Equal(got, want) {
		t.Errorf("due = %v, want %v (oldest NotBefore first)", got, want)
	}
	// NotBefore <= now is due; later is not.
	if got, want := dueIDs(t, s, t0.Add(time.Second), 10), []string{a.ID, b.ID}; !slices.Equal(got, want) {
		t.Errorf("due at t0+1s = %v, want %v", got, want)
	}
	if got := dueIDs(t, s, t0.Add(-time.Nanosecond), 10); len(got) != 0 {
		t.Errorf("due before anything was enqueued: %v", got)
	}
	if got := dueIDs(t, s, c.Now(), 1); !slices.Equal(got, []string{a.ID}) {
		t.Errorf("DueJobs limit 1 = %v", got)
	}
	if got := dueIDs(t, s, c.Now(), 0); len(got) != 0 {
		t.Errorf("DueJobs limit 0 = %v", got)
	}

	// A change re-enqueues: same job, CreatedAt kept, new Seq, due now,
	// and so last in NotBefore order.
	before := mustJob(t, s, store.KindUser, a.ID)
	c.Advance(time.Second)
	touchUser(t, s, "t1", a.ID)
	after := mustJob(t, s, store.KindUser, a.ID)
	if after.ID != before.ID || !after.CreatedAt.Equal(before.CreatedAt) || after.Seq == before.Seq ||
		!after.NotBefore.Equal(c.Now()) || after.State != store.JobPending {
		t.Errorf("re-enqueued job = %+v, was %+v (now %v)", after, before, c.Now())
	}
	if got, want := dueIDs(t, s, c.Now(), 10), []string{b.ID, cc.ID, a.ID}; !slices.Equal(got, want) {
		t.Errorf("due after re-enqueue = %v, want %v", got, want)
	}
}

func testCompleteJob(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	a := createUser(t, s, store.User{Tenant: "t1", UserName: "a"})
	b := createUser(t, s, store.User{Tenant: "t1", UserName: "b"})
	jb := mustJob(t, s, store.KindUser, b.ID)
	if err := s.CompleteJob(ctx, jb); err != nil {
		t.Fatalf("CompleteJob: %v", err)
	}
	if _, ok := jobOf(t, s, store.KindUser, b.ID); ok {
		t.Error("completed job still there")
	}
	if err := s.CompleteJob(ctx, jb); err != nil {
		t.Errorf("CompleteJob of a job that is gone: %v", err)
	}
	if got := dueIDs(t, s, c.Now(), 10); !slices.Equal(got, []string{a.ID}) {
		t.Errorf("due after completing b = %v", got)
	}

	// Re-enqueued while being applied: completing the old read leaves the
	// newer change due.
	ja := mustJob(t, s, store.KindUser, a.ID)
	c.Advance(time.Second)
	touchUser(t, s, "t1", a.ID)
	if err := s.CompleteJob(ctx, ja); err != nil {
		t.Fatalf("stale CompleteJob: %v", err)
	}
	now := mustJob(t, s, store.KindUser, a.ID)
	if now.Seq == ja.Seq || now.State != store.JobPending || !now.NotBefore.Equal(c.Now()) {
		t.Errorf("after a stale complete: %+v, want pending, due %v, new seq", now, c.Now())
	}
	if got := dueIDs(t, s, c.Now(), 10); !slices.Equal(got, []string{a.ID}) {
		t.Errorf("due after a stale complete = %v, want a", got)
	}
	if err := s.CompleteJob(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, ok := jobOf(t, s, store.KindUser, a.ID); ok {
		t.Error("job still there after completing its current seq")
	}

	// Completed, then changed again: a new job that a late duplicate
	// CompleteJob of the old one must not remove.
	c.Advance(time.Second)
	touchUser(t, s, "t1", a.ID)
	if err := s.CompleteJob(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, ok := jobOf(t, s, store.KindUser, a.ID); !ok {
		t.Error("a stale CompleteJob removed the job of a newer change")
	}
}

func testRetryJob(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	a := createUser(t, s, store.User{Tenant: "t1", UserName: "a"})
	j := mustJob(t, s, store.KindUser, a.ID)
	next := c.Now().Add(10 * time.Second)
	if err := s.RetryJob(ctx, j, next, "boom 1"); err != nil {
		t.Fatalf("RetryJob: %v", err)
	}
	got := mustJob(t, s, store.KindUser, a.ID)
	if got.Attempts != 1 || got.LastError != "boom 1" || !got.NotBefore.Equal(next) || got.Seq != j.Seq ||
		got.State != store.JobPending || got.ID != j.ID || !got.CreatedAt.Equal(j.CreatedAt) {
		t.Errorf("after RetryJob: %+v, want attempts 1, error boom 1, due %v", got, next)
	}
	requireUTC(t, "retried job", got.NotBefore)
	if ids := dueIDs(t, s, next.Add(-time.Nanosecond), 10); len(ids) != 0 {
		t.Errorf("due before its backoff ended: %v", ids)
	}
	if ids := dueIDs(t, s, next, 10); !slices.Equal(ids, []string{a.ID}) {
		t.Errorf("not due once its backoff ended: %v", ids)
	}
	next2 := next.Add(20 * time.Second)
	if err := s.RetryJob(ctx, got, next2, "boom 2"); err != nil {
		t.Fatal(err)
	}
	if got := mustJob(t, s, store.KindUser, a.ID); got.Attempts != 2 || got.LastError != "boom 2" || !got.NotBefore.Equal(next2) {
		t.Errorf("after a second RetryJob: %+v", got)
	}

	// Changed while being applied: only the error is recorded, the job
	// stays due now with a fresh attempt count.
	stale := mustJob(t, s, store.KindUser, a.ID)
	c.Advance(time.Second)
	touchUser(t, s, "t1", a.ID)
	if err := s.RetryJob(ctx, stale, c.Now().Add(time.Hour), "late"); err != nil {
		t.Fatal(err)
	}
	got = mustJob(t, s, store.KindUser, a.ID)
	if got.LastError != "late" || got.Attempts != 0 || !got.NotBefore.Equal(c.Now()) || got.Seq == stale.Seq {
		t.Errorf("stale RetryJob: %+v, want error late, attempts 0, due %v", got, c.Now())
	}
	if ids := dueIDs(t, s, c.Now(), 10); !slices.Equal(ids, []string{a.ID}) {
		t.Errorf("stale RetryJob deferred a newer change: due %v", ids)
	}
}

func testParkAndUnpark(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	a := createUser(t, s, store.User{Tenant: "t1", UserName: "a"})
	c.Advance(time.Second)
	x := createUser(t, s, store.User{Tenant: "t2", UserName: "x"})
	far := c.Now().Add(1000 * time.Hour)

	ja := mustJob(t, s, store.KindUser, a.ID)
	if err := s.ParkJob(ctx, ja, "bad email"); err != nil {
		t.Fatalf("ParkJob: %v", err)
	}
	if ids := dueIDs(t, s, far, 10); !slices.Equal(ids, []string{x.ID}) {
		t.Errorf("due with a parked = %v, want only x", ids)
	}
	for _, j := range jobs(t, s) {
		if j.ResourceID == a.ID {
			t.Errorf("PendingJobs lists the parked job: %+v", j)
		}
	}
	parked, err := s.ParkedJobs(ctx, 10)
	if err != nil || len(parked) != 1 {
		t.Fatalf("ParkedJobs = %+v, %v", parked, err)
	}
	if p := parked[0]; p.ID != ja.ID || p.State != store.JobParked || p.Attempts != ja.Attempts+1 || p.LastError != "bad email" {
		t.Errorf("parked job = %+v", p)
	}

	// A new change unparks: pending, due now, attempts 0, CreatedAt kept.
	c.Advance(time.Second)
	touchUser(t, s, "t1", a.ID)
	got := mustJob(t, s, store.KindUser, a.ID)
	if got.State != store.JobPending || got.Attempts != 0 || !got.NotBefore.Equal(c.Now()) || got.Seq == ja.Seq ||
		!got.CreatedAt.Equal(ja.CreatedAt) || got.ID != ja.ID {
		t.Errorf("after a change to a parked job's resource: %+v (was %+v)", got, ja)
	}
	if parked, _ := s.ParkedJobs(ctx, 10); len(parked) != 0 {
		t.Errorf("still parked: %+v", parked)
	}

	// Parking a read that a newer change overtook records the error only.
	stale := mustJob(t, s, store.KindUser, a.ID)
	c.Advance(time.Second)
	touchUser(t, s, "t1", a.ID)
	if err := s.ParkJob(ctx, stale, "obsolete"); err != nil {
		t.Fatal(err)
	}
	got = mustJob(t, s, store.KindUser, a.ID)
	if got.State != store.JobPending || got.LastError != "obsolete" || !got.NotBefore.Equal(c.Now()) {
		t.Errorf("stale ParkJob: %+v, want pending, due %v, error recorded", got, c.Now())
	}

	// UnparkJobs per tenant and for all.
	if err := s.ParkJob(ctx, got, "p1"); err != nil {
		t.Fatal(err)
	}
	if err := s.ParkJob(ctx, mustJob(t, s, store.KindUser, x.ID), "p2"); err != nil {
		t.Fatal(err)
	}
	if parked, _ := s.ParkedJobs(ctx, 10); len(parked) != 2 || parked[0].ResourceID != a.ID {
		t.Errorf("ParkedJobs = %+v, want a then x (oldest first)", parked)
	}
	if parked, _ := s.ParkedJobs(ctx, 1); len(parked) != 1 || parked[0].ResourceID != a.ID {
		t.Errorf("ParkedJobs(1) = %+v", parked)
	}
	if parked, _ := s.ParkedJobs(ctx, 0); len(parked) != 0 {
		t.Errorf("ParkedJobs(0) = %+v", parked)
	}
	c.Advance(time.Minute)
	if n, err := s.UnparkJobs(ctx, "t3"); err != nil || n != 0 {
		t.Errorf("UnparkJobs(t3) = %d, %v", n, err)
	}
	if n, err := s.UnparkJobs(ctx, "t1"); err != nil || n != 1 {
		t.Errorf("UnparkJobs(t1) = %d, %v; want 1", n, err)
	}
	got = mustJob(t, s, store.KindUser, a.ID)
	if got.State != store.JobPending || got.Attempts != 0 || !got.NotBefore.Equal(c.Now()) || got.LastError != "p1" {
		t.Errorf("unparked job = %+v, want pending, attempts 0, due %v, last error kept", got, c.Now())
	}
	if j := mustJob(t, s, store.KindUser, x.ID); j.State != store.JobParked {
		t.Errorf("UnparkJobs(t1) unparked t2's job: %+v", j)
	}
	if n, err := s.UnparkJobs(ctx, ""); err != nil || n != 1 {
		t.Errorf("UnparkJobs(all) = %d, %v; want 1", n, err)
	}
	if ids := dueIDs(t, s, c.Now(), 10); !slices.Equal(sorted(ids...), sorted(a.ID, x.ID)) {
		t.Errorf("due after unparking all = %v", ids)
	}
	if n, err := s.UnparkJobs(ctx, ""); err != nil || n != 0 {
		t.Errorf("UnparkJobs with nothing parked = %d, %v", n, err)
	}
}

func testEnqueueJob(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	a := createUser(t, s, store.User{Tenant: "t1", UserName: "a"})
	settleAll(t, s)
	c.Advance(time.Second)
	if err := s.EnqueueJob(ctx, "t1", store.KindUser, a.ID); err != nil {
		t.Fatalf("EnqueueJob: %v", err)
	}
	j := mustJob(t, s, store.KindUser, a.ID)
	if j.Tenant != "t1" || j.State != store.JobPending || !j.NotBefore.Equal(c.Now()) || !j.CreatedAt.Equal(c.Now()) || j.Attempts != 0 {
		t.Errorf("enqueued job = %+v, want pending and due %v", j, c.Now())
	}
	c.Advance(time.Second)
	if err := s.EnqueueJob(ctx, "t1", store.KindUser, a.ID); err != nil {
		t.Fatal(err)
	}
	again := mustJob(t, s, store.KindUser, a.ID)
	if again.ID != j.ID || again.Seq == j.Seq || !again.NotBefore.Equal(c.Now()) || !again.CreatedAt.Equal(j.CreatedAt) {
		t.Errorf("enqueued twice: %+v, was %+v", again, j)
	}
	if err := s.ParkJob(ctx, again, "x"); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueJob(ctx, "t1", store.KindUser, a.ID); err != nil {
		t.Fatal(err)
	}
	if j := mustJob(t, s, store.KindUser, a.ID); j.State != store.JobPending || j.Attempts != 0 {
		t.Errorf("EnqueueJob did not unpark: %+v", j)
	}
	// One job per (tenant, kind, resource): a group job of the same id or
	// a job of another tenant are separate.
	if err := s.EnqueueJob(ctx, "t2", store.KindUser, a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.EnqueueJob(ctx, "t1", store.KindGroup, a.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(jobIndex(t, jobs(t, s))); n != 3 {
		t.Errorf("%d jobs, want 3", n)
	}
	// Bad input is refused and enqueues nothing.
	for _, bad := range []struct {
		tenant string
		kind   store.ResourceKind
		id     string
	}{{"t1", "Widget", "x"}, {"", store.KindUser, "x"}, {"t1", store.KindUser, ""}} {
		if err := s.EnqueueJob(ctx, bad.tenant, bad.kind, bad.id); err == nil {
			t.Errorf("EnqueueJob(%q, %q, %q) succeeded", bad.tenant, bad.kind, bad.id)
		}
	}
	if n := len(jobIndex(t, jobs(t, s))); n != 3 {
		t.Errorf("%d jobs after bad EnqueueJob calls, want 3", n)
	}
}

func testJobStats(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	stats := func() store.JobStats {
		t.Helper()
		st, err := s.JobStats(ctx)
		if err != nil {
			t.Fatalf("JobStats: %v", err)
		}
		return st
	}
	if st := stats(); st != (store.JobStats{}) {
		t.Errorf("stats of an empty store = %+v", st)
	}
	a := createUser(t, s, store.User{Tenant: "t1", UserName: "a"})
	t0 := c.Now()
	c.Advance(time.Minute)
	createUser(t, s, store.User{Tenant: "t2", UserName: "b"})
	c.Advance(time.Minute)
	createUser(t, s, store.User{Tenant: "t1", UserName: "c"})
	st := stats()
	if st.Pending != 3 || st.Parked != 0 || !st.OldestPending.Equal(t0) {
		t.Errorf("stats = %+v, want 3 pending, oldest %v", st, t0)
	}
	requireUTC(t, "OldestPending", st.OldestPending)
	if err := s.ParkJob(ctx, mustJob(t, s, store.KindUser, a.ID), "x"); err != nil {
		t.Fatal(err)
	}
	if st := stats(); st.Pending != 2 || st.Parked != 1 || !st.OldestPending.Equal(t0.Add(time.Minute)) {
		t.Errorf("stats with a parked = %+v, want 2 pending (oldest %v), 1 parked", st, t0.Add(time.Minute))
	}
	settleAll(t, s)
	if st := stats(); st.Pending != 0 || st.Parked != 1 || !st.OldestPending.IsZero() {
		t.Errorf("stats with only a parked job = %+v", st)
	}
}

// testEnqueueRuleForGroups checks the per-user enqueue rule of
// store.Store: after each group write, exactly the users whose flattened
// membership changed (and the groups whose member list changed) have jobs.
func testEnqueueRuleForGroups(t *testing.T, s EngineStore, _ *clock) {
	ctx := t.Context()
	label := map[string]string{}
	user := func(name string) store.User {
		u := createUser(t, s, store.User{Tenant: "t1", UserName: name})
		label[u.ID] = name
		return u
	}
	u1, u2, u3, u4, u5, u6 := user("u1"), user("u2"), user("u3"), user("u4"), user("u5"), user("u6")
	o := createUser(t, s, store.User{Tenant: "t2", UserName: "u1"})
	label[o.ID] = "other-tenant"
	group := func(lbl, name string, members ...string) store.Group {
		g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: name, Members: refs(members...)})
		label[g.ID] = lbl
		return g
	}
	enqueued := func() []string {
		t.Helper()
		var out []string
		for _, j := range jobs(t, s) {
			out = append(out, fmt.Sprintf("%s:%s", j.Kind, label[j.ResourceID]))
		}
		slices.Sort(out)
		settleAll(t, s)
		return out
	}
	check := func(step string, want ...string) {
		t.Helper()
		slices.Sort(want)
		if d := cmp.Diff(want, enqueued(), cmpOpts...); d != "" {
			t.Errorf("%s: jobs (-want +got):\n%s", step, d)
		}
	}
	updateGroup := func(g store.Group, fn func(*store.Group)) error {
		_, err := s.UpdateGroup(ctx, "t1", g.ID, func(x *store.Group) error { fn(x); return nil })
		return err
	}
	mustUpdate := func(g store.Group, fn func(*store.Group)) {
		t.Helper()
		if err := updateGroup(g, fn); err != nil {
			t.Fatalf("UpdateGroup(%s): %v", label[g.ID], err)
		}
	}
	settleAll(t, s)

	// Top > (later Mid >) Inner; Mid also holds u4.
	inner := group("Inner", "Inner", u3.ID)
	check("create Inner with u3", "Group:Inner", "User:u3")
	mid := group("Mid", "Mid", inner.ID, u4.ID)
	check("create Mid with Inner and u4", "Group:Mid", "User:u3", "User:u4")
	top := group("Top", "Top", u1.ID)
	check("create Top with u1", "Group:Top", "User:u1")
	group("New", "New", u5.ID, mid.ID)
	check("create New with u5 and Mid (two levels)", "Group:New", "User:u5", "User:u3", "User:u4")

	mustUpdate(top, func(g *store.Group) { g.Members = refs(u2.ID) })
	check("Top: u1 replaced by u2", "Group:Top", "User:u1", "User:u2")
	mustUpdate(top, func(g *store.Group) { g.Members = refs(u2.ID, mid.ID) })
	check("Top: Mid added", "Group:Top", "User:u3", "User:u4")
	mustUpdate(top, func(g *store.Group) { g.Members = refs(u2.ID) })
	check("Top: Mid removed", "Group:Top", "User:u3", "User:u4")
	mustUpdate(top, func(g *store.Group) { g.Members = refs(mid.ID, u2.ID) })
	check("Top: Mid added again", "Group:Top", "User:u3", "User:u4")

	mustUpdate(inner, func(g *store.Group) { g.Members = refs(u3.ID, u6.ID) })
	check("Inner: u6 added", "Group:Inner", "User:u6")
	mustUpdate(mid, func(g *store.Group) { g.Attributes = map[string]any{"description": "d"} })
	check("Mid: attribute only", "Group:Mid")
	mustUpdate(mid, func(g *store.Group) { g.DisplayName = "Middle" })
	check("Mid renamed", "Group:Mid", "User:u3", "User:u4", "User:u6")
	mustUpdate(mid, func(g *store.Group) { g.DisplayName = "MIDDLE" })
	check("Mid renamed in case only", "Group:Mid", "User:u3", "User:u4", "User:u6")
	mustUpdate(mid, func(g *store.Group) {})
	check("Mid: no change")
	if err := updateGroup(mid, func(g *store.Group) {
		g.DisplayName = "Renamed"
		g.Members = refs(u1.ID, "no-such-member")
	}); !errors.Is(err, store.ErrInvalidMember) {
		t.Errorf("UpdateGroup with an invalid member: %v", err)
	}
	check("Mid: failed update")

	if err := s.DeleteGroup(ctx, "t1", mid.ID); err != nil {
		t.Fatal(err)
	}
	// Top and New lost Mid as a member: their member lists changed too.
	check("Mid deleted", "Group:Mid", "Group:Top", "Group:New", "User:u3", "User:u4", "User:u6")
	if err := s.DeleteUser(ctx, "t1", u5.ID); err != nil {
		t.Fatal(err)
	}
	check("u5 deleted", "User:u5", "Group:New")
}

// testEnqueueRuleCycles: nested groups may form a cycle; the walk must end
// and still reach every user.
func testEnqueueRuleCycles(t *testing.T, s EngineStore, _ *clock) {
	ctx := t.Context()
	u := createUser(t, s, store.User{Tenant: "t1", UserName: "u"})
	v := createUser(t, s, store.User{Tenant: "t1", UserName: "v"})
	a := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "A", Members: refs(u.ID)})
	b := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "B", Members: refs(a.ID, v.ID)})
	if _, err := s.UpdateGroup(ctx, "t1", a.ID, func(g *store.Group) error { g.Members = refs(u.ID, b.ID); return nil }); err != nil {
		t.Fatalf("closing the cycle: %v", err)
	}
	settleAll(t, s)
	if _, err := s.UpdateGroup(ctx, "t1", a.ID, func(g *store.Group) error { g.DisplayName = "A2"; return nil }); err != nil {
		t.Fatalf("renaming a group in a cycle: %v", err)
	}
	idx := jobIndex(t, jobs(t, s))
	for _, k := range []jobKey{{"t1", store.KindGroup, a.ID}, {"t1", store.KindUser, u.ID}, {"t1", store.KindUser, v.ID}} {
		if _, ok := idx[k]; !ok {
			t.Errorf("renaming A (in a cycle with B) enqueued no job for %v", k)
		}
	}
	settleAll(t, s)
	if err := s.DeleteGroup(ctx, "t1", b.ID); err != nil {
		t.Fatal(err)
	}
	idx = jobIndex(t, jobs(t, s))
	for _, k := range []jobKey{{"t1", store.KindGroup, a.ID}, {"t1", store.KindGroup, b.ID}, {"t1", store.KindUser, u.ID}, {"t1", store.KindUser, v.ID}} {
		if _, ok := idx[k]; !ok {
			t.Errorf("deleting B (in a cycle with A) enqueued no job for %v", k)
		}
	}
}

func testTombstoneReads(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	attrs := sampleAttributes()
	a := createUser(t, s, store.User{Tenant: "t1", UserName: "alice", ExternalID: "ext-a", Active: true, Attributes: attrs})
	g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "Admins", ExternalID: "ext-g",
		Attributes: map[string]any{"description": "admins"}, Members: refs(a.ID)})

	live, deleted, err := s.GetUserAny(ctx, "t1", a.ID)
	if err != nil || deleted {
		t.Fatalf("GetUserAny(live) = deleted %v, %v", deleted, err)
	}
	if d := cmp.Diff(getUser(t, s, "t1", a.ID), live, cmpOpts...); d != "" {
		t.Errorf("GetUserAny of a live user differs from GetUser (-GetUser +GetUserAny):\n%s", d)
	}
	if len(live.Groups) != 1 || live.Groups[0].ID != g.ID {
		t.Errorf("live user's groups = %v", live.Groups)
	}
	lg, deleted, err := s.GetGroupAny(ctx, "t1", g.ID)
	if err != nil || deleted || lg.DisplayName != "Admins" || lg.Members != nil || lg.Version != 1 {
		t.Errorf("GetGroupAny(live) = %+v, deleted %v, %v", lg, deleted, err)
	}

	c.Advance(time.Second)
	if err := s.DeleteUser(ctx, "t1", a.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, "t1", g.ID); err != nil {
		t.Fatal(err)
	}
	// The names are free again; the tombstones keep what they had.
	createUser(t, s, store.User{Tenant: "t1", UserName: "ALICE"})
	createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "admins"})

	gone, deleted, err := s.GetUserAny(ctx, "t1", a.ID)
	if err != nil || !deleted {
		t.Fatalf("GetUserAny(deleted) = deleted %v, %v", deleted, err)
	}
	if gone.ID != a.ID || gone.UserName != "alice" || gone.ExternalID != "ext-a" || !gone.Active || gone.Tenant != "t1" {
		t.Errorf("tombstone = %+v", gone)
	}
	if d := cmp.Diff(attrs, gone.Attributes, cmpOpts...); d != "" {
		t.Errorf("tombstone attributes (-want +got):\n%s", d)
	}
	if len(gone.Groups) != 0 {
		t.Errorf("deleted user still has groups %v", gone.Groups)
	}
	requireUTC(t, "tombstone", gone.CreatedAt, gone.UpdatedAt)
	gg, deleted, err := s.GetGroupAny(ctx, "t1", g.ID)
	if err != nil || !deleted {
		t.Fatalf("GetGroupAny(deleted) = deleted %v, %v", deleted, err)
	}
	if gg.DisplayName != "Admins" || gg.ExternalID != "ext-g" || gg.Attributes["description"] != "admins" || gg.Members != nil {
		t.Errorf("group tombstone = %+v", gg)
	}

	for _, q := range []struct{ tenant, id string }{{"t2", a.ID}, {"t1", "no-such-id"}, {"t1", g.ID}} {
		if _, _, err := s.GetUserAny(ctx, q.tenant, q.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetUserAny(%q, %q): %v, want ErrNotFound", q.tenant, q.id, err)
		}
	}
	for _, q := range []struct{ tenant, id string }{{"t2", g.ID}, {"t1", "no-such-id"}, {"t1", a.ID}} {
		if _, _, err := s.GetGroupAny(ctx, q.tenant, q.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetGroupAny(%q, %q): %v, want ErrNotFound", q.tenant, q.id, err)
		}
	}
}

func testGroupsContaining(t *testing.T, s EngineStore, _ *clock) {
	ctx := t.Context()
	u := createUser(t, s, store.User{Tenant: "t1", UserName: "u"})
	v := createUser(t, s, store.User{Tenant: "t1", UserName: "v"})
	g1 := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "g1", Members: refs(u.ID)})
	g2 := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "G2", Members: refs(u.ID, g1.ID)})
	g3 := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "g3", Members: refs(g2.ID)})
	dead := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "dead", Members: refs(u.ID)})
	if err := s.DeleteGroup(ctx, "t1", dead.ID); err != nil {
		t.Fatal(err)
	}
	createGroup(t, s, store.Group{Tenant: "t2", DisplayName: "elsewhere"})

	ids := func(refs []store.GroupRef) []string {
		out := make([]string, len(refs))
		for i, r := range refs {
			out[i] = r.ID
		}
		slices.Sort(out)
		return out
	}
	for _, c := range []struct {
		tenant  string
		members []string
		want    []string
	}{
		{"t1", []string{u.ID}, sorted(g1.ID, g2.ID)},
		{"t1", []string{u.ID, g1.ID}, sorted(g1.ID, g2.ID)}, // G2 once
		{"t1", []string{g1.ID}, []string{g2.ID}},
		{"t1", []string{g2.ID, g3.ID}, []string{g3.ID}},
		{"t1", []string{v.ID}, nil},
		{"t1", nil, nil},
		{"t2", []string{u.ID}, nil},
	} {
		got, err := s.GroupsContaining(ctx, c.tenant, c.members)
		if err != nil {
			t.Fatalf("GroupsContaining: %v", err)
		}
		if d := cmp.Diff(c.want, ids(got), cmpOpts...); d != "" {
			t.Errorf("GroupsContaining(%s, %v) (-want +got):\n%s", c.tenant, c.members, d)
		}
		for _, r := range got {
			if r.DisplayName == "" {
				t.Errorf("GroupRef without display name: %+v", r)
			}
		}
	}
}
