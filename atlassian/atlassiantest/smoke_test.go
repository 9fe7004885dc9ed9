package atlassiantest

import (
	"net/http"
	"testing"
	"time"
)

// TestSharedDirectory checks that both faces see one directory (issue 3 item 5).
func TestSharedDirectory(t *testing.T) {
	env := newEnv(t, Options{})
	created := env.createJiraUser("JDoe", "jira-software")
	if created["key"] != "JIRAUSER10100" || created["name"] != "JDoe" {
		t.Fatalf("created %v", created)
	}
	got := env.crowd("GET", "/user?username=jdoe", nil).want(t, http.StatusOK).obj(t)
	if got["name"] != "JDoe" || got["email"] != "jdoe@example.com" || got["active"] != true {
		t.Fatalf("crowd sees %v", got)
	}
	groups := env.crowd("GET", "/user/group/direct?username=JDOE", nil).want(t, http.StatusOK).obj(t)
	list := groups["groups"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["name"] != "jira-software-users" {
		t.Fatalf("crowd groups %v", groups)
	}
}

// TestSmokeErrorsAndPaging touches each face's error body, the search array and the rate limiter
// once; the detailed fidelity tests live in the per-area files.
func TestSmokeErrorsAndPaging(t *testing.T) {
	env := newEnv(t, Options{})
	env.createJiraUser("alice")
	// atlassian-api.md 1.4: unknown user → 404 with the Jira envelope.
	msgs, _ := jiraEnvelope(t, env.jira("GET", "/user?username=nobody", nil).want(t, http.StatusNotFound))
	if len(msgs) != 1 {
		t.Fatalf("errorMessages %v", msgs)
	}
	// atlassian-api.md 3.2: Crowd's reason/message.
	if reason, _ := crowdReason(t, env.crowd("GET", "/user?username=nobody", nil).want(t, http.StatusNotFound)); reason != "USER_NOT_FOUND" {
		t.Fatalf("reason %q", reason)
	}
	// atlassian-api.md 1.7: bare array.
	if got := env.jira("GET", "/user/search?username=.", nil).want(t, http.StatusOK).arr(t); len(got) != 1 {
		t.Fatalf("search %v", got)
	}
	if _, ok := env.stateUser("ALICE"); !ok {
		t.Fatal("alice not in state")
	}
	// atlassian-api.md 6.1: one token, then 429 until the clock refills it.
	env.e.SetFaults(Faults{RateLimitPerSecond: 1, Burst: 1})
	env.jira("GET", "/user?username=alice", nil).want(t, http.StatusOK)
	env.jira("GET", "/user?username=alice", nil).want(t, http.StatusTooManyRequests)
	env.clock.advance(time.Second)
	env.jira("GET", "/user?username=alice", nil).want(t, http.StatusOK)
}
