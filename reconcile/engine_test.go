package reconcile_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
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

// clock is a manual clock shared by the store, the engine and the emulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type harness struct {
	t     *testing.T
	clk   *clock
	st    *sqlite.DB
	emu   *atlassiantest.Emulator
	eng   *reconcile.Engine
	ctx   context.Context
	users map[string]string // tenant/userName -> id
}

type tenantSpec struct {
	name     string
	preset   string
	priority int
	spec     transform.Spec
	life     reconcile.Lifecycle
}

func newHarness(t *testing.T, tenants ...tenantSpec) *harness {
	t.Helper()
	return newHarnessWrapped(t, nil, tenants...)
}

// newHarnessWrapped is newHarness with the Jira client seen by the engine
// passed through wrap (fault injection at a precise call).
func newHarnessWrapped(t *testing.T, wrap func(reconcile.Directory) reconcile.Directory, tenants ...tenantSpec) *harness {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)}
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "engine.db"), sqlite.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	emu := atlassiantest.New(atlassiantest.Options{Token: "jira-pat", Now: clk.Now, Seed: 7})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	client, err := jira.New(jira.Options{TransportOptions: atlassian.TransportOptions{
		BaseURL: srv.URL, Auth: atlassian.BearerToken("jira-pat"), Timeout: 10 * time.Second,
		MaxRetries: -1, // the engine's own retry policy is under test
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(tenants) == 0 {
		tenants = []tenantSpec{{name: "okta", preset: "okta"}}
	}
	var ets []reconcile.Tenant
	for _, ts := range tenants {
		p, err := presets.Get(ts.preset)
		if err != nil {
			t.Fatal(err)
		}
		c, err := transform.Compile(transform.Merge(p.Spec(), ts.spec))
		if err != nil {
			t.Fatal(err)
		}
		ets = append(ets, reconcile.Tenant{Name: ts.name, Priority: ts.priority, Targets: []string{"jira"}, Mapping: c, Lifecycle: ts.life})
	}
	var dir reconcile.Directory = client
	if wrap != nil {
		dir = wrap(client)
	}
	eng, err := reconcile.New(st, ets, []reconcile.Target{{Name: "jira", Dir: dir, ApplicationKeys: []string{"jira-software"}}},
		reconcile.Options{Now: clk.Now, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, clk: clk, st: st, emu: emu, eng: eng, ctx: t.Context(), users: map[string]string{}}
}

// drain applies everything due, advancing the clock past retry waits, until
// the outbox has nothing pending (parked jobs stay), with a bounded number of rounds.
func (h *harness) drain() store.Run {
	h.t.Helper()
	var last store.Run
	for range 200 {
		run, err := h.eng.Drain(h.ctx, h.ctx, "test")
		if err != nil {
			h.t.Fatal(err)
		}
		if run.ID != 0 {
			last = run
		}
		stats, err := h.st.JobStats(h.ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		if stats.Pending == 0 {
			return last
		}
		h.clk.Advance(31 * time.Second)
	}
	h.t.Fatal("the outbox did not drain in 200 rounds")
	return last
}

func (h *harness) createUser(tenant, userName, display, email string, active bool, extra map[string]any) store.User {
	h.t.Helper()
	attrs := map[string]any{"displayName": display, "emails": []any{map[string]any{"value": email, "type": "work", "primary": true}}}
	for k, v := range extra {
		attrs[k] = v
	}
	u, err := h.st.CreateUser(h.ctx, store.User{Tenant: tenant, UserName: userName, Active: active, Attributes: attrs})
	if err != nil {
		h.t.Fatal(err)
	}
	h.users[tenant+"/"+userName] = u.ID
	return u
}

func (h *harness) update(tenant, id string, fn func(*store.User)) {
	h.t.Helper()
	if _, err := h.st.UpdateUser(h.ctx, tenant, id, func(u *store.User) error { fn(u); return nil }); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) jiraUser(name string) (atlassiantest.StateUser, bool) {
	for _, u := range h.emu.State().Users {
		if strings.EqualFold(u.Name, name) {
			return u, true
		}
	}
	return atlassiantest.StateUser{}, false
}

func (h *harness) mustJiraUser(name string) atlassiantest.StateUser {
	h.t.Helper()
	u, ok := h.jiraUser(name)
	if !ok {
		h.t.Fatalf("user %q is not in Jira; state: %+v", name, h.emu.State().Users)
	}
	return u
}

func (h *harness) calls() int { return len(h.emu.Requests()) }

func TestCreateUpdateRenameDeactivateReactivate(t *testing.T) {
	h := newHarness(t)
	u := h.createUser("okta", "ada@example.com", "Ada Lovelace", "ada@example.com", true, nil)
	run := h.drain()
	if run.Status != "succeeded" || run.Counts["created"] != 1 {
		t.Fatalf("run = %+v", run)
	}
	ju := h.mustJiraUser("ada@example.com")
	if ju.DisplayName != "Ada Lovelace" || ju.EmailAddress != "ada@example.com" || !ju.Active {
		t.Fatalf("jira user = %+v", ju)
	}
	key := ju.Key

	// One changed attribute: exactly one call.
	h.emu.ResetRequests()
	h.update("okta", u.ID, func(u *store.User) { u.Attributes["displayName"] = "Ada King" })
	h.drain()
	if got := h.calls(); got != 1 {
		t.Fatalf("one changed attribute made %d calls (%v), want 1", got, h.emu.Requests())
	}
	if ju := h.mustJiraUser("ada@example.com"); ju.DisplayName != "Ada King" {
		t.Fatalf("display name = %q", ju.DisplayName)
	}

	// An identical write: no job, no call.
	h.emu.ResetRequests()
	h.update("okta", u.ID, func(u *store.User) { u.Attributes["displayName"] = "Ada King" })
	h.drain()
	if got := h.calls(); got != 0 {
		t.Fatalf("an identical write made %d calls, want 0", got)
	}

	// Rename keeps the key.
	h.update("okta", u.ID, func(u *store.User) { u.UserName = "ada.king@example.com" })
	h.drain()
	if _, ok := h.jiraUser("ada@example.com"); ok {
		t.Fatal("old username still in Jira after rename")
	}
	if ju := h.mustJiraUser("ada.king@example.com"); ju.Key != key {
		t.Fatalf("rename changed the key: %q -> %q", key, ju.Key)
	}

	h.update("okta", u.ID, func(u *store.User) { u.Active = false })
	run = h.drain()
	if ju := h.mustJiraUser("ada.king@example.com"); ju.Active {
		t.Fatal("deactivation not applied")
	}
	if run.Counts["deactivated"] != 1 {
		t.Fatalf("run counts = %v", run.Counts)
	}
	h.update("okta", u.ID, func(u *store.User) { u.Active = true })
	h.drain()
	if ju := h.mustJiraUser("ada.king@example.com"); !ju.Active {
		t.Fatal("reactivation not applied")
	}

	res, err := h.st.UserHistory(h.ctx, "okta", u.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, r := range res {
		actions = append(actions, r.Action)
	}
	for _, want := range []string{"created", "updated", "renamed", "deactivated", "reactivated"} {
		if !slices.Contains(actions, want) {
			t.Errorf("history %v lacks %q", actions, want)
		}
	}
}

func TestGroupsPushMembershipAndManagedScope(t *testing.T) {
	h := newHarness(t, tenantSpec{name: "okta", preset: "okta", spec: transform.Spec{Groups: transform.Groups{
		Include: []string{"^jira-", "^okta-jira-"},
		Exclude: []string{"^jira-administrators$"},
		Rename:  []transform.Rename{{Regex: "^okta-(.*)$", Replace: ptr("$1")}},
		Default: []string{"jira-software-users"},
		Managed: []string{"^jira-"},
	}}})
	a := h.createUser("okta", "ann", "Ann", "ann@example.com", true, nil)
	b := h.createUser("okta", "bob", "Bob", "bob@example.com", true, nil)
	g, err := h.st.CreateGroup(h.ctx, store.Group{Tenant: "okta", DisplayName: "okta-jira-devs",
		Members: []store.Member{{Value: a.ID}, {Value: b.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.st.CreateGroup(h.ctx, store.Group{Tenant: "okta", DisplayName: "sales", Members: []store.Member{{Value: a.ID}}}); err != nil {
		t.Fatal(err)
	}
	h.drain()
	for _, name := range []string{"ann", "bob"} {
		ju := h.mustJiraUser(name)
		if !slices.Contains(ju.Groups, "jira-devs") || !slices.Contains(ju.Groups, "jira-software-users") || slices.Contains(ju.Groups, "sales") {
			t.Fatalf("%s groups = %v", name, ju.Groups)
		}
	}
	// An admin adds bob to a group by hand: kept (not managed, not ours).
	if err := h.emu.AddUser(atlassiantest.SeedUser{Name: "carol", Groups: []string{"confluence-users"}}); err != nil {
		t.Fatal(err)
	}
	// Bob leaves the IdP group: removed from jira-devs only.
	if _, err := h.st.UpdateGroup(h.ctx, "okta", g.ID, func(g *store.Group) error {
		g.Members = []store.Member{{Value: a.ID}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if ju := h.mustJiraUser("bob"); slices.Contains(ju.Groups, "jira-devs") || !slices.Contains(ju.Groups, "jira-software-users") {
		t.Fatalf("bob groups after leaving = %v", ju.Groups)
	}
	if ju := h.mustJiraUser("ann"); !slices.Contains(ju.Groups, "jira-devs") {
		t.Fatalf("ann lost jira-devs: %v", ju.Groups)
	}
	// The IdP group is deleted: its members lose it; the Jira group stays
	// (delete_removed is off).
	if err := h.st.DeleteGroup(h.ctx, "okta", g.ID); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if ju := h.mustJiraUser("ann"); slices.Contains(ju.Groups, "jira-devs") {
		t.Fatalf("ann still in jira-devs after the IdP group was deleted: %v", ju.Groups)
	}
	found := false
	for _, sg := range h.emu.State().Groups {
		found = found || sg.Name == "jira-devs"
	}
	if !found {
		t.Fatal("jira-devs was deleted although delete_removed is off")
	}
}

func TestOutOfScopeAdoptionAndDelete(t *testing.T) {
	h := newHarness(t, tenantSpec{name: "okta", preset: "okta",
		spec: transform.Spec{Users: transform.Users{RequireGroups: []string{"jira-users"}}},
		life: reconcile.Lifecycle{OnDelete: reconcile.ActionDelete}})
	// A Jira user that exists before the bridge: adopted, not duplicated.
	if err := h.emu.AddUser(atlassiantest.SeedUser{Name: "Dave", DisplayName: "Old Name", EmailAddress: "old@example.com"}); err != nil {
		t.Fatal(err)
	}
	d := h.createUser("okta", "dave", "Dave Brown", "dave@example.com", true, nil)
	e := h.createUser("okta", "erin", "Erin", "erin@example.com", true, nil)
	g, err := h.st.CreateGroup(h.ctx, store.Group{Tenant: "okta", DisplayName: "jira-users", Members: []store.Member{{Value: d.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	h.drain()
	if _, ok := h.jiraUser("erin"); ok {
		t.Fatal("erin is in no required group but was provisioned")
	}
	dave := h.mustJiraUser("dave")
	if dave.DisplayName != "Dave Brown" || dave.EmailAddress != "dave@example.com" || len(h.emu.State().Users) != 1 {
		t.Fatalf("adoption: %+v (all: %+v)", dave, h.emu.State().Users)
	}
	// Dave falls out of scope: deactivated (on_deactivate defaults to disable).
	if _, err := h.st.UpdateGroup(h.ctx, "okta", g.ID, func(g *store.Group) error { g.Members = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if h.mustJiraUser("dave").Active {
		t.Fatal("dave fell out of scope but is still active")
	}
	_ = e
	// Deleted in the IdP with on_delete=delete, but he owns issues: deactivated instead.
	if err := h.emu.SetHasContent("dave"); err != nil {
		t.Fatal(err)
	}
	if err := h.st.DeleteUser(h.ctx, "okta", d.ID); err != nil {
		t.Fatal(err)
	}
	h.drain()
	if ju, ok := h.jiraUser("dave"); !ok || ju.Active {
		t.Fatalf("dave after a refused delete: %+v (present %v)", ju, ok)
	}
}

func TestDeleteUser(t *testing.T) {
	h := newHarness(t, tenantSpec{name: "okta", preset: "okta", life: reconcile.Lifecycle{OnDelete: reconcile.ActionDelete}})
	u := h.createUser("okta", "fay", "Fay", "fay@example.com", true, nil)
	h.drain()
	h.mustJiraUser("fay")
	if err := h.st.DeleteUser(h.ctx, "okta", u.ID); err != nil {
		t.Fatal(err)
	}
	run := h.drain()
	if _, ok := h.jiraUser("fay"); ok || run.Counts["deleted"] != 1 {
		t.Fatalf("fay still in Jira after an IdP delete with on_delete=delete (run %+v)", run)
	}
}

func TestUsernameConflictSettledByPriority(t *testing.T) {
	h := newHarness(t,
		tenantSpec{name: "okta", preset: "okta", priority: 10},
		tenantSpec{name: "entra", preset: "entra", priority: 20})
	h.createUser("okta", "gus", "Gus from Okta", "gus@okta.example", true, nil)
	h.drain()
	if ju := h.mustJiraUser("gus"); ju.DisplayName != "Gus from Okta" {
		t.Fatalf("okta's gus = %+v", ju)
	}
	h.createUser("entra", "gus", "Gus from Entra", "gus@entra.example", true, nil)
	run := h.drain()
	if ju := h.mustJiraUser("gus"); ju.DisplayName != "Gus from Entra" {
		t.Fatalf("the higher-priority tenant did not win: %+v (run %+v)", ju, run)
	}
	res, err := h.st.UserHistory(h.ctx, "okta", h.users["okta/gus"], 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) == 0 || res[0].Action != "conflict" || !strings.Contains(res[0].Error, "entra") {
		t.Fatalf("okta's gus history = %+v, want a conflict naming entra", res)
	}
}

func TestTransientFaultsConvergeAndPermanentErrorsPark(t *testing.T) {
	h := newHarness(t)
	h.emu.SetFaults(atlassiantest.Faults{ErrorRate: 0.2, ErrorStatus: 503})
	for i := range 30 {
		name := "u" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		h.createUser("okta", name, "User "+name, name+"@example.com", true, nil)
	}
	h.drain()
	h.emu.SetFaults(atlassiantest.Faults{})
	if n := len(h.emu.State().Users); n != 30 {
		t.Fatalf("%d users in Jira after faults, want 30", n)
	}
	stats, _ := h.st.JobStats(h.ctx)
	if stats.Parked != 0 {
		t.Fatalf("%d jobs parked by transient faults", stats.Parked)
	}

	// A permanent failure (an invalid email Jira refuses) parks at once and
	// does not hot-loop.
	bad := h.createUser("okta", "zed", "Zed", "zed@example.com", true, nil)
	h.update("okta", bad.ID, func(u *store.User) {
		u.Attributes["emails"] = []any{map[string]any{"value": "not-an-email", "primary": true}}
	})
	h.emu.ResetRequests()
	h.drain()
	stats, err := h.st.JobStats(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if stats.Parked != 1 || stats.Pending != 0 {
		t.Fatalf("after a permanent failure: %+v, want 1 parked", stats)
	}
	parked, _ := h.st.ParkedJobs(h.ctx, 10)
	if len(parked) != 1 || parked[0].ResourceID != bad.ID || !strings.Contains(parked[0].LastError, "mapping.email") {
		t.Fatalf("parked = %+v", parked)
	}
	if n := h.calls(); n != 0 {
		t.Fatalf("a user whose mapping fails made %d Atlassian calls", n)
	}
	// A fix in the IdP unparks it.
	h.update("okta", bad.ID, func(u *store.User) {
		u.Attributes["emails"] = []any{map[string]any{"value": "zed@example.com", "primary": true}}
	})
	h.drain()
	if ju := h.mustJiraUser("zed"); ju.EmailAddress != "zed@example.com" {
		t.Fatalf("zed after the fix: %+v", ju)
	}
}

func TestPermanentRenameConflictParksWithoutHotLoop(t *testing.T) {
	h := newHarness(t)
	// Another account already holds the name the IdP renames to: a 4xx the
	// bridge cannot resolve, so the job parks until something changes.
	if err := h.emu.AddUser(atlassiantest.SeedUser{Name: "taken"}); err != nil {
		t.Fatal(err)
	}
	u := h.createUser("okta", "hana", "Hana", "hana@example.com", true, nil)
	h.drain()
	h.update("okta", u.ID, func(u *store.User) { u.UserName = "taken" })
	h.emu.ResetRequests()
	h.drain()
	stats, _ := h.st.JobStats(h.ctx)
	if stats.Parked != 1 {
		t.Fatalf("rename onto an existing account: %+v, want parked", stats)
	}
	calls := h.calls()
	h.clk.Advance(time.Hour)
	h.drain()
	if h.calls() != calls {
		t.Fatal("a parked job was retried without a new change")
	}
}

func ptr(s string) *string { return &s }

// failFirstAdd fails the first AddMember call with err.
type failFirstAdd struct {
	reconcile.Directory
	err  error
	done atomic.Bool
}

func (f *failFirstAdd) AddMember(ctx context.Context, group, username string) error {
	if f.done.CompareAndSwap(false, true) {
		return f.err
	}
	return f.Directory.AddMember(ctx, group, username)
}

// A pass that creates the account and then fails records both: the history
// never hides a created account behind the failure that followed.
func TestPartialApplyRecordsProgressAndFailure(t *testing.T) {
	for _, tc := range []struct {
		name, failed string
		err          error
	}{
		{"transient", "failed", &atlassian.Error{Kind: atlassian.Transient, Status: 503, Op: "add member"}},
		{"permanent", "parked", &atlassian.Error{Kind: atlassian.Forbidden, Status: 403, Op: "add member"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarnessWrapped(t, func(d reconcile.Directory) reconcile.Directory {
				return &failFirstAdd{Directory: d, err: tc.err}
			}, tenantSpec{name: "okta", preset: "okta", spec: transform.Spec{Groups: transform.Groups{Default: []string{"jira-software-users"}}}})
			u := h.createUser("okta", "pia", "Pia", "pia@example.com", true, nil)
			run, err := h.eng.Drain(h.ctx, h.ctx, "test")
			if err != nil {
				t.Fatal(err)
			}
			if run.Counts["created"] != 1 || run.Counts[tc.failed] != 1 || run.Status != "failed" {
				t.Fatalf("run = %+v, want one created and one %s, status failed", run, tc.failed)
			}
			hist, err := h.st.UserHistory(h.ctx, "okta", u.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(hist) != 2 || hist[0].Action != tc.failed || hist[1].Action != "created" {
				t.Fatalf("history = %+v, want created then %s", hist, tc.failed)
			}
			if hist[1].Error != "" || hist[1].Changes["username"].After != "pia" {
				t.Errorf("created result = %+v, want the creation's changes and no error", hist[1])
			}
			if !strings.Contains(hist[0].Error, "jira-software-users") || hist[0].Changes != nil {
				t.Errorf("failed result = %+v, want the group add's error and no changes", hist[0])
			}
			if _, ok := h.jiraUser("pia"); !ok {
				t.Fatal("pia is not in Jira")
			}
		})
	}
}

// A stopping engine starts no new job; what it did not start stays due.
func TestStoppedDrainLeavesJobsDue(t *testing.T) {
	h := newHarness(t)
	h.createUser("okta", "ivy", "Ivy", "ivy@example.com", true, nil)
	stop, cancel := context.WithCancel(h.ctx)
	cancel()
	if _, err := h.eng.Drain(h.ctx, stop, "test"); err != nil {
		t.Fatal(err)
	}
	if _, ok := h.jiraUser("ivy"); ok {
		t.Fatal("a stopped drain applied a job")
	}
	stats, _ := h.st.JobStats(h.ctx)
	if stats.Pending != 1 {
		t.Fatalf("pending = %d, want the job kept", stats.Pending)
	}
	h.drain()
	h.mustJiraUser("ivy")
}

func TestReconcileRepairsDriftDryRunAndBrake(t *testing.T) {
	h := newHarness(t, tenantSpec{name: "okta", preset: "okta", spec: transform.Spec{Groups: transform.Groups{
		Include: []string{"^jira-"}, Default: []string{"jira-software-users"}, Managed: []string{"^jira-"},
	}}})
	var ids []string
	for _, n := range []string{"ann", "ben", "cat", "dan", "eve", "fox", "gil", "hal", "ida", "jon", "kim", "lou"} {
		ids = append(ids, h.createUser("okta", n, strings.ToUpper(n[:1])+n[1:], n+"@example.com", true, nil).ID)
	}
	if _, err := h.st.CreateGroup(h.ctx, store.Group{Tenant: "okta", DisplayName: "jira-devs",
		Members: []store.Member{{Value: ids[0]}, {Value: ids[1]}}}); err != nil {
		t.Fatal(err)
	}
	h.drain()

	// Drift made by hand in Jira: a name changed, a user deactivated, ann
	// removed from jira-devs, cat added to jira-devs (managed) and to
	// confluence-users (not managed: kept), and a user deleted.
	jira := atlassianClient(t, h)
	name := "Ann Changed"
	if _, err := jira.UpdateUser(h.ctx, "ann", atlassian.UserUpdate{DisplayName: &name}); err != nil {
		t.Fatal(err)
	}
	must(t, jira.SetActive(h.ctx, "ben", false))
	must(t, jira.RemoveMember(h.ctx, "jira-devs", "ann"))
	must(t, jira.AddMember(h.ctx, "jira-devs", "cat"))
	must(t, jira.CreateGroup(h.ctx, "confluence-users"))
	must(t, jira.AddMember(h.ctx, "confluence-users", "cat"))
	must(t, jira.DeleteUser(h.ctx, "dan"))
	before := h.emu.State()

	// A dry run plans the repairs and writes nothing.
	h.emu.ResetRequests()
	run, err := h.eng.Reconcile(h.ctx, reconcile.RunOptions{Trigger: "api", DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range h.emu.Requests() {
		if r.Method != "GET" {
			t.Fatalf("dry run wrote to Jira: %+v", r)
		}
	}
	if !slices.EqualFunc(before.Users, h.emu.State().Users, func(a, b atlassiantest.StateUser) bool {
		return a.Name == b.Name && a.DisplayName == b.DisplayName && a.Active == b.Active && slices.Equal(a.Groups, b.Groups)
	}) {
		t.Fatal("dry run changed Jira")
	}
	if run.Kind != "dry-run" || run.Status != "succeeded" || run.Counts["created"] != 1 {
		t.Fatalf("dry run = %+v", run)
	}

	run, err = h.eng.Reconcile(h.ctx, reconcile.RunOptions{Trigger: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "succeeded" {
		t.Fatalf("reconcile = %+v", run)
	}
	if ju := h.mustJiraUser("ann"); ju.DisplayName != "Ann" || !slices.Contains(ju.Groups, "jira-devs") {
		t.Fatalf("ann not repaired: %+v", ju)
	}
	if !h.mustJiraUser("ben").Active {
		t.Fatal("ben not reactivated")
	}
	cat := h.mustJiraUser("cat")
	if slices.Contains(cat.Groups, "jira-devs") || !slices.Contains(cat.Groups, "confluence-users") {
		t.Fatalf("cat's memberships: %v (want jira-devs removed, confluence-users kept)", cat.Groups)
	}
	h.mustJiraUser("dan")

	// The brake: deactivating 2 of 12 (17%) is more than 10%.
	for _, id := range ids[:2] {
		h.update("okta", id, func(u *store.User) { u.Active = false })
	}
	// Apply the deactivations only through a reconcile: drop the pushes.
	for {
		jobs, _ := h.st.DueJobs(h.ctx, h.clk.Now(), 100)
		if len(jobs) == 0 {
			break
		}
		for _, j := range jobs {
			must(t, h.st.CompleteJob(h.ctx, j))
		}
	}
	run, err = h.eng.Reconcile(h.ctx, reconcile.RunOptions{Trigger: "api"})
	if err != nil {
		t.Fatal(err)
	}
	if run.Status != "aborted" || !strings.Contains(run.Error, "safety brake") || !h.mustJiraUser("ann").Active {
		t.Fatalf("brake did not trip: %+v", run)
	}
	run, err = h.eng.Reconcile(h.ctx, reconcile.RunOptions{Trigger: "api", Force: true})
	if err != nil || run.Status != "succeeded" || h.mustJiraUser("ann").Active {
		t.Fatalf("forced run = %+v, %v", run, err)
	}
}

func atlassianClient(t *testing.T, h *harness) *jira.Client {
	t.Helper()
	srv := httptest.NewServer(h.emu)
	t.Cleanup(srv.Close)
	c, err := jira.New(jira.Options{TransportOptions: atlassian.TransportOptions{BaseURL: srv.URL, Auth: atlassian.BearerToken("jira-pat")}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Triggers during a run coalesce into exactly one follow-up run.
func TestTriggersCoalesce(t *testing.T) {
	h := newHarness(t)
	h.createUser("okta", "ola", "Ola", "ola@example.com", true, nil)
	h.drain()
	// Slow Jira down so the first run is still going when the others arrive.
	h.emu.SetFaults(atlassiantest.Faults{LatencyMS: 200})
	first, err := h.eng.Trigger(h.ctx, h.ctx, reconcile.RunOptions{Trigger: "api"})
	if err != nil || first.Status != "running" {
		t.Fatalf("first trigger = %+v, %v", first, err)
	}
	var joined []store.Run
	for _, trig := range []string{"webhook", "cron", "api"} {
		r, err := h.eng.Trigger(h.ctx, h.ctx, reconcile.RunOptions{Trigger: trig})
		if err != nil {
			t.Fatal(err)
		}
		joined = append(joined, r)
	}
	if joined[0].Status != "queued" || joined[1].ID != joined[0].ID || joined[2].ID != joined[0].ID || joined[0].ID == first.ID {
		t.Fatalf("follow-up triggers = %+v (first %d)", joined, first.ID)
	}
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	if err := h.eng.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	runs, err := h.st.ListRuns(h.ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range runs {
		if r.Kind == "reconcile" {
			n++
			if r.Status != "succeeded" {
				t.Errorf("run %d: %s %s", r.ID, r.Status, r.Error)
			}
		}
	}
	if n != 2 {
		t.Fatalf("%d reconcile runs, want exactly 2 (one plus one coalesced follow-up)", n)
	}
}

func TestInactivityDeactivationLoginReactivationAndDeleteAfter(t *testing.T) {
	h := newHarness(t, tenantSpec{name: "okta", preset: "okta", life: reconcile.Lifecycle{
		InactiveAfter: 720 * time.Hour, NeverLoggedIn: "keep", ReactivateOnLogin: true, DeleteAfter: 24 * time.Hour,
		OnDeactivate: reconcile.ActionDisable,
	}})
	pam := h.createUser("okta", "pam", "Pam", "pam@example.com", true, nil)
	h.createUser("okta", "quinn", "Quinn", "quinn@example.com", true, nil)
	h.createUser("okta", "rex", "Rex", "rex@example.com", true, nil)
	h.drain()
	must(t, h.emu.RecordLogin("pam"))
	must(t, h.emu.RecordLogin("rex"))
	must(t, atlassianClient(t, h).AddMember(h.ctx, "jira-administrators", "rex"))

	h.clk.Advance(800 * time.Hour)
	run, err := h.eng.Reconcile(h.ctx, reconcile.RunOptions{Trigger: "cron", MaxDeprovisionPercent: 50})
	if err != nil || run.Status != "succeeded" {
		t.Fatalf("reconcile = %+v, %v", run, err)
	}
	if h.mustJiraUser("pam").Active {
		t.Fatal("pam has not logged in for 800h but is still active")
	}
	if !h.mustJiraUser("quinn").Active || !h.mustJiraUser("rex").Active {
		t.Fatal("quinn (never logged in, keep) or rex (administrator) was deactivated")
	}

	// A change in the IdP does not undo the licence reclaim.
	h.update("okta", pam.ID, func(u *store.User) { u.Attributes["displayName"] = "Pam Beesly" })
	h.drain()
	if ju := h.mustJiraUser("pam"); ju.Active || ju.DisplayName != "Pam Beesly" {
		t.Fatalf("pam after an IdP change: %+v (want updated and still inactive)", ju)
	}

	// She logs in through SSO: reactivated.
	link, err := h.st.GetLink(h.ctx, "jira", "okta", pam.ID)
	must(t, err)
	now := h.clk.Now()
	link.LastLoginAt = &now
	must(t, h.st.PutLink(h.ctx, link))
	must(t, h.eng.LoginSeen(h.ctx, []store.Link{link}))
	h.drain()
	if !h.mustJiraUser("pam").Active {
		t.Fatal("a login did not reactivate pam")
	}

	// The IdP deactivates quinn; a day later the reconcile deletes the account.
	h.update("okta", h.users["okta/quinn"], func(u *store.User) { u.Active = false })
	h.drain()
	if h.mustJiraUser("quinn").Active {
		t.Fatal("quinn not deactivated")
	}
	h.clk.Advance(25 * time.Hour)
	run, err = h.eng.Reconcile(h.ctx, reconcile.RunOptions{Trigger: "cron", MaxDeprovisionPercent: 50})
	if err != nil || run.Counts["deleted"] != 1 {
		t.Fatalf("reconcile after delete_after = %+v, %v", run, err)
	}
	if _, ok := h.jiraUser("quinn"); ok {
		t.Fatal("quinn still exists a day after deactivation with delete_after 24h")
	}
}
