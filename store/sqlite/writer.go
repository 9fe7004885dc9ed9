package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/mattn/go-sqlite3"

	"github.com/scimbridge/scimbridge/store"
)

// Group commit.
//
// One fsync costs far more than the statements of a write, so writes are
// not committed one by one: every mutating method hands its work to the
// writer goroutine, which owns the only write connection. The writer takes
// every request queued at that moment and runs them in one BEGIN IMMEDIATE
// ... COMMIT, each inside its own SAVEPOINT: a request whose work fails is
// rolled back to its savepoint and gets its own error while the others
// commit. Requests that arrive while the batch runs join it before the
// COMMIT (up to maxBatch in all). The writer never waits for requests to
// arrive, so a lone client sees no extra latency. Nobody is answered before the COMMIT (and so the
// fsync) that contains their change returned; if the COMMIT fails, every
// request of the batch gets that error.
//
// Context: a request whose ctx is done before the writer starts it is not
// run and returns ctx.Err(). Once its work has run it waits for the commit
// whatever its ctx says, because by then its change may already be part of
// the transaction (answering early would report failure for a change that
// then becomes durable). Statements of a batch never see a caller's ctx:
// interrupting one would roll back the whole shared transaction.

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("sqlite store is closed")

const (
	// maxBatch caps the requests of one transaction: large enough to absorb
	// a burst of concurrent clients, small enough that one batch's work
	// (all of it in a single goroutine) does not add much latency.
	maxBatch = 128
	// queueLen is how many requests may wait for the writer before callers
	// block on submitting.
	queueLen = 4 * maxBatch
)

// Request states: the caller and the writer race to move a queued request
// out of stateQueued, so exactly one of them decides its fate.
const (
	stateQueued int32 = iota
	stateClaimed
	stateAbandoned
)

// request is one write waiting for the writer.
type request struct {
	ctx   context.Context
	run   func(tx *wtx) error
	state atomic.Int32
	err   error      // run's error; owned by the writer until done is sent
	done  chan error // buffered 1: the writer never blocks on answering
}

// claim moves the request from queued to claimed; false means its caller
// already gave up.
func (r *request) claim() bool { return r.state.CompareAndSwap(stateQueued, stateClaimed) }

// safeRun runs the request's work, turning a panic (a caller's UpdateUser
// callback, say) into that request's error so the writer goes on.
func (r *request) safeRun(tx *wtx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return r.run(tx)
}

// wtx is the write connection as seen by a request's work: the shared
// batch transaction is already open. Its methods ignore the ctx they are
// given and run statements uninterruptibly (see Group commit above); they
// also skip the goroutine mattn and database/sql start per statement for a
// cancellable ctx. Statements are prepared once per connection by the
// driver's statement cache (_stmt_cache_size).
type wtx struct {
	conn *sql.Conn
	// changed collects, through the update hook (rowChanged), what the
	// running batch changed for the lookup cache; keep > 0 inside keepUsers.
	changed changeSet
	keep    int
}

var _ querier = (*wtx)(nil)

// ExecContext runs a statement; ctx is ignored.
func (t *wtx) ExecContext(_ context.Context, query string, args ...any) (sql.Result, error) {
	return t.conn.ExecContext(context.Background(), query, args...)
}

// QueryContext runs a query; ctx is ignored.
func (t *wtx) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.conn.QueryContext(context.Background(), query, args...)
}

// QueryRowContext runs a one-row query; ctx is ignored.
func (t *wtx) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return t.conn.QueryRowContext(context.Background(), query, args...)
}

// writer owns the write connection and runs queued requests in batches.
type writer struct {
	tx   wtx
	reqs chan *request
	// committed is called after every COMMIT that succeeded (it must not
	// block): it kicks the checkpointer.
	committed func()

	mu     sync.RWMutex // guards closed and sending on reqs against close(reqs)
	closed bool

	stopped chan struct{} // closed when the loop has drained and returned
	commits atomic.Int64  // committed batches, for tests

	members memberCache // see PatchGroupMembers
	users   *userCache  // the lookup cache (lookupcache.go); nil when off
}

// memberCache keeps the member lists of the last few groups
// PatchGroupMembers changed, so that the next membership PATCH of a large
// group need not read (and SQLite render, and Go decode) its whole member
// list inside the writer to answer with it. Only the writer reads it, inside
// its transaction. An entry is good for one version of its group and one
// generation: every other write of membership rows (created, updated,
// deleted groups, removed members, new member displays) starts a new
// generation inside its transaction, and so does the writer whenever it
// rolls back work (a failed request, a failed batch), so an entry computed
// from rows that were later changed or never committed is never used.
// PatchGroupMembers caches the list it computed from a hit inside its
// transaction (so that the next request of the same batch hits too), and a
// list it had to read after the commit.
type memberCache struct {
	mu      sync.Mutex
	gen     uint64
	entries map[string]cachedMembers
}

type cachedMembers struct {
	version int64
	gen     uint64
	members []store.Member // sorted by id; never modified
}

// memberCacheEntries and memberCacheMax bound the memory the cache holds:
// it is for the few large groups an IdP pushes at a time.
const (
	memberCacheEntries = 8
	memberCacheMax     = 20000
)

// invalidate starts a new generation (call it inside the writer, in the
// transaction that writes membership rows) and drops every entry.
func (c *memberCache) invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.entries)
	c.mu.Unlock()
}

// generation is the current generation.
func (c *memberCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// get returns the members of group at version, if an entry of the current
// generation has them; the slice must not be modified.
func (c *memberCache) get(group string, version int64) ([]store.Member, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[group]
	if !ok || e.version != version || e.gen != c.gen {
		return nil, false
	}
	return e.members, true
}

// put records the members of group at version as read or computed in a
// transaction that saw generation gen; members must not be modified
// afterwards.
func (c *memberCache) put(group string, version int64, gen uint64, members []store.Member) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen || len(members) > memberCacheMax {
		delete(c.entries, group)
		return
	}
	if c.entries == nil {
		c.entries = make(map[string]cachedMembers, memberCacheEntries)
	}
	if _, ok := c.entries[group]; !ok && len(c.entries) >= memberCacheEntries {
		for k := range c.entries { // any one goes
			delete(c.entries, k)
			break
		}
	}
	c.entries[group] = cachedMembers{version: version, gen: gen, members: members}
}

func newWriter(conn *sql.Conn, committed func(), users *userCache) (*writer, error) {
	w := &writer{
		tx:        wtx{conn: conn},
		reqs:      make(chan *request, queueLen),
		committed: committed,
		stopped:   make(chan struct{}),
		users:     users,
	}
	if users != nil {
		err := conn.Raw(func(dc any) error {
			c, ok := dc.(*sqlite3.SQLiteConn)
			if !ok {
				return fmt.Errorf("writer connection is a %T, not an SQLite connection", dc)
			}
			c.RegisterUpdateHook(w.tx.rowChanged)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("install the lookup cache's update hook: %w", err)
		}
	}
	go w.loop()
	return w, nil
}

// publish drops from the lookup cache what the batch changed. It runs
// after the batch ended (committed, rolled back or broken) and before
// anyone of it is answered.
func (w *writer) publish() {
	c := &w.tx.changed
	if w.users != nil && !c.empty() {
		w.users.drop(c.seqs, c.ids, c.all)
	}
	c.reset()
}

// do submits run and waits for its result: run's own error, or the error
// that kept the batch from committing, or ctx.Err() if ctx ended before run
// started. nil means run's changes are committed.
func (w *writer) do(ctx context.Context, run func(tx *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := &request{ctx: ctx, run: run, done: make(chan error, 1)}
	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		return ErrClosed
	}
	select {
	case w.reqs <- r:
		w.mu.RUnlock()
	case <-ctx.Done():
		w.mu.RUnlock()
		return ctx.Err()
	}
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(stateQueued, stateAbandoned) {
			return ctx.Err() // the writer will skip it
		}
		// The writer has started it: wait for the commit.
		return <-r.done
	}
}

// close stops accepting requests and waits until every queued one has been
// answered and the loop has returned. It is idempotent.
func (w *writer) close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.reqs)
	}
	w.mu.Unlock()
	<-w.stopped
}

// isClosed reports whether close has begun.
func (w *writer) isClosed() bool {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.closed
}

func (w *writer) loop() {
	defer close(w.stopped)
	batch := make([]*request, 0, maxBatch)
	open := true // reqs not yet closed
	for {
		if len(batch) == 0 {
			r, ok := <-w.reqs
			if !ok {
				return
			}
			batch = append(batch, r)
		}
		var left []*request
		left, open = w.runBatch(batch, open)
		// Requests not started (left, a tail of batch) open the next batch.
		n := copy(batch, left)
		clear(batch[n:cap(batch)]) // drop references to answered requests
		batch = batch[:n]
		if !open && n == 0 {
			return
		}
	}
}

// take appends to batch what is queued right now, up to maxBatch, without
// waiting; open reports whether reqs is still open.
func (w *writer) take(batch []*request) (_ []*request, open bool) {
	for len(batch) < maxBatch {
		select {
		case r, ok := <-w.reqs:
			if !ok {
				return batch, false
			}
			batch = append(batch, r)
		default:
			return batch, true
		}
	}
	return batch, true
}

func (w *writer) exec(query string) error {
	_, err := w.tx.conn.ExecContext(context.Background(), query)
	return err
}

// runBatch runs batch in one transaction, adding the requests that arrive
// meanwhile (up to maxBatch; they join without anyone waiting for them, and
// share the commit), and answers every request it claimed. It returns the
// requests it did not start, which happens only when the transaction broke
// midway (SQLite rolled it back after an I/O error, say): they go into the
// next batch. open is as for take.
func (w *writer) runBatch(batch []*request, open bool) (left []*request, _ bool) {
	if err := w.exec("BEGIN IMMEDIATE"); err != nil {
		err = fmt.Errorf("begin write: %w", err)
		for _, r := range batch {
			if r.claim() {
				r.done <- err
			}
		}
		return nil, open
	}
	ran := make([]*request, 0, len(batch))
	for i := 0; ; i++ {
		if i == len(batch) && open {
			batch, open = w.take(batch)
		}
		if i == len(batch) {
			break
		}
		r := batch[i]
		if !r.claim() {
			continue
		}
		if err := r.ctx.Err(); err != nil {
			r.done <- err
			continue
		}
		if err := w.exec("SAVEPOINT request"); err != nil {
			r.done <- fmt.Errorf("savepoint: %w", err)
			w.abort(ran, err)
			return batch[i+1:], open
		}
		r.err = r.safeRun(&w.tx)
		var err error
		if r.err != nil {
			w.members.invalidate() // it may have cached what it rolls back
			err = w.exec("ROLLBACK TO request")
		}
		if err == nil {
			err = w.exec("RELEASE request")
		}
		if err != nil {
			// The transaction is gone (SQLite rolls it back on some
			// errors); the work of the requests before this one is lost.
			if r.err == nil {
				r.err = fmt.Errorf("write batch aborted: %w", err)
			}
			r.done <- r.err
			w.abort(ran, err)
			return batch[i+1:], open
		}
		ran = append(ran, r)
	}
	wrote := false
	for _, r := range ran {
		wrote = wrote || r.err == nil
	}
	if !wrote {
		// Every request failed or none ran: nothing to make durable.
		_ = w.exec("ROLLBACK")
		w.publish()
		for _, r := range ran {
			r.done <- r.err
		}
		return nil, open
	}
	if err := w.exec("COMMIT"); err != nil {
		w.members.invalidate()
		_ = w.exec("ROLLBACK") // in case COMMIT left the transaction open
		w.publish()
		err = fmt.Errorf("commit: %w", err)
		for _, r := range ran {
			r.done <- err
		}
		return nil, open
	}
	w.commits.Add(1)
	w.publish()
	w.committed()
	for _, r := range ran {
		r.done <- r.err
	}
	return nil, open
}

// abort rolls back a broken batch and answers the requests that had run.
func (w *writer) abort(ran []*request, cause error) {
	w.members.invalidate()
	_ = w.exec("ROLLBACK")
	w.publish()
	err := fmt.Errorf("write batch aborted: %w", cause)
	for _, r := range ran {
		if r.err == nil {
			r.done <- err
		} else {
			r.done <- r.err
		}
	}
}
