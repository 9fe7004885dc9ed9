package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The black-box test: build the real command with the go tool, start it on 127.0.0.1:0 and drive
// it over HTTP only, as issue 3 says it will be checked.

const (
	binToken = "bin-pat-T0k"
	binUser  = "binadmin"
	binPass  = "bin-pass-9"
	// The licence text of atlassian-api.md 1.9 (KB), which the emulator answers on seat exhaustion.
	licenceMsg = "You have exceeded the number of users allowed to use JIRA applications under your license"
)

// emulatorProc is a running atlassian-emulator binary.
type emulatorProc struct {
	t    *testing.T
	base string
	cmd  *exec.Cmd
	done chan error
	hc   *http.Client
}

// buildBinary compiles this package into a temporary directory and returns the executable's path.
func buildBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		// go test puts $GOROOT/bin on PATH, so this only happens when the test binary is run alone.
		t.Skipf("no go tool to build the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "atlassian-emulator")
	out, err := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startBinary runs bin with --addr 127.0.0.1:0 plus args and waits for its "listening on" line.
func startBinary(t *testing.T, bin string, args ...string) *emulatorProc {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &emulatorProc{t: t, cmd: cmd, done: make(chan error, 1), hc: &http.Client{Timeout: 10 * time.Second}}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			if first {
				lines <- sc.Text()
				first = false
			}
		}
		close(lines)
		p.done <- cmd.Wait() // after stdout is drained, as exec.Cmd requires
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("the binary exited before listening; stderr: %s", stderr.String())
		}
		_, rest, found := strings.Cut(line, "listening on ")
		if !found {
			t.Fatalf("unexpected first line %q", line)
		}
		p.base, _, _ = strings.Cut(rest, " ")
	case <-time.After(30 * time.Second):
		t.Fatalf("no listening line within 30s; stderr: %s", stderr.String())
	}
	if !strings.HasPrefix(p.base, "http://127.0.0.1:") || strings.HasSuffix(p.base, ":0") {
		t.Fatalf("listening on %q, want a real port on 127.0.0.1", p.base)
	}
	return p
}

// stop sends SIGTERM and checks the binary shuts down gracefully with exit status 0.
func (p *emulatorProc) stop() {
	p.t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			p.t.Fatalf("binary exited with %v after SIGTERM, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		p.t.Fatal("binary still running 20s after SIGTERM")
	}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends one request; auth is the Authorization header ("" for none), body a JSON string.
func (p *emulatorProc) do(method, path, auth, body string) answer {
	p.t.Helper()
	a, err := p.try(p.t.Context(), method, path, auth, body)
	if err != nil {
		p.t.Fatalf("%s %s: %v", method, path, err)
	}
	return a
}

func (p *emulatorProc) try(ctx context.Context, method, path, auth, body string) (answer, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.base+path, rd)
	if err != nil {
		return answer{}, err
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := p.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: res.StatusCode, header: res.Header, body: raw}, nil
}

func (a answer) want(t *testing.T, status int) answer {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d; body %s", a.status, status, a.body)
	}
	return a
}

// envelope checks Jira's error body (atlassian-api.md 1.1) and returns its two parts.
func (a answer) envelope(t *testing.T) ([]string, map[string]string) {
	t.Helper()
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("error Content-Type %q, want JSON; body %s", ct, a.body)
	}
	var b struct {
		ErrorMessages *[]string          `json:"errorMessages"`
		Errors        *map[string]string `json:"errors"`
	}
	if err := json.Unmarshal(a.body, &b); err != nil || b.ErrorMessages == nil || b.Errors == nil {
		t.Fatalf("not a Jira error envelope (%v): %s", err, a.body)
	}
	return *b.ErrorMessages, *b.Errors
}

func basicAuth(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// rawState is /_emulator/state with every object kept as raw fields, so that the exact key sets
// and JSON nulls can be checked.
type rawState struct {
	Users  []map[string]json.RawMessage `json:"users"`
	Groups []map[string]json.RawMessage `json:"groups"`
}

func (p *emulatorProc) state() rawState {
	p.t.Helper()
	a := p.do("GET", "/_emulator/state", "", "").want(p.t, http.StatusOK)
	var top map[string]json.RawMessage
	if err := json.Unmarshal(a.body, &top); err != nil {
		p.t.Fatalf("state: %v: %s", err, a.body)
	}
	if keys := slices.Sorted(maps.Keys(top)); !slices.Equal(keys, []string{"groups", "users"}) {
		p.t.Fatalf("state keys %v, want groups and users", keys)
	}
	var st rawState
	if err := json.Unmarshal(a.body, &st); err != nil {
		p.t.Fatalf("state: %v: %s", err, a.body)
	}
	for _, u := range st.Users {
		want := []string{"active", "displayName", "emailAddress", "groups", "key", "lastLoginTime", "name"}
		if keys := slices.Sorted(maps.Keys(u)); !slices.Equal(keys, want) {
			p.t.Fatalf("state user keys %v, want %v", keys, want)
		}
	}
	for _, g := range st.Groups {
		if keys := slices.Sorted(maps.Keys(g)); !slices.Equal(keys, []string{"members", "name"}) {
			p.t.Fatalf("state group keys %v, want members and name", keys)
		}
	}
	return st
}

func str(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("%s is not a string: %v", raw, err)
	}
	return s
}

func strs(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var s []string
	if err := json.Unmarshal(raw, &s); err != nil || s == nil {
		t.Fatalf("%s is not a string array: %v", raw, err)
	}
	return s
}

func (st rawState) user(t *testing.T, name string) (map[string]json.RawMessage, bool) {
	t.Helper()
	for _, u := range st.Users {
		if strings.EqualFold(str(t, u["name"]), name) {
			return u, true
		}
	}
	return nil, false
}

func (st rawState) group(t *testing.T, name string) []string {
	t.Helper()
	for _, g := range st.Groups {
		if str(t, g["name"]) == name {
			return strs(t, g["members"])
		}
	}
	t.Fatalf("state has no group %q", name)
	return nil
}

func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	p := startBinary(t, bin, "--token", binToken, "--user", binUser, "--password", binPass, "--license-seats", "1")
	pat, basic := "Bearer "+binToken, basicAuth(binUser, binPass)
	t.Run("BadFlags", func(t *testing.T) { badFlags(t, bin) })

	t.Run("Auth", func(t *testing.T) {
		for _, auth := range []string{pat, basic} {
			a := p.do("GET", "/rest/api/2/myself", auth, "").want(t, http.StatusOK)
			if a.header.Get("X-AUSERNAME") != binUser {
				t.Errorf("%s: X-AUSERNAME %q", auth[:6], a.header.Get("X-AUSERNAME"))
			}
		}
		if r := p.do("GET", "/rest/api/2/myself", basic, "").header.Get("X-Seraph-LoginReason"); r != "OK" {
			t.Errorf("basic success X-Seraph-LoginReason %q", r)
		}
		// Failed basic auth: Jira's 401 page and headers (atlassian-api.md 1.1).
		a := p.do("GET", "/rest/api/2/myself", basicAuth(binUser, "wrong"), "").want(t, http.StatusUnauthorized)
		if a.header.Get("X-Seraph-LoginReason") != "AUTHENTICATED_FAILED" ||
			!strings.Contains(string(a.body), "Basic Authentication Failure - Reason : AUTHENTICATED_FAILED") ||
			!strings.HasPrefix(a.header.Get("WWW-Authenticate"), "OAuth realm=") {
			t.Errorf("failed basic: headers %v body %s", a.header, a.body)
		}
		// A wrong PAT and no credentials: 401 with the JSON envelope.
		a = p.do("GET", "/rest/api/2/myself", "Bearer wrong", "").want(t, http.StatusUnauthorized)
		if msgs, _ := a.envelope(t); len(msgs) != 1 || a.header.Get("X-Seraph-LoginReason") != "AUTHENTICATED_FAILED" {
			t.Errorf("wrong PAT: %v %s", a.header, a.body)
		}
		if msgs, _ := p.do("GET", "/rest/api/2/myself", "", "").want(t, http.StatusUnauthorized).envelope(t); len(msgs) != 1 {
			t.Errorf("anonymous: %v", msgs)
		}
		for _, a := range []answer{a, p.do("GET", "/rest/api/2/myself", basicAuth(binUser, "wrong"), "")} {
			if bytes.Contains(a.body, []byte(binPass)) || bytes.Contains(a.body, []byte(binToken)) {
				t.Errorf("401 body leaks a credential: %s", a.body)
			}
		}
		// The Crowd face takes --user/--password as the application credentials.
		p.do("GET", "/rest/usermanagement/1/search?entity-type=user", basic, "").want(t, http.StatusOK)
		p.do("GET", "/rest/usermanagement/1/search?entity-type=user", basicAuth(binUser, "wrong"), "").want(t, http.StatusUnauthorized)
	})

	t.Run("LicenceAndState", func(t *testing.T) {
		created := p.do("POST", "/rest/api/2/user", pat,
			`{"name":"Jo","emailAddress":"jo@example.com","displayName":"Jo X","applicationKeys":["jira-software"]}`).want(t, http.StatusCreated)
		var u map[string]any
		if err := json.Unmarshal(created.body, &u); err != nil || u["key"] != "JIRAUSER10100" || u["name"] != "Jo" {
			t.Fatalf("create: %v %s", err, created.body)
		}
		// --license-seats 1 is used up: 400 with the licence message, and nothing changes.
		before := p.do("GET", "/_emulator/state", "", "").body
		a := p.do("POST", "/rest/api/2/user", pat,
			`{"name":"Al","emailAddress":"al@example.com","displayName":"Al X","applicationKeys":["jira-software"]}`).want(t, http.StatusBadRequest)
		if msgs, fields := a.envelope(t); !slices.Equal(msgs, []string{licenceMsg}) || len(fields) != 0 {
			t.Fatalf("over the licence: %s", a.body)
		}
		if after := p.do("GET", "/_emulator/state", "", "").body; !bytes.Equal(after, before) {
			t.Fatalf("refused create changed the state:\n%s\n%s", before, after)
		}
		// Without application access there is no seat to take; adding it to the access group is
		// refused the same way.
		p.do("POST", "/rest/api/2/user", pat, `{"name":"Al","emailAddress":"al@example.com","displayName":"Al X"}`).want(t, http.StatusCreated)
		a = p.do("POST", "/rest/api/2/group/user?groupname=jira-software-users", pat, `{"name":"al"}`).want(t, http.StatusBadRequest)
		if msgs, _ := a.envelope(t); !slices.Equal(msgs, []string{licenceMsg}) {
			t.Fatalf("membership over the licence: %s", a.body)
		}

		st := p.state()
		jo, ok := st.user(t, "jo")
		if !ok {
			t.Fatal("state lacks Jo")
		}
		if str(t, jo["name"]) != "Jo" || str(t, jo["key"]) != "JIRAUSER10100" || str(t, jo["displayName"]) != "Jo X" ||
			str(t, jo["emailAddress"]) != "jo@example.com" || string(jo["active"]) != "true" ||
			!slices.Equal(strs(t, jo["groups"]), []string{"jira-software-users"}) || string(jo["lastLoginTime"]) != "null" {
			t.Errorf("state user Jo %s", mustJSON(t, jo))
		}
		if al, _ := st.user(t, "al"); len(strs(t, al["groups"])) != 0 {
			t.Errorf("state user Al %s", mustJSON(t, al))
		}
		if m := st.group(t, "jira-software-users"); !slices.Equal(m, []string{"Jo"}) {
			t.Errorf("jira-software-users members %v", m)
		}
		if m := st.group(t, "jira-administrators"); len(m) != 0 {
			t.Errorf("jira-administrators members %v", m)
		}
	})

	t.Run("LoginAndContent", func(t *testing.T) {
		from := time.Now().Add(-time.Second)
		p.do("POST", "/_emulator/login", "", `{"username":"JO"}`).want(t, http.StatusNoContent)
		to := time.Now().Add(time.Second)
		jo, _ := p.state().user(t, "jo")
		at, err := time.Parse(time.RFC3339, str(t, jo["lastLoginTime"]))
		if err != nil || at.Before(from) || at.After(to) {
			t.Fatalf("lastLoginTime %s (%v), want RFC 3339 between %v and %v", jo["lastLoginTime"], err, from, to)
		}
		// Jira shows it too (atlassian-api.md 1.2).
		var ju map[string]any
		if err := json.Unmarshal(p.do("GET", "/rest/api/2/user?username=jo", pat, "").want(t, http.StatusOK).body, &ju); err != nil || ju["lastLoginTime"] == nil {
			t.Errorf("Jira user after login: %v %v", ju, err)
		}

		// An inactive user cannot log in.
		p.do("PUT", "/rest/api/2/user?username=al", pat, `{"active":false}`).want(t, http.StatusOK)
		p.do("POST", "/_emulator/login", "", `{"username":"al"}`).want(t, http.StatusForbidden)
		p.do("POST", "/_emulator/login", "", `{"username":"nobody"}`).want(t, http.StatusNotFound)
		if al, _ := p.state().user(t, "al"); string(al["lastLoginTime"]) != "null" || string(al["active"]) != "false" {
			t.Errorf("Al after refused login %s", mustJSON(t, al))
		}

		// Content blocks deletion (atlassian-api.md 1.6): 400, one message, the user stays.
		p.do("POST", "/_emulator/content", "", `{"username":"Al"}`).want(t, http.StatusNoContent)
		a := p.do("DELETE", "/rest/api/2/user?username=al", pat, "").want(t, http.StatusBadRequest)
		if msgs, _ := a.envelope(t); len(msgs) != 1 || !strings.Contains(msgs[0], "'Al'") {
			t.Errorf("delete veto %s", a.body)
		}
		if _, ok := p.state().user(t, "al"); !ok {
			t.Fatal("vetoed delete removed Al")
		}
		p.do("POST", "/rest/api/2/user", pat, `{"name":"Cy","emailAddress":"cy@example.com","displayName":"Cy X"}`).want(t, http.StatusCreated)
		p.do("DELETE", "/rest/api/2/user?username=CY", basic, "").want(t, http.StatusNoContent)
		if _, ok := p.state().user(t, "cy"); ok {
			t.Fatal("deleted Cy is still there")
		}
	})

	t.Run("Faults", func(t *testing.T) {
		// The example is accepted and echoed.
		example := `{"error_rate":0.2,"error_status":503,"latency_ms":10,"rate_limit_per_second":50,"burst":10,"drop_rate":0.01}`
		p.do("POST", "/_emulator/faults", "", example).want(t, http.StatusOK)
		var got map[string]any
		if err := json.Unmarshal(p.do("GET", "/_emulator/faults", "", "").want(t, http.StatusOK).body, &got); err != nil ||
			got["error_rate"] != 0.2 || got["error_status"] != 503.0 || got["latency_ms"] != 10.0 ||
			got["rate_limit_per_second"] != 50.0 || got["burst"] != 10.0 || got["drop_rate"] != 0.01 {
			t.Fatalf("faults in force %v (%v)", got, err)
		}

		// Rate limit: one token per 100 s and a bucket of 2, so the real clock refills nothing
		// during the test (atlassian-api.md 6.1, 8).
		p.do("POST", "/_emulator/faults", "", `{"rate_limit_per_second":0.01,"burst":2}`).want(t, http.StatusOK)
		for i, remaining := range []string{"1", "0"} {
			h := p.do("GET", "/rest/api/2/user?username=jo", pat, "").want(t, http.StatusOK).header
			if h.Get("X-RateLimit-Limit") != "2" || h.Get("X-RateLimit-Remaining") != remaining ||
				h.Get("X-RateLimit-Interval-Seconds") != "100" || h.Get("X-RateLimit-FillRate") != "1" || h.Get("Retry-After") != "0" {
				t.Fatalf("call %d headers %v", i, h)
			}
		}
		a := p.do("GET", "/rest/api/2/user?username=jo", pat, "").want(t, http.StatusTooManyRequests)
		retry, err := strconv.Atoi(a.header.Get("Retry-After"))
		if err != nil || retry < 1 || retry > 100 || a.header.Get("X-RateLimit-Remaining") != "0" || a.header.Get("X-RateLimit-Limit") != "2" ||
			a.header.Get("X-RateLimit-Interval-Seconds") != "100" || a.header.Get("X-RateLimit-FillRate") != "1" {
			t.Fatalf("429 headers %v", a.header)
		}
		// Basic auth and the Crowd face draw on the same bucket.
		p.do("GET", "/rest/api/2/user?username=jo", basic, "").want(t, http.StatusTooManyRequests)
		p.do("GET", "/rest/usermanagement/1/user?username=jo", basic, "").want(t, http.StatusTooManyRequests)
		// The control surface is never rate limited.
		for range 5 {
			p.do("GET", "/_emulator/state", "", "").want(t, http.StatusOK)
		}

		// Every other fault at full strength: the control surface still answers, unfaulted.
		p.do("POST", "/_emulator/faults", "", `{"error_rate":1,"error_status":500}`).want(t, http.StatusOK)
		if msgs, _ := p.do("GET", "/rest/api/2/user?username=jo", pat, "").want(t, http.StatusInternalServerError).envelope(t); len(msgs) != 1 {
			t.Errorf("injected error messages %v", msgs)
		}
		p.do("POST", "/_emulator/faults", "", `{"drop_rate":1}`).want(t, http.StatusOK)
		if a, err := p.try(t.Context(), "GET", "/rest/api/2/user?username=jo", pat, ""); err == nil {
			t.Fatalf("drop_rate 1 answered %d", a.status)
		}
		p.do("GET", "/_emulator/state", "", "").want(t, http.StatusOK)
		p.do("POST", "/_emulator/faults", "", `{"latency_ms":60000}`).want(t, http.StatusOK)
		// The API call waits out the latency (the client gives up first) ...
		ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
		_, err = p.try(ctx, "GET", "/rest/api/2/user?username=jo", pat, "")
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("API call under 60 s latency: %v, want the client's deadline", err)
		}
		// ... while the control surface answers at once (p.hc gives up after 10 s, not 60 s).
		p.do("GET", "/_emulator/faults", "", "").want(t, http.StatusOK)
		p.do("POST", "/_emulator/login", "", `{"username":"jo"}`).want(t, http.StatusNoContent)

		// A field that is zero or left out is off.
		for _, off := range []string{`{"error_rate":0,"error_status":503,"latency_ms":0,"rate_limit_per_second":0,"burst":5,"drop_rate":0}`, `{}`} {
			p.do("POST", "/_emulator/faults", "", off).want(t, http.StatusOK)
			for range 20 {
				a := p.do("GET", "/rest/api/2/user?username=jo", pat, "").want(t, http.StatusOK)
				if h := a.header.Get("X-RateLimit-Limit"); h != "" {
					t.Fatalf("faults %s: X-RateLimit-Limit %q without a rate limit", off, h)
				}
			}
		}
		// Bad fault settings are refused with 400 and change nothing.
		p.do("POST", "/_emulator/faults", "", `{"error_rate":2}`).want(t, http.StatusBadRequest)
		p.do("GET", "/rest/api/2/user?username=jo", pat, "").want(t, http.StatusOK)
	})

	t.Run("Reset", func(t *testing.T) {
		p.do("POST", "/_emulator/faults", "", `{"rate_limit_per_second":0.01,"burst":1}`).want(t, http.StatusOK)
		p.do("POST", "/_emulator/reset", "", "").want(t, http.StatusNoContent)
		st := p.state()
		if len(st.Users) != 0 || len(st.Groups) != 2 || len(st.group(t, "jira-administrators")) != 0 || len(st.group(t, "jira-software-users")) != 0 {
			t.Fatalf("state after reset: %+v", st)
		}
		var f map[string]any
		if err := json.Unmarshal(p.do("GET", "/_emulator/faults", "", "").body, &f); err != nil {
			t.Fatal(err)
		}
		for k, v := range f {
			if v != 0.0 && v != false {
				t.Errorf("fault %s = %v after reset", k, v)
			}
		}
		// No limiter, keys start over, and the licence seat is free again.
		for range 3 {
			if h := p.do("GET", "/rest/api/2/serverInfo", pat, "").want(t, http.StatusOK).header.Get("X-RateLimit-Limit"); h != "" {
				t.Fatalf("rate limit survived reset: %q", h)
			}
		}
		a := p.do("POST", "/rest/api/2/user", pat,
			`{"name":"Al","emailAddress":"al@example.com","displayName":"Al X","applicationKeys":["jira-software"]}`).want(t, http.StatusCreated)
		if !bytes.Contains(a.body, []byte(`"key":"JIRAUSER10100"`)) {
			t.Errorf("first user after reset: %s", a.body)
		}
	})

	p.stop()
}

// badFlags: the real binary exits with status 1, saying why, on flags run refuses.
func badFlags(t *testing.T, bin string) {
	for _, args := range [][]string{{"--license-seats", "-1"}, {"--password", "p"}, {"--jira-version", "nine"}} {
		cmd := exec.CommandContext(t.Context(), bin, append([]string{"--addr", "127.0.0.1:0"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(stderr.String(), "atlassian-emulator:") {
			t.Errorf("%v: %v, stderr %q", args, err, stderr.String())
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
