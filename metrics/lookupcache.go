package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// LookupCacheStats is what the lookup cache series report, read at each
// scrape; store/sqlite's (*DB).LookupCacheStats gives it.
type LookupCacheStats struct {
	Hits, Misses uint64
	Entries      int
	Bytes        int
	MaxBytes     int
}

// WatchLookupCache registers scimbridge_lookup_cache_{hits,misses}_total,
// scimbridge_lookup_cache_entries and scimbridge_lookup_cache_bytes (with
// its bound, scimbridge_lookup_cache_max_bytes), read from stats at each
// scrape: what an admin needs to size lookup_cache_mib.
func (m *Metrics) WatchLookupCache(stats func() LookupCacheStats) error {
	c := &lookupCacheCollector{
		stats:    stats,
		hits:     prometheus.NewDesc("scimbridge_lookup_cache_hits_total", "userName lookups answered from the lookup cache.", nil, nil),
		misses:   prometheus.NewDesc("scimbridge_lookup_cache_misses_total", "userName lookups the lookup cache did not hold (read from SQLite).", nil, nil),
		entries:  prometheus.NewDesc("scimbridge_lookup_cache_entries", "Users kept by the lookup cache.", nil, nil),
		bytes:    prometheus.NewDesc("scimbridge_lookup_cache_bytes", "Estimated heap the lookup cache holds.", nil, nil),
		maxBytes: prometheus.NewDesc("scimbridge_lookup_cache_max_bytes", "The lookup cache's bound (lookup_cache_mib); 0 when it is off.", nil, nil),
	}
	if err := m.reg.Register(c); err != nil {
		return fmt.Errorf("register lookup cache metrics: %w", err)
	}
	return nil
}

type lookupCacheCollector struct {
	stats                                  func() LookupCacheStats
	hits, misses, entries, bytes, maxBytes *prometheus.Desc
}

// Describe implements prometheus.Collector.
func (c *lookupCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.hits, c.misses, c.entries, c.bytes, c.maxBytes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *lookupCacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(s.Hits))
	ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(s.Misses))
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.Entries))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.Bytes))
	ch <- prometheus.MustNewConstMetric(c.maxBytes, prometheus.GaugeValue, float64(s.MaxBytes))
}
