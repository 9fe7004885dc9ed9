package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
)

func byName(name string) store.Query {
	return store.Query{Filter: store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: name}, Limit: 100}
}

// lookup is the IdPs' lookup; it fails the test unless it finds at most one
// user, and returns it (zero User when none).
func lookup(t testing.TB, db *DB, tenant, name string) store.User {
	t.Helper()
	us, total, err := db.ListUsers(context.Background(), tenant, byName(name))
	if err != nil {
		t.Fatalf("lookup %q: %v", name, err)
	}
	if len(us) != total || total > 1 {
		t.Fatalf("lookup %q: %d users, total %d", name, len(us), total)
	}
	if total == 0 {
		return store.User{}
	}
	return us[0]
}

// behindTheCache opens the file as a second process would and runs stmt
// there: the writer's update hook does not see it.
func behindTheCache(t *testing.T, path, stmt string, args ...any) {
	t.Helper()
	other, err := sql.Open("sqlite3", "file:"+escapePath(path)+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Exec(stmt, args...); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

func TestLookupCacheAnswersRepeatedLookups(t *testing.T) {
	db, path := open(t)
	ctx := t.Context()
	u, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "Ann@Example.com", Active: true,
		Attributes: map[string]any{"displayName": "Ann"}})
	if err != nil {
		t.Fatal(err)
	}
	first := lookup(t, db, "t", "ann@example.COM")
	if first.ID != u.ID || db.users.len() != 0 {
		t.Fatalf("first lookup: %+v, %d cached; want none cached after one miss", first, db.users.len())
	}
	if again := lookup(t, db, "t", "Ann@example.com"); !cmp.Equal(again, first) || db.users.len() != 1 {
		t.Fatalf("second lookup: %+v, %d cached; want it cached on its second miss", again, db.users.len())
	}
	lookup(t, db, "t", "ann@example.com")
	if st := db.LookupCacheStats(); st.Hits != 1 || st.Misses != 2 || st.Entries != 1 || st.Bytes <= 0 || st.MaxBytes != defaultLookupCacheBytes {
		t.Errorf("stats after two misses and a hit: %+v", st)
	}
	// Changed where the writer cannot see it: a hit does not read SQLite.
	behindTheCache(t, path, `UPDATE users SET display_name = 'x', attributes = '{"displayName":"Behind"}' WHERE id = ?1`, u.ID)
	if got := lookup(t, db, "t", "ANN@example.com"); !cmp.Equal(got, first) {
		t.Errorf("second lookup was not the cached row:\n%s", cmp.Diff(first, got))
	}
	// Other filters, other pages and counts read the database.
	for _, q := range []store.Query{
		{Filter: store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: "ann@example.com"}, Limit: 10, Offset: 1},
		{Filter: store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: "Ann@Example.com", CaseExact: true}, Limit: 10},
		{Filter: store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpSw, Value: "ann"}, Limit: 10},
	} {
		if _, ok := lookupKey("t", q); ok {
			t.Errorf("%+v is answered from the cache", q)
		}
	}
	us, _, err := db.ListUsers(ctx, "t", store.Query{Filter: store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpSw, Value: "ann"}, Limit: 10})
	if err != nil || len(us) != 1 || us[0].Attributes["displayName"] != "Behind" {
		t.Errorf("sw lookup = %+v, %v; want the row as stored", us, err)
	}
	// A write through the store drops the entry.
	if _, err := db.UpdateUser(ctx, "t", u.ID, func(u *store.User) error { u.Attributes["title"] = "CEO"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := lookup(t, db, "t", "ann@example.com"); got.Attributes["title"] != "CEO" || got.Attributes["displayName"] != "Behind" {
		t.Errorf("after update: %+v", got.Attributes)
	}
	// Off: every lookup reads SQLite.
	off, err := Open(ctx, filepath.Join(t.TempDir(), "off.db"), Options{LookupCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	if off.users != nil {
		t.Error("LookupCacheBytes -1 left the cache on")
	}
	if st := off.LookupCacheStats(); st != (LookupCacheStats{}) {
		t.Errorf("stats of a store without a cache: %+v", st)
	}
}

// TestLookupCacheFollowsEveryWrite checks, after each kind of write, that
// the cached lookup answers what the database holds (GetUser never uses
// the cache).
func TestLookupCacheFollowsEveryWrite(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	mk := func(name string) store.User {
		u, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: name, Active: true, Attributes: map[string]any{"displayName": name}})
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	ann, bob := mk("ann"), mk("bob")
	memos := map[*store.Memo]store.User{} // what each Memo came with first
	check := func(step, name, id string) {
		t.Helper()
		for range 3 { // a miss, the miss that fills, then the hit
			got := lookup(t, db, "t", name)
			if got.Memo != nil {
				if first, ok := memos[got.Memo]; ok && !cmp.Equal(first, got) {
					t.Errorf("%s: lookup %q came with a Memo handed out with other data:\n%s", step, name, cmp.Diff(first, got))
				}
				memos[got.Memo] = got
			}
			if id == "" {
				if got.ID != "" {
					t.Errorf("%s: lookup %q found %s, want none", step, name, got.ID)
				}
				continue
			}
			want, err := db.GetUser(ctx, "t", id)
			if err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(got, want) {
				t.Errorf("%s: lookup %q:\n%s", step, name, cmp.Diff(want, got))
			}
		}
	}
	check("created", "ann", ann.ID)
	check("created", "bob", bob.ID)
	check("absent", "cy", "")
	if _, err := db.UpdateUser(ctx, "t", ann.ID, func(u *store.User) error { u.Active = false; return nil }); err != nil {
		t.Fatal(err)
	}
	check("deactivated", "ann", ann.ID)
	if _, err := db.UpdateUser(ctx, "t", bob.ID, func(u *store.User) error { u.UserName = "cy"; return nil }); err != nil {
		t.Fatal(err)
	}
	check("renamed away", "bob", "")
	check("renamed to", "cy", bob.ID)
	g, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "Eng", Members: []store.Member{{Value: ann.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	check("group created with her", "ann", ann.ID)
	if _, err := db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{bob.ID}, nil, nil, false); err != nil {
		t.Fatal(err)
	}
	check("added by PATCH", "cy", bob.ID)
	check("group PATCHed, not her", "ann", ann.ID)
	if _, err := db.PatchGroupMembers(ctx, "t", g.ID, nil, nil, []string{ann.ID}, nil, false); err != nil {
		t.Fatal(err)
	}
	check("removed by PATCH", "ann", ann.ID)
	if _, err := db.UpdateGroup(ctx, "t", g.ID, func(g *store.Group) error {
		g.DisplayName = "Engineering"
		g.Members = append(g.Members, store.Member{Value: ann.ID})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	check("group renamed, she re-added", "ann", ann.ID)
	check("group renamed", "cy", bob.ID)
	if got := lookup(t, db, "t", "cy"); len(got.Groups) != 1 || got.Groups[0].DisplayName != "Engineering" {
		t.Errorf("cy's groups after the rename: %+v", got.Groups)
	}
	if err := db.DeleteGroup(ctx, "t", g.ID); err != nil {
		t.Fatal(err)
	}
	check("group deleted", "ann", ann.ID)
	check("group deleted", "cy", bob.ID)
	if err := db.DeleteUser(ctx, "t", bob.ID); err != nil {
		t.Fatal(err)
	}
	check("deleted", "cy", "")
	cy := mk("CY")
	check("name reused", "cy", cy.ID)
	// A failed write (a conflict, rolled back to its savepoint) changes
	// nothing and leaves the lookup right.
	if _, err := db.UpdateUser(ctx, "t", ann.ID, func(u *store.User) error { u.UserName = "cy"; return nil }); err == nil {
		t.Fatal("rename onto a taken name succeeded")
	}
	check("failed rename", "ann", ann.ID)
	check("failed rename", "cy", cy.ID)
	if len(memos) < 10 {
		t.Errorf("%d Memos handed out over the steps; want one per hit on changed data", len(memos))
	}
}

// TestLookupCacheNeverServesAnAnsweredWriteStale races lookups of a few
// users against writes to them: once a write is answered, every lookup
// that starts afterwards sees its version or a later one. Run with -race.
func TestLookupCacheNeverServesAnAnsweredWriteStale(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	const users = 4
	ids := make([]string, users)
	for i := range ids {
		u, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: fmt.Sprintf("u%d", i), Active: true})
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = u.ID
	}
	g, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "g"})
	if err != nil {
		t.Fatal(err)
	}
	// answered[i] is the highest version of user i a write has returned,
	// and inGroup[i] whether the last answered membership PATCH added it.
	var (
		mu       sync.Mutex
		answered [users]int64
		member   [users]int   // 0 unknown, 1 in, 2 out
		patches  [users]int64 // membership PATCHes answered
	)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for r := range 4 { // readers fill the cache as they go
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := rng.IntN(users)
				mu.Lock()
				min, m, p := answered[i], member[i], patches[i]
				mu.Unlock()
				u := lookup(t, db, "t", fmt.Sprintf("u%d", i))
				if u.Version < min {
					t.Errorf("u%d: version %d after version %d was answered", i, u.Version, min)
				}
				// Membership is only known if no PATCH of the user was
				// answered meanwhile (the writer holds mu through one).
				mu.Lock()
				same := patches[i] == p
				mu.Unlock()
				if m != 0 && same && (len(u.Groups) == 1) != (m == 1) {
					t.Errorf("u%d: groups %+v after the PATCH that made it member=%v was answered", i, u.Groups, m == 1)
				}
			}
		})
	}
	var writers sync.WaitGroup
	for w := range 2 {
		writers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 2))
			for n := 0; n < 300; n++ {
				i := rng.IntN(users)
				if w == 1 {
					// Membership writes are serialised here so that member[i] is the
					// state of the last one answered.
					mu.Lock()
					add := rng.IntN(2) == 0
					var err error
					if add {
						_, err = db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{ids[i]}, nil, nil, false)
					} else {
						_, err = db.PatchGroupMembers(ctx, "t", g.ID, nil, nil, []string{ids[i]}, nil, false)
					}
					patches[i]++
					if err == nil {
						member[i] = 2
						if add {
							member[i] = 1
						}
					}
					mu.Unlock()
					if err != nil {
						t.Error(err)
						return
					}
					continue
				}
				u, err := db.UpdateUser(ctx, "t", ids[i], func(u *store.User) error {
					u.Attributes = map[string]any{"title": fmt.Sprint(n)}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				answered[i] = max(answered[i], u.Version)
				mu.Unlock()
			}
		})
	}
	writers.Wait()
	close(stop)
	wg.Wait()
	if t.Failed() {
		return
	}
	for i, id := range ids {
		want, err := db.GetUser(ctx, "t", id)
		if err != nil {
			t.Fatal(err)
		}
		if got := lookup(t, db, "t", fmt.Sprintf("u%d", i)); !cmp.Equal(got, want) {
			t.Errorf("u%d at the end:\n%s", i, cmp.Diff(want, got))
		}
	}
}

// A second store with a lookup cache on the same file is refused while the
// first is open (its cache would miss the first one's writes); one
// without a cache is not, and the file is free again after Close.
func TestOneCachingStorePerFile(t *testing.T) {
	db, path := open(t)
	ctx := t.Context()
	if _, err := Open(ctx, path, Options{}); err == nil || !strings.Contains(err.Error(), "in use by another scimbridge serve") {
		t.Fatalf("second Open with a cache: %v, want refused", err)
	}
	plain, err := Open(ctx, path, Options{LookupCacheBytes: -1})
	if err != nil {
		t.Fatalf("Open without a cache: %v", err)
	}
	if err := plain.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDoorkeeperAdmitsOnTheSecondSighting(t *testing.T) {
	var d doorkeeper
	if d.admit("t\x00a") {
		t.Error("a first sighting was admitted")
	}
	if !d.admit("t\x00a") {
		t.Error("a second sighting was not admitted")
	}
	// After doorkeeperResetAfter new keys the sightings are forgotten.
	for i := 0; ; i++ {
		before := d.fresh.Load()
		d.admit(fmt.Sprint("k", i))
		if d.fresh.Load() < before {
			break // cleared by this key
		}
		if i > 2*doorkeeperResetAfter {
			t.Fatal("no reset")
		}
	}
	if d.admit("t\x00a") {
		t.Error("a sighting survived the reset")
	}
}

func TestLookupCacheStaysWithinItsBudget(t *testing.T) {
	c := newUserCache(64 << 10)
	for i := range 2000 {
		r := userRow{seq: int64(i), attrs: `{"displayName":"x"}`}
		r.u.ID, r.u.Tenant, r.u.UserName = fmt.Sprint("id", i), "t", fmt.Sprint("u", i)
		c.put(c.epoch.Load(), "t\x00"+r.u.UserName, r) // seen
		c.put(c.epoch.Load(), "t\x00"+r.u.UserName, r) // admitted
		if c.bytes > c.max {
			t.Fatalf("after %d puts: %d bytes cached, max %d", i+1, c.bytes, c.max)
		}
	}
	if n := c.len(); n < 50 || len(c.bySeq) != n || len(c.byID) != n {
		t.Errorf("%d entries (%d by seq, %d by id)", n, len(c.bySeq), len(c.byID))
	}
	// A row read before a drop is not added after it.
	e := c.epoch.Load()
	c.drop([]int64{1 << 40}, nil, false)
	c.put(e, "t\x00late", userRow{seq: 1 << 41})
	c.put(e, "t\x00late", userRow{seq: 1 << 41})
	if _, _, ok := c.get("t\x00late"); ok {
		t.Error("a row read before a drop was cached after it")
	}
	c.drop(nil, nil, true)
	if c.len() != 0 || c.bytes != 0 {
		t.Errorf("after dropping all: %d entries, %d bytes", c.len(), c.bytes)
	}
}

// PatchGroupMembers, like UpdateGroup, gives the users who joined or left a
// new version (their groups attribute changed; storetest's
// ComputedVersions covers the Store methods); the others keep theirs.
func TestPatchGroupMembersTouchesTheUsersItMoves(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	var ids []string
	for _, name := range []string{"ann", "bob", "cy"} {
		u, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: name, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	g, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "G", Members: []store.Member{{Value: ids[0]}}})
	if err != nil {
		t.Fatal(err)
	}
	version := func(id string) int64 {
		u, err := db.GetUser(ctx, "t", id)
		if err != nil {
			t.Fatal(err)
		}
		return u.Version
	}
	before := []int64{version(ids[0]), version(ids[1]), version(ids[2])}
	if _, err := db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{ids[1]}, []string{ids[0]}, nil, false); err != nil {
		t.Fatal(err)
	}
	after := []int64{version(ids[0]), version(ids[1]), version(ids[2])}
	if after[0] != before[0]+1 || after[1] != before[1]+1 || after[2] != before[2] {
		t.Errorf("versions %v → %v; want ann (left) and bob (joined) +1, cy unchanged", before, after)
	}
}
