package test

// The oracle of the end-to-end tests: what Jira must look like, computed
// from the SCIM data the tests pushed and the rules of
// testdata/e2e/scimbridge.yaml.tmpl, written independently of transform and
// reconcile (plain string code, not the bridge's regex engine), so that a
// bug in either shows up as a difference.

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

// tenantRules is one tenant of the config, as the oracle reads it.
type tenantRules struct {
	name     string
	priority int
	username func(userName string) string
	display  func(u *mUser) string
	email    func(u *mUser) string
	required string // users.require_groups (one group here); "" means everyone
	// group maps an IdP group name to its Atlassian name (include, exclude,
	// rename); ok is false when it is filtered out.
	group    func(idp string) (name string, ok bool)
	defaults []string
	onDelete string // disable or delete
}

// oktaRules is the okta tenant of the config (issue 4's example).
func oktaRules() tenantRules {
	return tenantRules{
		name: "okta", priority: 10,
		username: func(s string) string {
			// regex '^(.*)@example\.com$' -> '$1', then lowercase.
			if rest, ok := strings.CutSuffix(s, "@example.com"); ok {
				s = rest
			}
			return strings.ToLower(s)
		},
		display:  func(u *mUser) string { return u.displayName },
		email:    func(u *mUser) string { return u.emailWhere(func(e mEmail) bool { return e.primary }) },
		required: "jira-users",
		group: func(g string) (string, bool) {
			if !strings.HasPrefix(g, "jira-") && !strings.HasPrefix(g, "okta-jira-") {
				return "", false
			}
			if g == "jira-administrators" {
				return "", false
			}
			if rest, ok := strings.CutPrefix(g, "okta-"); ok {
				return rest, true
			}
			return g, true
		},
		defaults: []string{"jira-software-users"},
		onDelete: "disable",
	}
}

// entraRules is the entra tenant of the config: the entra preset's
// display name and email, the username without its domain, lowercased.
func entraRules(onDelete string) tenantRules {
	return tenantRules{
		name: "entra", priority: 5,
		username: func(s string) string {
			if i := strings.LastIndex(s, "@"); i >= 0 {
				s = s[:i]
			}
			return strings.ToLower(s)
		},
		display: func(u *mUser) string {
			switch {
			case strings.TrimSpace(u.displayName) != "":
				return u.displayName
			case strings.TrimSpace(u.formatted) != "":
				return u.formatted
			}
			return u.givenName + " " + u.familyName
		},
		email: func(u *mUser) string {
			if v := u.emailWhere(func(e mEmail) bool { return e.typ == "work" }); v != "" {
				return v
			}
			if v := u.emailWhere(func(e mEmail) bool { return e.primary }); v != "" {
				return v
			}
			return u.emailWhere(func(mEmail) bool { return true })
		},
		group: func(g string) (string, bool) {
			return g, strings.HasPrefix(g, "jira-")
		},
		defaults: []string{"jira-software-users"},
		onDelete: onDelete,
	}
}

// mEmail is one SCIM email.
type mEmail struct {
	value, typ string
	primary    bool
}

// mUser is one SCIM user as the tests pushed it.
type mUser struct {
	tenant, id                                              string
	userName, displayName, formatted, givenName, familyName string
	emails                                                  []mEmail
	active, deleted                                         bool
	// hasContent: the Jira account owns issues (set through the emulator),
	// so Jira refuses to delete it.
	hasContent bool
}

func (u *mUser) emailWhere(ok func(mEmail) bool) string {
	for _, e := range u.emails {
		if ok(e) {
			return e.value
		}
	}
	return ""
}

// setWorkEmail is what PATCH emails[type eq "work"].value does.
func (u *mUser) setWorkEmail(v string) {
	for i := range u.emails {
		if u.emails[i].typ == "work" {
			u.emails[i].value = v
			return
		}
	}
	u.emails = append(u.emails, mEmail{value: v, typ: "work"})
}

// mGroup is one SCIM group as the tests pushed it.
type mGroup struct {
	tenant, id, name string
	members          map[string]bool // SCIM user ids
	deleted          bool
}

// wantUser is one Jira user as the oracle expects it.
type wantUser struct {
	Name, DisplayName, Email string
	Active                   bool
	Groups                   []string // lower-case, sorted
}

// model is the IdP side of one flow plus what the oracle remembers of
// earlier convergences (the memberships a deactivated account keeps).
type model struct {
	mu      sync.Mutex
	prefix  string // every username of this flow starts with it
	tenants map[string]tenantRules
	users   []*mUser
	groups  []*mGroup
	// jiraGroups are the Atlassian groups that must exist (lower-case):
	// Jira's two defaults, seeded ones, and every group the bridge created.
	jiraGroups map[string]bool
	// absentGroups must not exist in Jira (IdP groups filtered out, names
	// before a rename rule).
	absentGroups map[string]bool
	// seeded are the groups of pre-existing Jira users outside the managed
	// scope, which the bridge keeps, by lower-case username.
	seeded map[string][]string
	// applied are the memberships the bridge applied to each user at the
	// last convergence, and provisioned says which users it ever created;
	// keyed by tenant/id.
	applied     map[string][]string
	provisioned map[string]bool
}

func newModel(prefix string, tenants ...tenantRules) *model {
	m := &model{
		prefix: prefix, tenants: map[string]tenantRules{},
		jiraGroups:   map[string]bool{"jira-administrators": true, "jira-software-users": true},
		absentGroups: map[string]bool{},
		seeded:       map[string][]string{}, applied: map[string][]string{}, provisioned: map[string]bool{},
	}
	for _, t := range tenants {
		m.tenants[t.name] = t
	}
	return m
}

func (u *mUser) key() string { return u.tenant + "/" + u.id }

// addUser records a created user.
func (m *model) addUser(u *mUser) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.users = append(m.users, u)
}

// update changes a user under the model's lock.
func (m *model) update(fn func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn()
}

// pushGroup records a group the IdP created or renamed: the bridge creates
// its Atlassian group when the name passes the tenant's filters.
func (m *model) pushGroup(g *mGroup) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Contains(m.groups, g) {
		m.groups = append(m.groups, g)
	}
	if name, ok := m.tenants[g.tenant].group(g.name); ok {
		m.jiraGroups[strings.ToLower(name)] = true
		if !strings.EqualFold(name, g.name) {
			m.absentGroups[strings.ToLower(g.name)] = true
		}
	} else if !m.jiraGroups[strings.ToLower(g.name)] {
		m.absentGroups[strings.ToLower(g.name)] = true
	}
}

// seed records a pre-existing Jira user and its groups (all outside the
// managed scope, so the bridge must keep them).
func (m *model) seed(name string, groups []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seeded[strings.ToLower(name)] = lowerAll(groups)
	for _, g := range groups {
		m.jiraGroups[strings.ToLower(g)] = true
	}
}

// candidate is one SCIM user's claim on a Jira username.
type candidate struct {
	u        *mUser
	rules    tenantRules
	name     string
	active   bool
	groups   []string // the groups this user's own sync wants
	tracking bool     // its memberships follow the IdP (active and in scope)
}

// candidates computes every SCIM user's desired account (nil when it must
// not exist in Jira). Callers hold m.mu.
func (m *model) candidates() []candidate {
	var out []candidate
	for _, u := range m.users {
		r := m.tenants[u.tenant]
		var idp []string
		for _, g := range m.groups {
			if g.tenant == u.tenant && !g.deleted && g.members[u.id] {
				idp = append(idp, g.name)
			}
		}
		inScope := r.required == "" || slices.Contains(idp, r.required)
		c := candidate{u: u, rules: r, name: strings.ToLower(r.username(u.userName))}
		var mapped []string
		for _, g := range idp {
			if name, ok := r.group(g); ok {
				mapped = append(mapped, strings.ToLower(name))
			}
		}
		mapped = append(mapped, lowerAll(r.defaults)...)
		// A deactivated account keeps the memberships the bridge applied
		// (remove_groups_on_deactivate: false).
		frozen, provisioned := m.applied[u.key()], m.provisioned[u.key()]
		switch {
		case u.deleted:
			if !provisioned || (r.onDelete == "delete" && !u.hasContent) {
				continue // gone; a refused delete deactivates instead
			}
			c.groups = frozen
		case !inScope:
			if !provisioned {
				continue // never provisioned: nothing in Jira
			}
			c.groups = frozen
		case !u.active && provisioned:
			c.groups = frozen
		case !u.active:
			c.groups = mapped // first seen inactive: created disabled
		default:
			c.active, c.tracking, c.groups = true, true, mapped
		}
		c.groups = sortedSet(c.groups)
		out = append(out, c)
	}
	return out
}

// want returns the Jira users the model expects, by lower-case name: of
// several tenants producing one username the higher priority owns the
// account; the memberships are the union.
func (m *model) want() map[string]wantUser {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.wantLocked()
}

func (m *model) wantLocked() map[string]wantUser {
	byName := map[string][]candidate{}
	for _, c := range m.candidates() {
		byName[c.name] = append(byName[c.name], c)
	}
	out := map[string]wantUser{}
	for name, cs := range byName {
		// A user deleted in the IdP keeps its (deactivated) account only
		// while no live user claims the name; among live users the higher
		// priority wins, then the one there first.
		sort.SliceStable(cs, func(i, j int) bool {
			if cs[i].u.deleted != cs[j].u.deleted {
				return !cs[i].u.deleted
			}
			return cs[i].rules.priority > cs[j].rules.priority
		})
		w := cs[0]
		wu := wantUser{Name: name, DisplayName: w.rules.display(w.u), Email: w.rules.email(w.u), Active: w.active}
		var groups []string
		for _, c := range cs {
			groups = append(groups, c.groups...)
		}
		wu.Groups = sortedSet(append(groups, m.seeded[name]...))
		out[name] = wu
	}
	return out
}

// settle is called once Jira matched the model: what the bridge applied
// now is what a later deactivation leaves in place.
func (m *model) settle() {
	m.mu.Lock()
	defer m.mu.Unlock()
	want := m.wantLocked()
	for _, c := range m.candidates() {
		first := !m.provisioned[c.u.key()]
		m.provisioned[c.u.key()] = true
		if c.tracking || first { // first: created (maybe disabled) with these groups
			// The account's memberships as the bridge applied them: the
			// union over the tenants that feed it, without the seeded ones
			// (which it never applied).
			var applied []string
			for _, g := range want[c.name].Groups {
				if !slices.Contains(m.seeded[c.name], g) {
					applied = append(applied, g)
				}
			}
			m.applied[c.u.key()] = applied
		}
	}
}

// gotUsers is the state's users as wantUsers, by lower-case name, limited
// to names keep accepts.
func gotUsers(st atlassiantest.State, keep func(string) bool) map[string]wantUser {
	out := map[string]wantUser{}
	for _, u := range st.Users {
		name := strings.ToLower(u.Name)
		if !keep(name) {
			continue
		}
		out[name] = wantUser{Name: name, DisplayName: u.DisplayName, Email: u.EmailAddress, Active: u.Active,
			Groups: sortedSet(lowerAll(u.Groups))}
	}
	return out
}

// diff compares the state with the model: the flow's users exactly, its
// groups present, its filtered-out group names absent. "" means equal.
func (m *model) diff(st atlassiantest.State) string {
	want := m.want()
	got := gotUsers(st, func(name string) bool { return strings.HasPrefix(name, m.prefix) })
	var problems []string
	if d := cmp.Diff(want, got); d != "" {
		problems = append(problems, "users (-want +got):\n"+d)
	}
	have := stateGroups(st)
	m.mu.Lock()
	defer m.mu.Unlock()
	for g := range m.jiraGroups {
		if !have[g] {
			problems = append(problems, fmt.Sprintf("group %q missing", g))
		}
	}
	for g := range m.absentGroups {
		if have[g] && !m.jiraGroups[g] {
			problems = append(problems, fmt.Sprintf("group %q must not exist (filtered out or renamed by the config)", g))
		}
	}
	sort.Strings(problems)
	return strings.Join(problems, "\n")
}

// exactDiff compares the whole state with several flows' models: exactly
// their users (nothing else exists in Jira), exactly their groups.
func exactDiff(st atlassiantest.State, models ...*model) string {
	want := map[string]wantUser{}
	wantGroups := map[string]bool{}
	for _, m := range models {
		for k, v := range m.want() {
			want[k] = v
		}
		m.mu.Lock()
		for g := range m.jiraGroups {
			wantGroups[g] = true
		}
		m.mu.Unlock()
	}
	got := gotUsers(st, func(string) bool { return true })
	var problems []string
	if d := cmp.Diff(want, got); d != "" {
		problems = append(problems, "users (-want +got):\n"+d)
	}
	if d := cmp.Diff(wantGroups, stateGroups(st)); d != "" {
		problems = append(problems, "groups (-want +got):\n"+d)
	}
	return strings.Join(problems, "\n")
}

func stateGroups(st atlassiantest.State) map[string]bool {
	out := map[string]bool{}
	for _, g := range st.Groups {
		out[strings.ToLower(g.Name)] = true
	}
	return out
}

func lowerAll(s []string) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = strings.ToLower(v)
	}
	return out
}

// sortedSet sorts and deduplicates; never nil, so that cmp sees no
// difference between "no groups" spelled two ways.
func sortedSet(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// stateUser finds a user in the state by name (case-insensitively).
func stateUser(st atlassiantest.State, name string) (atlassiantest.StateUser, bool) {
	for _, u := range st.Users {
		if strings.EqualFold(u.Name, name) {
			return u, true
		}
	}
	return atlassiantest.StateUser{}, false
}
