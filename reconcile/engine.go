// Package reconcile is scimbridge's engine: it drains the outbox the SCIM
// layer fills, computes each user's desired Atlassian account through the
// tenant's transform, compares it with what was last applied (the links)
// and issues the minimal calls. It is level-triggered: a job only says
// "resource X of tenant T changed"; what to do is always computed from the
// store, so duplicate, reordered or retried jobs are harmless.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/transform"
)

// Store is what the engine needs from the store.
type Store interface {
	GetUser(ctx context.Context, tenant, id string) (store.User, error)
	GetGroup(ctx context.Context, tenant, id string, withMembers bool) (store.Group, error)
	ListUsers(ctx context.Context, tenant string, q store.Query) ([]store.User, int, error)
	ListGroups(ctx context.Context, tenant string, q store.Query) ([]store.Group, int, error)
	store.EngineStore
}

// Lifecycle says what happens in Atlassian when the IdP deactivates or
// deletes a user: "disable", "delete" or "keep".
type Lifecycle struct {
	OnDeactivate             string
	OnDelete                 string
	RemoveGroupsOnDeactivate bool
	// DeleteAfter deletes accounts the bridge deactivated that long ago (0: off).
	DeleteAfter time.Duration
	// InactiveAfter deactivates accounts with no login for that long (0:
	// off): licence reclaim. Applied by every full reconcile.
	InactiveAfter time.Duration
	// NeverLoggedIn is "deactivate" or "keep" (default): accounts that never
	// logged in, counted from when the IdP created the user.
	NeverLoggedIn string
	// ExemptGroups (IdP or Atlassian group names) are never deactivated for inactivity.
	ExemptGroups []string
	// ReactivateOnLogin reactivates, on a login event, an account deactivated
	// for inactivity while the IdP still has the user active.
	ReactivateOnLogin bool
}

// adminGroups are never touched by inactivity rules: locking out the
// administrators is the one mistake a licence reclaim must not make.
var adminGroups = []string{"jira-administrators", "jira-system-administrators", "confluence-administrators", "crowd-administrators", "system-administrators"}

// Lifecycle actions.
const (
	ActionDisable = "disable"
	ActionDelete  = "delete"
	ActionKeep    = "keep"
)

// Tenant is one IdP tenant as the engine sees it.
type Tenant struct {
	Name      string
	Priority  int
	Targets   []string // names of the targets it provisions into
	Mapping   *transform.Compiled
	Lifecycle Lifecycle
}

// Target is one Atlassian directory.
type Target struct {
	Name string
	Dir  Directory
	// ApplicationKeys are granted to created users (e.g. "jira-software").
	ApplicationKeys []string
}

// Options tune the engine.
type Options struct {
	Now    func() time.Time
	Logger *slog.Logger
	// Workers is how many jobs are applied at once (each target's own rate
	// limit still applies); 0 means 16.
	Workers int
	// Poll is how often the outbox is checked when nobody calls Notify; 0
	// means one second.
	Poll time.Duration
	// BatchSize is how many due jobs are read at once; 0 means 256.
	BatchSize int
	// Observer, if set, is told about every result and every finished run
	// (metrics); nil means nobody listens.
	Observer Observer
}

// Observer watches the engine's work without taking part in it: cmd plugs
// the metrics in here. Its methods are called from the engine's workers,
// concurrently, while a run is in progress; they must return quickly and
// must not call back into the engine.
type Observer interface {
	// Recorded is called once per result as the run records it; kind is the
	// run's kind (push, reconcile, dry-run).
	Recorded(kind string, res store.Result)
	// RunFinished is called once per run when it is closed, with its final
	// status, counts (a copy) and start and finish times.
	RunFinished(run store.Run)
}

// Engine applies the desired state to the targets.
type Engine struct {
	st      Store
	tenants map[string]*Tenant
	targets map[string]*Target
	now     func() time.Time
	log     *slog.Logger
	workers int
	poll    time.Duration
	batch   int
	wake    chan struct{}
	obs     Observer // nil: none

	trig triggers

	// names serialises work on one account name per target, so two tenants
	// (or a user and a lookalike) never race on the same Atlassian account.
	names keyedMutex
}

// New builds an engine. Every tenant's targets must exist.
func New(st Store, tenants []Tenant, targets []Target, opts Options) (*Engine, error) {
	e := &Engine{
		st: st, tenants: map[string]*Tenant{}, targets: map[string]*Target{},
		now: opts.Now, log: opts.Logger, workers: opts.Workers, poll: opts.Poll, batch: opts.BatchSize,
		wake: make(chan struct{}, 1), obs: opts.Observer,
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if e.workers <= 0 {
		e.workers = 16
	}
	if e.poll <= 0 {
		e.poll = time.Second
	}
	if e.batch <= 0 {
		e.batch = 256
	}
	for i := range targets {
		t := targets[i]
		if t.Dir == nil {
			return nil, fmt.Errorf("reconcile: target %q has no directory", t.Name)
		}
		e.targets[t.Name] = &t
	}
	for i := range tenants {
		t := tenants[i]
		if t.Mapping == nil {
			return nil, fmt.Errorf("reconcile: tenant %q has no mapping", t.Name)
		}
		for _, name := range t.Targets {
			if e.targets[name] == nil {
				return nil, fmt.Errorf("reconcile: tenant %q names unknown target %q", t.Name, name)
			}
		}
		e.tenants[t.Name] = &t
	}
	return e, nil
}

// Notify wakes the worker now instead of at its next poll; the SCIM layer
// calls it after each accepted change.
func (e *Engine) Notify() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// Run drains the outbox until ctx ends. Each pass that finds work is
// recorded as a "push" run. When ctx ends, the jobs being applied finish
// (their calls are bounded by the targets' timeouts) and Run returns.
func (e *Engine) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.wake:
		case <-timer.C:
		}
		if _, err := e.Drain(context.WithoutCancel(ctx), ctx, "scim"); err != nil {
			e.log.Error("outbox pass failed", "err", err)
		}
		timer.Reset(e.poll)
	}
}

// Drain applies due jobs until none is due (or stop ends), recording one push
// run if there was anything to do. work carries the calls (so that a
// shutdown lets jobs in flight finish); stop ends the pass between batches.
// It returns the run (zero ID when nothing was due).
func (e *Engine) Drain(work, stop context.Context, trigger string) (store.Run, error) {
	var rec *recorder
	var err error
	for stop.Err() == nil {
		var jobs []store.Job
		jobs, err = e.st.DueJobs(work, e.now(), e.batch)
		if err != nil {
			err = fmt.Errorf("read due jobs: %w", err)
			break
		}
		if len(jobs) == 0 {
			break
		}
		if rec == nil {
			if rec, err = e.startRun(work, "push", trigger); err != nil {
				return store.Run{}, err
			}
		}
		e.applyJobs(work, stop, rec, jobs)
	}
	if rec == nil {
		return store.Run{}, err
	}
	return rec.finish(work, err), err
}

// applyJobs runs jobs on the worker pool and settles each in the outbox.
// Once stop ends no new job is started; the ones started finish, and the
// rest stay due for the next start.
func (e *Engine) applyJobs(ctx, stop context.Context, rec *recorder, jobs []store.Job) {
	sem := make(chan struct{}, e.workers)
	var wg sync.WaitGroup
	for _, j := range jobs {
		select {
		case sem <- struct{}{}:
		case <-stop.Done():
		}
		if stop.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			err := e.applyJob(ctx, rec, j)
			e.settle(ctx, j, err)
		})
	}
	wg.Wait()
}

// settle completes, retries or parks a job after an attempt.
func (e *Engine) settle(ctx context.Context, j store.Job, err error) {
	var serr error
	switch {
	case err == nil:
		serr = e.st.CompleteJob(ctx, j)
	case transient(err):
		next := e.now().Add(backoff(j.Attempts+1, err))
		serr = e.st.RetryJob(ctx, j, next, err.Error())
	default:
		serr = e.st.ParkJob(ctx, j, err.Error())
	}
	if serr != nil {
		// The job stays as it was: it will be tried again, which is safe.
		e.log.Error("settle job", "tenant", j.Tenant, "resource", j.ResourceID, "err", serr)
	}
}

// applyJob brings one resource to its desired state on every target of its
// tenant. The first error is returned after every target was tried.
func (e *Engine) applyJob(ctx context.Context, rec *recorder, j store.Job) error {
	t := e.tenants[j.Tenant]
	if t == nil {
		return nil // a tenant removed from the config: nothing to apply to
	}
	switch j.Kind {
	case store.KindUser:
		return e.syncUserAll(ctx, rec, t, j.ResourceID)
	case store.KindGroup:
		return e.syncGroupAll(ctx, rec, t, j.ResourceID)
	}
	return fmt.Errorf("unknown job kind %q", j.Kind)
}

// errPermanent marks a failure that retrying will not fix.
var errPermanent = errors.New("permanent")
