// Package storetest is the conformance suite every store.Store backend must
// pass. A backend's test is a few lines:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store { return openFresh(t) })
//	}
//
// newStore must return a fresh, empty store for each call; Run closes it when
// the subtest ends and reports the error of Close.
//
// Beyond the comments in package store, the suite pins down these rules:
//   - Attributes round-trip with their Go types as encoding/json would give
//     them back, except that integers are int64 and decimals float64 (what
//     the scim layer's schema validation produces); nested maps and arrays
//     are map[string]any and []any.
//   - Returned records never alias the caller's maps or the store's state.
//   - Filters: a comparison matches only a present, non-null value of the
//     filter value's type, so on an absent attribute every operator (ne
//     included) is false and `not (x eq "a")` is true. pr is false for null,
//     "", [] and {}. A multi-valued path matches if any element matches; a
//     ValuePath needs one element to satisfy the whole inner filter.
//     Case-insensitive matching is Unicode simple folding (strings.EqualFold).
//     Ordering operators on booleans give an error wrapping
//     store.ErrUnsupportedFilter.
package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimbridge/scimbridge/store"
)

// Run runs the conformance suite, one subtest per topic, each on a fresh
// store from newStore.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"UserRoundTrip", testUserRoundTrip},
		{"UpdateUser", testUpdateUser},
		{"UpdateUserNoop", testUpdateUserNoop},
		{"NotFound", testNotFound},
		{"Conflicts", testConflicts},
		{"ExternalIDNotUnique", testExternalIDNotUnique},
		{"Tenants", testTenants},
		{"Tombstones", testTombstones},
		{"GroupMembers", testGroupMembers},
		{"InvalidMember", testInvalidMember},
		{"MemberDiff", testMemberDiff},
		{"DeleteRemovesMemberships", testDeleteRemovesMemberships},
		{"Paging", testPaging},
		{"RawAttributes", testRawAttributes},
		{"Memo", testMemo},
		{"ComputedVersions", testComputedVersions},
		{"UserFilters", testUserFilters},
		{"GroupFilters", testGroupFilters},
		{"UnsupportedFilters", testUnsupportedFilters},
		{"Jobs", testJobs},
		{"ConcurrentUpdates", testConcurrentUpdates},
		{"ConcurrentCreates", testConcurrentCreates},
		{"ConcurrentMixedOutcomes", testConcurrentMixedOutcomes},
		{"ConcurrentGroupUpdates", testConcurrentGroupUpdates},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

// Schema URNs used by the test data.
const (
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	customURN     = "urn:example:params:scim:schemas:extension:custom:1.0:User"
)

// cmpOpts treats nil and empty slices and maps alike.
var cmpOpts = []cmp.Option{cmpopts.EquateEmpty()}

func createUser(t *testing.T, s store.Store, u store.User) store.User {
	t.Helper()
	got, err := s.CreateUser(t.Context(), u)
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", u.UserName, err)
	}
	return got
}

func createGroup(t *testing.T, s store.Store, g store.Group) store.Group {
	t.Helper()
	got, err := s.CreateGroup(t.Context(), g)
	if err != nil {
		t.Fatalf("CreateGroup(%q): %v", g.DisplayName, err)
	}
	return got
}

func getUser(t *testing.T, s store.Store, tenant, id string) store.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), tenant, id)
	if err != nil {
		t.Fatalf("GetUser(%q, %q): %v", tenant, id, err)
	}
	return u
}

func getGroup(t *testing.T, s store.Store, tenant, id string) store.Group {
	t.Helper()
	g, err := s.GetGroup(t.Context(), tenant, id, true)
	if err != nil {
		t.Fatalf("GetGroup(%q, %q): %v", tenant, id, err)
	}
	return g
}

func allUsers(t *testing.T, s store.Store, tenant string, f store.Filter) []store.User {
	t.Helper()
	us, total, err := s.ListUsers(t.Context(), tenant, store.Query{Filter: f, Limit: 1000})
	if err != nil {
		t.Fatalf("ListUsers(%q, %v): %v", tenant, f, err)
	}
	if total != len(us) {
		t.Fatalf("ListUsers(%q, %v): total %d, but %d rows", tenant, f, total, len(us))
	}
	return us
}

func allGroups(t *testing.T, s store.Store, tenant string, f store.Filter, withMembers bool) []store.Group {
	t.Helper()
	gs, total, err := s.ListGroups(t.Context(), tenant, store.Query{Filter: f, Limit: 1000, WithMembers: withMembers})
	if err != nil {
		t.Fatalf("ListGroups(%q, %v): %v", tenant, f, err)
	}
	if total != len(gs) {
		t.Fatalf("ListGroups(%q, %v): total %d, but %d rows", tenant, f, total, len(gs))
	}
	return gs
}

func userNames(us []store.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.UserName
	}
	return out
}

func groupNames(gs []store.Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.DisplayName
	}
	return out
}

// memberSet renders members as sorted "kind:value:display" strings.
func memberSet(ms []store.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = fmt.Sprintf("%s:%s:%s", m.Kind, m.Value, m.Display)
	}
	slices.Sort(out)
	return out
}

func memberIDs(ms []store.Member) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Value
	}
	slices.Sort(out)
	return out
}

func refs(ids ...string) []store.Member {
	out := make([]store.Member, len(ids))
	for i, id := range ids {
		out[i] = store.Member{Value: id}
	}
	return out
}

func jobs(t *testing.T, s store.Store) []store.Job {
	t.Helper()
	js, err := s.PendingJobs(t.Context(), 10000)
	if err != nil {
		t.Fatalf("PendingJobs: %v", err)
	}
	return js
}

type jobKey struct {
	tenant string
	kind   store.ResourceKind
	id     string
}

// jobIndex indexes jobs by resource and fails on a duplicate.
func jobIndex(t *testing.T, js []store.Job) map[jobKey]store.Job {
	t.Helper()
	m := make(map[jobKey]store.Job, len(js))
	for _, j := range js {
		k := jobKey{j.Tenant, j.Kind, j.ResourceID}
		if _, dup := m[k]; dup {
			t.Fatalf("two pending jobs for %v", k)
		}
		m[k] = j
	}
	return m
}

func requireUTC(t *testing.T, what string, ts ...time.Time) {
	t.Helper()
	for _, tm := range ts {
		if tm.IsZero() || tm.Location() != time.UTC {
			t.Errorf("%s: time %v is zero or not UTC", what, tm)
		}
	}
}

// errSentinel is returned by callbacks to check that errors pass through.
var errSentinel = errors.New("callback refused")

// sampleAttributes exercises every JSON shape.
func sampleAttributes() map[string]any {
	return map[string]any{
		"displayName": "Alice Smith <&>",
		"name":        map[string]any{"givenName": "Alice", "familyName": "Smith", "formatted": "Ms. Alice Smith"},
		"emails": []any{
			map[string]any{"value": "alice@work.example", "type": "work", "primary": true},
			map[string]any{"value": "alice@home.example", "type": "home", "primary": false},
		},
		"nickName": "",
		"locale":   "sv-SE ÅÄÖ 日本",
		enterpriseURN: map[string]any{
			"department": "Engineering",
			"manager":    map[string]any{"value": "m-1", "displayName": "Boss"},
		},
		customURN: map[string]any{
			"level":  int64(42),
			"big":    int64(1) << 53,
			"ratio":  0.25,
			"whole":  float64(3),
			"tags":   []any{"a", "b", int64(1), false, nil},
			"nested": map[string]any{"deep": map[string]any{"list": []any{map[string]any{"x": true}}}},
			"empty":  map[string]any{},
			"none":   []any{},
		},
	}
}

func testUserRoundTrip(t *testing.T, s store.Store) {
	in := store.User{Tenant: "t1", UserName: "alice", ExternalID: "ext-1", Active: true, Attributes: sampleAttributes()}
	got := createUser(t, s, in)
	if got.ID == "" {
		t.Fatal("CreateUser assigned no ID")
	}
	if got.Version != 1 {
		t.Errorf("Version = %d, want 1", got.Version)
	}
	requireUTC(t, "CreateUser", got.CreatedAt, got.UpdatedAt)
	if !got.CreatedAt.Equal(got.UpdatedAt) {
		t.Errorf("CreatedAt %v != UpdatedAt %v on create", got.CreatedAt, got.UpdatedAt)
	}
	want := in
	want.Attributes = sampleAttributes() // in's map is changed below
	want.ID, want.Version, want.CreatedAt, want.UpdatedAt = got.ID, 1, got.CreatedAt, got.UpdatedAt
	if d := cmp.Diff(want, got, cmpOpts...); d != "" {
		t.Errorf("CreateUser returned (-want +got):\n%s", d)
	}
	// The caller's map is not aliased: changing it changes nothing stored.
	in.Attributes["name"].(map[string]any)["familyName"] = "Changed"
	in.Attributes["locale"] = "changed"
	fetched := getUser(t, s, "t1", got.ID)
	requireUTC(t, "GetUser", fetched.CreatedAt, fetched.UpdatedAt)
	if d := cmp.Diff(want, fetched, cmpOpts...); d != "" {
		t.Errorf("GetUser (-want +got):\n%s", d)
	}
	// Neither is the returned map.
	fetched.Attributes["locale"] = "changed again"
	if again := getUser(t, s, "t1", got.ID); again.Attributes["locale"] != "sv-SE ÅÄÖ 日本" {
		t.Errorf("GetUser result aliases the store: locale = %v", again.Attributes["locale"])
	}
	listed := allUsers(t, s, "t1", nil)
	if len(listed) != 1 {
		t.Fatalf("ListUsers: %d users, want 1", len(listed))
	}
	if d := cmp.Diff(want, listed[0], cmpOpts...); d != "" {
		t.Errorf("ListUsers (-want +got):\n%s", d)
	}

	// An ID chosen by the caller is kept; empty attributes round-trip.
	bob := createUser(t, s, store.User{ID: "my-own-id", Tenant: "t1", UserName: "bob"})
	if bob.ID != "my-own-id" {
		t.Errorf("CreateUser with ID: got ID %q", bob.ID)
	}
	if b := getUser(t, s, "t1", "my-own-id"); b.UserName != "bob" || b.Active || len(b.Attributes) != 0 || b.ExternalID != "" {
		t.Errorf("GetUser(bob) = %+v", b)
	}
	if got2 := createUser(t, s, store.User{Tenant: "t1", UserName: "carol"}); got2.ID == got.ID || got2.ID == "" {
		t.Errorf("second generated ID %q (first %q)", got2.ID, got.ID)
	}
}

func testUpdateUser(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := createUser(t, s, store.User{Tenant: "t1", UserName: "alice", ExternalID: "e1", Active: true, Attributes: sampleAttributes()})
	up, err := s.UpdateUser(ctx, "t1", u.ID, func(x *store.User) error {
		if d := cmp.Diff(u, *x, cmpOpts...); d != "" {
			t.Errorf("callback saw (-stored +seen):\n%s", d)
		}
		x.UserName = "Alice2"
		x.ExternalID = ""
		x.Active = false
		x.Attributes["title"] = "Boss"
		x.Attributes["name"].(map[string]any)["familyName"] = "Jones"
		delete(x.Attributes, "nickName")
		// Fields the store owns: ignored.
		x.ID, x.Tenant, x.Version = "other-id", "t2", 99
		x.CreatedAt = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
		x.Groups = []store.GroupRef{{ID: "g", DisplayName: "G"}}
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	if up.ID != u.ID || up.Tenant != "t1" || up.Version != 2 || !up.CreatedAt.Equal(u.CreatedAt) || len(up.Groups) != 0 {
		t.Errorf("UpdateUser returned ID %q tenant %q version %d created %v groups %v", up.ID, up.Tenant, up.Version, up.CreatedAt, up.Groups)
	}
	if up.UpdatedAt.Before(u.UpdatedAt) {
		t.Errorf("UpdatedAt went back: %v < %v", up.UpdatedAt, u.UpdatedAt)
	}
	requireUTC(t, "UpdateUser", up.CreatedAt, up.UpdatedAt)
	want := sampleAttributes()
	want["title"] = "Boss"
	want["name"].(map[string]any)["familyName"] = "Jones"
	delete(want, "nickName")
	if d := cmp.Diff(want, up.Attributes, cmpOpts...); d != "" {
		t.Errorf("updated attributes (-want +got):\n%s", d)
	}
	got := getUser(t, s, "t1", u.ID)
	if d := cmp.Diff(up, got, cmpOpts...); d != "" {
		t.Errorf("GetUser after update (-returned +fetched):\n%s", d)
	}
	if got.UserName != "Alice2" || got.ExternalID != "" || got.Active {
		t.Errorf("fields not saved: %+v", got)
	}
	if _, err := s.GetUser(ctx, "t2", u.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("tenant changed by callback: GetUser(t2) err = %v", err)
	}
	// The new userName is findable, the old one not; the old externalId is free.
	if n := userNames(allUsers(t, s, "t1", store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: "alice2"})); !slices.Equal(n, []string{"Alice2"}) {
		t.Errorf("userName eq alice2 = %v", n)
	}
	if n := allUsers(t, s, "t1", store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: "alice"}); len(n) != 0 {
		t.Errorf("old userName still matches: %v", userNames(n))
	}
	createUser(t, s, store.User{Tenant: "t1", UserName: "other", ExternalID: "e1"})

	// A second change increments again.
	up3, err := s.UpdateUser(ctx, "t1", u.ID, func(x *store.User) error { x.Active = true; return nil })
	if err != nil || up3.Version != 3 || !up3.Active {
		t.Errorf("second UpdateUser = version %d active %v, %v; want 3 true", up3.Version, up3.Active, err)
	}

	// A callback error aborts, passes through errors.Is, and changes nothing,
	// even if the callback changed the record before failing.
	before := getUser(t, s, "t1", u.ID)
	jobsBefore := jobs(t, s)
	_, err = s.UpdateUser(ctx, "t1", u.ID, func(x *store.User) error {
		x.UserName = "nope"
		x.Attributes["title"] = "nope"
		return fmt.Errorf("patch: %w", errSentinel)
	})
	if !errors.Is(err, errSentinel) {
		t.Errorf("UpdateUser with failing callback: err = %v, want errSentinel", err)
	}
	if d := cmp.Diff(before, getUser(t, s, "t1", u.ID), cmpOpts...); d != "" {
		t.Errorf("failed update changed the user (-before +after):\n%s", d)
	}
	if d := cmp.Diff(jobsBefore, jobs(t, s)); d != "" {
		t.Errorf("failed update changed the jobs (-before +after):\n%s", d)
	}
}

func testUpdateUserNoop(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := createUser(t, s, store.User{Tenant: "t1", UserName: "alice", ExternalID: "e1", Active: true, Attributes: sampleAttributes()})
	u, err := s.UpdateUser(ctx, "t1", u.ID, func(x *store.User) error { x.Attributes["title"] = "x"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	jobsBefore := jobs(t, s)
	noops := map[string]func(*store.User) error{
		"nothing": func(*store.User) error { return nil },
		"same values": func(x *store.User) error {
			x.UserName, x.ExternalID, x.Active = "alice", "e1", true
			return nil
		},
		"rebuilt equal attributes": func(x *store.User) error {
			a := sampleAttributes()
			a["title"] = "x"
			x.Attributes = a
			return nil
		},
		"only store-owned fields": func(x *store.User) error {
			x.Version, x.UpdatedAt = 77, time.Now().Add(time.Hour)
			x.Groups = []store.GroupRef{{ID: "g"}}
			return nil
		},
		"change and change back": func(x *store.User) error {
			x.Attributes["title"] = "y"
			x.Attributes["title"] = "x"
			return nil
		},
	}
	for name, fn := range noops {
		got, err := s.UpdateUser(ctx, "t1", u.ID, fn)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Version != u.Version || !got.UpdatedAt.Equal(u.UpdatedAt) {
			t.Errorf("%s: version %d updated %v, want unchanged %d %v", name, got.Version, got.UpdatedAt, u.Version, u.UpdatedAt)
		}
		if d := cmp.Diff(u, got, cmpOpts...); d != "" {
			t.Errorf("%s: returned (-before +after):\n%s", name, d)
		}
	}
	if d := cmp.Diff(u, getUser(t, s, "t1", u.ID), cmpOpts...); d != "" {
		t.Errorf("no-op updates changed the user (-before +after):\n%s", d)
	}
	if d := cmp.Diff(jobsBefore, jobs(t, s)); d != "" {
		t.Errorf("no-op updates touched the outbox (-before +after):\n%s", d)
	}
}

func testNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := createUser(t, s, store.User{Tenant: "t1", UserName: "alice"})
	gone := createUser(t, s, store.User{Tenant: "t1", UserName: "gone"})
	g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "G"})
	goneG := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "goneG"})
	if err := s.DeleteUser(ctx, "t1", gone.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, "t1", goneG.ID); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ tenant, user, group string }{
		{"t1", "no-such-id", "no-such-id"},
		{"t2", u.ID, g.ID},        // another tenant's
		{"t1", gone.ID, goneG.ID}, // deleted
		{"t1", g.ID, u.ID},        // the other kind
		{"", u.ID, g.ID},          // no tenant
	}
	called := false
	for _, c := range cases {
		what := fmt.Sprintf("tenant %q user %q group %q", c.tenant, c.user, c.group)
		if _, err := s.GetUser(ctx, c.tenant, c.user); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetUser %s: %v", what, err)
		}
		if _, err := s.UpdateUser(ctx, c.tenant, c.user, func(*store.User) error { called = true; return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateUser %s: %v", what, err)
		}
		if err := s.DeleteUser(ctx, c.tenant, c.user); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteUser %s: %v", what, err)
		}
		for _, wm := range []bool{false, true} {
			if _, err := s.GetGroup(ctx, c.tenant, c.group, wm); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetGroup %s: %v", what, err)
			}
		}
		if _, err := s.UpdateGroup(ctx, c.tenant, c.group, func(*store.Group) error { called = true; return nil }); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("UpdateGroup %s: %v", what, err)
		}
		if err := s.DeleteGroup(ctx, c.tenant, c.group); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteGroup %s: %v", what, err)
		}
	}
	if called {
		t.Error("an update callback ran for a missing resource")
	}
	// The live ones are untouched.
	getUser(t, s, "t1", u.ID)
	getGroup(t, s, "t1", g.ID)
}

func testConflicts(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := createUser(t, s, store.User{Tenant: "t1", UserName: "alice", ExternalID: "ext-1"})
	createUser(t, s, store.User{Tenant: "t1", UserName: "ÅSA"})
	bob := createUser(t, s, store.User{Tenant: "t1", UserName: "bob"})
	admins := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "Admins", ExternalID: "g-1"})
	jobsBefore := jobs(t, s)

	conflicts := []store.User{
		{Tenant: "t1", UserName: "ALICE"},
		{Tenant: "t1", UserName: "alice"},
		{Tenant: "t1", UserName: "åsa"},
		{Tenant: "t1", UserName: "Åsa"},
		{Tenant: "t1", UserName: "dave", ID: alice.ID},
		{Tenant: "t1", UserName: "erin", ID: admins.ID}, // ids are unique across kinds
	}
	for _, u := range conflicts {
		if _, err := s.CreateUser(ctx, u); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateUser(%q, ext %q, id %q): err = %v, want ErrConflict", u.UserName, u.ExternalID, u.ID, err)
		}
	}
	for _, g := range []store.Group{
		{Tenant: "t1", DisplayName: "admins"},
		{Tenant: "t1", DisplayName: "ADMINS"},
		{Tenant: "t1", DisplayName: "Other2", ID: admins.ID},
		{Tenant: "t1", DisplayName: "Other3", ID: bob.ID},
	} {
		if _, err := s.CreateGroup(ctx, g); !errors.Is(err, store.ErrConflict) {
			t.Errorf("CreateGroup(%q, ext %q, id %q): err = %v, want ErrConflict", g.DisplayName, g.ExternalID, g.ID, err)
		}
	}
	if n := len(allUsers(t, s, "t1", nil)); n != 3 {
		t.Errorf("%d users after failed creates, want 3", n)
	}
	if n := len(allGroups(t, s, "t1", nil, false)); n != 1 {
		t.Errorf("%d groups after failed creates, want 1", n)
	}

	// Updates into a taken name fail and change nothing.
	for _, fn := range []func(*store.User) error{
		func(x *store.User) error { x.UserName = "Alice"; return nil },
		func(x *store.User) error { x.UserName = "åSa"; return nil },
	} {
		if _, err := s.UpdateUser(ctx, "t1", bob.ID, fn); !errors.Is(err, store.ErrConflict) {
			t.Errorf("UpdateUser into a conflict: err = %v", err)
		}
	}
	if d := cmp.Diff(bob, getUser(t, s, "t1", bob.ID), cmpOpts...); d != "" {
		t.Errorf("failed updates changed bob (-before +after):\n%s", d)
	}
	other := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "Other"})
	if _, err := s.UpdateGroup(ctx, "t1", other.ID, func(g *store.Group) error { g.DisplayName = "aDMINS"; return nil }); !errors.Is(err, store.ErrConflict) {
		t.Errorf("UpdateGroup into a conflict: err = %v", err)
	}
	if g := getGroup(t, s, "t1", other.ID); g.DisplayName != "Other" || g.Version != 1 {
		t.Errorf("failed group update changed it: %+v", g)
	}
	// Failed writes enqueue nothing (the one new job is Other's create).
	after := jobIndex(t, jobs(t, s))
	if len(after) != len(jobsBefore)+1 {
		t.Errorf("%d jobs after failed writes, want %d", len(after), len(jobsBefore)+1)
	}
	for _, j := range jobsBefore {
		if d := cmp.Diff(j, after[jobKey{j.Tenant, j.Kind, j.ResourceID}]); d != "" {
			t.Errorf("failed writes touched a job (-before +after):\n%s", d)
		}
	}

	// Not conflicts: externalId (see testExternalIDNotUnique), renaming to a
	// different case of one's own name.
	createUser(t, s, store.User{Tenant: "t1", UserName: "carol", ExternalID: "EXT-1"})
	createUser(t, s, store.User{Tenant: "t1", UserName: "dave"})
	createUser(t, s, store.User{Tenant: "t1", UserName: "erin"})
	if up, err := s.UpdateUser(ctx, "t1", alice.ID, func(x *store.User) error { x.UserName = "ALICE"; return nil }); err != nil || up.UserName != "ALICE" {
		t.Errorf("renaming alice to ALICE: %q, %v", up.UserName, err)
	}
	if up, err := s.UpdateGroup(ctx, "t1", admins.ID, func(g *store.Group) error { g.DisplayName = "admins"; return nil }); err != nil || up.DisplayName != "admins" {
		t.Errorf("renaming Admins to admins: %q, %v", up.DisplayName, err)
	}
}

// testExternalIDNotUnique: externalId has uniqueness "none" (RFC 7643
// section 3.1), for users and groups alike; `externalId eq` finds every
// holder, case-exactly.
func testExternalIDNotUnique(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createUser(t, s, store.User{Tenant: "t1", UserName: "a", ExternalID: "dup"})
	b := createUser(t, s, store.User{Tenant: "t1", UserName: "b", ExternalID: "dup"})
	c := createUser(t, s, store.User{Tenant: "t1", UserName: "c", ExternalID: "DUP"})
	createUser(t, s, store.User{Tenant: "t2", UserName: "a", ExternalID: "dup"})
	byExt := func(v string) store.Filter {
		return store.Compare{Path: store.AttrPath{Name: "externalId"}, Op: store.OpEq, Value: v, CaseExact: true}
	}
	if got := userNames(allUsers(t, s, "t1", byExt("dup"))); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("externalId eq dup = %v, want [a b]", got)
	}
	// An update into a taken externalId is no conflict either.
	if up, err := s.UpdateUser(ctx, "t1", c.ID, func(x *store.User) error { x.ExternalID = "dup"; return nil }); err != nil || up.ExternalID != "dup" {
		t.Fatalf("UpdateUser to a shared externalId: %+v, %v", up, err)
	}
	if got := userNames(allUsers(t, s, "t1", byExt("dup"))); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("externalId eq dup after update = %v, want [a b c]", got)
	}
	if err := s.DeleteUser(ctx, "t1", a.ID); err != nil {
		t.Fatal(err)
	}
	if got := allUsers(t, s, "t1", byExt("dup")); len(got) != 2 || got[0].ID != b.ID {
		t.Errorf("externalId eq dup after deleting a = %v, want [b c]", userNames(got))
	}

	createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "G1", ExternalID: "gdup"})
	g2 := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "G2"})
	if _, err := s.UpdateGroup(ctx, "t1", g2.ID, func(g *store.Group) error { g.ExternalID = "gdup"; return nil }); err != nil {
		t.Fatalf("UpdateGroup to a shared externalId: %v", err)
	}
	if got := groupNames(allGroups(t, s, "t1", byExt("gdup"), false)); !slices.Equal(got, []string{"G1", "G2"}) {
		t.Errorf("groups externalId eq gdup = %v, want [G1 G2]", got)
	}
}

func testTenants(t *testing.T, s store.Store) {
	ctx := t.Context()
	a1 := createUser(t, s, store.User{Tenant: "t1", UserName: "alice", ExternalID: "x", Active: true})
	a2 := createUser(t, s, store.User{Tenant: "t2", UserName: "ALICE", ExternalID: "x"})
	createUser(t, s, store.User{Tenant: "t2", UserName: "bob"})
	g1 := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "Admins", ExternalID: "gx", Members: refs(a1.ID)})
	g2 := createGroup(t, s, store.Group{Tenant: "t2", DisplayName: "admins", ExternalID: "gx"})
	a1 = getUser(t, s, "t1", a1.ID) // joining Admins changed her version
	a1.Groups = nil

	if n := userNames(allUsers(t, s, "t1", nil)); !slices.Equal(n, []string{"alice"}) {
		t.Errorf("t1 users = %v", n)
	}
	if n := userNames(allUsers(t, s, "t2", nil)); !slices.Equal(n, []string{"ALICE", "bob"}) {
		t.Errorf("t2 users = %v", n)
	}
	if n := allUsers(t, s, "t3", nil); len(n) != 0 {
		t.Errorf("t3 users = %v", userNames(n))
	}
	byName := store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: "alice"}
	if us := allUsers(t, s, "t2", byName); len(us) != 1 || us[0].ID != a2.ID {
		t.Errorf("t2 userName eq alice = %v", userNames(us))
	}
	byID := store.Compare{Path: store.AttrPath{Name: "id"}, Op: store.OpEq, Value: a1.ID, CaseExact: true}
	if us := allUsers(t, s, "t2", byID); len(us) != 0 {
		t.Errorf("t2 sees t1's user by id filter")
	}
	if gs := allGroups(t, s, "t2", store.Compare{Path: store.AttrPath{Name: "members", Sub: "value", MultiValued: true}, Op: store.OpEq, Value: a1.ID, CaseExact: true}, false); len(gs) != 0 {
		t.Errorf("t2 sees t1's group by members filter")
	}
	if gs := groupNames(allGroups(t, s, "t1", nil, true)); !slices.Equal(gs, []string{"Admins"}) {
		t.Errorf("t1 groups = %v", gs)
	}
	if _, err := s.GetUser(ctx, "t2", a1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser across tenants: %v", err)
	}
	if _, err := s.GetGroup(ctx, "t2", g1.ID, true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetGroup across tenants: %v", err)
	}
	if _, err := s.UpdateUser(ctx, "t2", a1.ID, func(x *store.User) error { x.Active = false; return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateUser across tenants: %v", err)
	}
	if err := s.DeleteUser(ctx, "t2", a1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteUser across tenants: %v", err)
	}
	if err := s.DeleteGroup(ctx, "t2", g1.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteGroup across tenants: %v", err)
	}
	if d := cmp.Diff(a1, func() store.User { u := getUser(t, s, "t1", a1.ID); u.Groups = nil; return u }(), cmpOpts...); d != "" {
		t.Errorf("t1's user changed by t2 calls (-before +after):\n%s", d)
	}
	// Members must be of the group's tenant.
	if _, err := s.CreateGroup(ctx, store.Group{Tenant: "t2", DisplayName: "X", Members: refs(a1.ID)}); !errors.Is(err, store.ErrInvalidMember) {
		t.Errorf("CreateGroup with another tenant's user: %v", err)
	}
	if _, err := s.UpdateGroup(ctx, "t2", g2.ID, func(g *store.Group) error { g.Members = refs(g1.ID); return nil }); !errors.Is(err, store.ErrInvalidMember) {
		t.Errorf("UpdateGroup with another tenant's group: %v", err)
	}
	if u := getUser(t, s, "t2", a2.ID); len(u.Groups) != 0 {
		t.Errorf("t2 user has groups %v", u.Groups)
	}
	tenantOf := map[string]string{a1.ID: "t1", g1.ID: "t1", a2.ID: "t2", g2.ID: "t2"}
	for _, j := range jobs(t, s) {
		if want, ok := tenantOf[j.ResourceID]; ok && j.Tenant != want {
			t.Errorf("job for %s %q has tenant %q, want %q", j.Kind, j.ResourceID, j.Tenant, want)
		}
	}
}

func testTombstones(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createUser(t, s, store.User{Tenant: "t1", UserName: "alice", ExternalID: "ext-1"})
	b := createUser(t, s, store.User{Tenant: "t1", UserName: "bob"})
	g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "Admins", ExternalID: "g-1"})
	if err := s.DeleteUser(ctx, "t1", a.ID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if err := s.DeleteGroup(ctx, "t1", g.ID); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	if _, err := s.GetUser(ctx, "t1", a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser after delete: %v", err)
	}
	if err := s.DeleteUser(ctx, "t1", a.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second DeleteUser: %v", err)
	}
	if _, err := s.UpdateUser(ctx, "t1", a.ID, func(*store.User) error { return nil }); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateUser after delete: %v", err)
	}
	us, total, err := s.ListUsers(ctx, "t1", store.Query{Limit: 10})
	if err != nil || total != 1 || len(us) != 1 || us[0].ID != b.ID {
		t.Errorf("ListUsers after delete: %v total %d, %v", userNames(us), total, err)
	}
	for _, f := range []store.Filter{
		store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: "alice"},
		store.Compare{Path: store.AttrPath{Name: "externalId"}, Op: store.OpEq, Value: "ext-1", CaseExact: true},
		store.Compare{Path: store.AttrPath{Name: "id"}, Op: store.OpEq, Value: a.ID, CaseExact: true},
	} {
		if us := allUsers(t, s, "t1", f); len(us) != 0 {
			t.Errorf("filter %v finds a deleted user", f)
		}
	}
	if gs := allGroups(t, s, "t1", nil, false); len(gs) != 0 {
		t.Errorf("ListGroups after delete: %v", groupNames(gs))
	}
	// Names and external ids are free again; the new records get new ids.
	a2 := createUser(t, s, store.User{Tenant: "t1", UserName: "ALICE", ExternalID: "ext-1"})
	if a2.ID == a.ID {
		t.Error("recreated user got the deleted user's id")
	}
	g2 := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "admins", ExternalID: "g-1"})
	if g2.ID == g.ID {
		t.Error("recreated group got the deleted group's id")
	}
	if n := userNames(allUsers(t, s, "t1", nil)); !slices.Equal(n, []string{"bob", "ALICE"}) {
		t.Errorf("users = %v, want [bob ALICE]", n)
	}
	// The engine still hears about deletions.
	idx := jobIndex(t, jobs(t, s))
	if _, ok := idx[jobKey{"t1", store.KindUser, a.ID}]; !ok {
		t.Error("no job for the deleted user")
	}
	if _, ok := idx[jobKey{"t1", store.KindGroup, g.ID}]; !ok {
		t.Error("no job for the deleted group")
	}
}

func testGroupMembers(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := createUser(t, s, store.User{Tenant: "t1", UserName: "alice", Attributes: map[string]any{"displayName": "Alice Smith"}})
	bob := createUser(t, s, store.User{Tenant: "t1", UserName: "bob", Attributes: map[string]any{"displayName": ""}})
	carol := createUser(t, s, store.User{Tenant: "t1", UserName: "carol"})
	beta := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "Beta", Members: []store.Member{
		{Value: alice.ID, Kind: store.KindGroup, Display: "junk"}, // Kind and Display are the store's
		{Value: bob.ID},
	}})
	wantBeta := sorted("User:"+alice.ID+":Alice Smith", "User:"+bob.ID+":bob")
	if d := cmp.Diff(wantBeta, memberSet(beta.Members)); d != "" {
		t.Errorf("CreateGroup members (-want +got):\n%s", d)
	}
	admins := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "Admins", Attributes: map[string]any{"x": "y"},
		Members: refs(beta.ID, alice.ID)})
	wantAdmins := sorted("Group:"+beta.ID+":Beta", "User:"+alice.ID+":Alice Smith")
	if d := cmp.Diff(wantAdmins, memberSet(getGroup(t, s, "t1", admins.ID).Members)); d != "" {
		t.Errorf("GetGroup(Admins) members (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantBeta, memberSet(getGroup(t, s, "t1", beta.ID).Members)); d != "" {
		t.Errorf("GetGroup(Beta) members (-want +got):\n%s", d)
	}
	g, err := s.GetGroup(ctx, "t1", admins.ID, false)
	if err != nil || len(g.Members) != 0 || g.Attributes["x"] != "y" || g.Version != 1 {
		t.Errorf("GetGroup without members = %+v, %v", g, err)
	}
	requireUTC(t, "GetGroup", g.CreatedAt, g.UpdatedAt)

	wantRefs := map[string][]store.GroupRef{
		alice.ID: {{ID: admins.ID, DisplayName: "Admins"}, {ID: beta.ID, DisplayName: "Beta"}},
		bob.ID:   {{ID: beta.ID, DisplayName: "Beta"}},
		carol.ID: nil,
	}
	for id, want := range wantRefs {
		if d := cmp.Diff(want, getUser(t, s, "t1", id).Groups, cmpOpts...); d != "" {
			t.Errorf("GetUser(%s).Groups (-want +got):\n%s", id, d)
		}
	}
	for _, u := range allUsers(t, s, "t1", nil) {
		if d := cmp.Diff(wantRefs[u.ID], u.Groups, cmpOpts...); d != "" {
			t.Errorf("ListUsers %s Groups (-want +got):\n%s", u.UserName, d)
		}
	}
	// A page of one still gets its groups.
	if us, _, err := s.ListUsers(ctx, "t1", store.Query{Offset: 1, Limit: 1}); err != nil || len(us) != 1 || len(us[0].Groups) != 1 {
		t.Errorf("ListUsers page 2 = %+v, %v", us, err)
	}

	withMembers := allGroups(t, s, "t1", nil, true)
	if len(withMembers) != 2 {
		t.Fatalf("ListGroups = %v", groupNames(withMembers))
	}
	if d := cmp.Diff(wantBeta, memberSet(withMembers[0].Members)); d != "" {
		t.Errorf("ListGroups Beta members (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantAdmins, memberSet(withMembers[1].Members)); d != "" {
		t.Errorf("ListGroups Admins members (-want +got):\n%s", d)
	}
	for _, g := range allGroups(t, s, "t1", nil, false) {
		if len(g.Members) != 0 {
			t.Errorf("ListGroups without members loaded %d members of %s", len(g.Members), g.DisplayName)
		}
	}

	// Display follows the member: a user's displayName, a group's rename.
	if _, err := s.UpdateUser(ctx, "t1", bob.ID, func(u *store.User) error { u.Attributes["displayName"] = "Bobby"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateGroup(ctx, "t1", beta.ID, func(g *store.Group) error { g.DisplayName = "Aardvark"; return nil }); err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sorted("User:"+alice.ID+":Alice Smith", "User:"+bob.ID+":Bobby"), memberSet(getGroup(t, s, "t1", beta.ID).Members)); d != "" {
		t.Errorf("Beta members after bob's rename (-want +got):\n%s", d)
	}
	if d := cmp.Diff(sorted("Group:"+beta.ID+":Aardvark", "User:"+alice.ID+":Alice Smith"), memberSet(getGroup(t, s, "t1", admins.ID).Members)); d != "" {
		t.Errorf("Admins members after Beta's rename (-want +got):\n%s", d)
	}
	want := []store.GroupRef{{ID: beta.ID, DisplayName: "Aardvark"}, {ID: admins.ID, DisplayName: "Admins"}}
	if d := cmp.Diff(want, getUser(t, s, "t1", alice.ID).Groups); d != "" {
		t.Errorf("alice's groups after the rename (-want +got):\n%s", d)
	}
}

func testInvalidMember(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := createUser(t, s, store.User{Tenant: "t1", UserName: "alice"})
	gone := createUser(t, s, store.User{Tenant: "t1", UserName: "gone"})
	other := createUser(t, s, store.User{Tenant: "t2", UserName: "other"})
	goneG := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "goneG"})
	if err := s.DeleteUser(ctx, "t1", gone.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteGroup(ctx, "t1", goneG.ID); err != nil {
		t.Fatal(err)
	}
	jobsBefore := jobs(t, s)
	for _, bad := range []string{"no-such-id", gone.ID, goneG.ID, other.ID, ""} {
		if _, err := s.CreateGroup(ctx, store.Group{Tenant: "t1", DisplayName: "G", Members: refs(alice.ID, bad)}); !errors.Is(err, store.ErrInvalidMember) {
			t.Errorf("CreateGroup with member %q: err = %v, want ErrInvalidMember", bad, err)
		}
	}
	if gs := allGroups(t, s, "t1", nil, false); len(gs) != 0 {
		t.Errorf("failed creates left groups %v", groupNames(gs))
	}
	if u := getUser(t, s, "t1", alice.ID); len(u.Groups) != 0 {
		t.Errorf("failed creates left memberships %v", u.Groups)
	}
	if d := cmp.Diff(jobsBefore, jobs(t, s)); d != "" {
		t.Errorf("failed creates enqueued jobs (-before +after):\n%s", d)
	}
	g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "G", Members: refs(alice.ID)})
	for _, bad := range []string{g.ID, "no-such-id", gone.ID} {
		_, err := s.UpdateGroup(ctx, "t1", g.ID, func(x *store.Group) error {
			x.DisplayName = "renamed"
			x.Members = append(x.Members, store.Member{Value: bad})
			return nil
		})
		if !errors.Is(err, store.ErrInvalidMember) {
			t.Errorf("UpdateGroup adding %q: err = %v, want ErrInvalidMember", bad, err)
		}
	}
	got := getGroup(t, s, "t1", g.ID)
	if got.DisplayName != "G" || got.Version != 1 || !slices.Equal(memberIDs(got.Members), []string{alice.ID}) {
		t.Errorf("failed updates changed the group: %+v", got)
	}
}

func testMemberDiff(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := createUser(t, s, store.User{Tenant: "t1", UserName: "a"})
	b := createUser(t, s, store.User{Tenant: "t1", UserName: "b"})
	c := createUser(t, s, store.User{Tenant: "t1", UserName: "c"})
	sub := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "sub"})
	g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "G", Members: refs(a.ID, b.ID, a.ID)})
	if !slices.Equal(memberIDs(g.Members), sorted(a.ID, b.ID)) {
		t.Fatalf("duplicates not collapsed on create: %v", memberIDs(g.Members))
	}
	up, err := s.UpdateGroup(ctx, "t1", g.ID, func(x *store.Group) error {
		if d := cmp.Diff(sorted("User:"+a.ID+":a", "User:"+b.ID+":b"), memberSet(x.Members)); d != "" {
			t.Errorf("callback members (-want +got):\n%s", d)
		}
		x.Members = refs(b.ID, c.ID, c.ID, b.ID, sub.ID)
		return nil
	})
	if err != nil {
		t.Fatalf("UpdateGroup: %v", err)
	}
	if want := sorted(b.ID, c.ID, sub.ID); !slices.Equal(memberIDs(up.Members), want) || up.Version != 2 {
		t.Errorf("after diff: members %v version %d, want %v 2", memberIDs(up.Members), up.Version, want)
	}
	if d := cmp.Diff(up, getGroup(t, s, "t1", g.ID), cmpOpts...); d != "" {
		t.Errorf("GetGroup after update (-returned +fetched):\n%s", d)
	}
	if gs := getUser(t, s, "t1", a.ID).Groups; len(gs) != 0 {
		t.Errorf("removed member a still has groups %v", gs)
	}
	if gs := getUser(t, s, "t1", c.ID).Groups; len(gs) != 1 || gs[0].ID != g.ID {
		t.Errorf("added member c has groups %v", gs)
	}
	// Same members in another order, with stale Display and Kind: no change.
	jobsBefore := jobs(t, s)
	same, err := s.UpdateGroup(ctx, "t1", g.ID, func(x *store.Group) error {
		x.Members = []store.Member{{Value: sub.ID, Kind: store.KindUser}, {Value: c.ID, Display: "x"}, {Value: b.ID}}
		return nil
	})
	if err != nil || same.Version != 2 || !same.UpdatedAt.Equal(up.UpdatedAt) {
		t.Errorf("reordered members: version %d updated %v, %v; want unchanged", same.Version, same.UpdatedAt, err)
	}
	if d := cmp.Diff(jobsBefore, jobs(t, s)); d != "" {
		t.Errorf("reordered members touched the outbox (-before +after):\n%s", d)
	}
	// A membership change alone is a change.
	emptied, err := s.UpdateGroup(ctx, "t1", g.ID, func(x *store.Group) error { x.Members = nil; return nil })
	if err != nil || emptied.Version != 3 || len(emptied.Members) != 0 {
		t.Errorf("emptying: version %d members %v, %v", emptied.Version, emptied.Members, err)
	}
	if j, ok := jobIndex(t, jobs(t, s))[jobKey{"t1", store.KindGroup, g.ID}]; !ok || j.NotBefore.Before(j.CreatedAt) {
		t.Errorf("group job after a membership change: %+v, %v", j, ok)
	}
	if gs := getUser(t, s, "t1", b.ID).Groups; len(gs) != 0 {
		t.Errorf("b still in groups %v", gs)
	}
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func testDeleteRemovesMemberships(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := createUser(t, s, store.User{Tenant: "t1", UserName: "alice"})
	bob := createUser(t, s, store.User{Tenant: "t1", UserName: "bob"})
	h := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "H", Members: refs(bob.ID)})
	g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "G", Members: refs(alice.ID, bob.ID, h.ID)})
	p := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "P", Members: refs(g.ID, alice.ID)})

	if err := s.DeleteUser(ctx, "t1", alice.ID); err != nil {
		t.Fatal(err)
	}
	if got := memberIDs(getGroup(t, s, "t1", g.ID).Members); !slices.Equal(got, sorted(bob.ID, h.ID)) {
		t.Errorf("G members after deleting alice: %v", got)
	}
	if got := memberIDs(getGroup(t, s, "t1", p.ID).Members); !slices.Equal(got, []string{g.ID}) {
		t.Errorf("P members after deleting alice: %v", got)
	}
	if got := allGroups(t, s, "t1", store.Compare{Path: store.AttrPath{Name: "members", Sub: "value", MultiValued: true}, Op: store.OpEq, Value: alice.ID, CaseExact: true}, false); len(got) != 0 {
		t.Errorf("members eq deleted alice finds %v", groupNames(got))
	}
	// Recreating a user never resurrects memberships.
	alice2 := createUser(t, s, store.User{Tenant: "t1", UserName: "alice"})
	if gs := getUser(t, s, "t1", alice2.ID).Groups; len(gs) != 0 {
		t.Errorf("recreated alice is in %v", gs)
	}

	if err := s.DeleteGroup(ctx, "t1", g.ID); err != nil {
		t.Fatal(err)
	}
	if got := getGroup(t, s, "t1", p.ID).Members; len(got) != 0 {
		t.Errorf("P members after deleting G: %v", memberIDs(got))
	}
	if gs := getUser(t, s, "t1", bob.ID).Groups; len(gs) != 1 || gs[0].ID != h.ID {
		t.Errorf("bob's groups after deleting G: %v", gs)
	}
	if got := memberIDs(getGroup(t, s, "t1", h.ID).Members); !slices.Equal(got, []string{bob.ID}) {
		t.Errorf("H members after deleting G: %v", got)
	}
	if got := groupNames(allGroups(t, s, "t1", nil, true)); !slices.Equal(got, []string{"H", "P"}) {
		t.Errorf("groups after deleting G: %v", got)
	}
	// Groups whose member list changed are reported to the engine.
	idx := jobIndex(t, jobs(t, s))
	for _, id := range []string{g.ID, p.ID, h.ID} {
		if _, ok := idx[jobKey{"t1", store.KindGroup, id}]; !ok {
			t.Errorf("no job for group %s", id)
		}
	}
}

func testPaging(t *testing.T, s store.Store) {
	ctx := t.Context()
	var all []string
	ids := map[string]string{}
	for i := range 25 {
		// Names in reverse alphabetical order, so creation order differs
		// from name order.
		name := fmt.Sprintf("u%02d", 24-i)
		u := createUser(t, s, store.User{Tenant: "t1", UserName: name})
		all = append(all, name)
		ids[name] = u.ID
	}
	createUser(t, s, store.User{Tenant: "t2", UserName: "elsewhere"})
	// Updating a user must not move it.
	if _, err := s.UpdateUser(ctx, "t1", ids["u20"], func(u *store.User) error { u.Active = true; return nil }); err != nil {
		t.Fatal(err)
	}
	page := func(offset, limit int, f store.Filter) ([]string, int) {
		t.Helper()
		us, total, err := s.ListUsers(ctx, "t1", store.Query{Offset: offset, Limit: limit, Filter: f})
		if err != nil {
			t.Fatalf("ListUsers(offset %d, limit %d): %v", offset, limit, err)
		}
		return userNames(us), total
	}
	var got []string
	for off := 0; off < 30; off += 10 {
		names, total := page(off, 10, nil)
		if total != 25 {
			t.Errorf("offset %d: total %d, want 25", off, total)
		}
		got = append(got, names...)
	}
	if !slices.Equal(got, all) {
		t.Errorf("pages = %v, want creation order %v", got, all)
	}
	if names, total := page(25, 10, nil); len(names) != 0 || total != 25 {
		t.Errorf("past the end: %v total %d", names, total)
	}
	if names, total := page(0, 0, nil); len(names) != 0 || total != 25 {
		t.Errorf("limit 0: %v total %d, want no rows and 25", names, total)
	}
	if names, total := page(23, 10, nil); !slices.Equal(names, all[23:]) || total != 25 {
		t.Errorf("last partial page: %v total %d", names, total)
	}
	// u10..u19 were created 6th to 15th.
	f := store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpSw, Value: "U1"}
	if names, total := page(0, 0, f); len(names) != 0 || total != 10 {
		t.Errorf("filtered count: %v total %d", names, total)
	}
	if names, total := page(8, 4, f); !slices.Equal(names, []string{"u11", "u10"}) || total != 10 {
		t.Errorf("filtered page: %v total %d, want [u11 u10] 10", names, total)
	}
	// Deleting shifts later rows up, order stays.
	if err := s.DeleteUser(ctx, "t1", ids["u24"]); err != nil {
		t.Fatal(err)
	}
	if names, total := page(0, 3, nil); !slices.Equal(names, all[1:4]) || total != 24 {
		t.Errorf("after delete: %v total %d, want %v 24", names, total, all[1:4])
	}
	// Groups page the same way.
	for i := range 7 {
		createGroup(t, s, store.Group{Tenant: "t1", DisplayName: fmt.Sprintf("g%d", 6-i)})
	}
	gs, total, err := s.ListGroups(ctx, "t1", store.Query{Offset: 2, Limit: 3})
	if err != nil || total != 7 || !slices.Equal(groupNames(gs), []string{"g4", "g3", "g2"}) {
		t.Errorf("ListGroups page: %v total %d, %v", groupNames(gs), total, err)
	}
	if gs, total, err := s.ListGroups(ctx, "t1", store.Query{Limit: 0}); err != nil || total != 7 || len(gs) != 0 {
		t.Errorf("ListGroups limit 0: %v total %d, %v", groupNames(gs), total, err)
	}
}

func testJobs(t *testing.T, s store.Store) {
	ctx := t.Context()
	if js := jobs(t, s); len(js) != 0 {
		t.Fatalf("fresh store has jobs %+v", js)
	}
	u := createUser(t, s, store.User{Tenant: "t1", UserName: "alice"})
	js := jobs(t, s)
	if len(js) != 1 {
		t.Fatalf("after create: %d jobs, want 1", len(js))
	}
	first := js[0]
	if first.Tenant != "t1" || first.Kind != store.KindUser || first.ResourceID != u.ID || first.ID == 0 {
		t.Errorf("job = %+v", first)
	}
	requireUTC(t, "job", first.CreatedAt, first.NotBefore)
	if first.NotBefore.Before(first.CreatedAt) {
		t.Errorf("job due %v before it was created %v", first.NotBefore, first.CreatedAt)
	}
	for i := range 3 {
		if _, err := s.UpdateUser(ctx, "t1", u.ID, func(x *store.User) error { x.Attributes = map[string]any{"n": int64(i)}; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	js = jobs(t, s)
	if len(js) != 1 {
		t.Fatalf("after updates: %d jobs, want 1", len(js))
	}
	if js[0].ID != first.ID || !js[0].CreatedAt.Equal(first.CreatedAt) {
		t.Errorf("re-enqueue replaced the job: %+v, was %+v", js[0], first)
	}
	if js[0].NotBefore.Before(first.NotBefore) {
		t.Errorf("re-enqueue moved NotBefore back: %v < %v", js[0].NotBefore, first.NotBefore)
	}
	u2 := createUser(t, s, store.User{Tenant: "t1", UserName: "bob"})
	g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "G", Members: refs(u.ID, u2.ID)})
	if err := s.DeleteUser(ctx, "t1", u2.ID); err != nil {
		t.Fatal(err)
	}
	js = jobs(t, s)
	idx := jobIndex(t, js)
	for _, k := range []jobKey{{"t1", store.KindUser, u.ID}, {"t1", store.KindUser, u2.ID}, {"t1", store.KindGroup, g.ID}} {
		if _, ok := idx[k]; !ok {
			t.Errorf("no job for %v", k)
		}
	}
	if len(js) != 3 {
		t.Errorf("%d jobs, want 3: %+v", len(js), js)
	}
	if js[0].ID != first.ID {
		t.Errorf("oldest job first: got %+v", js[0])
	}
	for i := 1; i < len(js); i++ {
		if js[i].CreatedAt.Before(js[i-1].CreatedAt) {
			t.Errorf("jobs not oldest first: %v after %v", js[i].CreatedAt, js[i-1].CreatedAt)
		}
	}
	if one, err := s.PendingJobs(ctx, 1); err != nil || len(one) != 1 || one[0].ID != first.ID {
		t.Errorf("PendingJobs(1) = %+v, %v", one, err)
	}
	if none, err := s.PendingJobs(ctx, 0); err != nil || len(none) != 0 {
		t.Errorf("PendingJobs(0) = %+v, %v", none, err)
	}
}

func testConcurrentUpdates(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := createUser(t, s, store.User{Tenant: "t1", UserName: "counter", Attributes: map[string]any{"n": int64(0)}})
	const workers, rounds = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds+1)
	for range workers {
		wg.Go(func() {
			for range rounds {
				_, err := s.UpdateUser(ctx, "t1", u.ID, func(x *store.User) error {
					n, ok := asInt(x.Attributes["n"])
					if !ok {
						return fmt.Errorf("n is %T", x.Attributes["n"])
					}
					x.Attributes["n"] = n + 1
					return nil
				})
				if err != nil {
					errs <- err
				}
			}
		})
	}
	// A reader runs alongside and always sees a consistent record.
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := s.GetUser(ctx, "t1", u.ID)
			if err != nil {
				errs <- err
				return
			}
			if n, _ := asInt(got.Attributes["n"]); n != got.Version-1 {
				errs <- fmt.Errorf("read n=%d at version %d", n, got.Version)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := getUser(t, s, "t1", u.ID)
	if n, _ := asInt(got.Attributes["n"]); n != workers*rounds || got.Version != workers*rounds+1 {
		t.Errorf("counter = %v at version %d, want %d at %d", got.Attributes["n"], got.Version, workers*rounds, workers*rounds+1)
	}
	if js := jobs(t, s); len(js) != 1 {
		t.Errorf("%d jobs after concurrent updates of one user, want 1", len(js))
	}
}

func asInt(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		return int64(n), true
	}
	return 0, false
}

// testRawAttributes: a list asked for RawAttributes answers every user as
// the plain list does, with Attributes as a JSON object instead of a map;
// decoded (integral numbers as int64, others float64) it is Attributes.
func testRawAttributes(t *testing.T, s store.Store) {
	ctx := t.Context()
	attrs := map[string]any{
		"displayName": "Ann <a&b>", "nickName": "\u2028\"q\"",
		"name":        map[string]any{"givenName": "Ann", "familyName": "Lee"},
		"emails":      []any{map[string]any{"value": "ann@example.com", "type": "work", "primary": true}},
		enterpriseURN: map[string]any{"employeeNumber": "7", "costCenter": int64(12), "ratio": 1.5},
	}
	createUser(t, s, store.User{Tenant: "t1", UserName: "ann", Active: true, Attributes: attrs})
	createUser(t, s, store.User{Tenant: "t1", UserName: "bob", Active: true})
	for _, q := range []store.Query{
		{Limit: 10},
		{Filter: store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: "ANN"}, Limit: 10},
	} {
		for range 3 { // a cache, if any, answers the later rounds
			plain, total, err := s.ListUsers(ctx, "t1", q)
			if err != nil {
				t.Fatal(err)
			}
			rq := q
			rq.RawAttributes = true
			raw, rtotal, err := s.ListUsers(ctx, "t1", rq)
			if err != nil || rtotal != total || len(raw) != len(plain) {
				t.Fatalf("%+v: raw list %d of %d (%v), plain %d of %d", q, len(raw), rtotal, err, len(plain), total)
			}
			for i := range raw {
				if raw[i].Attributes != nil {
					t.Errorf("%s: Attributes %v with RawAttributes", raw[i].UserName, raw[i].Attributes)
				}
				dec := json.NewDecoder(strings.NewReader(raw[i].RawAttributes))
				dec.UseNumber()
				var m map[string]any
				if err := dec.Decode(&m); err != nil {
					t.Fatalf("%s: RawAttributes %q: %v", raw[i].UserName, raw[i].RawAttributes, err)
				}
				got := raw[i]
				got.RawAttributes, got.Attributes = "", NumbersAsStored(m).(map[string]any)
				if diff := cmp.Diff(plain[i], got, cmpOpts...); diff != "" {
					t.Errorf("%+v, %s (-plain +raw):\n%s", q, raw[i].UserName, diff)
				}
			}
		}
	}
}

// NumbersAsStored turns the json.Numbers of a value decoded with UseNumber
// into what a store gives back (int64 when integral and in range, else
// float64), in place; for tests that decode User.RawAttributes.
func NumbersAsStored(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = NumbersAsStored(e)
		}
	case []any:
		for i, e := range t {
			t[i] = NumbersAsStored(e)
		}
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		f, _ := t.Float64()
		return f
	}
	return v
}
