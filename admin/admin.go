// Package admin is scimbridge's admin REST API under /api/v1: it triggers
// reconcile runs (on demand and by a signed webhook), previews what a
// tenant's mapping makes of a SCIM user, records login events for the
// lifecycle policies, and serves the run history and per-user results.
//
// Every endpoint but the webhook needs the admin bearer token; the webhook
// is authenticated by an HMAC-SHA256 signature of its body instead. Errors
// are JSON bodies {"error": code, "detail": text} that never carry a secret
// or internal error text.
package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/transform"
)

// Reconciler starts reconcile runs; the engine implements it.
type Reconciler interface {
	// Trigger starts a reconcile run, or joins the one queued: at most one
	// runs at a time and triggers during a run coalesce into exactly one
	// follow-up run. It returns the run object of the run it started or
	// joined.
	Trigger(ctx context.Context, req TriggerRequest) (store.Run, error)
}

// TriggerRequest says who asks for a reconcile run and how it should go.
type TriggerRequest struct {
	// Trigger is api, webhook, cron or manual.
	Trigger string
	// DryRun plans and records results without writing to any target.
	DryRun bool
	// Force runs even when the plan would trip the safety brake.
	Force bool
}

// Trigger names used by this package.
const (
	TriggerAPI     = "api"
	TriggerWebhook = "webhook"
)

// LoginEvent is one login reported to POST /api/v1/login-events, after it
// was recorded on the links it matched.
type LoginEvent struct {
	Target   string
	Username string
	At       time.Time
	// Links are the user links of Target whose AppliedName matched Username,
	// as stored after the login was recorded.
	Links []store.Link
}

// Reactivator is told about every recorded login so that it can reactivate
// accounts deactivated for inactivity (lifecycle reactivate_on_login); the
// engine implements it. It is optional.
type Reactivator interface {
	// Reactivate reacts to a recorded login. It must be idempotent: a
	// caller that gets an error may report the same login again.
	Reactivate(ctx context.Context, ev LoginEvent) error
}

// Store is what the admin API reads and writes.
type Store interface {
	GetRun(ctx context.Context, id int64) (store.Run, error)
	ListRuns(ctx context.Context, limit int) ([]store.Run, error)
	ListResults(ctx context.Context, runID int64, q store.ResultQuery) ([]store.Result, error)
	UserHistory(ctx context.Context, tenant, resourceID string, limit int) ([]store.Result, error)
	GetUserAny(ctx context.Context, tenant, id string) (store.User, bool, error)
	store.LoginRecorder
	store.ReplayGuard
}

// Tenant is one IdP tenant as the preview endpoint needs it.
type Tenant struct {
	Name    string
	Mapping *transform.Compiled
}

// Options configure the API.
type Options struct {
	// AdminTokenHash is the SHA-256 of the admin token; all zero disables
	// the admin API (every call but the webhook answers 403).
	AdminTokenHash [32]byte
	// WebhookSecret is the webhook's HMAC key; nil (or empty) disables the
	// webhook (403).
	WebhookSecret []byte
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives errors and triggers; nil discards.
	Logger *slog.Logger
	// Tenants are the tenants preview knows.
	Tenants []Tenant
	// LoginTargets are the target names login events may name.
	LoginTargets []string
	// Reactivator, when set, is called after each recorded login.
	Reactivator Reactivator
	// MaxBodyBytes limits request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// ReplayCacheSize bounds the webhook replay cache; 0 means
	// DefaultReplayCacheSize.
	ReplayCacheSize int
}

// Defaults for Options.
const (
	DefaultMaxBodyBytes    = 1 << 20
	DefaultReplayCacheSize = 10_000
)

// API serves the admin REST API.
type API struct {
	st        Store
	rec       Reconciler
	tokenHash [32]byte
	enabled   bool
	webhook   *verifier // nil: webhook disabled
	now       func() time.Time
	log       *slog.Logger
	tenants   map[string]*transform.Compiled
	targets   map[string]bool
	react     Reactivator
	maxBody   int64
}

// New builds the API. st and rec are required; tenant names must be unique
// and each must have a mapping.
func New(st Store, rec Reconciler, opts Options) (*API, error) {
	if st == nil {
		return nil, errors.New("admin: no store")
	}
	if rec == nil {
		return nil, errors.New("admin: no reconciler")
	}
	a := &API{
		st: st, rec: rec, tokenHash: opts.AdminTokenHash, enabled: opts.AdminTokenHash != [32]byte{},
		now: opts.Now, log: opts.Logger, tenants: map[string]*transform.Compiled{}, targets: map[string]bool{},
		react: opts.Reactivator, maxBody: opts.MaxBodyBytes,
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.maxBody <= 0 {
		a.maxBody = DefaultMaxBodyBytes
	}
	for _, t := range opts.Tenants {
		if t.Name == "" {
			return nil, errors.New("admin: a tenant has no name")
		}
		if t.Mapping == nil {
			return nil, fmt.Errorf("admin: tenant %q has no mapping", t.Name)
		}
		if _, dup := a.tenants[t.Name]; dup {
			return nil, fmt.Errorf("admin: tenant %q listed twice", t.Name)
		}
		a.tenants[t.Name] = t.Mapping
	}
	for _, name := range opts.LoginTargets {
		if name == "" {
			return nil, errors.New("admin: a login target has no name")
		}
		a.targets[name] = true
	}
	if len(opts.WebhookSecret) > 0 {
		size := opts.ReplayCacheSize
		if size <= 0 {
			size = DefaultReplayCacheSize
		}
		a.webhook = newVerifier(opts.WebhookSecret, size)
	}
	return a, nil
}

// Paths served.
const (
	prefix      = "/api/v1/"
	webhookPath = "/api/v1/webhooks/reconcile"
)

// Handler serves /api/v1/...; mount it at "/api/v1/" without stripping the
// prefix. The webhook is authenticated by its signature; everything else
// by the admin token.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	route := func(pattern string, methods map[string]http.HandlerFunc) {
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			h, ok := methods[r.Method]
			if !ok {
				allowed := make([]string, 0, len(methods))
				for m := range methods {
					allowed = append(allowed, m)
				}
				w.Header().Set("Allow", strings.Join(allowed, ", "))
				writeError(w, http.StatusMethodNotAllowed, "method_not_allowed",
					fmt.Sprintf("%s is not allowed here; use %s", r.Method, strings.Join(allowed, ", ")))
				return
			}
			h(w, r)
		})
	}
	route("/api/v1/reconcile", map[string]http.HandlerFunc{http.MethodPost: a.reconcile})
	route("/api/v1/preview", map[string]http.HandlerFunc{http.MethodPost: a.preview})
	route("/api/v1/login-events", map[string]http.HandlerFunc{http.MethodPost: a.loginEvent})
	route("/api/v1/runs", map[string]http.HandlerFunc{http.MethodGet: a.listRuns})
	route("/api/v1/runs/{id}", map[string]http.HandlerFunc{http.MethodGet: a.getRun})
	route("/api/v1/runs/{id}/results", map[string]http.HandlerFunc{http.MethodGet: a.runResults})
	route("/api/v1/users/{tenant}/{id}/history", map[string]http.HandlerFunc{http.MethodGet: a.userHistory})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such endpoint")
	})
	protected := a.authenticate(mux)
	hook := http.HandlerFunc(a.webhookHandler)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.URL.Path == webhookPath {
			hook.ServeHTTP(w, r)
			return
		}
		protected.ServeHTTP(w, r)
	})
}
