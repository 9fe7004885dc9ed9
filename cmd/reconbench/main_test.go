package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/atlassian/jira"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

func TestDatasetGroupsAreDistinctAndBalanced(t *testing.T) {
	d := dataset{users: 1000, groups: 40, perUser: 3}
	sizes := make([]int, d.groups)
	for i := range d.users {
		gs := d.groupsOf(i)
		if len(gs) != d.perUser {
			t.Fatalf("user %d has %d groups, want %d", i, len(gs), d.perUser)
		}
		seen := map[int]bool{}
		for _, g := range gs {
			if g < 0 || g >= d.groups || seen[g] {
				t.Fatalf("user %d: groups %v: out of range or repeated", i, gs)
			}
			seen[g] = true
			sizes[g]++
		}
	}
	for g, n := range sizes {
		if n != d.users*d.perUser/d.groups {
			t.Errorf("group %d has %d members, want %d", g, n, d.users*d.perUser/d.groups)
		}
	}
	if userName(9) >= userName(10) || userName(99_999) >= userName(100_000) {
		t.Error("usernames do not sort in index order (the emulator would insert instead of append)")
	}
}

func TestParseRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--users", "0"},
		{"--groups", "0"},
		{"--groups", "2", "--groups-per-user", "3"},
		{"--runs", "0"},
		{"--page", "-1"},
		{"--seed-workers", "0"},
		{"--profile-run", "3"}, // more than --runs (2)
		{"--profile-run", "-1"},
		{"extra"},
		{"--nosuch"},
	} {
		if _, err := parse(args, &bytes.Buffer{}); err == nil {
			t.Errorf("parse(%q) accepted", args)
		}
	}
	o, err := parse(nil, &bytes.Buffer{})
	if err != nil || o.d != (dataset{users: 100_000, groups: 2_000, perUser: 2}) || o.runs != 2 {
		t.Errorf("defaults = %+v, %v", o, err)
	}
}

func TestParseStatusKB(t *testing.T) {
	status := []byte("Name:\treconbench\nVmPeak:\t  900 kB\nVmHWM:\t   2048 kB\nVmRSS:\t1024 kB\nBad:\t12 MB\n")
	for key, want := range map[string]int64{"VmHWM:": 2048 << 10, "VmRSS:": 1024 << 10, "Bad:": -1, "Nope:": -1} {
		if got := parseStatusKB(status, key); got != want {
			t.Errorf("%s = %d, want %d", key, got, want)
		}
	}
}

// The whole tool at a small size, with the emulator in process: every run
// succeeds, finds everything unchanged and writes nothing to Atlassian.
func TestRunSmall(t *testing.T) {
	var out bytes.Buffer
	dir := t.TempDir()
	args := []string{"--users", "300", "--groups", "12", "--groups-per-user", "2", "--runs", "2",
		"--in-process-emulator", "--page", "25", "--dir", dir}
	if err := run(t.Context(), args, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	// A second invocation on the same --dir starts from the kept copy of
	// the seeded store, which must be whole: every user still unchanged.
	var again bytes.Buffer
	if err := run(t.Context(), append(args, "--runs", "1"), &again); err != nil {
		t.Fatalf("second run: %v\n%s", err, again.String())
	}
	if !strings.Contains(again.String(), "copied from") || !strings.Contains(again.String(), "counts: map[unchanged:300]") {
		t.Errorf("reusing the seeded copy:\n%s", again.String())
	}
	for _, want := range []string{
		"dataset: 300 users, 12 groups",
		"run 1 (first: adopts accounts, writes links): succeeded",
		"run 2 (steady state): succeeded",
		"counts: map[unchanged:300]",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// With page 25: 300 users are 12 search pages plus the empty one; each
	// of the 12 groups of 50 members is 2 member pages, the default group
	// 12, and the empty jira-administrators (always read: administrators
	// are exempt from inactivity) 1.
	calls := regexp.MustCompile(`Atlassian calls: (\d+) \((\d+) writes\)`).FindAllStringSubmatch(text, -1)
	if len(calls) != 2 {
		t.Fatalf("want two call summaries:\n%s", text)
	}
	for _, c := range calls {
		if c[2] != "0" {
			t.Errorf("a reconcile of an in-step directory wrote %s times:\n%s", c[2], text)
		}
	}
	for _, want := range []string{
		"GET /rest/api/2/user/search                   13",
		"GET /rest/api/2/group/member                  37",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
}

// benchEnv is a seeded store and emulator for BenchmarkReconcile.
func benchEnv(b *testing.B, d dataset) *reconcile.Engine {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := d.seedStore(ctx, st, "okta", 16); err != nil {
		b.Fatal(err)
	}
	emu := atlassiantest.New(atlassiantest.Options{Token: benchToken})
	if err := d.seedEmulator(emu); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(emu)
	b.Cleanup(srv.Close)
	client, err := jira.New(jira.Options{TransportOptions: atlassian.TransportOptions{
		BaseURL: srv.URL, Auth: atlassian.BearerToken(benchToken), Timeout: time.Minute}})
	if err != nil {
		b.Fatal(err)
	}
	tn, err := tenant("okta")
	if err != nil {
		b.Fatal(err)
	}
	eng, err := reconcile.New(st, []reconcile.Tenant{tn},
		[]reconcile.Target{{Name: "jira", Dir: client, ApplicationKeys: []string{"jira-software"}}},
		reconcile.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	// The first run adopts the accounts and writes the links; the
	// benchmark measures the steady state after it.
	if r, err := eng.Reconcile(ctx, reconcile.RunOptions{Trigger: "manual"}); err != nil || r.Status != "succeeded" {
		b.Fatalf("first reconcile: %+v, %v", r, err)
	}
	return eng
}

// BenchmarkReconcile is one full steady-state reconcile of an in-step
// directory through the in-process emulator over loopback HTTP (the
// emulator's CPU counts). cmd/reconbench runs the 100,000-user size.
func BenchmarkReconcile(b *testing.B) {
	for _, d := range []dataset{{users: 1_000, groups: 20, perUser: 2}, {users: 2_000, groups: 200, perUser: 2}} {
		b.Run(fmt.Sprintf("users=%d/groups=%d", d.users, d.groups), func(b *testing.B) {
			eng := benchEnv(b, d)
			ctx := context.Background()
			for b.Loop() {
				r, err := eng.Reconcile(ctx, reconcile.RunOptions{Trigger: "manual"})
				if err != nil || r.Status != "succeeded" || r.Counts["unchanged"] != d.users {
					b.Fatalf("reconcile: %+v, %v", r, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(d.users), "µs/user")
		})
	}
}

func TestItoaMatchesFlags(t *testing.T) {
	// startEmulatorProcess passes the dataset as flags; parse must read
	// them back to the same dataset.
	d := dataset{users: 1234, groups: 56, perUser: 3}
	o, err := parse([]string{"--serve-emulator", "--users", strconv.Itoa(d.users), "--groups", strconv.Itoa(d.groups),
		"--groups-per-user", strconv.Itoa(d.perUser), "--jira-version", "10.3.0"}, &bytes.Buffer{})
	if err != nil || o.d != d || !o.serveEmu || o.jiraVersion != "10.3.0" {
		t.Fatalf("parse = %+v, %v", o, err)
	}
}

// --profile-run N profiles run N only: the CPU and heap profiles are
// written, and both runs are still measured and in step.
func TestProfileOneRun(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	var out bytes.Buffer
	if err := run(t.Context(), []string{"--users", "200", "--groups", "8", "--runs", "2", "--in-process-emulator",
		"--cpuprofile", cpu, "--memprofile", mem, "--profile-run", "2"}, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{"run 1 (first: adopts accounts, writes links): succeeded", "run 2 (steady state): succeeded",
		"counts: map[unchanged:200]"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// A pprof file is a gzipped protocol buffer.
	if b, err := os.ReadFile(cpu); err != nil || len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Errorf("CPU profile: %d bytes, %v", len(b), err)
	}
}
