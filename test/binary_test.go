package test

// Black-box tests of the built scimbridge binary: `serve --config FILE` with
// a static-token tenant and an HS256 JWT tenant, the Okta SPEC and Entra
// validator transcripts replayed against it, a clean SIGTERM shutdown and a
// restart that still serves what was written.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// buildBinary builds ./cmd/scimbridge once per test process.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "scimbridge-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "scimbridge")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/scimbridge")
		cmd.Dir = ".." // the module root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/scimbridge: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// cleanupBinary removes the built binary (called by TestMain).
func cleanupBinary() {
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
}

const (
	binOktaToken  = "okta-static-token-for-the-binary-test-7f3a9c"
	binHS256Key   = "entra-hs256-shared-secret-at-least-32-bytes-long!"
	binIssuer     = "https://sts.windows.net/11111111-2222-3333-4444-555555555555/"
	binAudience   = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
	startDeadline = 60 * time.Second
	stopDeadline  = 30 * time.Second
)

// freePort finds a port that is free now (the config needs a fixed one).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return port
}

func writeConfig(t *testing.T, dir string, port int) string {
	t.Helper()
	cfg := fmt.Sprintf(`listen: 127.0.0.1:%d
database: ./scimbridge.db
log_level: debug
tenants:
  - name: okta
    preset: okta
    token_env: TEST_OKTA_SCIM_TOKEN
  - name: entra
    preset: entra
    jwt:
      issuer: %s
      audience: %s
      hs256_secret_env: TEST_ENTRA_HS256_KEY
`, port, binIssuer, binAudience)
	path := filepath.Join(dir, "scimbridge.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// process is one running scimbridge.
type process struct {
	cmd    *exec.Cmd
	addr   string
	stderr *syncBuffer
	stdout *syncBuffer
	done   chan struct{}
	err    error // Wait's result, valid after done
}

// syncBuffer is a bytes.Buffer safe for the copying goroutine and the test.
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

// startProcess runs `scimbridge serve --config cfg` and waits for its
// "listening" line.
func startProcess(t *testing.T, bin, cfg string) *process {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", cfg)
	cmd.Dir = filepath.Dir(cfg)
	cmd.Env = append(os.Environ(),
		"TEST_OKTA_SCIM_TOKEN="+binOktaToken,
		"TEST_ENTRA_HS256_KEY="+binHS256Key,
	)
	p := &process{cmd: cmd, stderr: &syncBuffer{}, stdout: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(p.stdout, line)
			if a, ok := strings.CutPrefix(line, "scimbridge listening on http://"); ok {
				select {
				case addrc <- strings.TrimSpace(a):
				default:
				}
			}
		}
		_, _ = io.Copy(p.stdout, out)
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	timer := time.NewTimer(startDeadline)
	defer timer.Stop()
	select {
	case p.addr = <-addrc:
	case <-p.done:
		t.Fatalf("scimbridge exited before listening: %v\nstdout:\n%s\nstderr:\n%s", p.err, p.stdout, p.stderr)
	case <-timer.C:
		t.Fatalf("scimbridge did not print its listening line within %v\nstderr:\n%s", startDeadline, p.stderr)
	}
	return p
}

// stop sends SIGTERM and requires a clean exit within the deadline.
func (p *process) stop(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	timer := time.NewTimer(stopDeadline)
	defer timer.Stop()
	select {
	case <-p.done:
	case <-timer.C:
		t.Fatalf("scimbridge did not exit within %v of SIGTERM", stopDeadline)
	}
	if p.err != nil {
		t.Errorf("scimbridge exit after SIGTERM: %v (want status 0)\nstderr:\n%s", p.err, p.stderr)
	}
}

type jwtClaims struct {
	issuer, audience, secret string
	exp                      time.Duration // relative to now; negative for expired
}

func makeJWT(t *testing.T, c jwtClaims) string {
	t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": c.issuer,
		"aud": c.audience,
		"iat": now.Unix(),
		"nbf": now.Add(-time.Minute).Unix(),
		"exp": now.Add(c.exp).Unix(),
		"sub": "provisioning",
	})
	s, err := tok.SignedString([]byte(c.secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func findTranscript(t *testing.T, idp, name string) transcript {
	t.Helper()
	tr, err := readTranscript(filepath.Join(transcriptDir, idp, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// listAll reads a tenant's whole user or group list through the API.
func listAll(t *testing.T, client *http.Client, root, tenant, token, endpoint string) []any {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, root+"/scim/v2/"+tenant+"/"+endpoint+"?startIndex=1&count=500", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc struct {
		TotalResults int   `json:"totalResults"`
		Resources    []any `json:"Resources"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("list %s of %s: %d %s", endpoint, tenant, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc.TotalResults != len(doc.Resources) {
		t.Fatalf("list %s of %s: totalResults %d but %d resources", endpoint, tenant, doc.TotalResults, len(doc.Resources))
	}
	return doc.Resources
}

func statusOf(t *testing.T, client *http.Client, method, url, authz string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestBinary(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, freePort(t))
	entraJWT := makeJWT(t, jwtClaims{issuer: binIssuer, audience: binAudience, secret: binHS256Key, exp: time.Hour})
	tokens := map[string]string{"okta": binOktaToken, "entra": entraJWT}
	client := &http.Client{Timeout: 30 * time.Second}

	p := startProcess(t, bin, cfg)
	root := "http://" + p.addr

	t.Run("okta_spec", func(t *testing.T) {
		newReplayer(root, client, "okta", tokens).run(t, findTranscript(t, "okta", "spec").Steps)
	})
	t.Run("entra_validator_with_jwt", func(t *testing.T) {
		newReplayer(root, client, "entra", tokens).run(t, findTranscript(t, "entra", "validator").Steps)
	})
	t.Run("auth", func(t *testing.T) {
		okta, entra := root+"/scim/v2/okta/Users", root+"/scim/v2/entra/Users"
		for _, tc := range []struct {
			name, url, authz string
			want             int
		}{
			{"jwt on its tenant", entra, "Bearer " + entraJWT, http.StatusOK},
			{"static token on its tenant", okta, "Bearer " + binOktaToken, http.StatusOK},
			{"okta token on entra", entra, "Bearer " + binOktaToken, http.StatusUnauthorized},
			{"entra jwt on okta", okta, "Bearer " + entraJWT, http.StatusUnauthorized},
			{"jwt with the wrong secret", entra, "Bearer " + makeJWT(t, jwtClaims{
				issuer: binIssuer, audience: binAudience, secret: binHS256Key + "x", exp: time.Hour}), http.StatusUnauthorized},
			{"expired jwt", entra, "Bearer " + makeJWT(t, jwtClaims{
				issuer: binIssuer, audience: binAudience, secret: binHS256Key, exp: -time.Hour}), http.StatusUnauthorized},
			{"jwt for another audience", entra, "Bearer " + makeJWT(t, jwtClaims{
				issuer: binIssuer, audience: "api://someone-else", secret: binHS256Key, exp: time.Hour}), http.StatusUnauthorized},
			{"jwt from another issuer", entra, "Bearer " + makeJWT(t, jwtClaims{
				issuer: "https://sts.windows.net/other/", audience: binAudience, secret: binHS256Key, exp: time.Hour}), http.StatusUnauthorized},
			{"no credentials", okta, "", http.StatusUnauthorized},
			{"unknown tenant", root + "/scim/v2/nosuch/Users", "Bearer " + binOktaToken, http.StatusNotFound},
		} {
			if got := statusOf(t, client, http.MethodGet, tc.url, tc.authz); got != tc.want {
				t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
			}
		}
	})

	before := map[string][]any{}
	for _, tn := range []string{"okta", "entra"} {
		before[tn+"/Users"] = listAll(t, client, root, tn, tokens[tn], "Users")
		before[tn+"/Groups"] = listAll(t, client, root, tn, tokens[tn], "Groups")
	}
	if len(before["okta/Users"]) < 2 || len(before["entra/Users"]) == 0 {
		t.Fatalf("too few users stored to check durability: okta %d, entra %d",
			len(before["okta/Users"]), len(before["entra/Users"]))
	}
	p.stop(t)
	checkNoSecrets(t, "first run", p)

	// Restart on the same database: everything written must still be served.
	p2 := startProcess(t, bin, cfg)
	root2 := "http://" + p2.addr
	for key, want := range before {
		tn, endpoint, _ := strings.Cut(key, "/")
		got := listAll(t, client, root2, tn, tokens[tn], endpoint)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%s after restart differs (-before +after):\n%s", key, d)
		}
	}
	p2.stop(t)
	checkNoSecrets(t, "second run", p2)
}

// checkNoSecrets: no token, JWT or key may appear in the process output.
func checkNoSecrets(t *testing.T, label string, p *process) {
	t.Helper()
	out := p.stdout.String() + p.stderr.String()
	for _, secret := range []string{binOktaToken, binHS256Key, "non-token"} {
		if strings.Contains(out, secret) {
			t.Errorf("%s: process output contains a credential (%.6s…)", label, secret)
		}
	}
	if !strings.Contains(p.stdout.String(), "scimbridge listening on http://") {
		t.Errorf("%s: stdout lacks the listening line: %q", label, p.stdout.String())
	}
}
