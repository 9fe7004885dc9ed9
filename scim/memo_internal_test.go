package scim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/elimity-com/scim/schema"
	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// memoStore hands out the Memo the test chose for each user id, as a
// backend that keeps users in memory would.
type memoStore struct {
	*sqlite.DB
	mu    sync.Mutex
	memos map[string]*store.Memo
}

func (m *memoStore) ListUsers(ctx context.Context, tenant string, q store.Query) ([]store.User, int, error) {
	us, total, err := m.DB.ListUsers(ctx, tenant, q)
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := range us {
		us[i].Memo = m.memos[us[i].ID]
	}
	return us, total, err
}

type testServer struct {
	srv http.Handler
}

func newTestServer(t *testing.T, st Store) testServer {
	t.Helper()
	schema.SetAllowStringValues(true)
	authn, err := auth.New([]auth.Tenant{{Name: "t", TokenHashes: [][32]byte{auth.HashToken("tok")}}}, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(st, authn, []Tenant{{Name: "t"}}, Options{BaseURL: "https://bridge.example"})
	if err != nil {
		t.Fatal(err)
	}
	return testServer{srv}
}

func (s testServer) do(t *testing.T, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	rec := httptest.NewRecorder()
	s.srv.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		t.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body.String())
	}
	return rec
}

// lookupResource returns the one resource of a userName lookup, as sent.
func (s testServer) lookupResource(t *testing.T, name string) json.RawMessage {
	t.Helper()
	rec := s.do(t, http.MethodGet, "/scim/v2/t/Users?filter="+url.QueryEscape(`userName eq "`+name+`"`), "")
	var lr struct {
		TotalResults int
		Resources    []json.RawMessage
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &lr); err != nil || lr.TotalResults != 1 || len(lr.Resources) != 1 {
		t.Fatalf("lookup %q: %v: %s", name, err, rec.Body.String())
	}
	return lr.Resources[0]
}

// A list renders a user whose Memo holds its JSON from the Memo, and fills
// an empty Memo with exactly what it rendered.
func TestListUsesTheUsersMemo(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "m.db"), sqlite.Options{LookupCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, err := db.CreateUser(t.Context(), store.User{Tenant: "t", UserName: "ann", Active: true, Attributes: map[string]any{"displayName": "Ann"}})
	if err != nil {
		t.Fatal(err)
	}
	memo := new(store.Memo)
	st := &memoStore{DB: db, memos: map[string]*store.Memo{u.ID: memo}}
	s := newTestServer(t, st)
	first := s.lookupResource(t, "ann")
	kept, ok := memo.Get("https://bridge.example/scim/v2/t/Users/")
	if !ok || string(kept) != string(first) {
		t.Fatalf("memo after the first lookup: %q, %v; want the resource sent: %s", kept, ok, first)
	}
	memo.Put("https://bridge.example/scim/v2/t/Users/", []byte(`{"from":"memo"}`))
	if got := s.lookupResource(t, "ann"); string(got) != `{"from":"memo"}` {
		t.Errorf("lookup with a filled memo sent %s", got)
	}
	memo.Put("https://other.example/scim/v2/t/Users/", []byte(`{"from":"memo"}`))
	if got := s.lookupResource(t, "ann"); string(got) != string(first) {
		t.Errorf("lookup with a memo kept for another base URL sent %s, want %s", got, first)
	}
	// Without a Memo the user is rendered as before.
	st.memos = nil
	if got := s.lookupResource(t, "ann"); string(got) != string(first) {
		t.Errorf("lookup without a memo sent %s, want %s", got, first)
	}
}

// TestRepeatedLookupsFollowWrites looks a user up again and again through
// the store's lookup cache (whose hits carry Memos) while the user, and the
// groups she belongs to, change: every lookup answers what GET by id
// answers.
func TestRepeatedLookupsFollowWrites(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "r.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := newTestServer(t, db)
	const users = "/scim/v2/t/Users/"
	var created struct{ ID string }
	rec := s.do(t, http.MethodPost, users, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com","active":true,"displayName":"Ann","name":{"givenName":"Ann","familyName":"Lee"}}`)
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	var group struct{ ID string }
	rec = s.do(t, http.MethodPost, "/scim/v2/t/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Eng"}`)
	if err := json.Unmarshal(rec.Body.Bytes(), &group); err != nil {
		t.Fatal(err)
	}
	check := func(step string) {
		t.Helper()
		var want map[string]any
		if err := json.Unmarshal(s.do(t, http.MethodGet, users+created.ID, "").Body.Bytes(), &want); err != nil {
			t.Fatal(err)
		}
		hits := db.LookupCacheStats().Hits
		for i := range 4 { // a miss, the miss that fills, hits
			var got map[string]any
			if err := json.Unmarshal(s.lookupResource(t, "ANN@example.com"), &got); err != nil {
				t.Fatal(err)
			}
			if !cmp.Equal(got, want) {
				t.Errorf("%s, lookup %d:\n%s", step, i+1, cmp.Diff(want, got))
			}
		}
		if db.LookupCacheStats().Hits == hits {
			t.Fatalf("%s: no lookup was answered from the cache", step)
		}
	}
	patchUser := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Ann Lee"}]}`
	addMember := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + created.ID + `"}]}]}`
	rename := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Engineering"}]}`
	removeMember := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"` + created.ID + `\"]"}]}`
	check("created")
	s.do(t, http.MethodPatch, users+created.ID, patchUser)
	check("user PATCHed")
	s.do(t, http.MethodPatch, "/scim/v2/t/Groups/"+group.ID, addMember)
	check("added to a group")
	s.do(t, http.MethodPatch, "/scim/v2/t/Groups/"+group.ID, rename)
	check("group renamed")
	s.do(t, http.MethodPatch, "/scim/v2/t/Groups/"+group.ID, removeMember)
	check("removed from the group")
	s.do(t, http.MethodPut, users+created.ID, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com","active":false}`)
	check("user PUT")
}
