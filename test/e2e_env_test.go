package test

// The end-to-end environment (issue 4 item 7): the real atlassian-emulator
// and scimbridge binaries as separate processes, scimbridge configured from
// testdata/e2e/scimbridge.yaml.tmpl, and polling of the emulator's state
// until it matches what the config says it must be.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

const (
	// e2eJiraToken is the emulator's personal access token, given to
	// scimbridge through E2E_JIRA_TOKEN.
	e2eJiraToken = "e2e-jira-pat-5b1c0e7d2a9f4c3e8d6b1a0f"
	// e2eEntraToken is the entra tenant's static SCIM token
	// (E2E_ENTRA_SCIM_TOKEN); the okta tenant uses binOktaToken, which
	// startProcess puts in TEST_OKTA_SCIM_TOKEN.
	e2eEntraToken = "e2e-entra-static-scim-token-0c4f9a7e1b2d"
	// e2eAdminToken is the admin API's token (E2E_ADMIN_TOKEN).
	e2eAdminToken = "e2e-admin-token-9d2e7c4b1a6f3e8d"
	// convergeDeadline bounds every wait for Jira to show what the config
	// says. The engine applies asynchronously; with injected faults it backs
	// off (1 s doubling), so this is generous; a passing wait returns as soon
	// as the state matches.
	convergeDeadline = 45 * time.Second
	// pollEvery is the interval between two reads of the emulator's state.
	pollEvery = 40 * time.Millisecond
)

var (
	emuBuildOnce sync.Once
	emuBinPath   string
	emuBuildErr  error
)

// buildEmulator builds ./cmd/atlassian-emulator once per test process, next
// to the scimbridge binary (so TestMain's cleanupBinary removes it too).
func buildEmulator(t *testing.T) string {
	t.Helper()
	buildBinary(t) // creates binDir
	emuBuildOnce.Do(func() {
		emuBinPath = filepath.Join(binDir, "atlassian-emulator")
		cmd := exec.Command("go", "build", "-o", emuBinPath, "./cmd/atlassian-emulator")
		cmd.Dir = ".."
		if out, err := cmd.CombinedOutput(); err != nil {
			emuBuildErr = fmt.Errorf("go build ./cmd/atlassian-emulator: %v\n%s", err, out)
		}
	})
	if emuBuildErr != nil {
		t.Fatal(emuBuildErr)
	}
	return emuBinPath
}

// emulator is one running atlassian-emulator process.
type emulator struct {
	url    string // http://127.0.0.1:PORT
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan struct{}
	client *http.Client
}

// startEmulator runs the emulator on a free port with e2eJiraToken and waits
// for its listening line.
func startEmulator(t *testing.T) *emulator {
	t.Helper()
	cmd := exec.Command(buildEmulator(t), "--addr", "127.0.0.1:0", "--token", e2eJiraToken, "--seed", "4242")
	em := &emulator{cmd: cmd, out: &syncBuffer{}, done: make(chan struct{}), client: &http.Client{Timeout: 30 * time.Second}}
	cmd.Stderr = em.out
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(em.out, line)
			if rest, ok := strings.CutPrefix(line, "atlassian-emulator listening on "); ok {
				u, _, _ := strings.Cut(rest, " ")
				select {
				case urlc <- u:
				default:
				}
			}
		}
		_, _ = io.Copy(em.out, pipe)
		_ = cmd.Wait()
		close(em.done)
	}()
	t.Cleanup(func() {
		select {
		case <-em.done:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		timer := time.NewTimer(10 * time.Second)
		defer timer.Stop()
		select {
		case <-em.done:
		case <-timer.C:
			_ = cmd.Process.Kill()
			<-em.done
		}
	})
	timer := time.NewTimer(startDeadline)
	defer timer.Stop()
	select {
	case em.url = <-urlc:
	case <-em.done:
		t.Fatalf("atlassian-emulator exited before listening:\n%s", em.out)
	case <-timer.C:
		t.Fatalf("atlassian-emulator did not print its listening line within %v:\n%s", startDeadline, em.out)
	}
	return em
}

// control sends one request to the emulator's control surface and decodes
// the answer into out (when non-nil). It fails the test on any error.
func (em *emulator) control(t *testing.T, method, path string, body, out any, want int) {
	t.Helper()
	if err := em.controlErr(t.Context(), method, path, body, out, want); err != nil {
		t.Fatal(err)
	}
}

func (em *emulator) controlErr(ctx context.Context, method, path string, body, out any, want int) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, em.url+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := em.client.Do(req)
	if err != nil {
		return fmt.Errorf("emulator %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("emulator %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want {
		return fmt.Errorf("emulator %s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, clip(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("emulator %s %s: decode %s: %w", method, path, clip(data), err)
		}
	}
	return nil
}

// state reads GET /_emulator/state.
func (em *emulator) state(ctx context.Context) (atlassiantest.State, error) {
	var st atlassiantest.State
	err := em.controlErr(ctx, http.MethodGet, "/_emulator/state", nil, &st, http.StatusOK)
	return st, err
}

// setFaults switches fault injection (the zero Faults switches it off).
func (em *emulator) setFaults(t *testing.T, f atlassiantest.Faults) {
	t.Helper()
	var got atlassiantest.Faults
	em.control(t, http.MethodPost, "/_emulator/faults", f, &got, http.StatusOK)
	if got != f {
		t.Fatalf("emulator took faults %+v, want %+v", got, f)
	}
}

// seedUser creates a user in Jira as if it had been there before the
// bridge (POST /_emulator/users) and returns it as the state shows it.
func (em *emulator) seedUser(t *testing.T, name, display, email string, groups []string) atlassiantest.StateUser {
	t.Helper()
	var su atlassiantest.StateUser
	em.control(t, http.MethodPost, "/_emulator/users", map[string]any{
		"name": name, "displayName": display, "emailAddress": email, "groups": groups,
	}, &su, http.StatusCreated)
	if su.Key == "" {
		t.Fatalf("seeded user %q has no key: %+v", name, su)
	}
	return su
}

// setContent marks a Jira user as owning issues, so Jira refuses to delete it.
func (em *emulator) setContent(t *testing.T, username string) {
	t.Helper()
	em.control(t, http.MethodPost, "/_emulator/content", map[string]string{"username": username}, nil, http.StatusNoContent)
}

// requests returns the emulator's request log (API calls only).
func (em *emulator) requests(t *testing.T) []atlassiantest.RequestRecord {
	t.Helper()
	var recs []atlassiantest.RequestRecord
	em.control(t, http.MethodGet, "/_emulator/requests", nil, &recs, http.StatusOK)
	return recs
}

// e2eOptions are the knobs of one environment's config.
type e2eOptions struct {
	rateLimit     float64 // requests per second scimbridge allows itself towards Jira
	burst         int
	entraOnDelete string // lifecycle.on_delete of the entra tenant
}

// e2eEnv is one emulator and one scimbridge serving the e2e config.
type e2eEnv struct {
	emu    *emulator
	bin    string
	cfg    string // config file; the database sits next to it
	sb     *process
	client *http.Client
}

// newE2E starts a fresh emulator and a scimbridge on a fresh database.
// It sets environment variables, so its test must not run in parallel
// (its subtests may).
func newE2E(t *testing.T, o e2eOptions) *e2eEnv {
	t.Helper()
	t.Setenv("E2E_JIRA_TOKEN", e2eJiraToken)
	t.Setenv("E2E_ENTRA_SCIM_TOKEN", e2eEntraToken)
	t.Setenv("E2E_ADMIN_TOKEN", e2eAdminToken)
	bin := buildBinary(t)
	emu := startEmulator(t)
	e := &e2eEnv{emu: emu, bin: bin, client: &http.Client{Timeout: 30 * time.Second}}
	e.cfg = writeE2EConfig(t, t.TempDir(), emu.url, o)
	e.sb = startProcess(t, bin, e.cfg)
	return e
}

// restart starts scimbridge again on the same config and database (the
// previous process must have exited).
func (e *e2eEnv) restart(t *testing.T) {
	t.Helper()
	select {
	case <-e.sb.done:
	default:
		t.Fatal("restart: the previous scimbridge is still running")
	}
	e.sb = startProcess(t, e.bin, e.cfg)
}

// root is scimbridge's base URL.
func (e *e2eEnv) root() string { return "http://" + e.sb.addr }

func writeE2EConfig(t *testing.T, dir, jiraURL string, o e2eOptions) string {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "e2e", "scimbridge.yaml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]any{
		"Port": freePort(t), "JiraURL": jiraURL, "RateLimit": o.rateLimit, "Burst": o.burst,
		"EntraOnDelete": o.entraOnDelete,
	}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "scimbridge.yaml")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// awaitJira polls the emulator's state until check returns "" (the state is
// as wanted) or the deadline passes; then it fails with check's last
// complaint and the end of scimbridge's log.
func (e *e2eEnv) awaitJira(t *testing.T, what string, check func(atlassiantest.State) string) atlassiantest.State {
	t.Helper()
	st, last := e.pollJira(t.Context(), convergeDeadline, check)
	if last != "" {
		t.Fatalf("%s: Jira did not converge within %v:\n%s\n\nend of scimbridge's log:\n%s",
			what, convergeDeadline, last, tail(e.sb.stderr.String(), 6000))
	}
	return st
}

// pollJira polls until check returns "" or the deadline passes; it returns
// the last state read and check's last complaint ("" on success).
func (e *e2eEnv) pollJira(ctx context.Context, deadline time.Duration, check func(atlassiantest.State) string) (atlassiantest.State, string) {
	ctx, cancel := context.WithTimeout(ctx, deadline)
	defer cancel()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var st atlassiantest.State
	last := "no state read"
	for {
		cur, err := e.emu.state(ctx)
		if err == nil {
			st = cur
			if last = check(st); last == "" {
				return st, ""
			}
		} else if ctx.Err() == nil {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			return st, last
		case <-tick.C:
		}
	}
}

// historyEntry is one result of GET /api/v1/users/{tenant}/{id}/history.
type historyEntry struct {
	Action  string `json:"action"`
	Error   string `json:"error"`
	Changes map[string]struct {
		Before any `json:"before"`
		After  any `json:"after"`
	} `json:"changes"`
}

// history reads a SCIM user's per-user results through the admin API.
func (e *e2eEnv) history(t *testing.T, tenant string, u *mUser) []historyEntry {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.root()+"/api/v1/users/"+tenant+"/"+u.id+"/history", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e2eAdminToken)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("history of %s/%s: status %d: %s", tenant, u.userName, resp.StatusCode, clip(data))
	}
	var doc struct {
		Results []historyEntry `json:"results"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("history of %s/%s: %v: %s", tenant, u.userName, err, clip(data))
	}
	return doc.Results
}

// findAction returns the first history entry with the action.
func findAction(h []historyEntry, action string) (historyEntry, bool) {
	for _, r := range h {
		if r.Action == action {
			return r, true
		}
	}
	return historyEntry{}, false
}

// requireActions checks that a user's history holds every action. Results
// are written when the engine's run finishes, which may be a little after
// Jira shows the change, so it polls with a deadline.
func (e *e2eEnv) requireActions(t *testing.T, tenant string, u *mUser, actions ...string) []historyEntry {
	t.Helper()
	deadline := time.Now().Add(historyDeadline)
	for {
		h := e.history(t, tenant, u)
		var missing []string
		for _, a := range actions {
			if _, ok := findAction(h, a); !ok {
				missing = append(missing, a)
			}
		}
		if len(missing) == 0 {
			return h
		}
		if time.Now().After(deadline) {
			var got []string
			for _, r := range h {
				got = append(got, r.Action)
			}
			t.Errorf("history of %s/%s lacks %q within %v; it has %v", tenant, u.userName, missing, historyDeadline, got)
			return h
		}
		timer := time.NewTimer(pollEvery)
		select {
		case <-t.Context().Done():
			timer.Stop()
			return h
		case <-timer.C:
		}
	}
}

// historyDeadline bounds the wait for a result in a user's history.
const historyDeadline = 10 * time.Second

// tail returns the last n bytes of s.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// checkE2ESecrets: neither the okta token, the entra token nor the Jira
// token may appear in scimbridge's output (it logs every Jira call at
// debug level).
func checkE2ESecrets(t *testing.T, label string, p *process) {
	t.Helper()
	checkNoSecrets(t, label, p)
	out := p.stdout.String() + p.stderr.String()
	for _, secret := range []string{e2eJiraToken, e2eEntraToken, e2eAdminToken} {
		if strings.Contains(out, secret) {
			t.Errorf("%s: process output contains a credential (%.6s…)", label, secret)
		}
	}
}

// checkNoErrorLogs: scimbridge logged nothing at ERROR level (a failed
// outbox pass, a job that could not be settled, history not written).
func checkNoErrorLogs(t *testing.T, label string, p *process) {
	t.Helper()
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("%s: scimbridge logged an error: %s", label, line)
		}
	}
}
