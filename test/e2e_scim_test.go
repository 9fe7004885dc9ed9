package test

// SCIM requests shaped as Okta and Entra ID send them
// (shared/docs/idp-scim-clients.md sections 2 and 3, and the transcripts
// under testdata/idp), for the end-to-end flows. Every helper updates the
// oracle's model only after scimbridge accepted the request.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// scimClient talks to one tenant of a running scimbridge.
type scimClient struct {
	root, tenant, token string
	http                *http.Client
	headers             map[string]string // the IdP's own headers on every request
	contentType         string
}

// oktaClient is the okta tenant with Okta's headers (2.1).
func (e *e2eEnv) oktaClient() *scimClient {
	return &scimClient{root: e.root(), tenant: "okta", token: binOktaToken, http: e.client,
		headers:     map[string]string{"User-Agent": "Okta SCIM Client 1.0.0", "Accept": "application/scim+json", "Accept-Charset": "utf-8"},
		contentType: "application/scim+json; charset=utf-8"}
}

// entraClient is the entra tenant with Entra's headers.
func (e *e2eEnv) entraClient() *scimClient {
	return &scimClient{root: e.root(), tenant: "entra", token: e2eEntraToken, http: e.client,
		headers: map[string]string{"User-Agent": "Microsoft.AAD.Provisioning"}, contentType: "application/scim+json"}
}

// call sends one request and requires one of the wanted statuses; it returns
// the decoded JSON answer (nil for an empty one).
func (c *scimClient) call(t *testing.T, method, path string, body any, want ...int) map[string]any {
	t.Helper()
	doc, err := c.callErr(t.Context(), method, path, body, want...)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func (c *scimClient) callErr(ctx context.Context, method, path string, body any, want ...int) (map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.root+"/scim/v2/"+c.tenant+path, rd)
	if err != nil {
		return nil, err
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", c.contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", c.tenant, method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: read answer: %w", c.tenant, method, path, err)
	}
	ok := false
	for _, w := range want {
		ok = ok || resp.StatusCode == w
	}
	if !ok {
		return nil, fmt.Errorf("%s %s %s: status %d, want %v: %s", c.tenant, method, path, resp.StatusCode, want, clip(data))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s %s %s: decode %s: %w", c.tenant, method, path, clip(data), err)
	}
	return doc, nil
}

// filterPath is path?filter=<f> with the filter URL-encoded, plus extra
// query text.
func filterPath(path, f, extra string) string {
	return path + "?" + extra + "filter=" + url.QueryEscape(f)
}

// requireNone checks that a lookup found nothing.
func requireNone(t *testing.T, doc map[string]any, what string) {
	t.Helper()
	if n, _ := doc["totalResults"].(float64); n != 0 {
		t.Fatalf("lookup of %s before creating it: totalResults %v, want 0", what, doc["totalResults"])
	}
}

func idOf(t *testing.T, doc map[string]any) string {
	t.Helper()
	id, _ := doc["id"].(string)
	if id == "" {
		t.Fatalf("answer without id: %v", doc)
	}
	return id
}

func patchOp(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}

func emailsJSON(es []mEmail) []map[string]any {
	out := []map[string]any{}
	for _, e := range es {
		m := map[string]any{"value": e.value, "type": e.typ}
		if e.primary {
			m["primary"] = true
		}
		out = append(out, m)
	}
	return out
}

// --- Okta (2.3 create, 2.5 update, 2.6 deactivate, 2.8 Group Push) ---

// oktaCreateUser looks the userName up, then POSTs the user as Okta does.
func (c *scimClient) oktaCreateUser(t *testing.T, m *model, u *mUser) {
	t.Helper()
	requireNone(t, c.call(t, http.MethodGet, filterPath("/Users", fmt.Sprintf("userName eq %q", u.userName), "")+"&startIndex=1&count=100", nil, http.StatusOK), u.userName)
	doc := c.call(t, http.MethodPost, "/Users", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":    u.userName,
		"name":        map[string]any{"givenName": u.givenName, "familyName": u.familyName},
		"emails":      emailsJSON(u.emails),
		"displayName": u.displayName,
		"locale":      "en-US",
		"externalId":  "00u" + u.userName,
		"groups":      []any{},
		"password":    "1mz050nq",
		"active":      u.active,
	}, http.StatusCreated)
	u.tenant, u.id = "okta", idOf(t, doc)
	m.addUser(u)
}

// oktaPut does Okta's update: GET the user, change the profile, PUT back
// everything the GET returned (meta, groups and all).
func (c *scimClient) oktaPut(t *testing.T, m *model, u *mUser, change func(u *mUser)) {
	t.Helper()
	doc := c.call(t, http.MethodGet, "/Users/"+u.id, nil, http.StatusOK)
	next := *u
	next.emails = append([]mEmail(nil), u.emails...)
	change(&next)
	doc["userName"] = next.userName
	doc["displayName"] = next.displayName
	doc["name"] = map[string]any{"givenName": next.givenName, "familyName": next.familyName}
	emails := emailsJSON(next.emails)
	for _, e := range emails {
		e["display"] = e["value"]
	}
	doc["emails"] = emails
	doc["active"] = next.active
	c.call(t, http.MethodPut, "/Users/"+u.id, doc, http.StatusOK)
	m.update(func() { *u = next })
}

// oktaSetActive deactivates or reactivates with Okta's pathless PATCH (2.6).
func (c *scimClient) oktaSetActive(t *testing.T, m *model, u *mUser, active bool) {
	t.Helper()
	c.call(t, http.MethodPatch, "/Users/"+u.id, patchOp(map[string]any{"op": "replace", "value": map[string]any{"active": active}}), http.StatusOK, http.StatusNoContent)
	m.update(func() { u.active = active })
}

// oktaPushGroup looks the group up by name and creates it empty (2.8).
func (c *scimClient) oktaPushGroup(t *testing.T, m *model, name string) *mGroup {
	t.Helper()
	requireNone(t, c.call(t, http.MethodGet, filterPath("/Groups", fmt.Sprintf("displayName eq %q", name), "")+"&startIndex=1&count=100", nil, http.StatusOK), name)
	doc := c.call(t, http.MethodPost, "/Groups", map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "members": []any{},
	}, http.StatusCreated)
	g := &mGroup{tenant: "okta", id: idOf(t, doc), name: name, members: map[string]bool{}}
	m.pushGroup(g)
	return g
}

// oktaMembers removes and adds members in one PATCH, as Group Push does.
func (c *scimClient) oktaMembers(t *testing.T, m *model, g *mGroup, remove, add []*mUser) {
	t.Helper()
	var ops []map[string]any
	for _, u := range remove {
		ops = append(ops, map[string]any{"op": "remove", "path": fmt.Sprintf("members[value eq %q]", u.id)})
	}
	if len(add) > 0 {
		var vals []map[string]any
		for _, u := range add {
			vals = append(vals, map[string]any{"value": u.id, "display": u.userName})
		}
		ops = append(ops, map[string]any{"op": "add", "path": "members", "value": vals})
	}
	c.call(t, http.MethodPatch, "/Groups/"+g.id, patchOp(ops...), http.StatusOK, http.StatusNoContent)
	m.update(func() {
		for _, u := range remove {
			delete(g.members, u.id)
		}
		for _, u := range add {
			g.members[u.id] = true
		}
	})
}

// oktaReplaceMembers overwrites the membership ("Push Now", 2.8).
func (c *scimClient) oktaReplaceMembers(t *testing.T, m *model, g *mGroup, members []*mUser) {
	t.Helper()
	vals := []map[string]any{}
	for _, u := range members {
		vals = append(vals, map[string]any{"value": u.id, "display": u.userName})
	}
	c.call(t, http.MethodPatch, "/Groups/"+g.id, patchOp(map[string]any{"op": "replace", "path": "members", "value": vals}), http.StatusOK, http.StatusNoContent)
	m.update(func() {
		g.members = map[string]bool{}
		for _, u := range members {
			g.members[u.id] = true
		}
	})
}

// oktaDeleteGroup is Group Push's "Delete the group in the target app".
func (c *scimClient) oktaDeleteGroup(t *testing.T, m *model, g *mGroup) {
	t.Helper()
	c.call(t, http.MethodDelete, "/Groups/"+g.id, nil, http.StatusNoContent)
	m.update(func() { g.deleted = true })
}

// oktaRenameGroup renames with the id inside the value, as Okta does.
func (c *scimClient) oktaRenameGroup(t *testing.T, m *model, g *mGroup, name string) {
	t.Helper()
	c.call(t, http.MethodPatch, "/Groups/"+g.id, patchOp(map[string]any{"op": "replace", "value": map[string]any{"id": g.id, "displayName": name}}), http.StatusOK, http.StatusNoContent)
	m.update(func() { g.name = name })
	m.pushGroup(g)
}

// --- Entra ID (3.3 create, 3.5 PATCH-only updates, 3.6 disable/delete, 3.7 groups) ---

// entraCreateUser looks the userName up, then POSTs the user with the
// enterprise extension, as Entra's provisioning service does.
func (c *scimClient) entraCreateUser(t *testing.T, m *model, u *mUser) {
	t.Helper()
	requireNone(t, c.call(t, http.MethodGet, filterPath("/Users", fmt.Sprintf("userName eq %q", u.userName), ""), nil, http.StatusOK), u.userName)
	body := map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"},
		"externalId": "ext-" + u.userName,
		"userName":   u.userName,
		"active":     u.active,
		"emails":     emailsJSON(u.emails),
		"meta":       map[string]any{"resourceType": "User"},
		"name":       map[string]any{"formatted": u.formatted, "familyName": u.familyName, "givenName": u.givenName},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "Engineering"},
	}
	if u.displayName != "" {
		body["displayName"] = u.displayName
	}
	doc := c.call(t, http.MethodPost, "/Users", body, http.StatusCreated)
	u.tenant, u.id = "entra", idOf(t, doc)
	m.addUser(u)
}

// entraPatchUser sends Entra's capitalised PATCH operations, then applies
// change to the model.
func (c *scimClient) entraPatchUser(t *testing.T, m *model, u *mUser, change func(u *mUser), ops ...map[string]any) {
	t.Helper()
	c.call(t, http.MethodPatch, "/Users/"+u.id, patchOp(ops...), http.StatusOK, http.StatusNoContent)
	m.update(func() { change(u) })
}

// entraSetActive disables or re-enables with the "False"/"True" strings of
// Entra's default mapping (3.6).
func (c *scimClient) entraSetActive(t *testing.T, m *model, u *mUser, active bool) {
	t.Helper()
	v := "False"
	if active {
		v = "True"
	}
	c.entraPatchUser(t, m, u, func(u *mUser) { u.active = active },
		map[string]any{"op": "Replace", "path": "active", "value": v})
}

// entraDeleteUser hard-deletes (3.6).
func (c *scimClient) entraDeleteUser(t *testing.T, m *model, u *mUser) {
	t.Helper()
	c.call(t, http.MethodDelete, "/Users/"+u.id, nil, http.StatusNoContent)
	m.update(func() { u.deleted = true })
}

// entraCreateGroup looks the group up without members, then creates it
// empty with the ADSCIM schema (3.7).
func (c *scimClient) entraCreateGroup(t *testing.T, m *model, name string) *mGroup {
	t.Helper()
	requireNone(t, c.call(t, http.MethodGet, filterPath("/Groups", fmt.Sprintf("displayName eq %q", name), "excludedAttributes=members&"), nil, http.StatusOK), name)
	doc := c.call(t, http.MethodPost, "/Groups", map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group",
			"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
		"externalId": "ext-" + name, "displayName": name, "meta": map[string]any{"resourceType": "Group"},
	}, http.StatusCreated)
	g := &mGroup{tenant: "entra", id: idOf(t, doc), name: name, members: map[string]bool{}}
	m.pushGroup(g)
	return g
}

// entraMembers changes memberships with Entra's value lists: an "Add" and a
// "Remove" on path members in one PATCH, answered 204 (3.7).
func (c *scimClient) entraMembers(t *testing.T, m *model, g *mGroup, remove, add []*mUser) {
	t.Helper()
	list := func(us []*mUser) []map[string]any {
		var out []map[string]any
		for _, u := range us {
			out = append(out, map[string]any{"$ref": nil, "value": u.id})
		}
		return out
	}
	var ops []map[string]any
	if len(add) > 0 {
		ops = append(ops, map[string]any{"op": "Add", "path": "members", "value": list(add)})
	}
	if len(remove) > 0 {
		ops = append(ops, map[string]any{"op": "Remove", "path": "members", "value": list(remove)})
	}
	c.call(t, http.MethodPatch, "/Groups/"+g.id, patchOp(ops...), http.StatusNoContent)
	m.update(func() {
		for _, u := range remove {
			delete(g.members, u.id)
		}
		for _, u := range add {
			g.members[u.id] = true
		}
	})
}
