package atlassiantest

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Issue 3 item 5: the /_emulator/state document shape, raw JSON keys included.
func TestControlState(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("Amy", "jira-software")
	st := env.doAuth("", "GET", "/_emulator/state", nil).want(t, http.StatusOK).obj(t)
	users := st["users"].([]any)
	if len(users) != 1 {
		t.Fatalf("users %v", users)
	}
	u := users[0].(map[string]any)
	want := map[string]any{"name": "Amy", "key": "JIRAUSER10100", "displayName": "Amy Doe", "emailAddress": "amy@example.com", "active": true, "lastLoginTime": nil}
	for k, v := range want {
		if got, ok := u[k]; !ok || got != v {
			t.Errorf("state user %s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	if !slices.Equal(toStrings(u["groups"]), []string{"jira-software-users"}) {
		t.Errorf("state user groups %v", u["groups"])
	}
	var groups []string
	for _, g := range st["groups"].([]any) {
		m := g.(map[string]any)
		groups = append(groups, m["name"].(string))
		if m["name"] == "jira-software-users" && !slices.Equal(toStrings(m["members"]), []string{"Amy"}) {
			t.Errorf("members %v", m["members"])
		}
	}
	if !slices.Equal(groups, []string{"jira-administrators", "jira-software-users"}) {
		t.Errorf("state groups %v", groups)
	}
	env.doAuth("", "POST", "/_emulator/state", nil).want(t, http.StatusMethodNotAllowed)
	env.doAuth("", "GET", "/_emulator/nothing", nil).want(t, http.StatusNotFound)
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// Issue 3 item 5: POST /_emulator/login records a login (RFC 3339 in state), refused for inactive
// and unknown users.
func TestControlLogin(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	env.doAuth("", "POST", "/_emulator/login", map[string]any{"username": "AMY"}).want(t, http.StatusNoContent)
	st := env.doAuth("", "GET", "/_emulator/state", nil).obj(t)
	got := st["users"].([]any)[0].(map[string]any)["lastLoginTime"]
	if got != env.clock.now().Format(time.RFC3339) {
		t.Fatalf("lastLoginTime %v, want %s", got, env.clock.now().Format(time.RFC3339))
	}
	env.jira("PUT", "/user?username=amy", map[string]any{"active": false}).want(t, http.StatusOK)
	env.doAuth("", "POST", "/_emulator/login", map[string]any{"username": "amy"}).want(t, http.StatusForbidden)
	env.doAuth("", "POST", "/_emulator/login", map[string]any{"username": "ghost"}).want(t, http.StatusNotFound)
	env.doAuth("", "POST", "/_emulator/login", `{"user":"amy"}`).want(t, http.StatusBadRequest)
	env.doAuth("", "GET", "/_emulator/login", nil).want(t, http.StatusMethodNotAllowed)

	if err := env.e.RecordLogin("amy"); !errors.Is(err, ErrUserInactive) {
		t.Errorf("RecordLogin inactive: %v", err)
	}
	if err := env.e.RecordLogin("ghost"); !errors.Is(err, ErrUserNotFound) {
		t.Errorf("RecordLogin unknown: %v", err)
	}
}

// Issue 3 item 5: POST /_emulator/content makes deletion fail.
func TestControlContent(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	env.doAuth("", "POST", "/_emulator/content", map[string]any{"username": "amy"}).want(t, http.StatusNoContent)
	env.jira("DELETE", "/user?username=amy", nil).want(t, http.StatusBadRequest)
	env.doAuth("", "POST", "/_emulator/content", map[string]any{"username": "ghost"}).want(t, http.StatusNotFound)
	if err := env.e.SetHasContent("ghost"); !errors.Is(err, ErrUserNotFound) {
		t.Errorf("SetHasContent unknown: %v", err)
	}
}

// POST /_emulator/reset empties the directory, switches faults off and clears the log.
func TestControlReset(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	env.e.SetFaults(Faults{LatencyMS: 1})
	env.doAuth("", "POST", "/_emulator/reset", nil).want(t, http.StatusNoContent)
	st := env.e.State()
	if len(st.Users) != 0 || len(st.Groups) != 2 || env.e.currentFaults() != (Faults{}) || len(env.e.Requests()) != 0 {
		t.Fatalf("after reset: %+v faults %+v requests %d", st, env.e.currentFaults(), len(env.e.Requests()))
	}
	// Keys start over.
	if u := env.createJiraUser("bob"); u["key"] != "JIRAUSER10100" {
		t.Fatalf("key after reset %v", u["key"])
	}
}

// POST /_emulator/users seeds pre-existing users (adoption and drift tests).
func TestControlSeedUsers(t *testing.T) {
	env := newEnv(t, Options{LicenseSeats: 1})
	body := map[string]any{"name": "Legacy", "key": "legacy", "displayName": "Old Timer", "emailAddress": "old@example.com",
		"active": false, "groups": []string{"jira-software-users", "old-group"}, "hasContent": true, "lastLoginTime": "2020-01-02T03:04:05Z"}
	got := env.doAuth("", "POST", "/_emulator/users", body).want(t, http.StatusCreated).obj(t)
	if got["name"] != "Legacy" || got["key"] != "legacy" || got["active"] != false || got["lastLoginTime"] != "2020-01-02T03:04:05Z" {
		t.Fatalf("seeded %v", got)
	}
	if ju := env.jira("GET", "/user?key=legacy", nil).want(t, http.StatusOK).obj(t); ju["name"] != "Legacy" {
		t.Fatalf("jira view %v", ju)
	}
	env.jira("DELETE", "/user?username=legacy", nil).want(t, http.StatusBadRequest) // hasContent
	env.doAuth("", "POST", "/_emulator/users", map[string]any{"name": "LEGACY"}).want(t, http.StatusConflict)
	env.doAuth("", "POST", "/_emulator/users", map[string]any{"name": "other", "key": "legacy"}).want(t, http.StatusConflict)
	env.doAuth("", "POST", "/_emulator/users", map[string]any{"name": ""}).want(t, http.StatusBadRequest)
	env.doAuth("", "POST", "/_emulator/users", map[string]any{"name": "x", "groups": []string{""}}).want(t, http.StatusBadRequest)
	// Seeding ignores the licence: two seated users on one seat.
	env.doAuth("", "POST", "/_emulator/users", map[string]any{"name": "s1", "groups": []string{"jira-software-users"}}).want(t, http.StatusCreated)
	env.doAuth("", "POST", "/_emulator/users", map[string]any{"name": "s2", "groups": []string{"jira-software-users"}}).want(t, http.StatusCreated)
	checkInvariants(t, env.e)
}

// Requests() records method, path, query and status of API calls, not of control calls.
func TestRequestLog(t *testing.T) {
	env := newEnv(t, Options{})
	env.jira("GET", "/user?username=x", nil)
	env.crowd("GET", "/user?username=x", nil)
	env.doAuth("", "GET", "/_emulator/state", nil)
	got := env.e.Requests()
	want := []RequestRecord{
		{Method: "GET", Path: "/rest/api/2/user", Query: "username=x", Status: 404},
		{Method: "GET", Path: "/rest/usermanagement/1/user", Query: "username=x", Status: 404},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("log %+v", got)
	}
	if list := env.doAuth("", "GET", "/_emulator/requests", nil).want(t, http.StatusOK).arr(t); len(list) != 2 {
		t.Fatalf("GET /_emulator/requests %v", list)
	}
	env.doAuth("", "DELETE", "/_emulator/requests", nil).want(t, http.StatusNoContent)
	if n := len(env.e.Requests()); n != 0 {
		t.Fatalf("%d records after clear", n)
	}
	env.e.ResetRequests()
}

// The request log keeps the newest maxRequestRecords entries, oldest first.
func TestRequestLogRing(t *testing.T) {
	var l requestLog
	for i := range maxRequestRecords + 5 {
		l.add(RequestRecord{Status: i})
	}
	got := l.snapshot()
	if len(got) != maxRequestRecords || got[0].Status != 5 || got[len(got)-1].Status != maxRequestRecords+4 {
		t.Fatalf("ring: len %d first %d last %d", len(got), got[0].Status, got[len(got)-1].Status)
	}
}

// AddUser errors and defaults.
func TestAddUserAPI(t *testing.T) {
	e := New(Options{})
	if err := e.AddUser(SeedUser{Name: " "}); !errors.Is(err, ErrInvalid) {
		t.Errorf("blank name: %v", err)
	}
	if err := e.AddUser(SeedUser{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := e.AddUser(SeedUser{Name: "A"}); !errors.Is(err, ErrUserExists) {
		t.Errorf("duplicate: %v", err)
	}
	st := e.State()
	if u := st.Users[0]; !u.Active || u.DisplayName != "a" || u.Key != "JIRAUSER10100" || u.LastLoginTime != nil {
		t.Errorf("defaults %+v", u)
	}
}

// Options.Validate and the version parser.
func TestOptionsValidate(t *testing.T) {
	for _, o := range []Options{{JiraVersion: "9"}, {JiraVersion: "9.x"}, {JiraVersion: "1.2.3.4"}, {LicenseSeats: -1}, {Password: "p"}} {
		if o.Validate() == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	for _, o := range []Options{{}, {JiraVersion: "10.3"}, {JiraVersion: "8.2.0", User: "u", Password: "p", LicenseSeats: 3}} {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v: %v", o, err)
		}
	}
	// New falls back to 9.12.0 on a bad version.
	if v := New(Options{JiraVersion: "bad"}).version; v.String() != "9.12.0" {
		t.Errorf("fallback version %v", v)
	}
}

// Concurrent mutations through both faces keep the directory consistent (run with -race).
func TestConcurrentMutations(t *testing.T) {
	env := newEnv(t, Options{LicenseSeats: 25})
	env.jira("POST", "/group", map[string]any{"name": "g"}).want(t, http.StatusCreated)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 15 {
				name := fmt.Sprintf("w%d-%d", w, i)
				if w%2 == 0 {
					env.jira("POST", "/user", map[string]any{"name": name, "emailAddress": name + "@x.io", "displayName": "N " + name, "applicationKeys": []string{"jira-software"}})
					env.jira("POST", "/group/user?groupname=g", map[string]any{"name": name})
					env.jira("PUT", "/user?username="+name, map[string]any{"name": strings.ToUpper(name) + "x"})
				} else {
					env.crowd("POST", "/user", crowdUserBody(name))
					env.crowd("POST", "/user/group/direct?username="+name, map[string]any{"name": "jira-software-users"})
					env.crowd("PUT", "/user?username="+name, map[string]any{"name": name, "active": i%3 == 0})
				}
				env.jira("GET", "/group/member?groupname=jira-software-users&includeInactiveUsers=true", nil)
				env.crowd("GET", "/search?entity-type=user&max-results=5", nil)
				if i%5 == 0 {
					env.jira("DELETE", "/user?username="+name, nil)
					env.crowd("DELETE", "/user?username="+name, nil)
				}
			}
		})
	}
	wg.Wait()
	checkInvariants(t, env.e)
	if used := env.e.dir.seatsUsed; used > 25 {
		t.Fatalf("%d seats used, limit 25", used)
	}
}

// checkInvariants verifies the directory's internal indexes agree with each other.
func checkInvariants(t *testing.T, e *Emulator) {
	t.Helper()
	e.mu.RLock()
	defer e.mu.RUnlock()
	d := e.dir
	if len(d.users) != len(d.byName) || len(d.users) != len(d.byID) || len(d.users) != len(d.byKey) {
		t.Fatalf("index sizes users %d byName %d byID %d byKey %d", len(d.users), len(d.byName), len(d.byID), len(d.byKey))
	}
	if !slices.IsSortedFunc(d.byName, byLowerName) {
		t.Fatal("byName unsorted")
	}
	if !slices.IsSortedFunc(d.byID, func(a, b *user) int { return int(a.id - b.id) }) {
		t.Fatal("byID unsorted")
	}
	seats := 0
	for _, u := range d.byName {
		if d.users[u.lower] != u || d.byKey[u.key] != u || strings.ToLower(u.name) != u.lower {
			t.Fatalf("user %q indexed wrongly", u.name)
		}
		access := 0
		for _, g := range u.groups {
			if d.groups[g.lower] != g || !isMember(g, u) {
				t.Fatalf("user %q lists group %q asymmetrically", u.name, g.name)
			}
			if g.access {
				access++
			}
		}
		if access != u.access {
			t.Fatalf("user %q access %d, counted %d", u.name, u.access, access)
		}
		if u.seated() {
			seats++
		}
	}
	if seats != d.seatsUsed {
		t.Fatalf("seatsUsed %d, counted %d", d.seatsUsed, seats)
	}
	for _, g := range d.groupList {
		if !slices.IsSortedFunc(g.members, byLowerName) {
			t.Fatalf("group %q members unsorted", g.name)
		}
		active := 0
		for _, u := range g.members {
			if u.active {
				active++
			}
		}
		if active != g.activeCount {
			t.Fatalf("group %q activeCount %d, counted %d", g.name, g.activeCount, active)
		}
		for _, u := range g.members {
			if d.users[u.lower] != u {
				t.Fatalf("group %q has deleted member %q", g.name, u.name)
			}
			if _, ok := slices.BinarySearchFunc(u.groups, g, byLowerGroup); !ok {
				t.Fatalf("group %q member %q asymmetric", g.name, u.name)
			}
		}
	}
}
