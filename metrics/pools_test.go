package metrics_test

import (
	"database/sql"
	"path/filepath"
	"slices"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"

	"github.com/scimbridge/scimbridge/metrics"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// sqlFamilies gathers g and returns its go_sql_* families by name.
func sqlFamilies(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		if len(mf.GetName()) > 7 && mf.GetName()[:7] == "go_sql_" {
			out[mf.GetName()] = mf
		}
	}
	return out
}

// WatchPools exports what client_golang's own DBStats collector exports:
// same names, help, types and labels, so dashboards written for one work
// with the other.
func TestPoolSeriesMatchClientGolang(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m, reg := newMetrics(t, metrics.Options{})
	if err := m.WatchPools(db.Stats, sqlite.PoolWriter); err != nil {
		t.Fatal(err)
	}
	pool, err := sql.Open("sqlite3", filepath.Join(t.TempDir(), "ref.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pool.Close() })
	ref := prometheus.NewRegistry()
	ref.MustRegister(collectors.NewDBStatsCollector(pool, sqlite.PoolWriter))

	ours, theirs := sqlFamilies(t, reg), sqlFamilies(t, ref)
	if len(theirs) < 9 {
		t.Fatalf("the reference collector exported %d families", len(theirs))
	}
	for name, want := range theirs {
		got, ok := ours[name]
		if !ok {
			t.Errorf("%s is missing", name)
			continue
		}
		if got.GetHelp() != want.GetHelp() || got.GetType() != want.GetType() {
			t.Errorf("%s: help %q type %v, want %q %v", name, got.GetHelp(), got.GetType(), want.GetHelp(), want.GetType())
		}
		if gl, wl := labelPairs(got), labelPairs(want); !slices.Equal(gl, wl) {
			t.Errorf("%s: labels %v, want %v", name, gl, wl)
		}
	}
	for name := range ours {
		if _, ok := theirs[name]; !ok {
			t.Errorf("%s is not exported by the reference collector", name)
		}
	}
}

func labelPairs(mf *dto.MetricFamily) []string {
	var out []string
	for _, m := range mf.GetMetric() {
		for _, l := range m.GetLabel() {
			out = append(out, l.GetName()+"="+l.GetValue())
		}
	}
	return out
}

// The values are the store's pools as they are at scrape time.
func TestWatchPoolsReadsTheStore(t *testing.T) {
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "s.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	m, reg := newMetrics(t, metrics.Options{})
	if err := m.WatchPools(db.Stats, sqlite.PoolWriter, sqlite.PoolReader, sqlite.PoolCheckpoint); err != nil {
		t.Fatal(err)
	}
	if got := mustSample(t, reg, "go_sql_max_open_connections", labels{"db_name": "writer"}); got != 1 {
		t.Errorf("writer max open = %v, want 1", got)
	}
	if got := mustSample(t, reg, "go_sql_in_use_connections", labels{"db_name": "writer"}); got != 1 {
		t.Errorf("writer in use = %v, want 1 (held by the writer goroutine)", got)
	}
	if got := mustSample(t, reg, "go_sql_max_open_connections", labels{"db_name": "reader"}); got != 4 {
		t.Errorf("reader max open = %v, want 4", got)
	}
	for _, pool := range []string{"reader", "checkpoint"} {
		if _, ok := sample(t, reg, "go_sql_wait_duration_seconds_total", labels{"db_name": pool}); !ok {
			t.Errorf("no go_sql_wait_duration_seconds_total for %s", pool)
		}
	}
	if err := m.WatchPools(db.Stats, sqlite.PoolReader); err == nil {
		t.Error("the same pool registered twice")
	}
}
