package reconcile

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// A full reconcile flattens nested groups in memory from one GroupNesting
// read; a push asks the store level by level (idpGroups). Both must give
// every user the same names in the same order: the mapping's first failing
// rule, and so the error a user sees, depends on the order.
func TestFlattenAgreesWithIdpGroups(t *testing.T) {
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "nest.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rng := rand.New(rand.NewPCG(5, 8))
	var users []string
	for i := range 40 {
		u, err := st.CreateUser(ctx, store.User{Tenant: "t", UserName: fmt.Sprintf("u%02d", i), Active: true})
		if err != nil {
			t.Fatal(err)
		}
		users = append(users, u.ID)
	}
	// 30 groups whose names differ in case only in places (the order is
	// case-insensitive first), each with a few users and a few groups
	// created before it as members: a nesting up to many levels deep, with
	// diamonds.
	var groups []string
	for i := range 30 {
		name := fmt.Sprintf("grp-%02d", (i*7)%30)
		if i%4 == 0 {
			name = fmt.Sprintf("GRP-%02d-x", (i*7)%30)
		}
		var members []store.Member
		for range 3 {
			members = append(members, store.Member{Value: users[rng.IntN(len(users))]})
		}
		for range min(len(groups), 2) {
			members = append(members, store.Member{Value: groups[rng.IntN(len(groups))]})
		}
		g, err := st.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: name, Members: dedupe(members)})
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g.ID)
	}
	// A cycle: the last group (above others) becomes a member of the first.
	if _, err := st.UpdateGroup(ctx, "t", groups[0], func(g *store.Group) error {
		g.Members = dedupe(append(g.Members, store.Member{Value: groups[len(groups)-1]}))
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	e := &Engine{st: st}
	fr := &fullRun{e: e, groups: map[string]*tenantGroups{}}
	tg, err := fr.groupsOf(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	nested := 0
	err = st.EachUser(ctx, "t", true, func(u store.User) error {
		if d := cmp.Diff(u.Groups, tg.direct(u.ID)); d != "" {
			t.Errorf("user %s: direct groups differ (-store +full reconcile):\n%s", u.UserName, d)
		}
		want, err := e.idpGroups(ctx, "t", u)
		if err != nil {
			return err
		}
		got := tg.flatten(tg.direct(u.ID))
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("user %s: flattened groups differ (-idpGroups +full reconcile):\n%s", u.UserName, d)
		}
		if len(got) > len(u.Groups) {
			nested++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if nested == 0 {
		t.Fatal("no user is in a nested group: the test proves nothing")
	}
}

func dedupe(ms []store.Member) []store.Member {
	slices.SortFunc(ms, func(a, b store.Member) int {
		switch {
		case a.Value < b.Value:
			return -1
		case a.Value > b.Value:
			return 1
		}
		return 0
	})
	return slices.CompactFunc(ms, func(a, b store.Member) bool { return a.Value == b.Value })
}
