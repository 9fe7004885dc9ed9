package test

// End-to-end tests of issue 5 (reconcile, lifecycle, admin API) against the
// real scimbridge and atlassian-emulator binaries as separate processes:
// drift made by hand through the emulator's Jira REST API is repaired by a
// reconcile started over the admin API, the webhook and the schedule; dry
// runs are checked for writes in the emulator's request log; the per-user
// results are downloaded and compared with what was done by hand; the
// safety brake, the inactivity rules and login reactivation, and the
// `scimbridge reconcile` command.
//
// The config comes from testdata/e2e_reconcile/scimbridge.yaml.tmpl. Time
// is real (two separate processes), so the lifecycle durations are a few
// seconds and every wait is bounded by a deadline.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

const (
	// rcAdminToken is the admin API token (RC_ADMIN_TOKEN).
	rcAdminToken = "rc-admin-token-3f9d1c7a5e2b8046"
	// rcWebhookSecret is the webhook HMAC key (RC_WEBHOOK_SECRET).
	rcWebhookSecret = "rc-webhook-secret-8b2e4f6a0c1d3e5f"
	// rcRunDeadline bounds the wait for one reconcile run to finish.
	rcRunDeadline = 60 * time.Second
	// rcCronDeadline bounds the wait for a run of an "@every 2s" schedule.
	rcCronDeadline = 30 * time.Second
)

// rcOptions are the knobs of one reconcile test's config.
type rcOptions struct {
	Schedule   string // reconcile.schedule; "" leaves it out
	Orphans    string // keep | deactivate
	MaxPercent int    // reconcile.max_deprovision_percent
	// InactiveAfter (a Go duration) switches on the time-based lifecycle
	// with NeverLoggedIn, exempt group jira-oncall and reactivate_on_login.
	InactiveAfter string
	NeverLoggedIn string
}

// rcEnv is one emulator and one `scimbridge serve` on a fresh database.
type rcEnv struct {
	emu    *emulator
	sb     *process
	bin    string
	cfg    string
	client *http.Client
	ids    map[string]string // SCIM userName -> SCIM id
}

// rcStart starts an emulator and a scimbridge for o. It sets environment
// variables, so its test must not run in parallel.
func rcStart(t *testing.T, o rcOptions) *rcEnv {
	t.Helper()
	t.Setenv("RC_ADMIN_TOKEN", rcAdminToken)
	t.Setenv("RC_WEBHOOK_SECRET", rcWebhookSecret)
	t.Setenv("RC_JIRA_TOKEN", e2eJiraToken)
	if o.Orphans == "" {
		o.Orphans = "keep"
	}
	if o.MaxPercent == 0 {
		o.MaxPercent = 10
	}
	e := &rcEnv{bin: buildBinary(t), emu: startEmulator(t), client: &http.Client{Timeout: 30 * time.Second}, ids: map[string]string{}}
	tmpl, err := template.ParseFiles(filepath.Join("testdata", "e2e_reconcile", "scimbridge.yaml.tmpl"))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := tmpl.Execute(&b, map[string]any{
		"Port": freePort(t), "JiraURL": e.emu.url, "Schedule": o.Schedule, "Orphans": o.Orphans,
		"MaxPercent": o.MaxPercent, "InactiveAfter": o.InactiveAfter, "NeverLoggedIn": o.NeverLoggedIn,
	}); err != nil {
		t.Fatal(err)
	}
	e.cfg = filepath.Join(t.TempDir(), "scimbridge.yaml")
	if err := os.WriteFile(e.cfg, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	e.sb = startProcess(t, e.bin, e.cfg)
	return e
}

func (e *rcEnv) root() string { return "http://" + e.sb.addr }

// do sends one request and returns the status, headers and body.
func (e *rcEnv) do(t *testing.T, method, url string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, data
}

// admin calls the admin API with the admin token and requires status want;
// out (if not nil) receives the decoded body.
func (e *rcEnv) admin(t *testing.T, method, path string, body any, want int, out any) http.Header {
	t.Helper()
	var raw []byte
	hdr := map[string]string{"Authorization": "Bearer " + rcAdminToken}
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
		hdr["Content-Type"] = "application/json"
	}
	status, h, data := e.do(t, method, e.root()+path, raw, hdr)
	if status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, status, want, clip(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, path, clip(data), err)
		}
	}
	return h
}

// rcRun is a run object of the admin API.
type rcRun struct {
	ID         int64          `json:"id"`
	Kind       string         `json:"kind"`
	Trigger    string         `json:"trigger"`
	Status     string         `json:"status"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at"`
	Counts     map[string]int `json:"counts"`
	Error      string         `json:"error"`
}

// rcResult is one per-user result of GET /api/v1/runs/{id}/results.
type rcResult struct {
	RunID      int64  `json:"run_id"`
	Tenant     string `json:"tenant"`
	ResourceID string `json:"resource_id"`
	UserName   string `json:"user_name"`
	Target     string `json:"target"`
	Action     string `json:"action"`
	Changes    map[string]struct {
		Before any `json:"before"`
		After  any `json:"after"`
	} `json:"changes"`
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

// trigger starts a reconcile over POST /api/v1/reconcile?query and checks
// the 202 run object.
func (e *rcEnv) trigger(t *testing.T, query string) rcRun {
	t.Helper()
	path := "/api/v1/reconcile"
	if query != "" {
		path += "?" + query
	}
	var run rcRun
	e.admin(t, http.MethodPost, path, nil, http.StatusAccepted, &run)
	if run.ID <= 0 || run.Trigger != "api" || (run.Status != "running" && run.Status != "queued") {
		t.Fatalf("POST %s answered the run object %+v; want a positive id, trigger api, status running or queued", path, run)
	}
	return run
}

// awaitRun polls GET /api/v1/runs/{id} until the run has finished.
func (e *rcEnv) awaitRun(t *testing.T, id int64) rcRun {
	t.Helper()
	deadline := time.Now().Add(rcRunDeadline)
	for {
		var run rcRun
		e.admin(t, http.MethodGet, fmt.Sprintf("/api/v1/runs/%d", id), nil, http.StatusOK, &run)
		if run.ID != id {
			t.Fatalf("GET /api/v1/runs/%d answered run %d", id, run.ID)
		}
		switch run.Status {
		case "succeeded", "failed", "aborted":
			if run.FinishedAt == nil || run.FinishedAt.Before(run.StartedAt) {
				t.Errorf("finished run %d has finished_at %v, started_at %v", id, run.FinishedAt, run.StartedAt)
			}
			return run
		case "queued", "running":
		default:
			t.Fatalf("run %d has status %q", id, run.Status)
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d did not finish within %v (status %s)\nend of scimbridge's log:\n%s",
				id, rcRunDeadline, run.Status, tail(e.sb.stderr.String(), 4000))
		}
		rcPause(t)
	}
}

// rcPause waits one poll interval (or until the test ends).
func rcPause(t *testing.T) {
	timer := time.NewTimer(pollEvery)
	defer timer.Stop()
	select {
	case <-t.Context().Done():
		t.Fatal("test context ended while polling")
	case <-timer.C:
	}
}

// results downloads GET /api/v1/runs/{id}/results?query and checks it is a
// JSON attachment named after the run.
func (e *rcEnv) results(t *testing.T, id int64, query string) []rcResult {
	t.Helper()
	path := fmt.Sprintf("/api/v1/runs/%d/results", id)
	if query != "" {
		path += "?" + query
	}
	var out []rcResult
	h := e.admin(t, http.MethodGet, path, nil, http.StatusOK, &out)
	if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); mt != "application/json" {
		t.Errorf("GET %s: Content-Type %q, want application/json", path, h.Get("Content-Type"))
	}
	disp, params, err := mime.ParseMediaType(h.Get("Content-Disposition"))
	if err != nil || disp != "attachment" || params["filename"] != fmt.Sprintf("run-%d-results.json", id) {
		t.Errorf("GET %s: Content-Disposition %q, want an attachment named run-%d-results.json", path, h.Get("Content-Disposition"), id)
	}
	for _, r := range out {
		if r.RunID != id {
			t.Errorf("GET %s: a result of run %d: %+v", path, r.RunID, r)
		}
	}
	return out
}

// runs lists GET /api/v1/runs (newest first).
func (e *rcEnv) runs(t *testing.T) []rcRun {
	t.Helper()
	var doc struct {
		Runs []rcRun `json:"runs"`
	}
	e.admin(t, http.MethodGet, "/api/v1/runs?limit=1000", nil, http.StatusOK, &doc)
	for i := 1; i < len(doc.Runs); i++ {
		if doc.Runs[i].ID >= doc.Runs[i-1].ID {
			t.Errorf("GET /api/v1/runs is not newest first: run %d before run %d", doc.Runs[i-1].ID, doc.Runs[i].ID)
		}
	}
	return doc.Runs
}

// jira calls the emulator's Jira REST API with the PAT, as an administrator
// making changes by hand would.
func (e *rcEnv) jira(t *testing.T, method, path string, q url.Values, body any, want int) {
	t.Helper()
	u := e.emu.url + "/rest/api/2/" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var raw []byte
	hdr := map[string]string{"Authorization": "Bearer " + e2eJiraToken}
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
		hdr["Content-Type"] = "application/json"
	}
	status, _, data := e.do(t, method, u, raw, hdr)
	if status != want {
		t.Fatalf("Jira %s %s: status %d, want %d: %s", method, u, status, want, clip(data))
	}
}

func rcUserQ(name string) url.Values { return url.Values{"username": {name}} }

// scimUser creates an okta user <local>@example.com (Jira username local)
// and remembers its id.
func (e *rcEnv) scimUser(t *testing.T, local, display string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName":    local + "@example.com",
		"displayName": display,
		"emails":      []any{map[string]any{"value": local + "@example.com", "primary": true, "type": "work"}},
		"active":      true,
	})
	id := e.scimPost(t, "Users", body)
	e.ids[local+"@example.com"] = id
	return id
}

// scimGroup creates an okta group with the users (by local part).
func (e *rcEnv) scimGroup(t *testing.T, name string, locals ...string) string {
	t.Helper()
	members := []any{}
	for _, l := range locals {
		id, ok := e.ids[l+"@example.com"]
		if !ok {
			t.Fatalf("group %s: no user %s", name, l)
		}
		members = append(members, map[string]string{"value": id})
	}
	body, _ := json.Marshal(map[string]any{
		"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": name, "members": members,
	})
	return e.scimPost(t, "Groups", body)
}

func (e *rcEnv) scimPost(t *testing.T, endpoint string, body []byte) string {
	t.Helper()
	status, _, data := e.do(t, http.MethodPost, e.root()+"/scim/v2/okta/"+endpoint, body, map[string]string{
		"Authorization": "Bearer " + binOktaToken, "Content-Type": "application/scim+json",
	})
	if status != http.StatusCreated {
		t.Fatalf("SCIM POST %s: status %d: %s", endpoint, status, clip(data))
	}
	var doc struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &doc); err != nil || doc.ID == "" {
		t.Fatalf("SCIM POST %s: no id in %s", endpoint, clip(data))
	}
	return doc.ID
}

// scimSetActive sets an okta user's active flag with a SCIM PATCH.
func (e *rcEnv) scimSetActive(t *testing.T, local string, active bool) {
	t.Helper()
	id := e.ids[local+"@example.com"]
	body, _ := json.Marshal(map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "value": map[string]any{"active": active}}},
	})
	status, _, data := e.do(t, http.MethodPatch, e.root()+"/scim/v2/okta/Users/"+id, body, map[string]string{
		"Authorization": "Bearer " + binOktaToken, "Content-Type": "application/scim+json",
	})
	if status != http.StatusOK {
		t.Fatalf("SCIM PATCH %s active=%v: status %d: %s", local, active, status, clip(data))
	}
}

// rcAccount is a Jira account as these tests compare it: no key, no login time.
type rcAccount struct {
	Display, Email string
	Active         bool
	Groups         string // sorted, lower case, comma separated
}

func rcAccounts(st atlassiantest.State) map[string]rcAccount {
	out := map[string]rcAccount{}
	for _, u := range st.Users {
		gs := lowerAll(u.Groups)
		slices.Sort(gs)
		out[strings.ToLower(u.Name)] = rcAccount{Display: u.DisplayName, Email: u.EmailAddress, Active: u.Active, Groups: strings.Join(gs, ",")}
	}
	return out
}

// awaitState polls the emulator until check returns "".
func (e *rcEnv) awaitState(t *testing.T, what string, check func(map[string]rcAccount) string) atlassiantest.State {
	t.Helper()
	deadline := time.Now().Add(convergeDeadline)
	for {
		st, err := e.emu.state(t.Context())
		last := ""
		if err != nil {
			last = err.Error()
		} else if last = check(rcAccounts(st)); last == "" {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v: %s\nend of scimbridge's log:\n%s", what, convergeDeadline, last, tail(e.sb.stderr.String(), 4000))
		}
		rcPause(t)
	}
}

// mustState reads the emulator's state now.
func (e *rcEnv) mustState(t *testing.T) atlassiantest.State {
	t.Helper()
	st, err := e.emu.state(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// writes returns the API calls in the emulator's request log that were not
// reads.
func (e *rcEnv) writes(t *testing.T) []atlassiantest.RequestRecord {
	t.Helper()
	var out []atlassiantest.RequestRecord
	for _, r := range e.emu.requests(t) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			out = append(out, r)
		}
	}
	return out
}

func (e *rcEnv) resetRequests(t *testing.T) {
	t.Helper()
	e.emu.control(t, http.MethodDelete, "/_emulator/requests", nil, nil, http.StatusNoContent)
}

// inGroups reports a problem unless every named account exists, is active
// and has exactly the groups.
func rcInGroups(accts map[string]rcAccount, want map[string]string) string {
	for name, groups := range want {
		a, ok := accts[name]
		switch {
		case !ok:
			return name + " is not in Jira"
		case !a.Active:
			return name + " is inactive"
		case a.Groups != groups:
			return fmt.Sprintf("%s is in %q, want %q", name, a.Groups, groups)
		}
	}
	return ""
}

// byUser indexes results by user_name; a user with two results fails.
func rcByUser(t *testing.T, rs []rcResult) map[string]rcResult {
	t.Helper()
	out := map[string]rcResult{}
	for _, r := range rs {
		if _, dup := out[r.UserName]; dup {
			t.Errorf("two results for %s in one run", r.UserName)
		}
		out[r.UserName] = r
	}
	return out
}

// checkChange requires result r to record field going from before to after.
func rcCheckChange(t *testing.T, r rcResult, field string, before, after any) {
	t.Helper()
	c, ok := r.Changes[field]
	if !ok {
		t.Errorf("%s: result %s has no change of %s: %+v", r.UserName, r.Action, field, r.Changes)
		return
	}
	if !cmp.Equal(c.Before, before) || !cmp.Equal(c.After, after) {
		t.Errorf("%s: %s changed %#v -> %#v, want %#v -> %#v", r.UserName, field, c.Before, c.After, before, after)
	}
}

// hasString reports whether a JSON array value holds s.
func rcHasString(v any, s string) bool {
	list, _ := v.([]any)
	return slices.Contains(list, any(s))
}

const rcSW = "jira-software-users"

func TestE2EReconcileDriftRepair(t *testing.T) {
	e := rcStart(t, rcOptions{})
	people := []string{"ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal", "ida", "jon"}
	for _, p := range people {
		e.scimUser(t, p, strings.ToUpper(p[:1])+p[1:]+" Lovelace")
	}
	e.scimGroup(t, "jira-devs", "ann", "ben", "eve")
	want := map[string]string{}
	for _, p := range people {
		want[p] = rcSW
	}
	for _, p := range []string{"ann", "ben", "eve"} {
		want[p] = "jira-devs," + rcSW
	}
	e.awaitState(t, "push of 10 users", func(a map[string]rcAccount) string { return rcInGroups(a, want) })
	provisioned := rcAccounts(e.mustState(t))

	// Drift made by hand by a Jira administrator.
	e.jira(t, http.MethodPut, "user", rcUserQ("ann"), map[string]any{"displayName": "Ann Changed"}, http.StatusOK)
	e.jira(t, http.MethodPut, "user", rcUserQ("fay"), map[string]any{"emailAddress": "fay@elsewhere.example"}, http.StatusOK)
	e.jira(t, http.MethodPut, "user", rcUserQ("ben"), map[string]any{"active": false}, http.StatusOK)
	e.jira(t, http.MethodDelete, "group/user", url.Values{"groupname": {"jira-devs"}, "username": {"eve"}}, nil, http.StatusOK)
	e.jira(t, http.MethodPost, "group/user", url.Values{"groupname": {"jira-devs"}}, map[string]string{"name": "cat"}, http.StatusCreated)
	e.jira(t, http.MethodPost, "group", nil, map[string]string{"name": "confluence-users"}, http.StatusCreated)
	e.jira(t, http.MethodPost, "group/user", url.Values{"groupname": {"confluence-users"}}, map[string]string{"name": "cat"}, http.StatusCreated)
	e.jira(t, http.MethodDelete, "user", rcUserQ("dan"), nil, http.StatusNoContent)
	e.jira(t, http.MethodPost, "user", nil, map[string]any{
		"name": "zed", "password": "pw-zed-1", "emailAddress": "zed@example.org", "displayName": "Zed Local",
	}, http.StatusCreated)
	drifted := e.mustState(t)

	// What the repair must produce: the provisioned state, plus what is
	// not the bridge's (cat's unmanaged group, the local account zed).
	wantAfter := map[string]rcAccount{}
	for k, v := range provisioned {
		wantAfter[k] = v
	}
	c := wantAfter["cat"]
	c.Groups = "confluence-users," + c.Groups
	wantAfter["cat"] = c
	wantAfter["zed"] = rcAccounts(drifted)["zed"]

	// The planned (dry run) and the applied actions, per SCIM userName.
	wantActions := map[string]string{
		"ann@example.com": "updated", "fay@example.com": "updated", "ben@example.com": "reactivated",
		"eve@example.com": "group-added", "cat@example.com": "group-removed", "dan@example.com": "created",
	}
	checkResults := func(t *testing.T, run rcRun, rs []rcResult) {
		t.Helper()
		got := rcByUser(t, rs)
		for name, action := range wantActions {
			r, ok := got[name]
			if !ok {
				t.Errorf("run %d (%s): no result for %s; results: %+v", run.ID, run.Kind, name, rs)
				continue
			}
			if r.Action != action || r.Tenant != "okta" || r.Target != "jira" || r.ResourceID != e.ids[name] || r.Error != "" {
				t.Errorf("run %d (%s): %s: %+v; want action %s on okta/jira for id %s without error", run.ID, run.Kind, name, r, action, e.ids[name])
			}
		}
		for name, r := range got {
			if _, ok := wantActions[name]; !ok {
				t.Errorf("run %d (%s): unexpected result %+v", run.ID, run.Kind, r)
			}
		}
		rcCheckChange(t, got["ann@example.com"], "display_name", "Ann Changed", "Ann Lovelace")
		rcCheckChange(t, got["fay@example.com"], "email", "fay@elsewhere.example", "fay@example.com")
		rcCheckChange(t, got["ben@example.com"], "active", false, true)
		rcCheckChange(t, got["dan@example.com"], "username", nil, "dan")
		if g := got["eve@example.com"].Changes["groups"]; rcHasString(g.Before, "jira-devs") || !rcHasString(g.After, "jira-devs") {
			t.Errorf("eve's groups change %#v, want jira-devs added", g)
		}
		if g := got["cat@example.com"].Changes["groups"]; !rcHasString(g.Before, "jira-devs") || rcHasString(g.After, "jira-devs") ||
			rcHasString(g.Before, "confluence-users") || rcHasString(g.After, "confluence-users") {
			t.Errorf("cat's groups change %#v, want jira-devs removed and the unmanaged confluence-users not touched", g)
		}
		counts := map[string]int{}
		for _, a := range wantActions {
			counts[a]++
		}
		for a, n := range counts {
			if run.Counts[a] != n {
				t.Errorf("run %d (%s): counts[%s] = %d, want %d (counts %v)", run.ID, run.Kind, a, run.Counts[a], n, run.Counts)
			}
		}
		if run.Counts["unchanged"] != len(people)-len(wantActions) {
			t.Errorf("run %d: counts[unchanged] = %d, want %d", run.ID, run.Counts["unchanged"], len(people)-len(wantActions))
		}
	}

	var dry rcRun
	t.Run("dry_run_writes_nothing", func(t *testing.T) {
		e.resetRequests(t)
		dry = e.trigger(t, "dry_run=true")
		if dry.Kind != "dry-run" {
			t.Errorf("dry run's kind = %q, want dry-run", dry.Kind)
		}
		dry = e.awaitRun(t, dry.ID)
		if dry.Status != "succeeded" {
			t.Fatalf("dry run: %+v", dry)
		}
		if w := e.writes(t); len(w) != 0 {
			t.Errorf("the dry run wrote to Jira: %+v", w)
		}
		if len(e.emu.requests(t)) == 0 {
			t.Error("the dry run made no request at all; it must read Jira")
		}
		if d := cmp.Diff(drifted, e.mustState(t)); d != "" {
			t.Errorf("the dry run changed Jira (-before +after):\n%s", d)
		}
		checkResults(t, dry, e.results(t, dry.ID, ""))
	})

	var run rcRun
	t.Run("reconcile_repairs_drift", func(t *testing.T) {
		run = e.trigger(t, "")
		if run.Kind != "reconcile" {
			t.Errorf("kind = %q, want reconcile", run.Kind)
		}
		run = e.awaitRun(t, run.ID)
		if run.Status != "succeeded" || run.Error != "" {
			t.Fatalf("reconcile: %+v", run)
		}
		if d := cmp.Diff(wantAfter, rcAccounts(e.mustState(t))); d != "" {
			t.Errorf("Jira after the reconcile (-want +got):\n%s", d)
		}
		rs := e.results(t, run.ID, "")
		checkResults(t, run, rs)
		for _, r := range rs {
			if strings.EqualFold(r.UserName, "zed") {
				t.Errorf("orphans: keep, yet the local account zed has a result: %+v", r)
			}
		}
	})

	t.Run("results_filters", func(t *testing.T) {
		if run.ID == 0 {
			t.Skip("no reconcile run")
		}
		rs := e.results(t, run.ID, "action=created")
		if len(rs) != 1 || rs[0].UserName != "dan@example.com" || rs[0].Action != "created" {
			t.Errorf("?action=created: %+v, want dan's creation only", rs)
		}
		rs = e.results(t, run.ID, "user=ANN@example.com")
		if len(rs) != 1 || rs[0].UserName != "ann@example.com" {
			t.Errorf("?user=ANN@example.com: %+v, want ann's result only", rs)
		}
		all := rcByUser(t, e.results(t, run.ID, "all=true"))
		if len(all) != len(people) {
			t.Errorf("?all=true: %d results, want one per user (%d)", len(all), len(people))
		}
		for _, p := range []string{"gus", "hal", "ida", "jon"} {
			if r := all[p+"@example.com"]; r.Action != "unchanged" {
				t.Errorf("?all=true: %s is %q, want unchanged", p, r.Action)
			}
		}
		if rs := e.results(t, run.ID, "action=deleted"); len(rs) != 0 {
			t.Errorf("?action=deleted: %+v, want none", rs)
		}
		for _, q := range []string{"all=maybe", "action=" + strings.Repeat("x", 300)} {
			status, _, body := e.do(t, http.MethodGet, fmt.Sprintf("%s/api/v1/runs/%d/results?%s", e.root(), run.ID, q), nil,
				map[string]string{"Authorization": "Bearer " + rcAdminToken})
			if status != http.StatusBadRequest {
				t.Errorf("results?%.40s: status %d, want 400: %s", q, status, clip(body))
			}
		}
		// dan's history holds the push's creation and the reconcile's.
		var hist struct {
			Results []rcResult `json:"results"`
		}
		e.admin(t, http.MethodGet, "/api/v1/users/okta/"+e.ids["dan@example.com"]+"/history", nil, http.StatusOK, &hist)
		created := 0
		for _, r := range hist.Results {
			if r.Action == "created" {
				created++
			}
		}
		if created < 2 {
			t.Errorf("dan's history %+v: want a creation by the push and one by the reconcile", hist.Results)
		}
	})

	t.Run("second_reconcile_is_a_no_op", func(t *testing.T) {
		e.resetRequests(t)
		r := e.awaitRun(t, e.trigger(t, "").ID)
		if r.Status != "succeeded" {
			t.Fatalf("second reconcile: %+v", r)
		}
		if w := e.writes(t); len(w) != 0 {
			t.Errorf("a reconcile with nothing to repair wrote to Jira: %+v", w)
		}
		for a, n := range r.Counts {
			if a != "unchanged" && n != 0 {
				t.Errorf("second reconcile counts %v: want only unchanged", r.Counts)
			}
		}
		if rs := e.results(t, r.ID, ""); len(rs) != 0 {
			t.Errorf("second reconcile results (unchanged left out): %+v, want none", rs)
		}
	})

	t.Run("runs_list", func(t *testing.T) {
		runs := e.runs(t)
		found := map[int64]rcRun{}
		for _, r := range runs {
			found[r.ID] = r
		}
		if r, ok := found[dry.ID]; !ok || r.Kind != "dry-run" || r.Trigger != "api" {
			t.Errorf("runs list lacks the dry run %d: %+v", dry.ID, r)
		}
		if r, ok := found[run.ID]; !ok || r.Kind != "reconcile" || r.Status != "succeeded" {
			t.Errorf("runs list lacks the reconcile %d: %+v", run.ID, r)
		}
		pushes := 0
		for _, r := range runs {
			if r.Kind == "push" {
				pushes++
			}
		}
		if pushes == 0 {
			t.Error("runs list holds no push run although the SCIM creates were pushed")
		}
	})

	t.Run("admin_auth", func(t *testing.T) {
		for _, tc := range []struct {
			name, authz string
			want        int
		}{
			{"no token", "", http.StatusUnauthorized},
			{"the SCIM token", "Bearer " + binOktaToken, http.StatusUnauthorized},
			{"a wrong token", "Bearer " + rcAdminToken + "x", http.StatusUnauthorized},
		} {
			before := len(e.runs(t))
			hdr := map[string]string{}
			if tc.authz != "" {
				hdr["Authorization"] = tc.authz
			}
			status, _, body := e.do(t, http.MethodPost, e.root()+"/api/v1/reconcile", nil, hdr)
			if status != tc.want {
				t.Errorf("%s: status %d, want %d: %s", tc.name, status, tc.want, clip(body))
			}
			var doc map[string]any
			if err := json.Unmarshal(body, &doc); err != nil || doc["error"] == nil {
				t.Errorf("%s: body %s is not a JSON error", tc.name, clip(body))
			}
			if strings.Contains(string(body), rcAdminToken) || strings.Contains(string(body), binOktaToken) {
				t.Errorf("%s: the answer holds a token", tc.name)
			}
			if after := len(e.runs(t)); after != before {
				t.Errorf("%s: a refused trigger created a run (%d -> %d runs)", tc.name, before, after)
			}
		}
	})

	// The brake on drift: the IdP deactivates two users (the push applies
	// it), then a Jira administrator reactivates both by hand. Repairing
	// that means deactivating 2 of the 10 managed accounts: 20%, more than
	// 10%.
	t.Run("safety_brake_on_drift", func(t *testing.T) {
		for _, n := range []string{"hal", "jon"} {
			e.scimSetActive(t, n, false)
		}
		e.awaitState(t, "push of two deactivations", func(a map[string]rcAccount) string {
			if a["hal"].Active || a["jon"].Active {
				return fmt.Sprintf("hal %+v, jon %+v", a["hal"], a["jon"])
			}
			return ""
		})
		for _, n := range []string{"hal", "jon"} {
			e.jira(t, http.MethodPut, "user", rcUserQ(n), map[string]any{"active": true}, http.StatusOK)
		}
		reactivated := e.mustState(t)
		e.resetRequests(t)
		r := e.awaitRun(t, e.trigger(t, "").ID)
		if r.Status != "aborted" || !strings.Contains(r.Error, "safety brake") || !strings.Contains(r.Error, "2 of 10") {
			t.Fatalf("reconcile deactivating 2 of 10: %+v; want aborted by the safety brake", r)
		}
		if w := e.writes(t); len(w) != 0 {
			t.Errorf("the aborted run wrote to Jira: %+v", w)
		}
		if d := cmp.Diff(reactivated, e.mustState(t)); d != "" {
			t.Errorf("the aborted run changed Jira (-before +after):\n%s", d)
		}
		if rs := e.results(t, r.ID, ""); len(rs) != 0 {
			t.Errorf("the aborted run recorded changes: %+v", rs)
		}
		// A dry run is braked the same way: it shows what a real run would do.
		if d := e.awaitRun(t, e.trigger(t, "dry_run=true").ID); d.Status != "aborted" {
			t.Errorf("dry run over the brake: %+v, want aborted", d)
		}
		f := e.awaitRun(t, e.trigger(t, "force=true").ID)
		if f.Status != "succeeded" || f.Counts["deactivated"] != 2 {
			t.Fatalf("forced reconcile: %+v; want succeeded with 2 deactivated", f)
		}
		accts := rcAccounts(e.mustState(t))
		if accts["hal"].Active || accts["jon"].Active {
			t.Errorf("after the forced run: hal %+v, jon %+v", accts["hal"], accts["jon"])
		}
		rs := rcByUser(t, e.results(t, f.ID, ""))
		for _, n := range []string{"hal", "jon"} {
			res := rs[n+"@example.com"]
			if res.Action != "deactivated" || res.ResourceID != e.ids[n+"@example.com"] {
				t.Errorf("forced run result for %s: %+v", n, res)
				continue
			}
			rcCheckChange(t, res, "active", true, false)
		}
		if len(rs) != 2 {
			t.Errorf("forced run results %+v, want hal and jon only", rs)
		}
	})

	// `scimbridge reconcile --dry-run --json` on the stopped service's
	// database: it prints the run and its results and exits 0 although it
	// found drift; then the real command repairs it.
	t.Run("reconcile_command", func(t *testing.T) {
		e.sb.stop(t)
		e.jira(t, http.MethodPut, "user", rcUserQ("gus"), map[string]any{"displayName": "Gus Changed"}, http.StatusOK)
		e.resetRequests(t)
		out, err := e.command(t, "--dry-run", "--json")
		if err != nil {
			t.Fatalf("scimbridge reconcile --dry-run --json: %v\n%s", err, out)
		}
		var doc struct {
			Run     rcRun      `json:"run"`
			Results []rcResult `json:"results"`
		}
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Fatalf("--json output is not one JSON document: %v\n%s", err, clip(out))
		}
		if doc.Run.Kind != "dry-run" || doc.Run.Status != "succeeded" || doc.Run.Trigger != "manual" || doc.Run.ID <= run.ID {
			t.Errorf("--dry-run --json run = %+v", doc.Run)
		}
		got := rcByUser(t, doc.Results)
		if r := got["gus@example.com"]; r.Action != "updated" || r.RunID != doc.Run.ID {
			t.Errorf("--dry-run --json results %+v: want gus updated in run %d", doc.Results, doc.Run.ID)
		} else {
			rcCheckChange(t, r, "display_name", "Gus Changed", "Gus Lovelace")
		}
		if w := e.writes(t); len(w) != 0 {
			t.Errorf("reconcile --dry-run wrote to Jira: %+v", w)
		}
		if a := rcAccounts(e.mustState(t))["gus"]; a.Display != "Gus Changed" {
			t.Errorf("after the dry run gus is %+v", a)
		}
		out, err = e.command(t)
		if err != nil {
			t.Fatalf("scimbridge reconcile: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), "succeeded") {
			t.Errorf("scimbridge reconcile printed %q, want the run's status", out)
		}
		if a := rcAccounts(e.mustState(t))["gus"]; a.Display != "Gus Lovelace" {
			t.Errorf("after scimbridge reconcile gus is %+v", a)
		}
	})
	checkRCProcess(t, e.sb)
}

// command runs `scimbridge reconcile --config cfg args...` and returns its
// stdout; err is its exit status.
func (e *rcEnv) command(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), rcRunDeadline)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, append([]string{"reconcile", "--config", e.cfg}, args...)...)
	cmd.Dir = filepath.Dir(e.cfg)
	cmd.Env = append(os.Environ(), "TEST_OKTA_SCIM_TOKEN="+binOktaToken)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Logf("scimbridge reconcile %v stderr:\n%s", args, tail(stderr.String(), 3000))
	}
	for _, s := range []string{rcAdminToken, rcWebhookSecret, e2eJiraToken, binOktaToken} {
		if bytes.Contains(out, []byte(s)) || strings.Contains(stderr.String(), s) {
			t.Errorf("scimbridge reconcile %v printed a secret (%.6s…)", args, s)
		}
	}
	return out, err
}

// checkRCProcess: no token or the webhook secret in the service's output,
// and no ERROR line (history that could not be written, a failed pass)
// except those of the known issues named.
func checkRCProcess(t *testing.T, p *process, knownIssues ...string) {
	t.Helper()
lines:
	for _, line := range strings.Split(p.stderr.String(), "\n") {
		if !strings.Contains(line, `"level":"ERROR"`) {
			continue
		}
		for _, k := range knownIssues {
			if strings.Contains(line, k) {
				t.Logf("KNOWN ISSUE logged: %s", line)
				continue lines
			}
		}
		t.Errorf("scimbridge logged an error: %s", line)
	}
	out := p.stdout.String() + p.stderr.String()
	for _, s := range []string{rcAdminToken, rcWebhookSecret, e2eJiraToken, binOktaToken} {
		if strings.Contains(out, s) {
			t.Errorf("scimbridge's output contains a secret (%.6s…)", s)
		}
	}
}

// rcSign is an independent implementation of the webhook signature: hex
// HMAC-SHA256 of "<timestamp>.<body>".
func rcSign(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func TestE2EReconcileWebhook(t *testing.T) {
	e := rcStart(t, rcOptions{})
	e.scimUser(t, "kim", "Kim Lee")
	e.scimUser(t, "lou", "Lou Reed")
	e.awaitState(t, "push", func(a map[string]rcAccount) string { return rcInGroups(a, map[string]string{"kim": rcSW, "lou": rcSW}) })
	e.jira(t, http.MethodPut, "user", rcUserQ("kim"), map[string]any{"displayName": "Kim Changed"}, http.StatusOK)

	hook := e.root() + "/api/v1/webhooks/reconcile"
	call := func(ts string, sig string, body []byte) (int, []byte) {
		hdr := map[string]string{"Content-Type": "application/json"}
		if ts != "" {
			hdr["X-Scimbridge-Timestamp"] = ts
		}
		if sig != "" {
			hdr["X-Scimbridge-Signature"] = sig
		}
		status, _, data := e.do(t, http.MethodPost, hook, body, hdr)
		return status, data
	}
	body := []byte(`{"source":"ci","reason":"nightly"}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig := rcSign(rcWebhookSecret, ts, body)

	before := e.runs(t)
	status, data := call(ts, sig, body)
	if status != http.StatusAccepted {
		t.Fatalf("signed webhook: status %d: %s", status, clip(data))
	}
	var run rcRun
	if err := json.Unmarshal(data, &run); err != nil {
		t.Fatal(err)
	}
	if run.ID <= 0 || run.Trigger != "webhook" || run.Kind != "reconcile" || (run.Status != "running" && run.Status != "queued") {
		t.Fatalf("signed webhook answered %+v", run)
	}
	run = e.awaitRun(t, run.ID)
	if run.Status != "succeeded" || run.Counts["updated"] != 1 {
		t.Errorf("webhook run: %+v, want succeeded with kim updated", run)
	}
	if a := rcAccounts(e.mustState(t))["kim"]; a.Display != "Kim Lee" {
		t.Errorf("the webhook run did not repair kim: %+v", a)
	}
	if rs := e.results(t, run.ID, ""); len(rs) != 1 || rs[0].UserName != "kim@example.com" {
		t.Errorf("webhook run results: %+v", rs)
	}
	afterGood := e.runs(t)
	if len(afterGood) != len(before)+1 || afterGood[0].ID != run.ID {
		t.Fatalf("the signed call added runs %v, want exactly run %d", afterGood, run.ID)
	}

	now := time.Now()
	stale := strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10)
	future := strconv.FormatInt(now.Add(6*time.Minute).Unix(), 10)
	fresh := strconv.FormatInt(now.Unix()+1, 10)
	for _, tc := range []struct {
		name, ts, sig string
		body          []byte
	}{
		{"replayed call", ts, sig, body},
		{"wrong secret", fresh, rcSign("not-the-webhook-secret-at-all", fresh, body), body},
		{"body changed after signing", fresh, rcSign(rcWebhookSecret, fresh, body), []byte(`{"source":"ci","reason":"evil"}`)},
		{"timestamp changed after signing", fresh, sig, body},
		{"stale timestamp (6 min old)", stale, rcSign(rcWebhookSecret, stale, body), body},
		{"timestamp 6 min ahead", future, rcSign(rcWebhookSecret, future, body), body},
		{"no signature", fresh, "", body},
		{"no timestamp", "", rcSign(rcWebhookSecret, fresh, body), body},
		{"signature without sha256= prefix", fresh, strings.TrimPrefix(rcSign(rcWebhookSecret, fresh, body), "sha256="), body},
	} {
		status, data := call(tc.ts, tc.sig, tc.body)
		if status != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401: %s", tc.name, status, clip(data))
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil || doc["error"] == nil {
			t.Errorf("%s: body %s is not a JSON error", tc.name, clip(data))
		}
		if strings.Contains(string(data), rcWebhookSecret) {
			t.Errorf("%s: the answer holds the secret", tc.name)
		}
	}
	// The admin token is not a webhook credential.
	status, _, data = e.do(t, http.MethodPost, hook, body, map[string]string{"Authorization": "Bearer " + rcAdminToken})
	if status != http.StatusUnauthorized {
		t.Errorf("webhook with the admin token and no signature: status %d, want 401: %s", status, clip(data))
	}
	// A correctly signed call may not ask for a forced run: the query
	// string is not signed.
	fresh2 := strconv.FormatInt(now.Unix()+2, 10)
	status, _, data = e.do(t, http.MethodPost, hook+"?force=true", body, map[string]string{
		"X-Scimbridge-Timestamp": fresh2, "X-Scimbridge-Signature": rcSign(rcWebhookSecret, fresh2, body),
	})
	if status != http.StatusBadRequest {
		t.Errorf("signed webhook with ?force=true: status %d, want 400: %s", status, clip(data))
	}
	if after := e.runs(t); len(after) != len(afterGood) || after[0].ID != run.ID {
		t.Errorf("refused webhook calls started runs: %d runs before, %d after (newest %d)", len(afterGood), len(after), after[0].ID)
	}

	// Triggers during a run, by the API and the webhook alike, join one
	// follow-up run. Jira is slowed down so the first run is still going.
	t.Run("triggers_coalesce", func(t *testing.T) {
		e.emu.setFaults(t, atlassiantest.Faults{LatencyMS: 250})
		defer e.emu.setFaults(t, atlassiantest.Faults{})
		before := e.runs(t)
		first := e.trigger(t, "")
		if first.Status != "running" {
			t.Fatalf("first trigger: %+v, want running", first)
		}
		second := e.trigger(t, "")
		ts := strconv.FormatInt(time.Now().Unix()+3, 10)
		status, data := call(ts, rcSign(rcWebhookSecret, ts, body), body)
		var third rcRun
		if status != http.StatusAccepted || json.Unmarshal(data, &third) != nil {
			t.Fatalf("webhook during a run: status %d: %s", status, clip(data))
		}
		fourth := e.trigger(t, "")
		if second.Status != "queued" || second.ID == first.ID || third.ID != second.ID || fourth.ID != second.ID {
			t.Fatalf("triggers during run %d answered %+v, %+v, %+v; want one queued follow-up run joined by all", first.ID, second, third, fourth)
		}
		if r := e.awaitRun(t, first.ID); r.Status != "succeeded" {
			t.Errorf("first run: %+v", r)
		}
		if r := e.awaitRun(t, second.ID); r.Status != "succeeded" {
			t.Errorf("follow-up run: %+v", r)
		}
		if after := e.runs(t); len(after) != len(before)+2 {
			t.Errorf("four triggers made %d runs, want 2 (one plus one coalesced follow-up)", len(after)-len(before))
		}
	})
	checkRCProcess(t, e.sb)
}

func TestE2EReconcileSchedule(t *testing.T) {
	e := rcStart(t, rcOptions{Schedule: "@every 2s"})
	e.scimUser(t, "max", "Max Planck")
	e.awaitState(t, "push", func(a map[string]rcAccount) string { return rcInGroups(a, map[string]string{"max": rcSW}) })
	e.jira(t, http.MethodPut, "user", rcUserQ("max"), map[string]any{"displayName": "Max Changed", "active": false}, http.StatusOK)
	marked := time.Now()
	e.awaitState(t, "a scheduled reconcile repairs max", func(a map[string]rcAccount) string {
		if m := a["max"]; m.Display != "Max Planck" || !m.Active {
			return fmt.Sprintf("max is %+v", m)
		}
		return ""
	})
	// The repair was made by a run with trigger cron, which recorded it.
	deadline := time.Now().Add(rcCronDeadline)
	for {
		var repaired *rcRun
		cron := 0
		for _, r := range e.runs(t) {
			if r.Trigger != "cron" {
				continue
			}
			cron++
			if r.Kind != "reconcile" {
				t.Errorf("cron run %d has kind %q", r.ID, r.Kind)
			}
			if r.Status == "succeeded" && r.Counts["reactivated"] == 1 {
				repaired = &r
			}
		}
		if repaired != nil {
			rs := e.results(t, repaired.ID, "")
			if len(rs) != 1 || rs[0].UserName != "max@example.com" || rs[0].Action != "reactivated" {
				t.Fatalf("cron run %d results: %+v", repaired.ID, rs)
			}
			rcCheckChange(t, rs[0], "display_name", "Max Changed", "Max Planck")
			rcCheckChange(t, rs[0], "active", false, true)
			if repaired.StartedAt.Before(marked.Add(-time.Second)) {
				t.Errorf("cron run %d started %v, before the drift was made (%v)", repaired.ID, repaired.StartedAt, marked)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no succeeded cron run with the repair within %v (%d cron runs)", rcCronDeadline, cron)
		}
		rcPause(t)
	}
}

func TestE2EReconcileSafetyBrake(t *testing.T) {
	e := rcStart(t, rcOptions{Orphans: "deactivate", MaxPercent: 10})
	var names []string
	want := map[string]string{}
	for i := range 10 {
		n := fmt.Sprintf("staff%02d", i)
		names = append(names, n)
		e.scimUser(t, n, "Staff "+strconv.Itoa(i))
		want[n] = rcSW
	}
	e.awaitState(t, "push of 10 users", func(a map[string]rcAccount) string { return rcInGroups(a, want) })
	// A first reconcile with nothing to do.
	if r := e.awaitRun(t, e.trigger(t, "").ID); r.Status != "succeeded" {
		t.Fatalf("first reconcile: %+v", r)
	}
	// Jira holds accounts from before the bridge (made by hand): orphans.
	// With orphans: deactivate, deactivating three of them is 30% of the
	// ten accounts the bridge manages: more than 10%.
	legacy := []string{"legacy1", "legacy2", "legacy3"}
	for _, n := range legacy {
		e.jira(t, http.MethodPost, "user", nil, map[string]any{
			"name": n, "password": "pw-" + n, "emailAddress": n + "@example.org", "displayName": "Legacy " + n,
		}, http.StatusCreated)
	}
	before := e.mustState(t)
	e.resetRequests(t)
	run := e.awaitRun(t, e.trigger(t, "").ID)
	if run.Status != "aborted" || !strings.Contains(run.Error, "safety brake") || !strings.Contains(run.Error, "3 of 10") ||
		!strings.Contains(run.Error, "10%") {
		t.Fatalf("reconcile with 3 orphans of 10: %+v; want aborted with the safety brake's reason (3 of 10, 10%%)", run)
	}
	if w := e.writes(t); len(w) != 0 {
		t.Errorf("an aborted run wrote to Jira: %+v", w)
	}
	if d := cmp.Diff(before, e.mustState(t)); d != "" {
		t.Errorf("an aborted run changed Jira (-before +after):\n%s", d)
	}
	for _, r := range e.results(t, run.ID, "all=true") {
		if r.Action != "unchanged" && r.Action != "skipped" {
			t.Errorf("aborted run recorded a change: %+v", r)
		}
	}

	forced := e.trigger(t, "force=true")
	forced = e.awaitRun(t, forced.ID)
	if forced.Status != "succeeded" || forced.Counts["deactivated"] != 3 {
		t.Fatalf("forced reconcile: %+v; want succeeded with 3 deactivated", forced)
	}
	accts := rcAccounts(e.mustState(t))
	for _, n := range legacy {
		if accts[n].Active {
			t.Errorf("orphan %s still active after the forced run", n)
		}
	}
	if p := rcInGroups(accts, want); p != "" {
		t.Errorf("managed accounts after the forced run: %s", p)
	}
	t.Run("orphan_results_recorded", func(t *testing.T) {
		all := e.results(t, forced.ID, "all=true")
		if len(all) != len(legacy)+len(names) {
			t.Errorf("forced run: %d results with all=true, want %d (orphans and managed users)", len(all), len(legacy)+len(names))
		}
		rs := rcByUser(t, e.results(t, forced.ID, ""))
		for _, n := range legacy {
			r, ok := rs[n]
			if !ok || r.Action != "deactivated" || r.Target != "jira" {
				t.Errorf("forced run result for %s: %+v", n, r)
				continue
			}
			rcCheckChange(t, r, "active", true, false)
		}
		if len(rs) != len(legacy) {
			t.Errorf("forced run results: %v, want the %d orphans only", rs, len(legacy))
		}
	})

	// At the limit (1 of 10 is 10%, not more) the brake does not trip.
	e.jira(t, http.MethodPost, "user", nil, map[string]any{
		"name": "legacy4", "password": "pw-legacy4", "emailAddress": "legacy4@example.org", "displayName": "Legacy 4",
	}, http.StatusCreated)
	r := e.awaitRun(t, e.trigger(t, "").ID)
	if r.Status != "succeeded" || r.Counts["deactivated"] != 1 || rcAccounts(e.mustState(t))["legacy4"].Active {
		t.Errorf("reconcile at exactly 10%%: %+v; want succeeded with legacy4 deactivated", r)
	}

	// The command: aborted exits non-zero and writes nothing; --force applies.
	t.Run("reconcile_command", func(t *testing.T) {
		e.sb.stop(t)
		for _, n := range []string{"legacy5", "legacy6"} {
			e.jira(t, http.MethodPost, "user", nil, map[string]any{
				"name": n, "password": "pw-" + n, "emailAddress": n + "@example.org", "displayName": "Legacy " + n,
			}, http.StatusCreated)
		}
		e.resetRequests(t)
		out, err := e.command(t, "--json")
		if err == nil {
			t.Errorf("scimbridge reconcile exited 0 on an aborted run:\n%s", out)
		}
		var doc struct {
			Run rcRun `json:"run"`
		}
		if jerr := json.Unmarshal(out, &doc); jerr != nil || doc.Run.Status != "aborted" || !strings.Contains(doc.Run.Error, "2 of 10") {
			t.Errorf("scimbridge reconcile --json on 2 orphans of 10: %v %+v\n%s", jerr, doc.Run, clip(out))
		}
		if w := e.writes(t); len(w) != 0 {
			t.Errorf("the aborted command wrote to Jira: %+v", w)
		}
		out, err = e.command(t, "--force", "--json")
		if err != nil {
			t.Fatalf("scimbridge reconcile --force: %v\n%s", err, out)
		}
		if jerr := json.Unmarshal(out, &doc); jerr != nil || doc.Run.Status != "succeeded" || doc.Run.Counts["deactivated"] != 2 {
			t.Errorf("scimbridge reconcile --force --json: %v %+v", jerr, doc.Run)
		}
		accts := rcAccounts(e.mustState(t))
		if accts["legacy5"].Active || accts["legacy6"].Active {
			t.Errorf("after --force: legacy5 %+v legacy6 %+v", accts["legacy5"], accts["legacy6"])
		}
	})
	checkRCProcess(t, e.sb)
}

// rcWaitUntil blocks until the wall clock passes at: the inactivity period
// under test is real time between two processes.
func rcWaitUntil(t *testing.T, at time.Time) {
	t.Helper()
	timer := time.NewTimer(time.Until(at))
	defer timer.Stop()
	select {
	case <-t.Context().Done():
		t.Fatal("test context ended while waiting for the inactivity period")
	case <-timer.C:
	}
}

func TestE2EReconcileInactivity(t *testing.T) {
	const inactiveAfter = 3 * time.Second
	e := rcStart(t, rcOptions{InactiveAfter: inactiveAfter.String(), NeverLoggedIn: "deactivate", MaxPercent: 50})
	for _, n := range []string{"ida", "neo", "adm", "exe", "fay"} {
		e.scimUser(t, n, strings.ToUpper(n[:1])+n[1:]+" Idle")
	}
	e.scimGroup(t, "jira-oncall", "exe")
	e.awaitState(t, "push", func(a map[string]rcAccount) string {
		return rcInGroups(a, map[string]string{"ida": rcSW, "neo": rcSW, "adm": rcSW, "exe": "jira-oncall," + rcSW, "fay": rcSW})
	})
	// adm is made an administrator by hand; ida logs in to Jira now (Jira's
	// own lastLoginTime); neo, adm and exe never log in.
	e.jira(t, http.MethodPost, "group/user", url.Values{"groupname": {"jira-administrators"}}, map[string]string{"name": "adm"}, http.StatusCreated)
	e.emu.control(t, http.MethodPost, "/_emulator/login", map[string]string{"username": "ida"}, nil, http.StatusNoContent)
	rcWaitUntil(t, time.Now().Add(inactiveAfter+500*time.Millisecond))

	// fay logs in through SSO just before the run (a login event, not
	// Jira's record): she is not idle.
	var le struct {
		Target   string `json:"target"`
		Username string `json:"username"`
		Accounts int    `json:"accounts"`
	}
	e.admin(t, http.MethodPost, "/api/v1/login-events", map[string]string{"target": "jira", "username": "fay"}, http.StatusAccepted, &le)
	if le.Accounts != 1 || le.Username != "fay" || le.Target != "jira" {
		t.Errorf("login event for fay answered %+v", le)
	}
	e.admin(t, http.MethodPost, "/api/v1/login-events", map[string]string{"target": "jira", "username": "nobody"}, http.StatusNotFound, nil)
	e.admin(t, http.MethodPost, "/api/v1/login-events", map[string]string{"target": "confluence", "username": "fay"}, http.StatusBadRequest, nil)
	e.admin(t, http.MethodPost, "/api/v1/login-events", map[string]string{"target": "jira"}, http.StatusBadRequest, nil)

	// A dry run plans the reclaim and writes nothing.
	idle := e.mustState(t)
	e.resetRequests(t)
	dry := e.awaitRun(t, e.trigger(t, "dry_run=true").ID)
	if dry.Status != "succeeded" || dry.Counts["deactivated"] != 2 {
		t.Errorf("lifecycle dry run: %+v; want succeeded planning 2 deactivations", dry)
	}
	if w := e.writes(t); len(w) != 0 {
		t.Errorf("lifecycle dry run wrote to Jira: %+v", w)
	}
	if d := cmp.Diff(idle, e.mustState(t)); d != "" {
		t.Errorf("lifecycle dry run changed Jira (-before +after):\n%s", d)
	}

	run := e.awaitRun(t, e.trigger(t, "").ID)
	if run.Status != "succeeded" || run.Counts["deactivated"] != 2 {
		t.Fatalf("lifecycle reconcile: %+v; want succeeded with ida and neo deactivated", run)
	}
	accts := rcAccounts(e.mustState(t))
	for name, active := range map[string]bool{"ida": false, "neo": false, "adm": true, "exe": true, "fay": true} {
		if a, ok := accts[name]; !ok || a.Active != active {
			t.Errorf("after the lifecycle reconcile %s is %+v (present %v), want active=%v", name, a, ok, active)
		}
	}
	if !strings.Contains(accts["adm"].Groups, "jira-administrators") {
		t.Errorf("adm lost jira-administrators: %+v", accts["adm"])
	}
	rs := rcByUser(t, e.results(t, run.ID, ""))
	for _, n := range []string{"ida", "neo"} {
		r := rs[n+"@example.com"]
		if r.Action != "deactivated" {
			t.Errorf("result for %s: %+v, want deactivated", n, r)
			continue
		}
		rcCheckChange(t, r, "active", true, false)
	}
	if len(rs) != 2 {
		t.Errorf("lifecycle results %+v, want ida and neo only", rs)
	}

	// ida logs in through SSO: a login event reactivates her (the IdP
	// still has her active).
	e.admin(t, http.MethodPost, "/api/v1/login-events", map[string]string{"target": "jira", "username": "IDA"}, http.StatusAccepted, &le)
	e.awaitState(t, "a login event reactivates ida", func(a map[string]rcAccount) string {
		if !a["ida"].Active {
			return "ida is still inactive"
		}
		return ""
	})
	var hist struct {
		Results []rcResult `json:"results"`
	}
	deadline := time.Now().Add(historyDeadline)
	for {
		e.admin(t, http.MethodGet, "/api/v1/users/okta/"+e.ids["ida@example.com"]+"/history", nil, http.StatusOK, &hist)
		var actions []string
		for _, r := range hist.Results {
			actions = append(actions, r.Action)
		}
		if slices.Contains(actions, "reactivated") && slices.Contains(actions, "deactivated") {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("ida's history %v: want deactivated and reactivated", actions)
			break
		}
		rcPause(t)
	}

	// A reconcile right away keeps ida (fresh login) and neo (still idle,
	// deactivated for inactivity) as they are.
	e.resetRequests(t)
	run = e.awaitRun(t, e.trigger(t, "").ID)
	accts = rcAccounts(e.mustState(t))
	if run.Status != "succeeded" || !accts["ida"].Active || accts["neo"].Active {
		t.Errorf("reconcile after the login: %+v; ida %+v, neo %+v", run, accts["ida"], accts["neo"])
	}
	if w := e.writes(t); len(w) != 0 {
		t.Errorf("reconcile after the login wrote to Jira: %+v", w)
	}
	checkRCProcess(t, e.sb)
}
