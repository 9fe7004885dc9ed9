package metrics

import (
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// Result actions (store.Result.Action) as label values.
var (
	// changeActions changed something in a target (or, in a dry run, would have).
	changeActions = []string{
		"created", "updated", "renamed", "deactivated", "reactivated", "deleted",
		"group-added", "group-removed", "group-created", "group-deleted",
	}
	// failureActions are results whose change did not happen.
	failureActions = []string{"failed", "parked", "conflict"}
	actions        = append(append(append([]string{}, changeActions...), failureActions...), "unchanged", "skipped")
)

var (
	runKinds    = []string{"push", "reconcile", "dry-run", "lifecycle"}
	runStatuses = []string{"succeeded", "failed", "aborted"}
)

// Recorded counts one result of an engine run of the given kind
// (reconcile.Observer). The outcome label is failure for failed, parked and
// conflict results, dry_run for any other result of a dry run, else
// success. Results of full reconciles and dry runs that change something
// (or failed to) are drift found; changes a full reconcile made are drift
// repaired.
func (m *Metrics) Recorded(kind string, res store.Result) {
	target := m.targetLabel(res.Target)
	action := oneOf(res.Action, actions, "other")
	change := oneOf(res.Action, changeActions, "") != ""
	failure := oneOf(res.Action, failureActions, "") != ""
	outcome := "success"
	switch {
	case failure:
		outcome = "failure"
	case kind == "dry-run":
		outcome = "dry_run"
	}
	m.applies.WithLabelValues(target, action, outcome).Inc()
	if (kind == "reconcile" || kind == "dry-run") && (change || res.Action == "failed" || res.Action == "parked") {
		m.driftFound.WithLabelValues(target).Inc()
	}
	if kind == "reconcile" && change {
		m.driftRepaired.WithLabelValues(target).Inc()
	}
}

// RunFinished counts one finished engine run, observes its duration and,
// when it succeeded, moves the last-success timestamp of its kind
// (reconcile.Observer).
func (m *Metrics) RunFinished(run store.Run) {
	kind := oneOf(run.Kind, runKinds, "other")
	m.runs.WithLabelValues(kind, oneOf(run.Status, runStatuses, "other")).Inc()
	if run.FinishedAt == nil {
		return
	}
	if d := run.FinishedAt.Sub(run.StartedAt); d >= 0 {
		m.runDuration.WithLabelValues(kind).Observe(d.Seconds())
	}
	if run.Status == "succeeded" {
		m.LastSuccess(kind, *run.FinishedAt)
	}
}

// LastSuccess moves the last-success timestamp of kind to at, unless a
// later success is already known. cmd calls it at start with the newest
// successful runs in the history, so a restart does not reset the gauge.
func (m *Metrics) LastSuccess(kind string, at time.Time) {
	kind = oneOf(kind, runKinds, "other")
	m.mu.Lock()
	defer m.mu.Unlock()
	if !at.After(m.lastSeen[kind]) {
		return
	}
	m.lastSeen[kind] = at
	m.lastSuccess.WithLabelValues(kind).Set(float64(at.UnixNano()) / 1e9)
}
