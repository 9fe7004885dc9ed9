package atlassiantest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// These helpers talk plain HTTP and decode into generic JSON maps, so the fidelity tests check the
// wire format itself and cannot agree with a client package on a mistake.

const (
	testToken = "pat-secret"
	testUser  = "admin"
	testPass  = "admin-pass"
)

// fakeClock is the injected clock; the mutex keeps the race detector happy when the server
// goroutine reads it while the test advances it between requests.
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
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is one emulator behind a real loopback HTTP server.
type env struct {
	t     *testing.T
	e     *Emulator
	srv   *httptest.Server
	clock *fakeClock
	auth  string // Authorization header for API calls; "" sends none
}

func newEnv(t *testing.T, opts Options) *env {
	t.Helper()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	if opts.Now == nil {
		opts.Now = clock.now
	}
	if opts.Token == "" && opts.User == "" {
		opts.Token, opts.User, opts.Password = testToken, testUser, testPass
	}
	e := New(opts)
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	auth := "Bearer " + opts.Token
	if !e.version.pat() { // no PATs before Jira 8.14
		auth = basic(opts.User, opts.Password)
	}
	return &env{t: t, e: e, srv: srv, clock: clock, auth: auth}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

type resp struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) do(method, path string, body any) *resp {
	e.t.Helper()
	return e.doAuth(e.auth, method, path, body)
}

func (e *env) doAuth(auth, method, path string, body any) *resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return &resp{status: res.StatusCode, header: res.Header, body: raw}
}

// crowd calls the Crowd face with the application credentials.
func (e *env) crowd(method, path string, body any) *resp {
	e.t.Helper()
	return e.doAuth(basic(testUser, testPass), method, "/rest/usermanagement/1"+path, body)
}

// jira calls the Jira face with the PAT.
func (e *env) jira(method, path string, body any) *resp {
	e.t.Helper()
	return e.do(method, "/rest/api/2"+path, body)
}

func (r *resp) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

func (r *resp) arr(t *testing.T) []any {
	t.Helper()
	var a []any
	if err := json.Unmarshal(r.body, &a); err != nil {
		t.Fatalf("body is not a JSON array: %v\n%s", err, r.body)
	}
	return a
}

func (r *resp) want(t *testing.T, status int) *resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
	return r
}

// jiraErrorMessages checks the Jira envelope (atlassian-api.md 1.1) and returns its parts.
func jiraEnvelope(t *testing.T, r *resp) (msgs []string, fields map[string]string) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want application/json", ct)
	}
	var body struct {
		ErrorMessages *[]string          `json:"errorMessages"`
		Errors        *map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(r.body, &body); err != nil {
		t.Fatalf("not a Jira error envelope: %v\n%s", err, r.body)
	}
	if body.ErrorMessages == nil || body.Errors == nil {
		t.Fatalf("envelope lacks errorMessages or errors: %s", r.body)
	}
	return *body.ErrorMessages, *body.Errors
}

// crowdReason checks Crowd's {"reason","message"} body (atlassian-api.md 3.2).
func crowdReason(t *testing.T, r *resp) (reason, message string) {
	t.Helper()
	m := r.obj(t)
	reason, _ = m["reason"].(string)
	message, _ = m["message"].(string)
	if reason == "" || message == "" {
		t.Fatalf("not a Crowd error body: %s", r.body)
	}
	return reason, message
}

// createJiraUser creates a user through the Jira face and fails the test unless it gets 201.
func (e *env) createJiraUser(name string, appKeys ...string) map[string]any {
	e.t.Helper()
	body := map[string]any{"name": name, "emailAddress": strings.ToLower(name) + "@example.com", "displayName": name + " Doe"}
	if appKeys != nil {
		body["applicationKeys"] = appKeys
	}
	return e.jira("POST", "/user", body).want(e.t, http.StatusCreated).obj(e.t)
}

func (e *env) stateUser(name string) (StateUser, bool) {
	for _, u := range e.e.State().Users {
		if strings.EqualFold(u.Name, name) {
			return u, true
		}
	}
	return StateUser{}, false
}

func newServer(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func urlEscape(s string) string { return url.QueryEscape(s) }
