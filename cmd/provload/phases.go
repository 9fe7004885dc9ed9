package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// latencyResult is phase 1: SCIM 201 to the user visible in the emulator.
type latencyResult struct {
	n int
	// fromAnswer is from the SCIM 201 reaching the client to the
	// emulator's 201 for POST /rest/api/2/user; fromSend is from the SCIM
	// POST being sent. Sorted ascending.
	fromAnswer, fromSend []time.Duration
	ids                  []string // the SCIM ids of the created users
}

// waiters hands the emulator's create timestamps to the goroutine waiting
// for that username.
type waiters struct {
	mu sync.Mutex
	m  map[string]chan time.Time
}

func (w *waiters) add(name string) chan time.Time {
	ch := make(chan time.Time, 1)
	w.mu.Lock()
	w.m[strings.ToLower(name)] = ch
	w.mu.Unlock()
	return ch
}

func (w *waiters) created(name string, at time.Time) {
	w.mu.Lock()
	ch := w.m[strings.ToLower(name)]
	delete(w.m, strings.ToLower(name))
	w.mu.Unlock()
	if ch != nil {
		ch <- at
	}
}

// measureLatency creates n users one after the other, each only after the
// previous one is visible in the emulator (light load).
func measureLatency(ctx context.Context, e *env, c *scimClient, n int, timeout time.Duration) (latencyResult, error) {
	w := &waiters{m: map[string]chan time.Time{}}
	e.meter.onCreated(w.created)
	defer e.meter.onCreated(nil)
	res := latencyResult{n: n}
	for i := range n {
		name := userName("lat", i)
		ch := w.add(name)
		sent := time.Now()
		id, err := c.createUser(ctx, name)
		if err != nil {
			return res, fmt.Errorf("latency user %d: %w", i, err)
		}
		answered := time.Now()
		res.ids = append(res.ids, id)
		select {
		case at := <-ch:
			res.fromAnswer = append(res.fromAnswer, at.Sub(answered))
			res.fromSend = append(res.fromSend, at.Sub(sent))
		case <-time.After(timeout):
			return res, fmt.Errorf("latency user %q: not created in the emulator within %s", name, timeout)
		case <-ctx.Done():
			return res, ctx.Err()
		}
	}
	slices.Sort(res.fromAnswer)
	slices.Sort(res.fromSend)
	return res, nil
}

// quantile of sorted durations (nearest rank).
func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(q*float64(len(d))+0.5) - 1
	return d[min(max(i, 0), len(d)-1)]
}

// waitIdle polls until the outbox has nothing pending. Parked jobs are an
// error: a load run must apply everything.
func waitIdle(ctx context.Context, e *env, every, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pending, parked, err := e.pending(ctx)
		if err != nil {
			return err
		}
		if parked > 0 {
			return parkedError(ctx, e, parked)
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d jobs still pending after %s", pending, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

func parkedError(ctx context.Context, e *env, parked int) error {
	jobs, err := e.st.ParkedJobs(ctx, 3)
	if err != nil {
		return fmt.Errorf("%d jobs parked (reading them: %w)", parked, err)
	}
	var why []string
	for _, j := range jobs {
		why = append(why, j.LastError)
	}
	return fmt.Errorf("%d jobs parked, e.g. %s", parked, strings.Join(why, "; "))
}

// changeResult is phase 3: Atlassian calls caused by n changes of one kind.
type changeResult struct {
	what  string
	n     int
	calls callCounts
}

// measureChanges applies three kinds of change to each user and counts the
// emulator calls each kind caused.
func measureChanges(ctx context.Context, e *env, c *scimClient, ids []string, timeout time.Duration) ([]changeResult, error) {
	var out []changeResult
	step := func(what string, fn func(i int, id string) error) error {
		if err := waitIdle(ctx, e, 10*time.Millisecond, timeout); err != nil {
			return fmt.Errorf("before %s: %w", what, err)
		}
		e.meter.reset()
		for i, id := range ids {
			if err := fn(i, id); err != nil {
				return fmt.Errorf("%s: %w", what, err)
			}
		}
		if err := waitIdle(ctx, e, 10*time.Millisecond, timeout); err != nil {
			return fmt.Errorf("after %s: %w", what, err)
		}
		out = append(out, changeResult{what: what, n: len(ids), calls: e.meter.snapshot()})
		return nil
	}
	if err := step("PATCH displayName (one changed attribute)", func(i int, id string) error {
		return c.patchDisplayName(ctx, id, fmt.Sprintf("Patched %d", i))
	}); err != nil {
		return out, err
	}
	// Read every user first, so the reads are not between the changes.
	docs := make([]map[string]any, len(ids))
	for i, id := range ids {
		d, err := c.getUser(ctx, id)
		if err != nil {
			return out, err
		}
		docs[i] = d
	}
	if err := step("identical PUT (no change)", func(i int, id string) error {
		return c.putUser(ctx, id, docs[i])
	}); err != nil {
		return out, err
	}
	err := step("PUT with displayName changed", func(i int, id string) error {
		docs[i]["displayName"] = fmt.Sprintf("Put %d", i)
		return c.putUser(ctx, id, docs[i])
	})
	return out, err
}

// loadSpec is phase 2's size.
type loadSpec struct {
	users, groups, memberships int
	clients                    int  // concurrent SCIM pushes
	patch                      bool // groups created empty, members PATCHed in (else POST with members)
	patchBatch                 int
	pushOnly                   bool // stop after the pushes (diagnosis of the SCIM side)
}

// loadResult is phase 2: initial load.
type loadResult struct {
	spec                      loadSpec
	usersPushed, groupsPushed time.Duration // from the first push
	total                     time.Duration // first push to the last successful write in the emulator
	calls                     callCounts
	writes                    string        // the engine's store writes (engineStore.summary)
	cpu                       time.Duration // user+sys CPU of this process during the phase
	idleGaps                  int           // silences of more than idleGap between emulator calls
	idle                      time.Duration // their total
	wall                      time.Duration // first push to verified
}

// groupMembers returns, for group g, the indexes of its members: the
// memberships are spread evenly, consecutive users per group, wrapping.
func groupMembers(s loadSpec, g int) []int {
	base, extra := s.memberships/s.groups, s.memberships%s.groups
	start := g*base + min(g, extra)
	size := base
	if g < extra {
		size++
	}
	out := make([]int, size)
	for j := range size {
		out[j] = (start + j) % s.users
	}
	return out
}

func (s loadSpec) check() error {
	switch {
	case s.users < 1 || s.groups < 0 || s.memberships < 0:
		return errors.New("--users must be at least 1, --groups and --memberships at least 0")
	case s.memberships > 0 && s.groups == 0:
		return errors.New("--memberships needs --groups")
	case s.groups > 0 && (s.memberships+s.groups-1)/s.groups > s.users:
		return fmt.Errorf("%d memberships over %d groups put more members in a group than there are users", s.memberships, s.groups)
	case s.clients < 1 || s.clients > 64:
		return errors.New("--clients must be 1..64")
	case s.patch && s.patchBatch < 1:
		return errors.New("--patch-batch must be at least 1")
	}
	return nil
}

func groupName(g int) string { return fmt.Sprintf("load-g%04d", g) }

// parallel runs fn(i) for i in [0, n) on c goroutines and returns the first error.
func parallel(ctx context.Context, c, n int, fn func(i int) error) error {
	var next atomic.Int64
	var once sync.Once
	var first error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// measureLoad pushes the users, then the groups with their members, and
// waits until the emulator holds all of it.
func measureLoad(ctx context.Context, e *env, c *scimClient, s loadSpec, progress io.Writer, every, timeout time.Duration) (loadResult, error) {
	res := loadResult{spec: s}
	e.meter.reset()
	e.est.reset()
	ids := make([]string, s.users)
	cpu0 := cpuTime()
	start := time.Now()
	stopProgress := reportProgress(ctx, e, start, progress, every)
	defer stopProgress()

	err := parallel(ctx, s.clients, s.users, func(i int) error {
		id, err := c.createUser(ctx, userName("load", i))
		ids[i] = id
		return err
	})
	if err != nil {
		return res, fmt.Errorf("push users: %w", err)
	}
	res.usersPushed = time.Since(start)
	err = parallel(ctx, s.clients, s.groups, func(g int) error {
		idx := groupMembers(s, g)
		mem := make([]string, len(idx))
		for j, u := range idx {
			mem[j] = ids[u]
		}
		if !s.patch {
			_, err := c.createGroup(ctx, groupName(g), mem)
			return err
		}
		gid, err := c.createGroup(ctx, groupName(g), nil)
		if err != nil {
			return err
		}
		for len(mem) > 0 {
			n := min(s.patchBatch, len(mem))
			if err := c.addMembers(ctx, gid, mem[:n]); err != nil {
				return err
			}
			mem = mem[n:]
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("push groups: %w", err)
	}
	res.groupsPushed = time.Since(start)
	if s.pushOnly {
		res.wall = res.groupsPushed
		res.cpu = cpuTime() - cpu0
		res.calls = e.meter.snapshot()
		return res, nil
	}

	deadline := time.Now().Add(timeout)
	for {
		if err := waitIdle(ctx, e, 50*time.Millisecond, time.Until(deadline)); err != nil {
			return res, err
		}
		problem := verifyLoad(e, s)
		if problem == "" {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("outbox empty but the emulator does not hold the load: %s", problem)
		}
		select { // polling the emulator's state with a deadline
		case <-ctx.Done():
			return res, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	res.wall = time.Since(start)
	res.cpu = cpuTime() - cpu0
	res.total = time.Unix(0, e.meter.lastWrite.Load()).Sub(start)
	res.calls = e.meter.snapshot()
	res.writes = e.est.summary()
	res.idleGaps, res.idle = e.meter.idle()
	return res, nil
}

// verifyLoad compares the emulator's directory with the pushed load; "" when
// everything is there.
func verifyLoad(e *env, s loadSpec) string {
	st := e.emu.State()
	users := 0
	for _, u := range st.Users {
		if strings.HasPrefix(u.Name, "load-") {
			if !u.Active {
				return fmt.Sprintf("user %s is inactive", u.Name)
			}
			users++
		}
	}
	if users != s.users {
		return fmt.Sprintf("%d of %d users", users, s.users)
	}
	members := map[string][]string{}
	for _, g := range st.Groups {
		if strings.HasPrefix(g.Name, "load-g") {
			members[g.Name] = g.Members
		}
	}
	if len(members) != s.groups {
		return fmt.Sprintf("%d of %d groups", len(members), s.groups)
	}
	for g := range s.groups {
		want := groupMembers(s, g)
		got := members[groupName(g)]
		if len(got) != len(want) {
			return fmt.Sprintf("group %s has %d of %d members", groupName(g), len(got), len(want))
		}
		have := map[string]bool{}
		for _, m := range got {
			have[strings.ToLower(m)] = true
		}
		for _, u := range want {
			if !have[userName("load", u)] {
				return fmt.Sprintf("group %s lacks %s", groupName(g), userName("load", u))
			}
		}
	}
	return ""
}

// reportProgress prints a line every so often until the returned func is called.
func reportProgress(ctx context.Context, e *env, start time.Time, w io.Writer, every time.Duration) func() {
	if w == nil || every <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		prev := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			c := e.meter.snapshot()
			pending, parked, _ := e.pending(ctx)
			ok := c.count("2xx")
			fmt.Fprintf(w, "  %6.1fs  calls ok %6d (+%5d)  429 %5d  other %4d  jobs pending %6d parked %d\n",
				time.Since(start).Seconds(), ok, ok-prev, c.count("429"), c.count("other"), pending, parked)
			prev = ok
		}
	}()
	return func() { cancel(); <-done }
}

// cpuTime is this process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
