package atlassiantest

import (
	"net/http"
	"strings"
	"testing"
)

// wantCrowdError checks status, Content-Type and the {"reason","message"} body (atlassian-api.md 3.2).
func wantCrowdError(t *testing.T, r *resp, status int, reason string) string {
	t.Helper()
	r.want(t, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type %q, want application/json", ct)
	}
	got, msg := crowdReason(t, r)
	if got != reason {
		t.Errorf("reason %q, want %q (message %q)", got, reason, msg)
	}
	if msg == "" {
		t.Errorf("%s without a message", reason)
	}
	return msg
}

// atlassian-api.md 3.4: the 404s name what is missing, on every path that takes a username or a
// groupname; a missing required parameter is 400 ILLEGAL_ARGUMENT.
func TestCrowdNotFoundReasons(t *testing.T) {
	env := newEnv(t, Options{})
	env.crowd("POST", "/user", crowdUserBody("hoge")).want(t, http.StatusCreated)
	env.crowd("POST", "/group", map[string]any{"name": "devs"}).want(t, http.StatusCreated)
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		reason       string
	}{
		{"GET", "/user?key=nokey", nil, 404, "USER_NOT_FOUND"},
		{"POST", "/user/rename?username=ghost", map[string]any{"new-name": "x"}, 404, "USER_NOT_FOUND"},
		{"PUT", "/user/password?username=ghost", map[string]any{"value": "pw"}, 404, "USER_NOT_FOUND"},
		{"DELETE", "/user/password?username=ghost", nil, 404, "USER_NOT_FOUND"},
		{"GET", "/user/attribute?username=ghost", nil, 404, "USER_NOT_FOUND"},
		{"GET", "/user/group/direct?username=ghost", nil, 404, "USER_NOT_FOUND"},
		{"GET", "/user/group/nested?username=ghost", nil, 404, "USER_NOT_FOUND"},
		{"DELETE", "/user/group/direct?username=ghost&groupname=devs", nil, 404, "USER_NOT_FOUND"},
		{"DELETE", "/group/user/direct?groupname=nope&username=hoge", nil, 404, "GROUP_NOT_FOUND"},
		{"GET", "/group/user/direct?groupname=nope", nil, 404, "GROUP_NOT_FOUND"},
		{"GET", "/group/user/nested?groupname=nope", nil, 404, "GROUP_NOT_FOUND"},
		{"PUT", "/group?groupname=nope", map[string]any{"name": "nope"}, 404, "GROUP_NOT_FOUND"},
		{"DELETE", "/group?groupname=nope", nil, 404, "GROUP_NOT_FOUND"},
		{"GET", "/group/child-group/direct?groupname=nope", nil, 404, "GROUP_NOT_FOUND"},
		{"GET", "/group/user/direct?groupname=devs&username=ghost", nil, 404, "MEMBERSHIP_NOT_FOUND"},
		{"GET", "/user/group/direct?username=hoge&groupname=nope", nil, 404, "MEMBERSHIP_NOT_FOUND"},
		{"PUT", "/user", crowdUserBody("hoge"), 400, "ILLEGAL_ARGUMENT"},
		{"DELETE", "/user", nil, 400, "ILLEGAL_ARGUMENT"},
		{"GET", "/group", nil, 400, "ILLEGAL_ARGUMENT"},
		{"DELETE", "/user/group/direct?username=hoge", nil, 400, "ILLEGAL_ARGUMENT"},
		{"POST", "/user/group/direct", map[string]any{"name": "devs"}, 400, "ILLEGAL_ARGUMENT"},
		{"GET", "/group/user/direct?groupname=devs&start-index=-1", nil, 400, "ILLEGAL_ARGUMENT"},
		{"POST", "/user", "{not json", 400, "ILLEGAL_ARGUMENT"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			wantCrowdError(t, env.crowd(tc.method, tc.path, tc.body), tc.status, tc.reason)
		})
	}
	// A refused call changed nothing.
	st := env.e.State()
	if len(st.Users) != 1 || st.Users[0].Name != "hoge" || len(st.Users[0].Groups) != 0 {
		t.Fatalf("state after refused calls: %+v", st.Users)
	}
}

// atlassian-api.md 3.4: PUT /user/password {"value"} 204, DELETE 204; an empty value is 400
// INVALID_CREDENTIAL. The password is never echoed: the entity only links to it.
func TestCrowdPassword(t *testing.T) {
	env := newEnv(t, Options{})
	env.crowd("POST", "/user", crowdUserBody("hoge")).want(t, http.StatusCreated)
	env.crowd("PUT", "/user/password?username=HOGE", map[string]any{"value": "N3w-secret"}).want(t, http.StatusNoContent)
	wantCrowdError(t, env.crowd("PUT", "/user/password?username=hoge", map[string]any{"value": ""}), http.StatusBadRequest, "INVALID_CREDENTIAL")
	env.crowd("DELETE", "/user/password?username=hoge", nil).want(t, http.StatusNoContent)
	got := env.crowd("GET", "/user?username=hoge", nil).want(t, http.StatusOK)
	if strings.Contains(string(got.body), "N3w-secret") || strings.Contains(string(got.body), "S3cret!") {
		t.Fatalf("a password shows in the entity: %s", got.body)
	}
	r := env.crowd("POST", "/user/password?username=hoge", map[string]any{"value": "x"}).want(t, http.StatusMethodNotAllowed)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "PUT") || !strings.Contains(allow, "DELETE") {
		t.Errorf("405 Allow %q", allow)
	}
}

// atlassian-api.md 3.3, 3.4: GET /user/attribute answers {"attributes":[…],"link"}; a group entity
// has expand, link, name, description, type GROUP, active and attributes; child and parent group
// lists are {"expand":"group","groups":[]} (the emulator has no nested groups).
func TestCrowdAttributesGroupShapeAndNesting(t *testing.T) {
	env := newEnv(t, Options{})
	env.crowd("POST", "/user", crowdUserBody("hoge")).want(t, http.StatusCreated)
	a := env.crowd("GET", "/user/attribute?username=hoge", nil).want(t, http.StatusOK).obj(t)
	if _, ok := a["attributes"].([]any); !ok {
		t.Errorf("attribute list %v", a)
	}
	if link := a["link"].(map[string]any); link["rel"] != "self" || !strings.HasSuffix(link["href"].(string), "/rest/usermanagement/1/user/attribute?username=hoge") {
		t.Errorf("attribute link %v", link)
	}
	r := env.crowd("POST", "/group", map[string]any{"name": "Devs", "description": "d", "type": "GROUP", "active": true}).want(t, http.StatusCreated)
	if loc := r.header.Get("Location"); loc != env.srv.URL+"/rest/usermanagement/1/group?groupname=Devs" {
		t.Errorf("group create Location %q", loc)
	}
	g := env.crowd("GET", "/group?groupname=devs", nil).want(t, http.StatusOK).obj(t)
	for _, k := range []string{"expand", "link", "name", "description", "type", "active", "attributes"} {
		if _, ok := g[k]; !ok {
			t.Errorf("group entity lacks %q: %v", k, g)
		}
	}
	if g["name"] != "Devs" || g["type"] != "GROUP" {
		t.Errorf("group entity %v", g)
	}
	wantCrowdError(t, env.crowd("POST", "/group", map[string]any{"name": "x", "type": "LEGACY_ROLE"}), http.StatusBadRequest, "INVALID_GROUP")
	wantCrowdError(t, env.crowd("POST", "/group", map[string]any{"name": ""}), http.StatusBadRequest, "INVALID_GROUP")
	wantCrowdError(t, env.crowd("PUT", "/group?groupname=devs", map[string]any{"name": "other"}), http.StatusBadRequest, "INVALID_GROUP")
	for _, p := range []string{"/group/child-group/direct", "/group/child-group/nested", "/group/parent-group/direct", "/group/parent-group/nested"} {
		l := env.crowd("GET", p+"?groupname=devs", nil).want(t, http.StatusOK).obj(t)
		if l["expand"] != "group" || len(l["groups"].([]any)) != 0 {
			t.Errorf("%s: %v", p, l)
		}
	}
}

// atlassian-api.md 3.4: an added membership answers 201 with a Location and no entity; the user's
// group list shows it in the stored case; /nested equals /direct without nested groups.
func TestCrowdMembershipCreatedAnswer(t *testing.T) {
	env := newEnv(t, Options{})
	env.crowd("POST", "/user", crowdUserBody("Hoge")).want(t, http.StatusCreated)
	env.crowd("POST", "/group", map[string]any{"name": "Devs"}).want(t, http.StatusCreated)
	r := env.crowd("POST", "/user/group/direct?username=hoge", map[string]any{"name": "devs"}).want(t, http.StatusCreated)
	if loc := r.header.Get("Location"); !strings.Contains(loc, "/rest/usermanagement/1/group/user/direct?groupname=Devs&username=Hoge") {
		t.Errorf("Location %q", loc)
	}
	if len(r.body) != 0 {
		t.Errorf("201 body %q, want none", r.body)
	}
	for _, p := range []string{"/user/group/direct?username=HOGE", "/user/group/nested?username=HOGE"} {
		l := env.crowd("GET", p, nil).want(t, http.StatusOK).obj(t)
		if got := names(t, l["groups"].([]any)); len(got) != 1 || got[0] != "Devs" {
			t.Errorf("%s: %v", p, got)
		}
	}
	full := env.crowd("GET", "/user/group/direct?username=hoge&expand=group", nil).want(t, http.StatusOK).obj(t)
	if g := full["groups"].([]any)[0].(map[string]any); g["type"] != "GROUP" || g["name"] != "Devs" {
		t.Errorf("expanded group %v", g)
	}
	// The user named in the body of the mirror form must exist (400), the group in the query (404).
	wantCrowdError(t, env.crowd("POST", "/group/user/direct?groupname=devs", map[string]any{}), http.StatusBadRequest, "USER_NOT_FOUND")
}

// atlassian-api.md 1.10 and 7.3: before Jira 8.3 the Jira face cannot change "active" (400
// error.no.value.found.to.be.changed), but the Crowd API that Jira serves as a user server can:
// that is Atlassian's documented workaround (JRASERVER-37294).
func TestCrowdFaceDeactivatesOnJira82(t *testing.T) {
	env := newEnv(t, Options{JiraVersion: "8.2.0"})
	env.crowd("POST", "/user", crowdUserBody("hoge")).want(t, http.StatusCreated)
	env.jira("PUT", "/user?username=hoge", map[string]any{"name": "hoge", "active": false}).want(t, http.StatusBadRequest)
	if su, _ := env.stateUser("hoge"); !su.Active {
		t.Fatal("the refused Jira PUT deactivated the user")
	}
	body := crowdUserBody("hoge")
	body["active"] = false
	env.crowd("PUT", "/user?username=hoge", body).want(t, http.StatusNoContent)
	if su, _ := env.stateUser("hoge"); su.Active {
		t.Fatal("the Crowd PUT did not deactivate the user")
	}
	if ju := env.jira("GET", "/user?username=hoge", nil).want(t, http.StatusOK).obj(t); ju["active"] != false {
		t.Errorf("the Jira face shows active=%v", ju["active"])
	}
}
