// Command provload measures scimbridge's provisioning pipeline end to end
// (issue 4, item 8): the real SCIM server, SQLite store, reconcile engine and
// jira client, wired as `scimbridge serve` wires them, against the Atlassian
// emulator, all in one process for repeatability but talking real HTTP over
// 127.0.0.1. Three phases:
//
//   - latency: users created one at a time; time from the SCIM 201 to the
//     emulator's 201 for the matching POST /rest/api/2/user.
//
//   - changes: Atlassian calls per change (PATCH of one attribute, identical
//     PUT, PUT with one attribute changed).
//
//   - load: an initial load pushed over SCIM against an emulator limited to
//     --rate requests/s (the jira client limited to the same); total time
//     compared with (calls needed / rate).
//
//     provload [--phases latency,changes,load] [--users 10000] [--groups 200]
//     [--memberships 50000] [--rate 1000] [--burst 10] [--latency-n 500]
//     [--change-n 100] [--clients 8] [--cpuprofile FILE]
//
// Nothing leaves 127.0.0.1; the SQLite file lives in a temporary directory
// removed at exit.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/elimity-com/scim/schema"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "provload:", err)
		os.Exit(1)
	}
}

// options are the parsed flags.
type options struct {
	phases      []string
	load        loadSpec
	rate        float64
	burst       int
	clientRate  float64 // 0 = rate
	clientBurst int     // 0 = burst
	latencyN    int
	changeN     int
	workers     int
	preset      string
	timeout     time.Duration
	cpuprofile  string
	logLevel    slog.Level
	quiet       bool
	every       time.Duration
	wallprof    time.Duration
	keep        bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("provload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	phases := fs.String("phases", "latency,changes,load", "phases to run, comma separated: latency, changes, load")
	fs.IntVar(&o.load.users, "users", 10000, "load: users pushed")
	fs.IntVar(&o.load.groups, "groups", 200, "load: groups pushed")
	fs.IntVar(&o.load.memberships, "memberships", 50000, "load: memberships, spread evenly over the groups")
	fs.IntVar(&o.load.clients, "clients", 8, "load: concurrent SCIM pushes")
	fs.BoolVar(&o.load.patch, "patch", false, "load: create groups empty and PATCH members in (default: POST /Groups with members)")
	fs.BoolVar(&o.load.pushOnly, "push-only", false, "load: stop once everything is pushed (measures the SCIM side)")
	fs.IntVar(&o.load.patchBatch, "patch-batch", 100, "load: members per PATCH with --patch")
	fs.Float64Var(&o.rate, "rate", 1000, "requests/s allowed by the emulator and used as the jira client's rate limit; 0 = unlimited")
	fs.IntVar(&o.burst, "burst", 10, "rate-limit bucket size of both the emulator and the jira client")
	fs.Float64Var(&o.clientRate, "client-rate", 0, "the jira client's rate limit if not --rate (experiments)")
	fs.IntVar(&o.clientBurst, "client-burst", 0, "the jira client's burst if not --burst (experiments)")
	fs.IntVar(&o.latencyN, "latency-n", 500, "latency: sequential creates")
	fs.IntVar(&o.changeN, "change-n", 100, "changes: users changed per kind of change")
	fs.IntVar(&o.workers, "workers", 0, "engine workers (0 = the engine's default)")
	fs.StringVar(&o.preset, "preset", "okta", "tenant preset")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up on a phase after this long")
	fs.DurationVar(&o.wallprof, "wallprofile", 0, "load: sample the engine workers' stacks this often (e.g. 20ms) and say what they wait on")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the load phase to this file")
	logLevel := fs.String("log-level", "error", "bridge log level (debug, info, warn, error) to stderr")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines")
	fs.DurationVar(&o.every, "progress", 5*time.Second, "load: how often a progress line goes to stderr")
	fs.BoolVar(&o.keep, "keep", false, "keep the SQLite files (their directory is printed) for inspection")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, p := range strings.Split(*phases, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains([]string{"latency", "changes", "load"}, p) {
			return o, fmt.Errorf("--phases: unknown phase %q (want latency, changes, load)", p)
		}
		o.phases = append(o.phases, p)
	}
	if err := o.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return o, fmt.Errorf("--log-level: %w", err)
	}
	switch {
	case o.rate < 0 || o.burst < 1:
		return o, errors.New("--rate must be 0 (unlimited) or more and --burst at least 1")
	case o.clientRate < 0 || o.clientBurst < 0:
		return o, errors.New("--client-rate and --client-burst must not be negative")
	case o.latencyN < 1 || o.changeN < 1:
		return o, errors.New("--latency-n and --change-n must be at least 1")
	case o.workers < 0:
		return o, errors.New("--workers must be 0 or more")
	}
	if slices.Contains(o.phases, "load") {
		if err := o.load.check(); err != nil {
			return o, err
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	// As `scimbridge run` does: Entra sends booleans as strings.
	schema.SetAllowStringValues(true)
	dir, err := os.MkdirTemp("", "provload-")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(stderr, "provload: keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: o.logLevel}))
	var progress io.Writer = stderr
	if o.quiet {
		progress = nil
	}

	fmt.Fprintf(stdout, "provload: GOMAXPROCS %d, %s, load average %s; emulator rate %s/s burst %d; jira client rate %s/s burst %d\n",
		runtime.GOMAXPROCS(0), runtime.Version(), loadAvg(), rateString(o.rate), o.burst,
		rateString(cmp.Or(o.clientRate, o.rate)), cmp.Or(o.clientBurst, o.burst))
	want := func(p string) bool { return slices.Contains(o.phases, p) }

	if want("latency") || want("changes") {
		if err := runLightPhases(ctx, o, dir, log, stdout, want); err != nil {
			return err
		}
	}
	if want("load") {
		if err := runLoadPhase(ctx, o, dir, log, stdout, progress); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "\nload average at the end: %s\n", loadAvg())
	return nil
}

// phaseEnv starts a fresh bridge and emulator with o's limits, its database
// in a new directory under dir named after prefix.
func phaseEnv(ctx context.Context, o options, dir, prefix string, log *slog.Logger) (*env, error) {
	sub, err := os.MkdirTemp(dir, prefix)
	if err != nil {
		return nil, err
	}
	return newEnv(ctx, envOptions{dir: sub, rate: o.rate, burst: o.burst,
		clientRate: o.clientRate, clientBurst: o.clientBurst, preset: o.preset, workers: o.workers, log: log})
}

func runLightPhases(ctx context.Context, o options, dir string, log *slog.Logger, out io.Writer, want func(string) bool) error {
	e, err := phaseEnv(ctx, o, dir, "light-", log)
	if err != nil {
		return err
	}
	defer e.close()
	c := newSCIMClient(e.scimURL, e.token)

	n := o.latencyN
	if !want("latency") {
		n = o.changeN
	}
	lat, err := measureLatency(ctx, e, c, n, o.timeout)
	if err != nil {
		return err
	}
	if want("latency") {
		fmt.Fprintf(out, "\nlatency, %d sequential creates (load average %s)\n", lat.n, loadAvg())
		fmt.Fprintf(out, "  %-44s %8s %8s %8s %8s\n", "", "p50", "p90", "p99", "max")
		for _, r := range []struct {
			name string
			d    []time.Duration
		}{{"SCIM 201 -> user created in the emulator", lat.fromAnswer}, {"SCIM POST sent -> user created in the emulator", lat.fromSend}} {
			fmt.Fprintf(out, "  %-44s %8s %8s %8s %8s\n", r.name, msString(quantile(r.d, .5)), msString(quantile(r.d, .9)),
				msString(quantile(r.d, .99)), msString(quantile(r.d, 1)))
		}
	}
	if !want("changes") {
		return nil
	}
	ids := lat.ids[:min(o.changeN, len(lat.ids))]
	if len(ids) < o.changeN {
		more := make([]string, o.changeN-len(ids))
		for i := range more {
			if more[i], err = c.createUser(ctx, userName("chg", i)); err != nil {
				return err
			}
		}
		ids = append(ids, more...)
	}
	changes, err := measureChanges(ctx, e, c, ids, o.timeout)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\nAtlassian calls per change (%d users each, load average %s)\n", len(ids), loadAvg())
	for _, ch := range changes {
		fmt.Fprintf(out, "  %-44s %6d calls = %.2f per change  [%s]\n", ch.what, ch.calls.total(),
			float64(ch.calls.total())/float64(ch.n), strings.Join(ch.calls.rows(), ", "))
	}
	return nil
}

func runLoadPhase(ctx context.Context, o options, dir string, log *slog.Logger, out, progress io.Writer) error {
	e, err := phaseEnv(ctx, o, dir, "load-", log)
	if err != nil {
		return err
	}
	defer e.close()
	c := newSCIMClient(e.scimURL, e.token)
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	la := loadAvg()
	s := o.load
	mode := "POST /Groups with members"
	if s.patch {
		mode = fmt.Sprintf("POST /Groups, then PATCH add %d members at a time", s.patchBatch)
	}
	fmt.Fprintf(out, "\ninitial load: %d users, %d groups, %d memberships (%s, %d SCIM clients), load average %s\n",
		s.users, s.groups, s.memberships, mode, s.clients, la)
	var wall *wallProfile
	wallDone := make(chan struct{})
	wallCtx, stopWall := context.WithCancel(ctx)
	go func() {
		defer close(wallDone)
		if o.wallprof > 0 {
			wall = sampleWall(wallCtx, o.wallprof)
		}
	}()
	res, err := measureLoad(ctx, e, c, s, progress, o.every, o.timeout)
	stopWall()
	<-wallDone
	if err != nil {
		return err
	}
	if s.pushOnly {
		fmt.Fprintf(out, "  pushed: users after %s, groups after %s; CPU %s; %d emulator calls meanwhile\n",
			secString(res.usersPushed), secString(res.groupsPushed), secString(res.cpu), res.calls.total())
		return nil
	}
	needed := s.users + s.groups + s.memberships
	fmt.Fprintf(out, "  pushed: users after %s, groups after %s\n", secString(res.usersPushed), secString(res.groupsPushed))
	fmt.Fprintf(out, "  applied: last emulator write %s after the first push (verified after %s)\n", secString(res.total), secString(res.wall))
	if o.rate > 0 {
		ideal := time.Duration(float64(needed) / o.rate * float64(time.Second))
		fmt.Fprintf(out, "  calls needed %d, / %s per s = %s; ratio %.3f (target <= 1.2)\n", needed, rateString(o.rate),
			secString(ideal), res.total.Seconds()/ideal.Seconds())
	}
	fmt.Fprintf(out, "  calls made %d (2xx %d, 429 %d, other %d): %s\n", res.calls.total(), res.calls.count("2xx"),
		res.calls.count("429"), res.calls.count("other"), strings.Join(res.calls.rows(), ", "))
	fmt.Fprintf(out, "  engine store writes: %s\n", res.writes)
	fmt.Fprintf(out, "  emulator idle (no call for > %s): %d times, %s in all\n", idleGap, res.idleGaps, secString(res.idle))
	fmt.Fprintf(out, "  CPU %s for %s wall = %.2f cores; calls ok per s %.0f; load average now %s\n", secString(res.cpu),
		secString(res.wall), res.cpu.Seconds()/res.wall.Seconds(), float64(res.calls.count("2xx"))/res.total.Seconds(), loadAvg())
	if wall != nil {
		wall.report(out, cmp.Or(o.workers, 16))
	}
	if reqs := len(e.emu.Requests()); reqs < 100_000 {
		fmt.Fprintf(out, "  (emulator request log: %d requests, meter: %d)\n", reqs, res.calls.total())
	}
	return nil
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func rateString(r float64) string {
	if r <= 0 {
		return "unlimited"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func msString(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + "ms"
}

func secString(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + "s"
}

func itoa(n int) string { return strconv.Itoa(n) }
