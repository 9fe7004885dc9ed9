package atlassiantest

import (
	"net/http"
	"strconv"
	"testing"
)

// lastAuthenticated returns the lastAuthenticated attribute of a Crowd user entity, "" when absent.
func lastAuthenticated(t *testing.T, u map[string]any) string {
	t.Helper()
	attrs, ok := u["attributes"].(map[string]any)
	if !ok {
		t.Fatalf("user entity without attributes: %v", u)
	}
	list, _ := attrs["attributes"].([]any)
	for _, a := range list {
		a := a.(map[string]any)
		if a["name"] == "lastAuthenticated" {
			return a["values"].([]any)[0].(string)
		}
	}
	return ""
}

// atlassian-api.md 3.4: search and member lists take expand=user,attributes ("POST /search?…
// [&expand=user,attributes]"); with it each listed user carries its attributes, without it the
// attribute list stays empty. The full reconcile reads last logins from this listing.
func TestCrowdListsExpandAttributes(t *testing.T) {
	env := newEnv(t, Options{})
	for _, n := range []string{"amy", "bob"} {
		env.crowd("POST", "/user", crowdUserBody(n)).want(t, http.StatusCreated)
		env.crowd("POST", "/user/group/direct?username="+n, map[string]any{"name": "jira-software-users"}).want(t, http.StatusCreated)
	}
	if err := env.e.RecordLogin("amy"); err != nil {
		t.Fatal(err)
	}
	want := strconv.FormatInt(env.clock.now().UnixMilli(), 10)
	restriction := map[string]any{"restriction-type": "property-search-restriction",
		"property": map[string]any{"name": "name", "type": "STRING"}, "match-mode": "STARTS_WITH", "value": ""}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/search?entity-type=user&expand=user,attributes", nil},
		{"GET", "/search?entity-type=user&expand=attributes%2Cuser", nil},
		{"POST", "/search?entity-type=user&expand=user,attributes", restriction},
		{"GET", "/group/user/direct?groupname=jira-software-users&expand=user,attributes", nil},
	} {
		users := env.crowd(tc.method, tc.path, tc.body).want(t, http.StatusOK).obj(t)["users"].([]any)
		if len(users) != 2 {
			t.Fatalf("%s %s: %d users", tc.method, tc.path, len(users))
		}
		if got := lastAuthenticated(t, users[0].(map[string]any)); got != want {
			t.Errorf("%s %s: amy's lastAuthenticated = %q, want %q", tc.method, tc.path, got, want)
		}
		if got := lastAuthenticated(t, users[1].(map[string]any)); got != "" {
			t.Errorf("%s %s: bob never logged in but lastAuthenticated = %q", tc.method, tc.path, got)
		}
	}
	// Without "attributes" the lists stay as they were: entities with an empty attribute list.
	users := env.crowd("GET", "/search?entity-type=user&expand=user", nil).want(t, http.StatusOK).obj(t)["users"].([]any)
	if got := lastAuthenticated(t, users[0].(map[string]any)); got != "" {
		t.Errorf("expand=user alone expanded attributes: %q", got)
	}
}
