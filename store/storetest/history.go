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

// Links and the run history.

func ptrTime(t time.Time) *time.Time { return &t }

func putLink(t *testing.T, s EngineStore, l store.Link) {
	t.Helper()
	if err := s.PutLink(t.Context(), l); err != nil {
		t.Fatalf("PutLink(%s/%s/%s): %v", l.Target, l.Tenant, l.ResourceID, err)
	}
}

func getLink(t *testing.T, s EngineStore, target, tenant, id string) store.Link {
	t.Helper()
	l, err := s.GetLink(t.Context(), target, tenant, id)
	if err != nil {
		t.Fatalf("GetLink(%s/%s/%s): %v", target, tenant, id, err)
	}
	return l
}

func testLinks(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	zone := time.FixedZone("X", -5*3600)
	full := store.Link{
		Target: "jira", Tenant: "t1", ResourceID: "r1", Kind: store.KindUser,
		DesiredName: "Ada", Priority: 20,
		Desired:     []byte(`{"present":true,"groups":["a"]}`),
		Applied:     []byte{0, 1, 2, 0xff},
		AppliedName: "ada.old", Key: "JIRAUSER10001", State: store.LinkDeactivated,
		DeactivatedAt:     ptrTime(time.Date(2026, 4, 1, 8, 0, 0, 5, zone)),
		DeactivatedReason: "inactivity",
		LastLoginAt:       ptrTime(time.Date(2026, 3, 1, 8, 0, 0, 7, zone)),
		UpdatedAt:         time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), // the store's to set
	}
	putLink(t, s, full)
	got := getLink(t, s, "jira", "t1", "r1")
	want := full
	want.UpdatedAt = c.Now()
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("link round trip (-want +got):\n%s", d)
	}
	requireUTC(t, "link", got.UpdatedAt, *got.DeactivatedAt, *got.LastLoginAt)

	// Replacing: every field follows, nil times and nil documents included,
	// except the last login, which keeps the later of the two.
	c.Advance(time.Minute)
	bare := store.Link{Target: "jira", Tenant: "t1", ResourceID: "r1", Kind: store.KindUser, State: store.LinkPending}
	putLink(t, s, bare)
	got = getLink(t, s, "jira", "t1", "r1")
	if got.LastLoginAt == nil || !got.LastLoginAt.Equal(*full.LastLoginAt) {
		t.Errorf("a link written without a last login erased the stored one: %v, want %v", got.LastLoginAt, full.LastLoginAt)
	}
	older := bare
	older.LastLoginAt = ptrTime(full.LastLoginAt.Add(-time.Hour))
	putLink(t, s, older)
	if got := getLink(t, s, "jira", "t1", "r1"); got.LastLoginAt == nil || !got.LastLoginAt.Equal(*full.LastLoginAt) {
		t.Errorf("an older last login replaced a later one: %v, want %v", got.LastLoginAt, full.LastLoginAt)
	}
	later := bare
	later.LastLoginAt = ptrTime(full.LastLoginAt.Add(time.Hour))
	if err := s.PutLinks(t.Context(), []store.Link{later}); err != nil {
		t.Fatalf("PutLinks: %v", err)
	}
	if got := getLink(t, s, "jira", "t1", "r1"); got.LastLoginAt == nil || !got.LastLoginAt.Equal(*later.LastLoginAt) {
		t.Errorf("a later last login was not kept: %v, want %v", got.LastLoginAt, later.LastLoginAt)
	}
	got = getLink(t, s, "jira", "t1", "r1")
	if got.DeactivatedAt != nil || len(got.Desired) != 0 || len(got.Applied) != 0 ||
		got.DesiredName != "" || got.AppliedName != "" || got.Key != "" || got.Priority != 0 || got.DeactivatedReason != "" ||
		got.State != store.LinkPending || !got.UpdatedAt.Equal(c.Now()) {
		t.Errorf("replaced link = %+v, want the bare link updated at %v", got, c.Now())
	}

	// The key is (target, tenant, resource): the same resource elsewhere
	// is another link.
	putLink(t, s, store.Link{Target: "confluence", Tenant: "t1", ResourceID: "r1", Kind: store.KindUser, State: store.LinkActive})
	putLink(t, s, store.Link{Target: "jira", Tenant: "t2", ResourceID: "r1", Kind: store.KindUser, State: store.LinkSkipped})
	if l := getLink(t, s, "jira", "t1", "r1"); l.State != store.LinkPending {
		t.Errorf("another target's or tenant's link overwrote this one: %+v", l)
	}
	for _, k := range [][3]string{{"jira", "t1", "r2"}, {"crowd", "t1", "r1"}, {"jira", "t3", "r1"}} {
		if _, err := s.GetLink(ctx, k[0], k[1], k[2]); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetLink(%v): %v, want ErrNotFound", k, err)
		}
	}

	// Bad input is refused and changes nothing.
	for _, bad := range []store.Link{
		{Target: "jira", Tenant: "t1", ResourceID: "r1", Kind: store.KindUser, State: "bogus"},
		{Target: "jira", Tenant: "t1", ResourceID: "r1", Kind: "Widget", State: store.LinkActive},
		{Target: "", Tenant: "t1", ResourceID: "r1", Kind: store.KindUser, State: store.LinkActive},
		{Target: "jira", Tenant: "", ResourceID: "r1", Kind: store.KindUser, State: store.LinkActive},
		{Target: "jira", Tenant: "t1", ResourceID: "", Kind: store.KindUser, State: store.LinkActive},
	} {
		if err := s.PutLink(ctx, bad); err == nil {
			t.Errorf("PutLink(%+v) succeeded", bad)
		}
	}
	if l := getLink(t, s, "jira", "t1", "r1"); l.State != store.LinkPending || l.Kind != store.KindUser {
		t.Errorf("refused PutLink changed the link: %+v", l)
	}
}

func linkKeys(ls []store.Link) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l.Tenant + "/" + l.ResourceID
	}
	slices.Sort(out)
	return out
}

func testLinksByDesiredName(t *testing.T, s EngineStore, _ *clock) {
	ctx := t.Context()
	for _, l := range []store.Link{
		{Target: "jira", Tenant: "t1", ResourceID: "r1", Kind: store.KindUser, DesiredName: "Gus", State: store.LinkActive, Priority: 10},
		{Target: "jira", Tenant: "t2", ResourceID: "r2", Kind: store.KindUser, DesiredName: "gus", State: store.LinkSkipped, Priority: 20},
		{Target: "jira", Tenant: "t1", ResourceID: "g1", Kind: store.KindGroup, DesiredName: "GUS", State: store.LinkActive},
		{Target: "confluence", Tenant: "t1", ResourceID: "r1", Kind: store.KindUser, DesiredName: "gus", State: store.LinkActive},
		{Target: "jira", Tenant: "t1", ResourceID: "r3", Kind: store.KindUser, DesiredName: "gustav", State: store.LinkActive},
		{Target: "jira", Tenant: "t1", ResourceID: "r4", Kind: store.KindUser, DesiredName: "ÅSA", State: store.LinkDeleted},
	} {
		putLink(t, s, l)
	}
	by := func(target string, kind store.ResourceKind, name string) []store.Link {
		t.Helper()
		ls, err := s.LinksByDesiredName(ctx, target, kind, name)
		if err != nil {
			t.Fatalf("LinksByDesiredName(%s, %s, %q): %v", target, kind, name, err)
		}
		return ls
	}
	for _, c := range []struct {
		target string
		kind   store.ResourceKind
		name   string
		want   []string
	}{
		{"jira", store.KindUser, "gUS", []string{"t1/r1", "t2/r2"}},
		{"jira", store.KindGroup, "gus", []string{"t1/g1"}},
		{"confluence", store.KindUser, "GUS", []string{"t1/r1"}},
		{"jira", store.KindUser, "åsa", []string{"t1/r4"}},
		{"jira", store.KindUser, "gu", nil},
		{"crowd", store.KindUser, "gus", nil},
	} {
		if d := cmp.Diff(c.want, linkKeys(by(c.target, c.kind, c.name)), cmpOpts...); d != "" {
			t.Errorf("LinksByDesiredName(%s, %s, %q) (-want +got):\n%s", c.target, c.kind, c.name, d)
		}
	}
	// The links come back whole.
	if ls := by("jira", store.KindUser, "GUS"); len(ls) == 2 {
		for _, l := range ls {
			if (l.Tenant == "t2") != (l.Priority == 20 && l.State == store.LinkSkipped && l.DesiredName == "gus") {
				t.Errorf("link read back = %+v", l)
			}
		}
	}
	// A new desired name moves the link.
	putLink(t, s, store.Link{Target: "jira", Tenant: "t1", ResourceID: "r1", Kind: store.KindUser, DesiredName: "Augustus", State: store.LinkActive})
	if d := cmp.Diff([]string{"t2/r2"}, linkKeys(by("jira", store.KindUser, "gus"))); d != "" {
		t.Errorf("after renaming r1 (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"t1/r1"}, linkKeys(by("jira", store.KindUser, "AUGUSTUS"))); d != "" {
		t.Errorf("r1 under its new name (-want +got):\n%s", d)
	}
}

func testListLinks(t *testing.T, s EngineStore, _ *clock) {
	ctx := t.Context()
	// More than a page of a paging backend; written concurrently so a
	// group-committing backend needs few transactions.
	const n = 300
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- s.PutLink(ctx, store.Link{Target: "bulk", Tenant: fmt.Sprintf("t%d", i%3), ResourceID: fmt.Sprintf("r%03d", i),
				Kind: store.KindUser, DesiredName: fmt.Sprintf("user%d", i), State: store.LinkActive})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	putLink(t, s, store.Link{Target: "other", Tenant: "t0", ResourceID: "r000", Kind: store.KindUser, State: store.LinkActive})

	walk := func() []string {
		t.Helper()
		var keys []string
		err := s.ListLinks(ctx, "bulk", func(l store.Link) error {
			if l.Target != "bulk" {
				t.Errorf("ListLinks(bulk) yields a link of %q", l.Target)
			}
			keys = append(keys, l.Tenant+"/"+l.ResourceID)
			return nil
		})
		if err != nil {
			t.Fatalf("ListLinks: %v", err)
		}
		return keys
	}
	first := walk()
	if len(first) != n {
		t.Fatalf("ListLinks yielded %d links, want %d", len(first), n)
	}
	if uniq := slices.Compact(slices.Sorted(slices.Values(first))); len(uniq) != n {
		t.Errorf("ListLinks yielded duplicates: %d distinct of %d", len(uniq), n)
	}
	if second := walk(); !slices.Equal(first, second) {
		t.Error("two walks gave different orders")
	}

	// fn may write while the walk goes on; each link is still seen once.
	seen := map[string]int{}
	err := s.ListLinks(ctx, "bulk", func(l store.Link) error {
		seen[l.Tenant+"/"+l.ResourceID]++
		l.State = store.LinkDeactivated
		return s.PutLink(ctx, l)
	})
	if err != nil {
		t.Fatalf("ListLinks with writes in fn: %v", err)
	}
	if len(seen) != n {
		t.Errorf("walk with writes saw %d links, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("link %s seen %d times", k, c)
		}
	}
	if l := getLink(t, s, "bulk", "t1", "r001"); l.State != store.LinkDeactivated {
		t.Errorf("write during the walk lost: %+v", l)
	}

	// fn's error stops the walk and comes back.
	calls := 0
	err = s.ListLinks(ctx, "bulk", func(store.Link) error { calls++; return errSentinel })
	if !errors.Is(err, errSentinel) || calls != 1 {
		t.Errorf("ListLinks with a failing fn: %v after %d calls, want errSentinel after 1", err, calls)
	}
	if err := s.ListLinks(ctx, "none", func(store.Link) error { return errSentinel }); err != nil {
		t.Errorf("ListLinks of an empty target: %v", err)
	}
}

func createRun(t *testing.T, s EngineStore, r store.Run) store.Run {
	t.Helper()
	got, err := s.CreateRun(t.Context(), r)
	if err != nil {
		t.Fatalf("CreateRun: %v", err)
	}
	return got
}

func getRun(t *testing.T, s EngineStore, id int64) store.Run {
	t.Helper()
	r, err := s.GetRun(t.Context(), id)
	if err != nil {
		t.Fatalf("GetRun(%d): %v", id, err)
	}
	return r
}

func testRuns(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	r1 := createRun(t, s, store.Run{Kind: "push", Trigger: "scim", Status: "running", StartedAt: c.Now(), Counts: map[string]int{}})
	if r1.ID == 0 || r1.Kind != "push" || r1.Trigger != "scim" || r1.Status != "running" || !r1.StartedAt.Equal(c.Now()) || r1.FinishedAt != nil {
		t.Errorf("CreateRun = %+v", r1)
	}
	if d := cmp.Diff(r1, getRun(t, s, r1.ID), cmpOpts...); d != "" {
		t.Errorf("GetRun after CreateRun (-created +read):\n%s", d)
	}
	requireUTC(t, "run", getRun(t, s, r1.ID).StartedAt)
	c.Advance(time.Minute)
	r2 := createRun(t, s, store.Run{Kind: "reconcile", Trigger: "cron", Status: "queued", StartedAt: c.Now()})
	r3 := createRun(t, s, store.Run{Kind: "dry-run", Trigger: "api", Status: "running", StartedAt: c.Now()})
	if r2.ID == r1.ID || r3.ID == r2.ID {
		t.Fatalf("run ids not distinct: %d %d %d", r1.ID, r2.ID, r3.ID)
	}

	c.Advance(time.Minute)
	done := c.Now()
	upd := r1
	upd.Kind, upd.Trigger, upd.StartedAt = "ignored", "ignored", time.Time{} // not replaced by UpdateRun
	upd.Status, upd.FinishedAt, upd.Error = "failed", &done, "1 resource(s) failed"
	upd.Counts = map[string]int{"created": 2, "failed": 1}
	if err := s.UpdateRun(ctx, upd); err != nil {
		t.Fatalf("UpdateRun: %v", err)
	}
	want := r1
	want.Status, want.FinishedAt, want.Error, want.Counts = "failed", &done, "1 resource(s) failed", map[string]int{"created": 2, "failed": 1}
	got := getRun(t, s, r1.ID)
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("GetRun after UpdateRun (-want +got):\n%s", d)
	}
	requireUTC(t, "finished run", *got.FinishedAt)

	if err := s.UpdateRun(ctx, store.Run{ID: r3.ID + 1000, Status: "succeeded"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateRun of an unknown run: %v", err)
	}
	if _, err := s.GetRun(ctx, r3.ID+1000); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetRun of an unknown run: %v", err)
	}

	list := func(limit int) []int64 {
		t.Helper()
		rs, err := s.ListRuns(ctx, limit)
		if err != nil {
			t.Fatalf("ListRuns: %v", err)
		}
		ids := make([]int64, len(rs))
		for i, r := range rs {
			ids[i] = r.ID
		}
		return ids
	}
	if got := list(10); !slices.Equal(got, []int64{r3.ID, r2.ID, r1.ID}) {
		t.Errorf("ListRuns = %v, want newest first %v", got, []int64{r3.ID, r2.ID, r1.ID})
	}
	if got := list(2); !slices.Equal(got, []int64{r3.ID, r2.ID}) {
		t.Errorf("ListRuns(2) = %v", got)
	}
	if rs, err := s.ListRuns(ctx, 10); err == nil && len(rs) == 3 {
		if d := cmp.Diff(want, rs[2], cmpOpts...); d != "" {
			t.Errorf("ListRuns entry (-want +got):\n%s", d)
		}
	}

	// Bad input.
	if _, err := s.CreateRun(ctx, store.Run{Trigger: "x", Status: "running"}); err == nil {
		t.Error("CreateRun without a kind succeeded")
	}
	if got := list(10); len(got) != 3 {
		t.Errorf("%d runs after a refused CreateRun, want 3", len(got))
	}
}

// changesSample has every JSON shape, with the Go types a read gives back.
func changesSample() map[string]store.Change {
	return map[string]store.Change{
		"display_name": {Before: nil, After: "Ada"},
		"active":       {Before: true, After: false},
		"groups":       {Before: []any{"a"}, After: []any{"a", "b"}},
		"count":        {Before: int64(3), After: 4.5},
		"whole":        {Before: 2.0, After: int64(-7)},
		"nested": {Before: map[string]any{
			"n": int64(1), "f": 1.25, "ok": true, "none": nil,
			"list": []any{int64(2), "x", nil, map[string]any{"deep": []any{}}},
		}, After: map[string]any{}},
	}
}

func addResults(t *testing.T, s EngineStore, rs ...store.Result) {
	t.Helper()
	if err := s.AddResults(t.Context(), rs); err != nil {
		t.Fatalf("AddResults: %v", err)
	}
}

func listResults(t *testing.T, s EngineStore, run int64, q store.ResultQuery) []store.Result {
	t.Helper()
	rs, err := s.ListResults(t.Context(), run, q)
	if err != nil {
		t.Fatalf("ListResults(%d, %+v): %v", run, q, err)
	}
	return rs
}

func actions(rs []store.Result) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.UserName + ":" + r.Action
	}
	return out
}

func testResults(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	run := createRun(t, s, store.Run{Kind: "push", Trigger: "scim", Status: "running", StartedAt: c.Now()})
	other := createRun(t, s, store.Run{Kind: "push", Trigger: "scim", Status: "running", StartedAt: c.Now()})
	at := c.Now()
	res := func(user, action string) store.Result {
		return store.Result{RunID: run.ID, Tenant: "t1", ResourceID: "id-" + user, UserName: user, Target: "jira", Action: action, At: at}
	}
	created := res("alice", "created")
	created.Changes = changesSample()
	failed := res("carol", "failed")
	failed.Error = "HTTP 400: bad email"
	renamed := res("ALICE", "renamed")
	renamed.Changes = map[string]store.Change{"username": {Before: "alice", After: "ALICE"}}
	addResults(t, s, created, res("bob", "unchanged"), failed)
	addResults(t, s, renamed, res("dave", "unchanged"), res("Group G", "group-created"))
	addResults(t, s, store.Result{RunID: other.ID, Tenant: "t1", ResourceID: "id-alice", UserName: "alice", Action: "updated", At: at})
	if err := s.AddResults(ctx, nil); err != nil {
		t.Errorf("AddResults(nil): %v", err)
	}

	got := listResults(t, s, run.ID, store.ResultQuery{})
	if d := cmp.Diff([]string{"alice:created", "carol:failed", "ALICE:renamed", "Group G:group-created"}, actions(got)); d != "" {
		t.Errorf("ListResults (-want +got):\n%s", d)
	}
	if len(got) == 4 {
		if d := cmp.Diff([]store.Result{created, failed, renamed}, got[:3]); d != "" {
			t.Errorf("results read back (-written +read):\n%s", d)
		}
		if got[3].Changes != nil {
			t.Errorf("nil Changes read back as %#v", got[3].Changes)
		}
		requireUTC(t, "result", got[0].At)
	}
	for _, c := range []struct {
		q    store.ResultQuery
		want []string
	}{
		{store.ResultQuery{All: true}, []string{"alice:created", "bob:unchanged", "carol:failed", "ALICE:renamed", "dave:unchanged", "Group G:group-created"}},
		{store.ResultQuery{Action: "failed"}, []string{"carol:failed"}},
		{store.ResultQuery{Action: "unchanged"}, []string{"bob:unchanged", "dave:unchanged"}},
		{store.ResultQuery{User: "Alice"}, []string{"alice:created", "ALICE:renamed"}},
		{store.ResultQuery{User: "alice", Action: "renamed"}, []string{"ALICE:renamed"}},
		{store.ResultQuery{User: "BOB"}, nil},
		{store.ResultQuery{User: "BOB", All: true}, []string{"bob:unchanged"}},
		{store.ResultQuery{Limit: 2}, []string{"alice:created", "carol:failed"}},
		{store.ResultQuery{Limit: 2, All: true}, []string{"alice:created", "bob:unchanged"}},
		{store.ResultQuery{Action: "deleted"}, nil},
	} {
		if d := cmp.Diff(c.want, actions(listResults(t, s, run.ID, c.q)), cmpOpts...); d != "" {
			t.Errorf("ListResults(%+v) (-want +got):\n%s", c.q, d)
		}
	}
	if got := listResults(t, s, other.ID+1000, store.ResultQuery{All: true}); len(got) != 0 {
		t.Errorf("results of an unknown run: %v", actions(got))
	}

	// AddResults is all or nothing: a result of an unknown run fails the
	// whole call.
	err := s.AddResults(ctx, []store.Result{res("erin", "created"), {RunID: other.ID + 1000, Tenant: "t1", ResourceID: "x", Action: "created", At: at}})
	if err == nil {
		t.Error("AddResults with an unknown run succeeded")
	}
	if n := len(listResults(t, s, run.ID, store.ResultQuery{All: true})); n != 6 {
		t.Errorf("%d results after a failed AddResults, want 6", n)
	}
}

func testUserHistory(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	var runs []store.Run
	for i := range 3 {
		r := createRun(t, s, store.Run{Kind: "push", Trigger: "scim", Status: "running", StartedAt: c.Now()})
		runs = append(runs, r)
		addResults(t, s,
			store.Result{RunID: r.ID, Tenant: "t1", ResourceID: "u1", UserName: "ada", Target: "jira", Action: fmt.Sprintf("a%d", i), At: c.Now()},
			store.Result{RunID: r.ID, Tenant: "t2", ResourceID: "u1", UserName: "ada", Target: "jira", Action: "other-tenant", At: c.Now()},
			store.Result{RunID: r.ID, Tenant: "t1", ResourceID: "u2", UserName: "bob", Target: "jira", Action: "other-user", At: c.Now()},
		)
		c.Advance(time.Minute)
		addResults(t, s, store.Result{RunID: r.ID, Tenant: "t1", ResourceID: "u1", UserName: "ada", Target: "confluence",
			Action: fmt.Sprintf("b%d", i), At: c.Now()})
		c.Advance(time.Minute)
	}
	hist, err := s.UserHistory(ctx, "t1", "u1", 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range hist {
		got = append(got, r.Action)
	}
	if d := cmp.Diff([]string{"b2", "a2", "b1", "a1", "b0", "a0"}, got); d != "" {
		t.Errorf("UserHistory (-want +got):\n%s", d)
	}
	if len(hist) > 0 && (hist[0].RunID != runs[2].ID || hist[0].Target != "confluence" || hist[0].Tenant != "t1") {
		t.Errorf("newest history entry = %+v", hist[0])
	}
	if hist, err := s.UserHistory(ctx, "t1", "u1", 2); err != nil || len(hist) != 2 || hist[0].Action != "b2" || hist[1].Action != "a2" {
		t.Errorf("UserHistory limit 2 = %v, %v", actions(hist), err)
	}
	if hist, err := s.UserHistory(ctx, "t3", "u1", 10); err != nil || len(hist) != 0 {
		t.Errorf("UserHistory of another tenant = %v, %v", actions(hist), err)
	}
}

func testPruneRuns(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	start := c.Now()
	cutoff := start.Add(time.Hour)
	mk := func(name string, finished *time.Time) store.Run {
		t.Helper()
		r := createRun(t, s, store.Run{Kind: "push", Trigger: "scim", Status: "running", StartedAt: start})
		if finished != nil {
			r.Status, r.FinishedAt = "succeeded", finished
			if err := s.UpdateRun(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		addResults(t, s,
			store.Result{RunID: r.ID, Tenant: "t1", ResourceID: "u1", UserName: "ada", Action: name, At: start},
			store.Result{RunID: r.ID, Tenant: "t1", ResourceID: "u2", UserName: "bob", Action: name, At: start})
		return r
	}
	old1 := mk("old1", ptrTime(cutoff.Add(-time.Hour)))
	running := mk("running", nil)
	old2 := mk("old2", ptrTime(cutoff.Add(-time.Nanosecond)))
	atCutoff := mk("at-cutoff", ptrTime(cutoff))
	recent := mk("recent", ptrTime(cutoff.Add(time.Minute)))

	n, err := s.PruneRuns(ctx, cutoff)
	if err != nil || n != 2 {
		t.Fatalf("PruneRuns = %d, %v; want 2", n, err)
	}
	for _, r := range []store.Run{old1, old2} {
		if _, err := s.GetRun(ctx, r.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("pruned run %d: GetRun %v", r.ID, err)
		}
		if rs := listResults(t, s, r.ID, store.ResultQuery{All: true}); len(rs) != 0 {
			t.Errorf("pruned run %d keeps results %v", r.ID, actions(rs))
		}
	}
	for _, r := range []store.Run{running, atCutoff, recent} {
		getRun(t, s, r.ID)
		if rs := listResults(t, s, r.ID, store.ResultQuery{All: true}); len(rs) != 2 {
			t.Errorf("kept run %d has %d results, want 2", r.ID, len(rs))
		}
	}
	hist, err := s.UserHistory(ctx, "t1", "u1", 100)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range hist {
		names = append(names, r.Action)
	}
	slices.Sort(names)
	if d := cmp.Diff([]string{"at-cutoff", "recent", "running"}, names); d != "" {
		t.Errorf("history after pruning (-want +got):\n%s", d)
	}
	if n, err := s.PruneRuns(ctx, cutoff); err != nil || n != 0 {
		t.Errorf("second PruneRuns = %d, %v; want 0", n, err)
	}
	if rs, _ := s.ListRuns(ctx, 10); len(rs) != 3 {
		t.Errorf("%d runs left, want 3", len(rs))
	}
}
