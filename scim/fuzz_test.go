package scim_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/elimity-com/scim/schema"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// fuzzServer is a full SCIM stack over a real SQLite file with one user and
// one group in tenant "t".
func fuzzServer(f *testing.F) (url string, userID, groupID string) {
	schema.SetAllowStringValues(true)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(f.TempDir(), "fuzz.db"), sqlite.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	u, err := st.CreateUser(ctx, store.User{Tenant: "t", UserName: "ada", Active: true, Attributes: map[string]any{
		"displayName": "Ada", "emails": []any{map[string]any{"value": "ada@example.com", "type": "work", "primary": true}},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"department": "R&D"},
	}})
	if err != nil {
		f.Fatal(err)
	}
	g, err := st.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "devs", Members: []store.Member{{Value: u.ID}}})
	if err != nil {
		f.Fatal(err)
	}
	authn, err := auth.New([]auth.Tenant{{Name: "t", TokenHashes: [][32]byte{auth.HashToken("tok")}}}, auth.Options{MaxFailures: 1 << 30})
	if err != nil {
		f.Fatal(err)
	}
	srv, err := scim.New(st, authn, []scim.Tenant{{Name: "t"}}, scim.Options{})
	if err != nil {
		f.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	f.Cleanup(ts.Close)
	return ts.URL + "/scim/v2/t", u.ID, g.ID
}

func do(t *testing.T, method, u string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// FuzzPatchThroughServer sends arbitrary PATCH bodies through the whole
// stack: never a 500, and a rejected request changes nothing.
func FuzzPatchThroughServer(f *testing.F) {
	base, userID, groupID := fuzzServer(f)
	for _, seed := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@y.z"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"nope"}]}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"manager","value":"m1"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"userName"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"members[value eq \"x\"].display","value":1}]}`,
		`{"Operations":[]}`, `[]`, `{`, ``,
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, body string, group bool) {
		target := base + "/Users/" + userID
		if group {
			target = base + "/Groups/" + groupID
		}
		_, before := do(t, http.MethodGet, target, nil)
		status, resp := do(t, http.MethodPatch, target, []byte(body))
		if status >= 500 {
			t.Fatalf("PATCH %q: %d %s", body, status, resp)
		}
		if status >= 400 {
			if _, after := do(t, http.MethodGet, target, nil); !bytes.Equal(before, after) {
				t.Fatalf("rejected PATCH %q (%d) changed the resource:\nbefore %s\nafter  %s", body, status, before, after)
			}
		}
	})
}

// FuzzFilterThroughServer sends arbitrary filters: never a 500.
func FuzzFilterThroughServer(f *testing.F) {
	base, _, _ := fuzzServer(f)
	for _, seed := range []string{
		`userName eq "ada"`, `emails[type eq "work"].value eq "ada@example.com"`, `not (active eq true)`,
		`name.familyName co "x" or (title pr and meta.lastModified gt "2020-01-01T00:00:00Z")`,
		`userName eq`, `((((`, `members eq "x"`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department sw "R"`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		for _, res := range []string{"/Users", "/Groups"} {
			status, resp := do(t, http.MethodGet, base+res+"?filter="+url.QueryEscape(filter), nil)
			if status >= 500 {
				t.Fatalf("filter %q on %s: %d %s", filter, res, status, resp)
			}
		}
	})
}
