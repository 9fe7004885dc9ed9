package main

import (
	"context"
	"crypto/sha256"

	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
)

// triggerAdapter lets the admin API start engine runs; admin and reconcile
// do not import each other.
type triggerAdapter struct {
	engine *reconcile.Engine
	base   context.Context // the service's lifetime: runs outlive the request that started them
	cfg    *config.Config
}

func (t triggerAdapter) Trigger(ctx context.Context, req admin.TriggerRequest) (store.Run, error) {
	return t.engine.Trigger(ctx, t.base, runOptions(t.cfg, req.Trigger, req.DryRun, req.Force))
}

func runOptions(cfg *config.Config, trigger string, dryRun, force bool) reconcile.RunOptions {
	return reconcile.RunOptions{
		Trigger: trigger, DryRun: dryRun, Force: force,
		MaxDeprovisionPercent: cfg.Reconcile.MaxDeprovisionPercent, Orphans: cfg.Reconcile.Orphans,
	}
}

func adminOptions(cfg *config.Config) admin.Options {
	var o admin.Options
	if !cfg.Admin.Token.IsZero() {
		o.AdminTokenHash = sha256.Sum256([]byte(cfg.Admin.Token.Reveal()))
	}
	if !cfg.Webhook.Secret.IsZero() {
		o.WebhookSecret = []byte(cfg.Webhook.Secret.Reveal())
	}
	for _, t := range cfg.Tenants {
		o.Tenants = append(o.Tenants, admin.Tenant{Name: t.Name, Mapping: t.Compiled})
	}
	for _, t := range cfg.Targets {
		o.LoginTargets = append(o.LoginTargets, t.Name)
	}
	return o
}

// loginAdapter lets login events reactivate accounts deactivated for inactivity.
type loginAdapter struct{ engine *reconcile.Engine }

func (l loginAdapter) Reactivate(ctx context.Context, ev admin.LoginEvent) error {
	return l.engine.LoginSeen(ctx, ev.Links)
}
