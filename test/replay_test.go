// Package test holds scimbridge's end-to-end tests: IdP transcripts
// replayed through the full SCIM router over a real SQLite file, and the
// same transcripts against the built scimbridge binary.
package test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/elimity-com/scim/schema"

	"github.com/scimbridge/scimbridge/presets"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// transcriptDir holds one directory per IdP; the directory name is both the
// tenant name and its preset.
const transcriptDir = "testdata/idp"

func TestMain(m *testing.M) {
	// Entra sends booleans as "True"/"False"; cmd/scimbridge sets this
	// process-wide switch of elimity at start-up, so the tests do too.
	schema.SetAllowStringValues(true)
	code := m.Run()
	cleanupBinary()
	os.Exit(code)
}

// replayTenants are the tenants every in-process server has, named after
// their presets.
var replayTenants = []string{"okta", "entra", "onelogin", "jumpcloud", "pingone", "google", "generic"}

// tokenFor is the static bearer token of a tenant in the in-process tests.
func tokenFor(tenant string) string { return "replay-token-" + tenant + "-0123456789abcdef" }

// inProcess is one scimbridge SCIM server over a fresh SQLite file.
type inProcess struct {
	srv    *httptest.Server
	st     *sqlite.DB
	tokens map[string]string
}

func startInProcess(t *testing.T) *inProcess {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "scimbridge.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })

	tokens := map[string]string{}
	var authTenants []auth.Tenant
	var scimTenants []scim.Tenant
	for _, name := range replayTenants {
		p, err := presets.Get(name)
		if err != nil {
			t.Fatalf("preset %s: %v", name, err)
		}
		tokens[name] = tokenFor(name)
		authTenants = append(authTenants, auth.Tenant{Name: name, TokenHashes: [][32]byte{auth.HashToken(tokens[name])}})
		scimTenants = append(scimTenants, scim.Tenant{
			Name: name, GroupPatchNoContent: p.Quirks.PatchNoContent, AlwaysReturnName: p.Quirks.AlwaysReturnName,
		})
	}
	authn, err := auth.New(authTenants, auth.Options{})
	if err != nil {
		t.Fatalf("auth: %v", err)
	}
	// httptest listens on 127.0.0.1 already before Start, so the base URL
	// (locations, $refs) is known when the handler is built.
	srv := httptest.NewUnstartedServer(nil)
	h, err := scim.New(st, authn, scimTenants, scim.Options{BaseURL: "http://" + srv.Listener.Addr().String()})
	if err != nil {
		srv.Close()
		t.Fatalf("scim.New: %v", err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(srv.Close)
	return &inProcess{srv: srv, st: st, tokens: tokens}
}

// snapshot renders every tenant's users, groups (with members) and the
// outbox, for "a rejected request changes nothing".
func (p *inProcess) snapshot(ctx context.Context) (string, error) {
	type tenantState struct {
		Users  []store.User
		Groups []store.Group
	}
	state := map[string]tenantState{}
	for _, tn := range replayTenants {
		users, _, err := p.st.ListUsers(ctx, tn, store.Query{Limit: 1 << 20})
		if err != nil {
			return "", fmt.Errorf("list users of %s: %w", tn, err)
		}
		groups, _, err := p.st.ListGroups(ctx, tn, store.Query{Limit: 1 << 20, WithMembers: true})
		if err != nil {
			return "", fmt.Errorf("list groups of %s: %w", tn, err)
		}
		state[tn] = tenantState{Users: users, Groups: groups}
	}
	jobs, err := p.st.PendingJobs(ctx, 1<<20)
	if err != nil {
		return "", fmt.Errorf("pending jobs: %w", err)
	}
	b, err := json.MarshalIndent(map[string]any{"tenants": state, "outbox": jobs}, "", "  ")
	return string(b), err
}

// TestReplay replays every IdP transcript against its own fresh server and
// database, checking after every rejected write that nothing changed.
func TestReplay(t *testing.T) {
	for _, tr := range loadTranscripts(t, transcriptDir) {
		t.Run(tr.IdP+"/"+tr.Name, func(t *testing.T) {
			p := startInProcess(t)
			r := newReplayer(p.srv.URL, p.srv.Client(), tr.IdP, p.tokens)
			r.snapshot = p.snapshot
			r.run(t, tr.Steps)
		})
	}
}

// TestReplaySnapshotDetectsChange makes sure the "rejected write changes
// nothing" check can fail: a step that claims a successful create was
// rejected must be reported.
func TestReplaySnapshotDetectsChange(t *testing.T) {
	p := startInProcess(t)
	before, err := p.snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.st.CreateUser(t.Context(), store.User{Tenant: "okta", UserName: "snap@example.com", Active: true,
		Attributes: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	after, err := p.snapshot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if before == after {
		t.Fatal("snapshot did not change after a create")
	}
}

// TestCrossTenantToken: a token of tenant A never works on tenant B, and
// a resource of A is invisible on B.
func TestCrossTenantToken(t *testing.T) {
	p := startInProcess(t)
	client := p.srv.Client()
	do := func(method, tenant, token, path, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, p.srv.URL+"/scim/v2/"+tenant+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&doc)
		return resp.StatusCode, doc
	}

	status, doc := do(http.MethodPost, "okta", p.tokens["okta"], "/Users",
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"cross@example.com"}`)
	if status != http.StatusCreated {
		t.Fatalf("create on okta: %d %v", status, doc)
	}
	id, _ := doc["id"].(string)

	for _, tc := range []struct {
		name, method, tenant, token, path, body string
		want                                    int
	}{
		{"okta token on entra list", http.MethodGet, "entra", p.tokens["okta"], "/Users", "", http.StatusUnauthorized},
		{"okta token on entra create", http.MethodPost, "entra", p.tokens["okta"], "/Users",
			`{"userName":"x@example.com"}`, http.StatusUnauthorized},
		{"entra token on okta get", http.MethodGet, "okta", p.tokens["entra"], "/Users/" + id, "", http.StatusUnauthorized},
		{"entra token on okta delete", http.MethodDelete, "okta", p.tokens["entra"], "/Users/" + id, "", http.StatusUnauthorized},
		{"okta resource invisible on entra", http.MethodGet, "entra", p.tokens["entra"], "/Users/" + id, "", http.StatusNotFound},
		{"okta resource not deletable on entra", http.MethodDelete, "entra", p.tokens["entra"], "/Users/" + id, "", http.StatusNotFound},
		{"okta token on okta", http.MethodGet, "okta", p.tokens["okta"], "/Users/" + id, "", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, doc := do(tc.method, tc.tenant, tc.token, tc.path, tc.body)
			if status != tc.want {
				t.Errorf("%s %s on %s: %d, want %d (%v)", tc.method, tc.path, tc.tenant, status, tc.want, doc)
			}
		})
	}
	users, total, err := p.st.ListUsers(t.Context(), "entra", store.Query{Limit: 10})
	if err != nil || total != 0 || len(users) != 0 {
		t.Errorf("entra users after cross-tenant attempts: %d %v %v", total, users, err)
	}
}

// TestConcurrentMembershipPatches: Entra and Okta push membership changes
// of one group in parallel; no concurrent PATCH may lose another's member,
// and concurrent creates of one userName give exactly one 201.
func TestConcurrentMembershipPatches(t *testing.T) {
	p := startInProcess(t)
	client := p.srv.Client()
	send := func(method, path, body string) (int, map[string]any, error) {
		req, err := http.NewRequestWithContext(t.Context(), method, p.srv.URL+"/scim/v2/entra"+path, strings.NewReader(body))
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+p.tokens["entra"])
		if body != "" {
			req.Header.Set("Content-Type", "application/scim+json")
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		var doc map[string]any
		if resp.StatusCode != http.StatusNoContent {
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				return resp.StatusCode, nil, fmt.Errorf("decode %s %s: %w", method, path, err)
			}
		}
		return resp.StatusCode, doc, nil
	}

	const n = 16
	ids := make([]string, n)
	for i := range ids {
		status, doc, err := send(http.MethodPost, "/Users",
			fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"member%02d@example.com"}`, i))
		if err != nil || status != http.StatusCreated {
			t.Fatalf("create member %d: %d %v %v", i, status, doc, err)
		}
		ids[i], _ = doc["id"].(string)
	}
	status, doc, err := send(http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Parallel"}`)
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create group: %d %v %v", status, doc, err)
	}
	gid, _ := doc["id"].(string)

	type result struct {
		status int
		err    error
	}
	results := make(chan result, 2*n)
	for i := range n {
		go func() {
			status, _, err := send(http.MethodPatch, "/Groups/"+gid, fmt.Sprintf(
				`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"$ref":null,"value":%q}]}]}`, ids[i]))
			results <- result{status, err}
		}()
		go func() {
			status, _, err := send(http.MethodPost, "/Users",
				`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"Race@Example.com"}`)
			results <- result{status, err}
		}()
	}
	created := 0
	for range 2 * n {
		r := <-results
		switch {
		case r.err != nil:
			t.Error(r.err)
		case r.status == http.StatusCreated:
			created++
		case r.status != http.StatusNoContent && r.status != http.StatusConflict:
			t.Errorf("unexpected status %d", r.status)
		}
	}
	if created != 1 {
		t.Errorf("%d concurrent creates of one userName succeeded, want exactly 1", created)
	}
	status, doc, err = send(http.MethodGet, "/Groups/"+gid, "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("get group: %d %v", status, err)
	}
	members, _ := doc["members"].([]any)
	got := map[string]bool{}
	for _, m := range members {
		if mm, ok := m.(map[string]any); ok {
			v, _ := mm["value"].(string)
			got[v] = true
		}
	}
	for i, id := range ids {
		if !got[id] {
			t.Errorf("member %d (%s) lost by a concurrent PATCH", i, id)
		}
	}
	if len(members) != n {
		t.Errorf("group has %d members, want %d", len(members), n)
	}
}

// onlyReader hides the length of its reader, so the client sends the body
// chunked, without a Content-Length the server could check up front.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestOversizedChunkedBody: the 1 MiB limit holds for a chunked body too,
// and nothing is stored.
func TestOversizedChunkedBody(t *testing.T) {
	p := startInProcess(t)
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"chunked@example.com","title":"` +
		strings.Repeat("x", 2<<20) + `"}`
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, p.srv.URL+"/scim/v2/okta/Users",
		onlyReader{strings.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	if req.ContentLength != 0 {
		t.Fatalf("the body length is known (%d): the request would not be chunked", req.ContentLength)
	}
	req.Header.Set("Authorization", "Bearer "+p.tokens["okta"])
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := p.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("status %d, want 413", resp.StatusCode)
	}
	if _, total, err := p.st.ListUsers(t.Context(), "okta", store.Query{}); err != nil || total != 0 {
		t.Errorf("users stored after a 413: %d (%v)", total, err)
	}
}
