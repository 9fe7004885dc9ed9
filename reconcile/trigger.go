package reconcile

import (
	"context"
	"fmt"
	"sync"

	"github.com/scimbridge/scimbridge/store"
)

// triggers runs reconciles one at a time; triggers that arrive during a run
// coalesce into exactly one follow-up run per set of options.
type triggers struct {
	mu      sync.Mutex
	running bool
	queued  map[RunOptions]*recorder // waiting follow-up runs
	order   []RunOptions
	idle    chan struct{} // closed when nothing runs or waits
}

// Trigger starts a full reconcile in the background, or joins the follow-up
// run already queued with the same options, and returns that run's object
// (status "running" or "queued"). base bounds the run's work (use the
// service's lifetime context, not a request's).
func (e *Engine) Trigger(ctx, base context.Context, opts RunOptions) (store.Run, error) {
	key := opts
	key.Trigger = "" // triggers of any origin coalesce
	tr := &e.trig
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.queued == nil {
		tr.queued = map[RunOptions]*recorder{}
	}
	if rec := tr.queued[key]; rec != nil {
		return rec.run, nil
	}
	status := "running"
	if tr.running {
		status = "queued"
	}
	run, err := e.st.CreateRun(ctx, store.Run{
		Kind: runKind(opts), Trigger: orDefault(opts.Trigger, "manual"), Status: status,
		StartedAt: e.now().UTC(), Counts: map[string]int{},
	})
	if err != nil {
		return store.Run{}, fmt.Errorf("create run: %w", err)
	}
	rec := &recorder{e: e, run: run}
	if tr.running {
		tr.queued[key] = rec
		tr.order = append(tr.order, key)
		return run, nil
	}
	tr.running = true
	tr.idle = make(chan struct{})
	go e.runTriggered(base, rec, opts)
	return run, nil
}

func (e *Engine) runTriggered(base context.Context, rec *recorder, opts RunOptions) {
	for {
		if _, err := e.reconcile(base, rec, opts); err != nil {
			e.log.Error("reconcile run failed", "run", rec.run.ID, "err", err)
		}
		tr := &e.trig
		tr.mu.Lock()
		if len(tr.order) == 0 {
			tr.running = false
			close(tr.idle)
			tr.mu.Unlock()
			return
		}
		key := tr.order[0]
		tr.order = tr.order[1:]
		rec = tr.queued[key]
		delete(tr.queued, key)
		opts = key
		opts.Trigger = rec.run.Trigger
		tr.mu.Unlock()
	}
}

// WaitIdle blocks until no triggered reconcile runs or waits, or ctx ends.
func (e *Engine) WaitIdle(ctx context.Context) error {
	e.trig.mu.Lock()
	idle := e.trig.idle
	running := e.trig.running
	e.trig.mu.Unlock()
	if !running || idle == nil {
		return nil
	}
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// LoginSeen reacts to a recorded login of username on target: an account
// the bridge deactivated for inactivity, whose tenant has
// reactivate_on_login and whose IdP user is still active, is reactivated by
// the next push (its job is enqueued now).
func (e *Engine) LoginSeen(ctx context.Context, links []store.Link) error {
	for _, l := range links {
		t := e.tenants[l.Tenant]
		if t == nil || !t.Lifecycle.ReactivateOnLogin || l.DeactivatedReason != "inactivity" {
			continue
		}
		l.DeactivatedReason = ""
		if err := e.putLink(ctx, l); err != nil {
			return err
		}
		if err := e.st.EnqueueJob(ctx, l.Tenant, l.Kind, l.ResourceID); err != nil {
			return fmt.Errorf("enqueue reactivation of %s: %w", l.ResourceID, err)
		}
		e.Notify()
	}
	return nil
}
