// Package metrics owns every Prometheus collector of scimbridge. cmd creates
// one registry, builds a Metrics on it and plugs the pieces in: SCIM wraps the
// SCIM handler, Directory and RoundTripper wrap each Atlassian target, the
// Metrics itself is the engine's reconcile.Observer, WatchOutbox samples the
// outbox at scrape time, and Handler serves /metrics. Nothing here is
// package-level state, so tests build as many as they like.
//
// Label values are bounded: configured tenant and target names (anything
// else becomes "unknown"), fixed lists of resources, methods, operations,
// actions, kinds and statuses (anything else becomes "other"), and HTTP status
// codes. A user name never becomes a label. Series that dashboards and alerts
// rely on are created at zero by New, so they exist before the first event.
//
// Exported names (besides go_*, process_* and, through WatchPools or WatchDB,
// go_sql_*{db_name}):
//
//	scimbridge_scim_requests_total{tenant,resource,method,code}           counter
//	scimbridge_scim_request_duration_seconds{tenant,resource,method}      histogram
//	scimbridge_outbox_jobs{state}                      gauge, state pending|parked, read at scrape time
//	scimbridge_outbox_oldest_job_age_seconds           gauge, age of the oldest pending job (0: none)
//	scimbridge_jobs_parked                             gauge, jobs waiting for a reconcile or a retry
//	scimbridge_applies_total{target,action,outcome}    counter, one per recorded result
//	scimbridge_atlassian_requests_total{target,operation,status}     counter, one per Directory call
//	scimbridge_atlassian_request_duration_seconds{target,operation}  histogram, retries and waits included
//	scimbridge_atlassian_attempts_total{target,code}   counter, one per HTTP attempt ("error": no answer)
//	scimbridge_atlassian_rate_limited_total{target}    counter, one per HTTP 429 answer
//	scimbridge_atlassian_retry_after_seconds_total{target}  counter, waits asked for by Retry-After
//	scimbridge_reconcile_runs_total{kind,status}       counter, finished engine runs
//	scimbridge_reconcile_duration_seconds{kind}        histogram
//	scimbridge_reconcile_last_success_timestamp_seconds{kind}  gauge, Unix time
//	scimbridge_drift_found_total{target}               counter
//	scimbridge_drift_repaired_total{target}            counter
package metrics

import (
	"database/sql"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options say which label values exist from the start.
type Options struct {
	// Tenants are the configured SCIM tenants: the only tenant label values
	// besides "unknown". Their SCIM series start at zero.
	Tenants []string
	// Targets are the configured Atlassian targets: the only target label
	// values besides "unknown". Their series start at zero.
	Targets []string
	// Now is the clock for the outbox's oldest-job age; nil means time.Now.
	Now func() time.Time
	// OutboxTimeout bounds the outbox query made at each scrape; 0 means 2 s.
	OutboxTimeout time.Duration
}

// Metrics holds every collector. Its methods are safe for concurrent use.
type Metrics struct {
	reg           prometheus.Registerer
	now           func() time.Time
	outboxTimeout time.Duration
	tenants       map[string]bool
	targets       map[string]bool

	scimRequests *prometheus.CounterVec
	scimDuration *prometheus.HistogramVec

	applies       *prometheus.CounterVec
	driftFound    *prometheus.CounterVec
	driftRepaired *prometheus.CounterVec

	atlRequests    *prometheus.CounterVec
	atlDuration    *prometheus.HistogramVec
	atlAttempts    *prometheus.CounterVec
	atlRateLimited *prometheus.CounterVec
	atlRetryAfter  *prometheus.CounterVec

	runs        *prometheus.CounterVec
	runDuration *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec

	mu       sync.Mutex           // guards lastSeen
	lastSeen map[string]time.Time // newest success per kind, so an older run never moves the gauge back
}

// Buckets. SCIM answers are local (SQLite); Atlassian calls include the
// transport's retries and rate-limit waits and whole paged listings; runs
// range from one pushed change to a full reconcile of a large directory.
var (
	scimBuckets      = prometheus.DefBuckets
	atlassianBuckets = []float64{.05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	runBuckets       = []float64{.1, .5, 1, 5, 15, 30, 60, 300, 900, 1800, 3600}
)

// New registers every collector on reg, including the Go and process
// collectors, and creates the labelled series of the configured tenants and
// targets at zero. It fails only if reg already holds one of these names.
func New(reg prometheus.Registerer, opts Options) (*Metrics, error) {
	m := &Metrics{
		reg: reg, now: opts.Now, outboxTimeout: opts.OutboxTimeout,
		tenants: set(opts.Tenants), targets: set(opts.Targets), lastSeen: map[string]time.Time{},
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.outboxTimeout <= 0 {
		m.outboxTimeout = 2 * time.Second
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	histogram := func(name, help string, buckets []float64, labels ...string) *prometheus.HistogramVec {
		return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: name, Help: help, Buckets: buckets}, labels)
	}
	m.scimRequests = counter("scimbridge_scim_requests_total",
		"SCIM requests answered, by tenant, resource, method and status code.", "tenant", "resource", "method", "code")
	m.scimDuration = histogram("scimbridge_scim_request_duration_seconds",
		"Time to answer a SCIM request.", scimBuckets, "tenant", "resource", "method")
	m.applies = counter("scimbridge_applies_total",
		"Per-user results recorded by engine runs, by target, action and outcome (success, failure, dry_run).", "target", "action", "outcome")
	m.driftFound = counter("scimbridge_drift_found_total",
		"Changes full reconciles and dry runs found necessary (drift between IdP and target), failed ones included.", "target")
	m.driftRepaired = counter("scimbridge_drift_repaired_total",
		"Changes full reconciles made to repair drift.", "target")
	m.atlRequests = counter("scimbridge_atlassian_requests_total",
		"Atlassian directory calls, by target, operation and final status (ok or the error kind).", "target", "operation", "status")
	m.atlDuration = histogram("scimbridge_atlassian_request_duration_seconds",
		"Time of one Atlassian directory call, retries and rate-limit waits included.", atlassianBuckets, "target", "operation")
	m.atlAttempts = counter("scimbridge_atlassian_attempts_total",
		"HTTP attempts sent to Atlassian, by target and status code (error: no answer).", "target", "code")
	m.atlRateLimited = counter("scimbridge_atlassian_rate_limited_total",
		"HTTP 429 answers from Atlassian (each one makes the bridge wait).", "target")
	m.atlRetryAfter = counter("scimbridge_atlassian_retry_after_seconds_total",
		"Seconds Atlassian asked the bridge to wait (Retry-After on 429 and 503 answers).", "target")
	m.runs = counter("scimbridge_reconcile_runs_total",
		"Finished engine runs, by kind (push, reconcile, dry-run) and status (succeeded, failed, aborted).", "kind", "status")
	m.runDuration = histogram("scimbridge_reconcile_duration_seconds",
		"Duration of finished engine runs.", runBuckets, "kind")
	m.lastSuccess = prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "scimbridge_reconcile_last_success_timestamp_seconds",
		Help: "Unix time the last successful run of each kind finished (0: none since the start)."}, []string{"kind"})

	cs := []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.scimRequests, m.scimDuration, m.applies, m.driftFound, m.driftRepaired,
		m.atlRequests, m.atlDuration, m.atlAttempts, m.atlRateLimited, m.atlRetryAfter,
		m.runs, m.runDuration, m.lastSuccess,
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	m.initSeries(opts)
	return m, nil
}

// initSeries creates the series dashboards and alerts read, at zero.
func (m *Metrics) initSeries(opts Options) {
	for _, t := range opts.Tenants {
		for _, res := range []string{"Users", "Groups"} {
			// The success code of each method: the series a healthy IdP moves.
			for _, mc := range [][2]string{{"GET", "200"}, {"POST", "201"}, {"PUT", "200"}, {"PATCH", "200"}, {"DELETE", "204"}} {
				m.scimRequests.WithLabelValues(t, res, mc[0], mc[1])
				m.scimDuration.WithLabelValues(t, res, mc[0])
			}
		}
	}
	for _, t := range opts.Targets {
		for _, op := range operations {
			m.atlRequests.WithLabelValues(t, op, "ok")
			m.atlDuration.WithLabelValues(t, op)
		}
		m.atlAttempts.WithLabelValues(t, "200")
		m.atlRateLimited.WithLabelValues(t)
		m.atlRetryAfter.WithLabelValues(t)
		m.driftFound.WithLabelValues(t)
		m.driftRepaired.WithLabelValues(t)
		for _, a := range changeActions {
			m.applies.WithLabelValues(t, a, "success")
		}
		m.applies.WithLabelValues(t, "unchanged", "success")
		m.applies.WithLabelValues(t, "failed", "failure")
		m.applies.WithLabelValues(t, "parked", "failure")
	}
	for _, k := range []string{"push", "reconcile", "dry-run"} {
		m.runs.WithLabelValues(k, "succeeded")
		m.runs.WithLabelValues(k, "failed")
		m.runDuration.WithLabelValues(k)
	}
	m.runs.WithLabelValues("reconcile", "aborted")
	m.lastSuccess.WithLabelValues("push")
	m.lastSuccess.WithLabelValues("reconcile")
}

// WatchDB registers the connection-pool statistics of db (go_sql_* with
// db_name=name).
func (m *Metrics) WatchDB(name string, db *sql.DB) error {
	if err := m.reg.Register(collectors.NewDBStatsCollector(db, name)); err != nil {
		return fmt.Errorf("register pool %q: %w", name, err)
	}
	return nil
}

// Handler serves what g gathers in the Prometheus text (or negotiated)
// format. A collector that fails (the outbox query) is logged and left out;
// the rest is still served.
func Handler(g prometheus.Gatherer, log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return promhttp.HandlerFor(g, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(log.Handler(), slog.LevelError),
		ErrorHandling: promhttp.ContinueOnError,
		// A scrape never needs long; a stuck one must not pile up goroutines.
		Timeout: 10 * time.Second,
	})
}

func (m *Metrics) tenantLabel(name string) string {
	if m.tenants[name] {
		return name
	}
	return "unknown"
}

func (m *Metrics) targetLabel(name string) string {
	if m.targets[name] {
		return name
	}
	return "unknown"
}

func set(names []string) map[string]bool {
	s := make(map[string]bool, len(names))
	for _, n := range names {
		s[n] = true
	}
	return s
}

func oneOf(v string, allowed []string, other string) string {
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	return other
}
