package admin_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
	"github.com/scimbridge/scimbridge/transform"
)

// Secrets of the test setup; every test that can, checks none of them
// leaks into a response or the log.
const (
	adminToken = "adm-7f3c9a1e5b2d4c6e8f0a1b2c3d4e5f60"
	scimToken  = "scim-okta-0a9b8c7d6e5f4a3b2c1d0e9f"
)

var webhookSecret = []byte("whsec-5e6f7a8b9c0d1e2f3a4b5c6d")

// epoch is the test clock's start.
var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// clock is an injected clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeReconciler is a TEST DOUBLE for the engine's Trigger (the engine side
// is not built yet): it records each request and stores a queued run in the
// real store, as the engine will.
type fakeReconciler struct {
	st  *sqlite.DB
	mu  sync.Mutex
	got []admin.TriggerRequest
	err error
}

func (f *fakeReconciler) Trigger(ctx context.Context, req admin.TriggerRequest) (store.Run, error) {
	f.mu.Lock()
	f.got = append(f.got, req)
	err := f.err
	f.mu.Unlock()
	if err != nil {
		return store.Run{}, err
	}
	kind := "reconcile"
	if req.DryRun {
		kind = "dry-run"
	}
	return f.st.CreateRun(ctx, store.Run{Kind: kind, Trigger: req.Trigger, Status: "queued"})
}

func (f *fakeReconciler) calls() []admin.TriggerRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// fakeReactivator is a TEST DOUBLE for the engine's reactivation on login:
// it records the events it is given.
type fakeReactivator struct {
	mu  sync.Mutex
	got []admin.LoginEvent
	err error
}

func (f *fakeReactivator) Reactivate(_ context.Context, ev admin.LoginEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, ev)
	return f.err
}

func (f *fakeReactivator) events() []admin.LoginEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	t     testing.TB
	db    *sqlite.DB
	clock *clock
	rec   *fakeReconciler
	react *fakeReactivator
	logs  *syncBuffer
	srv   *httptest.Server
}

// mustCompile compiles a tenant mapping for the tests.
func mustCompile(t testing.TB, s transform.Spec) *transform.Compiled {
	t.Helper()
	c, err := transform.Compile(s)
	if err != nil {
		t.Fatalf("compile mapping: %v", err)
	}
	return c
}

// tenants: "okta" strips the domain and lowercases the username and requires
// the IdP group "jira-users"; "strict" builds the display name with a
// template rule that fails for a user without a name.
func tenants(t testing.TB) []admin.Tenant {
	okta := mustCompile(t, transform.Spec{
		Mapping: transform.Mapping{
			Username:    transform.Field{From: transform.Sources{"userName"}, Rules: []transform.Rule{{StripDomain: true}, {Lowercase: true}}},
			DisplayName: transform.Field{From: transform.Sources{"displayName"}},
			Email:       transform.Field{From: transform.Sources{`emails[type eq "work"].value`, "emails.value"}},
		},
		Users:  transform.Users{RequireGroups: []string{"jira-users"}},
		Groups: transform.Groups{Include: []string{"^jira-"}, Default: []string{"jira-software-users"}},
	})
	strict := mustCompile(t, transform.Spec{
		Mapping: transform.Mapping{
			Username:    transform.Field{From: transform.Sources{"userName"}},
			DisplayName: transform.Field{From: transform.Sources{"displayName"}, Rules: []transform.Rule{{Template: "{{.name.givenName}} {{.name.familyName}}"}}},
			Email:       transform.Field{From: transform.Sources{"emails.value"}},
		},
	})
	return []admin.Tenant{{Name: "okta", Mapping: okta}, {Name: "strict", Mapping: strict}}
}

// newHarness opens a SQLite file, builds the API with the test doubles and
// serves it on 127.0.0.1. mod adjusts the options.
func newHarness(t testing.TB, mod func(*admin.Options)) *harness {
	t.Helper()
	clk := &clock{t: epoch}
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "admin.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	h := &harness{t: t, db: db, clock: clk, rec: &fakeReconciler{st: db}, react: &fakeReactivator{}, logs: &syncBuffer{}}
	opts := admin.Options{
		AdminTokenHash: sha256.Sum256([]byte(adminToken)),
		WebhookSecret:  webhookSecret,
		Now:            clk.Now,
		Logger:         slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Tenants:        tenants(t),
		LoginTargets:   []string{"jira", "confluence"},
		Reactivator:    h.react,
	}
	if mod != nil {
		mod(&opts)
	}
	api, err := admin.New(db, h.rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = httptest.NewServer(api.Handler())
	t.Cleanup(h.srv.Close)
	if !strings.HasPrefix(h.srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server not on 127.0.0.1: %s", h.srv.URL)
	}
	return h
}

// resp is a finished response.
type resp struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic value.
func (r resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// request sends a request; token "" sends no Authorization header.
func (h *harness) request(method, path, token string, body []byte, header map[string]string) resp {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// admin sends a request with the admin token.
func (h *harness) admin(method, path string, body string) resp {
	h.t.Helper()
	return h.request(method, path, adminToken, []byte(body), nil)
}

// noSecrets fails if any secret of the setup appears in b or the log.
func (h *harness) noSecrets(b []byte) {
	h.t.Helper()
	for _, s := range []string{adminToken, scimToken, string(webhookSecret)} {
		if bytes.Contains(b, []byte(s)) {
			h.t.Errorf("a secret appears in a response: %s", b)
		}
		if strings.Contains(h.logs.String(), s) {
			h.t.Errorf("a secret appears in the log:\n%s", h.logs.String())
		}
	}
}

// wantError checks an error response: status, JSON {"error","detail"}
// with the code, and a detail containing detailPart.
func wantError(t testing.TB, r resp, status int, code, detailPart string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var e struct {
		Error  string `json:"error"`
		Detail string `json:"detail"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("error body is not {error, detail}: %v: %s", err, r.body)
	}
	if e.Error != code {
		t.Errorf("error %q, want %q (detail %q)", e.Error, code, e.Detail)
	}
	if e.Detail == "" || !strings.Contains(e.Detail, detailPart) {
		t.Errorf("detail %q, want it to contain %q", e.Detail, detailPart)
	}
}

// keys returns the sorted keys of a JSON object.
func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// seedRun stores a finished run with results.
func (h *harness) seedRun(kind, trigger string, started time.Time, results ...store.Result) store.Run {
	h.t.Helper()
	ctx := context.Background()
	fin := started.Add(time.Minute)
	counts := map[string]int{}
	for _, r := range results {
		counts[r.Action]++
	}
	run, err := h.db.CreateRun(ctx, store.Run{Kind: kind, Trigger: trigger, Status: "succeeded", StartedAt: started,
		FinishedAt: &fin, Counts: counts})
	if err != nil {
		h.t.Fatal(err)
	}
	for i := range results {
		results[i].RunID = run.ID
	}
	if err := h.db.AddResults(ctx, results); err != nil {
		h.t.Fatal(err)
	}
	return run
}

// errBoom is an internal error whose text must not reach a response.
var errBoom = errors.New("disk on fire at /var/lib/secret-path")
