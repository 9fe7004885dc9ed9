package sqlite

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/store"
)

// list skips the count query when the page tells the total; every
// combination of offset and limit must still report the right total.
func TestListTotals(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	const n = 7
	var all []string
	for i := range n {
		u, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: fmt.Sprintf("u%d", i)})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, u.UserName)
	}
	for off := range n + 3 {
		for lim := range n + 3 {
			us, total, err := db.ListUsers(ctx, "t", store.Query{Offset: off, Limit: lim})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, u := range us {
				names = append(names, u.UserName)
			}
			want := []string(nil)
			if lim > 0 {
				want = all[min(off, n):min(off+lim, n)]
			}
			if total != n || !slices.Equal(names, want) {
				t.Errorf("offset %d limit %d: %v total %d, want %v total %d", off, lim, names, total, want, n)
			}
		}
	}
	eq := func(v string) store.Filter {
		return store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: v}
	}
	for _, c := range []struct {
		f          store.Filter
		off, lim   int
		rows, want int
	}{
		{eq("U3"), 0, 1, 1, 1}, // a full page: counted
		{eq("U3"), 0, 10, 1, 1},
		{eq("U3"), 1, 10, 0, 1}, // past the end: counted
		{eq("nobody"), 0, 10, 0, 0},
		{eq("nobody"), 3, 10, 0, 0},
		{store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpSw, Value: "u"}, 5, 5, 2, n},
	} {
		us, total, err := db.ListUsers(ctx, "t", store.Query{Filter: c.f, Offset: c.off, Limit: c.lim})
		if err != nil || len(us) != c.rows || total != c.want {
			t.Errorf("%v offset %d limit %d: %d rows total %d (%v), want %d rows total %d", c.f, c.off, c.lim, len(us), total, err, c.rows, c.want)
		}
	}
}

func TestPinsOneDropsTheSort(t *testing.T) {
	cmp := func(name string, op store.Operator, v any) store.Compare {
		return store.Compare{Path: store.AttrPath{Name: name}, Op: op, Value: v}
	}
	act := cmp("active", store.OpEq, true)
	cases := []struct {
		t    table
		f    store.Filter
		want bool
	}{
		{usersTable, cmp("userName", store.OpEq, "a"), true},
		{usersTable, cmp("USERNAME", store.OpEq, "a"), true},
		{usersTable, store.Compare{Path: store.AttrPath{Schema: usersTable.coreURN, Name: "userName"}, Op: store.OpEq, Value: "a", CaseExact: true}, true},
		{usersTable, &store.Compare{Path: store.AttrPath{Name: "id"}, Op: store.OpEq, Value: "x"}, true},
		{usersTable, store.And{Left: act, Right: cmp("userName", store.OpEq, "a")}, true},
		{usersTable, &store.And{Left: cmp("userName", store.OpEq, "a"), Right: act}, true},
		{groupsTable, cmp("displayName", store.OpEq, "G"), true},
		{usersTable, cmp("displayName", store.OpEq, "a"), false}, // not unique for users
		{usersTable, cmp("externalId", store.OpEq, "a"), false},
		{usersTable, cmp("userName", store.OpSw, "a"), false},
		{usersTable, cmp("userName", store.OpEq, int64(1)), false},
		{usersTable, store.Compare{Path: store.AttrPath{Name: "userName", Sub: "x"}, Op: store.OpEq, Value: "a"}, false},
		{usersTable, store.Compare{Path: store.AttrPath{Schema: "urn:x", Name: "userName"}, Op: store.OpEq, Value: "a"}, false},
		{usersTable, store.Or{Left: cmp("userName", store.OpEq, "a"), Right: cmp("userName", store.OpEq, "b")}, false},
		{usersTable, store.Not{Inner: cmp("userName", store.OpEq, "a")}, false},
		{usersTable, nil, false},
		{usersTable, (*store.Compare)(nil), false},
	}
	for _, c := range cases {
		b := &sqlBuilder{t: c.t}
		if got := b.pinsOne(c.f); got != c.want {
			t.Errorf("pinsOne(%v) on %s = %v, want %v", c.f, c.t.name, got, c.want)
		}
		if c.f == nil || c.f == store.Filter((*store.Compare)(nil)) {
			continue
		}
		_, page, _, pinned, err := listSQL(c.t, "t", store.Query{Filter: c.f, Limit: 5}, "*")
		if errors.Is(err, store.ErrUnsupportedFilter) {
			continue
		}
		if err != nil {
			t.Fatalf("listSQL(%v): %v", c.f, err)
		}
		if pinned != c.want {
			t.Errorf("listSQL(%v) pinned = %v, want %v", c.f, pinned, c.want)
		}
		if sorted := strings.Contains(page, "ORDER BY"); sorted == c.want {
			t.Errorf("%v: page query %q; ORDER BY expected: %v", c.f, page, !c.want)
		}
	}
}
