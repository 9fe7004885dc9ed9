package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// Writes of a tenant in Options.NoOutbox enqueue nothing (user and group
// writes, memberships, deletes); other tenants' writes and EnqueueJob still do.
func TestNoOutboxTenantEnqueuesNothing(t *testing.T) {
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"), sqlite.Options{NoOutbox: []string{"quiet"}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pending := func() []store.Job {
		t.Helper()
		jobs, err := db.PendingJobs(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		return jobs
	}

	u, err := db.CreateUser(ctx, store.User{Tenant: "quiet", UserName: "ada", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	g, err := db.CreateGroup(ctx, store.Group{Tenant: "quiet", DisplayName: "eng", Members: []store.Member{{Value: u.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateUser(ctx, "quiet", u.ID, func(u *store.User) error { u.Active = false; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateGroup(ctx, "quiet", g.ID, func(g *store.Group) error { g.Members = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteUser(ctx, "quiet", u.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteGroup(ctx, "quiet", g.ID); err != nil {
		t.Fatal(err)
	}
	if jobs := pending(); len(jobs) != 0 {
		t.Fatalf("quiet tenant's writes enqueued %d jobs: %+v", len(jobs), jobs)
	}

	loud, err := db.CreateUser(ctx, store.User{Tenant: "loud", UserName: "bob", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueJob(ctx, "quiet", store.KindUser, u.ID); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, j := range pending() {
		got[j.ResourceID] = j.Tenant
	}
	if len(got) != 2 || got[loud.ID] != "loud" || got[u.ID] != "quiet" {
		t.Fatalf("pending jobs by resource = %v, want the other tenant's create and the explicit EnqueueJob", got)
	}
}
