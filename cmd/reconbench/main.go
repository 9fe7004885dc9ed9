// Command reconbench measures one full reconcile (reconcile.Engine.Reconcile)
// of a large directory that is already in step: it stores the users and
// groups straight into a fresh SQLite store (store/sqlite, no HTTP), seeds
// an Atlassian emulator with the same accounts and memberships, and times
// each run against the emulator over loopback HTTP without latency. It
// reports wall and CPU time, peak resident memory (VmHWM, reset before each
// run) and peak Go heap, and the Atlassian calls by kind, so that their
// growth with users / page size is visible. Figures go to BENCHMARKS.md.
//
//	reconbench [--users 100000] [--groups 2000] [--groups-per-user 2] [--page 0]
//	           [--jira-version 9.12.0] [--runs 2] [--dir DIR]
//	           [--cpuprofile FILE] [--memprofile FILE] [--profile-run N] [--in-process-emulator]
//
// The emulator runs as a child process (this same binary with
// --serve-emulator) so that its memory does not count in the figures;
// --in-process-emulator serves it from this process instead. Everything
// listens on 127.0.0.1 only.
package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/atlassian/jira"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "reconbench:", err)
		os.Exit(1)
	}
}

// benchToken is the emulator's personal access token; both ends are ours.
const benchToken = "reconbench-pat"

// options are the command line.
type options struct {
	d           dataset
	page        int
	jiraVersion string
	runs        int
	dir         string
	cpuProfile  string
	memProfile  string
	inProcess   bool
	serveEmu    bool
	seedWorkers int
	profileRun  int
}

func parse(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("reconbench", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&o.d.users, "users", 100_000, "users in the IdP and in Jira")
	fs.IntVar(&o.d.groups, "groups", 2_000, "IdP groups (jira-team-NNNN), each an Atlassian group")
	fs.IntVar(&o.d.perUser, "groups-per-user", 2, "groups each user is a member of (besides "+defaultGroup+")")
	fs.IntVar(&o.page, "page", 0, "page size of /user/search and /group/member (0: the client's default)")
	fs.StringVar(&o.jiraVersion, "jira-version", "9.12.0", "emulated Jira version (10.3+ has the /user/list stream)")
	fs.IntVar(&o.runs, "runs", 2, "full reconciles to time; the first adopts the accounts and writes the links")
	fs.StringVar(&o.dir, "dir", "", "directory for the SQLite file (default: a temporary directory, removed)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the timed runs to this file")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile taken near the last run's peak heap (inuse_space; alloc_space covers the whole process)")
	fs.BoolVar(&o.inProcess, "in-process-emulator", false, "serve the emulator from this process (its memory then counts)")
	fs.BoolVar(&o.serveEmu, "serve-emulator", false, "internal: be the emulator process of a benchmark")
	fs.IntVar(&o.seedWorkers, "seed-workers", 16, "concurrent writers while seeding the store")
	fs.IntVar(&o.profileRun, "profile-run", 0, "profile only this run (1-based; 0: the CPU profile covers every run, the heap profile the last)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := o.d.validate(); err != nil {
		return o, err
	}
	if o.runs < 1 || o.page < 0 || o.seedWorkers < 1 || o.profileRun < 0 || o.profileRun > o.runs {
		return o, errors.New("--runs and --seed-workers must be at least 1, --page at least 0, --profile-run between 0 and --runs")
	}
	return o, nil
}

func run(ctx context.Context, args []string, out io.Writer) error {
	o, err := parse(args, out)
	if err != nil {
		return err
	}
	if o.serveEmu {
		return serveEmulatorProcess(ctx, o, out)
	}

	dir := o.dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "reconbench-"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	dbPath := filepath.Join(dir, "reconbench.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(dbPath + suffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	fmt.Fprintf(out, "dataset: %d users, %d groups, %d groups per user (+%s), Jira %s, page size %s, GOMAXPROCS %d, %s\n",
		o.d.users, o.d.groups, o.d.perUser, defaultGroup, o.jiraVersion, pageLabel(o.page), runtime.GOMAXPROCS(0), runtime.Version())

	// The emulator seeds itself while the store is written.
	type emuResult struct {
		url  string
		stop func() error
		took time.Duration
		err  error
	}
	emuc := make(chan emuResult, 1)
	go func() {
		start := time.Now()
		var r emuResult
		if o.inProcess {
			r.url, r.stop, r.err = serveEmulator(ctx, o)
		} else {
			r.url, r.stop, r.err = startEmulatorProcess(ctx, o)
		}
		r.took = time.Since(start)
		emuc <- r
	}()

	// With --dir, a pristine copy of the seeded store is kept and reused:
	// seeding 100,000 users and 2,000 groups takes a long while.
	seedCopy := filepath.Join(dir, fmt.Sprintf("seeded-%d-%d-%d.db", o.d.users, o.d.groups, o.d.perUser))
	reused := false
	if o.dir != "" {
		if err := copyFile(seedCopy, dbPath); err == nil {
			reused = true
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	st, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		return err
	}
	defer func() { st.Close() }()
	start := time.Now()
	var seedErr error
	if !reused {
		seedErr = o.d.seedStore(ctx, st, "okta", o.seedWorkers)
		if seedErr == nil && o.dir != "" {
			if err := st.Close(); err != nil {
				return err
			}
			// The WAL may outlive Close, so the file alone is not the
			// database: SQLite writes a whole copy.
			if err := vacuumInto(ctx, dbPath, seedCopy); err != nil {
				return err
			}
			if st, err = sqlite.Open(ctx, dbPath, sqlite.Options{}); err != nil {
				return err
			}
		}
	}
	storeTook := time.Since(start)
	emu := <-emuc
	if emu.err != nil {
		return fmt.Errorf("emulator: %w", emu.err)
	}
	defer func() {
		if err := emu.stop(); err != nil {
			fmt.Fprintln(out, "stop emulator:", err)
		}
	}()
	if seedErr != nil {
		return fmt.Errorf("seed store: %w", seedErr)
	}
	storeHow := "written through store/sqlite"
	if reused {
		storeHow = "copied from " + seedCopy
	}
	fmt.Fprintf(out, "seeded: store %.1f s (%d users, %d groups, %s), emulator %.1f s (%s)\n",
		storeTook.Seconds(), o.d.users, o.d.groups, storeHow, emu.took.Seconds(), map[bool]string{true: "in process", false: "own process"}[o.inProcess])

	client, err := jira.New(jira.Options{
		TransportOptions: atlassian.TransportOptions{BaseURL: emu.url, Auth: atlassian.BearerToken(benchToken), Timeout: time.Minute},
		PageSize:         o.page,
	})
	if err != nil {
		return err
	}
	t, err := tenant("okta")
	if err != nil {
		return err
	}
	eng, err := reconcile.New(st, []reconcile.Tenant{t},
		[]reconcile.Target{{Name: "jira", Dir: client, ApplicationKeys: []string{"jira-software"}}},
		reconcile.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}

	var cpuFile *os.File
	if o.cpuProfile != "" {
		if cpuFile, err = os.Create(o.cpuProfile); err != nil {
			return err
		}
		defer cpuFile.Close()
	}
	profiling := false
	defer func() {
		if profiling {
			pprof.StopCPUProfile()
		}
	}()
	hc := &http.Client{Timeout: time.Minute}
	for i := 1; i <= o.runs; i++ {
		profiled := o.profileRun == 0 || o.profileRun == i
		if cpuFile != nil && profiled && !profiling {
			if err := pprof.StartCPUProfile(cpuFile); err != nil {
				return err
			}
			profiling = true
		}
		var heapProfile *bytes.Buffer
		if o.memProfile != "" && profiled {
			heapProfile = &bytes.Buffer{}
		}
		fig, err := measure(ctx, eng, hc, emu.url, heapProfile)
		if profiling && o.profileRun == i {
			pprof.StopCPUProfile()
			profiling = false
		}
		if err != nil {
			return fmt.Errorf("run %d: %w", i, err)
		}
		if heapProfile != nil && heapProfile.Len() > 0 {
			if err := os.WriteFile(o.memProfile, heapProfile.Bytes(), 0o644); err != nil {
				return err
			}
		}
		label := "steady state"
		if i == 1 {
			label = "first: adopts accounts, writes links"
		}
		fig.print(out, i, label)
	}
	return nil
}

// vacuumInto writes a self-contained copy of the SQLite database at src
// (its WAL included) to dst.
func vacuumInto(ctx context.Context, src, dst string) error {
	db, err := sql.Open("sqlite3", (&url.URL{Scheme: "file", Path: src}).String())
	if err != nil {
		return err
	}
	defer db.Close()
	tmp := dst + ".tmp"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?1", tmp); err != nil {
		return fmt.Errorf("copy the seeded store: %w", err)
	}
	return os.Rename(tmp, dst)
}

// copyFile copies src to dst through a temporary file renamed into place.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

func pageLabel(p int) string {
	if p == 0 {
		return "default"
	}
	return strconv.Itoa(p)
}

// figures are the measurements of one run.
type figures struct {
	status   string
	errText  string
	counts   map[string]int
	wall     time.Duration
	cpu      time.Duration
	peakRSS  int64 // bytes, VmHWM after a reset; -1 if unknown
	hwmReset bool
	peakHeap uint64 // sampled heap in use (objects), bytes
	alloc    uint64
	gcs      uint32
	calls    map[string]int
}

func measure(ctx context.Context, eng *reconcile.Engine, hc *http.Client, emuURL string, heapProfile *bytes.Buffer) (figures, error) {
	var f figures
	if err := emuCall(ctx, hc, http.MethodDelete, emuURL+"/_emulator/requests", nil); err != nil {
		return f, err
	}
	runtime.GC()
	// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+),
	// so the peak is this run's.
	f.hwmReset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	stopSampler := sampleHeap(&f.peakHeap, heapProfile)
	start := time.Now()
	r, err := eng.Reconcile(ctx, reconcile.RunOptions{Trigger: "manual"})
	f.wall = time.Since(start)
	stopSampler()
	f.cpu = cpuTime() - cpu0
	if err != nil {
		return f, err
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	f.alloc, f.gcs = after.TotalAlloc-before.TotalAlloc, after.NumGC-before.NumGC
	f.peakRSS = vmHWM()
	f.status, f.errText, f.counts = r.Status, r.Error, r.Counts
	var recs []atlassiantest.RequestRecord
	if err := emuCall(ctx, hc, http.MethodGet, emuURL+"/_emulator/requests", &recs); err != nil {
		return f, err
	}
	f.calls = map[string]int{}
	for _, rec := range recs {
		f.calls[rec.Method+" "+rec.Path]++
	}
	return f, nil
}

func (f figures) print(out io.Writer, i int, label string) {
	rss := "unknown"
	if f.peakRSS >= 0 {
		rss = fmt.Sprintf("%.0f MiB", float64(f.peakRSS)/(1<<20))
		if !f.hwmReset {
			rss += " (since process start: clear_refs failed)"
		}
	}
	fmt.Fprintf(out, "run %d (%s): %s in %.2f s wall, %.2f s CPU; peak RSS %s (VmHWM), peak heap %.0f MiB; allocated %.0f MiB in this run, %d GCs\n",
		i, label, f.status, f.wall.Seconds(), f.cpu.Seconds(), rss, float64(f.peakHeap)/(1<<20), float64(f.alloc)/(1<<20), f.gcs)
	if f.errText != "" {
		fmt.Fprintf(out, "  error: %s\n", f.errText)
	}
	fmt.Fprintf(out, "  counts: %v\n", f.counts)
	total, writes := 0, 0
	kinds := make([]string, 0, len(f.calls))
	for k, n := range f.calls {
		kinds = append(kinds, k)
		total += n
		if !strings.HasPrefix(k, "GET ") {
			writes += n
		}
	}
	slices.Sort(kinds)
	fmt.Fprintf(out, "  Atlassian calls: %d (%d writes)\n", total, writes)
	for _, k := range kinds {
		fmt.Fprintf(out, "    %-40s %7d\n", k, f.calls[k])
	}
}

func emuCall(ctx context.Context, hc *http.Client, method, url string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("emulator %s %s: %w", method, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("emulator %s %s: status %d: %s", method, url, resp.StatusCode, b)
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

// serveEmulator seeds an emulator and serves it from this process on a
// loopback port until ctx ends (or stop is called).
func serveEmulator(ctx context.Context, o options) (string, func() error, error) {
	emu := atlassiantest.New(atlassiantest.Options{Token: benchToken, JiraVersion: o.jiraVersion})
	if err := o.d.seedEmulator(emu); err != nil {
		return "", nil, err
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		return srv.Shutdown(sctx)
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// emulatorLine is what the emulator process prints once it serves.
const emulatorLine = "reconbench emulator listening on "

// serveEmulatorProcess is the child: seed, serve, print the URL, and stop
// when told (SIGTERM) or when the parent goes away (stdin closes).
func serveEmulatorProcess(ctx context.Context, o options, out io.Writer) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	url, stop, err := serveEmulator(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, emulatorLine+url)
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()
	<-ctx.Done()
	return stop()
}

// startEmulatorProcess runs this binary with --serve-emulator and waits
// for its URL.
func startEmulatorProcess(ctx context.Context, o options) (string, func() error, error) {
	self, err := os.Executable()
	if err != nil {
		return "", nil, err
	}
	cmd := exec.Command(self, "--serve-emulator", "--users", strconv.Itoa(o.d.users), "--groups", strconv.Itoa(o.d.groups),
		"--groups-per-user", strconv.Itoa(o.d.perUser), "--jira-version", o.jiraVersion)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop := func() error {
		_ = stdin.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		return cmd.Wait()
	}
	urlc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), emulatorLine); ok {
				urlc <- u
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		close(urlc)
	}()
	select {
	case u, ok := <-urlc:
		if !ok {
			return "", nil, fmt.Errorf("emulator process exited before serving: %v", stop())
		}
		return u, stop, nil
	case <-ctx.Done():
		_ = stop()
		return "", nil, ctx.Err()
	}
}
