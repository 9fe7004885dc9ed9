package metrics

import (
	"database/sql"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// PoolStats returns connection-pool statistics by pool name, read at each
// scrape; store/sqlite's (*DB).Stats is one. A store keeps its *sql.DB
// pools to itself (its writer's one connection is held by a goroutine, so
// anyone else using that pool would block), hence statistics rather than
// pools.
type PoolStats func() map[string]sql.DBStats

// WatchPools registers the connection-pool series of every named pool:
// the go_sql_* series of client_golang's collectors.NewDBStatsCollector,
// with the same names, help, types and db_name label, read from stats at
// each scrape. A name stats does not return reads as an empty pool.
func (m *Metrics) WatchPools(stats PoolStats, names ...string) error {
	for _, name := range names {
		if err := m.reg.Register(newPoolCollector(name, stats)); err != nil {
			return fmt.Errorf("register pool %q: %w", name, err)
		}
	}
	return nil
}

// poolCollector mirrors collectors.NewDBStatsCollector for a pool known
// only by its statistics; TestPoolSeriesMatchClientGolang keeps the two
// in step.
type poolCollector struct {
	name  string
	stats PoolStats

	maxOpen, open, inUse, idle                                *prometheus.Desc
	waitCount, waitDuration, maxIdleClosed, maxIdleTimeClosed *prometheus.Desc
	maxLifetimeClosed                                         *prometheus.Desc
}

func newPoolCollector(name string, stats PoolStats) *poolCollector {
	desc := func(metric, help string) *prometheus.Desc {
		return prometheus.NewDesc("go_sql_"+metric, help, nil, prometheus.Labels{"db_name": name})
	}
	return &poolCollector{
		name: name, stats: stats,
		maxOpen:           desc("max_open_connections", "Maximum number of open connections to the database."),
		open:              desc("open_connections", "The number of established connections both in use and idle."),
		inUse:             desc("in_use_connections", "The number of connections currently in use."),
		idle:              desc("idle_connections", "The number of idle connections."),
		waitCount:         desc("wait_count_total", "The total number of connections waited for."),
		waitDuration:      desc("wait_duration_seconds_total", "The total time blocked waiting for a new connection."),
		maxIdleClosed:     desc("max_idle_closed_total", "The total number of connections closed due to SetMaxIdleConns."),
		maxIdleTimeClosed: desc("max_idle_time_closed_total", "The total number of connections closed due to SetConnMaxIdleTime."),
		maxLifetimeClosed: desc("max_lifetime_closed_total", "The total number of connections closed due to SetConnMaxLifetime."),
	}
}

// Describe implements prometheus.Collector.
func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waitCount, c.waitDuration,
		c.maxIdleClosed, c.maxLifetimeClosed, c.maxIdleTimeClosed} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()[c.name]
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.maxOpen, float64(s.MaxOpenConnections))
	gauge(c.open, float64(s.OpenConnections))
	gauge(c.inUse, float64(s.InUse))
	gauge(c.idle, float64(s.Idle))
	counter(c.waitCount, float64(s.WaitCount))
	counter(c.waitDuration, s.WaitDuration.Seconds())
	counter(c.maxIdleClosed, float64(s.MaxIdleClosed))
	counter(c.maxLifetimeClosed, float64(s.MaxLifetimeClosed))
	counter(c.maxIdleTimeClosed, float64(s.MaxIdleTimeClosed))
}
