package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/transform"
)

// account is an Atlassian account as the bridge wants it or last applied
// it; it is stored as JSON in the links.
type account struct {
	Present     bool     `json:"present"`
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Email       string   `json:"email"`
	Active      bool     `json:"active"`
	Groups      []string `json:"groups"` // Atlassian groups the bridge wants / added, sorted
	// Deleted marks a desired state computed for a user the IdP deleted: a
	// live user wanting the same username wins over it.
	Deleted bool `json:"deleted,omitempty"`
}

// plan is the outcome one user should have on one target.
type plan struct {
	acct   account
	delete bool   // delete the account
	keep   bool   // leave Atlassian alone (lifecycle "keep")
	skip   bool   // nothing of ours should exist (out of scope, never provisioned)
	reason string // why it is deactivated, deleted, kept or skipped
	// deactivatedBy is the store.Link DeactivatedReason when acct is inactive.
	deactivatedBy string
}

// syncUserAll applies one user to every target of its tenant. With w set
// (the push engine, one target) the last link is left in w, to be saved
// with the job's settlement.
func (e *Engine) syncUserAll(ctx context.Context, rec *recorder, t *Tenant, id string, w *jobWrites) error {
	u, deleted, err := e.st.GetUserAny(ctx, t.Name, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read user %s: %w", id, err)
	}
	idpGroups, err := e.idpGroups(ctx, t.Name, u)
	if err != nil {
		return err
	}
	d, derr := t.Mapping.Desired(userDocument(u), idpGroups)
	var first error
	for _, name := range t.Targets {
		tg := e.targets[name]
		var err error
		if derr != nil {
			// The mapping cannot produce an account for this user (a rule
			// failed): nothing is applied; the admin sees why.
			rec.add(ctx, store.Result{Tenant: t.Name, ResourceID: u.ID, UserName: u.UserName, Target: tg.Name,
				Action: "failed", Error: derr.Error()})
			err = fmt.Errorf("%w: %w", errPermanent, derr)
		} else {
			err = e.syncUser(ctx, rec, t, tg, u, deleted, d, w)
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}

// userDocument is the SCIM user as transform reads it.
func userDocument(u store.User) map[string]any {
	m := make(map[string]any, len(u.Attributes)+4)
	for k, v := range u.Attributes {
		m[k] = v
	}
	m["id"] = u.ID
	m["userName"] = u.UserName
	m["active"] = u.Active
	if u.ExternalID != "" {
		m["externalId"] = u.ExternalID
	}
	return m
}

// idpGroups returns the display names of the user's IdP groups, nested
// groups flattened (a member of "backend", itself in "engineering", is in
// both).
func (e *Engine) idpGroups(ctx context.Context, tenant string, u store.User) ([]string, error) {
	seen := map[string]bool{}
	var names, frontier []string
	for _, g := range u.Groups {
		if !seen[g.ID] {
			seen[g.ID] = true
			names = append(names, g.DisplayName)
			frontier = append(frontier, g.ID)
		}
	}
	for depth := 0; len(frontier) > 0 && depth < 32; depth++ {
		parents, err := e.st.GroupsContaining(ctx, tenant, frontier)
		if err != nil {
			return nil, fmt.Errorf("read nested groups of user %s: %w", u.ID, err)
		}
		frontier = frontier[:0]
		for _, p := range parents {
			if !seen[p.ID] {
				seen[p.ID] = true
				names = append(names, p.DisplayName)
				frontier = append(frontier, p.ID)
			}
		}
	}
	return names, nil
}

// decide turns the IdP's view of the user into the plan for one target,
// given what was applied there before (nil if nothing).
func decide(t *Tenant, u store.User, deleted bool, d transform.Desired, applied *account, inactivity bool) plan {
	want := account{Present: true, Username: d.Username, DisplayName: d.DisplayName, Email: d.Email,
		Active: true, Groups: d.Groups}
	if want.Username == "" && applied != nil {
		want.Username, want.DisplayName, want.Email = applied.Username, applied.DisplayName, applied.Email
	}
	deprovision := func(action, why string) plan {
		switch action {
		case ActionKeep:
			return plan{keep: true, reason: why + "; lifecycle says keep"}
		case ActionDelete:
			return plan{delete: true, acct: account{Username: want.Username}, reason: why}
		}
		p := plan{acct: want, reason: why, deactivatedBy: why}
		p.acct.Active = false
		if applied != nil {
			p.acct.Groups = applied.Groups // memberships are left as they are
		}
		if t.Lifecycle.RemoveGroupsOnDeactivate {
			p.acct.Groups = nil
		}
		return p
	}
	switch {
	case deleted:
		if applied == nil {
			return plan{skip: true, reason: "deleted in the IdP before it was provisioned"}
		}
		return deprovision(orDefault(t.Lifecycle.OnDelete, ActionDisable), "idp-deleted")
	case d.Skipped && applied == nil:
		return plan{skip: true, reason: d.Reason}
	case d.Skipped:
		return deprovision(orDefault(t.Lifecycle.OnDeactivate, ActionDisable), "out-of-scope")
	case inactivity && u.Active && applied != nil && !applied.Active:
		// Deactivated for inactivity while the IdP still has the user: it
		// stays so until a login event (reactivate_on_login) or the IdP
		// deactivates it itself.
		p := plan{acct: want, reason: "inactivity", deactivatedBy: "inactivity"}
		p.acct.Active = false
		p.acct.Groups = applied.Groups
		return p
	case !u.Active:
		if applied == nil {
			// Never provisioned and inactive ("Provision Disabled Users"):
			// create it disabled, so it exists before first login.
			p := plan{acct: want, reason: "idp", deactivatedBy: "idp"}
			p.acct.Active = false
			if t.Lifecycle.OnDeactivate == ActionKeep || t.Lifecycle.OnDeactivate == ActionDelete {
				return plan{skip: true, reason: "inactive in the IdP"}
			}
			return p
		}
		return deprovision(orDefault(t.Lifecycle.OnDeactivate, ActionDisable), "idp")
	}
	return plan{acct: want}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// syncUser brings one user to its plan on one target with the fewest calls.
// The link it ends with is saved at once, or, with w set, left in w with
// the name lock held until the settlement saves it.
func (e *Engine) syncUser(ctx context.Context, rec *recorder, t *Tenant, tg *Target, u store.User, deleted bool, d transform.Desired, w *jobWrites) error {
	link, err := e.st.GetLink(ctx, tg.Name, t.Name, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		link = store.Link{Target: tg.Name, Tenant: t.Name, ResourceID: u.ID, Kind: store.KindUser, State: store.LinkPending}
	} else if err != nil {
		return fmt.Errorf("read link: %w", err)
	}
	applied := decodeAccount(link.Applied)
	p := decide(t, u, deleted, d, applied, link.DeactivatedReason == "inactivity")

	res := store.Result{Tenant: t.Name, ResourceID: u.ID, UserName: u.UserName, Target: tg.Name}
	if p.keep || p.skip {
		res.Action = "unchanged"
		if p.skip {
			res.Action = "skipped"
			link.State = store.LinkSkipped
		}
		res.Error = ""
		res.Changes = map[string]store.Change{"reason": {After: p.reason}}
		rec.add(ctx, res)
		link.DesiredName = ""
		link.Desired = nil
		if w != nil {
			w.hold(link, nil)
			return nil
		}
		return e.putLink(ctx, link)
	}

	name := p.acct.Username
	keys := []string{nameKey(tg.Name, name)}
	if applied != nil {
		keys = append(keys, nameKey(tg.Name, applied.Username))
	}
	unlock := e.names.lock(keys...)
	held := false // handed to w with the link
	defer func() {
		if !held {
			unlock()
		}
	}()

	// Two tenants may produce the same username: the higher priority wins,
	// the other is reported, never silently overwritten.
	link.DesiredName, link.Priority = name, t.Priority
	desired := p.acct
	desired.Deleted = deleted
	link.Desired = encodeAccount(desired)
	if !p.delete {
		lost, err := e.settleConflict(ctx, rec, t, tg, &link, &p, res)
		if err != nil || lost {
			return err
		}
	}

	a := &applier{e: e, dir: tg.Dir, tg: tg, t: t, res: &res, before: applied}
	cur := applied
	if cur != nil {
		c := *cur
		cur = &c
	}
	var applyErr error
	if p.delete {
		cur, applyErr = a.delete(ctx, cur, &link)
	} else {
		cur, applyErr = a.present(ctx, cur, p, &link)
	}
	link.Applied = encodeAccount(derefOr(cur))
	if cur != nil {
		link.AppliedName = cur.Username
	} else {
		link.AppliedName = ""
	}
	if w != nil {
		w.hold(link, unlock)
		held = true
	} else if perr := e.putLink(ctx, link); perr != nil && applyErr == nil {
		applyErr = perr
	}
	if applyErr == nil && cur == nil && applied != nil {
		// The account is gone: another user that wants this username (and
		// lost it to us) can have it now.
		if err := e.releaseName(ctx, tg, link, applied.Username); err != nil {
			applyErr = err
		}
	}
	if applyErr != nil {
		if res.Action != "" && res.Action != "unchanged" {
			// Part of the change is in the target already (e.g. the account
			// was created, then a group add failed): record that as it
			// happened, so the history never hides a created account behind
			// the failure that followed.
			rec.add(ctx, res)
			res.Changes = nil
		}
		res.Action, res.Error = "failed", applyErr.Error()
		if !transient(applyErr) {
			res.Action = "parked"
		}
	}
	if res.Action == "" {
		res.Action = "unchanged"
	}
	rec.add(ctx, res)
	return applyErr
}

func derefOr(a *account) account {
	if a == nil {
		return account{}
	}
	return *a
}

func (e *Engine) putLink(ctx context.Context, l store.Link) error {
	if err := e.st.PutLink(ctx, l); err != nil {
		return fmt.Errorf("save link: %w", err)
	}
	return nil
}

// settleConflict resolves two tenants (or two users of one tenant) wanting
// the same username on a target. It reports lost=true when this user must
// not be applied; the winner is enqueued so it takes the account over.
func (e *Engine) settleConflict(ctx context.Context, rec *recorder, t *Tenant, tg *Target, link *store.Link, p *plan, res store.Result) (lost bool, err error) {
	others, err := e.st.LinksByDesiredName(ctx, tg.Name, store.KindUser, link.DesiredName)
	if err != nil {
		return false, fmt.Errorf("find username conflicts: %w", err)
	}
	var rivals []store.Link
	for _, o := range others {
		if o.Tenant == link.Tenant && o.ResourceID == link.ResourceID {
			continue
		}
		if da := decodeAccount(o.Desired); da != nil && da.Present {
			rivals = append(rivals, o)
		}
	}
	if len(rivals) == 0 {
		return false, nil
	}
	winner := *link
	for _, o := range rivals {
		if beats(o, winner) {
			winner = o
		}
	}
	if winner.Tenant != link.Tenant || winner.ResourceID != link.ResourceID {
		res.Action = "conflict"
		res.Error = fmt.Sprintf("username %q is also produced by tenant %q (priority %d, this tenant %d); the higher priority wins",
			link.DesiredName, winner.Tenant, winner.Priority, t.Priority)
		rec.add(ctx, res)
		if strings.EqualFold(link.AppliedName, link.DesiredName) {
			// We owned the account: hand it over without touching it.
			link.AppliedName, link.Applied = "", nil
		}
		link.State = store.LinkSkipped
		if err := e.putLink(ctx, *link); err != nil {
			return true, err
		}
		return true, e.st.EnqueueJob(ctx, winner.Tenant, store.KindUser, winner.ResourceID)
	}
	// We win: the losers' groups are kept (the account's desired groups are
	// the union), and a loser that owned the account lets go of it.
	for _, o := range rivals {
		if da := decodeAccount(o.Desired); da != nil {
			p.acct.Groups = transform.Union(p.acct.Groups, da.Groups)
		}
		if strings.EqualFold(o.AppliedName, link.DesiredName) {
			o.AppliedName, o.Applied, o.State = "", nil, store.LinkSkipped
			if err := e.putLink(ctx, o); err != nil {
				return false, err
			}
			if err := e.st.EnqueueJob(ctx, o.Tenant, store.KindUser, o.ResourceID); err != nil {
				return false, err
			}
		}
	}
	return false, nil
}

// releaseName enqueues every other user that wants name on the target, so
// the rule that it waited for is evaluated again.
func (e *Engine) releaseName(ctx context.Context, tg *Target, self store.Link, name string) error {
	others, err := e.st.LinksByDesiredName(ctx, tg.Name, store.KindUser, name)
	if err != nil {
		return fmt.Errorf("find users waiting for %q: %w", name, err)
	}
	for _, o := range others {
		if o.Tenant == self.Tenant && o.ResourceID == self.ResourceID {
			continue
		}
		if da := decodeAccount(o.Desired); da != nil && da.Present && !da.Deleted {
			if err := e.st.EnqueueJob(ctx, o.Tenant, store.KindUser, o.ResourceID); err != nil {
				return fmt.Errorf("enqueue %s: %w", o.ResourceID, err)
			}
		}
	}
	return nil
}

// beats reports whether a should own a contested username rather than b: a
// live user over one the IdP deleted; then higher priority; then the one that
// owns the account now; then a stable order, so every worker agrees.
func beats(a, b store.Link) bool {
	if ad, bd := isDeleted(a), isDeleted(b); ad != bd {
		return !ad
	}
	if a.Priority != b.Priority {
		return a.Priority > b.Priority
	}
	aOwns := strings.EqualFold(a.AppliedName, a.DesiredName)
	bOwns := strings.EqualFold(b.AppliedName, b.DesiredName)
	if aOwns != bOwns {
		return aOwns
	}
	return a.Tenant+"\x00"+a.ResourceID < b.Tenant+"\x00"+b.ResourceID
}

func encodeAccount(a account) []byte {
	b, _ := json.Marshal(a)
	return b
}

func decodeAccount(b []byte) *account {
	if len(b) == 0 {
		return nil
	}
	var a account
	if err := json.Unmarshal(b, &a); err != nil || !a.Present {
		return nil
	}
	return &a
}

// applier issues the calls for one user on one target and records what
// changed.
type applier struct {
	e      *Engine
	dir    Directory
	tg     *Target
	t      *Tenant
	res    *store.Result
	before *account
}

func (a *applier) change(field string, before, after any) {
	if a.res.Changes == nil {
		a.res.Changes = map[string]store.Change{}
	}
	a.res.Changes[field] = store.Change{Before: before, After: after}
}

// setAction keeps the most significant action of the ones that happened.
func (a *applier) setAction(action string) {
	rank := map[string]int{"": 0, "unchanged": 0, "group-removed": 1, "group-added": 2, "updated": 3, "renamed": 4,
		"reactivated": 5, "deactivated": 6, "adopted": 7, "created": 8, "deleted": 9}
	if rank[action] > rank[a.res.Action] {
		a.res.Action = action
	}
}

// present makes the account exist as planned. It returns what is applied
// afterwards (also on error, so progress is kept).
func (a *applier) present(ctx context.Context, cur *account, p plan, link *store.Link) (*account, error) {
	want := p.acct
	if cur == nil {
		u, err := a.dir.CreateUser(ctx, atlassian.NewUser{
			Name: want.Username, DisplayName: want.DisplayName, Email: want.Email,
			ApplicationKeys: a.tg.ApplicationKeys, Active: want.Active,
		})
		switch {
		case err == nil:
			cur = &account{Present: true, Username: u.Name, DisplayName: want.DisplayName, Email: want.Email, Active: want.Active}
			if u.Name == "" {
				cur.Username = want.Username
			}
			link.Key = u.Key
			a.setAction("created")
			a.change("username", nil, want.Username)
			a.change("display_name", nil, want.DisplayName)
			a.change("email", nil, want.Email)
			a.change("active", nil, want.Active)
		case atlassian.KindOf(err) == atlassian.AlreadyExists:
			// The account exists already (created by hand, or by an earlier
			// attempt whose answer was lost): adopt it instead of failing.
			u, gerr := a.dir.GetUser(ctx, want.Username)
			if gerr != nil {
				return nil, fmt.Errorf("adopt existing user %q: %w", want.Username, gerr)
			}
			cur = &account{Present: true, Username: u.Name, DisplayName: u.DisplayName, Email: u.Email, Active: u.Active}
			link.Key = u.Key
			a.setAction("adopted")
		default:
			return nil, fmt.Errorf("create user %q: %w", want.Username, err)
		}
	}

	if cur.Username != want.Username {
		u, err := a.dir.RenameUser(ctx, cur.Username, want.Username)
		if atlassian.KindOf(err) == atlassian.NotFound {
			// The old name is gone: an earlier attempt renamed it and its
			// answer (or our record of it) was lost. Carry on under the new
			// name if the account is there.
			if got, gerr := a.dir.GetUser(ctx, want.Username); gerr == nil {
				u, err = got, nil
			}
		}
		if err != nil {
			return cur, fmt.Errorf("rename user %q to %q: %w", cur.Username, want.Username, err)
		}
		a.change("username", cur.Username, want.Username)
		cur.Username = want.Username
		if u.Key != "" {
			link.Key = u.Key
		}
		a.setAction("renamed")
	}

	// Reactivate before anything else (an inactive account may hold no
	// seat); deactivate after the attribute updates.
	if want.Active && !cur.Active {
		if err := a.dir.SetActive(ctx, cur.Username, true); err != nil {
			return cur, fmt.Errorf("reactivate user %q: %w", cur.Username, err)
		}
		a.change("active", false, true)
		cur.Active = true
		link.State, link.DeactivatedAt, link.DeactivatedReason = store.LinkActive, nil, ""
		a.setAction("reactivated")
	}

	var upd atlassian.UserUpdate
	if cur.DisplayName != want.DisplayName {
		upd.DisplayName = &want.DisplayName
	}
	if cur.Email != want.Email {
		upd.Email = &want.Email
	}
	if !upd.IsZero() {
		if _, err := a.dir.UpdateUser(ctx, cur.Username, upd); err != nil {
			return cur, fmt.Errorf("update user %q: %w", cur.Username, err)
		}
		if upd.DisplayName != nil {
			a.change("display_name", cur.DisplayName, want.DisplayName)
			cur.DisplayName = want.DisplayName
		}
		if upd.Email != nil {
			a.change("email", cur.Email, want.Email)
			cur.Email = want.Email
		}
		a.setAction("updated")
	}

	if err := a.groups(ctx, cur, want.Groups); err != nil {
		return cur, err
	}

	if !want.Active && cur.Active {
		if err := a.dir.SetActive(ctx, cur.Username, false); err != nil {
			return cur, fmt.Errorf("deactivate user %q: %w", cur.Username, err)
		}
		a.change("active", true, false)
		cur.Active = false
		now := a.e.now().UTC()
		link.DeactivatedAt, link.DeactivatedReason = &now, p.deactivatedBy
		a.setAction("deactivated")
	}
	if cur.Active {
		link.State = store.LinkActive
	} else {
		link.State = store.LinkDeactivated
		if link.DeactivatedAt == nil {
			now := a.e.now().UTC()
			link.DeactivatedAt, link.DeactivatedReason = &now, p.deactivatedBy
		}
	}
	return cur, nil
}

// groups adds the missing memberships and removes the ones the bridge
// added or may manage that are no longer wanted. cur.Groups is what the
// bridge applied.
func (a *applier) groups(ctx context.Context, cur *account, want []string) error {
	before := slices.Clone(cur.Groups)
	have := map[string]bool{}
	for _, g := range cur.Groups {
		have[strings.ToLower(g)] = true
	}
	for _, g := range want {
		if have[strings.ToLower(g)] {
			continue
		}
		if err := a.addMember(ctx, g, cur.Username); err != nil {
			a.recordGroups(before, cur.Groups)
			return err
		}
		cur.Groups = transform.Union(cur.Groups, []string{g})
		a.setAction("group-added")
	}
	for _, g := range transform.Removals(want, cur.Groups, cur.Groups, nil) {
		if err := a.dir.RemoveMember(ctx, g, cur.Username); err != nil && !isGone(err) {
			a.recordGroups(before, cur.Groups)
			return fmt.Errorf("remove %q from group %q: %w", cur.Username, g, err)
		}
		cur.Groups = slices.DeleteFunc(slices.Clone(cur.Groups), func(x string) bool { return strings.EqualFold(x, g) })
		a.setAction("group-removed")
	}
	a.recordGroups(before, cur.Groups)
	return nil
}

func (a *applier) recordGroups(before, after []string) {
	if !slices.Equal(before, after) {
		a.change("groups", nonNil(before), nonNil(after))
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// addMember adds the user to the group, creating the group on first use.
// Workers adding members to a new group at once would each get a 404 and
// try to create it (a 404 and a 400 each): until the group is known to
// exist, the add and the create happen under the group's name lock (the
// one syncGroup creates it under), and a worker that waited for the lock
// finds the group created.
func (a *applier) addMember(ctx context.Context, group, username string) error {
	key := nameKey(a.tg.Name, "group:"+group)
	if a.e.groupKnown(key) {
		err := a.dir.AddMember(ctx, group, username)
		if atlassian.KindOf(err) != atlassian.NotFound {
			return addError(err, group, username)
		}
		// Deleted in Atlassian since: create it again, under the lock.
		a.e.setGroupKnown(key, false)
	}
	unlock := a.e.names.lock(key)
	defer unlock()
	err := a.dir.AddMember(ctx, group, username)
	if atlassian.KindOf(err) == atlassian.NotFound {
		// Guess: NotFound on add means the group is missing (the user was
		// just created or adopted by us, so it exists).
		if cerr := a.dir.CreateGroup(ctx, group); cerr != nil && atlassian.KindOf(cerr) != atlassian.AlreadyExists {
			return fmt.Errorf("create group %q: %w", group, cerr)
		}
		err = a.dir.AddMember(ctx, group, username)
	}
	if err == nil {
		a.e.setGroupKnown(key, true)
	}
	return addError(err, group, username)
}

func addError(err error, group, username string) error {
	if err != nil {
		return fmt.Errorf("add %q to group %q: %w", username, group, err)
	}
	return nil
}

// groupKnown reports whether the group (key as in addMember) is known to
// exist in its target.
func (e *Engine) groupKnown(key string) bool {
	e.groupsMu.Lock()
	defer e.groupsMu.Unlock()
	return e.groups[key]
}

func (e *Engine) setGroupKnown(key string, known bool) {
	e.groupsMu.Lock()
	defer e.groupsMu.Unlock()
	if known {
		e.groups[key] = true
	} else {
		delete(e.groups, key)
	}
}

func isGone(err error) bool {
	k := atlassian.KindOf(err)
	return k == atlassian.NotFound || k == atlassian.NotMember
}

// delete removes the account; a deletion Atlassian refuses (the user owns
// issues or pages) deactivates it instead, which is what an admin wants.
func (a *applier) delete(ctx context.Context, cur *account, link *store.Link) (*account, error) {
	if cur == nil {
		link.State = store.LinkDeleted
		return nil, nil
	}
	err := a.dir.DeleteUser(ctx, cur.Username)
	switch {
	case err == nil || atlassian.KindOf(err) == atlassian.NotFound:
		a.change("deleted", false, true)
		a.setAction("deleted")
		link.State = store.LinkDeleted
		return nil, nil
	case atlassian.KindOf(err) == atlassian.DeleteRefused:
		a.res.Error = "delete refused by the target (the user owns content); deactivated instead"
		if cur.Active {
			if serr := a.dir.SetActive(ctx, cur.Username, false); serr != nil {
				return cur, fmt.Errorf("deactivate user %q after a refused delete: %w", cur.Username, serr)
			}
			a.change("active", true, false)
			cur.Active = false
			a.setAction("deactivated")
		}
		now := a.e.now().UTC()
		link.State, link.DeactivatedAt, link.DeactivatedReason = store.LinkDeactivated, &now, "idp-deleted"
		return cur, nil
	}
	return cur, fmt.Errorf("delete user %q: %w", cur.Username, err)
}

func isDeleted(l store.Link) bool {
	d := decodeAccount(l.Desired)
	return d != nil && d.Deleted
}
