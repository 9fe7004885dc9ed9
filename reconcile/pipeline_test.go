package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/atlassian/jira"
	"github.com/scimbridge/scimbridge/presets"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
	"github.com/scimbridge/scimbridge/transform"
)

// countingStore is the real SQLite store, counting the engine's writes (and
// failing SettleJobs on demand).
type countingStore struct {
	*sqlite.DB
	mu         sync.Mutex
	calls      map[string]int
	settled    int   // outcomes passed to SettleJobs that succeeded
	due        []int // sizes of DueJobs answers
	failSettle int   // fail this many SettleJobs calls
}

func (c *countingStore) count(name string) {
	c.mu.Lock()
	c.calls[name]++
	c.mu.Unlock()
}

func (c *countingStore) n(name string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[name]
}

func (c *countingStore) SettleJobs(ctx context.Context, outs []store.JobOutcome) error {
	c.mu.Lock()
	c.calls["SettleJobs"]++
	fail := c.failSettle > 0
	if fail {
		c.failSettle--
	}
	c.mu.Unlock()
	if fail {
		return errors.New("disk full")
	}
	err := c.DB.SettleJobs(ctx, outs)
	if err == nil {
		c.mu.Lock()
		c.settled += len(outs)
		c.mu.Unlock()
	}
	return err
}

func (c *countingStore) DueJobs(ctx context.Context, now time.Time, limit int) ([]store.Job, error) {
	js, err := c.DB.DueJobs(ctx, now, limit)
	c.mu.Lock()
	c.calls["DueJobs"]++
	c.due = append(c.due, len(js))
	c.mu.Unlock()
	return js, err
}

func (c *countingStore) PutLink(ctx context.Context, l store.Link) error {
	c.count("PutLink")
	return c.DB.PutLink(ctx, l)
}

func (c *countingStore) CompleteJob(ctx context.Context, j store.Job) error {
	c.count("CompleteJob")
	return c.DB.CompleteJob(ctx, j)
}

func (c *countingStore) CreateRun(ctx context.Context, r store.Run) (store.Run, error) {
	c.count("CreateRun")
	return c.DB.CreateRun(ctx, r)
}

func (c *countingStore) UpdateRun(ctx context.Context, r store.Run) error {
	c.count("UpdateRun")
	return c.DB.UpdateRun(ctx, r)
}

// pipeline is an engine over a counting SQLite store, with an emulator
// target (unless noTarget), for the push pipeline's tests.
type pipeline struct {
	st  *countingStore
	emu *atlassiantest.Emulator
	eng *reconcile.Engine
}

type pipelineOptions struct {
	workers  int
	debounce time.Duration
	noTarget bool
	spec     transform.Spec
}

func newPipeline(t *testing.T, o pipelineOptions) *pipeline {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "pipeline.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	p := &pipeline{st: &countingStore{DB: db, calls: map[string]int{}}}
	pre, err := presets.Get("okta")
	if err != nil {
		t.Fatal(err)
	}
	mapping, err := transform.Compile(transform.Merge(pre.Spec(), o.spec))
	if err != nil {
		t.Fatal(err)
	}
	tenant := reconcile.Tenant{Name: "okta", Mapping: mapping}
	var targets []reconcile.Target
	if !o.noTarget {
		p.emu = atlassiantest.New(atlassiantest.Options{Token: "pat"})
		srv := httptest.NewServer(p.emu)
		t.Cleanup(srv.Close)
		client, err := jira.New(jira.Options{TransportOptions: atlassian.TransportOptions{
			BaseURL: srv.URL, Auth: atlassian.BearerToken("pat"), Timeout: 10 * time.Second, MaxRetries: -1,
		}})
		if err != nil {
			t.Fatal(err)
		}
		targets = []reconcile.Target{{Name: "jira", Dir: client, ApplicationKeys: []string{"jira-software"}}}
		tenant.Targets = []string{"jira"}
	}
	p.eng, err = reconcile.New(p.st, []reconcile.Tenant{tenant}, targets,
		reconcile.Options{Workers: o.workers, Debounce: o.debounce, Poll: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *pipeline) createUsers(t *testing.T, prefix string, n int, notify bool) []store.User {
	t.Helper()
	var out []store.User
	for i := range n {
		name := fmt.Sprintf("%s%03d@example.com", prefix, i)
		u, err := p.st.CreateUser(context.Background(), store.User{Tenant: "okta", UserName: name, Active: true,
			Attributes: map[string]any{"displayName": fmt.Sprintf("User %d", i),
				"emails": []any{map[string]any{"value": name, "primary": true}}}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, u)
		if notify {
			p.eng.Notify()
		}
	}
	return out
}

func (p *pipeline) pending(t *testing.T) int {
	t.Helper()
	s, err := p.st.JobStats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s.Pending + s.Parked
}

// Workers adding members to a group that does not exist yet create it once:
// no 404+400 pair per racing worker.
func TestNewGroupIsCreatedOnceByRacingWorkers(t *testing.T) {
	p := newPipeline(t, pipelineOptions{workers: 8, spec: transform.Spec{Groups: transform.Groups{Default: []string{"brand-new"}}}})
	const n = 40
	p.createUsers(t, "u", n, false)
	if _, err := p.eng.Drain(t.Context(), t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range p.emu.Requests() {
		if r.Method == http.MethodPost {
			count[fmt.Sprintf("%s %d", r.Path, r.Status)]++
		}
	}
	want := map[string]int{"/rest/api/2/user 201": n, "/rest/api/2/group 201": 1, "/rest/api/2/group/user 201": n,
		"/rest/api/2/group/user 404": 1}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("POSTs by path and status = %v, want %v", count, want)
	}
	members := 0
	for _, g := range p.emu.State().Groups {
		if g.Name == "brand-new" {
			members = len(g.Members)
		}
	}
	if members != n || p.pending(t) != 0 {
		t.Errorf("brand-new has %d members, %d jobs left; want %d and 0", members, p.pending(t), n)
	}

	// Known to exist now: a later member is added with one call.
	p.emu.ResetRequests()
	p.createUsers(t, "late", 1, false)
	if _, err := p.eng.Drain(t.Context(), t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	var calls []string
	for _, r := range p.emu.Requests() {
		calls = append(calls, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
	}
	if want := []string{"POST /rest/api/2/user 201", "POST /rest/api/2/group/user 201"}; fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Errorf("calls for a user of a known group = %q, want %q", calls, want)
	}

	// The IdP pushes the group itself afterwards: the user jobs created it
	// already, so its own job makes no call (no create answered 400).
	p.emu.ResetRequests()
	if _, err := p.st.CreateGroup(t.Context(), store.Group{Tenant: "okta", DisplayName: "brand-new"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.eng.Drain(t.Context(), t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	for _, r := range p.emu.Requests() {
		if r.Method == http.MethodPost && r.Path == "/rest/api/2/group" {
			t.Errorf("the group's own job created it again: %s %s %d", r.Method, r.Path, r.Status)
		}
	}
}

// A job's link is saved with its completion, a pass's jobs are settled in
// batched writes, and the pass's run is written once, closed.
func TestPassSettlesJobsWithTheirLinksInBatches(t *testing.T) {
	p := newPipeline(t, pipelineOptions{workers: 4})
	const n = 30
	users := p.createUsers(t, "u", n, false)
	run, err := p.eng.Drain(t.Context(), t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if run.ID == 0 || run.Status != "succeeded" || run.Counts["created"] != n {
		t.Fatalf("run = %+v, want succeeded with %d created", run, n)
	}
	if p.pending(t) != 0 {
		t.Fatalf("%d jobs left", p.pending(t))
	}
	for _, u := range users {
		l, err := p.st.GetLink(t.Context(), "jira", "okta", u.ID)
		if err != nil || l.State != store.LinkActive || l.AppliedName != u.UserName || l.Key == "" {
			t.Fatalf("link of %s = %+v, %v", u.UserName, l, err)
		}
	}
	if got := p.st.n("PutLink") + p.st.n("CompleteJob"); got != 0 {
		t.Errorf("%d separate PutLink/CompleteJob writes, want 0 (the link goes with the job's settlement)", got)
	}
	if c := p.st.n("SettleJobs"); c < 1 || c > n || p.st.settled != n {
		t.Errorf("SettleJobs called %d times for %d outcomes, want 1..%d calls for %d", c, p.st.settled, n, n)
	}
	if c, u := p.st.n("CreateRun"), p.st.n("UpdateRun"); c != 1 || u != 0 {
		t.Errorf("run writes: %d CreateRun, %d UpdateRun; want the run written once, closed", c, u)
	}
	stored, err := p.st.GetRun(t.Context(), run.ID)
	if err != nil || stored.Status != "succeeded" || stored.FinishedAt == nil || stored.Counts["created"] != n {
		t.Errorf("stored run = %+v, %v", stored, err)
	}
	results, err := p.st.ListResults(t.Context(), run.ID, store.ResultQuery{All: true})
	if err != nil || len(results) != n {
		t.Errorf("results of the run: %d, %v; want %d", len(results), err, n)
	}
}

// Jobs that change nothing in any target (here: no target at all) are
// settled in a few batched writes, and leave no run behind.
func TestPassThatRecordsNothingWritesNoRun(t *testing.T) {
	p := newPipeline(t, pipelineOptions{workers: 16, noTarget: true})
	const n = 200
	p.createUsers(t, "u", n, false)
	run, err := p.eng.Drain(t.Context(), t.Context(), "test")
	if err != nil || run.ID != 0 {
		t.Fatalf("Drain = %+v, %v; want no run", run, err)
	}
	if p.pending(t) != 0 || p.st.settled != n {
		t.Fatalf("%d jobs left, %d settled; want 0 and %d", p.pending(t), p.st.settled, n)
	}
	if c := p.st.n("CreateRun") + p.st.n("UpdateRun"); c != 0 {
		t.Errorf("%d run writes for a pass that recorded nothing", c)
	}
	runs, err := p.st.ListRuns(t.Context(), 10)
	if err != nil || len(runs) != 0 {
		t.Errorf("runs = %+v, %v; want none", runs, err)
	}
	// Batched: whatever finished while a write committed goes into the
	// next one. One write per job would be n.
	if c := p.st.n("SettleJobs"); c >= n/2 {
		t.Errorf("%d SettleJobs writes for %d jobs, want batches", c, n)
	}
}

// A settlement that cannot be written leaves the job due and its link
// unsaved; the next pass applies it again (adopting the account it
// created) and no name lock is left held.
func TestFailedSettlementLeavesJobDue(t *testing.T) {
	p := newPipeline(t, pipelineOptions{workers: 2})
	p.st.failSettle = 1
	users := p.createUsers(t, "u", 1, false)
	if _, err := p.eng.Drain(t.Context(), t.Context(), "test"); err != nil {
		t.Fatal(err)
	}
	if p.pending(t) != 1 {
		t.Fatalf("%d jobs pending after a failed settlement, want 1", p.pending(t))
	}
	if _, err := p.st.GetLink(t.Context(), "jira", "okta", users[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("link after a failed settlement: %v, want none", err)
	}
	run, err := p.eng.Drain(t.Context(), t.Context(), "test")
	if err != nil {
		t.Fatal(err)
	}
	if run.Counts["adopted"] != 1 || p.pending(t) != 0 {
		t.Fatalf("second pass = %+v, %d jobs left; want the account adopted", run, p.pending(t))
	}
	if l, err := p.st.GetLink(t.Context(), "jira", "okta", users[0].ID); err != nil || l.State != store.LinkActive {
		t.Fatalf("link = %+v, %v", l, err)
	}
	accounts := 0
	for _, u := range p.emu.State().Users {
		if u.Name == users[0].UserName {
			accounts++
		}
	}
	if accounts != 1 {
		t.Errorf("%d accounts for %s, want 1", accounts, users[0].UserName)
	}
}

// The writes of a burst that arrive within the debounce delay are applied
// in one pass: its first read of the outbox finds them all.
func TestNotifyBurstIsOnePass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := newPipeline(t, pipelineOptions{workers: 4, noTarget: true, debounce: 20 * time.Millisecond})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = p.eng.Run(ctx)
		}()
		synctest.Wait() // Run's first pass (its timer starts at 0) found nothing
		before := p.st.n("DueJobs")
		p.createUsers(t, "u", 50, true)
		time.Sleep(19 * time.Millisecond)
		synctest.Wait()
		if got := p.st.n("DueJobs"); got != before {
			t.Errorf("the outbox was read %d times within the debounce delay", got-before)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		p.st.mu.Lock()
		due := p.st.due[before:]
		p.st.mu.Unlock()
		if len(due) == 0 || due[0] != 50 || p.pending(t) != 0 {
			t.Errorf("after the delay: reads of due jobs found %v, %d jobs left; want the first to find all 50, none left", due, p.pending(t))
		}
		cancel()
		<-done
		p.st.Close()
	})
}
