package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/reconcile"
)

// pinger is what readiness needs from the store: a real write. store/sqlite's
// Ping rewrites a heartbeat row through the single writer (queue,
// BEGIN IMMEDIATE, COMMIT with fsync), so it fails when the writer is closed
// or wedged, the file or its file system is read-only, the disk is full, or
// the write lock cannot be had within the busy timeout.
type pinger interface {
	Ping(ctx context.Context) error
}

// userGetter is what readiness needs from a target: one authenticated read.
type userGetter interface {
	GetUser(ctx context.Context, username string) (atlassian.User, error)
}

// probeTarget is one target as readiness sees it.
type probeTarget struct {
	name string
	dir  userGetter
}

// Readiness timing. Targets are probed at most once per targetProbeTTL, so
// a readiness probe polled every few seconds costs each target one request
// per half minute, taken from its rate limit like any other call.
const (
	dbProbeTimeout     = 5 * time.Second
	targetProbeTimeout = 2 * time.Second
	targetProbeTTL     = 30 * time.Second
	// probeUser is looked up on each target. Guess: no real account has
	// this name; if one does, finding it proves reachability just as well.
	probeUser = "scimbridge-readiness-probe"
)

// health serves /healthz and /readyz.
type health struct {
	db pinger
	// dbTimeout bounds the write probe (dbProbeTimeout; tests shorten it).
	dbTimeout time.Duration
	targets   []probeTarget
	now       func() time.Time
	log       *slog.Logger

	probing sync.Mutex // held by the one request refreshing the targets' status

	mu      sync.Mutex // guards checked and status
	checked time.Time
	status  map[string]targetStatus
}

// targetStatus is one target's entry in /readyz.
type targetStatus struct {
	// Status is "ok" (reachable, credentials accepted), "auth_failed"
	// (reachable, credentials refused), "unreachable" or "unknown" (not
	// probed yet).
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`
	CheckedAt time.Time `json:"checked_at,omitzero"`
	LatencyMS int64     `json:"latency_ms,omitempty"`
}

// dbStatus is the database's entry in /readyz.
type dbStatus struct {
	Status string `json:"status"` // "ok" or "error"
	Error  string `json:"error,omitempty"`
}

// readyBody is the /readyz document.
type readyBody struct {
	Status   string                  `json:"status"` // "ready" or "not ready"
	Database dbStatus                `json:"database"`
	Targets  map[string]targetStatus `json:"targets"`
}

func newHealth(db pinger, tgs []reconcile.Target, now func() time.Time, log *slog.Logger) *health {
	h := &health{db: db, dbTimeout: dbProbeTimeout, now: now, log: log, status: map[string]targetStatus{}}
	for _, t := range tgs {
		h.targets = append(h.targets, probeTarget{name: t.Name, dir: t.Dir})
	}
	return h
}

// healthz answers 200 while the process serves HTTP: liveness only, it
// touches nothing, so a slow database or target never gets the bridge
// restarted.
func (h *health) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the database takes writes and 503 when it does
// not. The targets' reachability is reported as detail and never fails
// readiness: an Atlassian outage must not stop the IdPs' pushes, which the
// outbox keeps until the target is back.
func (h *health) readyz(w http.ResponseWriter, r *http.Request) {
	body := readyBody{Status: "ready", Database: dbStatus{Status: "ok"}}
	code := http.StatusOK
	if err := h.probeDB(r.Context()); err != nil {
		body.Status, code = "not ready", http.StatusServiceUnavailable
		body.Database = dbStatus{Status: "error", Error: err.Error()}
	}
	body.Targets = h.targetStatus(r.Context())
	writeJSON(w, code, body)
}

// probeDB runs the write probe. The error it returns is safe to show: the
// store's own message goes to the log only.
func (h *health) probeDB(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, h.dbTimeout)
	defer cancel()
	if err := h.db.Ping(ctx); err != nil {
		h.log.WarnContext(ctx, "readiness: database write probe failed", "err", err)
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("database write probe timed out after %v", h.dbTimeout)
		}
		return errors.New("database does not accept writes")
	}
	return nil
}

// targetStatus returns the targets' last known status, refreshing it first
// when it is older than targetProbeTTL and no other request is doing so
// (those get the previous status rather than wait).
func (h *health) targetStatus(ctx context.Context) map[string]targetStatus {
	if h.stale() && h.probing.TryLock() {
		if h.stale() {
			fresh := h.probeTargets(ctx)
			h.mu.Lock()
			h.status, h.checked = fresh, h.now()
			h.mu.Unlock()
		}
		h.probing.Unlock()
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]targetStatus, len(h.targets))
	for _, t := range h.targets {
		s, ok := h.status[t.name]
		if !ok {
			s = targetStatus{Status: "unknown"}
		}
		out[t.name] = s
	}
	return out
}

func (h *health) stale() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.checked.IsZero() || h.now().Sub(h.checked) >= targetProbeTTL
}

// probeTargets looks probeUser up on every target at once.
func (h *health) probeTargets(ctx context.Context) map[string]targetStatus {
	// The probe outlives neither the request nor targetProbeTTL's budget,
	// but a client that hangs up does not leave the status half-refreshed.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), targetProbeTimeout)
	defer cancel()
	out := make(map[string]targetStatus, len(h.targets))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range h.targets {
		wg.Go(func() {
			start := h.now()
			_, err := t.dir.GetUser(ctx, probeUser)
			s := classifyProbe(err)
			s.CheckedAt = h.now().UTC()
			s.LatencyMS = s.CheckedAt.Sub(start).Milliseconds()
			mu.Lock()
			out[t.name] = s
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

// classifyProbe turns the probe's answer into a status. Only the error's
// kind is shown: its text may quote the target's answer.
func classifyProbe(err error) targetStatus {
	switch kind := atlassian.KindOf(err); {
	case err == nil, kind == atlassian.NotFound:
		return targetStatus{Status: "ok"}
	case kind == atlassian.Unauthorized, kind == atlassian.Forbidden:
		return targetStatus{Status: "auth_failed", Error: kind.String()}
	case errors.Is(err, context.DeadlineExceeded):
		return targetStatus{Status: "unreachable", Error: "timed out after " + targetProbeTimeout.String()}
	default:
		return targetStatus{Status: "unreachable", Error: kind.String()}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// healthcheck is the container's HEALTHCHECK: the runtime image has no
// shell and no curl, so the binary checks itself. It GETs --url and
// succeeds on 200.
func healthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	target := fs.String("url", "http://127.0.0.1:8080/healthz", "URL to GET; 200 means healthy")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if u, err := url.Parse(*target); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("healthcheck: --url %q: want an http or https URL", *target)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: HTTP %d", *target, resp.StatusCode)
	}
	fmt.Fprintln(stdout, "healthy")
	return nil
}
