package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startRun runs the command on 127.0.0.1:0 and returns its base URL and a function that stops it
// and returns run's error.
func startRun(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), pw)
		_ = pw.CloseWithError(io.EOF)
		done <- err
	}()
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default:
			}
		}
	}()
	var line string
	select {
	case line = <-lines:
	case err := <-done:
		cancel()
		t.Fatalf("run ended before listening: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("no listening line within 10s")
	}
	_, rest, ok := strings.Cut(line, "listening on ")
	if !ok {
		cancel()
		t.Fatalf("unexpected first line %q", line)
	}
	base, _, _ := strings.Cut(rest, " ")
	stopped := false
	stop := func() error {
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			t.Fatal("run did not return after cancel")
			return nil
		}
	}
	t.Cleanup(func() {
		if !stopped {
			_ = stop()
		}
	})
	return base, stop
}

func TestRunServesEmulator(t *testing.T) {
	base, stop := startRun(t, "--token", "T0k", "--user", "app", "--password", "pw", "--license-seats", "1", "--jira-version", "8.2.0")
	do := func(method, path, auth, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(raw)
	}

	// Jira 8.2 has no PATs (atlassian-api.md 1.10), so the token is refused and basic works.
	if code, _ := do("GET", "/rest/api/2/user?username=x", "Bearer T0k", ""); code != http.StatusUnauthorized {
		t.Fatalf("PAT on 8.2: %d, want 401", code)
	}
	basic := "Basic YXBwOnB3" // app:pw
	code, body := do("POST", "/rest/api/2/user", basic, `{"name":"Jo","emailAddress":"jo@example.com","displayName":"Jo X","applicationKeys":["jira-software"]}`)
	if code != http.StatusCreated {
		t.Fatalf("create: %d %s", code, body)
	}
	// Jira 8.2 keys are the lower-case first username, not JIRAUSER (atlassian-api.md 1.2).
	if !strings.Contains(body, `"key":"jo"`) {
		t.Fatalf("create body %s", body)
	}
	// --license-seats 1 is used up.
	code, body = do("POST", "/rest/api/2/user", basic, `{"name":"Al","emailAddress":"al@example.com","displayName":"Al X","applicationKeys":["jira-software"]}`)
	if code != http.StatusBadRequest || !strings.Contains(body, "exceeded") {
		t.Fatalf("over licence: %d %s", code, body)
	}
	// The control surface needs no credentials.
	code, body = do("GET", "/_emulator/state", "", "")
	if code != http.StatusOK {
		t.Fatalf("state: %d", code)
	}
	var st struct {
		Users []struct {
			Name string `json:"name"`
		} `json:"users"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || len(st.Users) != 1 || st.Users[0].Name != "Jo" {
		t.Fatalf("state %s (%v)", body, err)
	}
	if err := stop(); err != nil {
		t.Fatalf("run returned %v after graceful stop", err)
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--jira-version", "nine"},
		{"--license-seats", "-1"},
		{"--password", "p"},
		{"stray"},
		{"--nope"},
	} {
		err := run(t.Context(), append([]string{"--addr", "127.0.0.1:0"}, args...), io.Discard)
		if err == nil {
			t.Errorf("run %v: no error", args)
		}
	}
}
