package metrics

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/store"
)

// OutboxSource is what the outbox gauges read at each scrape; the SQLite
// store satisfies it.
type OutboxSource interface {
	JobStats(ctx context.Context) (store.JobStats, error)
}

// WatchOutbox registers the outbox gauges (scimbridge_outbox_jobs,
// scimbridge_outbox_oldest_job_age_seconds, scimbridge_jobs_parked), read
// from src at each scrape with Options.OutboxTimeout. A failed read is
// reported to the scrape handler, which logs it and serves the rest.
func (m *Metrics) WatchOutbox(src OutboxSource) error {
	c := &outboxCollector{
		m: m, src: src,
		jobs: prometheus.NewDesc("scimbridge_outbox_jobs",
			"Jobs in the outbox, by state: pending (due or waiting for a retry) or parked (a permanent failure).", []string{"state"}, nil),
		age: prometheus.NewDesc("scimbridge_outbox_oldest_job_age_seconds",
			"Age of the oldest pending job (0: none pending).", nil, nil),
		parked: prometheus.NewDesc("scimbridge_jobs_parked",
			"Jobs parked after a permanent failure, waiting for a reconcile, a retry on demand or a new change.", nil, nil),
	}
	if err := m.reg.Register(c); err != nil {
		return fmt.Errorf("register outbox metrics: %w", err)
	}
	return nil
}

type outboxCollector struct {
	m                 *Metrics
	src               OutboxSource
	jobs, age, parked *prometheus.Desc
}

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.jobs
	ch <- c.age
	ch <- c.parked
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.m.outboxTimeout)
	defer cancel()
	st, err := c.src.JobStats(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.jobs, fmt.Errorf("read outbox stats: %w", err))
		return
	}
	age := 0.0
	if !st.OldestPending.IsZero() {
		age = max(c.m.now().Sub(st.OldestPending).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(st.Pending), "pending")
	ch <- prometheus.MustNewConstMetric(c.jobs, prometheus.GaugeValue, float64(st.Parked), "parked")
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(c.parked, prometheus.GaugeValue, float64(st.Parked))
}
