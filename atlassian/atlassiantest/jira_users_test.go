package atlassiantest

import (
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// atlassian-api.md 1.3, 1.2, 8: create answers 201 with the full User JSON and a JIRAUSER key.
func TestJiraCreateUserShape(t *testing.T) {
	env := newEnv(t, Options{})
	u := env.createJiraUser("JDoe", "jira-software")
	wantKeys := []string{"self", "key", "name", "emailAddress", "avatarUrls", "displayName", "active",
		"deleted", "timeZone", "locale", "groups", "applicationRoles", "expand"}
	for _, k := range wantKeys {
		if _, ok := u[k]; !ok {
			t.Errorf("user JSON lacks %q: %v", k, u)
		}
	}
	if u["key"] != "JIRAUSER10100" || u["name"] != "JDoe" || u["active"] != true || u["deleted"] != false {
		t.Errorf("user %v", u)
	}
	if u["self"] != env.srv.URL+"/rest/api/2/user?username=JDoe" {
		t.Errorf("self %v", u["self"])
	}
	av := u["avatarUrls"].(map[string]any)
	for _, size := range []string{"16x16", "24x24", "32x32", "48x48"} {
		if s, _ := av[size].(string); !strings.HasPrefix(s, env.srv.URL+"/secure/useravatar?") {
			t.Errorf("avatar %s = %v", size, av[size])
		}
	}
	groups := u["groups"].(map[string]any)
	if groups["size"] != 1.0 || len(groups["items"].([]any)) != 0 {
		t.Errorf("groups without expand: %v", groups)
	}
	if _, has := u["lastLoginTime"]; has {
		t.Errorf("lastLoginTime present for a user who never logged in")
	}
	if u2 := env.createJiraUser("second"); u2["key"] != "JIRAUSER10101" {
		t.Errorf("second key %v", u2["key"])
	}
}

// atlassian-api.md 1.3, 0, 8: a duplicate username, compared case-insensitively, is a 400 field
// error on "username" with the verified text.
func TestJiraCreateDuplicate(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("JDoe")
	r := env.jira("POST", "/user", map[string]any{"name": "jdoe", "emailAddress": "x@example.com", "displayName": "X"})
	r.want(t, http.StatusBadRequest)
	msgs, fields := jiraEnvelope(t, r)
	if len(msgs) != 0 || fields["username"] != "A user with that username already exists." {
		t.Fatalf("errorMessages %v errors %v", msgs, fields)
	}
	if n := len(env.e.State().Users); n != 1 {
		t.Fatalf("%d users after refused duplicate", n)
	}
}

// atlassian-api.md 1.3: validation errors are field errors and change nothing.
func TestJiraCreateValidation(t *testing.T) {
	env := newEnv(t, Options{})
	for _, tc := range []struct {
		name  string
		body  any
		field string
	}{
		{"no name", map[string]any{"emailAddress": "a@example.com", "displayName": "A"}, "username"},
		{"angle bracket", map[string]any{"name": "a<b", "emailAddress": "a@example.com", "displayName": "A"}, "username"},
		{"ampersand", map[string]any{"name": "a&b", "emailAddress": "a@example.com", "displayName": "A"}, "username"},
		{"too long", map[string]any{"name": strings.Repeat("a", 256), "emailAddress": "a@example.com", "displayName": "A"}, "username"},
		{"no email", map[string]any{"name": "a", "displayName": "A"}, fieldEmail},
		{"bad email", map[string]any{"name": "a", "emailAddress": "not-an-email", "displayName": "A"}, fieldEmail},
		{"no display name", map[string]any{"name": "a", "emailAddress": "a@example.com"}, fieldDisplayName},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := env.jira("POST", "/user", tc.body).want(t, http.StatusBadRequest)
			if _, fields := jiraEnvelope(t, r); fields[tc.field] == "" {
				t.Fatalf("no error on %q: %s", tc.field, r.body)
			}
		})
	}
	for _, body := range []string{`{`, `[]`, `{"name":5}`, ``, `{"name":"a"} trailing`} {
		r := env.jira("POST", "/user", body).want(t, http.StatusBadRequest)
		if msgs, _ := jiraEnvelope(t, r); len(msgs) != 1 {
			t.Errorf("body %q: errorMessages %v", body, msgs)
		}
	}
	if n := len(env.e.State().Users); n != 0 {
		t.Fatalf("%d users created by invalid requests", n)
	}
}

// atlassian-api.md 0, 1.4: lookups by username are case-insensitive and echo the stored case;
// lookups by key work; 404 carries the envelope.
func TestJiraGetUser(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("JDoe")
	for _, q := range []string{"username=jdoe", "username=JDOE", "username=JDoe", "key=JIRAUSER10100"} {
		got := env.jira("GET", "/user?"+q, nil).want(t, http.StatusOK).obj(t)
		if got["name"] != "JDoe" || got["key"] != "JIRAUSER10100" {
			t.Errorf("%s: %v", q, got)
		}
	}
	msgs, _ := jiraEnvelope(t, env.jira("GET", "/user?username=ghost", nil).want(t, http.StatusNotFound))
	if !slices.Equal(msgs, []string{"The user named 'ghost' does not exist"}) {
		t.Errorf("404 messages %v", msgs)
	}
	jiraEnvelope(t, env.jira("GET", "/user?key=JIRAUSER1", nil).want(t, http.StatusNotFound))
	jiraEnvelope(t, env.jira("GET", "/user?username=jdoe&key=JIRAUSER10100", nil).want(t, http.StatusBadRequest))
	jiraEnvelope(t, env.jira("GET", "/user", nil).want(t, http.StatusBadRequest))
	// /rest/api/latest is an alias (atlassian-api.md 1).
	env.do("GET", "/rest/api/latest/user?username=jdoe", nil).want(t, http.StatusOK)
}

// atlassian-api.md 1.2: groups/applicationRoles items appear only with expand.
func TestJiraUserExpand(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy", "jira-software")
	env.jira("POST", "/group", map[string]any{"name": "devs"}).want(t, http.StatusCreated)
	env.jira("POST", "/group/user?groupname=devs", map[string]any{"name": "amy"}).want(t, http.StatusCreated)

	plain := env.jira("GET", "/user?username=amy", nil).want(t, http.StatusOK).obj(t)
	g := plain["groups"].(map[string]any)
	if g["size"] != 2.0 || len(g["items"].([]any)) != 0 {
		t.Fatalf("unexpanded groups %v", g)
	}
	full := env.jira("GET", "/user?username=amy&expand=groups,applicationRoles", nil).want(t, http.StatusOK).obj(t)
	var names []string
	for _, it := range full["groups"].(map[string]any)["items"].([]any) {
		m := it.(map[string]any)
		names = append(names, m["name"].(string))
		if !strings.Contains(m["self"].(string), "/rest/api/2/group?groupname=") {
			t.Errorf("group self %v", m["self"])
		}
	}
	if !slices.Equal(names, []string{"devs", "jira-software-users"}) {
		t.Fatalf("expanded groups %v", names)
	}
	roles := full["applicationRoles"].(map[string]any)
	if roles["size"] != 1.0 || roles["items"].([]any)[0].(map[string]any)["key"] != "jira-software" {
		t.Fatalf("application roles %v", roles)
	}
}

// atlassian-api.md 1.5, 1.2, 7.10: rename keeps the key and memberships; case-only renames are not
// renames; renaming onto an existing user is refused.
func TestJiraRenameKeepsKey(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("jdoe", "jira-software")
	env.createJiraUser("other")
	got := env.jira("PUT", "/user?username=JDOE", map[string]any{"name": "John.Doe"}).want(t, http.StatusOK).obj(t)
	if got["name"] != "John.Doe" || got["key"] != "JIRAUSER10100" {
		t.Fatalf("renamed %v", got)
	}
	env.jira("GET", "/user?username=jdoe", nil).want(t, http.StatusNotFound)
	if u := env.jira("GET", "/user?key=JIRAUSER10100", nil).want(t, http.StatusOK).obj(t); u["name"] != "John.Doe" {
		t.Fatalf("by key after rename %v", u)
	}
	page := env.jira("GET", "/group/member?groupname=jira-software-users", nil).want(t, http.StatusOK).obj(t)
	if v := page["values"].([]any); len(v) != 1 || v[0].(map[string]any)["name"] != "John.Doe" {
		t.Fatalf("members after rename %v", page)
	}
	// Case-only: not a rename, stored case unchanged (JDUS equalsInLowerCase).
	got = env.jira("PUT", "/user?username=john.doe", map[string]any{"name": "JOHN.DOE"}).want(t, http.StatusOK).obj(t)
	if got["name"] != "John.Doe" {
		t.Fatalf("case-only rename changed the name to %v", got["name"])
	}
	r := env.jira("PUT", "/user?username=john.doe", map[string]any{"name": "OTHER"}).want(t, http.StatusBadRequest)
	if _, f := jiraEnvelope(t, r); f["username"] != msgUserExists {
		t.Fatalf("rename onto existing: %s", r.body)
	}
	env.jira("PUT", "/user?username=ghost", map[string]any{"name": "x"}).want(t, http.StatusNotFound)
}

// atlassian-api.md 1.5: fields present override, skipped fields are unchanged.
func TestJiraUpdateFields(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	got := env.jira("PUT", "/user?username=amy", map[string]any{"emailAddress": "amy@new.example"}).want(t, http.StatusOK).obj(t)
	if got["emailAddress"] != "amy@new.example" || got["displayName"] != "amy Doe" {
		t.Fatalf("after email change %v", got)
	}
	got = env.jira("PUT", "/user?username=amy", map[string]any{"displayName": "Amy Pond"}).want(t, http.StatusOK).obj(t)
	if got["emailAddress"] != "amy@new.example" || got["displayName"] != "Amy Pond" {
		t.Fatalf("after display change %v", got)
	}
	r := env.jira("PUT", "/user?username=amy", map[string]any{"emailAddress": "broken"}).want(t, http.StatusBadRequest)
	if _, f := jiraEnvelope(t, r); f[fieldEmail] == "" {
		t.Fatalf("bad email: %s", r.body)
	}
}

// atlassian-api.md 1.5, 1.7: PUT active (bool or string) deactivates and reactivates; search hides
// inactive users unless asked.
func TestJiraDeactivate(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	got := env.jira("PUT", "/user?username=amy", map[string]any{"name": "amy", "active": false}).want(t, http.StatusOK).obj(t)
	if got["active"] != false {
		t.Fatalf("after deactivate %v", got)
	}
	if res := env.jira("GET", "/user/search?username=amy", nil).want(t, http.StatusOK).arr(t); len(res) != 0 {
		t.Fatalf("default search returned inactive user: %v", res)
	}
	if res := env.jira("GET", "/user/search?username=amy&includeInactive=true", nil).want(t, http.StatusOK).arr(t); len(res) != 1 {
		t.Fatalf("includeInactive search: %v", res)
	}
	if res := env.jira("GET", "/user/search?username=amy&includeInactive=true&includeActive=false", nil).want(t, http.StatusOK).arr(t); len(res) != 1 {
		t.Fatalf("inactive-only search: %v", res)
	}
	// PYAPI sends "active":"true" as a string.
	got = env.jira("PUT", "/user?username=amy", map[string]any{"name": "amy", "active": "true"}).want(t, http.StatusOK).obj(t)
	if got["active"] != true {
		t.Fatalf("after string reactivate %v", got)
	}
	jiraEnvelope(t, env.jira("PUT", "/user?username=amy", map[string]any{"active": "maybe"}).want(t, http.StatusBadRequest))
}

// atlassian-api.md 1.1, 1.5, 7.3: before 8.3 `active` is ignored on PUT and a body that changes
// nothing else gets error.no.value.found.to.be.changed.
func TestJiraVersionSwitchActive(t *testing.T) {
	env := newEnv(t, Options{JiraVersion: "8.2.0"})
	env.createJiraUser("amy")
	for _, body := range []map[string]any{{"active": false}, {"name": "amy", "active": "false"}} {
		r := env.jira("PUT", "/user?username=amy", body).want(t, http.StatusBadRequest)
		msgs, fields := jiraEnvelope(t, r)
		if !slices.Equal(msgs, []string{"error.no.value.found.to.be.changed"}) || len(fields) != 0 {
			t.Fatalf("8.2 PUT %v: %s", body, r.body)
		}
	}
	got := env.jira("PUT", "/user?username=amy", map[string]any{"active": false, "displayName": "Amy New"}).want(t, http.StatusOK).obj(t)
	if got["active"] != true || got["displayName"] != "Amy New" {
		t.Fatalf("8.2 PUT with another change: %v", got)
	}
	if u, _ := env.stateUser("amy"); !u.Active {
		t.Fatal("8.2 deactivated the user")
	}
	// Nor does 8.2 honour it on create: the user comes out active.
	created := env.jira("POST", "/user", map[string]any{"name": "bo", "emailAddress": "bo@example.com", "displayName": "Bo",
		"active": false}).want(t, http.StatusCreated).obj(t)
	if u, _ := env.stateUser("bo"); created["active"] != true || !u.Active {
		t.Fatalf("8.2 create with active=false: %v, state %+v", created, u)
	}
	// 8.3 honours it.
	env83 := newEnv(t, Options{JiraVersion: "8.3.0"})
	env83.createJiraUser("amy")
	if got := env83.jira("PUT", "/user?username=amy", map[string]any{"active": false}).want(t, http.StatusOK).obj(t); got["active"] != false {
		t.Fatalf("8.3 PUT active: %v", got)
	}
}

// atlassian-api.md 1.2: before 8.4 the key is the first username (lower case); since 8.4 JIRAUSER.
func TestJiraKeysByVersion(t *testing.T) {
	env := newEnv(t, Options{JiraVersion: "8.3.0"})
	if u := env.createJiraUser("Fred"); u["key"] != "fred" {
		t.Fatalf("8.3 key %v", u["key"])
	}
	env.jira("PUT", "/user?username=fred", map[string]any{"name": "frederick"}).want(t, http.StatusOK)
	// "fred" is still the renamed user's key, so a new fred needs another key.
	if u := env.createJiraUser("fred"); u["key"] == "fred" {
		t.Fatalf("new fred reused the renamed user's key")
	}
}

// atlassian-api.md 1.6, 7.2: delete is 204; a user with content is refused with 400 and one
// errorMessages entry; deleting yourself is refused.
func TestJiraDeleteUser(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy", "jira-software")
	env.createJiraUser("bob")
	env.jira("DELETE", "/user?username=AMY", nil).want(t, http.StatusNoContent)
	env.jira("GET", "/user?username=amy", nil).want(t, http.StatusNotFound)
	jiraEnvelope(t, env.jira("DELETE", "/user?username=amy", nil).want(t, http.StatusNotFound))
	for _, g := range env.e.State().Groups {
		if len(g.Members) != 0 {
			t.Fatalf("deleted user still in %s: %v", g.Name, g.Members)
		}
	}

	if err := env.e.SetHasContent("bob"); err != nil {
		t.Fatal(err)
	}
	r := env.jira("DELETE", "/user?username=bob", nil).want(t, http.StatusBadRequest)
	msgs, _ := jiraEnvelope(t, r)
	if len(msgs) != 1 || !strings.Contains(msgs[0], "'bob'") {
		t.Fatalf("veto messages %v", msgs)
	}
	if _, ok := env.stateUser("bob"); !ok {
		t.Fatal("vetoed delete removed the user")
	}

	if err := env.e.AddUser(SeedUser{Name: testUser}); err != nil {
		t.Fatal(err)
	}
	jiraEnvelope(t, env.jira("DELETE", "/user?username="+testUser, nil).want(t, http.StatusBadRequest))
}

// atlassian-api.md 1.7: prefix matches on username, email and display-name words, ordered, paged.
func TestJiraSearchMatches(t *testing.T) {
	env := newEnv(t, Options{})
	env.jira("POST", "/user", map[string]any{"name": "jsmith", "emailAddress": "john@corp.example", "displayName": "John Smith"}).want(t, http.StatusCreated)
	env.jira("POST", "/user", map[string]any{"name": "ajones", "emailAddress": "alice@corp.example", "displayName": "Alice Jones"}).want(t, http.StatusCreated)
	for q, want := range map[string][]string{
		"js":     {"jsmith"},
		"JOHN":   {"jsmith"},
		"smi":    {"jsmith"},
		"alice@": {"ajones"},
		"jones":  {"ajones"},
		".":      {"ajones", "jsmith"},
		"zzz":    nil,
	} {
		var got []string
		for _, u := range env.jira("GET", "/user/search?username="+q, nil).want(t, http.StatusOK).arr(t) {
			got = append(got, u.(map[string]any)["name"].(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("search %q = %v, want %v", q, got, want)
		}
	}
	jiraEnvelope(t, env.jira("GET", "/user/search", nil).want(t, http.StatusBadRequest))
	jiraEnvelope(t, env.jira("GET", "/user/search?username=.&startAt=-1", nil).want(t, http.StatusBadRequest))
}

func seedUsers(t *testing.T, e *Emulator, n int, prefix string) {
	t.Helper()
	for i := range n {
		if err := e.AddUser(SeedUser{Name: fmt.Sprintf("%s%04d", prefix, i), EmailAddress: fmt.Sprintf("%s%04d@example.com", prefix, i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func names(t *testing.T, list []any) []string {
	t.Helper()
	out := make([]string, 0, len(list))
	for _, u := range list {
		out = append(out, u.(map[string]any)["name"].(string))
	}
	return out
}

// atlassian-api.md 1.7: startAt/maxResults paging (default 50); on 10.x at most 100 per page and
// only the first 100 results (startAt=98&maxResults=20 returns 2).
func TestJiraSearchPaging(t *testing.T) {
	env := newEnv(t, Options{})
	seedUsers(t, env.e, 120, "u")
	if got := env.jira("GET", "/user/search?username=u", nil).arr(t); len(got) != 50 {
		t.Fatalf("default page %d", len(got))
	}
	got := names(t, env.jira("GET", "/user/search?username=u&startAt=100&maxResults=50", nil).arr(t))
	if len(got) != 20 || got[0] != "u0100" {
		t.Fatalf("9.12 page at 100: %d from %v", len(got), got[:1])
	}

	env10 := newEnv(t, Options{JiraVersion: "10.3.0"})
	seedUsers(t, env10.e, 120, "u")
	if got := env10.jira("GET", "/user/search?username=u&startAt=98&maxResults=20", nil).arr(t); len(got) != 2 {
		t.Fatalf("10.x startAt=98&maxResults=20 returned %d, want 2", len(got))
	}
	if got := env10.jira("GET", "/user/search?username=u&maxResults=500", nil).arr(t); len(got) != 100 {
		t.Fatalf("10.x maxResults=500 returned %d, want 100", len(got))
	}
}

// atlassian-api.md 1.7: /user/list exists from 10.3; StreamPage with cursor paging, inactive users
// included, no duplicates, never 404 on an unknown cursor.
func TestJiraUserList(t *testing.T) {
	old := newEnv(t, Options{})
	old.jira("GET", "/user/list", nil).want(t, http.StatusNotFound)

	env := newEnv(t, Options{JiraVersion: "10.3.0"})
	seedUsers(t, env.e, 5, "u")
	env.jira("PUT", "/user?username=u0002", map[string]any{"active": false}).want(t, http.StatusOK)

	var all []string
	path := "/rest/api/2/user/list?maxResults=2"
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("no isLast after 5 pages")
		}
		p := env.do("GET", strings.TrimPrefix(path, env.srv.URL), nil).want(t, http.StatusOK).obj(t)
		if p["maxResults"] != 2.0 || p["self"] == nil {
			t.Fatalf("page %v", p)
		}
		all = append(all, names(t, p["values"].([]any))...)
		if p["isLast"] == true {
			if _, has := p["nextCursor"]; has {
				t.Fatalf("last page has nextCursor: %v", p)
			}
			break
		}
		if p["nextCursor"] == nil {
			t.Fatalf("non-last page without nextCursor: %v", p)
		}
		path = p["nextPage"].(string)
		if !strings.Contains(path, "cursor="+p["nextCursor"].(string)) {
			t.Fatalf("nextPage %q does not carry nextCursor %v", path, p["nextCursor"])
		}
	}
	if want := []string{"u0000", "u0001", "u0002", "u0003", "u0004"}; !slices.Equal(all, want) {
		t.Fatalf("streamed %v, want %v", all, want)
	}
	// Unknown cursors are not 404.
	for _, c := range []string{"999999999", "0", "-5"} {
		env.jira("GET", "/user/list?cursor="+c, nil).want(t, http.StatusOK)
	}
}

// atlassian-api.md 1.9, 1.3: a seat is taken by an active user in an access group; going past the
// limit is refused with 400 and the licence message and changes nothing.
func TestJiraLicence(t *testing.T) {
	env := newEnv(t, Options{LicenseSeats: 2})
	env.createJiraUser("a", "jira-software")
	env.createJiraUser("b", "jira-software", "jira-core") // two access groups, one seat
	r := env.jira("POST", "/user", map[string]any{"name": "c", "emailAddress": "c@example.com", "displayName": "C", "applicationKeys": []string{"jira-software"}})
	msgs, _ := jiraEnvelope(t, r.want(t, http.StatusBadRequest))
	if !slices.Equal(msgs, []string{msgLicence}) {
		t.Fatalf("licence messages %v", msgs)
	}
	if _, ok := env.stateUser("c"); ok {
		t.Fatal("refused create left a user behind")
	}
	// No application: no seat.
	env.createJiraUser("c")
	jiraEnvelope(t, env.jira("POST", "/group/user?groupname=jira-software-users", map[string]any{"name": "c"}).want(t, http.StatusBadRequest))
	jiraEnvelope(t, env.jira("POST", "/user/application?username=c&applicationKey=jira-software", nil).want(t, http.StatusBadRequest))
	// Admin groups grant access and count too.
	jiraEnvelope(t, env.jira("POST", "/group/user?groupname=jira-administrators", map[string]any{"name": "c"}).want(t, http.StatusBadRequest))
	// Non-access groups are fine.
	env.jira("POST", "/group", map[string]any{"name": "plain"}).want(t, http.StatusCreated)
	env.jira("POST", "/group/user?groupname=plain", map[string]any{"name": "c"}).want(t, http.StatusCreated)
	// Deactivating a frees a seat.
	env.jira("PUT", "/user?username=a", map[string]any{"active": false}).want(t, http.StatusOK)
	env.jira("POST", "/group/user?groupname=jira-software-users", map[string]any{"name": "c"}).want(t, http.StatusCreated)
	// Now a cannot come back.
	msgs, _ = jiraEnvelope(t, env.jira("PUT", "/user?username=a", map[string]any{"active": true}).want(t, http.StatusBadRequest))
	if !slices.Equal(msgs, []string{msgLicence}) {
		t.Fatalf("reactivation messages %v", msgs)
	}
	if u, _ := env.stateUser("a"); u.Active {
		t.Fatal("refused reactivation activated the user")
	}
	// Inactive users can be created with access: they take no seat.
	env.jira("POST", "/user", map[string]any{"name": "d", "emailAddress": "d@example.com", "displayName": "D",
		"applicationKeys": []string{"jira-software"}, "active": false}).want(t, http.StatusCreated)
}

// atlassian-api.md 1.7: /user/application adds and removes the default group.
func TestJiraUserApplication(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	env.jira("POST", "/user/application?username=amy&applicationKey=jira-core", nil).want(t, http.StatusOK)
	if u, _ := env.stateUser("amy"); !slices.Equal(u.Groups, []string{"jira-core-users"}) {
		t.Fatalf("groups after add %v", u.Groups)
	}
	env.jira("DELETE", "/user/application?username=amy&applicationKey=jira-core", nil).want(t, http.StatusOK)
	if u, _ := env.stateUser("amy"); len(u.Groups) != 0 {
		t.Fatalf("groups after remove %v", u.Groups)
	}
	jiraEnvelope(t, env.jira("POST", "/user/application?username=amy&applicationKey=nope", nil).want(t, http.StatusBadRequest))
	jiraEnvelope(t, env.jira("POST", "/user/application?username=ghost&applicationKey=jira-core", nil).want(t, http.StatusNotFound))
}

// atlassian-api.md 1.5: PUT /user/password.
func TestJiraSetPassword(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	env.jira("PUT", "/user/password?username=amy", map[string]any{"password": "n3w"}).want(t, http.StatusNoContent)
	jiraEnvelope(t, env.jira("PUT", "/user/password?username=amy", map[string]any{}).want(t, http.StatusBadRequest))
	jiraEnvelope(t, env.jira("PUT", "/user/password?username=ghost", map[string]any{"password": "x"}).want(t, http.StatusNotFound))
}

// atlassian-api.md 7.3: serverInfo carries the configured version.
func TestJiraServerInfo(t *testing.T) {
	env := newEnv(t, Options{JiraVersion: "10.3.2"})
	info := env.doAuth("", "GET", "/rest/api/2/serverInfo", nil).want(t, http.StatusOK).obj(t)
	if info["version"] != "10.3.2" || !reflect.DeepEqual(info["versionNumbers"], []any{10.0, 3.0, 2.0}) {
		t.Fatalf("serverInfo %v", info)
	}
	if me := env.jira("GET", "/myself", nil).want(t, http.StatusOK).obj(t); me["name"] != testUser {
		t.Fatalf("myself %v", me)
	}
}

// Unknown paths and methods.
func TestJiraUnknownPaths(t *testing.T) {
	env := newEnv(t, Options{})
	jiraEnvelope(t, env.jira("GET", "/nothing/here", nil).want(t, http.StatusNotFound))
	r := env.jira("PATCH", "/user?username=x", nil).want(t, http.StatusMethodNotAllowed)
	if r.header.Get("Allow") == "" {
		t.Fatal("405 without Allow")
	}
	env.do("GET", "/elsewhere", nil).want(t, http.StatusNotFound)
}

// atlassian-api.md 1.5 (JDUS admin.errors.users.cannot.deactivate.currently.logged.in): the caller
// cannot deactivate itself; the refusal is a 400 envelope and changes nothing.
func TestJiraDeactivateSelfRefused(t *testing.T) {
	env := newEnv(t, Options{})
	if err := env.e.AddUser(SeedUser{Name: "Admin", EmailAddress: "admin@example.com"}); err != nil {
		t.Fatal(err)
	}
	env.createJiraUser("amy")
	// The PAT belongs to the configured user (testUser, "admin"), compared case-insensitively.
	r := env.jira("PUT", "/user?username=admin", map[string]any{"active": false}).want(t, http.StatusBadRequest)
	if msgs, fields := jiraEnvelope(t, r); len(msgs) != 1 || len(fields) != 0 {
		t.Fatalf("self-deactivation: %s", r.body)
	}
	if u, _ := env.stateUser("admin"); !u.Active {
		t.Fatal("refused self-deactivation deactivated the caller")
	}
	// Other changes to oneself, and deactivating someone else, are allowed.
	env.jira("PUT", "/user?username=admin", map[string]any{"displayName": "The Admin"}).want(t, http.StatusOK)
	env.jira("PUT", "/user?username=amy", map[string]any{"active": false}).want(t, http.StatusOK)
}

// atlassian-api.md 1.2: lastLoginTime is part of the User JSON once the user has logged in (absent
// before); /_emulator/login records it, and the state document shows the same instant in RFC 3339.
func TestJiraLastLoginTimeOverHTTP(t *testing.T) {
	env := newEnv(t, Options{JiraVersion: "10.3.0"})
	env.createJiraUser("amy")
	if u := env.jira("GET", "/user?username=amy", nil).want(t, http.StatusOK).obj(t); u["lastLoginTime"] != nil {
		t.Fatalf("lastLoginTime before any login: %v", u["lastLoginTime"])
	}
	env.clock.advance(90*time.Minute + 123456789*time.Nanosecond)
	env.doAuth("", "POST", "/_emulator/login", map[string]any{"username": "AMY"}).want(t, http.StatusNoContent)
	// Recorded to the millisecond, Jira's precision, so every view shows the same instant.
	want := env.clock.now().Truncate(time.Millisecond)
	for _, path := range []string{"/user?username=amy", "/user/search?username=amy", "/user/list"} {
		r := env.jira("GET", path, nil).want(t, http.StatusOK)
		var u map[string]any
		switch path {
		case "/user?username=amy":
			u = r.obj(t)
		case "/user/search?username=amy":
			u = r.arr(t)[0].(map[string]any)
		default:
			u = r.obj(t)["values"].([]any)[0].(map[string]any)
		}
		s, _ := u["lastLoginTime"].(string)
		got, err := time.Parse(jiraTimeFormat, s)
		if err != nil || !got.Equal(want) {
			t.Errorf("%s: lastLoginTime %q (%v), want %v", path, s, err, want)
		}
	}
	st := env.doAuth("", "GET", "/_emulator/state", nil).want(t, http.StatusOK).obj(t)
	if got := st["users"].([]any)[0].(map[string]any)["lastLoginTime"]; got != "2026-03-01T13:30:00.123Z" {
		t.Errorf("state lastLoginTime %v, want 2026-03-01T13:30:00.123Z (%v)", got, want)
	}
}

// atlassian-api.md 1.9: /user/application refused for the licence changes nothing, not even by
// creating the application's missing default group.
func TestJiraUserApplicationLicenceChangesNothing(t *testing.T) {
	env := newEnv(t, Options{LicenseSeats: 1})
	env.createJiraUser("a", "jira-software")
	env.createJiraUser("b")
	before := env.e.State()
	r := env.jira("POST", "/user/application?username=b&applicationKey=jira-core", nil).want(t, http.StatusBadRequest)
	if msgs, _ := jiraEnvelope(t, r); !slices.Equal(msgs, []string{msgLicence}) {
		t.Fatalf("licence messages %v", msgs)
	}
	if after := env.e.State(); !reflect.DeepEqual(after, before) {
		t.Fatalf("refused request changed the directory:\nbefore %+v\nafter  %+v", before, after)
	}
	// An inactive user takes no seat, so the same request succeeds for it.
	env.jira("PUT", "/user?username=b", map[string]any{"active": false}).want(t, http.StatusOK)
	env.jira("POST", "/user/application?username=b&applicationKey=jira-core", nil).want(t, http.StatusOK)
	if u, _ := env.stateUser("b"); !slices.Equal(u.Groups, []string{"jira-core-users"}) {
		t.Fatalf("groups after add %v", u.Groups)
	}
}

// atlassian-api.md 1.9: deleting a seated user, or renaming one, frees or keeps its seat exactly once.
func TestJiraDeleteUserFreesSeat(t *testing.T) {
	env := newEnv(t, Options{LicenseSeats: 1})
	env.createJiraUser("a", "jira-software")
	env.jira("PUT", "/user?username=a", map[string]any{"name": "A2"}).want(t, http.StatusOK)
	r := env.jira("POST", "/user", map[string]any{"name": "b", "emailAddress": "b@example.com", "displayName": "B", "applicationKeys": []string{"jira-core"}})
	if msgs, _ := jiraEnvelope(t, r.want(t, http.StatusBadRequest)); !slices.Equal(msgs, []string{msgLicence}) {
		t.Fatalf("renamed user no longer holds its seat: %v", msgs)
	}
	env.jira("DELETE", "/user?username=a2", nil).want(t, http.StatusNoContent)
	env.createJiraUser("b", "jira-core")
	checkInvariants(t, env.e)
}
