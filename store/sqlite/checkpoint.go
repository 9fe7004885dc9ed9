package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"time"
)

// Checkpoints.
//
// SQLite's automatic checkpoint runs inside the COMMIT that pushes the WAL
// past wal_autocheckpoint pages: that commit copies the WAL into the
// database file and fsyncs it, which on 100k users took ~20 ms, while every
// request of the batch (and every request queued behind it) waits. So the
// writer's automatic checkpoint is set high, as a safety net only, and a
// checkpointer on its own connection runs PASSIVE checkpoints after
// commits, at most one every checkpointGap: commits (each still fsyncing
// the WAL, synchronous=FULL) go on while it copies, and the WAL stays
// small enough to be restarted from its beginning.

const (
	// checkpointGap is the least time between two checkpoints: a
	// checkpoint ends with an fsync of the database file, so fewer and
	// larger ones cost less (pages written again meanwhile are copied once).
	checkpointGap = 100 * time.Millisecond
	// writerAutoCheckpoint is the writer's own automatic checkpoint (in
	// pages), only reached if the checkpointer falls far behind.
	writerAutoCheckpoint = 16000
)

// checkpointer runs PASSIVE checkpoints on its own connection when kicked.
type checkpointer struct {
	db   *sql.DB
	kick chan struct{} // buffered 1: a kick while one is pending is merged
	stop chan struct{}
	done chan struct{}
	once sync.Once

	runs    atomic.Int64 // checkpoints run, for tests
	lastErr atomic.Value // error of the last checkpoint (nil value when fine), for tests
}

func newCheckpointer(db *sql.DB) *checkpointer {
	c := &checkpointer{db: db, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	go c.loop()
	return c
}

// notify asks for a checkpoint; it never blocks.
func (c *checkpointer) notify() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *checkpointer) loop() {
	defer close(c.done)
	gap := time.NewTimer(0)
	defer gap.Stop()
	for {
		select {
		case <-c.stop:
			return
		case <-c.kick:
		}
		c.checkpoint()
		gap.Reset(checkpointGap)
		select {
		case <-c.stop:
			return
		case <-gap.C:
		}
	}
}

// checkpoint runs one PASSIVE checkpoint. A failure (the database busy in
// a way PASSIVE does not wait for, an I/O error) leaves the frames in the
// WAL for the next one; nothing is lost, and the writer's automatic
// checkpoint still bounds the WAL.
func (c *checkpointer) checkpoint() {
	var busy, log, done int
	err := c.db.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &done)
	c.lastErr.Store(errBox{err})
	c.runs.Add(1)
}

// errBox lets atomic.Value hold a nil error.
type errBox struct{ err error }

// close stops the checkpointer and closes its connection; idempotent.
func (c *checkpointer) close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return c.db.Close()
}
