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
	store.JobSettler
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
	// Debounce is how long Run waits after a Notify before it reads the
	// outbox, so that the rest of a burst of SCIM writes is applied in the
	// same pass (one run, a few batched commits) rather than one pass per
	// write; 0 means DefaultDebounce, negative means no wait.
	Debounce time.Duration
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

// DefaultDebounce is Options.Debounce's default: long enough for a burst of
// SCIM writes to share a pass, short against the 250 ms an IdP change may
// take to show in Atlassian (issue 4).
const DefaultDebounce = 5 * time.Millisecond

// maxSettleBatch bounds how many job outcomes go into one store write.
const maxSettleBatch = 256

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
	delay   time.Duration // debounce of Notify; 0: none
	wake    chan struct{}
	obs     Observer // nil: none

	trig triggers

	// names serialises work on one account name per target, so two tenants
	// (or a user and a lookalike) never race on the same Atlassian account.
	names keyedMutex

	// groups remembers, per target, the Atlassian groups known to exist
	// (keys as nameKey(target, "group:"+name)), so that adding a member
	// to one needs no lock and no creation attempt.
	groupsMu sync.Mutex
	groups   map[string]bool
}

// New builds an engine. Every tenant's targets must exist.
func New(st Store, tenants []Tenant, targets []Target, opts Options) (*Engine, error) {
	e := &Engine{
		st: st, tenants: map[string]*Tenant{}, targets: map[string]*Target{},
		now: opts.Now, log: opts.Logger, workers: opts.Workers, poll: opts.Poll, batch: opts.BatchSize,
		wake: make(chan struct{}, 1), obs: opts.Observer, groups: map[string]bool{},
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
	switch {
	case opts.Debounce == 0:
		e.delay = DefaultDebounce
	case opts.Debounce > 0:
		e.delay = opts.Debounce
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

// Run drains the outbox until ctx ends. Each pass that records anything is
// recorded as a "push" run. A Notify starts a pass after the debounce
// delay, so that the writes of a burst share it. When ctx ends, the jobs
// being applied finish (their calls are bounded by the targets' timeouts)
// and Run returns.
func (e *Engine) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-e.wake:
			if e.delay > 0 {
				pause := time.NewTimer(e.delay)
				select {
				case <-ctx.Done():
					pause.Stop()
					return nil
				case <-pause.C:
				}
			}
			// Notifies of the writes the delay gathered are served by this pass.
			select {
			case <-e.wake:
			default:
			}
		case <-timer.C:
		}
		if _, err := e.Drain(context.WithoutCancel(ctx), ctx, "scim"); err != nil {
			e.log.Error("outbox pass failed", "err", err)
		}
		timer.Reset(e.poll)
	}
}

// Drain applies due jobs until none is due (or stop ends), recording one push
// run if anything was recorded. work carries the calls (so that a shutdown
// lets jobs in flight finish); stop ends the pass: no new job is started,
// the ones started finish, and the rest stay due for the next start. It
// returns the run (zero ID when nothing was due or recorded).
func (e *Engine) Drain(work, stop context.Context, trigger string) (store.Run, error) {
	// The run's row is written when it has something to hold (see
	// recorder.lazy): a pass whose jobs changed nothing costs no run writes.
	rec := e.lazyRun("push", trigger)
	p := e.newPass(work, rec)
	found, err := p.run(stop)
	if !found {
		return store.Run{}, err
	}
	return rec.finish(work, err), err
}

// pass is one Drain: workers apply jobs while the settler writes the
// outcomes (each job's last link with its completion, retry or park) in
// batches, one transaction for whatever finished while the previous one
// committed. A worker is free for the next job as soon as its calls are
// made, and due jobs are read again whenever the last read is used up,
// skipping the jobs still in flight: no worker waits for a batch's
// slowest job or last commit.
type pass struct {
	e   *Engine
	ctx context.Context
	rec *recorder

	sem      chan struct{}
	outcomes chan outcome
	wrote    chan struct{} // poked after every settlement write
	workers  sync.WaitGroup

	mu       sync.Mutex
	inflight map[int64]bool // job IDs applied or waiting to be settled
	// settled holds the version of every job this pass settled: a read of
	// due jobs that began before that settlement committed still returns
	// it, and must not apply it again.
	settled map[int64]jobVersion
	failed  bool // a settlement could not be written
}

// jobVersion tells a job as read before its settlement from the same job
// re-enqueued (new Seq) or retried (one more attempt) since.
type jobVersion struct {
	seq      int64
	attempts int
}

func (e *Engine) newPass(ctx context.Context, rec *recorder) *pass {
	return &pass{e: e, ctx: ctx, rec: rec, sem: make(chan struct{}, e.workers),
		outcomes: make(chan outcome, maxSettleBatch), wrote: make(chan struct{}, 1), inflight: map[int64]bool{},
		settled: map[int64]jobVersion{}}
}

// run applies due jobs until none is left, stop ends or a settlement
// fails. It reports whether any job was due.
func (p *pass) run(stop context.Context) (found bool, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.settleLoop()
	}()
	defer func() {
		p.workers.Wait()
		close(p.outcomes)
		<-done
	}()
	for stop.Err() == nil {
		p.mu.Lock()
		busy := len(p.inflight)
		p.mu.Unlock()
		jobs, err := p.e.st.DueJobs(p.ctx, p.e.now(), p.e.batch+busy)
		if err != nil {
			return found, fmt.Errorf("read due jobs: %w", err)
		}
		jobs, busy, failed := p.claim(jobs)
		if failed {
			// The store refused settlements: their jobs are due again at
			// once, so going on would apply them in a loop. The next pass
			// (a Notify or the poll) tries again.
			return found, nil
		}
		if len(jobs) == 0 {
			if busy == 0 {
				return found, nil
			}
			// Everything due is in flight: wait for a settlement, which
			// may leave a job due again (changed while it was applied).
			select {
			case <-p.wrote:
			case <-stop.Done():
			}
			continue
		}
		found = true
		for i, j := range jobs {
			select {
			case p.sem <- struct{}{}:
			case <-stop.Done():
			}
			if stop.Err() != nil {
				p.release(jobs[i:], false)
				return found, nil
			}
			p.workers.Go(func() { p.work(j) })
		}
	}
	return found, nil
}

// work applies one job on a worker and hands its outcome to the settler.
func (p *pass) work(j store.Job) {
	w := &jobWrites{}
	err := p.e.applyJob(p.ctx, p.rec, j, w)
	<-p.sem
	p.outcomes <- outcome{job: j, err: err, writes: w}
}

// claim drops from jobs the ones in flight and the ones settled already
// (read before their settlement committed), and marks the rest in flight,
// unless a settlement failed. It also returns how many were in flight.
func (p *pass) claim(jobs []store.Job) (claimed []store.Job, busy int, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.failed {
		return nil, len(p.inflight), true
	}
	busy = len(p.inflight)
	out := jobs[:0]
	for _, j := range jobs {
		if p.inflight[j.ID] || p.settled[j.ID] == (jobVersion{j.Seq, j.Attempts}) {
			continue
		}
		p.inflight[j.ID] = true
		out = append(out, j)
	}
	return out, busy, false
}

// release marks jobs as no longer in flight; settled says they were
// settled (else they were never started).
func (p *pass) release(jobs []store.Job, settled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, j := range jobs {
		delete(p.inflight, j.ID)
		if settled {
			p.settled[j.ID] = jobVersion{j.Seq, j.Attempts}
		}
	}
}

// settleLoop writes outcomes until the channel is closed: each write takes
// whatever arrived meanwhile, up to maxSettleBatch.
func (p *pass) settleLoop() {
	batch := make([]outcome, 0, maxSettleBatch)
	jobs := make([]store.Job, 0, maxSettleBatch)
	for o := range p.outcomes {
		batch = append(batch[:0], o)
	gather:
		for len(batch) < maxSettleBatch {
			select {
			case o, ok := <-p.outcomes:
				if !ok {
					break gather
				}
				batch = append(batch, o)
			default:
				break gather
			}
		}
		ok := p.e.settle(p.ctx, batch)
		if !ok {
			p.mu.Lock()
			p.failed = true
			p.mu.Unlock()
		}
		jobs = jobs[:0]
		for _, o := range batch {
			jobs = append(jobs, o.job)
		}
		p.release(jobs, true)
		select {
		case p.wrote <- struct{}{}:
		default:
		}
	}
}

// outcome is one job's attempt, waiting to be settled.
type outcome struct {
	job    store.Job
	err    error
	writes *jobWrites
}

// jobWrites is what applying a job leaves for its settlement: links to save
// in the same transaction as the job's outcome, and name locks to release
// once they are saved. Until then another worker taking the same name would
// read the links as they were before this job, and could take the account
// this job just created or adopted.
type jobWrites struct {
	links   []store.Link
	unlocks []func()
}

// hold adds a link to the settlement and keeps unlock (may be nil) until
// it is written.
func (w *jobWrites) hold(l store.Link, unlock func()) {
	w.links = append(w.links, l)
	if unlock != nil {
		w.unlocks = append(w.unlocks, unlock)
	}
}

func (w *jobWrites) release() {
	for i := len(w.unlocks) - 1; i >= 0; i-- {
		w.unlocks[i]()
	}
	w.unlocks = nil
}

// settle completes, retries or parks each job after its attempt, saving
// its links in the same transaction, then releases its name locks. It
// reports whether every outcome was written.
func (e *Engine) settle(ctx context.Context, batch []outcome) bool {
	outs := make([]store.JobOutcome, len(batch))
	for i, o := range batch {
		outs[i] = e.jobOutcome(o)
	}
	ok := true
	err := e.st.SettleJobs(ctx, outs)
	if err != nil && len(outs) > 1 {
		// One bad outcome must not hold back the others: one at a time.
		for i := range outs {
			if err := e.st.SettleJobs(ctx, outs[i:i+1]); err != nil {
				e.logSettleError(outs[i].Job, err)
				ok = false
			}
		}
	} else if err != nil {
		e.logSettleError(outs[0].Job, err)
		ok = false
	}
	for _, o := range batch {
		o.writes.release()
	}
	return ok
}

func (e *Engine) logSettleError(j store.Job, err error) {
	// The job stays as it was: it will be tried again, which is safe.
	e.log.Error("settle job", "tenant", j.Tenant, "resource", j.ResourceID, "err", err)
}

func (e *Engine) jobOutcome(o outcome) store.JobOutcome {
	out := store.JobOutcome{Job: o.job, Links: o.writes.links}
	switch {
	case o.err == nil:
	case transient(o.err):
		out.Error, out.NotBefore = o.err.Error(), e.now().Add(backoff(o.job.Attempts+1, o.err))
	default:
		out.Error, out.Park = o.err.Error(), true
	}
	return out
}

// applyJob brings one resource to its desired state on every target of its
// tenant. The first error is returned after every target was tried. Links
// left in w are saved with the job's settlement.
func (e *Engine) applyJob(ctx context.Context, rec *recorder, j store.Job, w *jobWrites) error {
	t := e.tenants[j.Tenant]
	if t == nil {
		return nil // a tenant removed from the config: nothing to apply to
	}
	switch j.Kind {
	case store.KindUser:
		if len(t.Targets) > 1 {
			// Holding one target's name lock while taking the next one's
			// could deadlock with a tenant listing the targets in another
			// order: each link is saved under its own lock instead.
			w = nil
		}
		return e.syncUserAll(ctx, rec, t, j.ResourceID, w)
	case store.KindGroup:
		return e.syncGroupAll(ctx, rec, t, j.ResourceID)
	}
	return fmt.Errorf("unknown job kind %q", j.Kind)
}

// errPermanent marks a failure that retrying will not fix.
var errPermanent = errors.New("permanent")
