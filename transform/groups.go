package transform

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// InScope reports whether a user in these IdP groups (flattened: include the
// groups that contain them, see Flatten) is provisioned at all:
// users.require_groups is empty, or the user is in one of them
// (case-insensitively).
func (c *Compiled) InScope(idpGroups []string) bool {
	if len(c.require) == 0 {
		return true
	}
	for _, g := range idpGroups {
		if c.require[strings.ToLower(g)] {
			return true
		}
	}
	return false
}

// GroupName maps one IdP group to its Atlassian name: ok is false when
// include/exclude filter it out. The error reports a rename that produced a
// name Atlassian cannot take. The engine uses it for group-level events (an
// IdP group renamed or deleted); Groups uses it for each of a user's groups.
func (c *Compiled) GroupName(idpGroup string) (name string, ok bool, err error) {
	if len(c.include) > 0 && !matchAny(c.include, idpGroup) {
		return "", false, nil
	}
	if matchAny(c.exclude, idpGroup) {
		return "", false, nil
	}
	name = idpGroup
	for i, r := range c.renames {
		if r.re.MatchString(idpGroup) {
			name = r.re.ReplaceAllString(idpGroup, r.repl)
			if reason := badGroupName(name); reason != "" {
				return "", false, fmt.Errorf("groups.rename[%d]: IdP group %s renamed to %s: %s", i, quote(idpGroup), quote(name), reason)
			}
			return name, true, nil
		}
	}
	if reason := badGroupName(name); reason != "" {
		return "", false, fmt.Errorf("groups: IdP group %s: %s", quote(idpGroup), reason)
	}
	return name, true, nil
}

// Groups returns the Atlassian groups for a user in these IdP groups
// (flattened), and whether the user is in scope at all (see InScope; an
// out-of-scope user gets no groups). The order is require_groups, then
// include/exclude on IdP names, rename, then the default groups are added.
// The result is deduplicated case-insensitively and sorted.
func (c *Compiled) Groups(idpGroups []string) (atlassian []string, inScope bool, err error) {
	if !c.InScope(idpGroups) {
		return nil, false, nil
	}
	out := make([]string, 0, len(idpGroups)+len(c.defaults))
	for _, g := range idpGroups {
		name, ok, err := c.GroupName(g)
		if err != nil {
			return nil, true, err
		}
		if ok {
			out = append(out, name)
		}
	}
	out = append(out, c.defaults...)
	return Union(out), true, nil
}

// Managed reports whether the bridge may remove a membership of the Atlassian
// group name that it did not add itself: the group matches groups.managed, or
// it is one of groups.default.
//
// The whole removal rule (see Removals) is: a membership the bridge itself
// added (recorded in its last-applied state) may always be removed once the
// IdP no longer wants it; any other membership (added by hand, or there
// before the bridge adopted the user) only in a managed group.
//
// Why default groups are implicitly managed: the bridge grants them to every
// in-scope user, so they are the bridge's to take back when a user falls out
// of scope, even for an account that had the group before adoption (these are
// typically licence groups such as jira-software-users, where a stale member
// costs a seat).
//
// Why renamed (IdP-fed) groups are not implicitly managed here: whether a
// name is the image of some IdP group cannot be decided from the name alone,
// and the obvious approximation, "it passes include/exclude", makes a config
// without include claim every group in Jira, so a hand-made admin membership
// in jira-administrators would be removed as soon as its user is provisioned.
// The memberships the IdP fed are removable anyway through the bridge's
// last-applied state, which is exactly the set it added.
func (c *Compiled) Managed(name string) bool {
	if matchAny(c.managed, name) {
		return true
	}
	for _, d := range c.defaults {
		if strings.EqualFold(d, name) {
			return true
		}
	}
	return false
}

// DeleteRemoved reports groups.delete_removed: whether an Atlassian group may
// be deleted when the IdP group it came from is deleted.
func (c *Compiled) DeleteRemoved() bool { return c.deleteRemoved }

// Desired is what one SCIM user should be in Atlassian.
type Desired struct {
	Account
	// Groups are the Atlassian groups, sorted (empty when Skipped).
	Groups []string
	// Skipped is true when the user is not to be provisioned: out of scope
	// (in no required group) or without a username.
	Skipped bool
	// Reason says why the user was skipped.
	Reason string
}

// Desired computes account and groups in one go. idpGroups are the user's IdP
// group names, flattened. An out-of-scope user is Skipped, with its Account
// filled in when it can be computed (the engine may need the username to
// deactivate it); a user without a username is Skipped too. Any other problem
// is an error naming the rule and input.
//
// Example:
//
//	d, err := c.Desired(user, transform.Flatten(nested, direct))
//	if err == nil && !d.Skipped { /* create or update d.Username with d.Groups */ }
func (c *Compiled) Desired(user map[string]any, idpGroups []string) (Desired, error) {
	groups, inScope, groupErr := c.Groups(idpGroups)
	acct, acctErr := c.Account(user)
	if !inScope {
		d := Desired{Skipped: true, Reason: "not in any required IdP group (users.require_groups: " + strings.Join(c.requireNames, ", ") + ")"}
		if acctErr == nil {
			d.Account = acct
		}
		return d, nil
	}
	if acctErr != nil {
		var fe *FieldError
		if errors.Is(acctErr, ErrNoUsername) && errors.As(acctErr, &fe) {
			// Without a username there is no account to name, so the other
			// fields' problems are moot.
			return Desired{Skipped: true, Reason: fe.Error()}, nil
		}
		return Desired{}, acctErr
	}
	if groupErr != nil {
		return Desired{}, groupErr
	}
	return Desired{Account: acct, Groups: groups}, nil
}

func matchAny(res []*regexp.Regexp, s string) bool {
	for _, re := range res {
		if re.MatchString(s) {
			return true
		}
	}
	return false
}

// Union merges group lists (several tenants feeding one target, or direct and
// default groups) into one, deduplicated case-insensitively, since Atlassian
// group names are, and sorted. Of several spellings the first in byte order
// wins.
func Union(groups ...[]string) []string {
	var all []string
	for _, g := range groups {
		all = append(all, g...)
	}
	sortedFold(all)
	out := make([]string, 0, len(all))
	for _, g := range all {
		if len(out) > 0 && strings.EqualFold(out[len(out)-1], g) {
			continue
		}
		out = append(out, g)
	}
	return out
}

// Flatten resolves nested IdP groups: members maps a group name to the groups
// that are its members (direct ones only); direct are the groups a user is a
// member of. It returns direct plus every group that contains one of them,
// transitively, deduplicated case-insensitively and sorted. Cycles are
// harmless.
//
// Example: with members {"engineering": ["backend"], "all": ["engineering"]},
// Flatten(members, []string{"backend"}) is [all backend engineering].
func Flatten(members map[string][]string, direct []string) []string {
	parents := map[string][]string{} // lowercased child -> parents
	for parent, children := range members {
		for _, child := range children {
			k := strings.ToLower(child)
			parents[k] = append(parents[k], parent)
		}
	}
	seen := map[string]bool{}
	var out []string
	queue := append([]string(nil), direct...)
	for len(queue) > 0 {
		g := queue[0]
		queue = queue[1:]
		k := strings.ToLower(g)
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, g)
		queue = append(queue, parents[k]...)
	}
	return Union(out)
}

// Removals returns the groups to take a user out of: those in actual (where
// the user is in Atlassian now) but not in desired, that the bridge either
// added itself (applied: what it last applied for this user) or may manage
// (managed, normally Compiled.Managed, or several tenants' combined). Names
// compare case-insensitively; the result is sorted.
func Removals(desired, actual, applied []string, managed func(group string) bool) []string {
	want := foldSet(desired)
	ours := foldSet(applied)
	var out []string
	for _, g := range actual {
		k := strings.ToLower(g)
		if want[k] {
			continue
		}
		if ours[k] || (managed != nil && managed(g)) {
			out = append(out, g)
		}
	}
	return Union(out)
}

func foldSet(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[strings.ToLower(n)] = true
	}
	return m
}
