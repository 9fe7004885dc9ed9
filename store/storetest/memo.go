package storetest

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
)

// testMemo holds a backend that hands out Memos (store.User.Memo) to their
// promise: every read that carries a given Memo returns the same user, so a
// Memo never outlives a change of the user or of the groups she belongs to.
// A backend without Memos passes trivially.
func testMemo(t *testing.T, s store.Store) {
	ctx := t.Context()
	ann := createUser(t, s, store.User{Tenant: "t1", UserName: "ann", Active: true, Attributes: map[string]any{"displayName": "Ann"}})
	seen := map[*store.Memo]store.User{}
	read := func(step string) {
		t.Helper()
		byName := store.Query{Filter: store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: "ANN"}, Limit: 10}
		for i := range 4 { // a cache, if any, answers the later rounds
			q := byName
			q.RawAttributes = i%2 == 1
			us, _, err := s.ListUsers(ctx, "t1", q)
			if err != nil || len(us) != 1 {
				t.Fatalf("%s: lookup: %d users, %v", step, len(us), err)
			}
			u := us[0]
			if q.RawAttributes {
				// The data the memo stands for, in the form compared below.
				full := getUser(t, s, "t1", u.ID)
				if u.RawAttributes == "" {
					t.Fatalf("%s: raw lookup without RawAttributes", step)
				}
				u.RawAttributes, u.Attributes = "", full.Attributes
			}
			if u.Memo == nil {
				continue
			}
			want, ok := seen[u.Memo]
			if !ok {
				seen[u.Memo] = u
				continue
			}
			if d := cmp.Diff(want, u, cmpOpts...); d != "" {
				t.Errorf("%s: a Memo handed out before came with other data (-then +now):\n%s", step, d)
			}
		}
	}
	read("created")
	updateUser := func(step string, fn func(*store.User)) {
		t.Helper()
		if _, err := s.UpdateUser(ctx, "t1", ann.ID, func(u *store.User) error { fn(u); return nil }); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		read(step)
	}
	updateUser("title set", func(u *store.User) { u.Attributes["title"] = "CEO" })
	updateUser("deactivated", func(u *store.User) { u.Active = false })
	g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "Eng", Members: []store.Member{{Value: ann.ID}}})
	read("group created with her")
	updateGroup := func(step string, fn func(*store.Group)) {
		t.Helper()
		if _, err := s.UpdateGroup(ctx, "t1", g.ID, func(g *store.Group) error { fn(g); return nil }); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		read(step)
	}
	updateGroup("group renamed", func(g *store.Group) { g.DisplayName = "Engineering" })
	updateGroup("removed from the group", func(g *store.Group) { g.Members = nil })
	updateGroup("added again", func(g *store.Group) { g.Members = []store.Member{{Value: ann.ID}} })
	if err := s.DeleteGroup(ctx, "t1", g.ID); err != nil {
		t.Fatal(err)
	}
	read("group deleted")
	updateUser("renamed in case only", func(u *store.User) { u.UserName = "Ann" })
}
