package auth

import (
	"container/list"
	"sync"
	"time"
)

// failureTable counts failed attempts per client address in a sliding window.
//
// Each address keeps the times of at most max recorded failures. A failure that finds max of them
// still inside the window is refused (429) and not recorded, so a hammering client cannot grow its
// entry, and exactly max failures per window are let through as 401. Entries are kept in a list
// ordered by their newest recorded failure: fully expired entries are pruned from the front, and
// when more than limit addresses are tracked the one with the oldest failure is dropped.
type failureTable struct {
	now    func() time.Time
	max    int
	window time.Duration
	limit  int

	mu    sync.Mutex
	addrs map[string]*list.Element // value: *failureEntry
	order *list.List               // front: oldest newest-failure
}

type failureEntry struct {
	addr   string
	times  []int64 // UnixNano of recorded failures, oldest first
	warned bool    // lockout already logged for this episode
}

func newFailureTable(now func() time.Time, maxFailures int, window time.Duration, limit int) *failureTable {
	return &failureTable{
		now:    now,
		max:    maxFailures,
		window: window,
		limit:  limit,
		addrs:  make(map[string]*list.Element),
		order:  list.New(),
	}
}

// fail records a failed attempt from addr. It reports whether addr is locked out, and if so how long
// until a slot frees and whether this is the first refusal since the last recorded failure.
func (ft *failureTable) fail(addr string) (retry time.Duration, locked, first bool) {
	now := ft.now().UnixNano()
	cutoff := now - int64(ft.window)

	ft.mu.Lock()
	defer ft.mu.Unlock()
	ft.prune(cutoff)

	el := ft.addrs[addr]
	var e *failureEntry
	if el != nil {
		e = el.Value.(*failureEntry)
		i := 0
		for i < len(e.times) && e.times[i] <= cutoff {
			i++
		}
		e.times = append(e.times[:0], e.times[i:]...)
		if len(e.times) >= ft.max {
			first = !e.warned
			e.warned = true
			return retryAfter(time.Duration(e.times[0]+int64(ft.window)-now), ft.window), true, first
		}
		ft.order.MoveToBack(el)
	} else {
		e = &failureEntry{addr: addr}
		ft.addrs[addr] = ft.order.PushBack(e)
		for len(ft.addrs) > ft.limit {
			front := ft.order.Front()
			ft.order.Remove(front)
			delete(ft.addrs, front.Value.(*failureEntry).addr)
		}
	}
	e.times = append(e.times, now)
	e.warned = false
	return 0, false, false
}

// prune drops entries whose newest failure has left the window. Must hold ft.mu.
func (ft *failureTable) prune(cutoff int64) {
	for {
		front := ft.order.Front()
		if front == nil {
			return
		}
		e := front.Value.(*failureEntry)
		if n := len(e.times); n > 0 && e.times[n-1] > cutoff {
			return
		}
		ft.order.Remove(front)
		delete(ft.addrs, e.addr)
	}
}

// tracked returns the number of addresses in the table (for tests).
func (ft *failureTable) tracked() int {
	ft.mu.Lock()
	defer ft.mu.Unlock()
	return len(ft.addrs)
}

// retryAfter rounds d up to whole seconds (Retry-After is in seconds) and clamps it to
// [1 s, window rounded up], the upper bound guarding against a clock that went backwards.
func retryAfter(d, window time.Duration) time.Duration {
	ceil := func(d time.Duration) time.Duration {
		return (d + time.Second - 1) / time.Second * time.Second
	}
	d = min(ceil(d), ceil(window))
	return max(d, time.Second)
}
