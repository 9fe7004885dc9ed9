package clienttest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

// --- helpers ---

func wantKind(t *testing.T, err error, kind atlassian.ErrorKind) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v (kind %v), want kind %v", err, atlassian.KindOf(err), kind)
	}
	if _, ok := errors.AsType[*atlassian.Error](err); !ok {
		t.Fatalf("err = %v: no *atlassian.Error in the chain", err)
	}
}

func findUser(e *atlassiantest.Emulator, name string) (atlassiantest.StateUser, bool) {
	for _, u := range e.State().Users {
		if strings.EqualFold(u.Name, name) {
			return u, true
		}
	}
	return atlassiantest.StateUser{}, false
}

func mustFindUser(t *testing.T, e *atlassiantest.Emulator, name string) atlassiantest.StateUser {
	t.Helper()
	u, ok := findUser(e, name)
	if !ok {
		t.Fatalf("emulator has no user %q", name)
	}
	return u
}

func findGroup(e *atlassiantest.Emulator, name string) (atlassiantest.StateGroup, bool) {
	for _, g := range e.State().Groups {
		if strings.EqualFold(g.Name, name) {
			return g, true
		}
	}
	return atlassiantest.StateGroup{}, false
}

func members(t *testing.T, e *atlassiantest.Emulator, group string) []string {
	t.Helper()
	g, ok := findGroup(e, group)
	if !ok {
		t.Fatalf("emulator has no group %q", group)
	}
	return g.Members
}

func newUser(name string, active bool) atlassian.NewUser {
	return atlassian.NewUser{Name: name, DisplayName: "User " + name, Email: strings.ToLower(name) + "@example.com",
		Password: "Pw-" + name + "-1!", Active: active}
}

func mustCreate(t *testing.T, c Client, n atlassian.NewUser) atlassian.User {
	t.Helper()
	u, err := c.CreateUser(t.Context(), n)
	if err != nil {
		t.Fatalf("create %q: %v", n.Name, err)
	}
	return u
}

func seed(t *testing.T, e *atlassiantest.Emulator, su atlassiantest.SeedUser) {
	t.Helper()
	if err := e.AddUser(su); err != nil {
		t.Fatal(err)
	}
}

func collect(t *testing.T, list func(fn func(atlassian.User) error) error) map[string]atlassian.User {
	t.Helper()
	out := map[string]atlassian.User{}
	err := list(func(u atlassian.User) error {
		k := strings.ToLower(u.Name)
		if _, dup := out[k]; dup {
			return fmt.Errorf("user %q listed twice", u.Name)
		}
		out[k] = u
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// --- tests ---

func testCreateAndGet(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	ctx := t.Context()
	created := mustCreate(t, env.c, atlassian.NewUser{Name: "JDoe", DisplayName: "John Doe", Email: "jdoe@example.com",
		Password: "S3cret!pw", Active: true})
	if created.Name != "JDoe" || created.Key == "" || created.DisplayName != "John Doe" || created.Email != "jdoe@example.com" || !created.Active {
		t.Errorf("created = %+v", created)
	}
	st := mustFindUser(t, env.e, "jdoe")
	if st.Name != "JDoe" || st.Key != created.Key || st.DisplayName != "John Doe" || st.EmailAddress != "jdoe@example.com" || !st.Active {
		t.Errorf("emulator state = %+v, client said %+v", st, created)
	}
	// Usernames are case-insensitive; the stored case is echoed.
	got, err := env.c.GetUser(ctx, "jDOE")
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "JDoe" || got.Key != created.Key || got.Email != created.Email || !got.Active {
		t.Errorf("GetUser(jDOE) = %+v, want %+v", got, created)
	}

	before := len(env.e.State().Users)
	_, err = env.c.CreateUser(ctx, atlassian.NewUser{Name: "jdoe", DisplayName: "Other", Email: "o@example.com", Active: true})
	wantKind(t, err, atlassian.AlreadyExists)
	if n := len(env.e.State().Users); n != before {
		t.Errorf("refused create changed the user count %d -> %d", before, n)
	}

	_, err = env.c.GetUser(ctx, "nobody")
	wantKind(t, err, atlassian.NotFound)

	_, err = env.c.CreateUser(ctx, atlassian.NewUser{Name: "", DisplayName: "No Name", Email: "nn@example.com", Active: true})
	wantKind(t, err, atlassian.Invalid)
	if n := len(env.e.State().Users); n != before {
		t.Errorf("invalid create changed the user count %d -> %d", before, n)
	}

	inactive := mustCreate(t, env.c, newUser("dormant", false))
	if inactive.Active || mustFindUser(t, env.e, "dormant").Active {
		t.Errorf("user created with Active=false is active: %+v", inactive)
	}
}

func testUpdate(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	ctx := t.Context()
	orig := mustCreate(t, env.c, newUser("upd", true))
	u, err := env.c.UpdateUser(ctx, "UPD", atlassian.UserUpdate{DisplayName: ptr("New Name"), Email: ptr("new@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	if u.DisplayName != "New Name" || u.Email != "new@example.com" || u.Key != orig.Key || !u.Active {
		t.Errorf("UpdateUser returned %+v", u)
	}
	st := mustFindUser(t, env.e, "upd")
	if st.DisplayName != "New Name" || st.EmailAddress != "new@example.com" || !st.Active {
		t.Errorf("emulator state after update = %+v", st)
	}
	// Only the email: the display name must survive (Crowd's full-entity PUT blanks omitted fields).
	if _, err := env.c.UpdateUser(ctx, "upd", atlassian.UserUpdate{Email: ptr("third@example.com")}); err != nil {
		t.Fatal(err)
	}
	if st := mustFindUser(t, env.e, "upd"); st.DisplayName != "New Name" || st.EmailAddress != "third@example.com" {
		t.Errorf("email-only update lost other fields: %+v", st)
	}
	same, err := env.c.UpdateUser(ctx, "upd", atlassian.UserUpdate{})
	if err != nil || same.Email != "third@example.com" {
		t.Errorf("empty update = %+v, %v", same, err)
	}
	_, err = env.c.UpdateUser(ctx, "ghost", atlassian.UserUpdate{DisplayName: ptr("x")})
	wantKind(t, err, atlassian.NotFound)
}

func testRename(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	ctx := t.Context()
	alice := mustCreate(t, env.c, newUser("alice", true))
	mustCreate(t, env.c, newUser("bob", true))
	if err := env.c.CreateGroup(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	if err := env.c.AddMember(ctx, "team", "alice"); err != nil {
		t.Fatal(err)
	}

	renamed, err := env.c.RenameUser(ctx, "ALICE", "Alice.Smith")
	if err != nil {
		t.Fatal(err)
	}
	if renamed.Name != "Alice.Smith" || renamed.Key != alice.Key {
		t.Errorf("renamed = %+v, want name Alice.Smith and key %q", renamed, alice.Key)
	}
	if st := mustFindUser(t, env.e, "alice.smith"); st.Key != alice.Key || st.Name != "Alice.Smith" {
		t.Errorf("emulator after rename: %+v", st)
	}
	if _, err := env.c.GetUser(ctx, "alice"); !errors.Is(err, atlassian.NotFound) {
		t.Errorf("old name still resolves: %v", err)
	}
	got, err := env.c.GetUser(ctx, "alice.SMITH")
	if err != nil || got.Key != alice.Key {
		t.Errorf("GetUser(new name) = %+v, %v", got, err)
	}
	if m := members(t, env.e, "team"); !slices.Equal(m, []string{"Alice.Smith"}) {
		t.Errorf("membership after rename = %v", m)
	}

	_, err = env.c.RenameUser(ctx, "alice.smith", "BOB")
	wantKind(t, err, atlassian.AlreadyExists)
	if _, ok := findUser(env.e, "alice.smith"); !ok {
		t.Error("refused rename changed the user")
	}
	_, err = env.c.RenameUser(ctx, "ghost", "ghost2")
	wantKind(t, err, atlassian.NotFound)

	// A change of case only is not a rename on Data Center.
	same, err := env.c.RenameUser(ctx, "bob", "BOB")
	if err != nil || !strings.EqualFold(same.Name, "bob") {
		t.Errorf("case-only rename = %+v, %v", same, err)
	}
}

func testActive(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	ctx := t.Context()
	mustCreate(t, env.c, newUser("toggle", true))
	for _, step := range []bool{false, false, true, true} { // repeats must be harmless
		if err := env.c.SetActive(ctx, "TOGGLE", step); err != nil {
			t.Fatalf("SetActive(%t): %v", step, err)
		}
		st := mustFindUser(t, env.e, "toggle")
		if st.Active != step || st.DisplayName != "User toggle" || st.EmailAddress != "toggle@example.com" {
			t.Fatalf("after SetActive(%t) the emulator has %+v", step, st)
		}
		u, err := env.c.GetUser(ctx, "toggle")
		if err != nil || u.Active != step {
			t.Fatalf("GetUser after SetActive(%t) = %+v, %v", step, u, err)
		}
	}
	u, err := env.c.UpdateUser(ctx, "toggle", atlassian.UserUpdate{Active: ptr(false), DisplayName: ptr("Gone Away")})
	if err != nil || u.Active || u.DisplayName != "Gone Away" {
		t.Fatalf("combined update = %+v, %v", u, err)
	}
	if st := mustFindUser(t, env.e, "toggle"); st.Active || st.DisplayName != "Gone Away" {
		t.Errorf("emulator after combined update: %+v", st)
	}
	wantKind(t, env.c.SetActive(ctx, "ghost", false), atlassian.NotFound)
}

func testDelete(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	ctx := t.Context()
	mustCreate(t, env.c, newUser("temp", true))
	if err := env.c.DeleteUser(ctx, "TEMP"); err != nil {
		t.Fatal(err)
	}
	if _, ok := findUser(env.e, "temp"); ok {
		t.Error("deleted user still in the emulator")
	}
	wantKind(t, env.c.DeleteUser(ctx, "temp"), atlassian.NotFound)

	mustCreate(t, env.c, newUser("author", true))
	if err := env.e.SetHasContent("author"); err != nil {
		t.Fatal(err)
	}
	err := env.c.DeleteUser(ctx, "author")
	wantKind(t, err, atlassian.DeleteRefused)
	if e, _ := errors.AsType[*atlassian.Error](err); len(e.Messages) == 0 {
		t.Errorf("DeleteRefused carries no reason: %v", err)
	}
	if _, ok := findUser(env.e, "author"); !ok {
		t.Fatal("refused delete removed the user")
	}
	// The documented way out: deactivate instead.
	if err := env.c.SetActive(ctx, "author", false); err != nil {
		t.Fatal(err)
	}
}

func testLicence(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{LicenseSeats: 2})
	ctx := t.Context()
	const access = "jira-software-users"
	for _, name := range []string{"seat1", "seat2"} {
		n := newUser(name, true)
		n.ApplicationKeys = []string{"jira-software"}
		mustCreate(t, env.c, n)
	}
	if m := members(t, env.e, access); !slices.Equal(m, []string{"seat1", "seat2"}) {
		t.Fatalf("access group members = %v", m)
	}
	n := newUser("seat3", true)
	n.ApplicationKeys = []string{"jira-software"}
	_, err := env.c.CreateUser(ctx, n)
	wantKind(t, err, atlassian.LicenseLimit)
	if _, ok := findUser(env.e, "seat3"); ok {
		t.Error("create refused for the licence left the user behind")
	}

	mustCreate(t, env.c, newUser("seat3", true)) // no application access, no seat
	wantKind(t, env.c.AddMember(ctx, access, "seat3"), atlassian.LicenseLimit)
	if m := members(t, env.e, access); slices.Contains(m, "seat3") {
		t.Error("refused membership was added")
	}
	// Inactive users take no seat.
	if err := env.c.SetActive(ctx, "seat1", false); err != nil {
		t.Fatal(err)
	}
	if err := env.c.AddMember(ctx, access, "seat3"); err != nil {
		t.Fatalf("add after freeing a seat: %v", err)
	}
	wantKind(t, env.c.SetActive(ctx, "seat1", true), atlassian.LicenseLimit)
	if mustFindUser(t, env.e, "seat1").Active {
		t.Error("reactivation over the licence went through")
	}
}

func testGroups(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	ctx := t.Context()
	for _, g := range []string{"Engineering", "sales"} {
		if err := env.c.CreateGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	wantKind(t, env.c.CreateGroup(ctx, "ENGINEERING"), atlassian.AlreadyExists)
	groups, err := env.c.ListGroups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.Name)
	}
	var want []string
	for _, g := range env.e.State().Groups {
		want = append(want, g.Name)
	}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) || !slices.Contains(names, "Engineering") {
		t.Errorf("ListGroups = %v, emulator has %v", names, want)
	}
	if err := env.c.DeleteGroup(ctx, "engineering"); err != nil {
		t.Fatal(err)
	}
	if _, ok := findGroup(env.e, "engineering"); ok {
		t.Error("deleted group still in the emulator")
	}
	wantKind(t, env.c.DeleteGroup(ctx, "engineering"), atlassian.NotFound)
}

func testMembership(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	ctx := t.Context()
	mustCreate(t, env.c, newUser("Member", true))
	if err := env.c.CreateGroup(ctx, "Crew"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second add is "already a member", which is success
		if err := env.c.AddMember(ctx, "crew", "MEMBER"); err != nil {
			t.Fatal(err)
		}
	}
	if m := members(t, env.e, "crew"); !slices.Equal(m, []string{"Member"}) {
		t.Fatalf("members = %v", m)
	}
	for range 2 { // the second remove is "not a member", which is success
		if err := env.c.RemoveMember(ctx, "CREW", "member"); err != nil {
			t.Fatal(err)
		}
	}
	if m := members(t, env.e, "crew"); len(m) != 0 {
		t.Fatalf("members after remove = %v", m)
	}
	wantKind(t, env.c.AddMember(ctx, "crew", "ghost"), atlassian.NotFound)
	wantKind(t, env.c.AddMember(ctx, "no-such-group", "member"), atlassian.NotFound)
	wantKind(t, env.c.RemoveMember(ctx, "crew", "ghost"), atlassian.NotFound)
	wantKind(t, env.c.RemoveMember(ctx, "no-such-group", "member"), atlassian.NotFound)
	wantKind(t, env.c.ListMembers(ctx, "no-such-group", func(atlassian.User) error { return nil }), atlassian.NotFound)
}

// bigGroup is larger than every page size the clients use by default (Jira 50, Crowd 1000).
const bigGroup = 1010

func testMemberPaging(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	for i := range bigGroup {
		seed(t, env.e, atlassiantest.SeedUser{Name: fmt.Sprintf("M%04d", i), EmailAddress: fmt.Sprintf("m%d@example.com", i),
			Inactive: i%4 == 0, Groups: []string{"big"}})
	}
	seed(t, env.e, atlassiantest.SeedUser{Name: "outsider"})
	before := len(env.e.Requests())
	got := collect(t, func(fn func(atlassian.User) error) error { return env.c.ListMembers(t.Context(), "BIG", fn) })
	if calls := len(env.e.Requests()) - before; calls < 2 {
		t.Errorf("%d members came in %d request(s); want paging", bigGroup, calls)
	}
	if len(got) != bigGroup {
		t.Fatalf("listed %d members, want %d", len(got), bigGroup)
	}
	inactive := 0
	for _, su := range env.e.State().Users {
		if su.Name == "outsider" {
			continue
		}
		u, ok := got[strings.ToLower(su.Name)]
		if !ok || u.Name != su.Name || u.Active != su.Active || u.Key != su.Key {
			t.Fatalf("member %q: listed %+v, emulator %+v", su.Name, u, su)
		}
		if !u.Active {
			inactive++
		}
	}
	if inactive != (bigGroup+3)/4 {
		t.Errorf("inactive members listed = %d, want %d", inactive, (bigGroup+3)/4)
	}
}

func testListUsers(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	ctx := t.Context()
	for i := range 1020 {
		seed(t, env.e, atlassiantest.SeedUser{Name: fmt.Sprintf("u%04d", i), DisplayName: fmt.Sprintf("User %d", i),
			EmailAddress: fmt.Sprintf("u%d@example.com", i), Inactive: i%3 == 0})
	}
	mustCreate(t, env.c, newUser("Zed", false))
	got := collect(t, func(fn func(atlassian.User) error) error { return env.c.ListUsers(ctx, fn) })
	st := env.e.State().Users
	if len(got) != len(st) {
		t.Fatalf("ListUsers returned %d users, emulator has %d", len(got), len(st))
	}
	for _, su := range st {
		u := got[strings.ToLower(su.Name)]
		if u.Name != su.Name || u.Key != su.Key || u.Active != su.Active || u.Email != su.EmailAddress || u.DisplayName != su.DisplayName {
			t.Fatalf("listed %+v, emulator has %+v", u, su)
		}
	}
	// The callback's error stops the listing and comes back as is.
	stop := errors.New("enough")
	calls := 0
	err := env.c.ListUsers(ctx, func(atlassian.User) error {
		calls++
		if calls == 5 {
			return stop
		}
		return nil
	})
	if err != stop || calls != 5 {
		t.Errorf("ListUsers with a failing callback = %v after %d calls, want the callback's error after 5", err, calls)
	}
}

func testLastLogin(t *testing.T, cfg Config, nc NewClient) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	env := newEnv(t, cfg, nc, atlassiantest.Options{Now: func() time.Time { return at }})
	ctx := t.Context()
	mustCreate(t, env.c, newUser("walker", true))
	u, err := env.c.GetUser(ctx, "walker")
	if err != nil || u.LastLogin != nil {
		t.Fatalf("never logged in: %+v, %v", u, err)
	}
	if err := env.e.RecordLogin("walker"); err != nil {
		t.Fatal(err)
	}
	u, err = env.c.GetUser(ctx, "walker")
	if err != nil {
		t.Fatal(err)
	}
	if u.LastLogin == nil || !u.LastLogin.Equal(at) {
		t.Errorf("LastLogin = %v, want %v", u.LastLogin, at)
	}
	// The full reconcile reads last logins from the listing (inactive_after), not user by user.
	mustCreate(t, env.c, newUser("sitter", true))
	listed := collect(t, func(fn func(atlassian.User) error) error { return env.c.ListUsers(ctx, fn) })
	if w := listed["walker"]; w.LastLogin == nil || !w.LastLogin.Equal(at) {
		t.Errorf("ListUsers: walker's LastLogin = %v, want %v", w.LastLogin, at)
	}
	if s := listed["sitter"]; s.LastLogin != nil {
		t.Errorf("ListUsers: sitter never logged in, LastLogin = %v", s.LastLogin)
	}
}

// testReadOnly: with a read-only directory (atlassian-api.md 7.4: LDAP "Read only") every write is
// reported as ReadOnlyDirectory, never as NotFound, Other or success, and changes nothing; reads
// still work, and writes work again once the directory is writable.
func testReadOnly(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	ctx := t.Context()
	seed(t, env.e, atlassiantest.SeedUser{Name: "ro", DisplayName: "Read Only", EmailAddress: "ro@example.com", Groups: []string{"team"}})
	seed(t, env.e, atlassiantest.SeedUser{Name: "loner", DisplayName: "Lone Wolf", EmailAddress: "loner@example.com"})
	before := env.e.State()
	env.e.SetFaults(atlassiantest.Faults{ReadOnlyDirectory: true})

	_, errCreate := env.c.CreateUser(ctx, newUser("newbie", true))
	_, errUpdate := env.c.UpdateUser(ctx, "RO", atlassian.UserUpdate{DisplayName: ptr("Changed"), Email: ptr("changed@example.com")})
	_, errRename := env.c.RenameUser(ctx, "ro", "ro2")
	for _, tc := range []struct {
		op  string
		err error
	}{
		{"CreateUser", errCreate},
		{"UpdateUser", errUpdate},
		{"RenameUser", errRename},
		{"SetActive(false)", env.c.SetActive(ctx, "ro", false)},
		{"DeleteUser", env.c.DeleteUser(ctx, "ro")},
		{"CreateGroup", env.c.CreateGroup(ctx, "more")},
		{"DeleteGroup", env.c.DeleteGroup(ctx, "team")},
		{"AddMember", env.c.AddMember(ctx, "team", "loner")},
		{"RemoveMember", env.c.RemoveMember(ctx, "team", "ro")},
	} {
		e, ok := errors.AsType[*atlassian.Error](tc.err)
		if !ok || e.Kind != atlassian.ReadOnlyDirectory || !errors.Is(tc.err, atlassian.ReadOnlyDirectory) {
			t.Errorf("%s on a read-only directory = %v (kind %v), want ReadOnlyDirectory", tc.op, tc.err, atlassian.KindOf(tc.err))
		}
	}

	if u, err := env.c.GetUser(ctx, "ro"); err != nil || u.DisplayName != "Read Only" || !u.Active {
		t.Errorf("GetUser on a read-only directory = %+v, %v", u, err)
	}
	team := collect(t, func(fn func(atlassian.User) error) error { return env.c.ListMembers(ctx, "team", fn) })
	if _, ok := team["ro"]; !ok || len(team) != 1 {
		t.Errorf("ListMembers(team) on a read-only directory = %v, want ro", team)
	}
	if users := collect(t, func(fn func(atlassian.User) error) error { return env.c.ListUsers(ctx, fn) }); len(users) != len(before.Users) {
		t.Errorf("ListUsers on a read-only directory = %d users, want %d", len(users), len(before.Users))
	}
	if after := env.e.State(); !reflect.DeepEqual(before, after) {
		t.Errorf("refused writes changed the directory:\nbefore %+v\nafter  %+v", before, after)
	}

	env.e.SetFaults(atlassiantest.Faults{})
	if err := env.c.AddMember(ctx, "team", "loner"); err != nil {
		t.Fatalf("AddMember once writable: %v", err)
	}
	if m := members(t, env.e, "team"); !slices.Equal(m, []string{"loner", "ro"}) {
		t.Errorf("members once writable = %v", m)
	}
}

func testUnauthorized(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{Token: "another-token", User: "another-user", Password: "another-password"})
	_, err := env.c.GetUser(t.Context(), "anyone")
	wantKind(t, err, atlassian.Unauthorized)
	for _, secret := range []string{Token, Password} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks a credential: %v", err)
		}
	}
}

func testRateLimit(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	for i := range 10 {
		seed(t, env.e, atlassiantest.SeedUser{Name: fmt.Sprintf("r%d", i)})
	}
	// The bucket starts empty: the client paces itself once it has seen
	// the X-RateLimit-* headers, so a full bucket may refuse nothing and
	// the retry would go untested.
	env.e.SetFaults(atlassiantest.Faults{RateLimitPerSecond: 20, Burst: 3, StartEmpty: true})
	before := len(env.e.Requests())
	var wg sync.WaitGroup
	errs := make([]error, 10)
	for i := range 10 {
		wg.Go(func() {
			_, errs[i] = env.c.GetUser(t.Context(), fmt.Sprintf("r%d", i))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("GetUser(r%d) under rate limit: %v", i, err)
		}
	}
	limited := 0
	for _, r := range env.e.Requests()[before:] {
		if r.Status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Error("the emulator never answered 429; the test did not exercise the retry")
	}
}

func testFaults(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	ctx := t.Context()
	for i := range 30 {
		seed(t, env.e, atlassiantest.SeedUser{Name: fmt.Sprintf("f%02d", i), EmailAddress: fmt.Sprintf("f%d@example.com", i),
			Inactive: i%5 == 0, Groups: []string{"flaky"}})
	}
	seed(t, env.e, atlassiantest.SeedUser{Name: "doomed"})
	env.e.SetFaults(atlassiantest.Faults{ErrorRate: 0.2, ErrorStatus: 503, DropRate: 0.05})
	before := len(env.e.Requests())

	ok := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s under faults: %v", what, err)
		}
	}
	for i := range 30 {
		name := fmt.Sprintf("f%02d", i)
		_, err := env.c.GetUser(ctx, name)
		ok("GetUser", err)
		_, err = env.c.UpdateUser(ctx, name, atlassian.UserUpdate{DisplayName: ptr("Flaky " + name)})
		ok("UpdateUser", err)
		ok("SetActive", env.c.SetActive(ctx, name, i%2 == 0))
		ok("AddMember", env.c.AddMember(ctx, "jira-administrators", name))
		ok("RemoveMember", env.c.RemoveMember(ctx, "flaky", name))
	}
	ok("DeleteUser", env.c.DeleteUser(ctx, "doomed"))
	users := collect(t, func(fn func(atlassian.User) error) error { return env.c.ListUsers(ctx, fn) })
	admins := collect(t, func(fn func(atlassian.User) error) error { return env.c.ListMembers(ctx, "jira-administrators", fn) })
	_, err := env.c.ListGroups(ctx)
	ok("ListGroups", err)

	// Non-idempotent creates are not retried on 503: each either succeeds or fails as Transient
	// without leaving anything behind (the fault answers before the server acts).
	for i := range 10 {
		name := fmt.Sprintf("new%d", i)
		_, err := env.c.CreateUser(ctx, newUser(name, true))
		_, exists := findUser(env.e, name)
		switch {
		case err == nil && !exists:
			t.Errorf("create %q succeeded but the user is missing", name)
		case err != nil && (!errors.Is(err, atlassian.Transient) || exists):
			t.Errorf("create %q under faults: %v (user exists: %t)", name, err, exists)
		}
	}
	injected := 0
	for _, r := range env.e.Requests()[before:] {
		if r.Status == 503 || r.Status == 0 {
			injected++
		}
	}
	env.e.SetFaults(atlassiantest.Faults{})
	if injected == 0 {
		t.Fatal("no fault was injected; the test proved nothing")
	}
	t.Logf("%d faults injected", injected)

	st := env.e.State()
	if len(users) != len(st.Users)-countNew(st) {
		// ListUsers ran before the creates.
		t.Errorf("ListUsers under faults returned %d users", len(users))
	}
	if len(admins) != 30 {
		t.Errorf("ListMembers under faults returned %d admins, want 30", len(admins))
	}
	for i := range 30 {
		name := fmt.Sprintf("f%02d", i)
		su := mustFindUser(t, env.e, name)
		if su.DisplayName != "Flaky "+name || su.Active != (i%2 == 0) || slices.Contains(su.Groups, "flaky") || !slices.Contains(su.Groups, "jira-administrators") {
			t.Errorf("after faults %q is %+v", name, su)
		}
	}
	if _, ok := findUser(env.e, "doomed"); ok {
		t.Error("DeleteUser under faults did not delete")
	}
}

func countNew(st atlassiantest.State) int {
	n := 0
	for _, u := range st.Users {
		if strings.HasPrefix(u.Name, "new") {
			n++
		}
	}
	return n
}

// testLatency: with added latency every call still succeeds, and the latency is really in force
// (each call takes at least that long: a lower bound, so no flakiness on a loaded machine).
func testLatency(t *testing.T, cfg Config, nc NewClient) {
	env := newEnv(t, cfg, nc, atlassiantest.Options{})
	ctx := t.Context()
	seed(t, env.e, atlassiantest.SeedUser{Name: "slow", EmailAddress: "slow@example.com", Groups: []string{"lag"}})
	const latency = 30 * time.Millisecond
	env.e.SetFaults(atlassiantest.Faults{LatencyMS: int(latency / time.Millisecond)})
	defer env.e.SetFaults(atlassiantest.Faults{})
	start := time.Now()
	if u, err := env.c.GetUser(ctx, "SLOW"); err != nil || u.Name != "slow" {
		t.Fatalf("GetUser under latency = %+v, %v", u, err)
	}
	if err := env.c.SetActive(ctx, "slow", false); err != nil {
		t.Fatalf("SetActive under latency: %v", err)
	}
	got := collect(t, func(fn func(atlassian.User) error) error { return env.c.ListMembers(ctx, "lag", fn) })
	if u, ok := got["slow"]; !ok || u.Active {
		t.Fatalf("ListMembers under latency = %v", got)
	}
	calls := len(env.e.Requests())
	if elapsed := time.Since(start); elapsed < time.Duration(calls)*latency {
		t.Errorf("%d calls took %v, less than %v each: the latency was not applied", calls, elapsed, latency)
	}
}
