package admin_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/store"
)

func TestPreview(t *testing.T) {
	h := newHarness(t, nil)
	post := func(body string) resp {
		t.Helper()
		return h.request(http.MethodPost, "/api/v1/preview", adminToken, []byte(body), map[string]string{"Content-Type": "application/json"})
	}
	ok := func(body string, want admin.PreviewResponse) {
		t.Helper()
		r := post(body)
		if r.status != http.StatusOK {
			t.Fatalf("status %d %s", r.status, r.body)
		}
		m := r.json(t)
		if got := keys(m); !slices.Equal(got, []string{"account", "groups", "reason", "skipped"}) {
			t.Errorf("keys %v", got)
		}
		if acct, _ := m["account"].(map[string]any); !slices.Equal(keys(acct), []string{"active", "display_name", "email", "username"}) {
			t.Errorf("account keys %v", keys(acct))
		}
		var got admin.PreviewResponse
		if err := json.Unmarshal(r.body, &got); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("preview of %s (-want +got):\n%s", body, d)
		}
	}

	ok(`{"tenant":"okta","groups":["jira-users","jira-devs","sales"],"user":{
		"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"Ada.Lovelace@example.com","displayName":"Ada Lovelace","active":true,
		"emails":[{"type":"home","value":"ada@home.example"},{"type":"work","value":"ada@example.com","primary":true}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":12345678901234567890},
		"somethingTheIdPInvented":{"x":[1,2,3]}}}`,
		admin.PreviewResponse{
			Account: admin.PreviewAccount{Username: "ada.lovelace", DisplayName: "Ada Lovelace", Email: "ada@example.com", Active: true},
			Groups:  []string{"jira-devs", "jira-software-users", "jira-users"},
		})
	// Entra's string booleans; no display name falls back to the username.
	ok(`{"tenant":"okta","groups":["JIRA-USERS"],"user":{"userName":"bob@example.com","active":"False","emails":[{"value":"bob@example.com"}]}}`,
		admin.PreviewResponse{
			Account: admin.PreviewAccount{Username: "bob", DisplayName: "bob", Email: "bob@example.com", Active: false},
			// The transform keeps the IdP's spelling and sorts case-insensitively.
			Groups: []string{"jira-software-users", "JIRA-USERS"},
		})
	// Out of scope: skipped, with the account still shown and the reason.
	ok(`{"tenant":"okta","groups":["sales"],"user":{"userName":"carol@example.com","emails":[{"value":"carol@example.com"}]}}`,
		admin.PreviewResponse{
			Account: admin.PreviewAccount{Username: "carol", DisplayName: "carol", Email: "carol@example.com", Active: true},
			Groups:  []string{}, Skipped: true,
			Reason: "not in any required IdP group (users.require_groups: jira-users)",
		})
	// No groups at all: out of scope too.
	r := post(`{"tenant":"okta","user":{"userName":"dan@example.com","emails":[{"value":"dan@example.com"}]}}`)
	if r.status != http.StatusOK || r.json(t)["skipped"] != true {
		t.Errorf("user without groups: %d %s, want skipped", r.status, r.body)
	}
	// No username: skipped with the reason naming the field.
	r = post(`{"tenant":"strict","user":{"emails":[{"value":"e@example.com"}]}}`)
	if m := r.json(t); r.status != http.StatusOK || m["skipped"] != true || !strings.Contains(m["reason"].(string), "mapping.username") {
		t.Errorf("user without username: %d %s", r.status, r.body)
	}

	// A rule that fails: 422 naming the field, the rule and the input.
	r = post(`{"tenant":"strict","user":{"userName":"frank","displayName":"Frank X","emails":[{"value":"f@example.com"}]}}`)
	wantError(t, r, http.StatusUnprocessableEntity, "mapping_failed", `mapping.display_name.rules[0] (template): input "Frank X": template yielded an empty value`)
	// A refused final value names the field and the value.
	r = post(`{"tenant":"okta","groups":["jira-users"],"user":{"userName":"g@example.com","emails":[{"value":"not-an-address"}]}}`)
	wantError(t, r, http.StatusUnprocessableEntity, "mapping_failed", `mapping.email: "not-an-address"`)

	// Bad input: clear 4xx.
	wantError(t, post(`{"tenant":"nope","user":{"userName":"x"}}`), http.StatusNotFound, "not_found", `there is no tenant "nope"`)
	wantError(t, post(`{"tenant":"okta","user":{"userName":"x"},"extra":1}`), http.StatusBadRequest, "bad_request", `unknown field "extra"`)
	wantError(t, post(`{"user":{"userName":"x"}}`), http.StatusBadRequest, "bad_request", `"tenant" is required`)
	wantError(t, post(`{"tenant":"okta"}`), http.StatusBadRequest, "bad_request", `"user" is required`)
	wantError(t, post(`{"tenant":"okta","user":null}`), http.StatusBadRequest, "bad_request", `"user" must be a JSON object`)
	wantError(t, post(`{"tenant":"okta","user":[1]}`), http.StatusBadRequest, "bad_request", `"user" must be a JSON object`)
	wantError(t, post(`{"tenant":"okta","user":{},"groups":"jira-users"}`), http.StatusBadRequest, "bad_request", `field "groups" has the wrong type`)
	wantError(t, post(`{"tenant":"okta","user":{}} {}`), http.StatusBadRequest, "bad_request", "data after the JSON object")
	wantError(t, post(`{"tenant":"okta",`), http.StatusBadRequest, "bad_request", "cut short")
	wantError(t, post(`[]`), http.StatusBadRequest, "bad_request", "must be a JSON object")
	wantError(t, post(``), http.StatusBadRequest, "bad_request", "the body is empty")
	wantError(t, post(`{"tenant":"okta",}`), http.StatusBadRequest, "bad_request", "syntax error")
	r = h.request(http.MethodPost, "/api/v1/preview", adminToken, []byte(`tenant=okta`), map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	wantError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "must be JSON")

	// Nothing was stored by any of it.
	ctx := context.Background()
	if users, n, err := h.db.ListUsers(ctx, "okta", store.Query{Limit: 10}); err != nil || n != 0 || len(users) != 0 {
		t.Errorf("users stored: %d, %v", n, err)
	}
	if jobs, err := h.db.PendingJobs(ctx, 10); err != nil || len(jobs) != 0 {
		t.Errorf("jobs stored: %v, %v", jobs, err)
	}
	if runs, err := h.db.ListRuns(ctx, 10); err != nil || len(runs) != 0 {
		t.Errorf("runs stored: %v, %v", runs, err)
	}
}

func TestPreviewBodyLimit(t *testing.T) {
	h := newHarness(t, func(o *admin.Options) { o.MaxBodyBytes = 1024 })
	body := `{"tenant":"okta","user":{"userName":"x","pad":"` + strings.Repeat("p", 1024) + `"}}`
	wantError(t, h.admin(http.MethodPost, "/api/v1/preview", body), http.StatusRequestEntityTooLarge, "payload_too_large", "larger than 1024 bytes")
}
