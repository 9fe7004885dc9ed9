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
	unlock := e.names.lock(nameKey(tg.Name, "group:"+name))
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
		if err := tg.Dir.CreateGroup(ctx, name); err != nil && atlassian.KindOf(err) != atlassian.AlreadyExists {
			return fmt.Errorf("create group %q: %w", name, err)
		} else if err == nil {
			res.Action = "group-created"
			res.Changes = map[string]store.Change{"group": {Before: nil, After: name}}
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

// nesting is a tenant's group nesting read once (store GroupNesting), so a
// full reconcile flattens every user's groups in memory instead of asking
// the store level by level for each user.
type nesting struct {
	// parents holds, per group id, the ranks of the groups that directly
	// contain it; a rank is the group's place in the store's display-name
	// order, which is the order GroupsContaining answers in.
	parents map[string][]int
	nodes   []store.GroupNode
}

func newNesting(nodes []store.GroupNode) *nesting {
	n := &nesting{parents: map[string][]int{}, nodes: nodes}
	rank := make(map[string]int, len(nodes))
	for i, g := range nodes {
		rank[g.ID] = i
	}
	for _, g := range nodes {
		for _, p := range g.Parents {
			if r, ok := rank[p]; ok {
				n.parents[g.ID] = append(n.parents[g.ID], r)
			}
		}
	}
	return n
}

// idpGroups is Engine.idpGroups for a full reconcile: the same names in the
// same order, from the tenant's nesting read once per run.
func (fr *fullRun) idpGroups(ctx context.Context, tenant string, u store.User) ([]string, error) {
	n := fr.nestings[tenant]
	if n == nil {
		nodes, err := fr.e.st.GroupNesting(ctx, tenant)
		if err != nil {
			return nil, fmt.Errorf("read the group nesting of tenant %s: %w", tenant, err)
		}
		n = newNesting(nodes)
		fr.nestings[tenant] = n
	}
	return n.flatten(u.Groups), nil
}

// flatten returns the display names of the direct groups (as given, each id
// once) followed by the groups that contain them, level by level, each
// level in display-name order, up to 32 levels: what Engine.idpGroups
// computes with GroupsContaining.
func (n *nesting) flatten(direct []store.GroupRef) []string {
	if len(direct) == 0 {
		return nil
	}
	names := make([]string, 0, len(direct))
	nested := false
	for i, g := range direct {
		if slices.ContainsFunc(direct[:i], func(x store.GroupRef) bool { return x.ID == g.ID }) {
			continue
		}
		names = append(names, g.DisplayName)
		nested = nested || len(n.parents[g.ID]) > 0
	}
	if !nested {
		return names // the common case: no direct group is inside another
	}
	seen := map[string]bool{}
	var frontier []string
	for _, g := range direct {
		if !seen[g.ID] {
			seen[g.ID] = true
			frontier = append(frontier, g.ID)
		}
	}
	for depth := 0; len(frontier) > 0 && depth < 32; depth++ {
		var ranks []int
		for _, id := range frontier {
			ranks = append(ranks, n.parents[id]...)
		}
		slices.Sort(ranks)
		ranks = slices.Compact(ranks)
		frontier = frontier[:0]
		for _, r := range ranks {
			p := n.nodes[r]
			if !seen[p.ID] {
				seen[p.ID] = true
				names = append(names, p.DisplayName)
				frontier = append(frontier, p.ID)
			}
		}
	}
	return names
}
