package main

import (
	"log/slog"

	"github.com/scimbridge/scimbridge/cmd/internal/wiring"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/metrics"
	"github.com/scimbridge/scimbridge/reconcile"
)

// targets builds one Atlassian client per configured target.
func targets(cfg *config.Config, log *slog.Logger) ([]reconcile.Target, error) {
	return wiring.Targets(cfg, log, nil)
}

// instrumentedTargets is targets whose calls and HTTP attempts m counts
// (nil: none).
func instrumentedTargets(cfg *config.Config, log *slog.Logger, m *metrics.Metrics) ([]reconcile.Target, error) {
	return wiring.Targets(cfg, log, m)
}

// engineTenants turns the configured tenants into the engine's.
func engineTenants(cfg *config.Config) []reconcile.Tenant {
	return wiring.Tenants(cfg)
}
