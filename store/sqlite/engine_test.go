package sqlite_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
	"github.com/scimbridge/scimbridge/store/storetest"
)

func TestEngineConformance(t *testing.T) {
	storetest.RunEngine(t, func(t *testing.T, now func() time.Time) storetest.EngineStore { return openTest(t, now) })
}

// BenchmarkRenameGroup1000Members measures the per-user enqueue rule at
// its most expensive: a rename enqueues every user under the group (here
// 1000, half of them through a nested group) in the write transaction.
func BenchmarkRenameGroup1000Members(b *testing.B) {
	db := openTest(b, nil)
	defer db.Close()
	ctx := b.Context()
	const n = 1000
	if err := sqlite.Preload(ctx, db, "t", n); err != nil {
		b.Fatal(err)
	}
	var direct, nested []store.Member
	for i := range n {
		m := store.Member{Value: fmt.Sprintf("pre-%d", i)}
		if i%2 == 0 {
			direct = append(direct, m)
		} else {
			nested = append(nested, m)
		}
	}
	sub, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "sub", Members: nested})
	if err != nil {
		b.Fatal(err)
	}
	g, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "top", Members: append(direct, store.Member{Value: sub.ID})})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := db.UpdateGroup(ctx, "t", g.ID, func(x *store.Group) error { x.DisplayName = fmt.Sprintf("top%d", i); return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if js, err := db.PendingJobs(ctx, 2*n); err != nil || len(js) != n+2 {
		b.Fatalf("%d jobs, %v; want %d (every user and both groups)", len(js), err, n+2)
	}
}

// BenchmarkAddRemoveMemberAmong100kMemberships adds and removes one user of
// a 1000-member group while the database holds 100k memberships in all (100
// such groups): the cost must follow the group, not the database.
func BenchmarkAddRemoveMemberAmong100kMemberships(b *testing.B) {
	db := openTest(b, nil)
	defer db.Close()
	ctx := b.Context()
	const users, groups, size = 20_000, 100, 1000
	if err := sqlite.Preload(ctx, db, "t", users); err != nil {
		b.Fatal(err)
	}
	var target store.Group
	for gi := range groups {
		ms := make([]store.Member, size)
		for k := range ms {
			ms[k] = store.Member{Value: fmt.Sprintf("pre-%d", (gi*size+k*7)%users)}
		}
		g, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: fmt.Sprintf("g%d", gi), Members: ms})
		if err != nil {
			b.Fatal(err)
		}
		target = g
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("pre-%d", i%users)
		if _, err := db.UpdateGroup(ctx, "t", target.ID, func(x *store.Group) error {
			for k, m := range x.Members {
				if m.Value == id {
					x.Members = append(x.Members[:k:k], x.Members[k+1:]...)
					return nil
				}
			}
			x.Members = append(x.Members, store.Member{Value: id})
			return nil
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGroupsContainingAmong2000Groups is the engine's per-user lookup
// of a user's groups in a tenant with 2000 groups (the user is in 3).
func BenchmarkGroupsContainingAmong2000Groups(b *testing.B) {
	db := openTest(b, nil)
	defer db.Close()
	ctx := b.Context()
	const users, groups = 2000, 2000
	if err := sqlite.Preload(ctx, db, "t", users); err != nil {
		b.Fatal(err)
	}
	for gi := range groups {
		if _, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: fmt.Sprintf("g%d", gi),
			Members: []store.Member{{Value: fmt.Sprintf("pre-%d", gi)}, {Value: fmt.Sprintf("pre-%d", (gi+1)%users)},
				{Value: fmt.Sprintf("pre-%d", (gi+2)%users)}}}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		gs, err := db.GroupsContaining(ctx, "t", []string{fmt.Sprintf("pre-%d", i%users)})
		if err != nil || len(gs) != 3 {
			b.Fatalf("%d groups, %v; want 3", len(gs), err)
		}
	}
}
