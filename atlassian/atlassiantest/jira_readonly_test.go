package atlassiantest

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// atlassian-api.md 1.3, 1.5, 1.6, 1.8, 7.4: with a read-only directory every Jira write is refused
// in Jira's error envelope with the text of Jira's read-only key (400 for user changes, 403 for
// memberships and groups) and changes nothing; reads still answer; the refusals stop when the
// fault is switched off.
func TestJiraReadOnlyDirectory(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("hoge")
	env.createJiraUser("other")
	env.jira("POST", "/group", map[string]any{"name": "devs"}).want(t, http.StatusCreated)
	env.jira("POST", "/group/user?groupname=devs", map[string]any{"name": "hoge"}).want(t, http.StatusCreated)
	state := func() []byte {
		return env.doAuth("", "GET", "/_emulator/state", nil).want(t, http.StatusOK).body
	}
	before := state()
	// Switched on over the control surface, as the emulator binary is driven.
	env.doAuth("", "POST", "/_emulator/faults", map[string]any{"read_only_directory": true}).want(t, http.StatusOK)

	const (
		create = "Cannot add user, all the user directories are read-only."
		edit   = "Cannot edit user, the user directory is read-only."
		del    = "Cannot delete user, the user directory is read-only."
	)
	for _, tc := range []struct {
		method, path string
		body         any
		status       int
		msg          string
	}{
		{"POST", "/user", map[string]any{"name": "new", "emailAddress": "new@example.com", "displayName": "New"}, 400, create},
		// JDUS checks the directory before the fields: an invalid create is refused the same way.
		{"POST", "/user", map[string]any{"name": ""}, 400, create},
		{"PUT", "/user?username=HOGE", map[string]any{"displayName": "Changed"}, 400, edit},
		{"PUT", "/user?username=hoge", map[string]any{"active": false}, 400, edit},
		{"PUT", "/user?username=hoge", map[string]any{"name": "hoge2"}, 400, edit},
		{"PUT", "/user/password?username=hoge", map[string]any{"password": "pw"}, 400, edit},
		{"DELETE", "/user?username=hoge", nil, 400, del},
		{"POST", "/group", map[string]any{"name": "more"}, 403, "Cannot add group, all the user directories are read-only."},
		{"DELETE", "/group?groupname=DEVS", nil, 403, "Cannot update group 'devs' because directory 'LDAP server' does not allow updates."},
		{"POST", "/group/user?groupname=devs", map[string]any{"name": "OTHER"}, 403, "You cannot add user 'other' to group 'devs'. The user's directory is read only."},
		// Already a member: the directory is checked first.
		{"POST", "/group/user?groupname=devs", map[string]any{"name": "hoge"}, 403, "You cannot add user 'hoge' to group 'devs'. The user's directory is read only."},
		{"DELETE", "/group/user?groupname=devs&username=hoge", nil, 403, "You cannot remove user 'hoge' from group 'devs'. The user's directory is read only."},
		{"POST", "/user/application?username=other&applicationKey=jira-software", nil, 403, "You cannot add user 'other' to group 'jira-software-users'. The user's directory is read only."},
		{"DELETE", "/user/application?username=other&applicationKey=jira-software", nil, 403, "You cannot remove user 'other' from group 'jira-software-users'. The user's directory is read only."},
	} {
		r := env.jira(tc.method, tc.path, tc.body)
		if r.status != tc.status {
			t.Errorf("%s %s: status %d, want %d; body %s", tc.method, tc.path, r.status, tc.status, r.body)
			continue
		}
		msgs, fields := jiraEnvelope(t, r)
		if !slices.Equal(msgs, []string{tc.msg}) || len(fields) != 0 {
			t.Errorf("%s %s: errorMessages %q errors %v, want [%q]", tc.method, tc.path, msgs, fields, tc.msg)
		}
	}
	// What does not exist is still reported as missing (JDUS looks the user up first), and
	// malformed requests are still malformed.
	env.jira("PUT", "/user?username=ghost", map[string]any{"displayName": "x"}).want(t, http.StatusNotFound)
	env.jira("DELETE", "/user?username=ghost", nil).want(t, http.StatusNotFound)
	env.jira("DELETE", "/group?groupname=ghosts", nil).want(t, http.StatusNotFound)
	env.jira("DELETE", "/group/user?groupname=ghosts&username=hoge", nil).want(t, http.StatusNotFound)
	env.jira("POST", "/user", "{").want(t, http.StatusBadRequest)

	// Reads are unaffected.
	if got := env.jira("GET", "/user?username=hoge", nil).want(t, http.StatusOK).obj(t); got["displayName"] != "hoge Doe" || got["active"] != true {
		t.Errorf("GET /user on a read-only directory = %v", got)
	}
	if vals := env.jira("GET", "/group/member?groupname=devs", nil).want(t, http.StatusOK).obj(t)["values"].([]any); len(vals) != 1 {
		t.Errorf("members of devs = %v, want hoge", vals)
	}
	if got := env.jira("GET", "/user/search?username=.", nil).want(t, http.StatusOK).arr(t); len(got) != 2 {
		t.Errorf("search found %d users, want 2", len(got))
	}
	env.jira("GET", "/groups/picker?query=dev", nil).want(t, http.StatusOK)

	if after := state(); !bytes.Equal(before, after) {
		t.Errorf("refused writes changed the directory:\nbefore %s\nafter  %s", before, after)
	}

	env.doAuth("", "POST", "/_emulator/faults", map[string]any{}).want(t, http.StatusOK)
	env.jira("PUT", "/user?username=hoge", map[string]any{"displayName": "Changed"}).want(t, http.StatusOK)
	env.jira("DELETE", "/group/user?groupname=devs&username=hoge", nil).want(t, http.StatusOK)
	env.jira("DELETE", "/user?username=other", nil).want(t, http.StatusNoContent)
}

// A missing user or group is answered in Jira's envelope with a message (atlassian-api.md 1.4,
// 1.8), which is what lets a client tell "no such user" from "no such API" (jiraNotFoundPath).
func TestJiraNotFoundIsEnveloped(t *testing.T) {
	env := newEnv(t, Options{})
	for _, tc := range []struct{ method, path string }{
		{"GET", "/user?username=ghost"},
		{"GET", "/user?key=JIRAUSER99999"},
		{"PUT", "/user?username=ghost"},
		{"DELETE", "/user?username=ghost"},
		{"GET", "/group?groupname=ghosts"},
		{"GET", "/group/member?groupname=ghosts"},
		{"DELETE", "/group?groupname=ghosts"},
		{"DELETE", "/group/user?groupname=ghosts&username=x"},
	} {
		var body any
		if tc.method == "PUT" {
			body = map[string]any{"displayName": "x"}
		}
		r := env.jira(tc.method, tc.path, body).want(t, http.StatusNotFound)
		if msgs, fields := jiraEnvelope(t, r); len(msgs) != 1 || !strings.Contains(msgs[0], "does not exist") || len(fields) != 0 {
			t.Errorf("%s %s: errorMessages %q errors %v, want one 'does not exist' message", tc.method, tc.path, msgs, fields)
		}
	}
}
