package main

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/gorilla/mux"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/cmd/internal/wiring"
	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/presets"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store/sqlite"
	"github.com/scimbridge/scimbridge/transform"
)

// envOptions says how one fresh bridge + emulator pair is set up.
type envOptions struct {
	dir string // for the SQLite file
	// rate and burst limit both the emulator (429 beyond) and the jira
	// client; rate 0 means no limit on either side.
	rate  float64
	burst int
	// clientRate and clientBurst, when set, give the jira client other
	// limits than the emulator's.
	clientRate  float64
	clientBurst int
	preset      string
	workers     int // engine workers; 0 = the engine's default
	// defaultGroups are the tenant's groups.default (every user gets them).
	defaultGroups []string
	log           *slog.Logger
}

// env is the real scimbridge (SCIM server, SQLite store, engine, jira
// client) and the Atlassian emulator, each on its own loopback listener,
// wired the way `scimbridge serve` wires them.
type env struct {
	emu     *atlassiantest.Emulator
	meter   *meter
	st      *sqlite.DB
	est     *engineStore // st as the engine uses it, counting its writes
	engine  *reconcile.Engine
	scimURL string // base URL of the tenant, .../scim/v2/bench
	token   string // the tenant's SCIM bearer token

	closers []func()
}

const (
	tenantName = "bench"
	jiraToken  = "provload-jira-pat"
)

func newEnv(ctx context.Context, o envOptions) (_ *env, err error) {
	e := &env{}
	defer func() {
		if err != nil {
			e.close()
		}
	}()

	// The emulator on its own listener and http.Server, behind the meter.
	e.emu = atlassiantest.New(atlassiantest.Options{Token: jiraToken})
	if o.rate > 0 {
		e.emu.SetFaults(atlassiantest.Faults{RateLimitPerSecond: o.rate, Burst: o.burst})
	}
	e.meter = newMeter(e.emu)
	jiraURL, err := e.listen(e.meter)
	if err != nil {
		return nil, fmt.Errorf("listen for the emulator: %w", err)
	}

	e.token = randomToken()
	target := config.Target{
		Name: "jira", Kind: config.KindJiraDC, URL: jiraURL,
		TokenEnv: "PROVLOAD_JIRA_TOKEN", Token: config.NewSecret(jiraToken),
		RateLimit: cmp.Or(o.clientRate, o.rate), Burst: max(cmp.Or(o.clientBurst, o.burst), 1),
		Timeout: config.Duration(config.DefaultTimeout),
	}
	if target.RateLimit <= 0 {
		// Guess: config requires a positive rate; "unlimited" is a rate far
		// above what loopback can serve.
		target.RateLimit = 1e9
	}
	cfg := &config.Config{
		Listen:   "127.0.0.1:0",
		Database: filepath.Join(o.dir, "scimbridge.db"),
		LogLevel: "error",
		Targets:  []config.Target{target},
		Tenants: []config.Tenant{{
			Name: tenantName, Preset: o.preset, TokenEnv: "PROVLOAD_SCIM_TOKEN",
			Tokens: []config.Secret{config.NewSecret(e.token)},
			// An explicit empty list clears any preset default, so the calls
			// needed are exactly the ones this tool counts.
			Groups: transform.Groups{Default: append([]string{}, o.defaultGroups...)},
		}},
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}

	e.st, err = sqlite.Open(ctx, cfg.Database, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	e.closers = append(e.closers, func() { e.st.Close() })

	tgs, err := wiring.Targets(cfg, o.log, nil)
	if err != nil {
		return nil, err
	}
	e.est = newEngineStore(e.st)
	e.engine, err = reconcile.New(e.est, wiring.Tenants(cfg), tgs, reconcile.Options{Logger: o.log, Workers: o.workers})
	if err != nil {
		return nil, err
	}
	p, err := presets.Get(o.preset)
	if err != nil {
		return nil, err
	}
	authn, err := auth.New([]auth.Tenant{{Name: tenantName, TokenHashes: cfg.Tenants[0].TokenHashes()}}, auth.Options{Logger: o.log})
	if err != nil {
		return nil, fmt.Errorf("authentication: %w", err)
	}

	// The SCIM listener first, so the base URL is known to scim.New.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for scim: %w", err)
	}
	base := "http://" + ln.Addr().String()
	scimSrv, err := scim.New(e.st, authn, []scim.Tenant{{
		Name: tenantName, GroupPatchNoContent: p.Quirks.PatchNoContent, AlwaysReturnName: p.Quirks.AlwaysReturnName,
	}}, scim.Options{BaseURL: base, Logger: o.log, Changed: e.engine.Notify})
	if err != nil {
		ln.Close()
		return nil, err
	}
	r := mux.NewRouter()
	r.PathPrefix(scim.Prefix).Handler(scimSrv)
	e.serve(ln, r)
	e.scimURL = base + scim.Prefix + tenantName

	engineCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = e.engine.Run(engineCtx)
	}()
	// Closers run in reverse: the engine stops before the servers and the
	// store go away.
	e.closers = append(e.closers, func() { stop(); <-done })
	return e, nil
}

// listen serves h on a fresh 127.0.0.1 port and returns its base URL.
func (e *env) listen(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	e.serve(ln, h)
	return "http://" + ln.Addr().String(), nil
}

func (e *env) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("serve", "addr", ln.Addr().String(), "err", err)
		}
	}()
	e.closers = append(e.closers, func() { _ = srv.Close(); <-done })
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// pending is how many outbox jobs are not yet applied, and how many are parked.
func (e *env) pending(ctx context.Context) (pending, parked int, err error) {
	s, err := e.st.JobStats(ctx)
	return s.Pending, s.Parked, err
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
