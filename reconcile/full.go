package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
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

// planned is one user's plan on one target, kept from planning to applying
// only when applying it needs a call to Atlassian (or records a skip):
// compact, without the user's attributes.
type planned struct {
	t        *Tenant
	tg       *Target
	id       string // SCIM id
	userName string
	deleted  bool
	p        plan
	link     store.Link
	actual   *account // what the target has now; nil if the account does not exist
	// applied is the account the link says was applied (decoded from
	// link.Applied), even when that account is gone; nil if none.
	applied *account
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

// fullRun is the state of one full reconcile. Planning visits every user
// once: a user whose plan needs no call to Atlassian is settled on the spot
// (its "unchanged" result recorded, its link saved if it changed) and only
// counted for the safety brake; the others are kept in work until the brake
// has counted every plan of every target.
type fullRun struct {
	e    *Engine
	rec  *recorder
	opts RunOptions

	work    []planned
	orphans []orphan
	// managed and deprov are the safety brake's counts: accounts the plans
	// found, and the ones they would deactivate or delete.
	managed, deprov int
	// links are changed links of settled users, saved in batches.
	links []store.Link
	// groups are each tenant's memberships, read once per run.
	groups map[string]*tenantGroups

	// Settled users' results go through results to a goroutine of their
	// own, so that planning goes on while a batch of them is written.
	results  chan store.Result
	recorded chan struct{} // closed when the goroutine has recorded them all
}

// linkBatch is how many links one PutLinks writes, how many users' links
// one GetLinks reads, and how many users are planned at a time.
const linkBatch = 500

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
	fr := &fullRun{e: e, rec: rec, opts: opts, groups: map[string]*tenantGroups{},
		results: make(chan store.Result, 4*flushEvery), recorded: make(chan struct{})}
	go func() {
		defer close(fr.recorded)
		for res := range fr.results {
			rec.add(ctx, res)
		}
	}()
	err := fr.plan(ctx)
	close(fr.results)
	<-fr.recorded
	if err != nil {
		return rec.finish(ctx, err), err
	}

	// Safety brake: deactivations and deletions the plan would make,
	// against the accounts the bridge manages.
	managed, deprov := fr.managed, fr.deprov
	if opts.Orphans == "deactivate" {
		for _, o := range fr.orphans {
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

	for _, pl := range fr.work {
		// A failure is recorded in the results; the others go on.
		_ = e.applyPlanned(ctx, rec, pl, opts.DryRun)
	}
	if opts.Orphans == "deactivate" {
		for _, o := range fr.orphans {
			e.deactivateOrphan(ctx, rec, o, opts.DryRun)
		}
	}
	return rec.finish(ctx, nil), nil
}

// plan plans every target and saves the settled users' changed links.
func (fr *fullRun) plan(ctx context.Context) error {
	for _, tg := range fr.e.sortedTargets() {
		if err := fr.planTarget(ctx, tg); err != nil {
			if serr := fr.saveLinks(ctx); serr != nil {
				fr.e.log.Error("save links of a failed reconcile", "run", fr.rec.run.ID, "err", serr)
			}
			return err
		}
	}
	return fr.saveLinks(ctx)
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

// listWorkers is how many member lists of one target are read at once.
const listWorkers = 4

// readTarget reads the target's accounts and the memberships of every group
// a tenant may touch (wanted, default, managed, exempt, admin): the account
// list and the member lists at once, listWorkers of those at a time, so
// that the target's answering and our decoding overlap.
func (fr *fullRun) readTarget(ctx context.Context, tg *Target, tenants []*Tenant) (map[string]atlassian.User, map[string][]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		first    error
		wg       sync.WaitGroup
		accounts = map[string]atlassian.User{}
		memberOf = map[string][]string{} // lower username -> groups
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
			cancel()
		}
		mu.Unlock()
	}
	wg.Go(func() {
		if err := tg.Dir.ListUsers(ctx, func(u atlassian.User) error {
			accounts[strings.ToLower(u.Name)] = u
			return nil
		}); err != nil {
			fail(fmt.Errorf("list users of %s: %w", tg.Name, err))
		}
	})
	groups, err := tg.Dir.ListGroups(ctx)
	if err != nil {
		fail(fmt.Errorf("list groups of %s: %w", tg.Name, err))
		wg.Wait()
		return nil, nil, first
	}
	names := make(chan string)
	for range listWorkers {
		wg.Go(func() {
			for g := range names {
				err := tg.Dir.ListMembers(ctx, g, func(u atlassian.User) error {
					k := strings.ToLower(u.Name)
					mu.Lock()
					memberOf[k] = append(memberOf[k], g)
					mu.Unlock()
					return nil
				})
				if err != nil && atlassian.KindOf(err) != atlassian.NotFound {
					fail(fmt.Errorf("list members of %s on %s: %w", g, tg.Name, err))
				}
			}
		})
	}
	for _, g := range groups {
		relevant := containsFold(adminGroups, g.Name)
		for _, t := range tenants {
			relevant = relevant || t.Mapping.Managed(g.Name) || containsFold(t.Lifecycle.ExemptGroups, g.Name)
		}
		if !relevant {
			continue
		}
		select {
		case names <- g.Name:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(names)
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = ctx.Err()
	}
	if first != nil {
		return nil, nil, first
	}
	return accounts, memberOf, nil
}

// planTarget reads the target and plans every user of every tenant that
// provisions into it.
func (fr *fullRun) planTarget(ctx context.Context, tg *Target) error {
	e := fr.e
	var tenants []*Tenant
	for _, t := range e.tenants {
		for _, name := range t.Targets {
			if name == tg.Name {
				tenants = append(tenants, t)
			}
		}
	}
	accounts, memberOf, err := fr.readTarget(ctx, tg, tenants)
	if err != nil {
		return err
	}

	tp := &targetPlan{fr: fr, tg: tg, accounts: accounts, memberOf: memberOf}
	if fr.opts.Orphans == "deactivate" {
		tp.owned = map[string]bool{}
	}
	for _, t := range tenants {
		if err := tp.planTenant(ctx, t); err != nil {
			return err
		}
	}
	// Users deleted in the IdP that still have an account we applied.
	stranded, err := e.st.StrandedLinks(ctx, tg.Name)
	if err != nil {
		return fmt.Errorf("read links of %s: %w", tg.Name, err)
	}
	for _, l := range stranded {
		t := e.tenants[l.Tenant]
		if t == nil {
			continue
		}
		u, deleted, err := e.st.GetUserAny(ctx, l.Tenant, l.ResourceID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !deleted) {
			continue // never stored, or created since
		}
		if err != nil {
			return fmt.Errorf("read links of %s: %w", tg.Name, err)
		}
		groups, err := fr.groupsOf(ctx, t.Name)
		if err != nil {
			return err
		}
		if err := tp.settle(ctx, e.planUser(t, tg, u, true, l, groups.flatten(u.Groups), accounts, memberOf)); err != nil {
			return err
		}
	}
	if tp.owned != nil {
		for k, u := range accounts {
			if !tp.owned[k] {
				fr.orphans = append(fr.orphans, orphan{target: tg, u: u})
			}
		}
	}
	return nil
}

// targetPlan is the planning of one target.
type targetPlan struct {
	fr       *fullRun
	tg       *Target
	accounts map[string]atlassian.User
	memberOf map[string][]string
	// owned holds the lower-case usernames the plans found; nil unless
	// orphans are deactivated.
	owned map[string]bool
}

// userBatch is a batch of live users of a tenant and their links on the
// target, by user id.
type userBatch struct {
	users []store.User
	links map[string]store.Link
}

// planTenant plans every live user of t, a batch at a time: the users and
// their links are read (and the attributes decoded) by a goroutine of its
// own, one batch ahead of the planning.
func (tp *targetPlan) planTenant(ctx context.Context, t *Tenant) error {
	groups, err := tp.fr.groupsOf(ctx, t.Name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan userBatch, 1)
	var readErr error
	read := make(chan struct{})
	go func() {
		defer close(read)
		defer close(batches)
		readErr = tp.readUsers(ctx, t, batches)
	}()
	var planErr error
	for b := range batches {
		if planErr == nil {
			if planErr = tp.planBatch(ctx, t, groups, b); planErr != nil {
				cancel() // the reader stops; the loop drains what it sent
			}
		}
	}
	<-read
	if planErr == nil {
		planErr = readErr
	}
	if planErr != nil {
		return fmt.Errorf("plan users of tenant %s: %w", t.Name, planErr)
	}
	return nil
}

// readUsers sends every live user of t, with its link, in batches.
func (tp *targetPlan) readUsers(ctx context.Context, t *Tenant, batches chan<- userBatch) error {
	e := tp.fr.e
	send := func(users []store.User) error {
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.ID
		}
		links, err := e.st.GetLinks(ctx, tp.tg.Name, t.Name, ids)
		if err != nil {
			return fmt.Errorf("read links: %w", err)
		}
		b := userBatch{users: users, links: make(map[string]store.Link, len(links))}
		for _, l := range links {
			b.links[l.ResourceID] = l
		}
		select {
		case batches <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	users := make([]store.User, 0, linkBatch)
	err := e.st.EachUser(ctx, t.Name, false, func(u store.User) error {
		users = append(users, u)
		if len(users) < linkBatch {
			return nil
		}
		full := users
		users = make([]store.User, 0, linkBatch)
		return send(full)
	})
	if err == nil && len(users) > 0 {
		err = send(users)
	}
	return err
}

// planBatch plans a batch of live users of t.
func (tp *targetPlan) planBatch(ctx context.Context, t *Tenant, groups *tenantGroups, b userBatch) error {
	e := tp.fr.e
	for i, u := range b.users {
		link, ok := b.links[u.ID]
		if !ok {
			link = store.Link{Target: tp.tg.Name, Tenant: t.Name, ResourceID: u.ID, Kind: store.KindUser, State: store.LinkPending}
		}
		u.Groups = groups.direct(u.ID)
		if err := tp.settle(ctx, e.planUser(t, tp.tg, u, false, link, groups.flatten(u.Groups), tp.accounts, tp.memberOf)); err != nil {
			return err
		}
		b.users[i] = store.User{} // its attributes are not kept past its plan
	}
	return nil
}

// settle counts a plan for the safety brake and either finishes it now,
// when applying it needs no call to Atlassian, or keeps it for after the
// brake.
func (tp *targetPlan) settle(ctx context.Context, pl planned) error {
	fr := tp.fr
	if pl.actual != nil {
		fr.managed++
		if pl.p.delete || (pl.actual.Active && !pl.p.acct.Active && !pl.p.keep && !pl.p.skip) {
			fr.deprov++
		}
		if tp.owned != nil {
			tp.owned[strings.ToLower(pl.actual.Username)] = true
		}
	}
	switch {
	case pl.p.keep:
		// Lifecycle "keep": nothing is applied, whatever the brake says.
		fr.results <- keptResult(pl)
		return nil
	case pl.p.skip:
		// Skips are recorded with the applies, so that a run the brake
		// stops records nothing but unchanged users.
		pl.link, pl.actual = store.Link{}, nil
		fr.work = append(fr.work, pl)
		return nil
	}
	res, link, err := fr.e.applyPlan(ctx, probeDirectory{}, pl)
	if err != nil || res.Action != "" {
		// Something to do in Atlassian: after the brake, under the name lock.
		fr.work = append(fr.work, pl)
		return nil
	}
	res.Action = "unchanged"
	fr.results <- res
	if !fr.opts.DryRun && !sameLink(link, pl.link) {
		// No call to Atlassian, so no lock to hold while it is saved: the
		// link only catches up with what the target has (a first run adopts
		// every account this way).
		fr.links = append(fr.links, link)
		if len(fr.links) >= linkBatch {
			return fr.saveLinks(ctx)
		}
	}
	return nil
}

// saveLinks writes the changed links of settled users.
func (fr *fullRun) saveLinks(ctx context.Context) error {
	if len(fr.links) == 0 {
		return nil
	}
	links := fr.links
	fr.links = fr.links[:0]
	if err := fr.e.st.PutLinks(ctx, links); err != nil {
		return fmt.Errorf("save %d links: %w", len(links), err)
	}
	return nil
}

func keptResult(pl planned) store.Result {
	res := store.Result{Tenant: pl.t.Name, ResourceID: pl.id, UserName: pl.userName, Target: pl.tg.Name, Action: "unchanged"}
	if pl.p.skip {
		res.Action = "skipped"
	}
	res.Changes = map[string]store.Change{"reason": {After: pl.p.reason}}
	return res
}

// sameLink reports whether saving b over a would change anything but
// UpdatedAt.
func sameLink(a, b store.Link) bool {
	sameTime := func(x, y *time.Time) bool { return (x == nil) == (y == nil) && (x == nil || x.Equal(*y)) }
	return a.Target == b.Target && a.Tenant == b.Tenant && a.ResourceID == b.ResourceID && a.Kind == b.Kind &&
		a.DesiredName == b.DesiredName && a.Priority == b.Priority && bytes.Equal(a.Desired, b.Desired) &&
		bytes.Equal(a.Applied, b.Applied) && a.AppliedName == b.AppliedName && a.Key == b.Key && a.State == b.State &&
		sameTime(a.DeactivatedAt, b.DeactivatedAt) && a.DeactivatedReason == b.DeactivatedReason &&
		sameTime(a.LastLoginAt, b.LastLoginAt) && (a.Desired == nil) == (b.Desired == nil) && (a.Applied == nil) == (b.Applied == nil)
}

// document is the SCIM user as transform reads it: userDocument, built in
// the user's own attribute map, which a full reconcile reads fresh for each
// user and drops after its plan.
func document(u store.User) map[string]any {
	m := u.Attributes
	if m == nil {
		m = make(map[string]any, 4)
	}
	m["id"] = u.ID
	m["userName"] = u.UserName
	m["active"] = u.Active
	if u.ExternalID != "" {
		m["externalId"] = u.ExternalID
	}
	return m
}

func (e *Engine) planUser(t *Tenant, tg *Target, u store.User, deleted bool, link store.Link, idpGroups []string,
	accounts map[string]atlassian.User, memberOf map[string][]string) planned {
	pl := planned{t: t, tg: tg, id: u.ID, userName: u.UserName, deleted: deleted, link: link}
	d, derr := t.Mapping.Desired(document(u), idpGroups)
	if derr != nil {
		pl.p = plan{skip: true, reason: derr.Error()}
		return pl
	}
	applied := decodeAccount(link.Applied)
	pl.applied = applied
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
	pl.p, pl.actual = p, actual
	return pl
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
	if pl.p.keep || pl.p.skip {
		rec.add(ctx, keptResult(pl))
		return nil
	}
	dir := pl.tg.Dir
	if dryRun {
		dir = dryDirectory{Directory: pl.tg.Dir}
	}
	unlock := e.names.lock(nameKey(pl.tg.Name, pl.p.acct.Username))
	defer unlock()
	res, link, err := e.applyPlan(ctx, dir, pl)
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
	if dryRun || sameLink(link, pl.link) {
		return err
	}
	// Saved before the name lock is released, so a push of the same
	// account never reads the link from before this apply.
	if perr := e.putLink(ctx, link); perr != nil && err == nil {
		err = perr
	}
	return err
}

// applyPlan issues the calls pl needs on dir and returns the result (its
// Action "" when no call was needed) and the link as it should be saved.
func (e *Engine) applyPlan(ctx context.Context, dir Directory, pl planned) (store.Result, store.Link, error) {
	res := store.Result{Tenant: pl.t.Name, ResourceID: pl.id, UserName: pl.userName, Target: pl.tg.Name}
	a := &applier{e: e, dir: dir, tg: pl.tg, t: pl.t, res: &res}
	link := pl.link
	var cur *account
	if pl.actual != nil {
		c := *pl.actual
		// Only memberships this tenant may manage are candidates for removal:
		// hand-added memberships elsewhere are kept.
		var ours []string
		if pl.applied != nil {
			ours = pl.applied.Groups
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
	if cur == nil || pl.applied == nil || !sameAccount(*cur, *pl.applied) {
		// Else the link's document says it already (every full reconcile
		// of a directory in step would encode it again otherwise).
		link.Applied = encodeAccount(derefOr(cur))
	}
	link.AppliedName = ""
	if cur != nil {
		link.AppliedName = cur.Username
	}
	return res, link, err
}

func sameAccount(a, b account) bool {
	return a.Present == b.Present && a.Username == b.Username && a.DisplayName == b.DisplayName && a.Email == b.Email &&
		a.Active == b.Active && a.Deleted == b.Deleted && slices.Equal(a.Groups, b.Groups)
}

// errWouldWrite is probeDirectory's answer to every call.
var errWouldWrite = errors.New("a call to Atlassian is needed")

// probeDirectory refuses every call: applying a plan against it tells
// whether the plan needs any call at all, through the very code that
// applies it (a plan that needs none leaves the result's Action empty).
// The reads the applier makes only follow a write (a lookup after a refused
// create or rename), so refusing the reads too loses nothing; and should it
// ever read first, a refused read only makes the plan look as if it needed
// a call: it is then applied after the brake like any other, which is slower
// but never wrong.
type probeDirectory struct{}

func (probeDirectory) GetUser(context.Context, string) (atlassian.User, error) {
	return atlassian.User{}, errWouldWrite
}
func (probeDirectory) CreateUser(context.Context, atlassian.NewUser) (atlassian.User, error) {
	return atlassian.User{}, errWouldWrite
}
func (probeDirectory) UpdateUser(context.Context, string, atlassian.UserUpdate) (atlassian.User, error) {
	return atlassian.User{}, errWouldWrite
}
func (probeDirectory) RenameUser(context.Context, string, string) (atlassian.User, error) {
	return atlassian.User{}, errWouldWrite
}
func (probeDirectory) SetActive(context.Context, string, bool) error { return errWouldWrite }
func (probeDirectory) DeleteUser(context.Context, string) error      { return errWouldWrite }
func (probeDirectory) ListUsers(context.Context, func(atlassian.User) error) error {
	return errWouldWrite
}
func (probeDirectory) ListGroups(context.Context) ([]atlassian.Group, error) {
	return nil, errWouldWrite
}
func (probeDirectory) CreateGroup(context.Context, string) error          { return errWouldWrite }
func (probeDirectory) DeleteGroup(context.Context, string) error          { return errWouldWrite }
func (probeDirectory) AddMember(context.Context, string, string) error    { return errWouldWrite }
func (probeDirectory) RemoveMember(context.Context, string, string) error { return errWouldWrite }
func (probeDirectory) ListMembers(context.Context, string, func(atlassian.User) error) error {
	return errWouldWrite
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
