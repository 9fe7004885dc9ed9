package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
	"github.com/scimbridge/scimbridge/store/storetest"
)

// tickingClock returns a clock in a non-UTC zone that advances 1ms per
// call, so every write gets a distinct, increasing time.
func tickingClock() func() time.Time {
	base := time.Date(2026, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600))
	var n atomic.Int64
	return func() time.Time { return base.Add(time.Duration(n.Add(1)) * time.Millisecond) }
}

func openTest(t testing.TB, now func() time.Time) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "scimbridge.db"), sqlite.Options{Now: now})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, tickingClock()) })
}

func TestConformanceWallClock(t *testing.T) {
	if testing.Short() {
		t.Skip("the ticking-clock run covers the same ground")
	}
	storetest.Run(t, func(t *testing.T) store.Store { return openTest(t, nil) })
}

func TestOpenRefusesNonFiles(t *testing.T) {
	for _, p := range []string{"", ":memory:", "file:x.db?mode=memory"} {
		if db, err := sqlite.Open(t.Context(), p, sqlite.Options{}); err == nil {
			_ = db.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "missing-dir", "x.db"), sqlite.Options{}); err == nil {
		t.Error("Open in a missing directory succeeded")
	}
}

func TestPathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a?b#c%d e")
	p := filepath.Join(dir, "x.db")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db, err := sqlite.Open(t.Context(), p, sqlite.Options{})
	if err != nil {
		t.Fatalf("Open(%q): %v", p, err)
	}
	defer db.Close()
	if _, err := db.CreateUser(t.Context(), store.User{Tenant: "t", UserName: "u"}); err != nil {
		t.Fatal(err)
	}
	if us, total, err := db.ListUsers(t.Context(), "t", store.Query{Limit: 5}); err != nil || total != 1 || len(us) != 1 {
		t.Fatalf("ListUsers = %d %d %v", len(us), total, err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Errorf("database file %q not created (URI escaping wrong)", p)
	}
}

func TestReopenKeepsData(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.db")
	db, err := sqlite.Open(t.Context(), p, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(t.Context(), store.User{Tenant: "t", UserName: "alice", Attributes: map[string]any{"n": int64(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = sqlite.Open(t.Context(), p, sqlite.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	got, err := db.GetUser(t.Context(), "t", u.ID)
	if err != nil || got.Attributes["n"] != int64(1) || got.Version != 1 {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	if js, err := db.PendingJobs(t.Context(), 10); err != nil || len(js) != 1 {
		t.Fatalf("jobs after reopen: %+v, %v", js, err)
	}
}

func TestContextCancelled(t *testing.T) {
	db := openTest(t, nil)
	defer db.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "u"}); err == nil {
		t.Error("CreateUser with a cancelled context succeeded")
	}
	if _, _, err := db.ListUsers(ctx, "t", store.Query{Limit: 1}); err == nil {
		t.Error("ListUsers with a cancelled context succeeded")
	}
	if us, total, err := db.ListUsers(t.Context(), "t", store.Query{Limit: 1}); err != nil || total != 0 {
		t.Errorf("after cancelled create: %v users, %v", len(us), err)
	}
}

func TestBadInput(t *testing.T) {
	db := openTest(t, nil)
	defer db.Close()
	ctx := t.Context()
	bad := []store.User{
		{Tenant: "", UserName: "u"},
		{Tenant: "t", UserName: ""},
		{Tenant: "t", UserName: "nan", Attributes: map[string]any{"x": math.NaN()}},
		{Tenant: "t", UserName: "chan", Attributes: map[string]any{"x": make(chan int)}},
	}
	for _, u := range bad {
		if _, err := db.CreateUser(ctx, u); err == nil {
			t.Errorf("CreateUser(%+v) succeeded", u)
		}
	}
	if _, err := db.CreateGroup(ctx, store.Group{Tenant: "t"}); err == nil {
		t.Error("CreateGroup without displayName succeeded")
	}
	u, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "ok"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateUser(ctx, "t", u.ID, func(x *store.User) error { x.UserName = ""; return nil }); err == nil {
		t.Error("UpdateUser to an empty userName succeeded")
	}
	if _, _, err := db.ListUsers(ctx, "t", store.Query{Offset: -1, Limit: 1}); err == nil {
		t.Error("negative offset accepted")
	}
	if _, _, err := db.ListUsers(ctx, "t", store.Query{Limit: -1}); err == nil {
		t.Error("negative limit accepted")
	}
	if us, total, err := db.ListUsers(ctx, "t", store.Query{Limit: 10}); err != nil || total != 1 || us[0].Version != 1 {
		t.Errorf("bad input changed something: %d users, %v", total, err)
	}
	// Filters naming attributes SQLite could not quote are refused, not spliced.
	for _, name := range []string{`a"b`, `a\b`, "a\x00b", ""} {
		f := store.Compare{Path: store.AttrPath{Name: name}, Op: store.OpEq, Value: "x"}
		if _, _, err := db.ListUsers(ctx, "t", store.Query{Filter: f, Limit: 1}); !errors.Is(err, store.ErrUnsupportedFilter) {
			t.Errorf("attribute %q: err = %v, want ErrUnsupportedFilter", name, err)
		}
	}
}

func TestJobTimesFollowTheClock(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("X", -7200))
	db := openTest(t, func() time.Time { return now })
	defer db.Close()
	ctx := t.Context()
	u, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "u"})
	if err != nil {
		t.Fatal(err)
	}
	if !u.CreatedAt.Equal(now) || u.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", u.CreatedAt, now)
	}
	created := now
	now = now.Add(time.Minute)
	if _, err := db.UpdateUser(ctx, "t", u.ID, func(x *store.User) error { x.Active = true; return nil }); err != nil {
		t.Fatal(err)
	}
	js, err := db.PendingJobs(ctx, 10)
	if err != nil || len(js) != 1 {
		t.Fatalf("jobs = %+v, %v", js, err)
	}
	if !js[0].CreatedAt.Equal(created) || !js[0].NotBefore.Equal(now) || js[0].Attempts != 0 || js[0].LastError != "" {
		t.Errorf("job = %+v, want created %v due %v", js[0], created, now)
	}
}

// The benchmarks' 100k users come from Preload (export_test.go): one
// transaction instead of 100k.
func BenchmarkCreateUser(b *testing.B) {
	db := openTest(b, nil)
	defer db.Close()
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: fmt.Sprintf("user%d", i), ExternalID: fmt.Sprintf("ext%d", i),
			Active: true, Attributes: benchAttributes(i)}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetUserByUserNameFilter(b *testing.B) {
	db := openTest(b, nil)
	defer db.Close()
	const n = 100_000
	if err := sqlite.Preload(b.Context(), db, "t", n); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i = (i + 7919) % n
		f := store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: fmt.Sprintf("USER%d", i)}
		us, total, err := db.ListUsers(ctx, "t", store.Query{Filter: f, Limit: 10})
		if err != nil || total != 1 || len(us) != 1 {
			b.Fatalf("user%d: %d rows, total %d, %v", i, len(us), total, err)
		}
	}
}

func BenchmarkUpdateUser(b *testing.B) {
	db := openTest(b, nil)
	defer db.Close()
	ctx := b.Context()
	u, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "u", Attributes: benchAttributes(0)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := int64(0)
	for b.Loop() {
		i++
		if _, err := db.UpdateUser(ctx, "t", u.ID, func(x *store.User) error { x.Attributes["title"] = fmt.Sprint(i); return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

func benchAttributes(i int) map[string]any {
	return map[string]any{
		"displayName": fmt.Sprintf("User %d", i),
		"name":        map[string]any{"givenName": "Given", "familyName": fmt.Sprintf("Family%d", i)},
		"emails":      []any{map[string]any{"value": fmt.Sprintf("user%d@example.com", i), "type": "work", "primary": true}},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "Engineering"},
	}
}

func TestConflictNamesTheAttribute(t *testing.T) {
	db := openTest(t, nil)
	defer db.Close()
	ctx := t.Context()
	if _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "alice", ExternalID: "e1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "G", ExternalID: "ge"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		create func() error
		want   string
	}{
		{func() error { _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "ALICE"}); return err }, `userName "ALICE" is taken`},
		{func() error { _, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "g"}); return err }, `displayName "g" is taken`},
	}
	for _, c := range cases {
		err := c.create()
		if !errors.Is(err, store.ErrConflict) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("err = %v, want ErrConflict saying %s", err, c.want)
		}
	}
}
