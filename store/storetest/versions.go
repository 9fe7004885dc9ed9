package storetest

import (
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/store"
)

// testComputedVersions: a user's Version and UpdatedAt change when its
// groups attribute does (joining or leaving a group, a group of its renamed
// or deleted), and a group's when a member's display does (a member user or
// group renamed), since Version is the ETag of what a read returns. Nothing
// else moves them.
func testComputedVersions(t *testing.T, s store.Store) {
	ctx := t.Context()
	ann := createUser(t, s, store.User{Tenant: "t1", UserName: "ann", Active: true, Attributes: map[string]any{"displayName": "Ann"}})
	bob := createUser(t, s, store.User{Tenant: "t1", UserName: "bob", Active: true})
	cy := createUser(t, s, store.User{Tenant: "t1", UserName: "cy", Active: true})
	users := map[string]store.User{"ann": ann, "bob": bob, "cy": cy}
	groups := map[string]store.Group{}
	// step checks who got a new version (and a lastModified not before the
	// old one) and that nobody else did.
	step := func(what string, changedUsers, changedGroups []string) {
		t.Helper()
		for name, before := range users {
			now := getUser(t, s, "t1", before.ID)
			moved := now.Version != before.Version
			if want := slices.Contains(changedUsers, name); moved != want || now.UpdatedAt.Before(before.UpdatedAt) ||
				(moved && now.Version <= before.Version) {
				t.Errorf("%s: user %s version %d → %d (lastModified %s → %s), want changed=%v",
					what, name, before.Version, now.Version, before.UpdatedAt, now.UpdatedAt, want)
			}
			users[name] = now
		}
		for name, before := range groups {
			now, err := s.GetGroup(ctx, "t1", before.ID, false)
			if err != nil {
				if slices.Contains(changedGroups, name) {
					delete(groups, name) // deleted
					continue
				}
				t.Fatalf("%s: group %s: %v", what, name, err)
			}
			if moved := now.Version != before.Version; moved != slices.Contains(changedGroups, name) {
				t.Errorf("%s: group %s version %d → %d, want changed=%v", what, name, before.Version, now.Version, !moved)
			}
			groups[name] = now
		}
	}
	updateGroup := func(name string, fn func(*store.Group)) {
		t.Helper()
		if _, err := s.UpdateGroup(ctx, "t1", groups[name].ID, func(g *store.Group) error { fn(g); return nil }); err != nil {
			t.Fatalf("update group %s: %v", name, err)
		}
	}
	groups["eng"] = createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "Eng", Members: refs(ann.ID)})
	step("Eng created with ann", []string{"ann"}, nil)
	groups["all"] = createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "All", Members: refs(groups["eng"].ID, cy.ID)})
	step("All created with Eng and cy", []string{"cy"}, nil)
	updateGroup("eng", func(g *store.Group) { g.Members = append(g.Members, store.Member{Value: bob.ID}) })
	step("bob joins Eng", []string{"bob"}, []string{"eng"})
	updateGroup("eng", func(g *store.Group) { g.Attributes = map[string]any{"x": "y"} })
	step("Eng's own attribute", nil, []string{"eng"})
	updateGroup("eng", func(g *store.Group) { g.DisplayName = "Engineering" })
	step("Eng renamed", []string{"ann", "bob"}, []string{"eng", "all"}) // All shows Eng's new name
	updateGroup("eng", func(g *store.Group) { g.DisplayName = "Eng"; g.Members = refs(ann.ID, cy.ID) })
	step("Eng renamed back, bob out, cy in", []string{"ann", "bob", "cy"}, []string{"eng", "all"})
	if _, err := s.UpdateUser(ctx, "t1", ann.ID, func(u *store.User) error { u.Attributes["displayName"] = "Ann Lee"; return nil }); err != nil {
		t.Fatal(err)
	}
	step("ann renamed", []string{"ann"}, []string{"eng"})
	if _, err := s.UpdateUser(ctx, "t1", ann.ID, func(u *store.User) error { u.Attributes["title"] = "CEO"; return nil }); err != nil {
		t.Fatal(err)
	}
	step("ann's title", []string{"ann"}, nil)
	updateGroup("eng", func(*store.Group) {})
	step("no change", nil, nil)
	if err := s.DeleteGroup(ctx, "t1", groups["eng"].ID); err != nil {
		t.Fatal(err)
	}
	step("Eng deleted", []string{"ann", "cy"}, []string{"eng", "all"})
}
