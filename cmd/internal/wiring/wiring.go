// Package wiring turns a validated configuration into the engine's targets and tenants. It lives
// under cmd/internal because it is part of the commands' wiring: `scimbridge` and the load tools
// share it so they build the engine the same way, and nothing below the commands may import it.
package wiring

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/crowd"
	"github.com/scimbridge/scimbridge/atlassian/jira"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/metrics"
	"github.com/scimbridge/scimbridge/reconcile"
)

// Targets builds one Atlassian client per configured target. With m non-nil, each target's calls
// and HTTP attempts are counted by m.
func Targets(cfg *config.Config, log *slog.Logger, m *metrics.Metrics) ([]reconcile.Target, error) {
	var out []reconcile.Target
	for _, t := range cfg.Targets {
		topts := atlassian.TransportOptions{
			BaseURL: t.URL, RatePerSecond: t.RateLimit, Burst: t.Burst, Timeout: time.Duration(t.Timeout),
			Logger: log.With("target", t.Name), UserAgent: "scimbridge",
		}
		if m != nil {
			topts.HTTPClient = &http.Client{Transport: m.RoundTripper(t.Name, nil)}
		}
		if !t.Token.IsZero() {
			topts.Auth = atlassian.BearerToken(t.Token.Reveal())
		} else {
			topts.Auth = atlassian.BasicAuth(t.User, t.Password.Reveal())
		}
		var dir reconcile.Directory
		keys := t.ApplicationKeys
		switch t.Kind {
		case config.KindCrowd:
			c, err := crowd.New(crowd.Options{TransportOptions: topts})
			if err != nil {
				return nil, fmt.Errorf("target %q: %w", t.Name, err)
			}
			dir = c
		default:
			c, err := jira.New(jira.Options{TransportOptions: topts})
			if err != nil {
				return nil, fmt.Errorf("target %q: %w", t.Name, err)
			}
			dir = c
			if keys == nil {
				keys = []string{"jira-software"}
			}
		}
		if m != nil {
			dir = m.Directory(t.Name, dir)
		}
		out = append(out, reconcile.Target{Name: t.Name, Dir: dir, ApplicationKeys: keys})
	}
	return out, nil
}

// Tenants turns the configured tenants into the engine's. A tenant that names no targets
// provisions into all of them.
func Tenants(cfg *config.Config) []reconcile.Tenant {
	var all []string
	for _, t := range cfg.Targets {
		all = append(all, t.Name)
	}
	var out []reconcile.Tenant
	for _, t := range cfg.Tenants {
		tgs := t.Targets
		if len(tgs) == 0 {
			tgs = all
		}
		out = append(out, reconcile.Tenant{
			Name: t.Name, Priority: t.Priority, Targets: tgs, Mapping: t.Compiled,
			Lifecycle: reconcile.Lifecycle{
				OnDeactivate: t.Lifecycle.OnDeactivate, OnDelete: t.Lifecycle.OnDelete,
				RemoveGroupsOnDeactivate: t.Lifecycle.RemoveGroupsOnDeactivate,
				DeleteAfter:              time.Duration(t.Lifecycle.DeleteAfter),
				InactiveAfter:            time.Duration(t.Lifecycle.InactiveAfter),
				NeverLoggedIn:            t.Lifecycle.NeverLoggedIn,
				ExemptGroups:             t.Lifecycle.ExemptGroups,
				ReactivateOnLogin:        t.Lifecycle.ReactivateOnLogin,
			},
		})
	}
	return out
}
