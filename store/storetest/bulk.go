package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
)

// The bulk reads and writes a full reconcile uses: EachUser, GroupMembers,
// GetLinks, PutLinks and StrandedLinks.

func testBulk(t *testing.T, s EngineStore, c *clock) {
	t.Run("EachUser", func(t *testing.T) { testEachUser(t, s) })
	t.Run("GroupMembers", func(t *testing.T) { testGroupMemberLists(t, s) })
	t.Run("GetLinks", func(t *testing.T) { testGetLinks(t, s) })
	t.Run("PutLinks", func(t *testing.T) { testPutLinks(t, s, c) })
	t.Run("StrandedLinks", func(t *testing.T) { testStrandedLinks(t, s) })
}

func testEachUser(t *testing.T, s EngineStore) {
	ctx := t.Context()
	// More than a page of a paging backend, written concurrently so a
	// group-committing backend needs few transactions.
	const n = 1100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			_, err := s.CreateUser(ctx, store.User{Tenant: "each", UserName: fmt.Sprintf("user%04d", i), Active: i%2 == 0,
				Attributes: map[string]any{"displayName": fmt.Sprintf("User %d", i), "title": "x"}})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	page, total, err := s.ListUsers(ctx, "each", store.Query{Limit: 2 * n})
	if err != nil || total != n {
		t.Fatalf("ListUsers: %d users, %v", total, err)
	}
	g := createGroup(t, s, store.Group{Tenant: "each", DisplayName: "g", Members: refs(page[3].ID, page[700].ID)})
	gone := page[5]
	if err := s.DeleteUser(ctx, "each", gone.ID); err != nil {
		t.Fatal(err)
	}
	createUser(t, s, store.User{Tenant: "other", UserName: "user0000"})
	want, _, err := s.ListUsers(ctx, "each", store.Query{Limit: 2 * n})
	if err != nil {
		t.Fatal(err)
	}

	each := func(withGroups bool) []store.User {
		t.Helper()
		var got []store.User
		if err := s.EachUser(ctx, "each", withGroups, func(u store.User) error {
			got = append(got, u)
			return nil
		}); err != nil {
			t.Fatalf("EachUser: %v", err)
		}
		return got
	}
	got := each(true)
	// Same users, same order, same fields (groups included) as ListUsers.
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("EachUser differs from ListUsers (-want +got):\n%s", d)
	}
	for _, u := range got {
		if u.ID == gone.ID {
			t.Errorf("EachUser yields the deleted user %s", u.ID)
		}
		if u.ID == page[700].ID && (len(u.Groups) != 1 || u.Groups[0].ID != g.ID || u.Groups[0].DisplayName != "g") {
			t.Errorf("user %s groups = %+v, want [g]", u.UserName, u.Groups)
		}
	}
	// Without groups: the same but Groups.
	for i := range want {
		want[i].Groups = nil
	}
	if d := cmp.Diff(want, each(false)); d != "" {
		t.Errorf("EachUser without groups differs from ListUsers without groups (-want +got):\n%s", d)
	}

	// fn may write while the walk goes on; each user is still seen once.
	seen := map[string]int{}
	err = s.EachUser(ctx, "each", false, func(u store.User) error {
		seen[u.ID]++
		if len(seen)%250 == 0 {
			_, err := s.UpdateUser(ctx, "each", u.ID, func(x *store.User) error { x.Active = !x.Active; return nil })
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("EachUser with writes in fn: %v", err)
	}
	if len(seen) != n-1 {
		t.Errorf("walk with writes saw %d users, want %d", len(seen), n-1)
	}
	for id, c := range seen {
		if c != 1 {
			t.Errorf("user %s seen %d times", id, c)
		}
	}

	// fn's error stops the walk and comes back as is.
	calls := 0
	err = s.EachUser(ctx, "each", true, func(store.User) error { calls++; return errSentinel })
	if !errors.Is(err, errSentinel) || calls != 1 {
		t.Errorf("EachUser with a failing fn: %v after %d calls, want errSentinel after 1", err, calls)
	}
	if err := s.EachUser(ctx, "nobody", true, func(store.User) error { return errSentinel }); err != nil {
		t.Errorf("EachUser of an empty tenant: %v", err)
	}
}

func testGroupMemberLists(t *testing.T, s EngineStore) {
	ctx := t.Context()
	u := createUser(t, s, store.User{Tenant: "nest", UserName: "u"})
	v := createUser(t, s, store.User{Tenant: "nest", UserName: "v"})
	gone := createUser(t, s, store.User{Tenant: "nest", UserName: "gone"})
	leaf := createGroup(t, s, store.Group{Tenant: "nest", DisplayName: "leaf", Members: refs(u.ID, v.ID, gone.ID)})
	mid := createGroup(t, s, store.Group{Tenant: "nest", DisplayName: "Mid", Members: refs(leaf.ID, v.ID)})
	top := createGroup(t, s, store.Group{Tenant: "nest", DisplayName: "top", Members: refs(mid.ID, leaf.ID)})
	alone := createGroup(t, s, store.Group{Tenant: "nest", DisplayName: "alone"})
	dead := createGroup(t, s, store.Group{Tenant: "nest", DisplayName: "dead", Members: refs(top.ID, u.ID)})
	if err := s.DeleteGroup(ctx, "nest", dead.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, "nest", gone.ID); err != nil {
		t.Fatal(err)
	}
	createGroup(t, s, store.Group{Tenant: "other", DisplayName: "elsewhere"})

	got, err := s.GroupMembers(ctx, "nest")
	if err != nil {
		t.Fatalf("GroupMembers: %v", err)
	}
	// Ordered by display name case-insensitively; deleted groups and users
	// are neither nodes nor members.
	want := []store.GroupNode{
		{ID: alone.ID, DisplayName: "alone"},
		{ID: leaf.ID, DisplayName: "leaf", Users: sorted(u.ID, v.ID)},
		{ID: mid.ID, DisplayName: "Mid", Users: []string{v.ID}, Groups: []string{leaf.ID}},
		{ID: top.ID, DisplayName: "top", Groups: sorted(mid.ID, leaf.ID)},
	}
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("GroupMembers (-want +got):\n%s", d)
	}
	// The users' groups agree with GetUser's, order included.
	for _, id := range []string{u.ID, v.ID} {
		user, err := s.GetUser(ctx, "nest", id)
		if err != nil {
			t.Fatal(err)
		}
		var fromNodes []store.GroupRef
		for _, n := range got {
			if slices.Contains(n.Users, id) {
				fromNodes = append(fromNodes, store.GroupRef{ID: n.ID, DisplayName: n.DisplayName})
			}
		}
		if d := cmp.Diff(user.Groups, fromNodes, cmpOpts...); d != "" {
			t.Errorf("user %s: GetUser's groups vs GroupMembers' (-GetUser +GroupMembers):\n%s", user.UserName, d)
		}
	}
	if got, err := s.GroupMembers(ctx, "nobody"); err != nil || len(got) != 0 {
		t.Errorf("GroupMembers of an empty tenant = %+v, %v", got, err)
	}
}

func testGetLinks(t *testing.T, s EngineStore) {
	ctx := t.Context()
	for _, l := range []store.Link{
		{Target: "jira", Tenant: "t1", ResourceID: "b", Kind: store.KindUser, AppliedName: "bee", State: store.LinkActive,
			Applied: []byte(`{"present":true}`)},
		{Target: "jira", Tenant: "t1", ResourceID: "a", Kind: store.KindUser, State: store.LinkPending},
		{Target: "jira", Tenant: "t1", ResourceID: "g", Kind: store.KindGroup, State: store.LinkActive},
		{Target: "jira", Tenant: "t2", ResourceID: "c", Kind: store.KindUser, State: store.LinkActive},
		{Target: "conf", Tenant: "t1", ResourceID: "c", Kind: store.KindUser, State: store.LinkActive},
	} {
		putLink(t, s, l)
	}
	keys := func(ls []store.Link) []string {
		var out []string
		for _, l := range ls {
			out = append(out, l.Target+"/"+l.Tenant+"/"+l.ResourceID)
		}
		return out
	}
	for _, c := range []struct {
		target, tenant string
		ids            []string
		want           []string
	}{
		{"jira", "t1", []string{"b", "missing", "a", "b", "g"}, []string{"jira/t1/a", "jira/t1/b", "jira/t1/g"}},
		{"jira", "t1", []string{"c"}, nil}, // another tenant's and another target's
		{"jira", "t2", []string{"c", "a"}, []string{"jira/t2/c"}},
		{"jira", "t1", nil, nil},
	} {
		got, err := s.GetLinks(ctx, c.target, c.tenant, c.ids)
		if err != nil {
			t.Fatalf("GetLinks(%s, %s, %v): %v", c.target, c.tenant, c.ids, err)
		}
		if d := cmp.Diff(c.want, keys(got), cmpOpts...); d != "" {
			t.Errorf("GetLinks(%s, %s, %v) (-want +got):\n%s", c.target, c.tenant, c.ids, d)
		}
	}
	// Each link as GetLink returns it.
	got, err := s.GetLinks(ctx, "jira", "t1", []string{"b"})
	if err != nil || len(got) != 1 {
		t.Fatalf("GetLinks(b) = %+v, %v", got, err)
	}
	if d := cmp.Diff(getLink(t, s, "jira", "t1", "b"), got[0]); d != "" {
		t.Errorf("GetLinks differs from GetLink (-GetLink +GetLinks):\n%s", d)
	}
}

func testPutLinks(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	putLink(t, s, store.Link{Target: "jira", Tenant: "t1", ResourceID: "r0000", Kind: store.KindUser, State: store.LinkPending,
		Desired: []byte(`{"old":true}`), DeactivatedAt: ptrTime(c.Now())})
	c.Advance(1)
	const n = 600
	links := make([]store.Link, n)
	for i := range links {
		links[i] = store.Link{Target: "jira", Tenant: "t1", ResourceID: fmt.Sprintf("r%04d", i), Kind: store.KindUser,
			DesiredName: fmt.Sprintf("User%d", i), Priority: i, Applied: []byte(fmt.Sprintf(`{"n":%d}`, i)),
			AppliedName: fmt.Sprintf("user%d", i), State: store.LinkActive, LastLoginAt: ptrTime(c.Now())}
	}
	if err := s.PutLinks(ctx, links); err != nil {
		t.Fatalf("PutLinks: %v", err)
	}
	for _, i := range []int{0, 1, n - 1} {
		want := links[i]
		want.UpdatedAt = c.Now()
		if d := cmp.Diff(want, getLink(t, s, "jira", "t1", want.ResourceID)); d != "" {
			t.Errorf("link %d after PutLinks (-want +got):\n%s", i, d)
		}
	}
	// LinksByDesiredName finds the new names (the folded name is kept too).
	if ls, err := s.LinksByDesiredName(ctx, "jira", store.KindUser, "USER7"); err != nil || len(ls) != 1 || ls[0].ResourceID != "r0007" {
		t.Errorf("LinksByDesiredName(USER7) = %+v, %v", ls, err)
	}

	// One invalid link: nothing is written.
	c.Advance(1)
	bad := []store.Link{
		{Target: "jira", Tenant: "t1", ResourceID: "r0001", Kind: store.KindUser, State: store.LinkDeleted},
		{Target: "jira", Tenant: "t1", ResourceID: "new", Kind: store.KindUser, State: "weird"},
	}
	if err := s.PutLinks(ctx, bad); err == nil {
		t.Error("PutLinks with an invalid state succeeded")
	}
	if l := getLink(t, s, "jira", "t1", "r0001"); l.State != store.LinkActive {
		t.Errorf("a failed PutLinks changed r0001: %+v", l)
	}
	if _, err := s.GetLink(ctx, "jira", "t1", "new"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed PutLinks created a link: %v", err)
	}
	if err := s.PutLinks(ctx, nil); err != nil {
		t.Errorf("PutLinks(nil): %v", err)
	}
}

func testStrandedLinks(t *testing.T, s EngineStore) {
	ctx := t.Context()
	live := createUser(t, s, store.User{Tenant: "t1", UserName: "live"})
	gone := createUser(t, s, store.User{Tenant: "t1", UserName: "gone"})
	if err := s.DeleteUser(ctx, "t1", gone.ID); err != nil {
		t.Fatal(err)
	}
	other := createUser(t, s, store.User{Tenant: "t2", UserName: "other"})
	g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "g"})
	link := func(tenant, id string, kind store.ResourceKind, applied string) {
		putLink(t, s, store.Link{Target: "strand", Tenant: tenant, ResourceID: id, Kind: kind, AppliedName: applied, State: store.LinkActive})
	}
	link("t1", live.ID, store.KindUser, "live")   // live: not stranded
	link("t1", gone.ID, store.KindUser, "gone")   // deleted user
	link("t1", "never", store.KindUser, "never")  // never stored
	link("t1", other.ID, store.KindUser, "other") // a live user, but of another tenant
	link("t2", other.ID, store.KindUser, "other") // live in its own tenant
	link("t1", "nothing", store.KindUser, "")     // nothing applied
	link("t1", g.ID, store.KindGroup, "g")        // a group
	putLink(t, s, store.Link{Target: "conf", Tenant: "t1", ResourceID: gone.ID, Kind: store.KindUser, AppliedName: "gone",
		State: store.LinkActive}) // another target

	got, err := s.StrandedLinks(ctx, "strand")
	if err != nil {
		t.Fatalf("StrandedLinks: %v", err)
	}
	var keys []string
	for _, l := range got {
		keys = append(keys, l.Tenant+"/"+l.ResourceID)
	}
	want := []string{"t1/" + gone.ID, "t1/never", "t1/" + other.ID}
	slices.Sort(want)
	if d := cmp.Diff(want, keys); d != "" {
		t.Errorf("StrandedLinks (-want +got):\n%s", d)
	}
	if len(got) > 0 {
		if d := cmp.Diff(getLink(t, s, "strand", got[0].Tenant, got[0].ResourceID), got[0]); d != "" {
			t.Errorf("StrandedLinks differs from GetLink (-GetLink +StrandedLinks):\n%s", d)
		}
	}
	if got, err := s.StrandedLinks(ctx, "none"); err != nil || len(got) != 0 {
		t.Errorf("StrandedLinks of an empty target = %+v, %v", got, err)
	}
}
