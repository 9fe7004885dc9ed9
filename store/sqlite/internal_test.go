package sqlite

import (
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
)

func open(t testing.TB) (*DB, string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.db")
	db, err := Open(t.Context(), p, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db, p
}

// mattn ignores DSN parameters it does not know, so check the pragmas.
func TestPragmasTookEffect(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	checks := []struct {
		name  string
		q     querier
		query string
		want  string
	}{
		{"writer", &db.wr.tx, "PRAGMA journal_mode", "wal"},
		{"writer", &db.wr.tx, "PRAGMA busy_timeout", "5000"},
		{"writer", &db.wr.tx, "PRAGMA foreign_keys", "1"},
		{"writer", &db.wr.tx, "PRAGMA synchronous", "2"}, // FULL
		{"reader", db.r, "PRAGMA journal_mode", "wal"},
		{"reader", db.r, "PRAGMA busy_timeout", "5000"},
		{"reader", db.r, "PRAGMA query_only", "1"},
	}
	for _, c := range checks {
		var got string
		// Writer statements run on the writer goroutine, as every write does.
		err := db.write(ctx, func(*wtx) error { return c.q.QueryRowContext(ctx, c.query).Scan(&got) })
		if err != nil {
			t.Fatalf("%s %s: %v", c.name, c.query, err)
		}
		if got != c.want {
			t.Errorf("%s %s = %q, want %q", c.name, c.query, got, c.want)
		}
	}
	if n := db.w.Stats().MaxOpenConnections; n != 1 {
		t.Errorf("writer MaxOpenConnections = %d, want 1", n)
	}
	// The writer's transactions take the write lock at BEGIN: a second
	// connection cannot start one meanwhile.
	other, err := sql.Open("sqlite3", "file:"+escapePath(dbFile(t, db))+"?_busy_timeout=0&_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	err = db.write(ctx, func(*wtx) error {
		if _, err := other.ExecContext(ctx, "CREATE TABLE x (y)"); err == nil {
			t.Error("a second writer got the lock while an IMMEDIATE transaction was open")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The reader pool cannot write.
	if _, err := db.r.ExecContext(ctx, "CREATE TABLE y (z)"); err == nil {
		t.Error("the reader pool can write")
	}
}

func dbFile(t *testing.T, db *DB) string {
	t.Helper()
	var seq int
	var name, file string
	if err := db.r.QueryRowContext(t.Context(), "PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestMigrationsApplyOnceAndReopenIsNoop(t *testing.T) {
	ctx := t.Context()
	db, p := open(t)
	ms, err := loadMigrations()
	if err != nil || len(ms) == 0 || ms[0].version != 1 {
		t.Fatalf("loadMigrations = %+v, %v", ms, err)
	}
	read := func(db *DB) map[int]int64 {
		rows, err := db.r.QueryContext(ctx, "SELECT version, applied_at FROM schema_migrations ORDER BY version")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		out := map[int]int64{}
		for rows.Next() {
			var v int
			var at int64
			if err := rows.Scan(&v, &at); err != nil {
				t.Fatal(err)
			}
			out[v] = at
		}
		return out
	}
	first := read(db)
	if len(first) != len(ms) {
		t.Fatalf("schema_migrations has %d rows, want %d", len(first), len(ms))
	}
	var schema1 string
	if err := db.r.QueryRowContext(ctx, "SELECT group_concat(sql, ';') FROM sqlite_schema").Scan(&schema1); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "u"}); err != nil {
		t.Fatal(err)
	}
	// A second Open on the same file (the first still open; without a
	// lookup cache, as `scimbridge reconcile` opens it) and a reopen after
	// close change nothing.
	for range 2 {
		db2, err := Open(ctx, p, Options{LookupCacheBytes: -1})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		if d := cmp.Diff(first, read(db2)); d != "" {
			t.Errorf("schema_migrations changed on reopen (-first +now):\n%s", d)
		}
		var schema2 string
		if err := db2.r.QueryRowContext(ctx, "SELECT group_concat(sql, ';') FROM sqlite_schema").Scan(&schema2); err != nil {
			t.Fatal(err)
		}
		if schema1 != schema2 {
			t.Errorf("schema changed on reopen")
		}
		if us, total, err := db2.ListUsers(ctx, "t", store.Query{Limit: 1}); err != nil || total != 1 || len(us) != 1 {
			t.Errorf("data after reopen: %d users, %v", total, err)
		}
		if err := db2.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	ctx := t.Context()
	db, p := open(t)
	if err := db.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', 0)")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if db2, err := Open(ctx, p, Options{}); err == nil {
		_ = db2.Close()
		t.Fatal("Open accepted a database from a newer binary")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Errorf("err = %v, want one saying the schema is newer", err)
	}
}

// The equality filters the IdPs send on every provisioning call must use
// an index, not scan the tenant.
func TestEqualityFiltersUseIndexes(t *testing.T) {
	db, _ := open(t)
	cases := []struct {
		t     table
		f     store.Filter
		index string
	}{
		{usersTable, store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: "Alice"}, "users_user_name"},
		{usersTable, store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: "Alice", CaseExact: true}, "users_user_name"},
		{usersTable, store.Compare{Path: store.AttrPath{Name: "externalId"}, Op: store.OpEq, Value: "x", CaseExact: true}, "users_external_id"},
		{groupsTable, store.Compare{Path: store.AttrPath{Name: "displayName"}, Op: store.OpEq, Value: "Admins"}, "groups_display_name"},
		{groupsTable, store.Compare{Path: store.AttrPath{Name: "externalId"}, Op: store.OpEq, Value: "x", CaseExact: true}, "groups_external_id"},
		{groupsTable, store.Compare{Path: store.AttrPath{Name: "members", Sub: "value", MultiValued: true}, Op: store.OpEq, Value: "u1", CaseExact: true}, "members_member"},
		{usersTable, store.Compare{Path: store.AttrPath{Name: "groups", Sub: "value", MultiValued: true}, Op: store.OpEq, Value: "g1", CaseExact: true}, "members_member"},
	}
	for _, c := range cases {
		count, page, args, _, err := listSQL(c.t, "t", store.Query{Filter: c.f, Limit: 10}, "*")
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []struct {
			sql  string
			args []any
		}{{count, args}, {page, args}} {
			plan := explain(t, db, q.sql, q.args)
			if !strings.Contains(plan, "USING INDEX "+c.index) && !strings.Contains(plan, "USING COVERING INDEX "+c.index) &&
				!strings.Contains(plan, "USING PRIMARY KEY") {
				t.Errorf("%s on %s: plan does not use %s:\n%s\nSQL: %s", c.f, c.t.name, c.index, plan, q.sql)
			}
			if strings.Contains(plan, "SCAN "+c.t.name) && c.index != "members_member" {
				t.Errorf("%s on %s: plan scans the table:\n%s", c.f, c.t.name, plan)
			}
		}
	}
	// Membership lookups on read use their indexes too.
	userRead := `SELECT ` + userReadCols + ` FROM users WHERE users.tenant = ?1 AND users.id = ?2 AND users.deleted_at IS NULL`
	if plan := explain(t, db, userRead, []any{"t", "u1"}); !strings.Contains(plan, "members_member") ||
		strings.Contains(plan, "SCAN m") || strings.Contains(plan, "SCAN g") {
		t.Errorf("groups of a user: plan does not look them up by index:\n%s", plan)
	}
	groupRead := `SELECT ` + groupReadCols(true) + ` FROM groups WHERE groups.tenant = ?1 AND groups.id = ?2 AND groups.deleted_at IS NULL`
	if plan := explain(t, db, groupRead, []any{"t", "g1"}); !strings.Contains(plan, "SEARCH m USING PRIMARY KEY") ||
		strings.Contains(plan, "SCAN u") || strings.Contains(plan, "SCAN mg") {
		t.Errorf("members of a group: plan does not look them up by index:\n%s", plan)
	}
}

// The version bumps of computed changes find their rows by id, not by
// walking the tenant (a membership PATCH cost 19 ms at 100,000 users).
func TestVersionBumpPlans(t *testing.T) {
	db, _ := open(t)
	for name, c := range map[string]struct {
		q          string
		want, deny string
	}{
		"bumpUsers":          {bumpUsersSQL, "USING INDEX sqlite_autoindex_users_1 (id=?)", "users_tenant_seq"},
		"bumpMemberUsers":    {bumpMemberUsersSQL, "USING INDEX sqlite_autoindex_users_1 (id=?)", "users_tenant_seq"},
		"bumpGroupsOfMember": {bumpGroupsOfMemberSQL, "USING INDEX sqlite_autoindex_groups_1 (id=?)", "groups_tenant_seq"},
	} {
		plan := explain(t, db, c.q, []any{1, "t", `["u1"]`})
		if !strings.Contains(plan, c.want) || strings.Contains(plan, c.deny) || strings.Contains(plan, "SCAN users") || strings.Contains(plan, "SCAN groups") {
			t.Errorf("%s: plan does not look the rows up by id:\n%s", name, plan)
		}
	}
}

func explain(t *testing.T, db *DB, q string, args []any) string {
	t.Helper()
	rows, err := db.r.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("explain %s: %v", q, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		b.WriteString(detail + "\n")
	}
	return b.String()
}

func TestFold(t *testing.T) {
	same := [][2]string{{"ÅSA", "åsa"}, {"Alice", "aLICE"}, {"ſ", "S"}, {"K", "k"}, {"ΣΑΣ", "σας"}, {"Straße", "STRAßE"}}
	for _, p := range same {
		if fold(p[0]) != fold(p[1]) {
			t.Errorf("fold(%q) = %q != fold(%q) = %q", p[0], fold(p[0]), p[1], fold(p[1]))
		}
		if !strings.EqualFold(p[0], p[1]) {
			t.Errorf("test data: %q and %q are not EqualFold", p[0], p[1])
		}
	}
	differ := [][2]string{{"a", "b"}, {"ı", "i"}, {"å", "a"}, {"ß", "ss"}}
	for _, p := range differ {
		if fold(p[0]) == fold(p[1]) {
			t.Errorf("fold(%q) == fold(%q)", p[0], p[1])
		}
	}
	if got := fold("ABC-123_x"); got != "abc-123_x" {
		t.Errorf("fold(ASCII) = %q", got)
	}
}

// FuzzFold checks fold agrees with strings.EqualFold.
func FuzzFold(f *testing.F) {
	for _, s := range [][2]string{{"ÅSA", "åsa"}, {"ſ", "s"}, {"K", "k"}, {"x", "y"}, {"\xff", "\xfe"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		if !utf8.ValidString(a) || !utf8.ValidString(b) {
			return // both sides treat invalid bytes as U+FFFD; not interesting
		}
		if (fold(a) == fold(b)) != strings.EqualFold(a, b) {
			t.Errorf("fold(%q)=%q fold(%q)=%q, EqualFold=%v", a, fold(a), b, fold(b), strings.EqualFold(a, b))
		}
	})
}

func TestAttrsRoundTrip(t *testing.T) {
	in := map[string]any{
		"i": int64(-7), "f": 2.5, "whole": float64(3), "tiny": 1e-9, "huge": 1e300, "big": int64(1) << 62,
		"s": "<&> \"q\" \u2028", "b": true, "n": nil,
		"a": []any{int64(1), 1.0, "x", []any{}, map[string]any{}},
		"m": map[string]any{"k": map[string]any{"deep": []any{false}}},
	}
	s, err := encodeAttrs(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeAttrs(s)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(in, out); d != "" {
		t.Errorf("round trip (-in +out):\n%s\njson: %s", d, s)
	}
	again, err := encodeAttrs(out)
	if err != nil || again != s {
		t.Errorf("encoding is not canonical: %s vs %s (%v)", s, again, err)
	}
	// Plain Go int and typed slices encode like their JSON twins.
	s2, err := encodeAttrs(map[string]any{"i": 5, "l": []map[string]any{{"x": 1.0}}})
	if err != nil || s2 != `{"i":5,"l":[{"x":1.0}]}` {
		t.Errorf("encode = %s, %v", s2, err)
	}
	if _, err := encodeAttrs(map[string]any{"x": func() {}}); err == nil {
		t.Error("encoding a func succeeded")
	}
}

// FuzzFilterValues runs comparisons with arbitrary values and attribute
// names through real SQL: the only errors allowed are unsupported filters,
// and userName eq v finds the user named v.
func FuzzFilterValues(f *testing.F) {
	for _, s := range []string{"alice", "%", "_", `\`, "'; DROP TABLE users; --", "ÅSA", "\x00", "a\"b", "$.x", ""} {
		f.Add(s, "userName", uint8(0))
		f.Add(s, "emails", uint8(2))
	}
	db, _ := open(f)
	ctx := f.Context()
	ops := []store.Operator{store.OpEq, store.OpNe, store.OpCo, store.OpSw, store.OpEw, store.OpGt, store.OpGe, store.OpLt, store.OpLe, store.OpPr}
	f.Fuzz(func(t *testing.T, value, name string, op uint8) {
		if value != "" && utf8.ValidString(value) && !strings.ContainsRune(value, 0) {
			if _, err := db.CreateUser(ctx, store.User{Tenant: "fz", UserName: value}); err != nil && !errors.Is(err, store.ErrConflict) {
				t.Fatalf("CreateUser(%q): %v", value, err)
			}
			us, _, err := db.ListUsers(ctx, "fz", store.Query{Limit: 5, Filter: store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: value}})
			if err != nil || len(us) != 1 || fold(us[0].UserName) != fold(value) {
				t.Fatalf("userName eq %q = %+v, %v", value, us, err)
			}
		}
		o := ops[int(op)%len(ops)]
		for _, p := range []store.AttrPath{{Name: name}, {Name: name, Sub: value}, {Name: name, Sub: "value", MultiValued: true}, {Schema: value, Name: name}} {
			for _, v := range []any{value, int64(len(value)), len(value) > 2} {
				for _, exact := range []bool{false, true} {
					c := store.Compare{Path: p, Op: o, Value: v, CaseExact: exact}
					for _, flt := range []store.Filter{c, store.Not{Inner: c}, store.ValuePath{Path: store.AttrPath{Name: name, MultiValued: true}, Inner: c}} {
						for _, list := range []func() error{
							func() error { _, _, err := db.ListUsers(ctx, "fz", store.Query{Limit: 2, Filter: flt}); return err },
							func() error { _, _, err := db.ListGroups(ctx, "fz", store.Query{Limit: 2, Filter: flt}); return err },
						} {
							if err := list(); err != nil && !errors.Is(err, store.ErrUnsupportedFilter) {
								t.Fatalf("filter %v: %v", flt, err)
							}
						}
					}
				}
			}
		}
	})
}

// Enqueueing the users under changed groups walks from the groups down
// their members rows; it never scans every membership of the database
// (which made a one-member PATCH cost grow with all memberships stored).
func TestEnqueueUsersWalksFromTheGroups(t *testing.T) {
	db, _ := open(t)
	for _, args := range [][]any{{`[]`, `["u1"]`, "t", 1}, {`["g1"]`, `[]`, "t", 1}, {`["g1"]`, `["u1"]`, "t", 1}} {
		plan := explain(t, db, enqueueUsersSQL, args)
		if strings.Contains(plan, "SCAN m") || !strings.Contains(plan, "SEARCH m USING PRIMARY KEY") {
			t.Errorf("enqueueUsers(%v) does not walk members by group:\n%s", args[:2], plan)
		}
	}
}

// The engine's lookup of a user's groups goes from the member ids to their
// memberships, whatever the number of groups in the tenant.
func TestGroupsContainingStartsFromTheMembers(t *testing.T) {
	db, _ := open(t)
	plan := explain(t, db, groupsContainingSQL, []any{`["u1"]`, "t"})
	if !strings.Contains(plan, "members_member (member_id=?)") || strings.Contains(plan, "groups_display_name") {
		t.Errorf("GroupsContaining does not start from the members:\n%s", plan)
	}
}
