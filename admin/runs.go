package admin

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// RunJSON is a run as the API shows it.
type RunJSON struct {
	ID         int64          `json:"id"`
	Kind       string         `json:"kind"`
	Trigger    string         `json:"trigger"`
	Status     string         `json:"status"`
	StartedAt  time.Time      `json:"started_at"`
	FinishedAt *time.Time     `json:"finished_at"`
	Counts     map[string]int `json:"counts"`
	Error      string         `json:"error"`
}

// NewRunJSON renders a run: times in UTC, counts never null.
func NewRunJSON(r store.Run) RunJSON {
	out := RunJSON{ID: r.ID, Kind: r.Kind, Trigger: r.Trigger, Status: r.Status, StartedAt: r.StartedAt.UTC(),
		Counts: r.Counts, Error: r.Error}
	if r.FinishedAt != nil {
		f := r.FinishedAt.UTC()
		out.FinishedAt = &f
	}
	if out.Counts == nil {
		out.Counts = map[string]int{}
	}
	return out
}

// ResultJSON is one per-user result as the API shows it.
type ResultJSON struct {
	RunID      int64                   `json:"run_id"`
	Tenant     string                  `json:"tenant"`
	ResourceID string                  `json:"resource_id"`
	UserName   string                  `json:"user_name"`
	Target     string                  `json:"target"`
	Action     string                  `json:"action"`
	Changes    map[string]store.Change `json:"changes"`
	Error      string                  `json:"error"`
	At         time.Time               `json:"at"`
}

// NewResultJSON renders a result: time in UTC, changes never null.
func NewResultJSON(r store.Result) ResultJSON {
	out := ResultJSON{RunID: r.RunID, Tenant: r.Tenant, ResourceID: r.ResourceID, UserName: r.UserName,
		Target: r.Target, Action: r.Action, Changes: r.Changes, Error: r.Error, At: r.At.UTC()}
	if out.Changes == nil {
		out.Changes = map[string]store.Change{}
	}
	return out
}

// List limits for ?limit=.
const (
	defaultLimit = 50
	maxLimit     = 1000
)

// reconcile serves POST /api/v1/reconcile[?dry_run=true][&force=true].
func (a *API) reconcile(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	req := TriggerRequest{Trigger: TriggerAPI}
	var ok bool
	if req.DryRun, ok = boolParam(w, q.Get("dry_run"), "dry_run"); !ok {
		return
	}
	if req.Force, ok = boolParam(w, q.Get("force"), "force"); !ok {
		return
	}
	a.trigger(w, r, req)
}

// trigger asks the reconciler for a run and answers 202 with it.
func (a *API) trigger(w http.ResponseWriter, r *http.Request, req TriggerRequest) {
	run, err := a.rec.Trigger(r.Context(), req)
	if err != nil {
		a.internalError(w, r, "starting a reconcile run", err)
		return
	}
	a.log.InfoContext(r.Context(), "admin api: reconcile triggered", "trigger", req.Trigger, "dry_run", req.DryRun,
		"force", req.Force, "run", run.ID, "status", run.Status)
	writeJSON(w, http.StatusAccepted, NewRunJSON(run))
}

// listRuns serves GET /api/v1/runs[?limit=n].
func (a *API) listRuns(w http.ResponseWriter, r *http.Request) {
	limit, ok := limitParam(w, r.URL.Query().Get("limit"))
	if !ok {
		return
	}
	runs, err := a.st.ListRuns(r.Context(), limit)
	if err != nil {
		a.internalError(w, r, "listing runs", err)
		return
	}
	out := struct {
		Runs []RunJSON `json:"runs"`
	}{Runs: make([]RunJSON, 0, len(runs))}
	for _, run := range runs {
		out.Runs = append(out.Runs, NewRunJSON(run))
	}
	writeJSON(w, http.StatusOK, out)
}

// getRun serves GET /api/v1/runs/{id}.
func (a *API) getRun(w http.ResponseWriter, r *http.Request) {
	run, ok := a.lookupRun(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, NewRunJSON(run))
}

// lookupRun reads the run named by the {id} path value; on failure it has
// answered (400, 404 or 500).
func (a *API) lookupRun(w http.ResponseWriter, r *http.Request) (store.Run, bool) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		badRequest(w, fmt.Sprintf("run id %q is not a positive integer", raw))
		return store.Run{}, false
	}
	run, err := a.st.GetRun(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("there is no run %d", id))
		return store.Run{}, false
	}
	if err != nil {
		a.internalError(w, r, "reading the run", err)
		return store.Run{}, false
	}
	return run, true
}

// maxFilterLen bounds ?action= and ?user=; no action name or username is
// longer (Jira caps usernames at 255).
const maxFilterLen = 255

// runResults serves GET /api/v1/runs/{id}/results[?action=][&user=][&all=true]
// as a JSON array download. It is written element by element, so the
// encoded document never sits in memory next to the results.
func (a *API) runResults(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	rq := store.ResultQuery{Action: q.Get("action"), User: q.Get("user")}
	if len(rq.Action) > maxFilterLen || len(rq.User) > maxFilterLen {
		badRequest(w, fmt.Sprintf("action and user filters are at most %d bytes", maxFilterLen))
		return
	}
	var ok bool
	if rq.All, ok = boolParam(w, q.Get("all"), "all"); !ok {
		return
	}
	run, ok := a.lookupRun(w, r)
	if !ok {
		return
	}
	results, err := a.st.ListResults(r.Context(), run.ID, rq)
	if err != nil {
		a.internalError(w, r, "listing results", err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="run-%d-results.json"`, run.ID))
	w.WriteHeader(http.StatusOK)
	if err := streamResults(w, results); err != nil {
		// Headers are gone: all that is left is to say so in the log (the
		// client sees a cut-short array, which no JSON parser accepts).
		a.log.WarnContext(r.Context(), "admin api: results download cut short", "run", run.ID, "err", err)
	}
}

// streamResults writes results as a JSON array, one element per line, each
// encoded on its own so only one element's bytes exist at a time.
func streamResults(w http.ResponseWriter, results []store.Result) error {
	bw := bufio.NewWriterSize(w, 32<<10)
	if _, err := bw.WriteString("[\n"); err != nil {
		return err
	}
	for i, res := range results {
		b, err := json.Marshal(NewResultJSON(res))
		// Drop the element once encoded: its maps can be collected while
		// the rest is written.
		results[i] = store.Result{}
		if err != nil {
			return fmt.Errorf("encode result %d: %w", i, err)
		}
		if i > 0 {
			if _, err := bw.WriteString(",\n"); err != nil {
				return err
			}
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	if _, err := bw.WriteString("\n]\n"); err != nil {
		return err
	}
	return bw.Flush()
}

// userHistory serves GET /api/v1/users/{tenant}/{id}/history[?limit=n]:
// the user's results across runs, newest first.
func (a *API) userHistory(w http.ResponseWriter, r *http.Request) {
	limit, ok := limitParam(w, r.URL.Query().Get("limit"))
	if !ok {
		return
	}
	tenant, id := r.PathValue("tenant"), r.PathValue("id")
	// A user deleted in the IdP keeps its history; one that never existed
	// in the tenant is a 404 rather than an empty list, so a typo shows.
	if _, _, err := a.st.GetUserAny(r.Context(), tenant, id); errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", fmt.Sprintf("tenant %q has no user %q", tenant, id))
		return
	} else if err != nil {
		a.internalError(w, r, "reading the user", err)
		return
	}
	results, err := a.st.UserHistory(r.Context(), tenant, id, limit)
	if err != nil {
		a.internalError(w, r, "reading the user's history", err)
		return
	}
	// Guess: the issue does not give this shape; an object like
	// {"runs": [...]} leaves room for more keys later.
	out := struct {
		Tenant     string       `json:"tenant"`
		ResourceID string       `json:"resource_id"`
		Results    []ResultJSON `json:"results"`
	}{Tenant: tenant, ResourceID: id, Results: make([]ResultJSON, 0, len(results))}
	for _, res := range results {
		out.Results = append(out.Results, NewResultJSON(res))
	}
	writeJSON(w, http.StatusOK, out)
}

// boolParam parses an optional boolean query parameter ("" is false). On
// failure it has answered 400.
func boolParam(w http.ResponseWriter, raw, name string) (bool, bool) {
	if raw == "" {
		return false, true
	}
	v, err := strconv.ParseBool(raw)
	if err != nil {
		badRequest(w, fmt.Sprintf("%s must be true or false, got %q", name, clip(raw)))
		return false, false
	}
	return v, true
}

// limitParam parses ?limit= (default defaultLimit, 1..maxLimit).
func limitParam(w http.ResponseWriter, raw string) (int, bool) {
	if raw == "" {
		return defaultLimit, true
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxLimit {
		badRequest(w, fmt.Sprintf("limit must be an integer from 1 to %d, got %q", maxLimit, clip(raw)))
		return 0, false
	}
	return n, true
}

// clip shortens caller input echoed in an error message.
func clip(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
