package main

import (
	"database/sql"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// fakeClock is a settable clock for the target cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openTestDB(t *testing.T) *sqlite.DB {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db.sqlite"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// jiraTargets builds real Jira clients for the named URLs and tokens.
func jiraTargets(t *testing.T, specs ...[3]string) []reconcile.Target {
	t.Helper()
	cfg := &config.Config{}
	for _, s := range specs {
		cfg.Targets = append(cfg.Targets, config.Target{
			Name: s[0], Kind: config.KindJiraDC, URL: s[1], Token: config.NewSecret(s[2]),
			RateLimit: 100, Burst: 10, Timeout: config.Duration(5 * time.Second),
		})
	}
	tgs, err := targets(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return tgs
}

func get(t *testing.T, h http.HandlerFunc, path string) (int, map[string]any) {
	t.Helper()
	w := httptest.NewRecorder()
	h(w, httptest.NewRequestWithContext(t.Context(), http.MethodGet, path, nil))
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: Content-Type %q", path, ct)
	}
	var body map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%s: %v in %q", path, err, w.Body.String())
	}
	return w.Code, body
}

func TestHealthzAlive(t *testing.T) {
	h := newHealth(openTestDB(t), nil, time.Now, slog.New(slog.DiscardHandler))
	code, body := get(t, h.healthz, "/healthz")
	if code != http.StatusOK || body["status"] != "ok" {
		t.Fatalf("healthz = %d %v", code, body)
	}
}

// readyz follows the database: ready while it takes writes, 503 once it
// does not, with a message that holds no internals.
func TestReadyzFollowsTheDatabase(t *testing.T) {
	st := openTestDB(t)
	var logs syncBuffer
	h := newHealth(st, nil, time.Now, slog.New(slog.NewJSONHandler(&logs, nil)))
	code, body := get(t, h.readyz, "/readyz")
	db, _ := body["database"].(map[string]any)
	if code != http.StatusOK || body["status"] != "ready" || db["status"] != "ok" {
		t.Fatalf("open database: readyz = %d %v", code, body)
	}

	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	code, body = get(t, h.readyz, "/readyz")
	db, _ = body["database"].(map[string]any)
	if code != http.StatusServiceUnavailable || body["status"] != "not ready" || db["status"] != "error" {
		t.Fatalf("closed database: readyz = %d %v", code, body)
	}
	if msg, _ := db["error"].(string); msg != "database does not accept writes" {
		t.Errorf("error shown = %q", msg)
	}
	if !strings.Contains(logs.String(), sqlite.ErrClosed.Error()) {
		t.Errorf("the store's error was not logged: %s", logs.String())
	}
}

// readyz is 503 while another process holds the database's write lock
// (the store cannot take a change), and ready again once it lets go.
func TestReadyzWhenWritesAreLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "db.sqlite")
	st, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := newHealth(st, nil, time.Now, slog.New(slog.DiscardHandler))
	h.dbTimeout = 300 * time.Millisecond

	other, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { other.Close() })
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	code, body := get(t, h.readyz, "/readyz")
	db, _ := body["database"].(map[string]any)
	if code != http.StatusServiceUnavailable || body["status"] != "not ready" ||
		db["error"] != "database write probe timed out after 300ms" {
		t.Fatalf("write lock held elsewhere: readyz = %d %v", code, body)
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	// The writer may still be in its busy wait for the lock; it gets it
	// shortly after the other process lets go.
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body = get(t, h.readyz, "/readyz")
		if code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz after the lock was released = %d %v", code, body)
		}
	}
}

// Targets are detail: one with good credentials is ok, one with a wrong
// token auth_failed, one that is down unreachable, and readiness stays 200.
// Their status is probed at most once per targetProbeTTL.
func TestReadyzReportsTargetsWithoutFailing(t *testing.T) {
	emu := atlassiantest.New(atlassiantest.Options{Token: "jira-pat"})
	up := httptest.NewServer(emu)
	t.Cleanup(up.Close)
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close() // its port now refuses connections

	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	tgs := jiraTargets(t, [3]string{"jira", up.URL, "jira-pat"}, [3]string{"jira-wrongtoken", up.URL, "nope"},
		[3]string{"jira-down", down.URL, "jira-pat"})
	h := newHealth(openTestDB(t), tgs, clock.now, slog.New(slog.DiscardHandler))

	code, body := get(t, h.readyz, "/readyz")
	if code != http.StatusOK || body["status"] != "ready" {
		t.Fatalf("readyz = %d %v", code, body)
	}
	tg, _ := body["targets"].(map[string]any)
	want := map[string]string{"jira": "ok", "jira-wrongtoken": "auth_failed", "jira-down": "unreachable"}
	for name, status := range want {
		s, _ := tg[name].(map[string]any)
		if s["status"] != status {
			t.Errorf("target %s: %v, want status %s", name, s, status)
		}
		if s["checked_at"] != clock.now().Format(time.RFC3339) {
			t.Errorf("target %s: checked_at %v", name, s["checked_at"])
		}
	}
	if s, _ := tg["jira-wrongtoken"].(map[string]any); s["error"] != "unauthorized" {
		t.Errorf("wrong token: error %v", s["error"])
	}

	probes := func() int {
		n := 0
		for _, r := range emu.Requests() {
			if strings.Contains(r.Query, probeUser) {
				n++
			}
		}
		return n
	}
	if got := probes(); got != 2 {
		t.Fatalf("first readyz: %d probe requests reached the emulator, want 2 (good and wrong token)", got)
	}
	clock.advance(targetProbeTTL - time.Second)
	get(t, h.readyz, "/readyz")
	if got := probes(); got != 2 {
		t.Fatalf("readyz within the TTL probed again: %d requests", got)
	}
	clock.advance(time.Second)
	get(t, h.readyz, "/readyz")
	if got := probes(); got != 4 {
		t.Fatalf("readyz after the TTL: %d probe requests, want 4", got)
	}
}

func TestClassifyProbe(t *testing.T) {
	if s := classifyProbe(nil); s.Status != "ok" {
		t.Errorf("nil: %+v", s)
	}
	if s := classifyProbe(errFake("boom")); s.Status != "unreachable" || s.Error != "other" {
		t.Errorf("plain error: %+v", s)
	}
}

type errFake string

func (e errFake) Error() string { return string(e) }

func TestHealthcheckCommand(t *testing.T) {
	status := http.StatusOK
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	var out, errb syncBuffer
	if err := run(t.Context(), []string{"healthcheck", "--url", srv.URL + "/healthz"}, env(nil), &out, &errb); err != nil || out.String() != "healthy\n" {
		t.Fatalf("healthy server: %v, output %q", err, out.String())
	}
	mu.Lock()
	status = http.StatusServiceUnavailable
	mu.Unlock()
	if err := run(t.Context(), []string{"healthcheck", "--url", srv.URL + "/healthz"}, env(nil), &out, &errb); err == nil || !strings.Contains(err.Error(), "HTTP 503") {
		t.Fatalf("503: err = %v", err)
	}
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	if err := run(t.Context(), []string{"healthcheck", "--url", down.URL + "/healthz", "--timeout", "2s"}, env(nil), &out, &errb); err == nil {
		t.Fatal("a server that is down passed the health check")
	}
	for _, bad := range []string{"file:///etc/passwd", "127.0.0.1:8080/healthz", "http://"} {
		if err := run(t.Context(), []string{"healthcheck", "--url", bad}, env(nil), &out, &errb); err == nil || !strings.Contains(err.Error(), "want an http or https URL") {
			t.Errorf("--url %q: err = %v", bad, err)
		}
	}
}
