package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "scimbridge.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRunUsage(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(t.Context(), nil, env(nil), &out, &errb); err == nil || !strings.Contains(err.Error(), "usage") {
		t.Fatalf("no args: err = %v, want usage", err)
	}
	if err := run(t.Context(), []string{"frobnicate"}, env(nil), &out, &errb); err == nil || !strings.Contains(err.Error(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: err = %v", err)
	}
	if err := run(t.Context(), []string{"serve"}, env(nil), &out, &errb); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Fatalf("serve without --config: err = %v", err)
	}
}

func TestCheckReportsEveryProblemWithoutSecrets(t *testing.T) {
	p := writeConfig(t, "listen: nowhere\ntenants:\n  - name: Bad_Name\n    token_env: UNSET_TOKEN\n")
	var out, errb bytes.Buffer
	err := run(t.Context(), []string{"check", "--config", p}, env(nil), &out, &errb)
	if err == nil {
		t.Fatal("check accepted a broken config")
	}
	for _, want := range []string{"listen", "tenants[0]", "UNSET_TOKEN"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	good := writeConfig(t, "tenants:\n  - name: okta\n    token_env: T\n")
	out.Reset()
	if err := run(t.Context(), []string{"check", "--config", good}, env(map[string]string{"T": "s3cret-token"}), &out, &errb); err != nil {
		t.Fatalf("check good config: %v", err)
	}
	if !strings.Contains(out.String(), "config ok") || strings.Contains(out.String()+errb.String(), "s3cret-token") {
		t.Fatalf("check output %q / %q", out.String(), errb.String())
	}
}

// serve answers SCIM with the tenant's token, and stops cleanly when its
// context ends.
func TestServeStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	p := writeConfig(t, "listen: 127.0.0.1:0\ndatabase: "+filepath.Join(dir, "db.sqlite")+"\ntenants:\n  - name: okta\n    token_env: T\n")
	ctx, cancel := context.WithCancel(t.Context())
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", p}, env(map[string]string{"T": "tok-okta"}), &out, &errb)
	}()

	addr := waitFor(t, &out, "listening on http://")
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/scim/v2/okta/Users?count=1", nil)
	req.Header.Set("Authorization", "Bearer tok-okta")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var lr struct{ TotalResults *int }
	_ = json.NewDecoder(resp.Body).Decode(&lr)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || lr.TotalResults == nil || *lr.TotalResults != 0 {
		t.Fatalf("GET /Users: %d %v", resp.StatusCode, lr.TotalResults)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop within 20 s of its context ending")
	}
	if strings.Contains(errb.String(), "tok-okta") {
		t.Fatal("the token appeared in the logs")
	}
}

// waitFor polls out until it holds marker and returns the rest of that line.
func waitFor(t *testing.T, out *syncBuffer, marker string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if s := out.String(); strings.Contains(s, marker) {
			rest := s[strings.Index(s, marker)+len(marker):]
			return strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0])
		}
		time.Sleep(10 * time.Millisecond) // polling a condition with a deadline, not synchronising by sleep
	}
	t.Fatalf("%q did not appear within 20 s; output: %s", marker, out.String())
	return ""
}

// A tenant with no target writes no outbox jobs; when a target is added
// later, the full reconcile (not the outbox) brings the earlier users in.
func TestTargetAddedLaterGetsEarlierUsers(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "db.sqlite")
	noTarget := writeConfig(t, "listen: 127.0.0.1:0\ndatabase: "+dbPath+"\ntenants:\n  - name: okta\n    token_env: T\n")
	ctx, cancel := context.WithCancel(t.Context())
	var out, errb syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", noTarget}, env(map[string]string{"T": "tok-okta"}), &out, &errb)
	}()
	addr := waitFor(t, &out, "listening on http://")
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada@example.com",` +
		`"name":{"givenName":"Ada","familyName":"Lovelace"},"emails":[{"value":"ada@example.com","type":"work","primary":true}],"active":true}`
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/scim/v2/okta/Users", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok-okta")
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /Users: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve returned %v", err)
	}

	st, err := sqlite.Open(t.Context(), dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := st.PendingJobs(t.Context(), 10)
	st.Close()
	if err != nil || len(jobs) != 0 {
		t.Fatalf("pending jobs after a create with no target: %v, %v; want none", jobs, err)
	}

	emu := atlassiantest.New(atlassiantest.Options{Token: "jira-pat"})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	withTarget := writeConfig(t, "listen: 127.0.0.1:0\ndatabase: "+dbPath+
		"\ntargets:\n  - name: jira\n    kind: jira-dc\n    url: "+srv.URL+"\n    token_env: JIRA_T\n"+
		"tenants:\n  - name: okta\n    token_env: T\n")
	var rout, rerr bytes.Buffer
	if err := run(t.Context(), []string{"reconcile", "--config", withTarget},
		env(map[string]string{"T": "tok-okta", "JIRA_T": "jira-pat"}), &rout, &rerr); err != nil {
		t.Fatalf("reconcile: %v\n%s", err, rerr.String())
	}
	var found bool
	for _, u := range emu.State().Users {
		if u.Name == "ada@example.com" && u.Active {
			found = true
		}
	}
	if !found {
		t.Fatalf("the reconcile did not create the user created before the target existed: %+v", emu.State().Users)
	}
}

// The memory limit follows the live heap at 2x above the floor, so a large
// reconcile collects as GOGC=100 would instead of running against the floor.
func TestGCLimit(t *testing.T) {
	if got := gcLimit(0); got != gcFloor {
		t.Errorf("gcLimit(0) = %d, want the floor %d", got, gcFloor)
	}
	if got := gcLimit(50 << 20); got != gcFloor {
		t.Errorf("gcLimit(50 MiB) = %d, want the floor %d", got, gcFloor)
	}
	if got, want := gcLimit(500<<20), int64(1000<<20); got != want {
		t.Errorf("gcLimit(500 MiB) = %d, want %d", got, want)
	}
}

// tuneGC sets the defaults and puts the runtime's settings back on stop.
func TestTuneGCRestores(t *testing.T) {
	percent := func() int { p := debug.SetGCPercent(100); debug.SetGCPercent(p); return p }
	beforePercent, beforeLimit := percent(), debug.SetMemoryLimit(-1)
	stop := tuneGC(t.Context())
	if p, l := percent(), debug.SetMemoryLimit(-1); p != gcPercent || l < gcFloor {
		t.Errorf("while tuned: GOGC %d, limit %d; want %d and at least %d", p, l, gcPercent, gcFloor)
	}
	stop()
	if p, l := percent(), debug.SetMemoryLimit(-1); p != beforePercent || l != beforeLimit {
		t.Errorf("after stop: GOGC %d, limit %d; want %d, %d", p, l, beforePercent, beforeLimit)
	}
}

// A tenant's quirks override its preset's: an okta tenant answers a group
// PATCH with the preset's 204 and no body; one with
// quirks.patch_no_content: false answers 200 with the group.
func TestTenantQuirksOverridePreset(t *testing.T) {
	dir := t.TempDir()
	out, _ := startServe(t, fmt.Sprintf(`listen: 127.0.0.1:0
database: %s
tenants:
  - {name: okta, preset: okta, token_env: T1}
  - {name: okta200, preset: okta, token_env: T2, quirks: {patch_no_content: false}}
`, filepath.Join(dir, "db.sqlite")), map[string]string{"T1": "tok-one", "T2": "tok-two"})
	base := "http://" + waitFor(t, out, "listening on http://")
	for _, tc := range []struct {
		tenant, token string
		want          int
	}{{"okta", "tok-one", http.StatusNoContent}, {"okta200", "tok-two", http.StatusOK}} {
		do := func(method, path, body string) (int, []byte) {
			req, err := http.NewRequestWithContext(t.Context(), method, base+"/scim/v2/"+tc.tenant+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tc.token)
			req.Header.Set("Content-Type", "application/scim+json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, b
		}
		code, body := do(http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g"}`)
		if code != http.StatusCreated {
			t.Fatalf("%s: create group: %d %s", tc.tenant, code, body)
		}
		var g struct{ ID string }
		if err := json.Unmarshal(body, &g); err != nil || g.ID == "" {
			t.Fatalf("%s: create group answer %s: %v", tc.tenant, body, err)
		}
		code, body = do(http.MethodPatch, "/Groups/"+g.ID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"displayName":"g2"}}]}`)
		if code != tc.want || (tc.want == http.StatusNoContent) != (len(body) == 0) {
			t.Errorf("%s: group PATCH answered %d with %d bytes, want %d", tc.tenant, code, len(body), tc.want)
		}
	}
}
