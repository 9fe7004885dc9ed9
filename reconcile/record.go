package reconcile

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/scimbridge/scimbridge/store"
)

// recorder collects the results of one run and writes them in batches.
type recorder struct {
	e       *Engine
	mu      sync.Mutex
	run     store.Run
	pending []store.Result
	// lazy means the run's row is not written yet: it is written with the
	// first batch of results or, closed already, by finish, and not at all
	// when nothing was recorded. A push pass of a few jobs thus costs one
	// run write instead of two, and one that changed nothing none.
	lazy  bool
	rowMu sync.Mutex // serialises writing the lazy row
}

const flushEvery = 200

func (e *Engine) startRun(ctx context.Context, kind, trigger string) (*recorder, error) {
	run, err := e.st.CreateRun(ctx, store.Run{
		Kind: kind, Trigger: trigger, Status: "running", StartedAt: e.now().UTC(), Counts: map[string]int{},
	})
	if err != nil {
		return nil, fmt.Errorf("create run: %w", err)
	}
	return &recorder{e: e, run: run}, nil
}

// lazyRun is startRun without the write: see recorder.lazy.
func (e *Engine) lazyRun(kind, trigger string) *recorder {
	return &recorder{e: e, lazy: true, run: store.Run{
		Kind: kind, Trigger: trigger, Status: "running", StartedAt: e.now().UTC(), Counts: map[string]int{},
	}}
}

// add records one result (At is set here, RunID when it is written).
func (r *recorder) add(ctx context.Context, res store.Result) {
	res.At = r.e.now().UTC()
	r.mu.Lock()
	r.run.Counts[res.Action]++
	r.pending = append(r.pending, res)
	var batch []store.Result
	if len(r.pending) >= flushEvery {
		batch, r.pending = r.pending, nil
	}
	kind := r.run.Kind
	r.mu.Unlock()
	if r.e.obs != nil {
		r.e.obs.Recorded(kind, res)
	}
	if batch != nil {
		r.write(ctx, batch)
	}
}

// row returns the run's ID, writing the row of a lazy run (as running).
func (r *recorder) row(ctx context.Context) (int64, error) {
	r.rowMu.Lock()
	defer r.rowMu.Unlock()
	r.mu.Lock()
	run, lazy := r.run, r.lazy
	run.Counts = maps.Clone(run.Counts)
	r.mu.Unlock()
	if !lazy {
		return run.ID, nil
	}
	created, err := r.e.st.CreateRun(ctx, run)
	if err != nil {
		return 0, fmt.Errorf("create run: %w", err)
	}
	r.mu.Lock()
	r.run.ID, r.lazy = created.ID, false
	r.mu.Unlock()
	return created.ID, nil
}

func (r *recorder) write(ctx context.Context, batch []store.Result) {
	id, err := r.row(ctx)
	if err == nil {
		for i := range batch {
			batch[i].RunID = id
		}
		err = r.e.st.AddResults(ctx, batch)
	}
	if err != nil {
		// History is best effort; the change itself is in the target and in
		// the links. Say so loudly.
		r.e.log.Error("write run results", "run", id, "results", len(batch), "err", err)
	}
}

// finish writes what is left and closes the run: failed if err is set or any
// result failed, else succeeded (status may be preset, e.g. aborted). A lazy
// run that recorded nothing and did not fail is not written at all (its ID
// stays 0).
func (r *recorder) finish(ctx context.Context, err error) store.Run {
	r.rowMu.Lock()
	r.mu.Lock()
	batch := r.pending
	r.pending = nil
	lazy := r.lazy
	recorded := len(r.run.Counts) > 0
	r.mu.Unlock()
	r.rowMu.Unlock()
	if lazy && !recorded && err == nil {
		return r.run
	}
	now := r.e.now().UTC()
	r.run.FinishedAt = &now
	switch {
	case r.run.Status == "aborted":
	case err != nil:
		r.run.Status, r.run.Error = "failed", err.Error()
	case r.run.Counts["failed"]+r.run.Counts["parked"] > 0:
		// A parked job is a failure that waits for an admin or a new
		// change; a run that left one behind did not succeed.
		r.run.Status = "failed"
		r.run.Error = fmt.Sprintf("%d resource(s) failed; see the results", r.run.Counts["failed"]+r.run.Counts["parked"])
	default:
		r.run.Status = "succeeded"
	}
	if lazy {
		// Written once, already closed, then its results.
		r.rowMu.Lock()
		created, cerr := r.e.st.CreateRun(ctx, r.run)
		if cerr == nil {
			r.run.ID, r.lazy = created.ID, false
		}
		r.rowMu.Unlock()
		if cerr != nil {
			r.e.log.Error("write run", "kind", r.run.Kind, "err", cerr)
		} else if len(batch) > 0 {
			r.write(ctx, batch)
		}
	} else {
		if len(batch) > 0 {
			r.write(ctx, batch)
		}
		if uerr := r.e.st.UpdateRun(ctx, r.run); uerr != nil {
			r.e.log.Error("close run", "run", r.run.ID, "err", uerr)
		}
	}
	if r.e.obs != nil {
		done := r.run
		done.Counts = maps.Clone(r.run.Counts)
		r.e.obs.RunFinished(done)
	}
	return r.run
}

// keyedMutex serialises work per key.
type keyedMutex struct {
	mu    sync.Mutex
	locks map[string]*keyedEntry
}

type keyedEntry struct {
	mu   sync.Mutex
	refs int
}

// lock locks every key (deduplicated, in a fixed order so two callers never
// deadlock) and returns the unlock function.
func (k *keyedMutex) lock(keys ...string) func() {
	uniq := map[string]bool{}
	var ordered []string
	for _, key := range keys {
		if !uniq[key] {
			uniq[key] = true
			ordered = append(ordered, key)
		}
	}
	slices.Sort(ordered)
	var held []*keyedEntry
	for _, key := range ordered {
		k.mu.Lock()
		if k.locks == nil {
			k.locks = map[string]*keyedEntry{}
		}
		en := k.locks[key]
		if en == nil {
			en = &keyedEntry{}
			k.locks[key] = en
		}
		en.refs++
		k.mu.Unlock()
		en.mu.Lock()
		held = append(held, en)
	}
	return func() {
		for i, en := range held {
			en.mu.Unlock()
			k.mu.Lock()
			en.refs--
			if en.refs == 0 {
				delete(k.locks, ordered[i])
			}
			k.mu.Unlock()
		}
	}
}

func nameKey(target, name string) string { return target + "\x00" + strings.ToLower(name) }
