package transform

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// issueGroups is the groups block of issue 4 item 3.
func issueSpec() Spec {
	s := base()
	s.Users = Users{RequireGroups: []string{"jira-users"}}
	s.Groups = Groups{
		Include: []string{"^jira-", "^okta-jira-"},
		Exclude: []string{"^jira-administrators$"},
		Rename:  []Rename{{Regex: "^okta-(.*)$", Replace: new("$1")}},
		Default: []string{"jira-software-users"},
		Managed: []string{"^jira-"},
	}
	return s
}

func TestGroups(t *testing.T) {
	tests := []struct {
		name        string
		groups      Groups
		users       Users
		idp         []string
		want        []string
		wantInScope bool
		wantErr     string
	}{
		{name: "no config: every group, as named", idp: []string{"Engineering", "all"},
			want: []string{"all", "Engineering"}, wantInScope: true},
		{name: "no groups at all", idp: nil, want: []string{}, wantInScope: true},
		{name: "issue example", groups: issueSpec().Groups, users: issueSpec().Users,
			idp: []string{"jira-users", "jira-developers", "okta-jira-qa", "jira-administrators", "sales", "okta-sales"},
			// jira-administrators excluded; sales and okta-sales not included;
			// okta-jira-qa renamed; the default added.
			want: []string{"jira-developers", "jira-qa", "jira-software-users", "jira-users"}, wantInScope: true},
		{name: "issue example, out of scope", groups: issueSpec().Groups, users: issueSpec().Users,
			idp: []string{"jira-developers"}, want: nil, wantInScope: false},
		{name: "require matches case-insensitively", users: Users{RequireGroups: []string{"Jira-Users"}},
			idp: []string{"JIRA-USERS"}, want: []string{"JIRA-USERS"}, wantInScope: true},
		{name: "empty require is everyone", users: Users{RequireGroups: []string{}}, idp: nil, want: []string{}, wantInScope: true},
		{name: "patterns are case-insensitive", groups: Groups{Include: []string{"^jira-"}, Exclude: []string{"-ADMINS$"}},
			idp: []string{"Jira-Devs", "JIRA-admins", "jira-x"}, want: []string{"Jira-Devs", "jira-x"}, wantInScope: true},
		{name: "opting out of case-insensitivity", groups: Groups{Include: []string{"(?-i)^jira-"}},
			idp: []string{"Jira-Devs", "jira-x"}, want: []string{"jira-x"}, wantInScope: true},
		{name: "exclude wins over include", groups: Groups{Include: []string{"a"}, Exclude: []string{"a"}},
			idp: []string{"a"}, want: []string{}, wantInScope: true},
		{name: "first matching rename applies", groups: Groups{Rename: []Rename{
			{Regex: "^okta-(.*)$", Replace: new("$1")}, {Regex: "^okta-", Replace: new("never")}, {Regex: "^ad-(.*)$", Replace: new("jira-$1")}}},
			idp: []string{"okta-devs", "ad-qa", "plain"}, want: []string{"devs", "jira-qa", "plain"}, wantInScope: true},
		{name: "include and exclude see IdP names, not renamed ones", groups: Groups{
			Include: []string{"^okta-"}, Exclude: []string{"^devs$"}, Rename: []Rename{{Regex: "^okta-(.*)$", Replace: new("$1")}}},
			idp: []string{"okta-devs", "devs"}, want: []string{"devs"}, wantInScope: true},
		{name: "dedup across rename and default", groups: Groups{
			Rename: []Rename{{Regex: "^okta-(.*)$", Replace: new("$1")}}, Default: []string{"Devs", "devs"}},
			idp: []string{"okta-devs", "devs"}, want: []string{"Devs"}, wantInScope: true},
		{name: "defaults only for in-scope users", groups: Groups{Default: []string{"d"}}, users: Users{RequireGroups: []string{"r"}},
			idp: []string{"x"}, want: nil, wantInScope: false},
		{name: "rename to empty", groups: Groups{Rename: []Rename{{Regex: "^okta-(.*)$", Replace: new("$1")}}},
			idp: []string{"okta-"}, wantInScope: true,
			wantErr: `groups.rename[0]: IdP group "okta-" renamed to "": empty group name`},
		{name: "IdP name Atlassian cannot take", idp: []string{"bad\nname"}, wantInScope: true,
			wantErr: `groups: IdP group "bad\nname": group name contains a control character`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			s.Groups, s.Users = tc.groups, tc.users
			c, err := Compile(s)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, inScope, err := c.Groups(tc.idp)
			if inScope != tc.wantInScope {
				t.Errorf("inScope = %v, want %v", inScope, tc.wantInScope)
			}
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Groups (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGroupName(t *testing.T) {
	c, err := Compile(issueSpec())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		idp, want string
		ok        bool
	}{
		{"okta-jira-qa", "jira-qa", true},
		{"jira-developers", "jira-developers", true},
		{"jira-administrators", "", false},
		{"sales", "", false},
	}
	for _, tc := range tests {
		got, ok, err := c.GroupName(tc.idp)
		if err != nil || got != tc.want || ok != tc.ok {
			t.Errorf("GroupName(%q) = %q, %v, %v; want %q, %v", tc.idp, got, ok, err, tc.want, tc.ok)
		}
	}
}

func TestManaged(t *testing.T) {
	tests := []struct {
		name   string
		groups Groups
		group  string
		want   bool
	}{
		{"matches managed", issueSpec().Groups, "jira-developers", true},
		{"case-insensitive", issueSpec().Groups, "JIRA-Developers", true},
		{"default is managed", Groups{Default: []string{"confluence-users"}}, "Confluence-Users", true},
		{"hand-made group", issueSpec().Groups, "confluence-admins", false},
		// Renamed groups are not managed by name alone: see Managed's comment.
		{"renamed group outside managed", Groups{Rename: []Rename{{Regex: "^okta-(.*)$", Replace: new("x-$1")}}, Managed: []string{"^jira-"}}, "x-devs", false},
		{"nothing configured manages nothing", Groups{}, "jira-administrators", false},
		{"include does not imply managed", Groups{Include: []string{"^jira-"}}, "jira-administrators", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := base()
			s.Groups = tc.groups
			c, err := Compile(s)
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Managed(tc.group); got != tc.want {
				t.Errorf("Managed(%q) = %v, want %v", tc.group, got, tc.want)
			}
		})
	}
}

func TestDeleteRemoved(t *testing.T) {
	for _, v := range []*bool{nil, new(false), new(true)} {
		s := base()
		s.Groups.DeleteRemoved = v
		c, err := Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		want := v != nil && *v
		if got := c.DeleteRemoved(); got != want {
			t.Errorf("DeleteRemoved with %v = %v, want %v", v, got, want)
		}
	}
}

func TestRemovals(t *testing.T) {
	c, err := Compile(issueSpec())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name                     string
		desired, actual, applied []string
		want                     []string
	}{
		{name: "nothing to do", desired: []string{"jira-a"}, actual: []string{"JIRA-A"}, want: []string{}},
		{name: "bridge-added group no longer wanted", desired: nil, actual: []string{"engineering"}, applied: []string{"Engineering"},
			want: []string{"engineering"}},
		{name: "hand-added unmanaged kept", desired: nil, actual: []string{"confluence-admins"}, want: []string{}},
		{name: "hand-added managed removed", desired: []string{"jira-a"}, actual: []string{"jira-a", "jira-b"}, want: []string{"jira-b"}},
		{name: "default group removed when not desired", desired: nil, actual: []string{"jira-software-users"}, want: []string{"jira-software-users"}},
		{name: "mixed", desired: []string{"jira-a", "x"}, actual: []string{"jira-a", "x", "jira-gone", "ours", "admins"}, applied: []string{"ours", "x"},
			want: []string{"jira-gone", "ours"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Removals(tc.desired, tc.actual, tc.applied, c.Managed)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Removals (-want +got):\n%s", diff)
			}
		})
	}
	if got := Removals(nil, []string{"a"}, nil, nil); len(got) != 0 {
		t.Errorf("Removals with nil managed = %v, want none", got)
	}
}

func TestUnion(t *testing.T) {
	got := Union([]string{"b", "A"}, nil, []string{"a", "C", "b"}, []string{"c"})
	if diff := cmp.Diff([]string{"A", "b", "C"}, got); diff != "" {
		t.Errorf("Union (-want +got):\n%s", diff)
	}
	if got := Union(); got == nil || len(got) != 0 {
		t.Errorf("Union() = %#v, want an empty non-nil slice", got)
	}
}

func TestFlatten(t *testing.T) {
	members := map[string][]string{
		"all":         {"Engineering", "sales"},
		"engineering": {"backend", "frontend"},
		"backend":     {"db"},
		"loop-a":      {"loop-b"},
		"loop-b":      {"loop-a"},
	}
	tests := []struct {
		direct, want []string
	}{
		{[]string{"db"}, []string{"all", "backend", "db", "engineering"}},
		{[]string{"Frontend"}, []string{"all", "engineering", "Frontend"}},
		{[]string{"sales", "backend"}, []string{"all", "backend", "engineering", "sales"}},
		{[]string{"loop-a"}, []string{"loop-a", "loop-b"}},
		{[]string{"solo"}, []string{"solo"}},
		{nil, []string{}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.direct, ","), func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Flatten(members, tc.direct)); diff != "" {
				t.Errorf("Flatten (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDesired(t *testing.T) {
	c, err := Compile(issueSpec())
	if err != nil {
		t.Fatal(err)
	}
	user := map[string]any{"userName": "jane@example.com", "displayName": "Jane", "emails": em("jane@example.com"), "active": false}
	tests := []struct {
		name    string
		user    map[string]any
		groups  []string
		want    Desired
		wantErr string
	}{
		{name: "in scope", user: user, groups: []string{"jira-users", "okta-jira-qa"}, want: Desired{
			Account: Account{Username: "jane@example.com", DisplayName: "Jane", Email: "jane@example.com", Active: false},
			Groups:  []string{"jira-qa", "jira-software-users", "jira-users"}}},
		{name: "out of scope keeps the account", user: user, groups: []string{"jira-developers"}, want: Desired{
			Account: Account{Username: "jane@example.com", DisplayName: "Jane", Email: "jane@example.com", Active: false},
			Skipped: true, Reason: "not in any required IdP group (users.require_groups: jira-users)"}},
		{name: "out of scope and broken", user: map[string]any{"userName": "a<b"}, groups: nil, want: Desired{
			Skipped: true, Reason: "not in any required IdP group (users.require_groups: jira-users)"}},
		{name: "no username", user: map[string]any{"emails": "broken too"}, groups: []string{"jira-users"}, want: Desired{
			Skipped: true, Reason: `mapping.username: "" (sources from[0] "userName"): no username`}},
		{name: "bad account", user: map[string]any{"userName": "a<b", "emails": em("e@x")}, groups: []string{"jira-users"},
			wantErr: "contains <, > or &"},
		{name: "bad group", user: user, groups: []string{"jira-users", "okta-jira-\x01"},
			wantErr: `groups.rename[0]: IdP group "okta-jira-\x01" renamed to "jira-\x01": group name contains a control character`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Desired(tc.user, tc.groups)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Desired = %+v, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Desired (-want +got):\n%s", diff)
			}
		})
	}
}
