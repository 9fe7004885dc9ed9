package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/store"
)

// syncGroupAll handles a change to an IdP group itself. Memberships are
// applied user by user (the store enqueues every affected user); here the
// Atlassian group is created when an IdP group that maps to it is pushed (an
// admin pushing a group expects to see it, members or not), and deleted when
// its IdP group is deleted and groups.delete_removed allows it.
func (e *Engine) syncGroupAll(ctx context.Context, rec *recorder, t *Tenant, id string) error {
	g, deleted, err := e.st.GetGroupAny(ctx, t.Name, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read group %s: %w", id, err)
	}
	name, ok, err := t.Mapping.GroupName(g.DisplayName)
	var first error
	for _, tn := range t.Targets {
		tg := e.targets[tn]
		res := store.Result{Tenant: t.Name, ResourceID: g.ID, UserName: g.DisplayName, Target: tg.Name}
		var serr error
		switch {
		case err != nil:
			res.Action, res.Error = "failed", err.Error()
			serr = fmt.Errorf("%w: %w", errPermanent, err)
		case !ok:
			continue // filtered out by include/exclude: not ours
		default:
			serr = e.syncGroup(ctx, tg, t, g, deleted, name, &res)
		}
		if serr != nil {
			res.Action, res.Error = "failed", serr.Error()
			if first == nil {
				first = serr
			}
		}
		if res.Action != "" {
			rec.add(ctx, res)
		}
	}
	return first
}

func (e *Engine) syncGroup(ctx context.Context, tg *Target, t *Tenant, g store.Group, deleted bool, name string, res *store.Result) error {
	key := nameKey(tg.Name, "group:"+name)
	unlock := e.names.lock(key)
	defer unlock()
	link, err := e.st.GetLink(ctx, tg.Name, t.Name, g.ID)
	if errors.Is(err, store.ErrNotFound) {
		link = store.Link{Target: tg.Name, Tenant: t.Name, ResourceID: g.ID, Kind: store.KindGroup}
	} else if err != nil {
		return fmt.Errorf("read link: %w", err)
	}
	if deleted {
		link.DesiredName, link.Desired = "", nil
		if link.AppliedName != "" && t.Mapping.DeleteRemoved() {
			inUse, err := e.groupInUse(ctx, tg.Name, link)
			if err != nil {
				return err
			}
			if !inUse {
				if err := tg.Dir.DeleteGroup(ctx, link.AppliedName); err != nil && atlassian.KindOf(err) != atlassian.NotFound {
					return fmt.Errorf("delete group %q: %w", link.AppliedName, err)
				}
				e.setGroupKnown(nameKey(tg.Name, "group:"+link.AppliedName), false)
				res.Action = "group-deleted"
				res.Changes = map[string]store.Change{"group": {Before: link.AppliedName, After: nil}}
			}
		}
		link.State, link.AppliedName = store.LinkDeleted, ""
		return e.putLink(ctx, link)
	}
	link.DesiredName = name
	link.Desired = []byte(`{"present":true}`)
	if link.AppliedName != name {
		// A user job may have created the group already (addMember, under
		// the same lock): then there is nothing to create, and no 400 to pay.
		if !e.groupKnown(key) {
			if err := tg.Dir.CreateGroup(ctx, name); err != nil && atlassian.KindOf(err) != atlassian.AlreadyExists {
				return fmt.Errorf("create group %q: %w", name, err)
			} else if err == nil {
				res.Action = "group-created"
				res.Changes = map[string]store.Change{"group": {Before: nil, After: name}}
			}
			e.setGroupKnown(key, true)
		}
		link.AppliedName = name
	}
	link.State = store.LinkActive
	return e.putLink(ctx, link)
}

// groupInUse reports whether another live IdP group (of any tenant) still
// maps to the Atlassian group.
func (e *Engine) groupInUse(ctx context.Context, target string, link store.Link) (bool, error) {
	others, err := e.st.LinksByDesiredName(ctx, target, store.KindGroup, link.AppliedName)
	if err != nil {
		return false, fmt.Errorf("find groups mapping to %q: %w", link.AppliedName, err)
	}
	for _, o := range others {
		if (o.Tenant != link.Tenant || o.ResourceID != link.ResourceID) && o.State != store.LinkDeleted {
			return true, nil
		}
	}
	return false, nil
}

// tenantGroups is every membership of a tenant, read once per full
// reconcile (store GroupMembers), so that every user's groups, nested ones
// flattened, come from memory instead of queries per user.
type tenantGroups struct {
	nodes []store.GroupNode // Users dropped once indexed
	rank  map[string]int32  // group id -> index in nodes
	// parents holds, per rank, the ranks of the groups directly containing
	// that group; users, per user id, the ranks of its direct groups. A
	// rank is the group's place in the store's display-name order, which is
	// both User.Groups' order and the order GroupsContaining answers in.
	parents [][]int32
	users   map[string][]int32
}

func newTenantGroups(nodes []store.GroupNode) *tenantGroups {
	g := &tenantGroups{nodes: nodes, rank: make(map[string]int32, len(nodes)), parents: make([][]int32, len(nodes)),
		users: map[string][]int32{}}
	for i, n := range nodes {
		g.rank[n.ID] = int32(i)
	}
	for i := range nodes {
		n := &nodes[i]
		for _, child := range n.Groups {
			if r, ok := g.rank[child]; ok {
				g.parents[r] = append(g.parents[r], int32(i))
			}
		}
		// Ranks are visited in ascending order, so each user's list is
		// sorted as it grows.
		for _, u := range n.Users {
			g.users[u] = append(g.users[u], int32(i))
		}
		n.Users, n.Groups = nil, nil
	}
	return g
}

// direct returns the user's direct groups as User.Groups lists them.
func (g *tenantGroups) direct(userID string) []store.GroupRef {
	ranks := g.users[userID]
	if len(ranks) == 0 {
		return nil
	}
	refs := make([]store.GroupRef, len(ranks))
	for i, r := range ranks {
		refs[i] = store.GroupRef{ID: g.nodes[r].ID, DisplayName: g.nodes[r].DisplayName}
	}
	return refs
}

// groupsOf returns the tenant's memberships, read on first use in the run.
func (fr *fullRun) groupsOf(ctx context.Context, tenant string) (*tenantGroups, error) {
	if g := fr.groups[tenant]; g != nil {
		return g, nil
	}
	nodes, err := fr.e.st.GroupMembers(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("read the groups of tenant %s: %w", tenant, err)
	}
	g := newTenantGroups(nodes)
	fr.groups[tenant] = g
	return g, nil
}

// flatten is Engine.idpGroups from memory: the display names of the direct
// groups (as given, each id once) followed by the groups that contain them,
// level by level, each level in display-name order, up to 32 levels.
func (g *tenantGroups) flatten(direct []store.GroupRef) []string {
	if len(direct) == 0 {
		return nil
	}
	names := make([]string, 0, len(direct))
	nested := false
	for i, d := range direct {
		if slices.ContainsFunc(direct[:i], func(x store.GroupRef) bool { return x.ID == d.ID }) {
			continue
		}
		names = append(names, d.DisplayName)
		if r, ok := g.rank[d.ID]; ok && len(g.parents[r]) > 0 {
			nested = true
		}
	}
	if !nested {
		return names // the common case: no direct group is inside another
	}
	seen := map[string]bool{}
	var frontier []int32
	for _, d := range direct {
		if !seen[d.ID] {
			seen[d.ID] = true
			if r, ok := g.rank[d.ID]; ok {
				frontier = append(frontier, r)
			}
		}
	}
	for depth := 0; len(frontier) > 0 && depth < 32; depth++ {
		var ranks []int32
		for _, r := range frontier {
			ranks = append(ranks, g.parents[r]...)
		}
		slices.Sort(ranks)
		ranks = slices.Compact(ranks)
		frontier = frontier[:0]
		for _, r := range ranks {
			p := g.nodes[r]
			if !seen[p.ID] {
				seen[p.ID] = true
				names = append(names, p.DisplayName)
				frontier = append(frontier, r)
			}
		}
	}
	return names
}
