package atlassiantest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// atlassian-api.md 1.1, 1.10: PAT and basic auth; failures answer 401 with Jira's body and headers.
func TestJiraAuth(t *testing.T) {
	env := newEnv(t, Options{Token: testToken, User: testUser, Password: testPass})
	env.createJiraUser("amy")
	path := "/rest/api/2/user?username=amy"

	env.doAuth("Bearer "+testToken, "GET", path, nil).want(t, http.StatusOK)
	ok := env.doAuth(basic(testUser, testPass), "GET", path, nil).want(t, http.StatusOK)
	if ok.header.Get("X-AUSERNAME") != testUser || ok.header.Get("X-Seraph-LoginReason") != "OK" {
		t.Errorf("basic success headers %v", ok.header)
	}
	if ok.header.Get("X-AREQUESTID") == "" {
		t.Errorf("no X-AREQUESTID")
	}
	// Usernames are case-insensitive, passwords are not.
	env.doAuth(basic("ADMIN", testPass), "GET", path, nil).want(t, http.StatusOK)

	r := env.doAuth(basic(testUser, "wrong"), "GET", path, nil).want(t, http.StatusUnauthorized)
	if r.header.Get("X-Seraph-LoginReason") != "AUTHENTICATED_FAILED" {
		t.Errorf("X-Seraph-LoginReason %q", r.header.Get("X-Seraph-LoginReason"))
	}
	if !strings.Contains(string(r.body), "Basic Authentication Failure - Reason : AUTHENTICATED_FAILED") {
		t.Errorf("basic failure body %q", r.body)
	}
	if strings.Contains(string(r.body), testPass) || strings.Contains(string(r.body), "wrong") {
		t.Errorf("401 body echoes a credential")
	}
	if got, want := r.header.Get("WWW-Authenticate"), `OAuth realm="`+url.QueryEscape(env.srv.URL)+`"`; got != want {
		t.Errorf("WWW-Authenticate %q, want %q", got, want)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("basic failure Content-Type %q", ct)
	}

	r = env.doAuth("Bearer nope", "GET", path, nil).want(t, http.StatusUnauthorized)
	jiraEnvelope(t, r)
	if r.header.Get("X-Seraph-LoginReason") != "AUTHENTICATED_FAILED" {
		t.Errorf("bad PAT X-Seraph-LoginReason %q", r.header.Get("X-Seraph-LoginReason"))
	}
	r = env.doAuth("", "GET", path, nil).want(t, http.StatusUnauthorized)
	if msgs, _ := jiraEnvelope(t, r); len(msgs) != 1 {
		t.Errorf("anonymous messages %v", msgs)
	}
	env.doAuth("Basic !!!notbase64", "GET", path, nil).want(t, http.StatusUnauthorized)
	env.doAuth("Digest x", "GET", path, nil).want(t, http.StatusUnauthorized)
	// serverInfo is open to anonymous callers.
	env.doAuth("", "GET", "/rest/api/2/serverInfo", nil).want(t, http.StatusOK)
}

// atlassian-api.md 1.10: no PATs before Jira 8.14; Jira 11 turns basic auth off by default (403).
func TestJiraAuthVersionGates(t *testing.T) {
	old := newEnv(t, Options{JiraVersion: "8.13.0", Token: testToken, User: testUser, Password: testPass})
	r0 := old.doAuth("Bearer "+testToken, "GET", "/rest/api/2/user/search?username=.", nil).want(t, http.StatusUnauthorized)
	if r0.header.Get("X-Seraph-LoginReason") != "" {
		t.Errorf("8.13 treats Bearer as anonymous, yet sent X-Seraph-LoginReason %q", r0.header.Get("X-Seraph-LoginReason"))
	}
	old.doAuth(basic(testUser, testPass), "GET", "/rest/api/2/user/search?username=.", nil).want(t, http.StatusOK)

	j11 := newEnv(t, Options{JiraVersion: "11.0.0", Token: testToken, User: testUser, Password: testPass})
	r := j11.doAuth(basic(testUser, testPass), "GET", "/rest/api/2/user/search?username=.", nil).want(t, http.StatusForbidden)
	if !strings.Contains(string(r.body), "Basic Authentication has been disabled on this instance.") {
		t.Errorf("Jira 11 basic body %s", r.body)
	}
	j11.doAuth("Bearer "+testToken, "GET", "/rest/api/2/user/search?username=.", nil).want(t, http.StatusOK)
	// Crowd application auth is not Jira basic auth and still works.
	j11.crowd("GET", "/search?entity-type=user", nil).want(t, http.StatusOK)
}

// atlassian-api.md 3.1: Crowd takes the application name and password as basic auth.
func TestCrowdAuth(t *testing.T) {
	env := newEnv(t, Options{Token: testToken, User: testUser, Password: testPass})
	path := "/rest/usermanagement/1/search?entity-type=user"
	env.doAuth(basic(testUser, testPass), "GET", path, nil).want(t, http.StatusOK)
	for _, auth := range []string{"", basic(testUser, "bad"), basic("ADMIN", testPass), "Bearer " + testToken} {
		r := env.doAuth(auth, "GET", path, nil).want(t, http.StatusUnauthorized)
		if !strings.Contains(r.header.Get("WWW-Authenticate"), "Crowd REST Service") {
			t.Errorf("auth %q: WWW-Authenticate %q", auth, r.header.Get("WWW-Authenticate"))
		}
	}
}

// Options without credentials accept everyone, on both faces.
func TestNoCredentialsConfigured(t *testing.T) {
	e := New(Options{})
	env := &env{t: t, e: e}
	env.srv = newServer(t, e)
	env.doAuth("", "POST", "/rest/api/2/group", map[string]any{"name": "g"}).want(t, http.StatusCreated)
	env.doAuth("", "GET", "/rest/usermanagement/1/group?groupname=g", nil).want(t, http.StatusOK)
}
