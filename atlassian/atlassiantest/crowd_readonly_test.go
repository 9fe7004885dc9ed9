package atlassiantest

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

// atlassian-api.md 7.4, 3.4: with a read-only directory every Crowd write is refused with 403
// APPLICATION_PERMISSION_DENIED and the documented "does not allow updates" sentence, and changes
// nothing; reads and searches still answer.
func TestCrowdReadOnlyDirectory(t *testing.T) {
	env := newEnv(t, Options{})
	env.crowd("POST", "/user", crowdUserBody("hoge")).want(t, http.StatusCreated)
	env.crowd("POST", "/group", map[string]any{"name": "devs"}).want(t, http.StatusCreated)
	env.crowd("POST", "/user/group/direct?username=hoge", map[string]any{"name": "devs"}).want(t, http.StatusCreated)
	before := env.e.State()
	// Switched on over the control surface, as the emulator binary is driven.
	env.doAuth("", "POST", "/_emulator/faults", map[string]any{"read_only_directory": true}).want(t, http.StatusOK)
	full := crowdUserBody("hoge")
	full["active"] = false
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/user", crowdUserBody("new")},
		{"PUT", "/user?username=hoge", full},
		{"POST", "/user/rename?username=hoge", map[string]any{"new-name": "hoge2"}},
		{"DELETE", "/user?username=hoge", nil},
		{"PUT", "/user/password?username=hoge", map[string]any{"value": "pw"}},
		{"DELETE", "/user/password?username=hoge", nil},
		{"POST", "/group", map[string]any{"name": "more"}},
		{"PUT", "/group?groupname=devs", map[string]any{"name": "devs", "description": "x"}},
		{"DELETE", "/group?groupname=devs", nil},
		{"POST", "/user/group/direct?username=hoge", map[string]any{"name": "jira-software-users"}},
		{"POST", "/group/user/direct?groupname=jira-software-users", map[string]any{"name": "hoge"}},
		{"DELETE", "/user/group/direct?username=hoge&groupname=devs", nil},
		{"DELETE", "/group/user/direct?groupname=devs&username=hoge", nil},
	} {
		msg := wantCrowdError(t, env.crowd(tc.method, tc.path, tc.body), http.StatusForbidden, "APPLICATION_PERMISSION_DENIED")
		if !strings.Contains(msg, "does not allow updates") {
			t.Errorf("%s %s: message %q", tc.method, tc.path, msg)
		}
	}
	if got := env.crowd("GET", "/group?groupname=devs", nil).want(t, http.StatusOK).obj(t); got["description"] != "" {
		t.Errorf("group changed: %v", got)
	}
	env.crowd("GET", "/user?username=hoge", nil).want(t, http.StatusOK)
	env.crowd("GET", "/group/user/direct?groupname=devs", nil).want(t, http.StatusOK)
	env.crowd("POST", "/search?entity-type=user", nil).want(t, http.StatusOK)
	after := env.e.State()
	if len(after.Users) != len(before.Users) || !after.Users[0].Active || !slices.Equal(after.Users[0].Groups, before.Users[0].Groups) || len(after.Groups) != len(before.Groups) {
		t.Errorf("refused writes changed the directory:\nbefore %+v\nafter  %+v", before, after)
	}
	env.doAuth("", "POST", "/_emulator/faults", map[string]any{}).want(t, http.StatusOK)
	env.crowd("DELETE", "/user?username=hoge", nil).want(t, http.StatusNoContent)
}
