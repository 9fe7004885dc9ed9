package scim

import (
	"slices"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/store"
)

// Membership PATCHes on the member list itself.
//
// Okta's Group Push and Entra add or remove a few members of a group per
// PATCH. The general applier works on the group as SCIM maps: every member
// becomes a map, is copied by the applier and by cleanAttributes, and is
// read back into a store.Member; for a 1000-member group that was about a
// fifth of the server's CPU per membership PATCH, all of it inside the
// store's single writer, where it delays every other write. The forms
// below are applied to the []store.Member directly, with the applier's
// semantics; anything else goes through the applier.

// memberOp is one membership operation the fast path handles.
type memberOp struct {
	add bool
	ids []string
	// byFilter: a remove of members[value eq "id"] (ids has the one id),
	// matched as the applier matches a filter (case-insensitively unless
	// members.value is caseExact); other removes match ids exactly, as the
	// applier's value-list remove does.
	byFilter bool
}

// memberOps classifies ops; false when any of them is not one of:
//
//	{"op":"add","path":"members","value":[{"value":"id"},...]}
//	{"op":"remove","path":"members[value eq \"id\"]"}
//	{"op":"remove","path":"members","value":[{"value":"id"},...]}   (Entra)
//
// (op in any letter case; a member may also be a bare id string).
func memberOps(ops []scim.PatchOperation) ([]memberOp, bool) {
	out := make([]memberOp, 0, len(ops))
	for _, op := range ops {
		p := op.Path
		if p == nil || p.AttributePath.URIPrefix != nil || p.AttributePath.SubAttribute != nil || p.SubAttribute != nil ||
			!strings.EqualFold(p.AttributePath.AttributeName, attrMembers) {
			return nil, false
		}
		switch {
		case strings.EqualFold(op.Op, "add") && p.ValueExpression == nil:
			ids, ok := memberValueIDs(op.Value)
			if !ok {
				return nil, false
			}
			out = append(out, memberOp{add: true, ids: ids})
		case strings.EqualFold(op.Op, "remove") && p.ValueExpression != nil:
			e, ok := p.ValueExpression.(*filter.AttributeExpression)
			if !ok || e == nil || e.AttributePath.URIPrefix != nil || e.AttributePath.SubAttribute != nil ||
				!strings.EqualFold(e.AttributePath.AttributeName, "value") || !strings.EqualFold(string(e.Operator), string(filter.EQ)) {
				return nil, false
			}
			id, ok := e.CompareValue.(string)
			if !ok {
				return nil, false
			}
			out = append(out, memberOp{ids: []string{id}, byFilter: true})
		case strings.EqualFold(op.Op, "remove") && op.Value != nil:
			ids, ok := memberValueIDs(op.Value)
			if !ok {
				return nil, false
			}
			out = append(out, memberOp{ids: ids})
		default:
			return nil, false
		}
	}
	return out, true
}

// memberValueIDs reads a non-empty list of members ({"value": id} objects
// or bare ids). false for anything the applier would treat otherwise
// (rejects, or reads differently): it then decides.
func memberValueIDs(v any) ([]string, bool) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, false
	}
	ids := make([]string, 0, len(list))
	for _, e := range list {
		var id string
		switch x := e.(type) {
		case string:
			id = x
		case map[string]any:
			n := 0
			for k, val := range x {
				if strings.EqualFold(k, "value") {
					n++
					id, _ = val.(string)
				}
			}
			if n != 1 {
				return nil, false
			}
		default:
			return nil, false
		}
		if strings.TrimSpace(id) == "" {
			return nil, false
		}
		ids = append(ids, id)
	}
	return ids, true
}

// applyMemberOps applies ops to g.Members when memberOps accepts them all,
// and reports whether it did; otherwise g is untouched. valueCaseExact is
// members.value's caseExact in the group schema.
func applyMemberOps(g *store.Group, ops []scim.PatchOperation, valueCaseExact bool) bool {
	mops, ok := memberOps(ops)
	if !ok {
		return false
	}
	members := slices.Clone(g.Members) // edited in place below
	if !slices.IsSortedFunc(members, byMemberValue) {
		slices.SortFunc(members, byMemberValue)
	}
	for _, op := range mops {
		for _, id := range op.ids {
			i, found := slices.BinarySearchFunc(members, id, func(m store.Member, id string) int { return strings.Compare(m.Value, id) })
			switch {
			case op.add && !found:
				members = slices.Insert(members, i, store.Member{Value: id})
			case op.add:
				// Already a member: not an error (RFC 7644 section 3.5.2.1).
			case op.byFilter && !valueCaseExact:
				members = slices.DeleteFunc(members, func(m store.Member) bool { return strings.EqualFold(m.Value, id) })
			case found:
				members = slices.Delete(members, i, i+1)
			}
		}
	}
	if members == nil {
		members = []store.Member{}
	}
	g.Members = members
	return true
}

// memberDelta resolves membership operations, in their order, into the
// lists a memberPatcher takes: ids to be members afterwards, ids not to be,
// and ids whose case-insensitive matches go unless the first two lists name
// them. An operation overrides what earlier ones decided for the ids it
// names (a case-insensitive remove: for every id it matches), so applying
// the three lists to any member list gives what applyMemberOps gives.
func memberDelta(mops []memberOp, valueCaseExact bool) (add, remove, removeFold []string) {
	want := make(map[string]bool)
	var order []string
	set := func(id string, member bool) {
		if _, seen := want[id]; !seen {
			order = append(order, id)
		}
		want[id] = member
	}
	for _, op := range mops {
		for _, id := range op.ids {
			switch {
			case op.add:
				set(id, true)
			case op.byFilter && !valueCaseExact:
				removeFold = append(removeFold, id)
				for k := range want {
					if strings.EqualFold(k, id) {
						want[k] = false
					}
				}
			default:
				set(id, false)
			}
		}
	}
	for _, id := range order {
		if want[id] {
			add = append(add, id)
		} else {
			remove = append(remove, id)
		}
	}
	return add, remove, removeFold
}

func byMemberValue(a, b store.Member) int { return strings.Compare(a.Value, b.Value) }

// membersValueCaseExact is members.value's caseExact in the group schema.
func membersValueCaseExact(s schema.Schema) bool {
	for _, a := range s.Attributes {
		if strings.EqualFold(a.Name(), attrMembers) {
			for _, sa := range a.SubAttributes() {
				if strings.EqualFold(sa.Name(), "value") {
					return sa.CaseExact()
				}
			}
		}
	}
	return true
}
