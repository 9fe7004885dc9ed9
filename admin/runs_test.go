package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/store"
)

// resultKeys are the keys of a result object, exactly.
var resultKeys = []string{"action", "at", "changes", "error", "resource_id", "run_id", "target", "tenant", "user_name"}

// seedHistory stores three runs for users of tenant okta and returns them
// oldest first, with the user ids.
func (h *harness) seedHistory() (runs []store.Run, alice, bob string) {
	h.t.Helper()
	ctx := context.Background()
	a, err := h.db.CreateUser(ctx, store.User{Tenant: "okta", UserName: "Alice@example.com", Active: true})
	if err != nil {
		h.t.Fatal(err)
	}
	b, err := h.db.CreateUser(ctx, store.User{Tenant: "okta", UserName: "bob@example.com", Active: true})
	if err != nil {
		h.t.Fatal(err)
	}
	t0 := epoch.Add(-3 * time.Hour)
	r1 := h.seedRun("push", "scim", t0,
		store.Result{Tenant: "okta", ResourceID: a.ID, UserName: "Alice@example.com", Target: "jira", Action: "created",
			Changes: map[string]store.Change{"email": {Before: nil, After: "alice@example.com"}}, At: t0},
		store.Result{Tenant: "okta", ResourceID: b.ID, UserName: "bob@example.com", Target: "jira", Action: "created", At: t0.Add(time.Second)})
	t1 := t0.Add(time.Hour)
	r2 := h.seedRun("reconcile", "cron", t1,
		store.Result{Tenant: "okta", ResourceID: a.ID, UserName: "Alice@example.com", Target: "jira", Action: "updated",
			Changes: map[string]store.Change{"display_name": {Before: "Alice", After: "Alice Liddell"}, "active": {Before: false, After: true}}, At: t1},
		store.Result{Tenant: "okta", ResourceID: b.ID, UserName: "bob@example.com", Target: "jira", Action: "unchanged", At: t1},
		store.Result{Tenant: "okta", ResourceID: b.ID, UserName: "bob@example.com", Target: "confluence", Action: "failed",
			Error: "jira: 503 Service Unavailable", At: t1})
	t2 := t1.Add(time.Hour)
	r3 := h.seedRun("dry-run", "api", t2,
		store.Result{Tenant: "okta", ResourceID: a.ID, UserName: "Alice@example.com", Target: "jira", Action: "deactivated",
			Changes: map[string]store.Change{"active": {Before: true, After: false}}, At: t2})
	return []store.Run{r1, r2, r3}, a.ID, b.ID
}

func TestRuns(t *testing.T) {
	h := newHarness(t, nil)
	runs, _, _ := h.seedHistory()

	r := h.admin(http.MethodGet, "/api/v1/runs", "")
	if r.status != http.StatusOK {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	if got := keys(r.json(t)); !slices.Equal(got, []string{"runs"}) {
		t.Errorf("keys %v, want [runs]", got)
	}
	var list struct{ Runs []map[string]any }
	if err := json.Unmarshal(r.body, &list); err != nil {
		t.Fatal(err)
	}
	var ids []float64
	for _, run := range list.Runs {
		if got := keys(run); !slices.Equal(got, runKeys) {
			t.Errorf("run keys %v", got)
		}
		ids = append(ids, run["id"].(float64))
	}
	want := []float64{float64(runs[2].ID), float64(runs[1].ID), float64(runs[0].ID)}
	if !slices.Equal(ids, want) {
		t.Errorf("run ids %v, want newest first %v", ids, want)
	}

	r = h.admin(http.MethodGet, "/api/v1/runs?limit=2", "")
	if err := json.Unmarshal(r.body, &list); err != nil || len(list.Runs) != 2 || list.Runs[0]["id"] != want[0] {
		t.Errorf("limit=2: %s (%v)", r.body, err)
	}
	for _, bad := range []string{"0", "1001", "-1", "ten", "1.5"} {
		wantError(t, h.admin(http.MethodGet, "/api/v1/runs?limit="+bad, ""), http.StatusBadRequest, "bad_request", "limit must be an integer from 1 to 1000")
	}

	// One run, exactly as stored.
	r = h.admin(http.MethodGet, fmt.Sprintf("/api/v1/runs/%d", runs[1].ID), "")
	var got admin.RunJSON
	if err := json.Unmarshal(r.body, &got); err != nil || r.status != http.StatusOK {
		t.Fatalf("get run: %d %s (%v)", r.status, r.body, err)
	}
	fin := runs[1].StartedAt.Add(time.Minute)
	wantRun := admin.RunJSON{ID: runs[1].ID, Kind: "reconcile", Trigger: "cron", Status: "succeeded",
		StartedAt: runs[1].StartedAt, FinishedAt: &fin, Counts: map[string]int{"updated": 1, "unchanged": 1, "failed": 1}}
	if d := cmp.Diff(wantRun, got); d != "" {
		t.Errorf("run (-want +got):\n%s", d)
	}
	wantError(t, h.admin(http.MethodGet, "/api/v1/runs/999", ""), http.StatusNotFound, "not_found", "there is no run 999")
	wantError(t, h.admin(http.MethodGet, "/api/v1/runs/abc", ""), http.StatusBadRequest, "bad_request", "not a positive integer")
	wantError(t, h.admin(http.MethodGet, "/api/v1/runs/0", ""), http.StatusBadRequest, "bad_request", "not a positive integer")
	wantError(t, h.admin(http.MethodGet, "/api/v1/runs/99999999999999999999", ""), http.StatusBadRequest, "bad_request", "not a positive integer")
}

// results downloads a run's results and checks the download headers.
func (h *harness) results(runID int64, query string) []admin.ResultJSON {
	h.t.Helper()
	r := h.admin(http.MethodGet, fmt.Sprintf("/api/v1/runs/%d/results%s", runID, query), "")
	if r.status != http.StatusOK {
		h.t.Fatalf("results %s: %d %s", query, r.status, r.body)
	}
	if cd, want := r.header.Get("Content-Disposition"), fmt.Sprintf(`attachment; filename="run-%d-results.json"`, runID); cd != want {
		h.t.Errorf("Content-Disposition %q, want %q", cd, want)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		h.t.Errorf("Content-Type %q", ct)
	}
	if !bytes.HasPrefix(r.body, []byte("[")) {
		h.t.Fatalf("results are not a JSON array: %s", r.body)
	}
	var raw []map[string]any
	if err := json.Unmarshal(r.body, &raw); err != nil {
		h.t.Fatalf("results %s: %v\n%s", query, err, r.body)
	}
	for _, m := range raw {
		if got := keys(m); !slices.Equal(got, resultKeys) {
			h.t.Errorf("result keys %v, want %v", got, resultKeys)
		}
	}
	var out []admin.ResultJSON
	if err := json.Unmarshal(r.body, &out); err != nil {
		h.t.Fatal(err)
	}
	return out
}

func actions(rs []admin.ResultJSON) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Target+":"+r.Action)
	}
	return out
}

func TestRunResults(t *testing.T) {
	h := newHarness(t, nil)
	runs, alice, bob := h.seedHistory()
	id := runs[1].ID

	got := h.results(id, "")
	if a := actions(got); !slices.Equal(a, []string{"jira:updated", "confluence:failed"}) {
		t.Errorf("default results %v, want unchanged left out", a)
	}
	want := admin.ResultJSON{RunID: id, Tenant: "okta", ResourceID: alice, UserName: "Alice@example.com", Target: "jira",
		Action: "updated", Changes: map[string]store.Change{"display_name": {Before: "Alice", After: "Alice Liddell"},
			"active": {Before: false, After: true}}, At: runs[1].StartedAt}
	if d := cmp.Diff(want, got[0]); d != "" {
		t.Errorf("result (-want +got):\n%s", d)
	}
	if got[1].Error != "jira: 503 Service Unavailable" || got[1].ResourceID != bob || len(got[1].Changes) != 0 || got[1].Changes == nil {
		t.Errorf("failed result %+v", got[1])
	}

	if a := actions(h.results(id, "?all=true")); !slices.Equal(a, []string{"jira:updated", "jira:unchanged", "confluence:failed"}) {
		t.Errorf("all=true: %v", a)
	}
	if a := actions(h.results(id, "?action=failed")); !slices.Equal(a, []string{"confluence:failed"}) {
		t.Errorf("action=failed: %v", a)
	}
	if a := actions(h.results(id, "?user=BOB@EXAMPLE.COM")); !slices.Equal(a, []string{"confluence:failed"}) {
		t.Errorf("user=BOB (case-insensitive): %v", a)
	}
	if a := actions(h.results(id, "?user=bob@example.com&all=true")); !slices.Equal(a, []string{"jira:unchanged", "confluence:failed"}) {
		t.Errorf("user=bob&all=true: %v", a)
	}
	if a := actions(h.results(id, "?user=nobody")); len(a) != 0 {
		t.Errorf("user=nobody: %v", a)
	}
	if a := actions(h.results(id, "?action=renamed")); len(a) != 0 {
		t.Errorf("action=renamed: %v", a)
	}

	wantError(t, h.admin(http.MethodGet, "/api/v1/runs/999/results", ""), http.StatusNotFound, "not_found", "there is no run 999")
	wantError(t, h.admin(http.MethodGet, "/api/v1/runs/x/results", ""), http.StatusBadRequest, "bad_request", "not a positive integer")
	wantError(t, h.admin(http.MethodGet, fmt.Sprintf("/api/v1/runs/%d/results?all=sure", id), ""), http.StatusBadRequest, "bad_request", "all must be true or false")
	wantError(t, h.admin(http.MethodGet, fmt.Sprintf("/api/v1/runs/%d/results?user=%s", id, strings.Repeat("u", 256)), ""),
		http.StatusBadRequest, "bad_request", "at most 255 bytes")
}

func TestRunResultsEmpty(t *testing.T) {
	h := newHarness(t, nil)
	run := h.seedRun("reconcile", "api", epoch)
	r := h.admin(http.MethodGet, fmt.Sprintf("/api/v1/runs/%d/results", run.ID), "")
	var arr []any
	if err := json.Unmarshal(r.body, &arr); err != nil || r.status != http.StatusOK || arr == nil || len(arr) != 0 {
		t.Errorf("empty results: %d %q (%v), want []", r.status, r.body, err)
	}
}

// TestRunResultsStreaming downloads 10k results: the response is streamed
// (chunked, no Content-Length) and parses element by element.
func TestRunResultsStreaming(t *testing.T) {
	h := newHarness(t, nil)
	const n = 10_000
	rs := make([]store.Result, n)
	for i := range rs {
		action := "updated"
		if i%10 == 0 {
			action = "unchanged"
		}
		rs[i] = store.Result{Tenant: "okta", ResourceID: fmt.Sprintf("u%05d", i), UserName: fmt.Sprintf("user%05d", i),
			Target: "jira", Action: action, Changes: map[string]store.Change{"email": {Before: "a", After: "b"}}}
	}
	run := h.seedRun("reconcile", "cron", epoch, rs...)

	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/runs/%d/results?all=true", h.srv.URL, run.ID), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := h.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.ContentLength != -1 || !slices.Equal(res.TransferEncoding, []string{"chunked"}) {
		t.Errorf("status %d, length %d, transfer encoding %v; want 200 streamed in chunks", res.StatusCode, res.ContentLength, res.TransferEncoding)
	}
	dec := json.NewDecoder(res.Body)
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		t.Fatalf("first token %v, %v", tok, err)
	}
	count := 0
	for dec.More() {
		var r admin.ResultJSON
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("element %d: %v", count, err)
		}
		if want := fmt.Sprintf("u%05d", count); r.ResourceID != want || r.RunID != run.ID {
			t.Fatalf("element %d is %s of run %d, want %s in insertion order", count, r.ResourceID, r.RunID, want)
		}
		count++
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim(']') {
		t.Fatalf("last token %v, %v", tok, err)
	}
	if rest, _ := io.ReadAll(dec.Buffered()); strings.TrimSpace(string(rest)) != "" {
		t.Errorf("data after the array: %q", rest)
	}
	if count != n {
		t.Errorf("%d results, want %d", count, n)
	}
	if got := h.results(run.ID, ""); len(got) != n-n/10 {
		t.Errorf("without all: %d results, want %d", len(got), n-n/10)
	}
}

func TestUserHistory(t *testing.T) {
	h := newHarness(t, nil)
	runs, alice, bob := h.seedHistory()
	get := func(path string) (resp, []admin.ResultJSON) {
		t.Helper()
		r := h.admin(http.MethodGet, path, "")
		if r.status != http.StatusOK {
			return r, nil
		}
		m := r.json(t)
		if got := keys(m); !slices.Equal(got, []string{"resource_id", "results", "tenant"}) {
			t.Errorf("keys %v", got)
		}
		var out struct{ Results []admin.ResultJSON }
		if err := json.Unmarshal(r.body, &out); err != nil {
			t.Fatal(err)
		}
		return r, out.Results
	}
	_, got := get("/api/v1/users/okta/" + alice + "/history")
	var seq []string
	for _, r := range got {
		seq = append(seq, fmt.Sprintf("%d:%s", r.RunID, r.Action))
	}
	want := []string{fmt.Sprintf("%d:deactivated", runs[2].ID), fmt.Sprintf("%d:updated", runs[1].ID), fmt.Sprintf("%d:created", runs[0].ID)}
	if !slices.Equal(seq, want) {
		t.Errorf("alice's history %v, want newest first %v", seq, want)
	}
	if got[2].Changes["email"].After != "alice@example.com" {
		t.Errorf("changes of the first result: %+v", got[2].Changes)
	}
	_, got = get("/api/v1/users/okta/" + alice + "/history?limit=1")
	if len(got) != 1 || got[0].Action != "deactivated" {
		t.Errorf("limit=1: %+v", got)
	}
	// Unchanged results are part of a user's history.
	_, got = get("/api/v1/users/okta/" + bob + "/history")
	if len(got) != 3 {
		t.Errorf("bob's history has %d results, want 3: %+v", len(got), got)
	}

	// A deleted user keeps its history.
	if err := h.db.DeleteUser(context.Background(), "okta", bob); err != nil {
		t.Fatal(err)
	}
	if _, got = get("/api/v1/users/okta/" + bob + "/history"); len(got) != 3 {
		t.Errorf("deleted bob's history has %d results, want 3", len(got))
	}
	r, _ := get("/api/v1/users/okta/no-such-id/history")
	wantError(t, r, http.StatusNotFound, "not_found", `tenant "okta" has no user "no-such-id"`)
	r, _ = get("/api/v1/users/entra/" + alice + "/history")
	wantError(t, r, http.StatusNotFound, "not_found", `tenant "entra" has no user`)
	r, _ = get("/api/v1/users/okta/" + alice + "/history?limit=5000")
	wantError(t, r, http.StatusBadRequest, "bad_request", "limit must be")
}

func TestHistoryStoreErrorIsNotLeaked(t *testing.T) {
	h := newHarness(t, nil)
	// A closed store fails every call; the response must not echo it.
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/api/v1/runs", "/api/v1/runs/1", "/api/v1/runs/1/results", "/api/v1/users/okta/x/history"} {
		r := h.admin(http.MethodGet, p, "")
		wantError(t, r, http.StatusInternalServerError, "internal", "see the server log")
		if strings.Contains(string(r.body), "sql") || strings.Contains(string(r.body), "closed") {
			t.Errorf("%s: internal text in the response: %s", p, r.body)
		}
	}
}
