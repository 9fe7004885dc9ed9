// Command scimload measures a running scimbridge's SCIM throughput and
// latency the way IdPs load it: creates, lookups by userName filter, user
// PATCHes and group-membership PATCHes, each at several concurrency levels,
// over real HTTP on loopback. Figures go to BENCHMARKS.md.
//
//	scimload --url http://127.0.0.1:8080/scim/v2/okta --token T [--users 100000] [--clients 1,16]
//	         [--duration 10s] [--group-members 1000] [--pid PID]
//
// With --pid it also reports the CPU time scimbridge spent per request in
// each phase (from /proc/PID/stat), and always the load tool's own CPU per
// request: on a shared machine these are steadier than requests/s.
//
// It only ever talks to the URL it is given, which must be on loopback.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "scimload:", err)
		os.Exit(1)
	}
}

type loader struct {
	base   string
	token  string
	client *http.Client
	prefix string // makes userNames unique per run
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("scimload", flag.ContinueOnError)
	base := fs.String("url", "", "SCIM base URL of one tenant, e.g. http://127.0.0.1:8080/scim/v2/okta")
	token := fs.String("token", "", "the tenant's bearer token")
	users := fs.Int("users", 100000, "users stored before measuring (created by the tool if fewer exist)")
	clients := fs.String("clients", "1,16", "concurrency levels")
	duration := fs.Duration("duration", 10*time.Second, "how long each phase runs (bounded)")
	pid := fs.Int("pid", 0, "scimbridge's process id, to report its resident memory and CPU per request")
	ops := fs.String("ops", "create,get-by-filter,patch-user,patch-group-members", "phases to run, in this order")
	groupMembers := fs.Int("group-members", 1000, "members the PATCHed group holds besides the users added and removed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	u, err := url.Parse(*base)
	if err != nil || u.Host == "" {
		return errors.New("--url is required")
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return errors.New("--url must be on loopback (127.0.0.0/8, ::1 or localhost)")
	}
	var levels []int
	for _, c := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > 256 {
			return fmt.Errorf("--clients: bad level %q", c)
		}
		levels = append(levels, n)
	}
	l := &loader{
		base: strings.TrimRight(*base, "/"), token: *token,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 512, MaxConnsPerHost: 512}},
		prefix: strconv.FormatInt(time.Now().UnixNano()%1e9, 36),
	}

	have, err := l.total(ctx)
	if err != nil {
		return err
	}
	if have < *users {
		fmt.Fprintf(out, "preloading %d users (have %d) ...\n", *users-have, have)
		start := time.Now()
		if err := l.preload(ctx, *users-have); err != nil {
			return err
		}
		fmt.Fprintf(out, "preloaded in %s\n", time.Since(start).Round(time.Millisecond))
	}
	settle(ctx, *pid)
	// Sample existing users for reads and PATCHes from the middle of the
	// stored users (so indexes, not page one, are measured), and the
	// group's standing members from the first quarter: the two sets do not
	// overlap, so every membership PATCH really adds or removes someone.
	have, err = l.total(ctx)
	if err != nil {
		return err
	}
	ids, names, err := l.sample(ctx, max(1, have/2), 1000)
	if err != nil {
		return err
	}
	var standing []string
	if *groupMembers > 0 {
		if standing, _, err = l.sample(ctx, max(1, have/4), min(*groupMembers, have/4)); err != nil {
			return err
		}
	}
	groupID, err := l.createGroup(ctx, standing)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "users stored: %d; PATCHed group holds %d standing members\n", have, len(standing))

	fmt.Fprintf(out, "\n%-22s %7s %10s %9s %9s %9s %7s %11s %11s\n", "operation", "clients", "requests", "req/s", "p50 ms", "p99 ms", "errors",
		"server µs", "client µs")
	var seq atomic.Int64
	phases := []phase{
		{"create", func(ctx context.Context, i int64) error {
			return l.createUser(ctx, fmt.Sprintf("%s-bench-%d", l.prefix, seq.Add(1)))
		}},
		{"get-by-filter", func(ctx context.Context, i int64) error {
			return l.getByUserName(ctx, names[i%int64(len(names))])
		}},
		{"patch-user", func(ctx context.Context, i int64) error {
			return l.patchUser(ctx, ids[i%int64(len(ids))], i)
		}},
		{"patch-group-members", func(ctx context.Context, i int64) error {
			// Request 2k adds a user and 2k+1 removes it again.
			return l.patchMembers(ctx, groupID, ids[(i/2)%int64(len(ids))], i%2 == 0)
		}},
	}
	for _, name := range strings.Split(*ops, ",") {
		i := slices.IndexFunc(phases, func(p phase) bool { return p.name == strings.TrimSpace(name) })
		if i < 0 {
			return fmt.Errorf("--ops: unknown phase %q", name)
		}
		ph := phases[i]
		for _, c := range levels {
			settle(ctx, *pid)
			srv0, _ := processCPU(*pid)
			cli0 := selfCPU()
			res := measure(ctx, c, *duration, ph.op)
			srv1, srvErr := processCPU(*pid)
			cli := perRequest(selfCPU()-cli0, res.n)
			srv := "-"
			if *pid > 0 && srvErr == nil {
				srv = perRequest(srv1-srv0, res.n)
			}
			fmt.Fprintf(out, "%-22s %7d %10d %9.0f %9.2f %9.2f %7d %11s %11s\n", ph.name, c, res.n, res.rate, ms(res.p50), ms(res.p99), res.errors,
				srv, cli)
			if res.firstErr != nil {
				fmt.Fprintf(out, "  first error: %v\n", res.firstErr)
			}
		}
	}
	if *pid > 0 {
		if rss, err := residentMiB(*pid); err == nil {
			fmt.Fprintf(out, "\nscimbridge resident memory: %.0f MiB (VmRSS), peak %.0f MiB (VmHWM)\n", rss[0], rss[1])
		}
	}
	return nil
}

// phase is one measured operation.
type phase struct {
	name string
	op   func(ctx context.Context, i int64) error
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func perRequest(cpu time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.FormatInt(int64(cpu/time.Microsecond)/int64(n), 10)
}

// settle waits (at most two minutes) until scimbridge is idle, so that one
// phase does not pay for the work the previous one left behind (the engine
// draining the outbox that creates and PATCHes filled).
func settle(ctx context.Context, pid int) {
	if pid <= 0 {
		return
	}
	deadline := time.Now().Add(2 * time.Minute)
	prev, err := processCPU(pid)
	for err == nil && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(500 * time.Millisecond)
		var cur time.Duration
		if cur, err = processCPU(pid); err != nil || cur-prev <= 30*time.Millisecond {
			return
		}
		prev = cur
	}
}

// selfCPU is the load tool's own user+system CPU time.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// processCPU is a process's user+system CPU time from /proc/PID/stat.
// Guess: the kernel's clock tick is 100 Hz (USER_HZ on Linux x86-64 and
// arm64); Go cannot ask sysconf without cgo.
func processCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may contain spaces; fields after ")" start at field 3.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc stat format")
	}
	return time.Duration(utime+stime) * (time.Second / 100), nil
}

type result struct {
	n, errors int
	rate      float64
	p50, p99  time.Duration
	firstErr  error
}

// measure runs op from c goroutines for d (and at most 2 million requests).
func measure(ctx context.Context, c int, d time.Duration, op func(context.Context, int64) error) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var firstErr error
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			local := make([]time.Duration, 0, 4096)
			localErrs := 0
			var lerr error
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > 2_000_000 {
					break
				}
				t := time.Now()
				err := op(ctx, i)
				if ctx.Err() != nil {
					break // cut off by the deadline: not a server error
				}
				local = append(local, time.Since(t))
				if err != nil {
					localErrs++
					if lerr == nil {
						lerr = err
					}
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += localErrs
			if firstErr == nil {
				firstErr = lerr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	r := result{n: len(lat), errors: errs, firstErr: firstErr, rate: float64(len(lat)) / elapsed.Seconds()}
	if len(lat) > 0 {
		r.p50 = lat[len(lat)/2]
		r.p99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	return r
}

func (l *loader) do(ctx context.Context, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, l.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+l.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := l.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: status %d: %.200s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

func (l *loader) total(ctx context.Context) (int, error) {
	var lr struct{ TotalResults int }
	err := l.do(ctx, http.MethodGet, "/Users?count=0", nil, http.StatusOK, &lr)
	return lr.TotalResults, err
}

func userBody(name string) map[string]any {
	return map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": name + "@example.com", "displayName": name, "active": true,
		"name":   map[string]any{"givenName": "Load", "familyName": name},
		"emails": []any{map[string]any{"value": name + "@example.com", "type": "work", "primary": true}},
	}
}

func (l *loader) createUser(ctx context.Context, name string) error {
	return l.do(ctx, http.MethodPost, "/Users", userBody(name), http.StatusCreated, nil)
}

func (l *loader) preload(ctx context.Context, n int) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if err := l.createUser(ctx, fmt.Sprintf("%s-pre-%d", l.prefix, i)); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return firstErr
}

// sample reads up to n consecutive users starting at startIndex, a page
// (at most 500, the server's default cap) at a time.
func (l *loader) sample(ctx context.Context, startIndex, n int) (ids, names []string, err error) {
	for len(ids) < n {
		var lr struct {
			Resources []struct{ ID, UserName string }
		}
		path := fmt.Sprintf("/Users?startIndex=%d&count=%d&attributes=userName", startIndex+len(ids), min(n-len(ids), 500))
		if err := l.do(ctx, http.MethodGet, path, nil, http.StatusOK, &lr); err != nil {
			return nil, nil, err
		}
		if len(lr.Resources) == 0 {
			break
		}
		for _, r := range lr.Resources {
			ids = append(ids, r.ID)
			names = append(names, r.UserName)
		}
	}
	if len(ids) == 0 {
		return nil, nil, errors.New("no users to sample")
	}
	return ids, names, nil
}

func (l *loader) createGroup(ctx context.Context, members []string) (string, error) {
	ms := make([]any, 0, len(members))
	for _, id := range members {
		ms = append(ms, map[string]any{"value": id})
	}
	var g struct{ ID string }
	err := l.do(ctx, http.MethodPost, "/Groups", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": l.prefix + "-bench-group", "members": ms,
	}, http.StatusCreated, &g)
	return g.ID, err
}

func (l *loader) getByUserName(ctx context.Context, name string) error {
	q := url.QueryEscape(fmt.Sprintf("userName eq %q", name))
	var lr struct{ TotalResults int }
	if err := l.do(ctx, http.MethodGet, "/Users?filter="+q+"&startIndex=1&count=100", nil, http.StatusOK, &lr); err != nil {
		return err
	}
	if lr.TotalResults != 1 {
		return fmt.Errorf("lookup %q: %d results", name, lr.TotalResults)
	}
	return nil
}

func (l *loader) patchUser(ctx context.Context, id string, i int64) error {
	return l.do(ctx, http.MethodPatch, "/Users/"+id, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": "title " + strconv.FormatInt(i, 10)}},
	}, http.StatusOK, nil)
}

// patchMembers adds or removes one user, Okta's Group Push shape.
func (l *loader) patchMembers(ctx context.Context, groupID, userID string, add bool) error {
	op := map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": userID}}}
	if !add {
		op = map[string]any{"op": "remove", "path": fmt.Sprintf("members[value eq %q]", userID)}
	}
	err := l.do(ctx, http.MethodPatch, "/Groups/"+groupID, map[string]any{
		"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{op},
	}, http.StatusOK, nil)
	if err != nil && strings.Contains(err.Error(), "status 204") {
		return nil // a preset that answers group PATCHes with 204
	}
	return err
}

func residentMiB(pid int) ([2]float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return [2]float64{}, err
	}
	var out [2]float64
	for _, line := range strings.Split(string(data), "\n") {
		for i, key := range []string{"VmRSS:", "VmHWM:"} {
			if rest, ok := strings.CutPrefix(line, key); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
				out[i] = kb / 1024
			}
		}
	}
	return out, nil
}
