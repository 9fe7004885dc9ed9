package sqlite

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// Ping commits a heartbeat: the row carries the clock's time afterwards.
func TestPingWritesTheHeartbeat(t *testing.T) {
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	db, err := Open(t.Context(), filepath.Join(t.TempDir(), "x.db"), Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 2 {
		if err := db.Ping(t.Context()); err != nil {
			t.Fatalf("Ping: %v", err)
		}
		var at int64
		if err := db.r.QueryRowContext(t.Context(), `SELECT at FROM heartbeat WHERE id = 1`).Scan(&at); err != nil {
			t.Fatal(err)
		}
		if !fromNanos(at).Equal(now) {
			t.Fatalf("heartbeat at %v, want %v", fromNanos(at), now)
		}
		now = now.Add(time.Minute)
	}
}

// A writer connection that may not write (query_only: what SQLite reports
// for a read-only file too) fails Ping, and so does a closed store or an
// ended context.
func TestPingFailsWithoutWrites(t *testing.T) {
	db, _ := open(t)
	// The writer goroutine is idle between requests, so its connection
	// can be switched directly.
	if _, err := db.wr.tx.conn.ExecContext(t.Context(), `PRAGMA query_only = 1`); err != nil {
		t.Fatal(err)
	}
	err := db.Ping(t.Context())
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("Ping on a read-only writer: %v, want a readonly error", err)
	}
	if _, err := db.wr.tx.conn.ExecContext(t.Context(), `PRAGMA query_only = 0`); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Fatalf("Ping once writable again: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := db.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Ping with an ended context: %v", err)
	}

	closed, _ := open(t)
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	if err := closed.Ping(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Ping after Close: %v, want ErrClosed", err)
	}
}

func TestStatsNamesEveryPool(t *testing.T) {
	db, _ := open(t)
	if _, err := db.ListRuns(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	st := db.Stats()
	if len(st) != 3 {
		t.Fatalf("Stats() has %d pools: %v", len(st), st)
	}
	if w := st[PoolWriter]; w.MaxOpenConnections != 1 || w.InUse != 1 {
		t.Errorf("writer pool: %+v, want 1 connection, held", w)
	}
	if r := st[PoolReader]; r.MaxOpenConnections != readerConns || r.OpenConnections < 1 {
		t.Errorf("reader pool: %+v, want at most %d and one opened by the read", r, readerConns)
	}
	if c := st[PoolCheckpoint]; c.MaxOpenConnections != 1 {
		t.Errorf("checkpoint pool: %+v", c)
	}
}

// An ASCII login lookup seeks the applied-name index instead of walking
// every link of the target.
func TestRecordLoginUsesTheIndex(t *testing.T) {
	db, _ := open(t)
	rows, err := db.r.QueryContext(t.Context(), `EXPLAIN QUERY PLAN UPDATE links INDEXED BY links_applied_name SET last_login_at = 1 WHERE `+loginWhereASCII,
		"jira", "alice", "alice")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if p := strings.Join(plan, "; "); !strings.Contains(p, "USING INDEX links_applied_name") {
		t.Fatalf("query plan: %s", p)
	}
}

// Accepted signatures survive a restart: the same key is a replay after
// the file is closed and opened again, until it expires.
func TestRememberSignatureSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "replay.db")
	now := time.Date(2026, 7, 1, 12, 0, 0, 0, time.UTC)
	exp := now.Add(5 * time.Minute)
	db, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	remember := func(db *DB, key string, exp, now time.Time) bool {
		t.Helper()
		fresh, err := db.RememberSignature(t.Context(), key, exp, now)
		if err != nil {
			t.Fatalf("RememberSignature(%q): %v", key, err)
		}
		return fresh
	}
	if !remember(db, "1.aa", exp, now) {
		t.Fatal("a new key was reported as a replay")
	}
	if remember(db, "1.aa", exp, now.Add(time.Minute)) {
		t.Fatal("a replay was accepted")
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if remember(db, "1.aa", exp, now.Add(2*time.Minute)) {
		t.Fatal("a replay was accepted after a restart")
	}
	if !remember(db, "2.bb", exp, now) {
		t.Fatal("another key was reported as a replay")
	}
	// Once expired, a key is forgotten: taken over by the same key, pruned
	// by any other.
	if !remember(db, "1.aa", exp.Add(5*time.Minute), exp) {
		t.Fatal("an expired key was reported as a replay")
	}
	if !remember(db, "3.cc", exp.Add(20*time.Minute), exp.Add(10*time.Minute)) {
		t.Fatal("a new key was reported as a replay")
	}
	var n int
	if err := db.r.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM webhook_signatures`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("%d signatures kept, want only the live one", n)
	}
	if _, err := db.RememberSignature(t.Context(), "", exp, now); err == nil {
		t.Fatal("an empty key was accepted")
	}
}

var _ store.ReplayGuard = (*DB)(nil)
