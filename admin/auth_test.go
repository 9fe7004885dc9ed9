package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/admin"
)

// endpoints are every admin-token endpoint (and an unknown path, which must
// not tell an anonymous caller it does not exist).
var endpoints = []struct{ method, path, body string }{
	{http.MethodGet, "/api/v1/runs", ""},
	{http.MethodGet, "/api/v1/runs/1", ""},
	{http.MethodGet, "/api/v1/runs/1/results", ""},
	{http.MethodGet, "/api/v1/users/okta/u1/history", ""},
	{http.MethodPost, "/api/v1/reconcile", ""},
	{http.MethodPost, "/api/v1/reconcile?force=true", ""},
	{http.MethodPost, "/api/v1/preview", `{"tenant":"okta","user":{"userName":"a@b.c"}}`},
	{http.MethodPost, "/api/v1/login-events", `{"target":"jira","username":"x"}`},
	{http.MethodGet, "/api/v1/nope", ""},
}

func TestAuthMatrix(t *testing.T) {
	h := newHarness(t, nil)
	bad := []struct {
		name   string
		header string // Authorization; "" sends none
		detail string
	}{
		{"missing", "", "Authorization: Bearer"},
		{"wrong token", "Bearer " + adminToken + "x", "not the admin token"},
		{"tenant SCIM token", "Bearer " + scimToken, "not the admin token"},
		{"basic scheme", "Basic " + adminToken, "Authorization: Bearer"},
		{"empty bearer", "Bearer ", "Authorization: Bearer"},
		{"token without scheme", adminToken, "Authorization: Bearer"},
		{"prefix of token", "Bearer " + adminToken[:10], "not the admin token"},
	}
	for _, ep := range endpoints {
		for _, c := range bad {
			t.Run(ep.method+" "+ep.path+" "+c.name, func(t *testing.T) {
				hdr := map[string]string{}
				if c.header != "" {
					hdr["Authorization"] = c.header
				}
				r := h.request(ep.method, ep.path, "", []byte(ep.body), hdr)
				wantError(t, r, http.StatusUnauthorized, "unauthorized", c.detail)
				if got := r.header.Get("WWW-Authenticate"); !strings.HasPrefix(got, "Bearer") {
					t.Errorf("WWW-Authenticate %q, want a Bearer challenge", got)
				}
				h.noSecrets(r.body)
			})
		}
		t.Run(ep.method+" "+ep.path+" lowercase scheme with the admin token", func(t *testing.T) {
			r := h.request(ep.method, ep.path, "", []byte(ep.body), map[string]string{"Authorization": "bearer " + adminToken})
			if r.status == http.StatusUnauthorized || r.status == http.StatusForbidden {
				t.Fatalf("admin token refused: %d %s", r.status, r.body)
			}
			h.noSecrets(r.body)
		})
	}
	// The refused calls changed nothing: no run was triggered by them (only
	// the two accepted reconcile calls above reached the reconciler).
	if got := len(h.rec.calls()); got != 2 {
		t.Errorf("reconciler called %d times, want 2 (the authenticated calls only)", got)
	}
}

func TestAuthDisabled(t *testing.T) {
	h := newHarness(t, func(o *admin.Options) { o.AdminTokenHash = [32]byte{} })
	for _, ep := range endpoints {
		for _, tok := range []string{"", adminToken, "anything"} {
			r := h.request(ep.method, ep.path, tok, []byte(ep.body), nil)
			wantError(t, r, http.StatusForbidden, "forbidden", "admin API is disabled")
		}
	}
	if got := len(h.rec.calls()); got != 0 {
		t.Errorf("reconciler called %d times with the admin API disabled", got)
	}
	// The webhook does not depend on the admin token.
	r := h.signedWebhook(epoch.Unix(), []byte(`{}`))
	if r.status != http.StatusAccepted {
		t.Errorf("webhook with the admin API disabled: %d %s, want 202", r.status, r.body)
	}
}

func TestMethodNotAllowedAndNotFound(t *testing.T) {
	h := newHarness(t, nil)
	r := h.admin(http.MethodGet, "/api/v1/reconcile", "")
	wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed", "use POST")
	if r.header.Get("Allow") != "POST" {
		t.Errorf("Allow %q, want POST", r.header.Get("Allow"))
	}
	wantError(t, h.admin(http.MethodDelete, "/api/v1/runs/1", ""), http.StatusMethodNotAllowed, "method_not_allowed", "use GET")
	wantError(t, h.admin(http.MethodGet, "/api/v1/unknown", ""), http.StatusNotFound, "not_found", "no such endpoint")
	if got := len(h.rec.calls()); got != 0 {
		t.Errorf("reconciler called %d times", got)
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	h := newHarness(t, nil)
	ok := tenants(t)
	cases := map[string]admin.Options{
		"tenant without mapping": {Tenants: []admin.Tenant{{Name: "x"}}},
		"duplicate tenant":       {Tenants: []admin.Tenant{ok[0], ok[0]}},
		"unnamed tenant":         {Tenants: []admin.Tenant{{Mapping: ok[0].Mapping}}},
		"unnamed login target":   {LoginTargets: []string{""}},
	}
	for name, o := range cases {
		if _, err := admin.New(h.db, h.rec, o); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
	if _, err := admin.New(nil, h.rec, admin.Options{}); err == nil {
		t.Error("New accepted a nil store")
	}
	if _, err := admin.New(h.db, nil, admin.Options{}); err == nil {
		t.Error("New accepted a nil reconciler")
	}
}
