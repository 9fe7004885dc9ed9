package sqlite

import (
	"database/sql"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
)

// staleDisplays counts membership rows whose display is not what the
// member's row says now (a user's displayName, else its userName; a
// group's displayName).
func staleDisplays(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.r.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM members m
		LEFT JOIN users u ON m.member_kind = 'User' AND u.id = m.member_id
		LEFT JOIN groups g ON m.member_kind = 'Group' AND g.id = m.member_id
		WHERE m.display IS NOT COALESCE(NULLIF(u.display_name, ''), u.user_name, g.display_name)`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The display a membership row keeps follows every change of the member,
// also when several changes share one write batch.
func TestMemberDisplayStaysCurrent(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	alice, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "alice", Attributes: map[string]any{"displayName": "Alice A"}})
	if err != nil {
		t.Fatal(err)
	}
	bob, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "bob"})
	if err != nil {
		t.Fatal(err)
	}
	inner, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "Inner", Members: []store.Member{{Value: alice.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	outer, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "Outer",
		Members: []store.Member{{Value: alice.ID}, {Value: bob.ID}, {Value: inner.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, want map[string]string) {
		t.Helper()
		if n := staleDisplays(t, db); n != 0 {
			t.Errorf("%s: %d membership rows with a stale display", step, n)
		}
		g, err := db.GetGroup(ctx, "t", outer.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, m := range g.Members {
			got[m.Value] = m.Display
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s: Outer's member displays (-want +got):\n%s", step, d)
		}
	}
	check("created", map[string]string{alice.ID: "Alice A", bob.ID: "bob", inner.ID: "Inner"})

	update := func(id string, fn func(*store.User)) {
		t.Helper()
		if _, err := db.UpdateUser(ctx, "t", id, func(u *store.User) error { fn(u); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	update(alice.ID, func(u *store.User) { delete(u.Attributes, "displayName") })
	check("alice's displayName removed", map[string]string{alice.ID: "alice", bob.ID: "bob", inner.ID: "Inner"})
	update(alice.ID, func(u *store.User) { u.UserName = "alice2" })
	update(bob.ID, func(u *store.User) { u.Attributes["displayName"] = "" })
	check("alice renamed, bob's displayName empty", map[string]string{alice.ID: "alice2", bob.ID: "bob", inner.ID: "Inner"})
	update(bob.ID, func(u *store.User) { u.Attributes["displayName"] = "Bobby"; u.UserName = "robert" })
	if _, err := db.UpdateGroup(ctx, "t", inner.ID, func(g *store.Group) error { g.DisplayName = "Inner Circle"; return nil }); err != nil {
		t.Fatal(err)
	}
	check("bob and Inner renamed", map[string]string{alice.ID: "alice2", bob.ID: "Bobby", inner.ID: "Inner Circle"})

	// Changes racing in one batch: the writer runs them in one transaction.
	errs := make(chan error, 2)
	go func() {
		_, err := db.UpdateUser(ctx, "t", bob.ID, func(u *store.User) error { u.Attributes["displayName"] = "B"; return nil })
		errs <- err
	}()
	go func() {
		_, err := db.UpdateGroup(ctx, "t", outer.ID, func(g *store.Group) error {
			g.Members = g.Members[:0:0]
			g.Members = append(g.Members, store.Member{Value: bob.ID}, store.Member{Value: inner.ID})
			return nil
		})
		errs <- err
	}()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	check("concurrent rename and membership change", map[string]string{bob.ID: "B", inner.ID: "Inner Circle"})
}

// A database written before 0003 gets the displays filled in.
func TestMigration0003FillsMemberDisplay(t *testing.T) {
	ctx := t.Context()
	p := filepath.Join(t.TempDir(), "v2.db")
	ms, err := loadMigrations()
	if err != nil || len(ms) < 3 || ms[2].version != 3 {
		t.Fatalf("migrations = %+v, %v", ms, err)
	}
	raw := sql.OpenDB(newConnector(p, url.Values{"_journal_mode": {"WAL"}, "_foreign_keys": {"on"}}))
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		ms[0].sql, ms[1].sql,
		`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0), (2, '0002_engine.sql', 0)`,
		`INSERT INTO users (id, tenant, user_name, user_name_fold, display_name, active, attributes, version, created_at, updated_at)
			VALUES ('u1', 't', 'alice', 'alice', 'Alice A', 1, '{"displayName":"Alice A"}', 1, 0, 0),
			       ('u2', 't', 'bob', 'bob', '', 1, '{}', 1, 0, 0)`,
		`INSERT INTO groups (id, tenant, display_name, display_name_fold, attributes, version, created_at, updated_at)
			VALUES ('g1', 't', 'Inner', 'inner', '{}', 1, 0, 0), ('g2', 't', 'Outer', 'outer', '{}', 1, 0, 0)`,
		`INSERT INTO members (group_id, member_id, member_kind) VALUES ('g2', 'u1', 'User'), ('g2', 'u2', 'User'), ('g2', 'g1', 'Group')`,
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("building a v2 database: %v\n%s", err, q)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := Open(ctx, p, Options{})
	if err != nil {
		t.Fatalf("Open of a v2 database: %v", err)
	}
	defer db.Close()
	g, err := db.GetGroup(ctx, "t", "g2", true)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.Member{{Value: "g1", Kind: store.KindGroup, Display: "Inner"},
		{Value: "u1", Kind: store.KindUser, Display: "Alice A"}, {Value: "u2", Kind: store.KindUser, Display: "bob"}}
	if d := cmp.Diff(want, g.Members); d != "" {
		t.Errorf("members after migrating (-want +got):\n%s", d)
	}
}
