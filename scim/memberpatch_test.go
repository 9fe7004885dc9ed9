package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elimity-com/scim/schema"
	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

type patchEnv struct {
	t   *testing.T
	url string
}

func newPatchEnv(t *testing.T, tenants ...scim.Tenant) *patchEnv {
	t.Helper()
	schema.SetAllowStringValues(true)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "p.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var at []auth.Tenant
	for _, tn := range tenants {
		at = append(at, auth.Tenant{Name: tn.Name, TokenHashes: [][32]byte{auth.HashToken("tok")}})
	}
	authn, err := auth.New(at, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := scim.New(st, authn, tenants, scim.Options{BaseURL: "https://bridge.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return &patchEnv{t: t, url: ts.URL + "/scim/v2/" + tenants[0].Name}
}

func (e *patchEnv) do(method, path, body string, header ...string) (int, http.Header, map[string]any) {
	status, h, doc, _ := e.doRaw(method, path, body, header...)
	return status, h, doc
}

func (e *patchEnv) doRaw(method, path, body string, header ...string) (int, http.Header, map[string]any, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/scim+json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	if len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, &doc); err != nil {
			e.t.Fatalf("%s %s: body is not JSON: %v: %s", method, path, err, data)
		}
	}
	return resp.StatusCode, resp.Header, doc, data
}

func (e *patchEnv) group(name string, members []string) string {
	e.t.Helper()
	var ms []string
	for _, m := range members {
		ms = append(ms, fmt.Sprintf(`{"value":%q}`, m))
	}
	status, _, doc := e.do(http.MethodPost, "/Groups", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":%q,"members":[%s]}`,
		name, strings.Join(ms, ",")))
	if status != http.StatusCreated {
		e.t.Fatalf("create group: %d %v", status, doc)
	}
	return doc["id"].(string)
}

func (e *patchEnv) user(name string) string {
	e.t.Helper()
	status, _, doc := e.do(http.MethodPost, "/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"displayName":"<%s & co>"}`, name, name))
	if status != http.StatusCreated {
		e.t.Fatalf("create user: %d %v", status, doc)
	}
	return doc["id"].(string)
}

// Membership PATCHes answered without elimity answer exactly as elimity
// does: for each request, one group gets the body as an IdP sends it (the
// direct path) and its twin gets the same operations with a top-level "id"
// (Postman's form, which the direct path leaves to elimity); status,
// ETag, body and the stored group must be the same.
func TestMemberPatchAnswersAsElimity(t *testing.T) {
	for _, tenant := range []scim.Tenant{{Name: "okta"}, {Name: "entra", GroupPatchNoContent: true}} {
		t.Run(tenant.Name, func(t *testing.T) {
			e := newPatchEnv(t, tenant)
			u := []string{e.user("u0"), e.user("u1"), e.user("u2"), e.user("u3")}
			direct, viaElimity := e.group("direct", u[:2]), e.group("elimity", u[:2])
			ops := []string{
				fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q,"display":"x"}]}`, u[2]),
				fmt.Sprintf(`{"op":"Add","path":"members","value":[{"value":%q},{"value":%q,"type":"User"}]}`, u[2], u[3]),
				fmt.Sprintf(`{"op":"remove","path":"members[value eq \"%s\"]"}`, u[0]),
				fmt.Sprintf(`{"op":"Remove","path":"members[value eq \"%s\"]"}`, strings.ToUpper(u[1])),
				`{"op":"remove","path":"members[value eq \"no-such-member\"]"}`,
				fmt.Sprintf(`{"op":"remove","path":"members","value":[{"value":%q},{"value":%q}]}`, u[2], u[3]),
				`{"op":"add","path":"members","value":[{"value":"not-a-user"}]}`, // 400
				fmt.Sprintf(`{"op":"add","path":"members","value":[{"value":%q}]},{"op":"add","path":"members","value":[{"value":%q}]}`, u[0], u[1]),
			}
			for i, op := range ops {
				body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + op + `]}`
				twin := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"id":"postman","Operations":[` + op + `]}`
				query := ""
				if i == 2 {
					query = "?excludedAttributes=members"
				}
				ds, dh, dd, draw := e.doRaw(http.MethodPatch, "/Groups/"+direct+query, body)
				es, eh, ed, eraw := e.doRaw(http.MethodPatch, "/Groups/"+viaElimity+query, twin)
				// The direct path writes the member list first; elimity
				// sorts the keys. (So each twin took the path meant.)
				if ds == http.StatusOK && query == "" && (!bytes.HasPrefix(draw, []byte(`{"members":`)) || bytes.HasPrefix(eraw, []byte(`{"members":`))) {
					t.Errorf("op %d: not answered by the intended paths: direct %.30s, elimity %.30s", i, draw, eraw)
				}
				if ds != es || dh.Get("Etag") != eh.Get("Etag") || dh.Get("Content-Type") != eh.Get("Content-Type") {
					t.Errorf("op %d: direct %d %q %q, elimity %d %q %q", i, ds, dh.Get("Etag"), dh.Get("Content-Type"), es, eh.Get("Etag"), eh.Get("Content-Type"))
				}
				if diff := cmp.Diff(normalized(ed, viaElimity, direct), normalized(dd, "", "")); diff != "" {
					t.Errorf("op %d: body (-elimity +direct):\n%s", i, diff)
				}
				_, _, dg := e.do(http.MethodGet, "/Groups/"+direct, "")
				_, _, eg := e.do(http.MethodGet, "/Groups/"+viaElimity, "")
				if diff := cmp.Diff(normalized(eg, viaElimity, direct), normalized(dg, "", "")); diff != "" {
					t.Errorf("op %d: stored group (-elimity +direct):\n%s", i, diff)
				}
			}
			// If-Match on a stale version: 412 either way; unknown group: 404.
			body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + u[3] + `"}]}]}`
			if s, _, doc := e.do(http.MethodPatch, "/Groups/"+direct, body, "If-Match", `W/"1"`); s != http.StatusPreconditionFailed || doc["status"] != "412" {
				t.Errorf("stale If-Match: %d %v", s, doc)
			}
			if s, _, doc := e.do(http.MethodPatch, "/Groups/5b5a1f5e-0000-4000-8000-000000000000", body); s != http.StatusNotFound || doc["status"] != "404" {
				t.Errorf("unknown group: %d %v", s, doc)
			}
		})
	}
}

// normalized drops what differs between the twin groups by construction.
func normalized(doc map[string]any, fromID, toID string) map[string]any {
	if doc == nil {
		return nil
	}
	data, _ := json.Marshal(doc)
	if fromID != "" {
		data = bytes.ReplaceAll(data, []byte(fromID), []byte(toID))
	}
	var out map[string]any
	_ = json.Unmarshal(data, &out)
	delete(out, "displayName")
	if m, ok := out["meta"].(map[string]any); ok {
		delete(m, "created")
		delete(m, "lastModified")
	}
	return out
}

// User PATCHes of plain attributes answered without elimity answer as
// elimity does (the twin as in TestMemberPatchAnswersAsElimity).
func TestUserPatchAnswersAsElimity(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "okta"})
	newUser := func(name string) string {
		status, _, doc := e.do(http.MethodPost, "/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,
			"name":{"givenName":"A","familyName":"B"},"emails":[{"value":"a@example.com","primary":true}],"title":"Dev",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"R&D"}}`, name))
		if status != http.StatusCreated {
			t.Fatalf("create user: %d %v", status, doc)
		}
		return doc["id"].(string)
	}
	direct, viaElimity := newUser("direct@example.com"), newUser("elimity@example.com")
	newUser("taken@example.com")
	for i, op := range []string{
		`{"op":"replace","path":"title","value":"Boss <&>"}`,
		`{"op":"Replace","path":"Title","value":"Chief"},{"op":"add","path":"displayName","value":"Ada"}`,
		`{"op":"replace","path":"active","value":false}`,
		`{"op":"add","path":"nickName","value":""}`,
		`{"op":"replace","path":"userName","value":"taken@example.com"}`, // 409
		`{"op":"replace","path":"title","value":7}`,                      // elimity's 400 (not taken directly)
		`{"op":"replace","path":"active","value":"False"}`,               // Entra's string (not taken directly)
	} {
		body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + op + `]}`
		twin := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"id":"postman","Operations":[` + op + `]}`
		ds, dh, dd, draw := e.doRaw(http.MethodPatch, "/Users/"+direct, body)
		es, eh, ed, eraw := e.doRaw(http.MethodPatch, "/Users/"+viaElimity, twin)
		if ds != es || dh.Get("Etag") != eh.Get("Etag") || dh.Get("Content-Type") != eh.Get("Content-Type") {
			t.Errorf("op %d: direct %d %q %q, elimity %d %q %q", i, ds, dh.Get("Etag"), dh.Get("Content-Type"), es, eh.Get("Etag"), eh.Get("Content-Type"))
		}
		norm := func(doc map[string]any, from, to string) map[string]any {
			n := normalized(doc, from, to)
			if n != nil {
				delete(n, "userName")
			}
			return n
		}
		if diff := cmp.Diff(norm(ed, viaElimity, direct), norm(dd, "", "")); diff != "" {
			t.Errorf("op %d: body (-elimity +direct):\n%s", i, diff)
		}
		// Same bytes too, but for what differs by construction.
		if ds == http.StatusOK {
			d := bytes.ReplaceAll(draw, []byte("direct@"), []byte("X@"))
			x := bytes.ReplaceAll(bytes.ReplaceAll(eraw, []byte(viaElimity), []byte(direct)), []byte("elimity@"), []byte("X@"))
			if dd["meta"].(map[string]any)["lastModified"] == ed["meta"].(map[string]any)["lastModified"] &&
				dd["meta"].(map[string]any)["created"] == ed["meta"].(map[string]any)["created"] && !bytes.Equal(d, x) {
				t.Errorf("op %d: bytes differ:\n direct  %s\n elimity %s", i, d, x)
			}
		}
	}
	body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"title","value":"x"}]}`
	if s, _, doc := e.do(http.MethodPatch, "/Users/"+direct, body, "If-Match", `W/"1"`); s != http.StatusPreconditionFailed || doc["status"] != "412" {
		t.Errorf("stale If-Match: %d %v", s, doc)
	}
	if s, _, doc := e.do(http.MethodPatch, "/Users/5b5a1f5e-0000-4000-8000-000000000000", body); s != http.StatusNotFound || doc["status"] != "404" {
		t.Errorf("unknown user: %d %v", s, doc)
	}
}
