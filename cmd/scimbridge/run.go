package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/elimity-com/scim/schema"
	"github.com/gorilla/mux"
	"github.com/robfig/cron/v3"

	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/presets"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

const usage = `usage:
  scimbridge serve --config FILE     run the service
  scimbridge demo [--addr ADDR] [--data DIR]
                                     zero-config demo with an embedded Jira emulator
  scimbridge reconcile --config FILE [--dry-run] [--force] [--json]
                                     one full reconcile (drift repair); exit 0 when it succeeded
  scimbridge check --config FILE     validate the configuration
  scimbridge healthcheck [--url URL] exit 0 when URL (default http://127.0.0.1:8080/healthz) answers 200`

// run is the whole program behind main, so tests can drive it.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	// Entra sends booleans as "True"/"False" strings (idp-scim-clients.md
	// 3.6); elimity only accepts them with this process-wide switch.
	schema.SetAllowStringValues(true)
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "serve":
		cfg, err := loadConfig(args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stdout, stderr, nil)
	case "check":
		cfg, err := loadConfig(args[1:], getenv, stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "config ok: %d tenant(s), %d target(s)\n", len(cfg.Tenants), len(cfg.Targets))
		return nil
	case "healthcheck":
		return healthcheck(ctx, args[1:], stdout, stderr)
	case "reconcile":
		return reconcileCmd(ctx, args[1:], getenv, stdout, stderr)
	case "demo":
		return demo(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}

// GC defaults of serve (BENCHMARKS.md, issue 2, GOGC): SCIM requests
// allocate a lot per request on a small live heap (~15 MiB at 100k users),
// so collecting at 5x the live heap instead of 2x cut server CPU per
// lookup by 5-25% and per membership PATCH by ~1/3 for ~30 MiB more. A full
// reconcile's live heap is larger; a memory limit of max(gcFloor, 2x live)
// keeps it where GOGC=100 would (about 2x live) once that is above
// gcFloor, so a large directory never runs the collector against a fixed
// limit it has outgrown.
const (
	gcPercent = 400
	gcFloor   = 192 << 20
)

// gcLimit is the memory limit for a live heap of live bytes.
func gcLimit(live uint64) int64 {
	return int64(max(gcFloor, 2*live))
}

// tuneGC sets the GC defaults above and follows the live heap once a second
// until ctx ends or stop is called, which puts the runtime's settings back.
// main uses it for serve when the operator set neither GOGC nor GOMEMLIMIT.
func tuneGC(ctx context.Context) (stop func()) {
	prevPercent := debug.SetGCPercent(gcPercent)
	prevLimit := debug.SetMemoryLimit(gcLimit(0))
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() == metrics.KindUint64 {
				debug.SetMemoryLimit(gcLimit(sample[0].Value.Uint64()))
			}
		}
	}()
	return func() {
		cancel()
		<-done
		debug.SetGCPercent(prevPercent)
		debug.SetMemoryLimit(prevLimit)
	}
}

func loadConfig(args []string, getenv func(string) string, stderr io.Writer) (*config.Config, error) {
	fs := flag.NewFlagSet("scimbridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "path to the YAML configuration")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *path == "" {
		return nil, errors.New("--config FILE is required")
	}
	return config.Load(*path, getenv)
}

// tenantsWithoutTargets names the tenants that provision into no target (no
// target is configured at all): their SCIM writes need no outbox job. A
// target added later gets their users from the first full reconcile, which
// reads every user, not the outbox (TestTargetAddedLaterGetsEarlierUsers).
func tenantsWithoutTargets(cfg *config.Config) []string {
	var out []string
	for _, t := range engineTenants(cfg) {
		if len(t.Targets) == 0 {
			out = append(out, t.Name)
		}
	}
	return out
}

// serve runs the service until ctx ends. ready, if set, is called with the
// listening address once requests are accepted.
func serve(ctx context.Context, cfg *config.Config, stdout, stderr io.Writer, ready func(addr string)) error {
	logOut := &lockedWriter{w: stderr} // shared with the hand-built access lines
	defer func() { _ = logOut.Flush() }()
	log := slog.New(newContextHandler(slog.NewJSONHandler(logOut, &slog.HandlerOptions{Level: cfg.SlogLevel()})))

	quiet := tenantsWithoutTargets(cfg)
	st, err := sqlite.Open(ctx, cfg.Database, sqlite.Options{NoOutbox: quiet, LookupCacheBytes: cfg.LookupCacheBytes()})
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	defer st.Close()
	reg, mx, err := newMetrics(ctx, cfg, st, log)
	if err != nil {
		return err
	}

	var authTenants []auth.Tenant
	var scimTenants []scim.Tenant
	for _, t := range cfg.Tenants {
		at := auth.Tenant{Name: t.Name, TokenHashes: t.TokenHashes()}
		if t.JWT != nil {
			at.JWT = &auth.JWT{
				Issuer: t.JWT.Issuer, Audiences: t.JWT.Audience, JWKSFile: t.JWT.JWKSFile, JWKSURL: t.JWT.JWKSURL,
			}
			if !t.JWT.HS256Secret.IsZero() {
				at.JWT.HS256Secret = []byte(t.JWT.HS256Secret.Reveal())
			}
		}
		authTenants = append(authTenants, at)
		p, err := presets.Get(t.Preset)
		if err != nil {
			return fmt.Errorf("tenant %q: %w", t.Name, err)
		}
		q := t.Quirks.Apply(p.Quirks)
		scimTenants = append(scimTenants, scim.Tenant{
			Name: t.Name, GroupPatchNoContent: q.PatchNoContent, AlwaysReturnName: q.AlwaysReturnName,
		})
	}
	authn, err := auth.New(authTenants, auth.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("authentication: %w", err)
	}

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	base := cfg.PublicURL
	if base == "" {
		base = "http://" + ln.Addr().String()
	}
	tgs, err := instrumentedTargets(cfg, log, mx)
	if err != nil {
		ln.Close()
		return err
	}
	engine, err := reconcile.New(st, engineTenants(cfg), tgs, reconcile.Options{Logger: log, Observer: mx})
	if err != nil {
		ln.Close()
		return err
	}
	changed := engine.Notify
	if len(quiet) == len(cfg.Tenants) {
		changed = nil // no write enqueues a job: nothing to wake the engine for
	}
	scimSrv, err := scim.New(st, authn, scimTenants, scim.Options{BaseURL: base, Logger: log, Changed: changed})
	if err != nil {
		ln.Close()
		return err
	}

	aopts := adminOptions(cfg)
	aopts.Logger = log
	aopts.Reactivator = loginAdapter{engine: engine}
	api, err := admin.New(st, triggerAdapter{engine: engine, base: context.WithoutCancel(ctx), cfg: cfg}, aopts)
	if err != nil {
		ln.Close()
		return err
	}

	r := mux.NewRouter()
	scimH := mx.SCIM(scimSrv)
	r.PathPrefix(scim.Prefix).Handler(scimH)
	r.PathPrefix("/api/v1/").Handler(api.Handler())
	stopMetrics, err := serveMetrics(cfg, r, reg, log, stdout)
	if err != nil {
		ln.Close()
		return err
	}
	defer stopMetrics()
	hc := newHealth(st, tgs, time.Now, log)
	r.HandleFunc("/healthz", hc.healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", hc.readyz).Methods(http.MethodGet, http.MethodHead)

	engineCtx, stopEngine := context.WithCancel(context.WithoutCancel(ctx))
	engineDone := make(chan struct{})
	go func() {
		defer close(engineDone)
		_ = engine.Run(engineCtx)
	}()
	defer func() {
		// stopAll stops the engine in order; this covers early returns.
		// Jobs not yet applied stay in the outbox for the next start.
		stopEngine()
		<-engineDone
	}()

	// Prune old runs hourly, in small batches (the store never blocks
	// writers for long).
	retention := time.Duration(cfg.History.Retention)
	if retention == 0 {
		retention = config.DefaultRetention
	}
	pruneCtx, stopPrune := context.WithCancel(ctx)
	defer stopPrune()
	pruneDone := make(chan struct{})
	go func() {
		defer close(pruneDone)
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if n, err := st.PruneRuns(pruneCtx, time.Now().Add(-retention)); err != nil && pruneCtx.Err() == nil {
				log.Error("prune run history", "err", err)
			} else if n > 0 {
				log.Info("pruned run history", "runs", n)
			}
			select {
			case <-pruneCtx.Done():
				return
			case <-t.C:
			}
		}
	}()

	var sched *cron.Cron
	if cfg.Reconcile.Schedule != "" {
		sched = cron.New()
		if _, err := sched.AddFunc(cfg.Reconcile.Schedule, func() {
			if _, err := engine.Trigger(context.WithoutCancel(ctx), context.WithoutCancel(ctx), runOptions(cfg, "cron", false, false)); err != nil {
				log.Error("scheduled reconcile", "err", err)
			}
		}); err != nil {
			ln.Close()
			return fmt.Errorf("reconcile.schedule: %w", err)
		}
		sched.Start()
	}

	handler := requestLog(log, scimFirst(scimH, r), requestLogOptions{
		Tenants: tenantNames(cfg), Trace: cfg.Trace.Enabled, MaxBodyBytes: cfg.Trace.MaxBodyBytes,
		Access: logOut, AccessLevel: cfg.SlogLevel(),
	})
	srv := newHTTPServer(handler, log)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("scimbridge listening", "addr", ln.Addr().String(), "tenants", len(cfg.Tenants))
	fmt.Fprintf(stdout, "scimbridge listening on http://%s\n", ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
	}

	var serveErr error
	select {
	case err := <-errc:
		serveErr = fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
		log.Info("scimbridge stopping")
	}
	// The database is closed (deferred above) only after every part that
	// uses it has stopped.
	err = stopAll(log, running{
		srv: srv, stopEngine: stopEngine, engineDone: engineDone, sched: sched, reconciles: engine,
		stopPrune: stopPrune, pruneDone: pruneDone,
	}, shutdownTimeout)
	if serveErr != nil {
		return serveErr
	}
	if err != nil {
		return err
	}
	log.Info("scimbridge stopped")
	return nil
}

// scimFirst sends SCIM requests straight to scimH and the rest to the
// router, which routes the SCIM prefix to scimH as well: mux's matching and
// its two request copies (route and vars in the context) cost ~2% of a
// lookup, and SCIM needs neither (scim.Server parses its own paths and
// treats a doubled or trailing slash the same).
func scimFirst(scimH, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, scim.Prefix) {
			scimH.ServeHTTP(w, r)
			return
		}
		rest.ServeHTTP(w, r)
	})
}

// Limits of the listeners: a client must send its headers within
// readHeaderTimeout and its whole request (a SCIM body is at most 1 MiB)
// within readTimeout, so a caller trickling a body cannot hold a connection
// and its goroutine for ever; idle keep-alive connections close after
// idleTimeout.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 60 * time.Second
	idleTimeout       = 2 * time.Minute
)

// newHTTPServer is the http.Server of the SCIM/API and metrics listeners.
func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler: h, ReadHeaderTimeout: readHeaderTimeout, ReadTimeout: readTimeout, IdleTimeout: idleTimeout,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
