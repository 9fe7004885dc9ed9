package sqlite

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// The writer leaves checkpoints to the checkpointer: its own automatic
// checkpoint is only a distant safety net, and a commit makes the
// checkpointer copy the WAL into the database file.
func TestCheckpointerCopiesCommitsIntoTheDatabaseFile(t *testing.T) {
	db, p := open(t)
	ctx := t.Context()
	var auto int
	if err := db.wr.tx.conn.QueryRowContext(ctx, `PRAGMA wal_autocheckpoint`).Scan(&auto); err != nil {
		t.Fatal(err)
	}
	if auto != writerAutoCheckpoint {
		t.Errorf("writer's wal_autocheckpoint = %d, want %d", auto, writerAutoCheckpoint)
	}
	before := db.cp.runs.Load()
	if _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "alice"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for db.cp.runs.Load() == before {
		if time.Now().After(deadline) {
			t.Fatal("no checkpoint ran within 10 s of a commit")
		}
		time.Sleep(time.Millisecond) // polling a condition with a deadline
	}
	if b, _ := db.cp.lastErr.Load().(errBox); b.err != nil {
		t.Fatalf("checkpoint: %v", b.err)
	}
	// The database file alone, without its WAL, now holds alice.
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	copyFile(t, p, copyPath)
	c, err := Open(ctx, copyPath, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	us, total, err := c.ListUsers(ctx, "t", store.Query{Limit: 10})
	if err != nil || total != 1 || us[0].UserName != "alice" {
		t.Errorf("the database file without its WAL holds %d users (%v), want alice", total, err)
	}
	// A stopped checkpointer and a closed store do not mind further kicks.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db.cp.notify()
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}
