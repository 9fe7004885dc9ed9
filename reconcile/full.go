package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/transform"
)

// RunOptions tune one full reconcile.
type RunOptions struct {
	Trigger string // cron | webhook | api | manual
	// DryRun plans and records the results without a single write to Atlassian.
	DryRun bool
	// Force applies a plan even when it trips the safety brake.
	Force bool
	// MaxDeprovisionPercent is the safety brake: a run whose plan would
	// deactivate or delete more than this share of the accounts it manages
	// writes nothing and ends "aborted"; 0 means 10.
	MaxDeprovisionPercent int
	// Orphans is what happens to Atlassian accounts no tenant owns: "keep"
	// (default) or "deactivate". They are never deleted.
	Orphans string
}

// planned is one user's plan on one target in a full reconcile.
type planned struct {
	t       *Tenant
	u       store.User
	deleted bool
	p       plan
	link    store.Link
	actual  *account // what the target has now; nil if the account does not exist
}

// Reconcile reads every target's accounts and memberships and brings every
// tenant's users to their desired state, repairing whatever drifted (changes
// made by hand in Atlassian, missed events): the same decisions as a push,
// but compared with the target's actual state instead of the links.
func (e *Engine) Reconcile(ctx context.Context, opts RunOptions) (store.Run, error) {
	rec, err := e.startRun(ctx, runKind(opts), orDefault(opts.Trigger, "manual"))
	if err != nil {
		return store.Run{}, err
	}
	return e.reconcile(ctx, rec, opts)
}

func runKind(opts RunOptions) string {
	if opts.DryRun {
		return "dry-run"
	}
	return "reconcile"
}

func (e *Engine) reconcile(ctx context.Context, rec *recorder, opts RunOptions) (store.Run, error) {
	if rec.run.Status != "running" {
		rec.run.Status = "running"
		rec.run.StartedAt = e.now().UTC()
		if err := e.st.UpdateRun(ctx, rec.run); err != nil {
			return rec.run, fmt.Errorf("start run %d: %w", rec.run.ID, err)
		}
	}
	if opts.MaxDeprovisionPercent <= 0 {
		opts.MaxDeprovisionPercent = 10
	}
	var plans []planned
	var orphans []orphan
	for _, tg := range e.sortedTargets() {
		ps, os, err := e.planTarget(ctx, tg, opts)
		if err != nil {
			return rec.finish(ctx, err), err
		}
		plans = append(plans, ps...)
		orphans = append(orphans, os...)
	}

	// Safety brake: deactivations and deletions the plan would make,
	// against the accounts the bridge manages.
	managed, deprov := 0, 0
	for _, pl := range plans {
		if pl.actual != nil {
			managed++
			if pl.p.delete || (pl.actual.Active && !pl.p.acct.Active && !pl.p.keep && !pl.p.skip) {
				deprov++
			}
		}
	}
	if opts.Orphans == "deactivate" {
		for _, o := range orphans {
			if o.u.Active {
				deprov++
			}
		}
	}
	if managed > 0 && deprov*100 > opts.MaxDeprovisionPercent*managed && !opts.Force {
		rec.run.Status = "aborted"
		reason := fmt.Sprintf("safety brake: the plan would deactivate or delete %d of %d managed accounts (more than %d%%); nothing was written. Run again with force to apply it",
			deprov, managed, opts.MaxDeprovisionPercent)
		rec.run.Error = reason
		return rec.finish(ctx, nil), nil
	}

	for _, pl := range plans {
		// A failure is recorded in the results; the others go on.
		_ = e.applyPlanned(ctx, rec, pl, opts.DryRun)
	}
	if opts.Orphans == "deactivate" {
		for _, o := range orphans {
			e.deactivateOrphan(ctx, rec, o, opts.DryRun)
		}
	}
	return rec.finish(ctx, nil), nil
}

type orphan struct {
	target *Target
	u      atlassian.User
}

func (e *Engine) sortedTargets() []*Target {
	var out []*Target
	for _, t := range e.targets {
		out = append(out, t)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].Name < out[j-1].Name; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// planTarget reads the target and plans every user of every tenant that
// provisions into it.
func (e *Engine) planTarget(ctx context.Context, tg *Target, opts RunOptions) ([]planned, []orphan, error) {
	accounts := map[string]atlassian.User{}
	if err := tg.Dir.ListUsers(ctx, func(u atlassian.User) error {
		accounts[strings.ToLower(u.Name)] = u
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("list users of %s: %w", tg.Name, err)
	}
	// Memberships of every group any tenant may touch: wanted, default or managed.
	groups, err := tg.Dir.ListGroups(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list groups of %s: %w", tg.Name, err)
	}
	memberOf := map[string][]string{} // lower username -> groups
	var tenants []*Tenant
	for _, t := range e.tenants {
		for _, name := range t.Targets {
			if name == tg.Name {
				tenants = append(tenants, t)
			}
		}
	}
	for _, g := range groups {
		relevant := containsFold(adminGroups, g.Name)
		for _, t := range tenants {
			relevant = relevant || t.Mapping.Managed(g.Name) || containsFold(t.Lifecycle.ExemptGroups, g.Name)
		}
		if !relevant {
			continue
		}
		if err := tg.Dir.ListMembers(ctx, g.Name, func(u atlassian.User) error {
			k := strings.ToLower(u.Name)
			memberOf[k] = append(memberOf[k], g.Name)
			return nil
		}); err != nil && atlassian.KindOf(err) != atlassian.NotFound {
			return nil, nil, fmt.Errorf("list members of %s on %s: %w", g.Name, tg.Name, err)
		}
	}

	owned := map[string]bool{}
	var plans []planned
	for _, t := range tenants {
		for offset := 0; ; offset += 500 {
			users, total, err := e.st.ListUsers(ctx, t.Name, store.Query{Offset: offset, Limit: 500})
			if err != nil {
				return nil, nil, fmt.Errorf("list users of tenant %s: %w", t.Name, err)
			}
			for _, u := range users {
				pl, err := e.planUser(ctx, t, tg, u, false, accounts, memberOf)
				if err != nil {
					return nil, nil, err
				}
				if pl.actual != nil {
					owned[strings.ToLower(pl.actual.Username)] = true
				}
				plans = append(plans, pl)
			}
			if offset+len(users) >= total || len(users) == 0 {
				break
			}
		}
	}
	// Users deleted in the IdP that still have an account we applied.
	if err := e.st.ListLinks(ctx, tg.Name, func(l store.Link) error {
		if l.Kind != store.KindUser || l.AppliedName == "" {
			return nil
		}
		t := e.tenants[l.Tenant]
		if t == nil {
			return nil
		}
		u, deleted, err := e.st.GetUserAny(ctx, l.Tenant, l.ResourceID)
		if err != nil || !deleted {
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}
		pl, err := e.planUser(ctx, t, tg, u, true, accounts, memberOf)
		if err != nil {
			return err
		}
		if pl.actual != nil {
			owned[strings.ToLower(pl.actual.Username)] = true
		}
		plans = append(plans, pl)
		return nil
	}); err != nil {
		return nil, nil, fmt.Errorf("read links of %s: %w", tg.Name, err)
	}
	var orphans []orphan
	if opts.Orphans == "deactivate" {
		for k, u := range accounts {
			if !owned[k] {
				orphans = append(orphans, orphan{target: tg, u: u})
			}
		}
	}
	return plans, orphans, nil
}

func (e *Engine) planUser(ctx context.Context, t *Tenant, tg *Target, u store.User, deleted bool,
	accounts map[string]atlassian.User, memberOf map[string][]string) (planned, error) {
	link, err := e.st.GetLink(ctx, tg.Name, t.Name, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		link = store.Link{Target: tg.Name, Tenant: t.Name, ResourceID: u.ID, Kind: store.KindUser, State: store.LinkPending}
	} else if err != nil {
		return planned{}, fmt.Errorf("read link: %w", err)
	}
	idpGroups, err := e.idpGroups(ctx, t.Name, u)
	if err != nil {
		return planned{}, err
	}
	d, derr := t.Mapping.Desired(userDocument(u), idpGroups)
	if derr != nil {
		return planned{t: t, u: u, deleted: deleted, link: link, p: plan{skip: true, reason: derr.Error()}}, nil
	}
	applied := decodeAccount(link.Applied)
	// The account on the target now: found under the name we applied, else
	// under the name we want.
	var actual *account
	var lastLogin *time.Time
	for _, name := range []string{link.AppliedName, d.Username} {
		if a, ok := accounts[strings.ToLower(name)]; ok && name != "" {
			actual = &account{Present: true, Username: a.Name, DisplayName: a.DisplayName, Email: a.Email, Active: a.Active}
			actual.Groups = transform.Union(memberOf[strings.ToLower(a.Name)])
			lastLogin = a.LastLogin
			break
		}
	}
	if actual == nil {
		applied = nil // the account is gone (deleted by hand): recreate it
	}
	p := decide(t, u, deleted, d, applied, link.DeactivatedReason == "inactivity")
	if p.skip && actual != nil && applied != nil {
		p.skip = false
	}
	if actual != nil && !p.delete && !p.keep && !p.skip {
		p = e.timeRules(t, u, p, link, actual, lastLogin, idpGroups)
	}
	return planned{t: t, u: u, deleted: deleted, p: p, link: link, actual: actual}, nil
}

// timeRules applies the tenant's time-based lifecycle to a planned user:
// delete_after for accounts the bridge deactivated long ago, inactive_after
// for accounts nobody logged into for too long (licence reclaim).
func (e *Engine) timeRules(t *Tenant, u store.User, p plan, link store.Link, actual *account, lastLogin *time.Time, idpGroups []string) plan {
	lc := t.Lifecycle
	now := e.now()
	if lc.DeleteAfter > 0 && !actual.Active && !p.acct.Active && link.DeactivatedAt != nil &&
		now.Sub(*link.DeactivatedAt) >= lc.DeleteAfter {
		return plan{delete: true, acct: account{Username: actual.Username},
			reason: fmt.Sprintf("deactivated since %s, longer than delete_after (%s)", link.DeactivatedAt.UTC().Format(time.RFC3339), lc.DeleteAfter)}
	}
	if lc.InactiveAfter <= 0 || !p.acct.Active || !actual.Active {
		return p
	}
	for _, g := range append(append([]string{}, idpGroups...), actual.Groups...) {
		if containsFold(adminGroups, g) || containsFold(lc.ExemptGroups, g) {
			return p // administrators and exempt groups are never reclaimed
		}
	}
	last := link.LastLoginAt
	if lastLogin != nil && (last == nil || lastLogin.After(*last)) {
		last = lastLogin
	}
	var why string
	switch {
	case last == nil && lc.NeverLoggedIn == "deactivate" && now.Sub(u.CreatedAt) >= lc.InactiveAfter:
		why = fmt.Sprintf("never logged in since it was provisioned on %s (inactive_after %s)", u.CreatedAt.UTC().Format(time.RFC3339), lc.InactiveAfter)
	case last != nil && now.Sub(*last) >= lc.InactiveAfter:
		why = fmt.Sprintf("no login since %s (inactive_after %s)", last.UTC().Format(time.RFC3339), lc.InactiveAfter)
	default:
		return p
	}
	p.acct.Active = false
	p.deactivatedBy = "inactivity"
	p.reason = why
	if lc.RemoveGroupsOnDeactivate {
		p.acct.Groups = nil
	}
	return p
}

// applyPlanned applies one planned user against the target's actual state.
func (e *Engine) applyPlanned(ctx context.Context, rec *recorder, pl planned, dryRun bool) error {
	tg := e.targets[pl.link.Target]
	res := store.Result{Tenant: pl.t.Name, ResourceID: pl.u.ID, UserName: pl.u.UserName, Target: tg.Name}
	if pl.p.keep || pl.p.skip {
		res.Action = "unchanged"
		if pl.p.skip {
			res.Action = "skipped"
		}
		res.Changes = map[string]store.Change{"reason": {After: pl.p.reason}}
		rec.add(ctx, res)
		return nil
	}
	dir := tg.Dir
	if dryRun {
		dir = dryDirectory{Directory: tg.Dir}
	}
	unlock := e.names.lock(nameKey(tg.Name, pl.p.acct.Username))
	defer unlock()
	a := &applier{e: e, dir: dir, tg: tg, t: pl.t, res: &res}
	link := pl.link
	var cur *account
	if pl.actual != nil {
		c := *pl.actual
		// Only memberships this tenant may manage are candidates for removal:
		// hand-added memberships elsewhere are kept.
		var ours []string
		if applied := decodeAccount(link.Applied); applied != nil {
			ours = applied.Groups
		}
		var groups []string
		for _, g := range c.Groups {
			if pl.t.Mapping.Managed(g) || containsFold(ours, g) {
				groups = append(groups, g)
			}
		}
		c.Groups = groups
		cur = &c
	}
	var err error
	if pl.p.delete {
		cur, err = a.delete(ctx, cur, &link)
	} else {
		cur, err = a.present(ctx, cur, pl.p, &link)
	}
	if err != nil {
		if res.Action != "" && res.Action != "unchanged" {
			// What was done before the failure is in the target: record it
			// (as syncUser does) before the failure.
			rec.add(ctx, res)
			res.Changes = nil
		}
		res.Action, res.Error = "failed", err.Error()
	}
	if res.Action == "" {
		res.Action = "unchanged"
	}
	rec.add(ctx, res)
	if dryRun {
		return err
	}
	link.Applied = encodeAccount(derefOr(cur))
	link.AppliedName = ""
	if cur != nil {
		link.AppliedName = cur.Username
	}
	if perr := e.putLink(ctx, link); perr != nil && err == nil {
		err = perr
	}
	return err
}

func (e *Engine) deactivateOrphan(ctx context.Context, rec *recorder, o orphan, dryRun bool) {
	// An orphan belongs to no tenant and has no SCIM id: it is recorded
	// under the pseudo-tenant "(orphan)" and its Atlassian key.
	id := o.u.Key
	if id == "" {
		id = o.u.Name
	}
	res := store.Result{Tenant: "(orphan)", ResourceID: id, Target: o.target.Name, UserName: o.u.Name, Action: "unchanged"}
	if o.u.Active {
		res.Action = "deactivated"
		res.Changes = map[string]store.Change{"active": {Before: true, After: false}, "reason": {After: "orphan: no tenant owns this account"}}
		if !dryRun {
			if err := o.target.Dir.SetActive(ctx, o.u.Name, false); err != nil {
				res.Action, res.Error = "failed", err.Error()
			}
		}
	}
	rec.add(ctx, res)
}

// dryDirectory reads from the real directory and pretends every write
// succeeded, so a dry run plans exactly what a real run would do.
type dryDirectory struct{ Directory }

func (d dryDirectory) CreateUser(_ context.Context, n atlassian.NewUser) (atlassian.User, error) {
	return atlassian.User{Name: n.Name, DisplayName: n.DisplayName, Email: n.Email, Active: n.Active}, nil
}
func (d dryDirectory) UpdateUser(_ context.Context, name string, _ atlassian.UserUpdate) (atlassian.User, error) {
	return atlassian.User{Name: name}, nil
}
func (d dryDirectory) RenameUser(_ context.Context, _, newName string) (atlassian.User, error) {
	return atlassian.User{Name: newName}, nil
}
func (d dryDirectory) SetActive(context.Context, string, bool) error      { return nil }
func (d dryDirectory) DeleteUser(context.Context, string) error           { return nil }
func (d dryDirectory) CreateGroup(context.Context, string) error          { return nil }
func (d dryDirectory) DeleteGroup(context.Context, string) error          { return nil }
func (d dryDirectory) AddMember(context.Context, string, string) error    { return nil }
func (d dryDirectory) RemoveMember(context.Context, string, string) error { return nil }

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
