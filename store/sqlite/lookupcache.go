package sqlite

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/scimbridge/scimbridge/store"
)

// Lookup cache.
//
// Every IdP reads users by `userName eq "x"` (before a create, on every
// provisioning cycle of Entra ID, after a PUT of PingOne), and on 100k
// users that read cost more than the HTTP exchange around it: the SQLite
// statement and database/sql around it took ~30% of the server's CPU per
// lookup (BENCHMARKS.md). The users rows such lookups found are kept here,
// keyed by tenant and folded userName, exactly as the statement returned
// them (the user with its groups, attributes still encoded), so a hit
// answers what the statement would have answered.
//
// Coherence. Only the writer changes the database (one serve process owns
// the file, which lockFile enforces; `scimbridge reconcile`, run as a
// process of its own without a cache, writes links, runs and results,
// never users, groups or memberships). An SQLite update hook on the writer
// connection sees every row it inserts, updates or deletes: a users row
// drops the entry of that row (its seq); any groups row drops every entry,
// since a rename or delete changes the groups attribute of all its members;
// the few writes known to change no user's groups attribute but named ones
// (PatchGroupMembers, the version bump of touchGroup) say so (wtx.keepUsers)
// and name those users (wtx.usersChanged). Membership rows (a WITHOUT ROWID
// table the hook does not see) only change in those writes and in writes of
// groups rows. The writer drops what a batch changed after its COMMIT (or
// failure) and before it answers anyone, so a lookup that starts after a
// write was answered never sees the old row. An entry is only added if
// nothing at all was dropped between the start of the statement that read
// it and the add (epoch), so a row read before a commit cannot be added
// after that commit's drop.
//
// Memo. A hit hands out the entry's store.Memo with the user. An entry is
// never changed, only replaced or dropped, so whatever a reader derives
// from it and keeps there stays true of what every later hit returns; the
// scim layer keeps the user's JSON, so a hit skips the rendering too. The
// memo's bytes count against the budget by estimate (memoEstimate).

// defaultLookupCacheBytes is the lookup cache's size when Options leave it
// zero: about 11,000 typical users (an entry of an Okta-shaped user costs
// ~750 bytes of heap, measured, and its memo about as much again).
const defaultLookupCacheBytes = 16 << 20

// cachedUserOverhead approximates the bytes an entry costs beyond its
// strings: the entry, three map slots, the user struct, group refs.
const cachedUserOverhead = 400

// memoEstimate is what a reader is expected to keep in an entry's memo: the
// scim layer's JSON of the user, which holds the attributes, the id twice
// (id, meta.location), the base URL, userName, group references and about
// 250 bytes of fixed keys and meta. An estimate: the memo's real size is
// not known when the entry is added.
func memoEstimate(r userRow) int {
	n := 320 + len(r.attrs) + 2*len(r.u.ID) + len(r.u.UserName) + len(r.u.ExternalID)
	for _, g := range r.u.Groups {
		n += 100 + len(g.ID) + len(g.DisplayName)
	}
	return n
}

type userCache struct {
	max   int           // bytes
	epoch atomic.Uint64 // +1 under mu on every drop
	seen  doorkeeper    // admits a key on its second miss

	hits, misses atomic.Uint64 // lookups answered from the cache, and not

	mu    sync.RWMutex
	bytes int
	byKey map[string]*cachedUser // lookupKey(tenant, fold(userName))
	bySeq map[int64]*cachedUser
	byID  map[string]*cachedUser
}

type cachedUser struct {
	key  string
	row  userRow // never modified
	size int
	// memo goes with every hit: an entry is never changed, only replaced
	// or dropped, so what a reader keeps in it stays true of row.
	memo store.Memo
}

func newUserCache(maxBytes int) *userCache {
	if maxBytes <= 0 {
		return nil
	}
	return &userCache{
		max:   maxBytes,
		byKey: map[string]*cachedUser{},
		bySeq: map[int64]*cachedUser{},
		byID:  map[string]*cachedUser{},
	}
}

// lookupKey returns the cache key of q if q is a lookup the cache answers:
// the first page (offset 0, at least one row) of exactly `userName eq
// "string"`, case-insensitive, as the IdPs send it. Anything else is read
// from the database.
func lookupKey(tenant string, q store.Query) (string, bool) {
	if q.Offset != 0 || q.Limit < 1 {
		return "", false
	}
	var c store.Compare
	switch f := q.Filter.(type) {
	case store.Compare:
		c = f
	case *store.Compare:
		if f == nil {
			return "", false
		}
		c = *f
	default:
		return "", false
	}
	v, ok := c.Value.(string)
	if !ok || c.Op != store.OpEq || c.CaseExact || c.Path.Sub != "" || c.Path.MultiValued {
		return "", false
	}
	b := &sqlBuilder{t: usersTable}
	if b.special(b.normalize(c.Path)) != "userName" {
		return "", false
	}
	return tenant + "\x00" + fold(v), true
}

// get returns the cached row for key, its Groups the caller's own, and the
// entry's memo.
func (c *userCache) get(key string) (userRow, *store.Memo, bool) {
	c.mu.RLock()
	e, ok := c.byKey[key]
	c.mu.RUnlock()
	if !ok {
		c.misses.Add(1)
		return userRow{}, nil, false
	}
	c.hits.Add(1)
	r := e.row
	r.u.Groups = slices.Clone(r.u.Groups)
	return r, &e.memo, true
}

// put adds r under key, unless something was dropped since epoch was read
// (before the statement that read r started); r must not be modified
// afterwards.
func (c *userCache) put(epoch uint64, key string, r userRow) {
	size := cachedUserOverhead + len(key) + len(r.attrs) + len(r.u.ID) + len(r.u.Tenant) +
		len(r.u.UserName) + len(r.u.ExternalID)
	for _, g := range r.u.Groups {
		size += 32 + len(g.ID) + len(g.DisplayName)
	}
	size += memoEstimate(r)
	if size > c.max/16 {
		return // a giant row would evict a crowd of ordinary ones
	}
	if !c.seen.admit(key) {
		// A key missed once is not cached: a pass over many users, each
		// looked up once (an IdP's first sync), would otherwise take the
		// lock and evict an entry per lookup for nothing; measured at
		// ~20% more CPU per lookup than no cache at all.
		return
	}
	r.u.Groups = slices.Clone(r.u.Groups) // the caller keeps the slice it got

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.epoch.Load() != epoch {
		return
	}
	if old, ok := c.byKey[key]; ok {
		c.remove(old)
	}
	for c.bytes+size > c.max {
		for _, e := range c.byKey { // any one goes
			c.remove(e)
			break
		}
	}
	e := &cachedUser{key: key, row: r, size: size}
	c.byKey[key] = e
	c.bySeq[r.seq] = e
	c.byID[r.u.ID] = e
	c.bytes += size
}

func (c *userCache) remove(e *cachedUser) {
	delete(c.byKey, e.key)
	if c.bySeq[e.row.seq] == e {
		delete(c.bySeq, e.row.seq)
	}
	if c.byID[e.row.u.ID] == e {
		delete(c.byID, e.row.u.ID)
	}
	c.bytes -= e.size
}

// drop removes the entries of the users rows seqs and the users ids, or
// every entry with all, and starts a new epoch.
func (c *userCache) drop(seqs []int64, ids []string, all bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.epoch.Add(1)
	if all {
		clear(c.byKey)
		clear(c.bySeq)
		clear(c.byID)
		c.bytes = 0
		return
	}
	for _, s := range seqs {
		if e, ok := c.bySeq[s]; ok {
			c.remove(e)
		}
	}
	for _, id := range ids {
		if e, ok := c.byID[id]; ok {
			c.remove(e)
		}
	}
}

// LookupCacheStats describes the lookup cache, for metrics.
type LookupCacheStats struct {
	Hits, Misses uint64 // lookups answered from the cache, and not, since Open
	Entries      int    // users kept
	Bytes        int    // their estimated heap
	MaxBytes     int    // the bound (Options.LookupCacheBytes); 0 when off
}

// LookupCacheStats returns the lookup cache's counters and size.
func (d *DB) LookupCacheStats() LookupCacheStats {
	c := d.users
	if c == nil {
		return LookupCacheStats{}
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return LookupCacheStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Entries: len(c.byKey), Bytes: c.bytes, MaxBytes: c.max}
}

// len returns the number of entries, for tests.
func (c *userCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.byKey)
}

// changeSet is what the writer's running batch changed, for the cache.
type changeSet struct {
	seqs []int64  // users rows
	ids  []string // users named by keepUsers writes
	all  bool     // a groups row changed
}

func (s *changeSet) empty() bool { return !s.all && len(s.seqs) == 0 && len(s.ids) == 0 }

func (s *changeSet) reset() {
	s.seqs, s.ids, s.all = s.seqs[:0], s.ids[:0], false
}

// rowChanged is the writer connection's SQLite update hook: it runs inside
// the statement, on the writer goroutine.
func (t *wtx) rowChanged(_ int, db, table string, rowid int64) {
	if db != "main" {
		return
	}
	switch table {
	case "users":
		t.changed.seqs = append(t.changed.seqs, rowid)
	case "groups":
		if t.keep == 0 {
			t.changed.all = true
		}
	}
}

// keepUsers runs fn, whose writes to groups rows change no user's groups
// attribute (a version bump, say), so they need not empty the lookup cache.
func (t *wtx) keepUsers(fn func() error) error {
	t.keep++
	defer func() { t.keep-- }()
	return fn()
}

// usersChanged names users whose groups attribute changed without their
// users row changing (members added to or removed from a group).
func (t *wtx) usersChanged(ids ...string) {
	t.changed.ids = append(t.changed.ids, ids...)
}

// doorkeeper remembers, approximately, which keys missed before: a bit
// per hash, all cleared after doorkeeperResetAfter new keys so that old
// sightings do not admit forever. A false positive only admits a key on
// its first miss.
type doorkeeper struct {
	seed  maphash.Seed
	once  sync.Once
	bits  [doorkeeperWords]atomic.Uint64
	fresh atomic.Int64 // keys first seen since the last clear
}

const (
	doorkeeperWords      = 1 << 14 // 1M bits, 128 KiB
	doorkeeperResetAfter = 100_000 // about 10% of the bits set
)

// admit records key and reports whether it had been seen before.
func (d *doorkeeper) admit(key string) bool {
	d.once.Do(func() { d.seed = maphash.MakeSeed() })
	h := maphash.String(d.seed, key)
	w, bit := &d.bits[(h>>6)%doorkeeperWords], uint64(1)<<(h&63)
	if w.Or(bit)&bit != 0 {
		return true
	}
	if d.fresh.Add(1) >= doorkeeperResetAfter {
		d.fresh.Store(0)
		for i := range d.bits {
			d.bits[i].Store(0)
		}
	}
	return false
}
