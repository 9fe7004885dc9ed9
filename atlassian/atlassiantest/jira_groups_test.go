package atlassiantest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// atlassian-api.md 1.8: create 201 with the Group JSON (hyphenated users keys), duplicate 400
// (case-insensitive), get 200, delete 200 then 404.
func TestJiraGroupLifecycle(t *testing.T) {
	env := newEnv(t, Options{})
	g := env.jira("POST", "/group", map[string]any{"name": "Devs"}).want(t, http.StatusCreated).obj(t)
	if g["name"] != "Devs" || g["expand"] != "users" || g["self"] != env.srv.URL+"/rest/api/2/group?groupname=Devs" {
		t.Fatalf("group %v", g)
	}
	users := g["users"].(map[string]any)
	for _, k := range []string{"size", "items", "max-results", "start-index", "end-index"} {
		if _, ok := users[k]; !ok {
			t.Errorf("users lacks %q: %v", k, users)
		}
	}
	msgs, _ := jiraEnvelope(t, env.jira("POST", "/group", map[string]any{"name": "devs"}).want(t, http.StatusBadRequest))
	if len(msgs) != 1 {
		t.Fatalf("duplicate group messages %v", msgs)
	}
	jiraEnvelope(t, env.jira("POST", "/group", map[string]any{}).want(t, http.StatusBadRequest))
	if got := env.jira("GET", "/group?groupname=DEVS", nil).want(t, http.StatusOK).obj(t); got["name"] != "Devs" {
		t.Fatalf("get %v", got)
	}
	r := env.jira("DELETE", "/group?groupname=devs", nil).want(t, http.StatusOK)
	if len(r.body) != 0 {
		t.Fatalf("delete body %q", r.body)
	}
	msgs, _ = jiraEnvelope(t, env.jira("GET", "/group?groupname=devs", nil).want(t, http.StatusNotFound))
	if len(msgs) != 1 {
		t.Fatalf("404 messages %v", msgs)
	}
	jiraEnvelope(t, env.jira("DELETE", "/group?groupname=devs", nil).want(t, http.StatusNotFound))
	jiraEnvelope(t, env.jira("GET", "/group", nil).want(t, http.StatusBadRequest))
}

// atlassian-api.md 1.8: add member 201 + group JSON, again 400, unknown user 400, unknown group
// 404; remove 200, again 400 (not a member).
func TestJiraGroupMembership(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("amy")
	env.jira("POST", "/group", map[string]any{"name": "devs"}).want(t, http.StatusCreated)
	g := env.jira("POST", "/group/user?groupname=DEVS", map[string]any{"name": "AMY"}).want(t, http.StatusCreated).obj(t)
	if g["name"] != "devs" {
		t.Fatalf("add member answered %v", g)
	}
	if u, _ := env.stateUser("amy"); !slices.Equal(u.Groups, []string{"devs"}) {
		t.Fatalf("groups %v", u.Groups)
	}
	msgs, _ := jiraEnvelope(t, env.jira("POST", "/group/user?groupname=devs", map[string]any{"name": "amy"}).want(t, http.StatusBadRequest))
	if len(msgs) != 1 || !strings.Contains(msgs[0], "already a member") {
		t.Fatalf("already-member messages %v", msgs)
	}
	jiraEnvelope(t, env.jira("POST", "/group/user?groupname=devs", map[string]any{"name": "ghost"}).want(t, http.StatusBadRequest))
	jiraEnvelope(t, env.jira("POST", "/group/user?groupname=nope", map[string]any{"name": "amy"}).want(t, http.StatusNotFound))

	env.jira("DELETE", "/group/user?groupname=devs&username=Amy", nil).want(t, http.StatusOK)
	jiraEnvelope(t, env.jira("DELETE", "/group/user?groupname=devs&username=amy", nil).want(t, http.StatusBadRequest))
	jiraEnvelope(t, env.jira("DELETE", "/group/user?groupname=nope&username=amy", nil).want(t, http.StatusNotFound))
	jiraEnvelope(t, env.jira("DELETE", "/group/user?groupname=devs&username=ghost", nil).want(t, http.StatusNotFound))
}

// atlassian-api.md 1.8: the member page has self/nextPage/maxResults/startAt/total/isLast/values,
// users ordered by username, nextPage omitted on the last page, inactive users only on request.
func TestJiraGroupMemberPaging(t *testing.T) {
	env := newEnv(t, Options{})
	env.jira("POST", "/group", map[string]any{"name": "team"}).want(t, http.StatusCreated)
	for _, n := range []string{"dave", "Carol", "bob", "alice", "eve"} {
		env.createJiraUser(n)
		env.jira("POST", "/group/user?groupname=team", map[string]any{"name": n}).want(t, http.StatusCreated)
	}
	env.jira("PUT", "/user?username=eve", map[string]any{"active": false}).want(t, http.StatusOK)

	p1 := env.jira("GET", "/group/member?groupname=team&maxResults=2", nil).want(t, http.StatusOK).obj(t)
	if p1["total"] != 4.0 || p1["isLast"] != false || p1["startAt"] != 0.0 || p1["maxResults"] != 2.0 {
		t.Fatalf("page 1 %v", p1)
	}
	if got := names(t, p1["values"].([]any)); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("page 1 values %v", got)
	}
	next, _ := p1["nextPage"].(string)
	if !strings.Contains(next, "startAt=2") || !strings.HasPrefix(next, env.srv.URL+"/rest/api/2/group/member?") {
		t.Fatalf("nextPage %q", next)
	}
	if self, _ := p1["self"].(string); !strings.Contains(self, "startAt=0") {
		t.Fatalf("self %q", self)
	}
	p2 := env.do("GET", strings.TrimPrefix(next, env.srv.URL), nil).want(t, http.StatusOK).obj(t)
	if got := names(t, p2["values"].([]any)); !slices.Equal(got, []string{"Carol", "dave"}) || p2["isLast"] != true {
		t.Fatalf("page 2 %v", p2)
	}
	if _, has := p2["nextPage"]; has {
		t.Fatalf("last page has nextPage: %v", p2)
	}
	v := p2["values"].([]any)[0].(map[string]any)
	for _, k := range []string{"self", "name", "key", "emailAddress", "displayName", "active", "timeZone", "avatarUrls"} {
		if _, ok := v[k]; !ok {
			t.Errorf("member lacks %q: %v", k, v)
		}
	}
	all := env.jira("GET", "/group/member?groupname=team&includeInactiveUsers=true", nil).want(t, http.StatusOK).obj(t)
	if all["total"] != 5.0 || len(all["values"].([]any)) != 5 || all["isLast"] != true {
		t.Fatalf("with inactive %v", all)
	}
	capped := env.jira("GET", "/group/member?groupname=team&maxResults=1000", nil).want(t, http.StatusOK).obj(t)
	if capped["maxResults"] != 50.0 {
		t.Fatalf("maxResults not capped at 50: %v", capped["maxResults"])
	}
	jiraEnvelope(t, env.jira("GET", "/group/member?groupname=nope", nil).want(t, http.StatusNotFound))
	jiraEnvelope(t, env.jira("GET", "/group/member?groupname=team&maxResults=x", nil).want(t, http.StatusBadRequest))

	// expand=users[a:b] windows (atlassian-api.md 1.8).
	g := env.jira("GET", "/group?groupname=team&expand=users[1:2]", nil).want(t, http.StatusOK).obj(t)
	u := g["users"].(map[string]any)
	if got := names(t, u["items"].([]any)); !slices.Equal(got, []string{"bob", "Carol"}) ||
		u["start-index"] != 1.0 || u["end-index"] != 2.0 || u["size"] != 5.0 {
		t.Fatalf("expand window %v", u)
	}
}

// atlassian-api.md 1.8: groups picker shape, header text and html highlighting.
func TestJiraGroupsPicker(t *testing.T) {
	env := newEnv(t, Options{})
	for _, n := range []string{"jira-developers", "Dev<ops>"} {
		env.jira("POST", "/group", map[string]any{"name": n}).want(t, http.StatusCreated)
	}
	got := env.jira("GET", "/groups/picker?query=dev", nil).want(t, http.StatusOK).obj(t)
	if got["header"] != "Showing 2 of 2 matching groups" || got["total"] != 2.0 {
		t.Fatalf("picker %v", got)
	}
	groups := got["groups"].([]any)
	first := groups[0].(map[string]any)
	if first["name"] != "Dev<ops>" || first["html"] != "<b>Dev</b>&lt;ops&gt;" {
		t.Fatalf("first suggestion %v", first)
	}
	if second := groups[1].(map[string]any); second["html"] != "jira-<b>dev</b>elopers" {
		t.Fatalf("second suggestion %v", second)
	}
	one := env.jira("GET", "/groups/picker?query=&maxResults=1&exclude=jira-administrators", nil).want(t, http.StatusOK).obj(t)
	if one["header"] != "Showing 1 of 3 matching groups" {
		t.Fatalf("limited picker %v", one)
	}
}

// atlassian-api.md 1.8: deleting a group removes its memberships (and seats).
func TestJiraDeleteGroupFreesSeats(t *testing.T) {
	env := newEnv(t, Options{LicenseSeats: 1})
	env.createJiraUser("a", "jira-software")
	env.jira("DELETE", "/group?groupname=jira-software-users", nil).want(t, http.StatusOK)
	env.createJiraUser("b", "jira-software") // recreates the default group; the seat is free again
	jiraEnvelope(t, env.jira("DELETE", "/group?groupname=jira-software-users&swapGroup=nope", nil).want(t, http.StatusNotFound))
}

// atlassian-api.md 1.8: paging skips inactive members consistently when one sits mid-list.
func TestJiraGroupMemberPagingInactiveMidList(t *testing.T) {
	env := newEnv(t, Options{})
	env.jira("POST", "/group", map[string]any{"name": "team"}).want(t, http.StatusCreated)
	for _, n := range []string{"alice", "bob", "carol", "dave", "eve"} {
		env.createJiraUser(n)
		env.jira("POST", "/group/user?groupname=team", map[string]any{"name": n}).want(t, http.StatusCreated)
	}
	env.jira("PUT", "/user?username=bob", map[string]any{"active": false}).want(t, http.StatusOK)
	for _, tc := range []struct {
		query  string
		want   []string
		total  float64
		isLast bool
	}{
		{"startAt=1&maxResults=2", []string{"carol", "dave"}, 4, false},
		{"startAt=3&maxResults=2", []string{"eve"}, 4, true},
		{"startAt=9", nil, 4, true},
		{"startAt=1&maxResults=2&includeInactiveUsers=true", []string{"bob", "carol"}, 5, false},
	} {
		p := env.jira("GET", "/group/member?groupname=team&"+tc.query, nil).want(t, http.StatusOK).obj(t)
		if got := names(t, p["values"].([]any)); !slices.Equal(got, tc.want) || p["total"] != tc.total || p["isLast"] != tc.isLast {
			t.Errorf("%s: values %v total %v isLast %v", tc.query, got, p["total"], p["isLast"])
		}
	}
}
