package test

// End-to-end tests of issue 4 item 7: `scimbridge serve` and the
// atlassian-emulator as separate processes, users and groups pushed as Okta
// and Entra ID push them, with faults, a SIGKILL and a SIGTERM in between,
// and the emulator's state compared with what the config says it must be
// (the oracle in e2e_model_test.go).

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

// functional is the config for the flows: a rate limit high enough not to
// matter.
var functional = e2eOptions{rateLimit: 200, burst: 20, entraOnDelete: "delete"}

// oktaUser is an Okta-shaped user ok-<local>@example.com.
func oktaUser(local, display string) *mUser {
	addr := "ok-" + local + "@example.com"
	given, family, _ := strings.Cut(display, " ")
	return &mUser{userName: addr, displayName: display, givenName: given, familyName: family,
		emails: []mEmail{{value: addr, typ: "work", primary: true}}, active: true}
}

// entraUser is an Entra-shaped user <local>@contoso.com; an empty display
// leaves displayName out (Entra's default mapping has none), so the name
// comes from name.formatted.
func entraUser(local, display, formatted string) *mUser {
	addr := local + "@contoso.com"
	given, family, _ := strings.Cut(formatted, " ")
	return &mUser{userName: addr, displayName: display, formatted: formatted, givenName: given, familyName: family,
		emails: []mEmail{{value: addr, typ: "work", primary: true}}, active: true}
}

// oktaFlow: create (lookup, POST), Group Push with include/exclude/rename,
// adoption of a pre-existing Jira account, PUT update, rename, deactivation
// and reactivation by PATCH, membership changes, a user falling out of
// scope and a group rename. Its usernames start with "ok-".
func oktaFlow(t *testing.T, e *e2eEnv, m *model) {
	c := e.oktaClient()

	// A Jira account that exists before the bridge, in a group outside the
	// managed scope: adopted, not duplicated, its own group kept.
	seeded := e.emu.seedUser(t, "ok-adopt.me", "Legacy Name", "legacy@old.example", []string{"legacy-team"})
	m.seed("ok-adopt.me", []string{"legacy-team"})

	// Two more: one deactivated in Jira (adopting it reactivates it), one
	// whose Jira username differs in case only (Jira usernames are
	// case-insensitive, so it is the same account).
	e.emu.control(t, http.MethodPost, "/_emulator/users", map[string]any{
		"name": "ok-dormant", "displayName": "Dormant", "emailAddress": "dormant@old.example", "active": false,
	}, nil, http.StatusCreated)
	m.seed("ok-dormant", nil)
	mixed := e.emu.seedUser(t, "OK-Mixed", "Mixed Case", "mixed@old.example", nil)
	m.seed("ok-mixed", nil)

	alice, bob, carol := oktaUser("alice", "Alice Anders"), oktaUser("bob", "Bob Brown"), oktaUser("carol", "Carol Clark")
	adopt, dave := oktaUser("adopt.me", "Adopted User"), oktaUser("dave", "Dave Dunn")
	dormant, mixedCase := oktaUser("dormant", "Dormant Again"), oktaUser("mixed", "Mixed Newname")
	for _, u := range []*mUser{alice, bob, carol, adopt, dave, dormant, mixedCase} {
		c.oktaCreateUser(t, m, u)
	}
	// jira-users is the required group (dave is never in it, so he is never
	// provisioned); okta-jira-devs is renamed jira-devs; jira-administrators
	// is excluded and Sales not included, so neither reaches Jira.
	users := c.oktaPushGroup(t, m, "jira-users")
	c.oktaMembers(t, m, users, nil, []*mUser{alice, bob, carol, adopt, dormant, mixedCase})
	devs := c.oktaPushGroup(t, m, "okta-jira-devs")
	c.oktaMembers(t, m, devs, nil, []*mUser{alice, bob})
	admins := c.oktaPushGroup(t, m, "jira-administrators")
	c.oktaMembers(t, m, admins, nil, []*mUser{alice})
	sales := c.oktaPushGroup(t, m, "Sales")
	c.oktaMembers(t, m, sales, nil, []*mUser{alice, dave})
	st := e.awaitJira(t, "okta: create and group push", m.diff)
	m.settle()
	if got, _ := stateUser(st, "ok-adopt.me"); got.Key != seeded.Key {
		t.Errorf("adopted user has key %q, want the pre-existing account's %q (recreated instead of adopted?)", got.Key, seeded.Key)
	}
	if got, _ := stateUser(st, "ok-mixed"); got.Key != mixed.Key {
		t.Errorf("adopted user %q has key %q, want the pre-existing account's %q", got.Name, got.Key, mixed.Key)
	}
	bobKey := mustStateUser(t, st, "ok-bob").Key

	// Update (GET then PUT), rename by a userName change, deactivation by a
	// pathless PATCH, a membership moved, and an identical PUT.
	c.oktaPut(t, m, alice, func(u *mUser) {
		u.displayName, u.familyName = "Alice Anders-Smith", "Anders-Smith"
		u.emails[0].value = "alice.smith@mail.example.org"
	})
	c.oktaPut(t, m, bob, func(u *mUser) {
		u.userName, u.displayName, u.givenName = "ok-robert@example.com", "Robert Brown", "Robert"
	})
	c.oktaSetActive(t, m, carol, false)
	c.oktaMembers(t, m, devs, []*mUser{bob}, []*mUser{adopt})
	c.oktaPut(t, m, adopt, func(*mUser) {})
	st = e.awaitJira(t, "okta: update, rename, deactivate, membership change", m.diff)
	m.settle()
	if got := mustStateUser(t, st, "ok-robert").Key; got != bobKey {
		t.Errorf("renamed user has key %q, want %q (the same account, renamed)", got, bobKey)
	}

	// Reactivation, alice falling out of scope (the required group's
	// membership overwritten without her: deactivated, memberships left),
	// a group rename.
	c.oktaSetActive(t, m, carol, true)
	c.oktaReplaceMembers(t, m, users, []*mUser{bob, carol, adopt, dormant, mixedCase})
	c.oktaRenameGroup(t, m, devs, "okta-jira-developers")
	e.awaitJira(t, "okta: reactivate, out of scope, group rename", m.diff)
	m.settle()

	// alice back in scope (reactivated; the membership of the group's old
	// name goes), the group deleted in Okta (its memberships go, the Jira
	// group stays: no delete_removed), carol deactivated the AIW way (PUT).
	c.oktaMembers(t, m, users, nil, []*mUser{alice})
	c.oktaDeleteGroup(t, m, devs)
	c.oktaPut(t, m, carol, func(u *mUser) { u.active = false })
	e.awaitJira(t, "okta: back in scope, group deleted, PUT deactivation", m.diff)
	m.settle()

	// Every apply left a per-user result, with what changed.
	e.requireActions(t, "okta", adopt, "adopted")
	e.requireActions(t, "okta", dormant, "adopted")
	e.requireActions(t, "okta", carol, "created", "deactivated", "reactivated")
	e.requireActions(t, "okta", alice, "created", "updated", "deactivated", "reactivated")
	h := e.requireActions(t, "okta", bob, "created", "renamed")
	if r, ok := findAction(h, "renamed"); ok {
		if c := r.Changes["username"]; c.Before != "ok-bob" || c.After != "ok-robert" {
			t.Errorf("bob's rename result records username %v -> %v, want ok-bob -> ok-robert", c.Before, c.After)
		}
	}
	e.requireActions(t, "okta", dave, "skipped")
}

// entraFlow: create with the enterprise extension, groups created empty and
// filled by value lists, PATCH-only updates with "Replace" and "False"/"True"
// strings, emails[type eq "work"].value, a rename, DELETE (on_delete of the
// config) and a delete Jira refuses because the user owns content. Its
// usernames start with "en-".
func entraFlow(t *testing.T, e *e2eEnv, m *model) {
	c := e.entraClient()
	erin, frank := entraUser("en-erin", "Erin Example", "Erin Example"), entraUser("en-frank", "", "Frank Fisher")
	gina, hank := entraUser("en-gina", "Gina Green", "Gina Green"), entraUser("en-hank", "Hank Hill", "Hank Hill")
	// Created disabled (Entra's "provision disabled users"): it must exist
	// in Jira, deactivated, before its first login.
	ivy := entraUser("en-ivy", "Ivy Idle", "Ivy Idle")
	ivy.active = false
	for _, u := range []*mUser{erin, frank, gina, hank, ivy} {
		c.entraCreateUser(t, m, u)
	}
	team := c.entraCreateGroup(t, m, "jira-entra-team")
	c.entraMembers(t, m, team, nil, []*mUser{erin, frank, gina})
	finance := c.entraCreateGroup(t, m, "Finance") // not included: never in Jira
	c.entraMembers(t, m, finance, nil, []*mUser{hank})
	st := e.awaitJira(t, "entra: create and groups", m.diff)
	m.settle()
	erinKey := mustStateUser(t, st, "en-erin").Key

	c.entraPatchUser(t, m, erin, func(u *mUser) {
		u.displayName, u.familyName = "Erin Updated", "Updated"
		u.setWorkEmail("en-erin.updated@contoso.com")
	},
		map[string]any{"op": "Replace", "path": "displayName", "value": "Erin Updated"},
		map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "en-erin.updated@contoso.com"},
		map[string]any{"op": "Replace", "path": "name.familyName", "value": "Updated"})
	c.entraSetActive(t, m, frank, false)
	c.entraMembers(t, m, team, []*mUser{erin}, []*mUser{hank})
	e.emu.setContent(t, "en-gina") // gina owns issues now
	m.update(func() { gina.hasContent = true })
	e.awaitJira(t, "entra: PATCH update, disable, membership change", m.diff)
	m.settle()

	c.entraSetActive(t, m, frank, true)
	c.entraDeleteUser(t, m, hank)
	c.entraDeleteUser(t, m, gina) // refused by Jira: deactivated instead
	c.entraPatchUser(t, m, erin, func(u *mUser) { u.userName = "en-erin.new@contoso.com" },
		map[string]any{"op": "Replace", "path": "userName", "value": "en-erin.new@contoso.com"})
	st = e.awaitJira(t, "entra: re-enable, delete, refused delete, rename", m.diff)
	m.settle()
	if m.tenants["entra"].onDelete == "delete" {
		e.requireActions(t, "entra", hank, "deleted")
		h := e.requireActions(t, "entra", gina, "deactivated")
		if r, _ := findAction(h, "deactivated"); !strings.Contains(r.Error, "refused") {
			t.Errorf("gina's refused delete is not explained in her result: %q", r.Error)
		}
	}
	e.requireActions(t, "entra", ivy, "created")
	if got := mustStateUser(t, st, "en-erin.new").Key; got != erinKey {
		t.Errorf("renamed user has key %q, want %q", got, erinKey)
	}
}

func mustStateUser(t *testing.T, st atlassiantest.State, name string) atlassiantest.StateUser {
	t.Helper()
	u, ok := stateUser(st, name)
	if !ok {
		t.Fatalf("user %q is not in Jira", name)
	}
	return u
}

// finish checks the whole state once more, stops scimbridge with SIGTERM
// (exit status 0 required) and checks its output for secrets.
func (e *e2eEnv) finish(t *testing.T, label string, models ...*model) {
	t.Helper()
	e.awaitJira(t, label+": whole state", func(st atlassiantest.State) string { return exactDiff(st, models...) })
	e.sb.stop(t)
	checkE2ESecrets(t, label, e.sb)
	checkNoErrorLogs(t, label, e.sb)
}

func TestE2EOkta(t *testing.T) {
	e := newE2E(t, functional)
	m := newModel("ok-", oktaRules())
	oktaFlow(t, e, m)
	e.finish(t, "okta", m)
}

func TestE2EEntra(t *testing.T) {
	for _, onDelete := range []string{"delete", "disable"} {
		t.Run("on_delete_"+onDelete, func(t *testing.T) {
			o := functional
			o.entraOnDelete = onDelete
			e := newE2E(t, o)
			m := newModel("en-", entraRules(onDelete))
			entraFlow(t, e, m)
			e.finish(t, "entra", m)
		})
	}
}

// TestE2EUsernameConflict: okta (priority 10) and entra (priority 5) both
// produce "dup1" and "dup2". The okta account's attributes win whichever
// tenant pushed first, and once okta owns the account entra's never appear
// on it.
func TestE2EUsernameConflict(t *testing.T) {
	e := newE2E(t, functional)
	m := newModel("dup", oktaRules(), entraRules("delete"))
	ok, en := e.oktaClient(), e.entraClient()
	required := ok.oktaPushGroup(t, m, "jira-users")
	team := en.entraCreateGroup(t, m, "jira-entra-team")

	loserSeen := func(name, display, email string) func(atlassiantest.State) string {
		return func(st atlassiantest.State) string {
			if u, found := stateUser(st, name); found && (u.DisplayName == display || u.EmailAddress == email) {
				return fmt.Sprintf("%s shows the lower-priority tenant's attributes: %q <%s>", name, u.DisplayName, u.EmailAddress)
			}
			return ""
		}
	}

	// The winner first, then the loser.
	okDup1 := &mUser{userName: "dup1@example.com", displayName: "Okta Dup One", givenName: "Okta", familyName: "Dup",
		emails: []mEmail{{value: "dup1@example.com", typ: "work", primary: true}}, active: true}
	ok.oktaCreateUser(t, m, okDup1)
	ok.oktaMembers(t, m, required, nil, []*mUser{okDup1})
	e.awaitJira(t, "winner provisioned", m.diff)
	m.settle()
	stopWatch := e.watch(loserSeen("dup1", "Entra Dup One", "dup1@contoso.com"))
	enDup1 := entraUser("dup1", "Entra Dup One", "Entra Dup")
	en.entraCreateUser(t, m, enDup1)
	en.entraMembers(t, m, team, nil, []*mUser{enDup1})
	// Guess (reconcile settleConflict): the losing tenant's groups are
	// added to the winner's account (its desired groups are the union);
	// that they arrive is also the sign that the loser's jobs were applied.
	e.awaitJira(t, "loser's push applied to the winner's account", m.diff)
	m.settle()

	// The loser first (it owns the account until the winner arrives), then
	// the winner takes the account over.
	enDup2 := entraUser("dup2", "Entra Dup Two", "Entra Dup")
	en.entraCreateUser(t, m, enDup2)
	e.awaitJira(t, "lower priority alone owns the account", m.diff)
	m.settle()
	okDup2 := &mUser{userName: "dup2@example.com", displayName: "Okta Dup Two", givenName: "Okta", familyName: "Dup",
		emails: []mEmail{{value: "dup2@example.com", typ: "work", primary: true}}, active: true}
	ok.oktaCreateUser(t, m, okDup2)
	ok.oktaMembers(t, m, required, nil, []*mUser{okDup2})
	e.awaitJira(t, "higher priority takes the account over", m.diff)
	m.settle()
	stopWatch2 := e.watch(loserSeen("dup2", "Entra Dup Two", "dup2@contoso.com"))

	// The losers change: none of it reaches the accounts (a new group of
	// the loser does, which tells that its job ran).
	extra := en.entraCreateGroup(t, m, "jira-entra-extra")
	en.entraPatchUser(t, m, enDup1, func(u *mUser) { u.displayName = "Entra Dup One Changed" },
		map[string]any{"op": "Replace", "path": "displayName", "value": "Entra Dup One Changed"})
	en.entraPatchUser(t, m, enDup2, func(u *mUser) { u.setWorkEmail("changed.dup2@contoso.com") },
		map[string]any{"op": "Replace", "path": `emails[type eq "work"].value`, "value": "changed.dup2@contoso.com"})
	en.entraMembers(t, m, extra, nil, []*mUser{enDup1, enDup2})
	e.awaitJira(t, "losers' changes applied", m.diff)
	// The losers are reported in the results, naming the winning tenant.
	for _, u := range []*mUser{enDup1, enDup2} {
		h := e.requireActions(t, "entra", u, "conflict")
		if r, ok := findAction(h, "conflict"); ok && !strings.Contains(r.Error, `"okta"`) {
			t.Errorf("conflict result of %s does not name the winning tenant: %q", u.userName, r.Error)
		}
	}
	for _, u := range []*mUser{okDup1, okDup2} {
		if _, ok := findAction(e.history(t, "okta", u), "conflict"); ok {
			t.Errorf("the winner %s has a conflict result", u.userName)
		}
	}
	for _, seen := range append(stopWatch(), stopWatch2()...) {
		t.Error(seen)
	}
	e.finish(t, "conflict", m)
}

// TestE2EConflictOwnerDeleted: two entra users produce "dup3"; the one that
// owns the account is deleted in the IdP (on_delete: delete). The other
// one still wants an account and nothing stands in its way any more, so
// its account must appear (level-triggered: desired state from the store).
func TestE2EConflictOwnerDeleted(t *testing.T) {
	e := newE2E(t, functional)
	m := newModel("dup3", entraRules("delete"))
	en := e.entraClient()
	owner := entraUser("dup3", "Contoso Dup", "Contoso Dup")
	en.entraCreateUser(t, m, owner)
	e.awaitJira(t, "first user owns dup3", m.diff)
	m.settle()
	other := &mUser{userName: "dup3@fabrikam.com", displayName: "Fabrikam Dup", formatted: "Fabrikam Dup",
		emails: []mEmail{{value: "dup3@fabrikam.com", typ: "work", primary: true}}, active: true}
	en.entraCreateUser(t, m, other)
	team := en.entraCreateGroup(t, m, "jira-entra-team")
	en.entraMembers(t, m, team, nil, []*mUser{other})
	e.awaitJira(t, "second user's job applied (its group joins the account)", m.diff)
	m.settle()

	en.entraDeleteUser(t, m, owner)
	e.awaitJira(t, "owner's account deleted", func(st atlassiantest.State) string {
		if u, ok := stateUser(st, "dup3"); ok && u.DisplayName == "Contoso Dup" {
			return "dup3 still shows the deleted owner"
		}
		return ""
	})
	e.awaitJira(t, "owner deleted: the other user's account appears", m.diff)
	e.finish(t, "conflict owner deleted", m)
}

// TestE2EReusedUsername: Entra deletes a user (on_delete: disable leaves
// the account deactivated), then creates a new user with the same
// userName (a re-hire). The only live user named en-hank is the new one:
// the account must follow it (reactivated, its attributes), not stay with
// the deleted one.
func TestE2EReusedUsername(t *testing.T) {
	o := functional
	o.entraOnDelete = "disable"
	e := newE2E(t, o)
	m := newModel("en-", entraRules(o.entraOnDelete))
	en := e.entraClient()
	old := entraUser("en-hank", "Hank Hill", "Hank Hill")
	en.entraCreateUser(t, m, old)
	st := e.awaitJira(t, "first en-hank", m.diff)
	m.settle()
	key := mustStateUser(t, st, "en-hank").Key
	en.entraDeleteUser(t, m, old)
	e.awaitJira(t, "first en-hank deleted: deactivated", m.diff)
	m.settle()

	rehired := entraUser("en-hank", "Hank Hill Returned", "Hank Hill")
	rehired.emails[0].value = "hank.hill@contoso.com"
	en.entraCreateUser(t, m, rehired)
	if got := mustStateUser(t, e.awaitJira(t, "new en-hank owns the account", m.diff), "en-hank").Key; got != key {
		t.Errorf("en-hank has key %q, want %q (the existing account, adopted)", got, key)
	}
	e.finish(t, "reused username", m)
}

// watch polls the emulator's state in the background until the returned
// stop function is called; stop returns every distinct complaint check made.
func (e *e2eEnv) watch(check func(atlassiantest.State) string) (stop func() []string) {
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	seen := map[string]bool{}
	var out []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(pollEvery / 2)
		defer tick.Stop()
		for {
			if st, err := e.emu.state(ctx); err == nil {
				if msg := check(st); msg != "" {
					mu.Lock()
					if !seen[msg] {
						seen[msg] = true
						out = append(out, msg)
					}
					mu.Unlock()
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return func() []string {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return out
	}
}

// TestE2EFaults runs the Okta and Entra flows side by side while the
// emulator answers 20% of calls with 503, then with a 429 rate limit, then
// with latency: everything converges to what the config says, nothing is
// lost.
func TestE2EFaults(t *testing.T) {
	for _, tc := range []struct {
		name   string
		faults atlassiantest.Faults
		// injected is the status the faults must have produced at least
		// once (0: none to count).
		injected int
	}{
		{"errors_503", atlassiantest.Faults{ErrorRate: 0.2, ErrorStatus: http.StatusServiceUnavailable}, http.StatusServiceUnavailable},
		// The client keeps under the bucket once it has seen Jira's
		// X-RateLimit-* headers, so the bucket alone may refuse nothing
		// after the first instant; 2% of 429s without those headers (as a
		// proxy in front of Jira may answer) make sure the retry path runs.
		{"rate_limit_429", atlassiantest.Faults{RateLimitPerSecond: 20, Burst: 5, ErrorRate: 0.02, ErrorStatus: http.StatusTooManyRequests}, http.StatusTooManyRequests},
		{"latency", atlassiantest.Faults{LatencyMS: 20}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newE2E(t, functional)
			e.emu.setFaults(t, tc.faults)
			mo, me := newModel("ok-", oktaRules()), newModel("en-", entraRules(functional.entraOnDelete))
			mb := newModel("fz-", entraRules(functional.entraOnDelete))
			t.Run("flows", func(t *testing.T) {
				t.Run("okta", func(t *testing.T) { t.Parallel(); oktaFlow(t, e, mo) })
				t.Run("entra", func(t *testing.T) { t.Parallel(); entraFlow(t, e, me) })
				t.Run("burst", func(t *testing.T) { t.Parallel(); burstFlow(t, e, mb, "fz-", 40) })
			})
			if t.Failed() {
				return
			}
			if tc.injected != 0 {
				n := 0
				for _, r := range e.emu.requests(t) {
					if r.Status == tc.injected {
						n++
					}
				}
				if n == 0 {
					t.Errorf("the emulator never answered %d: the faults were not exercised", tc.injected)
				}
				t.Logf("%d answers with status %d injected", n, tc.injected)
			}
			e.finish(t, tc.name, mo, me, mb)
		})
	}
}

// pushBurst creates n Entra-shaped users <prefix>NNN concurrently (lookup,
// then POST, as Entra does) and returns them in order.
func pushBurst(t *testing.T, c *scimClient, m *model, prefix string, n int) []*mUser {
	t.Helper()
	users := make([]*mUser, n)
	for i := range users {
		users[i] = entraUser(fmt.Sprintf("%s%03d", prefix, i), fmt.Sprintf("Burst User %03d", i), fmt.Sprintf("Burst %03d", i))
	}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan *mUser)
	for range 8 {
		wg.Go(func() {
			for u := range next {
				if _, err := c.callErr(t.Context(), http.MethodGet, filterPath("/Users", fmt.Sprintf("userName eq %q", u.userName), ""), nil, http.StatusOK); err != nil {
					errs <- err
					continue
				}
				doc, err := c.callErr(t.Context(), http.MethodPost, "/Users", map[string]any{
					"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
					"userName":    u.userName,
					"active":      true,
					"displayName": u.displayName,
					"emails":      emailsJSON(u.emails),
					"name":        map[string]any{"formatted": u.formatted, "givenName": u.givenName, "familyName": u.familyName},
				}, http.StatusCreated)
				if err != nil {
					errs <- err
					continue
				}
				id, _ := doc["id"].(string)
				u.tenant, u.id = "entra", id
			}
		})
	}
	for _, u := range users {
		next <- u
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, u := range users {
		if u.id == "" {
			t.Fatalf("no id for %s", u.userName)
		}
		m.addUser(u)
	}
	return users
}

// burstFlow pushes n Entra-shaped users at once and puts them all in one
// group, so that faults hit many calls.
func burstFlow(t *testing.T, e *e2eEnv, m *model, prefix string, n int) {
	c := e.entraClient()
	users := pushBurst(t, c, m, prefix, n)
	g := c.entraCreateGroup(t, m, "jira-"+prefix+"burst")
	c.entraMembers(t, m, g, nil, users)
	e.awaitJira(t, "burst of "+prefix, m.diff)
	m.settle()
}

// countPrefix counts the Jira users whose name starts with prefix.
func countPrefix(st atlassiantest.State, prefix string) int {
	n := 0
	for _, u := range st.Users {
		if strings.HasPrefix(strings.ToLower(u.Name), prefix) {
			n++
		}
	}
	return n
}

// awaitPartial polls until some but not all of the prefix's n users are in
// Jira: the engine is in the middle of applying.
func (e *e2eEnv) awaitPartial(t *testing.T, prefix string, n int) int {
	t.Helper()
	var got int
	e.awaitJira(t, "some but not all users applied", func(st atlassiantest.State) string {
		got = countPrefix(st, prefix)
		if got == n {
			t.Fatalf("all %d users were applied before the test could interrupt scimbridge; lower the rate limit", n)
		}
		if got == 0 {
			return "no user applied yet"
		}
		return ""
	})
	return got
}

// TestE2ECrashRestart pushes a burst of 200 users and a group holding them
// all, kills scimbridge with SIGKILL in the middle of applying, restarts it
// on the same database: every user and membership arrives, once.
func TestE2ECrashRestart(t *testing.T) {
	const n = 200
	e := newE2E(t, e2eOptions{rateLimit: 100, burst: 10, entraOnDelete: "delete"})
	m := newModel("burst-", entraRules("delete"))
	c := e.entraClient()
	group := c.entraCreateGroup(t, m, "jira-burst")
	users := pushBurst(t, c, m, "burst-", n)
	for i := 0; i < n; i += 50 {
		c.entraMembers(t, m, group, nil, users[i:i+50])
	}

	applied := e.awaitPartial(t, "burst-", n)
	if err := e.sb.cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	select {
	case <-e.sb.done:
	case <-time.After(stopDeadline):
		t.Fatal("scimbridge did not die after SIGKILL")
	}
	st, err := e.emu.state(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed with %d of %d users in Jira (%d when the kill was decided)", countPrefix(st, "burst-"), n, applied)
	if exactDiff(st, m) == "" {
		t.Fatal("Jira had converged before the kill: the restart proves nothing")
	}

	e.restart(t)
	e.awaitJira(t, "after the restart", func(st atlassiantest.State) string { return exactDiff(st, m) })
	if got := len(listAll(t, e.client, e.root(), "entra", e2eEntraToken, "Users")); got != n {
		t.Errorf("scimbridge serves %d users after the crash, want %d", got, n)
	}
	creates, deletes := 0, 0
	for _, r := range e.emu.requests(t) {
		switch {
		case r.Method == http.MethodPost && r.Path == "/rest/api/2/user" && r.Status == http.StatusCreated:
			creates++
		case r.Method == http.MethodDelete && r.Path == "/rest/api/2/user":
			deletes++
		}
	}
	if creates != n || deletes != 0 {
		t.Errorf("Jira saw %d successful user creations and %d deletions, want %d and 0 (each account created once)", creates, deletes, n)
	}
	e.finish(t, "crash", m)
}

// TestE2EGracefulStop sends SIGTERM while a burst is being applied: the
// process exits with status 0, every account it touched is complete, and
// a restart applies the rest.
func TestE2EGracefulStop(t *testing.T) {
	const n = 60
	e := newE2E(t, e2eOptions{rateLimit: 20, burst: 2, entraOnDelete: "delete"})
	m := newModel("calm-", entraRules("delete"))
	pushBurst(t, e.entraClient(), m, "calm-", n)
	atStop := e.awaitPartial(t, "calm-", n)
	e.sb.stop(t) // SIGTERM; exit status 0 within stopDeadline

	st, err := e.emu.state(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := m.want()
	got := gotUsers(st, func(name string) bool { return strings.HasPrefix(name, "calm-") })
	for name, g := range got {
		if w := want[name]; fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("after SIGTERM %s is half-applied: %+v, want %+v", name, g, w)
		}
	}
	t.Logf("SIGTERM with %d of %d users applied, %d when the process had exited", atStop, n, len(got))

	e.restart(t)
	e.finish(t, "graceful stop", m)
}

// parallel runs fn(0..n-1) on 8 goroutines and fails the test with the
// first error.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestE2ECrashDuringRenames: every user of a burst is renamed (a domain
// migration: Entra replaces userName) and gets a new display name, and
// scimbridge is killed with SIGKILL in the middle of applying. A rename
// Jira carried out whose link was not saved yet must not strand the user:
// after the restart every account has its new name and attributes.
func TestE2ECrashDuringRenames(t *testing.T) {
	const n = 120
	e := newE2E(t, e2eOptions{rateLimit: 100, burst: 10, entraOnDelete: "delete"})
	m := newModel("ren-", entraRules("delete"))
	c := e.entraClient()
	users := pushBurst(t, c, m, "ren-", n)
	e.awaitJira(t, "burst created", m.diff)
	m.settle()

	parallel(t, n, func(i int) error {
		u := users[i]
		name := fmt.Sprintf("ren-new-%03d@contoso.com", i)
		display := fmt.Sprintf("Renamed User %03d", i)
		_, err := c.callErr(t.Context(), http.MethodPatch, "/Users/"+u.id, patchOp(
			map[string]any{"op": "Replace", "path": "userName", "value": name},
			map[string]any{"op": "Replace", "path": "displayName", "value": display},
		), http.StatusOK, http.StatusNoContent)
		if err == nil {
			m.update(func() { u.userName, u.displayName = name, display })
		}
		return err
	})
	e.awaitPartial(t, "ren-new-", n)
	if err := e.sb.cmd.Process.Kill(); err != nil {
		t.Fatalf("SIGKILL: %v", err)
	}
	select {
	case <-e.sb.done:
	case <-time.After(stopDeadline):
		t.Fatal("scimbridge did not die after SIGKILL")
	}
	st, err := e.emu.state(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Renamed but still with the old display name: the kill fell between
	// the two calls of their job, before its link was saved.
	halfway := 0
	for _, u := range st.Users {
		if strings.HasPrefix(u.Name, "ren-new-") && strings.HasPrefix(u.DisplayName, "Burst User") {
			halfway++
		}
	}
	t.Logf("killed with %d of %d users renamed in Jira, %d of them half-way", countPrefix(st, "ren-new-"), n, halfway)

	e.restart(t)
	e.awaitJira(t, "every account renamed", func(st atlassiantest.State) string {
		if got := countPrefix(st, "ren-new-"); got != n {
			return fmt.Sprintf("%d of %d accounts renamed", got, n)
		}
		return ""
	})
	// The half-way ones are renamed in Jira while their links still name
	// the old account: they must carry on under the new name.
	e.awaitJira(t, "renames after the restart", m.diff)
	e.finish(t, "crash during renames", m)
}
