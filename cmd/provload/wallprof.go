package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"time"
)

// wallProfile samples the goroutines of the engine's workers and says what
// they were waiting on, since a CPU profile cannot show time spent waiting
// for a rate limiter, a Retry-After pause, an HTTP answer or a SQLite
// commit. Each sample reads the goroutine profile (debug=1, aggregated
// stacks); a worker is a goroutine with reconcile.(*pass).work on its
// stack, the settler one with reconcile.(*pass).settleLoop.
type wallProfile struct {
	samples int
	workers int            // worker goroutines summed over samples
	drain   int            // samples in which the Drain loop was reading due jobs
	settler int            // samples in which the settler was writing outcomes
	by      map[string]int // "reconcile frame | wait" -> worker-samples
}

const workerFrame = "reconcile.(*pass).work"

// sampleWall samples every interval until ctx ends.
func sampleWall(ctx context.Context, every time.Duration) *wallProfile {
	p := &wallProfile{by: map[string]int{}}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var buf bytes.Buffer
	for {
		select {
		case <-ctx.Done():
			return p
		case <-tick.C:
		}
		buf.Reset()
		if err := pprof.Lookup("goroutine").WriteTo(&buf, 1); err != nil {
			return p
		}
		p.add(&buf)
	}
}

// add folds one debug=1 goroutine profile into p.
func (p *wallProfile) add(r io.Reader) {
	p.samples++
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	var count int
	var frames []string
	flush := func() {
		if count > 0 && len(frames) > 0 {
			p.stack(count, frames)
		}
		count, frames = 0, frames[:0]
	}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			flush()
		case strings.HasPrefix(line, "#\t"):
			f := strings.Split(line, "\t")
			if len(f) >= 3 {
				fn := f[2]
				if i := strings.LastIndex(fn, "+0x"); i > 0 {
					fn = fn[:i]
				}
				frames = append(frames, fn)
			}
		default:
			if n, _, ok := strings.Cut(line, " @ "); ok {
				flush()
				count, _ = strconv.Atoi(n)
			}
		}
	}
	flush()
}

// stack attributes n goroutines with these frames (innermost first).
func (p *wallProfile) stack(n int, frames []string) {
	joined := strings.Join(frames, "\n")
	if strings.Contains(joined, "reconcile.(*pass).run") && strings.Contains(joined, "DueJobs") {
		p.drain += n
		return
	}
	if strings.Contains(joined, "reconcile.(*pass).settleLoop") {
		if strings.Contains(joined, "reconcile.(*Engine).settle") {
			p.settler += n
		}
		return
	}
	if !strings.Contains(joined, workerFrame) {
		return
	}
	p.workers += n
	where := "?"
	for _, f := range frames {
		if strings.Contains(f, "/reconcile.") {
			where = f[strings.LastIndex(f, "/reconcile.")+1:]
			break
		}
	}
	p.by[where+" | "+waitKind(joined)] += n
}

// waitKind names what a worker stack is doing.
func waitKind(stack string) string {
	switch {
	case strings.Contains(stack, "rate.(*Limiter)"):
		return "client rate limiter"
	case strings.Contains(stack, "atlassian.sleep"):
		return "Retry-After pause / retry backoff"
	case strings.Contains(stack, "atlassian.(*Transport).send"):
		return "HTTP call to the target"
	case strings.Contains(stack, "store/sqlite.(*writer)") || strings.Contains(stack, "store/sqlite.(*DB).write"):
		return "store write (group commit)"
	case strings.Contains(stack, "store/sqlite."):
		return "store read"
	case strings.Contains(stack, "keyedMutex"):
		return "name lock"
	}
	return "CPU / other"
}

// report prints the attribution, largest first.
func (p *wallProfile) report(w io.Writer, workers int) {
	if p.samples == 0 {
		return
	}
	fmt.Fprintf(w, "  engine workers, wall-clock samples (%d samples): on average %.1f of %d workers busy; the Drain loop was reading due jobs in %.0f%% of samples, the settler writing in %.0f%%\n",
		p.samples, float64(p.workers)/float64(p.samples), workers, 100*float64(p.drain)/float64(p.samples),
		100*float64(p.settler)/float64(p.samples))
	type row struct {
		k string
		n int
	}
	var rows []row
	for k, n := range p.by {
		rows = append(rows, row{k, n})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].n > rows[j].n })
	for i, r := range rows {
		if i == 12 {
			break
		}
		fmt.Fprintf(w, "    %5.1f%%  %s\n", 100*float64(r.n)/float64(max(p.workers, 1)), r.k)
	}
}
