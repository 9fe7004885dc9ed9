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
	client *http.Client // setup requests only (sampling, the group)
	prefix string       // makes userNames unique per run
	addr   string       // host:port of base
	path   string       // base's path, e.g. /scim/v2/okta
	head   string       // the header lines every measured request carries
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
	lookupUsers := fs.Int("lookup-users", 1000, "distinct users get-by-filter cycles through (from the middle of the table; the whole table if it holds fewer than twice as many)")
	lookupsOut := fs.String("lookups-out", "", "write get-by-filter's requests to this file, one per line: path and query, a tab, the userName member the answer must hold (for wrk, test/bench/wrk.sh)")
	membersOut := fs.String("members-out", "", "write patch-group-members' group and users to this file, one line per user: the group's path, a tab, the user's id (for wrk, test/bench/wrk.sh)")
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
	if u.Scheme != "http" {
		return errors.New("--url must be http:// (the load tool speaks plain HTTP/1.1 on loopback)")
	}
	if strings.ContainsAny(*token, "\r\n") {
		return errors.New("--token must not contain line breaks")
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	l := &loader{
		base: strings.TrimRight(*base, "/"), token: *token,
		client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		prefix: strconv.FormatInt(time.Now().UnixNano()%1e9, 36),
		addr:   addr,
		path:   strings.TrimRight(u.EscapedPath(), "/"),
		head:   "Host: " + u.Host + "\r\nAuthorization: Bearer " + *token + "\r\nUser-Agent: scimload\r\n",
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
	if *lookupUsers != len(names) {
		if *lookupUsers < 1 {
			return errors.New("--lookup-users must be at least 1")
		}
		start := max(1, have/2)
		if *lookupUsers > have/2 {
			start = 1
		}
		if _, names, err = l.sample(ctx, start, *lookupUsers); err != nil {
			return err
		}
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
	// Lookups are prepared before measuring: the request bytes and what
	// the answer must contain.
	lookups := make([]lookup, len(names))
	for i, n := range names {
		lookups[i] = l.lookupRequest(n)
	}
	if *lookupsOut != "" {
		if err := writeLookups(*lookupsOut, l.path, lookups); err != nil {
			return err
		}
	}
	if *membersOut != "" {
		var b []byte
		for _, id := range ids {
			b = fmt.Appendf(b, "%s/Groups/%s\t%s\n", l.path, groupID, id)
		}
		if err := os.WriteFile(*membersOut, b, 0o644); err != nil {
			return fmt.Errorf("--members-out: %w", err)
		}
	}
	phases := []phase{
		{"create", func(w *worker, i int64) error {
			return l.createUser(w, fmt.Sprintf("%s-bench-%d", l.prefix, seq.Add(1)))
		}},
		{"get-by-filter", func(w *worker, i int64) error {
			return l.getByUserName(w, &lookups[i%int64(len(lookups))])
		}},
		{"patch-user", func(w *worker, i int64) error {
			return l.patchUser(w, ids[i%int64(len(ids))], i)
		}},
		{"patch-group-members", func(w *worker, i int64) error {
			// Request 2k adds a user and 2k+1 removes it again.
			return l.patchMembers(w, groupID, ids[(i/2)%int64(len(ids))], i%2 == 0)
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
			res := measure(ctx, l.addr, c, *duration, ph.op)
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
	op   func(w *worker, i int64) error
}

// worker is one simulated client: its connection and request buffer.
type worker struct {
	conn *rawConn
	req  []byte
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

// measure runs op from c clients, each on its own keep-alive connection,
// for d (and at most 2 million requests).
func measure(ctx context.Context, addr string, c int, d time.Duration, op func(*worker, int64) error) result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	// Requests in flight at the end finish normally; a server that stops
	// answering ends the phase at this deadline instead of hanging it.
	deadline := time.Now().Add(d + 30*time.Second)
	var next atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var firstErr error
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			w := &worker{conn: newRawConn(addr)}
			w.conn.setDeadline(deadline)
			defer w.conn.close()
			local := make([]time.Duration, 0, 4096)
			localErrs := 0
			var lerr error
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > 2_000_000 {
					break
				}
				t := time.Now()
				err := op(w, i)
				if ctx.Err() != nil && err != nil {
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

// request appends a whole HTTP/1.1 request to dst. pathQuery is under
// the tenant's base path and already escaped.
func (l *loader) request(dst []byte, method, pathQuery string, body []byte) []byte {
	dst = append(dst, method...)
	dst = append(dst, ' ')
	dst = append(dst, l.path...)
	dst = append(dst, pathQuery...)
	dst = append(dst, " HTTP/1.1\r\n"...)
	dst = append(dst, l.head...)
	if body != nil {
		dst = append(dst, "Content-Type: application/scim+json\r\nContent-Length: "...)
		dst = strconv.AppendInt(dst, int64(len(body)), 10)
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "\r\n"...)
	return append(dst, body...)
}

// send writes w.req and checks the answer's status and that its body
// contains want (when set) and not notWant (when set): a cheap check that
// the answer is about the resource asked for.
func (w *worker) send(what string, status int, want, notWant []byte) error {
	got, body, err := w.conn.roundTrip(w.req)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if got != status {
		return fmt.Errorf("%s: status %d: %.200s", what, got, body)
	}
	if want != nil && !bytes.Contains(body, want) {
		return fmt.Errorf("%s: the response lacks %s: %.200s", what, want, body)
	}
	if notWant != nil && bytes.Contains(body, notWant) {
		return fmt.Errorf("%s: the response still has %s", what, notWant)
	}
	return nil
}

// jsonMember renders "key":"value" as encoding/json (and so scimbridge)
// writes it, HTML escaping included.
func jsonMember(key, value string) []byte {
	k, _ := json.Marshal(key)
	v, _ := json.Marshal(value)
	return slices.Concat(k, []byte(":"), v)
}

// userBody is an Okta-shaped user; name must need no JSON escaping.
func userBody(dst []byte, name string) []byte {
	dst = append(dst, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`...)
	dst = append(dst, name...)
	dst = append(dst, `@example.com","displayName":"`...)
	dst = append(dst, name...)
	dst = append(dst, `","active":true,"name":{"givenName":"Load","familyName":"`...)
	dst = append(dst, name...)
	dst = append(dst, `"},"emails":[{"value":"`...)
	dst = append(dst, name...)
	dst = append(dst, `@example.com","type":"work","primary":true}]}`...)
	return dst
}

// createUser posts a user and checks the 201 carries its userName.
func (l *loader) createUser(w *worker, name string) error {
	body := userBody(nil, name)
	w.req = l.request(w.req[:0], "POST", "/Users", body)
	return w.send("create "+name, 201, jsonMember("userName", name+"@example.com"), nil)
}

func (l *loader) preload(ctx context.Context, n int) error {
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			w := &worker{conn: newRawConn(l.addr)}
			defer w.conn.close()
			for ctx.Err() == nil {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				if err := l.createUser(w, fmt.Sprintf("%s-pre-%d", l.prefix, i)); err != nil {
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

// lookup is one prepared get-by-filter request and what its answer
// must contain.
type lookup struct {
	name string
	req  []byte
	want []byte // the userName member
}

func (l *loader) lookupRequest(name string) lookup {
	return lookup{
		name: name,
		req:  l.request(nil, "GET", lookupTarget(name), nil),
		want: jsonMember("userName", name),
	}
}

// lookupTarget is the path (below the tenant's base) and query of the
// lookup of name, as Okta sends it.
func lookupTarget(name string) string {
	return "/Users?filter=" + url.QueryEscape(fmt.Sprintf("userName eq %q", name)) + "&startIndex=1&count=100"
}

// writeLookups writes the lookups for another load generator: per line the
// request target (base path included), a tab, and the JSON member the
// answer must contain.
func writeLookups(file, basePath string, lookups []lookup) error {
	var b []byte
	for _, lk := range lookups {
		b = append(b, basePath...)
		b = append(b, lookupTarget(lk.name)...)
		b = append(b, '\t')
		b = append(b, lk.want...)
		b = append(b, '\n')
	}
	if err := os.WriteFile(file, b, 0o644); err != nil {
		return fmt.Errorf("--lookups-out: %w", err)
	}
	return nil
}

var totalKey = []byte(`"totalResults":`)

// totalResults finds the ListResponse's totalResults without decoding it.
func totalResults(body []byte) (int, bool) {
	i := bytes.Index(body, totalKey)
	if i < 0 {
		return 0, false
	}
	rest := body[i+len(totalKey):]
	n := 0
	for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	v, err := strconv.Atoi(string(rest[:n]))
	return v, err == nil
}

// getByUserName looks a user up by userName, the IdPs' lookup before a
// create, and checks that exactly that user came back.
func (l *loader) getByUserName(w *worker, lk *lookup) error {
	w.req = append(w.req[:0], lk.req...)
	if err := w.send("lookup "+lk.name, 200, lk.want, nil); err != nil {
		return err
	}
	if n, ok := totalResults(w.conn.body); !ok || n != 1 {
		return fmt.Errorf("lookup %q: not exactly one result: %.200s", lk.name, w.conn.body)
	}
	return nil
}

const patchSchemas = `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`

// patchUser replaces the user's title and checks the new title came back.
func (l *loader) patchUser(w *worker, id string, i int64) error {
	title := "title " + strconv.FormatInt(i, 10)
	body := append([]byte(patchSchemas), `{"op":"replace","path":"title","value":"`...)
	body = append(body, title...)
	body = append(body, `"}]}`...)
	w.req = l.request(w.req[:0], "PATCH", "/Users/"+id, body)
	return w.send("patch user "+id, 200, jsonMember("title", title), nil)
}

// patchMembers adds or removes one user, Okta's Group Push shape, and
// checks the member list that came back has (or lacks) it. A preset that
// answers group PATCHes with 204 returns no list to check.
func (l *loader) patchMembers(w *worker, groupID, userID string, add bool) error {
	body := []byte(patchSchemas)
	if add {
		body = append(body, `{"op":"add","path":"members","value":[{"value":"`...)
		body = append(body, userID...)
		body = append(body, `"}]}]}`...)
	} else {
		body = append(body, `{"op":"remove","path":"members[value eq \"`...)
		body = append(body, userID...)
		body = append(body, `\"]"}]}`...)
	}
	w.req = l.request(w.req[:0], "PATCH", "/Groups/"+groupID, body)
	status, resp, err := w.conn.roundTrip(w.req)
	switch {
	case err != nil:
		return fmt.Errorf("patch group %s: %w", groupID, err)
	case status == 204:
		return nil
	case status != 200:
		return fmt.Errorf("patch group %s: status %d: %.200s", groupID, status, resp)
	}
	has := bytes.Contains(resp, jsonMember("value", userID))
	if has != add {
		return fmt.Errorf("patch group %s: after adding=%v user %s, the member list has it: %v", groupID, add, userID, has)
	}
	return nil
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
