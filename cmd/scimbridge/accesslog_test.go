package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

func TestRequestID(t *testing.T) {
	for _, given := range []string{"abc", "0f8fad5b-d9cb-469f-a165-70867728950e", "Root=1-5759e988:trace.id_x", strings.Repeat("a", maxRequestIDLen)} {
		if got := requestID(given); got != given {
			t.Errorf("requestID(%q) = %q, want it kept", given, got)
		}
	}
	seen := map[string]bool{}
	for _, given := range []string{"", "has space", "line\nbreak", `quote"`, "ünïcode", strings.Repeat("a", maxRequestIDLen+1)} {
		got := requestID(given)
		if got == given || len(got) < 16 || requestID(got) != got || seen[got] {
			t.Errorf("requestID(%q) = %q, want a fresh sane id", given, got)
		}
		seen[got] = true
	}
}

func TestTenantOf(t *testing.T) {
	tenants := []string{"okta", "entra"}
	for path, want := range map[string]string{
		"/scim/v2/okta/Users":                "okta",
		"/scim/v2/entra":                     "entra",
		"/scim/v2/evil\"tenant/Users":        "",
		"/scim/v2/":                          "",
		"/api/v1/users/okta/123/history":     "okta",
		"/api/v1/runs":                       "",
		"/healthz":                           "",
		"/scim/v2/oktaX/Users":               "",
		"/scim/v2/" + strings.Repeat("a", 9): "",
	} {
		if got := tenantOf(path, tenants); got != want {
			t.Errorf("tenantOf(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestRedactJSON(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"userName":"a","password":"hunter2"}`, `{"password":"[redacted]","userName":"a"}`},
		{`{"Password":{"nested":"x"},"n":1.50}`, `{"Password":"[redacted]","n":1.50}`},
		{`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7"},"urn:x:User:password":"p"}`,
			`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7"},"urn:x:User:password":"[redacted]"}`},
		// A PATCH operation on the password: the value is the secret.
		{`{"Operations":[{"value":"s3cret","op":"replace","path":"password"},{"op":"add","path":"title","value":"Boss"}]}`,
			`{"Operations":[{"op":"replace","path":"password","value":"[redacted]"},{"op":"add","path":"title","value":"Boss"}]}`},
		{`{"Operations":[{"op":"Replace","value":{"password":"s3cret","active":true}}]}`,
			`{"Operations":[{"op":"Replace","value":{"active":true,"password":"[redacted]"}}]}`},
		{`[{"access_token":"a","client_secret":"b","apiKey":"c","x-api-key":"d","refreshToken":"e"}]`,
			`[{"access_token":"[redacted]","apiKey":"[redacted]","client_secret":"[redacted]","refreshToken":"[redacted]","x-api-key":"[redacted]"}]`},
		{`"<just a string>"`, `"<just a string>"`},
	} {
		got, ok := redactJSON([]byte(tc.in))
		if !ok || string(got) != tc.want {
			t.Errorf("redactJSON(%s) = %s, %v\nwant %s", tc.in, got, ok, tc.want)
		}
	}
	for _, bad := range []string{``, `{"password":"x"`, `{"a":1} {"password":"x"}`, `password=x`, `{"a":1}garbage`} {
		if got, ok := redactJSON([]byte(bad)); ok {
			t.Errorf("redactJSON(%q) = %s, want refused", bad, got)
		}
	}
}

// checkRedacted fails when a secret-named member of v holds anything but
// the redaction mark.
func checkRedacted(v any) error {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if isSecretName(k) && val != redacted {
				return fmt.Errorf("member %q kept %v", k, val)
			}
			if p, ok := x["path"].(string); ok && isSecretName(p) && k == "value" && val != redacted {
				return fmt.Errorf("value of a PATCH on %q kept %v", p, val)
			}
			if err := checkRedacted(val); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range x {
			if err := checkRedacted(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func FuzzRedactJSON(f *testing.F) {
	for _, s := range []string{
		`{"password":"x"}`, `{"Operations":[{"op":"replace","path":"password","value":"x"}]}`,
		`[1,2,{"token":null}]`, `{"a":{"b":{"secret":[1]}}}`, `"x"`, `{`, `{"path":"password","value":{"x":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, ok := redactJSON(data)
		if !ok {
			return
		}
		var v any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("output %q is not JSON: %v", out, err)
		}
		if err := checkRedacted(v); err != nil {
			t.Fatalf("redactJSON(%q) = %q: %v", data, out, err)
		}
		// traceBody never panics and never exceeds its budget by more than
		// its own note, whatever the cut.
		c := &capture{limit: traceCaptureLimit}
		c.add(data)
		if s := traceBody(c, 17); len(s) > 17+len("… [cut: 1048576 bytes redacted]")+len("…") {
			t.Fatalf("traceBody cut to 17 gave %d bytes: %q", len(s), s)
		}
	})
}

func TestContextHandlerAddsRequestAttrs(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(newContextHandler(slog.NewJSONHandler(&buf, nil)))
	ctx := withRequestInfo(context.Background(), requestInfo{id: "rid-1", tenant: "okta"})
	log.InfoContext(ctx, "one")
	log.With("tenant", "okta").InfoContext(ctx, "two")
	log.InfoContext(ctx, "three", "request_id", "own")
	log.Info("four") // no request
	lines := decodeLines(t, buf.String())
	if len(lines) != 4 {
		t.Fatalf("%d lines: %s", len(lines), buf.String())
	}
	if lines[0]["request_id"] != "rid-1" || lines[0]["tenant"] != "okta" {
		t.Errorf("line one: %v", lines[0])
	}
	if strings.Count(strings.Split(buf.String(), "\n")[1], `"tenant"`) != 1 || lines[1]["request_id"] != "rid-1" {
		t.Errorf("line two repeats the tenant or lacks the id: %s", strings.Split(buf.String(), "\n")[1])
	}
	if strings.Count(strings.Split(buf.String(), "\n")[2], `"request_id"`) != 1 || lines[2]["request_id"] != "own" {
		t.Errorf("line three: %s", strings.Split(buf.String(), "\n")[2])
	}
	if _, ok := lines[3]["request_id"]; ok {
		t.Errorf("line four has a request id: %v", lines[3])
	}
}

func decodeLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 4<<20)
	for sc.Scan() {
		if sc.Text() == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %q", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// echo answers every request with its body, as a SCIM server echoes a
// created resource.
var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(http.StatusCreated)
	_, _ = w.Write(b)
})

func TestTraceOffByDefault(t *testing.T) {
	var buf syncBuffer
	h := requestLog(slog.New(newContextHandler(slog.NewJSONHandler(&buf, nil))), echo, requestLogOptions{Tenants: []string{"okta"}})
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/scim/v2/okta/Users", strings.NewReader(`{"userName":"a","password":"hunter2"}`)))
	lines := decodeLines(t, buf.String())
	if len(lines) != 1 || lines[0]["msg"] != "http request" {
		t.Fatalf("lines: %s", buf.String())
	}
	l := lines[0]
	if l["status"] != float64(201) || l["method"] != "POST" || l["path"] != "/scim/v2/okta/Users" || l["tenant"] != "okta" ||
		l["request_id"] == nil || l["request_id"] != w.Header().Get(requestIDHeader) || l["duration_ms"] == nil {
		t.Errorf("access line: %v (response id %q)", l, w.Header().Get(requestIDHeader))
	}
	if strings.Contains(buf.String(), "hunter2") || strings.Contains(buf.String(), "userName") {
		t.Errorf("a body was logged with the trace off: %s", buf.String())
	}
	if w.Body.String() != `{"userName":"a","password":"hunter2"}` {
		t.Errorf("the wrapper changed the response: %q", w.Body.String())
	}
}

func TestTraceCutsAndSkipsBodies(t *testing.T) {
	var buf syncBuffer
	h := requestLog(slog.New(slog.NewJSONHandler(&buf, nil)), echo, requestLogOptions{Trace: true, MaxBodyBytes: 64})
	long := `{"displayName":"` + strings.Repeat("x", 500) + `","password":"hunter2"}`
	huge := `{"displayName":"` + strings.Repeat("y", traceCaptureLimit) + `"}`
	for _, body := range []string{long, huge, "password=hunter2&user=a"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(body)))
	}
	var traces []map[string]any
	for _, l := range decodeLines(t, buf.String()) {
		if l["msg"] == "http trace" {
			traces = append(traces, l)
		}
	}
	if len(traces) != 3 {
		t.Fatalf("%d trace lines", len(traces))
	}
	cut, _ := traces[0]["request_body"].(string)
	if !strings.HasPrefix(cut, `{"displayName":"xxx`) || !strings.Contains(cut, "[cut: ") || len(cut) > 64+40 {
		t.Errorf("long body traced as %q", cut)
	}
	if got := traces[1]["request_body"]; got != fmt.Sprintf("[%d bytes, not logged: larger than %d bytes]", len(huge), traceCaptureLimit) {
		t.Errorf("huge body traced as %.100q", got)
	}
	if got := traces[2]["request_body"]; got != "[23 bytes, not logged: not JSON]" {
		t.Errorf("form body traced as %q", got)
	}
	if strings.Contains(buf.String(), "hunter2") {
		t.Error("a password reached the log")
	}
}

// The check: with the trace on, a run's logs are searched for
// every token and password used. They hold the traced requests (method,
// path, status, latency, redacted bodies), a request id and the tenant on
// every request's lines, and none of the secrets.
func TestTraceLogsHoldNoSecrets(t *testing.T) {
	const (
		scimToken  = "scim-token-d41d8cd9"
		adminToken = "admin-token-8f00b204"
		jiraToken  = "jira-pat-e9800998"
		badToken   = "guessed-token-ecf8427e"
		password1  = "Pa55word-first-1a2b"
		password2  = "Pa55word-second-3c4d"
		password3  = "Pa55word-third-5e6f"
		queryToken = "query-token-7a8b9c"
	)
	secrets := []string{scimToken, adminToken, jiraToken, badToken, password1, password2, password3, queryToken}

	emu := atlassiantest.New(atlassiantest.Options{Token: jiraToken})
	jira := httptest.NewServer(emu)
	t.Cleanup(jira.Close)
	cfgPath := writeConfig(t, fmt.Sprintf(`listen: 127.0.0.1:0
database: %s
log_level: debug
trace: {enabled: true}
admin: {token_env: ADMIN}
targets:
  - {name: jira, kind: jira-dc, url: %s, token_env: JIRA_TOKEN, rate_limit: 1000, burst: 100}
tenants:
  - {name: okta, preset: okta, token_env: T}
`, filepath.Join(t.TempDir(), "db.sqlite"), jira.URL))
	ctx, cancel := context.WithCancel(t.Context())
	var out, logs syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath},
			env(map[string]string{"T": scimToken, "ADMIN": adminToken, "JIRA_TOKEN": jiraToken}), &out, &logs)
	}()
	base := "http://" + waitFor(t, &out, "listening on http://")

	call := func(method, path, token, reqID, body string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if reqID != "" {
			req.Header.Set(requestIDHeader, reqID)
		}
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := call(http.MethodPost, "/scim/v2/okta/Users", scimToken, "idp-req-0001", fmt.Sprintf(
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"trace-user@example.com","password":%q,`+
			`"name":{"givenName":"Trace","familyName":"User"},"emails":[{"value":"trace-user@example.com","primary":true}],"active":true}`, password1))
	if resp.StatusCode != http.StatusCreated || resp.Header.Get(requestIDHeader) != "idp-req-0001" {
		t.Fatalf("create: %d, request id %q: %s", resp.StatusCode, resp.Header.Get(requestIDHeader), body)
	}
	var created struct{ ID string }
	if err := json.Unmarshal([]byte(body), &created); err != nil || created.ID == "" {
		t.Fatalf("create answer %s: %v", body, err)
	}
	patches := []string{
		fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"password","value":%q}]}`, password2),
		fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"password":%q,"displayName":"Trace U."}}]}`, password3),
	}
	for _, p := range patches {
		if resp, body := call(http.MethodPatch, "/scim/v2/okta/Users/"+created.ID, scimToken, "bad id\twith tab", p); resp.StatusCode >= 300 {
			t.Fatalf("patch: %d %s", resp.StatusCode, body)
		} else if id := resp.Header.Get(requestIDHeader); id == "" || strings.ContainsAny(id, " \t") {
			t.Fatalf("an insane request id was echoed: %q", id)
		}
	}
	if resp, _ := call(http.MethodGet, "/scim/v2/okta/Users?count=1&access_token="+queryToken, badToken, "", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", resp.StatusCode)
	}
	if resp, body := call(http.MethodGet, "/api/v1/runs", adminToken, "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("admin runs: %d %s", resp.StatusCode, body)
	}
	if resp, _ := call(http.MethodGet, "/readyz", "", "", ""); resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz: %d", resp.StatusCode)
	}
	// Wait until the engine applied the user, so the Jira calls (with the
	// Jira token) are part of the logs too.
	waitUntil(t, func() bool { return len(emu.State().Users) == 1 })
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}

	all := logs.String() + out.String()
	for _, s := range secrets {
		if strings.Contains(all, s) {
			t.Errorf("secret %q is in the logs", s)
		}
	}
	lines := decodeLines(t, logs.String())
	var traces, requests int
	for _, l := range lines {
		switch l["msg"] {
		case "http trace":
			traces++
			if l["method"] == nil || l["path"] == nil || l["status"] == nil || l["duration_ms"] == nil {
				t.Errorf("trace line lacks a field: %v", l)
			}
			if h, _ := l["request_headers"].(map[string]any); h["Authorization"] != nil && h["Authorization"] != redacted {
				t.Errorf("Authorization traced as %v", h["Authorization"])
			}
		case "http request":
			requests++
		default:
			continue
		}
		if id, _ := l["request_id"].(string); id == "" {
			t.Errorf("request line without request_id: %v", l)
		}
		if p, _ := l["path"].(string); strings.HasPrefix(p, "/scim/v2/okta/") && l["tenant"] != "okta" {
			t.Errorf("SCIM line without the tenant: %v", l)
		}
	}
	if traces != 6 || requests != 6 {
		t.Errorf("%d trace and %d access lines, want 6 of each", traces, requests)
	}
	var create map[string]any
	for _, l := range lines {
		if l["msg"] == "http trace" && l["request_id"] == "idp-req-0001" {
			create = l
		}
	}
	reqBody, _ := create["request_body"].(string)
	respBody, _ := create["response_body"].(string)
	if !strings.Contains(reqBody, `"password":"[redacted]"`) || !strings.Contains(reqBody, `"userName":"trace-user@example.com"`) ||
		!strings.Contains(respBody, created.ID) || create["tenant"] != "okta" || create["status"] != float64(201) {
		t.Errorf("create trace: %v", create)
	}
}

// waitUntil polls cond with a deadline.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline
	}
	t.Fatal("condition not met within 20 s")
}

// The hand-built access line (requestLogOptions.Access) carries the same
// keys, values and order as the slog line it replaces, for any path or
// user agent, and honours the level.
func TestAccessLineMatchesSlog(t *testing.T) {
	reqs := []struct{ method, target, ua string }{
		{http.MethodGet, "/scim/v2/okta/Users?filter=x", "Okta SCIM Client 1.0.0"},
		{http.MethodPost, "/scim/v2/entra/Users", `quote" back\slash` + "\n\t\x01 ünï \u2028"},
		{http.MethodGet, "/scim/v2/%22evil%0A%ff/Users", "bad utf8 \xff\xfe end"},
		{http.MethodDelete, "/" + strings.Repeat("é", 400), strings.Repeat("ü", 300)},
		{http.MethodGet, "/healthz", "probe"}, // debug: not logged at info
	}
	run := func(fast bool) []map[string]any {
		var buf syncBuffer
		out := &lockedWriter{w: &buf}
		log := slog.New(newContextHandler(slog.NewJSONHandler(out, nil)))
		opts := requestLogOptions{Tenants: []string{"okta", "entra"}}
		if fast {
			opts.Access, opts.AccessLevel = out, slog.LevelInfo
		}
		h := requestLog(log, echo, opts)
		for _, rq := range reqs {
			r := httptest.NewRequest(rq.method, "http://x"+"/", strings.NewReader(`{"a":1}`))
			r.URL.Path, r.URL.RawQuery = rq.target, ""
			if p, q, ok := strings.Cut(rq.target, "?"); ok {
				r.URL.Path, r.URL.RawQuery = p, q
			}
			r.Header.Set("User-Agent", rq.ua)
			r.Header.Set(requestIDHeader, "req-1")
			h.ServeHTTP(httptest.NewRecorder(), r)
		}
		if err := out.Flush(); err != nil { // access lines wait up to accessFlushDelay
			t.Fatal(err)
		}
		var lines []map[string]any
		for line := range strings.SplitSeq(strings.TrimSuffix(buf.String(), "\n"), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("fast=%v: line is not JSON: %v\n%q", fast, err, line)
			}
			if _, err := time.Parse(time.RFC3339Nano, m["time"].(string)); err != nil {
				t.Errorf("fast=%v: time %v: %v", fast, m["time"], err)
			}
			delete(m, "time")
			delete(m, "duration_ms")
			lines = append(lines, m)
		}
		return lines
	}
	slow, fast := run(false), run(true)
	if len(slow) != len(reqs)-1 {
		t.Fatalf("slog wrote %d lines, want %d", len(slow), len(reqs)-1)
	}
	if diff := cmp.Diff(slow, fast); diff != "" {
		t.Errorf("hand-built lines differ from slog's (-slog +hand):\n%s", diff)
	}
}

func TestAccessLineKeyOrder(t *testing.T) {
	var buf syncBuffer
	out := &lockedWriter{w: &buf}
	h := requestLog(slog.New(slog.DiscardHandler), echo, requestLogOptions{Tenants: []string{"okta"}, Access: out, AccessLevel: slog.LevelWarn})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/scim/v2/okta/Users", nil))
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "" {
		t.Fatalf("an info line was written at level warn: %s", buf.String())
	}
	h = requestLog(slog.New(slog.DiscardHandler), echo, requestLogOptions{Tenants: []string{"okta"}, Access: out})
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/scim/v2/okta/Users", nil))
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	keys := []string{`{"time":`, `,"level":"INFO"`, `,"msg":"http request"`, `,"method":"GET"`, `,"path":`, `,"status":201`, `,"bytes":0`,
		`,"duration_ms":`, `,"remote":`, `,"user_agent":`, `,"request_id":`, `,"tenant":"okta"}`}
	line, at := buf.String(), 0
	for _, k := range keys {
		i := strings.Index(line[at:], k)
		if i < 0 {
			t.Fatalf("%s missing or out of order in %s", k, line)
		}
		at += i + len(k)
	}
	if !strings.HasSuffix(line, "}\n") || strings.Count(line, "\n") != 1 {
		t.Errorf("not one line: %q", line)
	}
}

func BenchmarkAccessLine(b *testing.B) {
	for _, fast := range []bool{false, true} {
		b.Run(fmt.Sprintf("hand=%v", fast), func(b *testing.B) {
			out := &lockedWriter{w: io.Discard}
			opts := requestLogOptions{Tenants: []string{"okta"}}
			if fast {
				opts.Access = out
			}
			h := requestLog(slog.New(newContextHandler(slog.NewJSONHandler(out, nil))), http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}), opts)
			r := httptest.NewRequest(http.MethodGet, "/scim/v2/okta/Users?filter=userName%20eq%20%22a%22", nil)
			r.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}
