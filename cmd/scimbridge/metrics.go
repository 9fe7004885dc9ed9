package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/metrics"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// metricsStore is what the metrics read from the store: the outbox at each
// scrape and, once at start, the run history.
type metricsStore interface {
	metrics.OutboxSource
	ListRuns(ctx context.Context, limit int) ([]store.Run, error)
	// Stats returns the connection pools' statistics by pool name.
	Stats() map[string]sql.DBStats
	// LookupCacheStats returns the lookup cache's counters and size.
	LookupCacheStats() sqlite.LookupCacheStats
}

// runsScannedAtStart bounds the history read for the last successes. Push
// runs dominate the history, so a reconcile older than this many runs is
// not found; its gauge then stays 0 until the next reconcile.
const runsScannedAtStart = 2000

// newMetrics creates the service's one registry and its metrics: series of
// every configured tenant and target at zero, the outbox gauges, and the
// last-success timestamps taken from the history, so a restart does not
// make a recent reconcile look stale; the Go and process collectors; and
// the store's connection pools (go_sql_*{db_name="writer"|"reader"|
// "checkpoint"}) and its lookup cache (scimbridge_lookup_cache_*).
func newMetrics(ctx context.Context, cfg *config.Config, st metricsStore, log *slog.Logger) (*prometheus.Registry, *metrics.Metrics, error) {
	reg := prometheus.NewRegistry()
	var tenants, targets []string
	for _, t := range cfg.Tenants {
		tenants = append(tenants, t.Name)
	}
	for _, t := range cfg.Targets {
		targets = append(targets, t.Name)
	}
	m, err := metrics.New(reg, metrics.Options{Tenants: tenants, Targets: targets})
	if err != nil {
		return nil, nil, err
	}
	if err := m.WatchOutbox(st); err != nil {
		return nil, nil, err
	}
	pools := slices.Sorted(maps.Keys(st.Stats()))
	if err := m.WatchPools(st.Stats, pools...); err != nil {
		return nil, nil, err
	}
	if err := m.WatchLookupCache(func() metrics.LookupCacheStats {
		c := st.LookupCacheStats()
		return metrics.LookupCacheStats{Hits: c.Hits, Misses: c.Misses, Entries: c.Entries, Bytes: c.Bytes, MaxBytes: c.MaxBytes}
	}); err != nil {
		return nil, nil, err
	}
	runs, err := st.ListRuns(ctx, runsScannedAtStart)
	if err != nil {
		// Only the gauges' starting value depends on it.
		log.Warn("read run history for metrics", "err", err)
	}
	for _, r := range runs {
		if r.Status == "succeeded" && r.FinishedAt != nil {
			m.LastSuccess(r.Kind, *r.FinishedAt)
		}
	}
	return reg, m, nil
}

// serveMetrics makes /metrics available: on the main router, or, when
// metrics_listen is set, on a listener of its own, whose address is printed
// like the main one. stop shuts that listener down (a no-op otherwise).
func serveMetrics(cfg *config.Config, r *mux.Router, reg *prometheus.Registry, log *slog.Logger, stdout io.Writer) (stop func(), err error) {
	h := metrics.Handler(reg, log)
	if cfg.MetricsListen == "" {
		r.Handle("/metrics", h).Methods(http.MethodGet, http.MethodHead)
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.MetricsListen)
	if err != nil {
		return nil, fmt.Errorf("metrics_listen: %w", err)
	}
	mr := http.NewServeMux()
	mr.Handle("GET /metrics", h)
	srv := newHTTPServer(mr, log)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener", "err", err)
		}
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
	fmt.Fprintf(stdout, "scimbridge metrics on http://%s/metrics\n", ln.Addr())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}
