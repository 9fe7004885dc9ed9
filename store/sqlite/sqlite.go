// Package sqlite is the embedded default store backend: one SQLite file
// (mattn/go-sqlite3, WAL) with one writer goroutine that owns the only write
// connection and runs its transactions IMMEDIATE (so read-modify-write never
// loses an update), and a read-only pool for reads.
//
// Every mutating method's work runs in a write transaction that also
// enqueues the outbox job, so a change the IdP was told about is never lost
// (synchronous=FULL: a method returns only after the commit that holds its
// change is on disk). Concurrent writes share transactions (group commit,
// see writer.go): one fsync then serves many requests.
//
// Callbacks passed to UpdateUser and UpdateGroup run on the writer
// goroutine inside the shared write transaction, so they delay every other
// write while they run: keep them quick. They must not call write methods
// of the same DB (that would wait forever, or until their ctx ends); reads
// are fine but do not see the uncommitted writes of the batch.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/mattn/go-sqlite3"

	"github.com/scimbridge/scimbridge/store"
)

var _ store.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Options tunes Open.
type Options struct {
	// Now is the clock; nil means time.Now. Stored times are converted to UTC.
	Now func() time.Time
	// NoOutbox names tenants whose writes enqueue no outbox jobs: tenants
	// with no target to provision into, whose jobs the engine would only
	// read and complete. Should a target be added later, the full
	// reconcile (which reads every user, not the outbox) brings it in
	// step. EnqueueJob still enqueues for them.
	NoOutbox []string
	// LookupCacheBytes bounds the lookup cache (lookupcache.go), which
	// answers repeated `userName eq` lookups without SQLite: 0 means
	// defaultLookupCacheBytes (16 MiB), a negative value turns it off.
	LookupCacheBytes int
}

// DB is a store.Store on one SQLite file.
type DB struct {
	w   *sql.DB       // writer pool: one connection, held by wr after Open
	wr  *writer       // the writer goroutine: every write goes through it
	r   *sql.DB       // readers: read-only connections
	cp  *checkpointer // WAL checkpoints off the commit path (checkpoint.go)
	now func() time.Time
	// noOutbox is Options.NoOutbox as a set; read-only after Open.
	noOutbox map[string]bool
	users    *userCache // lookups by userName; nil when off
	lock     *os.File   // held while users is on (lock_unix.go); nil otherwise
}

// readerConns is the size of the read pool; WAL lets readers run alongside
// the writer, and the machine is small.
const readerConns = 4

// Open opens (creating if needed) the database file at path and applies any
// pending migrations. path is a file name; ":memory:" is refused because the
// reader and writer pools would see two different databases.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("open sqlite store: path must be a plain file name, got %q", path)
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	w := sql.OpenDB(newConnector(path, url.Values{
		"_journal_mode":    {"WAL"},
		"_busy_timeout":    {"5000"},
		"_foreign_keys":    {"on"},
		"_synchronous":     {"FULL"},
		"_txlock":          {"immediate"},
		"_stmt_cache_size": {"64"},
	}, "PRAGMA wal_autocheckpoint = "+strconv.Itoa(writerAutoCheckpoint)))
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	if err := migrate(ctx, w, now); err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	r := sql.OpenDB(newConnector(path, url.Values{
		"mode":             {"ro"},
		"_busy_timeout":    {"5000"},
		"_query_only":      {"1"},
		"_stmt_cache_size": {"64"},
	}))
	r.SetMaxOpenConns(readerConns)
	r.SetMaxIdleConns(readerConns)
	if err := r.PingContext(ctx); err != nil {
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store %q for reading: %w", path, err)
	}
	c := sql.OpenDB(newConnector(path, url.Values{
		"_busy_timeout": {"5000"},
		"_synchronous":  {"FULL"},
	}))
	c.SetMaxOpenConns(1)
	c.SetMaxIdleConns(1)
	c.SetConnMaxLifetime(0)
	c.SetConnMaxIdleTime(0)
	conn, err := w.Conn(ctx)
	if err != nil {
		_ = c.Close()
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store %q: writer connection: %w", path, err)
	}
	cp := newCheckpointer(c)
	var noOutbox map[string]bool
	for _, t := range opts.NoOutbox {
		if noOutbox == nil {
			noOutbox = map[string]bool{}
		}
		noOutbox[t] = true
	}
	cacheBytes := opts.LookupCacheBytes
	if cacheBytes == 0 {
		cacheBytes = defaultLookupCacheBytes
	}
	users := newUserCache(cacheBytes)
	var lock *os.File
	if users != nil {
		lock, err = lockFile(path)
	}
	var wr *writer
	if err == nil {
		wr, err = newWriter(conn, cp.notify, users)
	}
	if err != nil {
		if lock != nil {
			_ = lock.Close()
		}
		_ = conn.Close()
		_ = cp.close()
		_ = r.Close()
		_ = w.Close()
		return nil, fmt.Errorf("open sqlite store %q: %w", path, err)
	}
	return &DB{w: w, wr: wr, r: r, cp: cp, now: now, noOutbox: noOutbox, users: users, lock: lock}, nil
}

// Close stops accepting writes (they return ErrClosed), waits until every
// write already submitted has been answered, stops the checkpointer and
// closes every pool. The last connection to close (the writer's)
// checkpoints the WAL. Calling Close again is a no-op.
func (d *DB) Close() error {
	d.wr.close()
	err := errors.Join(d.cp.close(), d.r.Close(), d.w.Close())
	if d.lock != nil {
		err = errors.Join(err, d.lock.Close())
		d.lock = nil
	}
	return err
}

// Pool names returned by Stats.
const (
	PoolWriter     = "writer"     // the one write connection, held by the writer goroutine
	PoolReader     = "reader"     // the read-only pool
	PoolCheckpoint = "checkpoint" // the WAL checkpointer's connection
)

// Stats returns the connection-pool statistics of the store's pools, keyed
// by PoolWriter, PoolReader and PoolCheckpoint, for metrics. The writer
// shows one connection always in use: the writer goroutine holds it.
func (d *DB) Stats() map[string]sql.DBStats {
	return map[string]sql.DBStats{PoolWriter: d.w.Stats(), PoolReader: d.r.Stats(), PoolCheckpoint: d.cp.db.Stats()}
}

// Ping proves that the database takes writes: it rewrites a heartbeat row
// through the writer, the way every change goes (same queue, same
// transaction, same fsync). So it fails when the store is closed, the file
// or its file system is read-only, the disk is full, or the write lock
// cannot be had within the busy timeout; a write that changes nothing
// would miss the full disk. ctx bounds the wait for the writer.
func (d *DB) Ping(ctx context.Context) error {
	at := nanos(d.utcNow())
	err := d.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO heartbeat (id, at) VALUES (1, ?1)
			ON CONFLICT (id) DO UPDATE SET at = excluded.at`, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// connector opens mattn connections with our SQL functions registered,
// without registering a named driver (no package-level state).
type connector struct {
	dsn string
	drv *sqlite3.SQLiteDriver
}

// newConnector opens path with the DSN parameters, then runs the pragmas
// mattn has no parameter for on every new connection.
func newConnector(path string, params url.Values, pragmas ...string) *connector {
	u := url.URL{Scheme: "file", Opaque: escapePath(path), RawQuery: params.Encode()}
	return &connector{
		dsn: u.String(),
		drv: &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
			for _, p := range pragmas {
				if _, err := c.Exec(p, nil); err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
			}
			return c.RegisterFunc("scim_fold", foldSQL, true)
		}},
	}
}

// escapePath percent-encodes what SQLite's URI parser treats specially.
func escapePath(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23")
	return r.Replace(p)
}

// Connect implements driver.Connector.
func (c *connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

// Driver implements driver.Connector.
func (c *connector) Driver() driver.Driver { return c.drv }

// fold maps s to a canonical case-insensitive form: every rune becomes the
// lower case of the smallest rune of its Unicode simple-folding orbit, so two
// strings fold equal exactly when strings.EqualFold says they are equal
// (including non-ASCII: "ÅSA" and "åsa", "ſ" and "s").
func fold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		m := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < m {
				m = f
			}
		}
		b.WriteRune(unicode.ToLower(m))
	}
	return b.String()
}

// foldSQL is fold as the SQL function scim_fold; non-text values pass
// through unchanged (NULL arrives as a nil []byte).
func foldSQL(v any) any {
	switch t := v.(type) {
	case string:
		return fold(t)
	case []byte:
		if t == nil {
			return nil
		}
		return t
	default:
		return v
	}
}

// nanos and fromNanos convert between stored unix nanoseconds and UTC times.
func nanos(t time.Time) int64 { return t.UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// utcNow reads the clock once per write, truncated to what the column keeps.
func (d *DB) utcNow() time.Time { return fromNanos(nanos(d.now())) }

// write runs fn on the writer inside a (shared) IMMEDIATE transaction and
// returns once its changes are committed, or with fn's error (its changes
// undone), or the commit's error; see writer.go.
func (d *DB) write(ctx context.Context, fn func(tx *wtx) error) error {
	return d.wr.do(ctx, fn)
}

// bounded is the context for one statement whose work is bounded (a
// lookup by a unique key): ctx's end is answered before it starts, and the
// statement then runs without a cancellable context, which spares
// database/sql and mattn the goroutine and cancel context they set up per
// query otherwise (measurable next to a ~15 µs lookup).
func bounded(ctx context.Context) (context.Context, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return context.WithoutCancel(ctx), nil
}

// read runs fn in a (deferred, read-only) transaction on the reader pool so
// that the several queries of one read see one snapshot: a page and its
// total, a user and its groups.
func (d *DB) read(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := d.r.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin read: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	return fn(tx)
}

// conflict turns a unique-constraint error into an error wrapping
// store.ErrConflict that names the attribute; other errors pass through.
func conflict(err error, attrs map[string]string) error {
	msg, ok := uniqueViolation(err)
	if !ok {
		return err
	}
	// The message lists the columns, e.g. "UNIQUE constraint failed:
	// users.tenant, users.user_name_fold"; check the longer names first.
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return len(b) - len(a) })
	for _, col := range keys {
		if strings.Contains(msg, "."+col) {
			return fmt.Errorf("%s is taken: %w", attrs[col], store.ErrConflict)
		}
	}
	return fmt.Errorf("uniqueness: %w", store.ErrConflict)
}

// migration is one embedded numbered SQL file.
type migration struct {
	version int
	name    string
	sql     string
}

func loadMigrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %q: name must start with a positive number and '_'", base)
		}
		b, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("migrations %q and %q share a number", ms[i-1].name, ms[i].name)
		}
	}
	return ms, nil
}

// migrate applies every migration not yet recorded in schema_migrations,
// in order, each in its own transaction.
func migrate(ctx context.Context, w *sql.DB, now func() time.Time) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	if _, err := w.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var newest sql.NullInt64
	if err := w.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&newest); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if known := ms[len(ms)-1].version; newest.Valid && newest.Int64 > int64(known) {
		return fmt.Errorf("database schema version %d is newer than this binary knows (%d)", newest.Int64, known)
	}
	for _, m := range ms {
		err := func() error {
			tx, err := w.BeginTx(ctx, nil)
			if err != nil {
				return err
			}
			defer func() { _ = tx.Rollback() }()
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?1`, m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)`,
				m.version, m.name, nanos(now())); err != nil {
				return err
			}
			return tx.Commit()
		}()
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	return nil
}
