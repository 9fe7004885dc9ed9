package reconcile

import (
	"context"
	"errors"
	"fmt"

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
