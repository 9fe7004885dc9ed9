package reconcile_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/transform"
)

// dropJobs completes every due job without applying it, so that only a
// full reconcile brings the change to Jira.
func (h *harness) dropJobs() {
	h.t.Helper()
	for {
		jobs, err := h.st.DueJobs(h.ctx, h.clk.Now(), 500)
		if err != nil {
			h.t.Fatal(err)
		}
		if len(jobs) == 0 {
			return
		}
		for _, j := range jobs {
			must(h.t, h.st.CompleteJob(h.ctx, j))
		}
	}
}

func (h *harness) reconcile(opts reconcile.RunOptions) store.Run {
	h.t.Helper()
	run, err := h.eng.Reconcile(h.ctx, opts)
	if err != nil {
		h.t.Fatal(err)
	}
	return run
}

// jiraWrites returns the requests since the last ResetRequests that were
// not reads.
func (h *harness) jiraWrites() []atlassiantest.RequestRecord {
	var out []atlassiantest.RequestRecord
	for _, r := range h.emu.Requests() {
		if r.Method != "GET" {
			out = append(out, r)
		}
	}
	return out
}

var jiraGroups = tenantSpec{name: "okta", preset: "okta", spec: transform.Spec{Groups: transform.Groups{
	Include: []string{"^jira-"}, Default: []string{"jira-software-users"}, Managed: []string{"^jira-"},
}}}

// A full reconcile flattens nested IdP groups itself (from one read of the
// nesting): it must want what a push applied, so a directory in step is left
// alone, and a membership removed by hand from a group the user is in only
// through nesting is put back.
func TestReconcileNestedGroupsAgreeWithPush(t *testing.T) {
	h := newHarness(t, jiraGroups)
	ann := h.createUser("okta", "ann", "Ann", "ann@example.com", true, nil)
	bob := h.createUser("okta", "bob", "Bob", "bob@example.com", true, nil)
	h.createUser("okta", "cat", "Cat", "cat@example.com", true, nil)
	group := func(name string, members ...string) string {
		t.Helper()
		var ms []store.Member
		for _, id := range members {
			ms = append(ms, store.Member{Value: id})
		}
		g, err := h.st.CreateGroup(h.ctx, store.Group{Tenant: "okta", DisplayName: name, Members: ms})
		if err != nil {
			t.Fatal(err)
		}
		return g.ID
	}
	backend := group("jira-backend", ann.ID)
	eng := group("jira-eng", backend, bob.ID)
	group("jira-all", eng)
	group("Jira-Ops", backend)
	group("sales", eng) // not included: no Atlassian group
	h.drain()
	want := []string{"jira-all", "jira-backend", "jira-eng", "Jira-Ops", "jira-software-users"} // the emulator orders them case-insensitively
	if got := h.mustJiraUser("ann").Groups; !slices.Equal(got, want) {
		t.Fatalf("ann's groups after the push = %v, want %v", got, want)
	}

	h.emu.ResetRequests()
	run := h.reconcile(reconcile.RunOptions{Trigger: "api"})
	if w := h.jiraWrites(); len(w) != 0 || run.Status != "succeeded" || run.Counts["unchanged"] != 3 || len(run.Counts) != 1 {
		t.Fatalf("reconcile of a directory in step: %+v, writes %+v", run, w)
	}

	must(t, atlassianClient(t, h).RemoveMember(h.ctx, "jira-all", "ann"))
	must(t, atlassianClient(t, h).RemoveMember(h.ctx, "jira-eng", "bob"))
	run = h.reconcile(reconcile.RunOptions{Trigger: "api"})
	if run.Counts["group-added"] != 2 || run.Counts["unchanged"] != 1 {
		t.Fatalf("reconcile after two memberships were removed by hand: %+v", run)
	}
	if got := h.mustJiraUser("ann").Groups; !slices.Equal(got, want) {
		t.Errorf("ann's groups after the reconcile = %v, want %v", got, want)
	}
	if got := h.mustJiraUser("bob").Groups; !slices.Contains(got, "jira-eng") || !slices.Contains(got, "jira-all") {
		t.Errorf("bob's groups after the reconcile = %v", got)
	}
}

// A reconcile saves a link only when it changed: adopting an account writes
// it, a run that finds the account as the link says leaves it alone (its
// UpdatedAt stays), a repair writes it again.
func TestReconcileSavesOnlyChangedLinks(t *testing.T) {
	h := newHarness(t, jiraGroups)
	ann := h.createUser("okta", "ann", "Ann", "ann@example.com", true, nil)
	h.dropJobs()
	// The account was made by hand before the bridge: the first reconcile
	// adopts it without a call to Jira.
	must(t, h.emu.AddUser(atlassiantest.SeedUser{Name: "ann", DisplayName: "Ann", EmailAddress: "ann@example.com",
		Groups: []string{"jira-software-users"}}))
	if _, err := h.st.GetLink(h.ctx, "jira", "okta", ann.ID); err == nil {
		t.Fatal("a link exists before the first reconcile")
	}
	// A dry run adopts nothing: it records the result, saves no link.
	dry := h.reconcile(reconcile.RunOptions{Trigger: "api", DryRun: true})
	if dry.Counts["unchanged"] != 1 {
		t.Fatalf("dry run: %+v", dry)
	}
	if _, err := h.st.GetLink(h.ctx, "jira", "okta", ann.ID); err == nil {
		t.Fatal("a dry run saved a link")
	}
	h.emu.ResetRequests()
	run := h.reconcile(reconcile.RunOptions{Trigger: "api"})
	if w := h.jiraWrites(); len(w) != 0 || run.Counts["unchanged"] != 1 {
		t.Fatalf("adopting reconcile: %+v, writes %+v", run, w)
	}
	adopted, err := h.st.GetLink(h.ctx, "jira", "okta", ann.ID)
	if err != nil || adopted.AppliedName != "ann" || adopted.State != store.LinkActive {
		t.Fatalf("link after adoption = %+v, %v", adopted, err)
	}

	h.clk.Advance(time.Hour)
	run = h.reconcile(reconcile.RunOptions{Trigger: "api"})
	if run.Counts["unchanged"] != 1 {
		t.Fatalf("second reconcile: %+v", run)
	}
	if l, err := h.st.GetLink(h.ctx, "jira", "okta", ann.ID); err != nil || !l.UpdatedAt.Equal(adopted.UpdatedAt) {
		t.Errorf("a reconcile that changed nothing rewrote the link: UpdatedAt %v, was %v (%v)", l.UpdatedAt, adopted.UpdatedAt, err)
	}
	// Every run, the dry one too, still shows the user in its history.
	hist, err := h.st.UserHistory(h.ctx, "okta", ann.ID, 10)
	if err != nil || len(hist) != 3 {
		t.Errorf("ann's history = %+v, %v; want one result per run", hist, err)
	}

	h.clk.Advance(time.Hour)
	h.update("okta", ann.ID, func(u *store.User) { u.Attributes["displayName"] = "Ann B" })
	h.dropJobs()
	run = h.reconcile(reconcile.RunOptions{Trigger: "api"})
	l, err := h.st.GetLink(h.ctx, "jira", "okta", ann.ID)
	if run.Counts["updated"] != 1 || err != nil || !l.UpdatedAt.Equal(h.clk.Now()) {
		t.Errorf("repair: %+v; link %+v, %v", run, l, err)
	}
	if ju := h.mustJiraUser("ann"); ju.DisplayName != "Ann B" {
		t.Errorf("ann in Jira = %+v", ju)
	}
}

// More users than one batch of links: every account is adopted and linked,
// each user has one result, and users deleted in the IdP since are found
// through their links and deactivated.
func TestReconcileAdoptsInBatchesAndFindsDeletedUsers(t *testing.T) {
	h := newHarness(t, tenantSpec{name: "okta", preset: "okta", spec: jiraGroups.spec,
		life: reconcile.Lifecycle{OnDelete: reconcile.ActionDisable}})
	const n = 1234
	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("u%04d", i)
			u, err := h.st.CreateUser(h.ctx, store.User{Tenant: "okta", UserName: name, Active: true, Attributes: map[string]any{
				"displayName": "User " + name, "emails": []any{map[string]any{"value": name + "@example.com", "primary": true}}}})
			ids[i] = u.ID
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	h.dropJobs()
	for i := range n {
		name := fmt.Sprintf("u%04d", i)
		must(t, h.emu.AddUser(atlassiantest.SeedUser{Name: name, DisplayName: "User " + name, EmailAddress: name + "@example.com",
			Groups: []string{"jira-software-users"}}))
	}

	h.emu.ResetRequests()
	run := h.reconcile(reconcile.RunOptions{Trigger: "api"})
	if w := h.jiraWrites(); len(w) != 0 || run.Status != "succeeded" || run.Counts["unchanged"] != n || len(run.Counts) != 1 {
		t.Fatalf("adopting %d accounts: %+v, writes %d", n, run, len(w))
	}
	linked := 0
	must(t, h.st.ListLinks(h.ctx, "jira", func(l store.Link) error {
		if l.AppliedName != "" && l.State == store.LinkActive {
			linked++
		}
		return nil
	}))
	if linked != n {
		t.Errorf("%d active links after adopting %d accounts", linked, n)
	}
	rs, err := h.st.ListResults(h.ctx, run.ID, store.ResultQuery{All: true})
	if err != nil || len(rs) != n {
		t.Fatalf("%d results, %v; want one per user", len(rs), err)
	}

	// Three users leave the IdP; only a reconcile sees it.
	for _, i := range []int{0, 600, n - 1} {
		must(t, h.st.DeleteUser(h.ctx, "okta", ids[i]))
	}
	h.dropJobs()
	h.emu.ResetRequests()
	run = h.reconcile(reconcile.RunOptions{Trigger: "api"})
	if run.Counts["deactivated"] != 3 || run.Counts["unchanged"] != n-3 {
		t.Fatalf("reconcile after 3 deletions: %+v", run)
	}
	for _, i := range []int{0, 600, n - 1} {
		if ju := h.mustJiraUser(fmt.Sprintf("u%04d", i)); ju.Active {
			t.Errorf("%s is still active after its IdP user was deleted", ju.Name)
		}
	}
	if w := h.jiraWrites(); len(w) != 3 {
		t.Errorf("%d writes to Jira, want 3 deactivations: %+v", len(w), w)
	}
}

// Lifecycle "keep": a user the IdP deactivated is left alone in Jira by a
// reconcile too, with the reason in its result.
func TestReconcileKeepLeavesDeactivatedUserAlone(t *testing.T) {
	h := newHarness(t, tenantSpec{name: "okta", preset: "okta", spec: jiraGroups.spec,
		life: reconcile.Lifecycle{OnDeactivate: reconcile.ActionKeep}})
	ann := h.createUser("okta", "ann", "Ann", "ann@example.com", true, nil)
	h.createUser("okta", "bob", "Bob", "bob@example.com", true, nil)
	h.drain()
	h.update("okta", ann.ID, func(u *store.User) { u.Active = false })
	h.dropJobs()
	h.emu.ResetRequests()
	run := h.reconcile(reconcile.RunOptions{Trigger: "api"})
	if w := h.jiraWrites(); len(w) != 0 || run.Status != "succeeded" || run.Counts["unchanged"] != 2 {
		t.Fatalf("reconcile: %+v, writes %+v", run, w)
	}
	if !h.mustJiraUser("ann").Active {
		t.Error("ann was deactivated although the lifecycle says keep")
	}
	rs, err := h.st.ListResults(h.ctx, run.ID, store.ResultQuery{User: "ann", All: true})
	if err != nil || len(rs) != 1 {
		t.Fatalf("ann's results: %+v, %v", rs, err)
	}
	if reason, _ := rs[0].Changes["reason"].After.(string); !strings.Contains(reason, "keep") {
		t.Errorf("ann's result = %+v, want the keep reason", rs[0])
	}
}
