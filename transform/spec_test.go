package transform

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

func decode(t *testing.T, src string) (Spec, error) {
	t.Helper()
	var s Spec
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	err := dec.Decode(&s)
	return s, err
}

// issueYAML is the tenant block of issue 4 item 3, as a tenant writes it.
const issueYAML = `
mapping:
  username: {from: userName, rules: [{regex: '^(.*)@example\.com$', replace: '$1'}, {lowercase: true}]}
  display_name: {from: displayName}
  email: {from: 'emails[primary eq true].value'}
users:
  require_groups: [jira-users]  # IdP groups; empty or absent: everyone
groups:
  include: ['^jira-', '^okta-jira-']
  exclude: ['^jira-administrators$']
  rename: [{regex: '^okta-(.*)$', replace: '$1'}]
  default: [jira-software-users]
  managed: ['^jira-']           # Atlassian groups whose memberships the bridge may remove
  delete_removed: false
`

func TestDecodeIssueExample(t *testing.T) {
	s, err := decode(t, issueYAML)
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{
		Mapping: Mapping{
			Username:    Field{From: Sources{"userName"}, Rules: []Rule{{Regex: `^(.*)@example\.com$`, Replace: new("$1")}, {Lowercase: true}}},
			DisplayName: Field{From: Sources{"displayName"}},
			Email:       Field{From: Sources{"emails[primary eq true].value"}},
		},
		Users: Users{RequireGroups: []string{"jira-users"}},
		Groups: Groups{
			Include:       []string{"^jira-", "^okta-jira-"},
			Exclude:       []string{"^jira-administrators$"},
			Rename:        []Rename{{Regex: "^okta-(.*)$", Replace: new("$1")}},
			Default:       []string{"jira-software-users"},
			Managed:       []string{"^jira-"},
			DeleteRemoved: new(false),
		},
	}
	if diff := cmp.Diff(want, s); diff != "" {
		t.Fatalf("decoded (-want +got):\n%s", diff)
	}
	c, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Desired(map[string]any{
		"userName": "Jane.Doe@example.com", "displayName": "Jane Doe",
		"emails": []any{map[string]any{"value": "Jane.Doe@example.com", "primary": true}},
	}, []string{"jira-users", "okta-jira-qa", "jira-administrators"})
	if err != nil {
		t.Fatal(err)
	}
	wantD := Desired{
		Account: Account{Username: "jane.doe", DisplayName: "Jane Doe", Email: "Jane.Doe@example.com", Active: true},
		Groups:  []string{"jira-qa", "jira-software-users", "jira-users"},
	}
	if diff := cmp.Diff(wantD, d); diff != "" {
		t.Fatalf("Desired (-want +got):\n%s", diff)
	}
}

func TestDecodeSourcesAndEmptyLists(t *testing.T) {
	s, err := decode(t, `
mapping:
  username: {from: [externalId, userName], fallback: 'emails.value'}
  email: {from: []}
groups:
  include: []
  exclude:
`)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Sources{"externalId", "userName"}, s.Mapping.Username.From); diff != "" {
		t.Error(diff)
	}
	if diff := cmp.Diff(Sources{"emails.value"}, s.Mapping.Username.Fallback); diff != "" {
		t.Error(diff)
	}
	// Merge tells "set to nothing" from "not set" by nil-ness; decoding must keep it.
	if s.Mapping.Email.From == nil || len(s.Mapping.Email.From) != 0 {
		t.Errorf("from: [] decoded as %#v, want an empty non-nil list", s.Mapping.Email.From)
	}
	if s.Groups.Include == nil || len(s.Groups.Include) != 0 {
		t.Errorf("include: [] decoded as %#v, want an empty non-nil list", s.Groups.Include)
	}
	if s.Groups.Exclude != nil || s.Groups.Managed != nil {
		t.Errorf("absent or null lists decoded as %#v, %#v, want nil", s.Groups.Exclude, s.Groups.Managed)
	}
}

func TestDecodeErrors(t *testing.T) {
	tests := []struct{ name, src, want string }{
		{"unknown rule key", "mapping:\n  username: {from: userName, rules: [{lowercse: true}]}\n",
			"line 2: field lowercse not found in type transform.Rule"},
		{"unknown field key", "mapping:\n  username: {form: userName}\n", "field form not found in type transform.Field"},
		{"from is a mapping", "mapping:\n  username:\n    from: {a: b}\n", "line 3: !!map: want a path or a list of paths"},
		{"from list holds a mapping", "mapping:\n  username:\n    from: [a, {b: c}]\n", "line 3: !!seq: want a path or a list of paths"},
		{"from is a number", "mapping:\n  username: {from: 3}\n", "line 2: !!int: want a path or a list of paths"},
		{"flag not bool", "mapping:\n  username: {rules: [{trim: yes please}]}\n", "cannot unmarshal !!str `yes please` into bool"},
		{"delete_removed not bool", "groups: {delete_removed: sometimes}\n", "into bool"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decode(t, tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("decode = %v, want error containing %q", err, tc.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	preset := Spec{
		Mapping: Mapping{
			Username:    Field{From: Sources{"userName"}},
			DisplayName: Field{From: Sources{"displayName"}, Fallback: Sources{"name.formatted"}, Rules: []Rule{{Trim: true}}},
			Email:       Field{From: Sources{`emails[type eq "work"].value`}, Fallback: Sources{"emails.value"}},
		},
		Groups: Groups{Include: []string{"^jira-"}, Default: []string{"jira-software-users"}, DeleteRemoved: new(true)},
	}
	tests := []struct {
		name     string
		override Spec
		want     Spec
	}{
		{name: "empty override keeps everything", override: Spec{}, want: preset},
		{name: "rules only: sources kept", override: Spec{Mapping: Mapping{Username: Field{Rules: []Rule{{StripDomain: true}}}}},
			want: func() Spec {
				s := preset
				s.Mapping.Username = Field{From: Sources{"userName"}, Rules: []Rule{{StripDomain: true}}}
				return s
			}()},
		{name: "from replaces from and fallback, rules kept", override: Spec{Mapping: Mapping{DisplayName: Field{From: Sources{"nickName"}}}},
			want: func() Spec {
				s := preset
				s.Mapping.DisplayName = Field{From: Sources{"nickName"}, Rules: []Rule{{Trim: true}}}
				return s
			}()},
		{name: "fallback alone replaces the sources too", override: Spec{Mapping: Mapping{Email: Field{Fallback: Sources{"x"}}}},
			want: func() Spec {
				s := preset
				s.Mapping.Email = Field{Fallback: Sources{"x"}}
				return s
			}()},
		{name: "empty rules clear", override: Spec{Mapping: Mapping{DisplayName: Field{Rules: []Rule{}}}},
			want: func() Spec {
				s := preset
				s.Mapping.DisplayName = Field{From: Sources{"displayName"}, Fallback: Sources{"name.formatted"}, Rules: []Rule{}}
				return s
			}()},
		{name: "groups piece by piece", override: Spec{
			Users:  Users{RequireGroups: []string{"jira-users"}},
			Groups: Groups{Include: []string{}, Managed: []string{"^jira-"}, DeleteRemoved: new(false)}},
			want: func() Spec {
				s := preset
				s.Users = Users{RequireGroups: []string{"jira-users"}}
				s.Groups = Groups{Include: []string{}, Default: []string{"jira-software-users"}, Managed: []string{"^jira-"}, DeleteRemoved: new(false)}
				return s
			}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Merge(preset, tc.override)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Merge (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMergeSharesNothing(t *testing.T) {
	b := Spec{
		Mapping: Mapping{Username: Field{From: Sources{"userName"}, Rules: []Rule{{Regex: "a", Replace: new("b")}}}},
		Groups:  Groups{Include: []string{"x"}, Rename: []Rename{{Regex: "r", Replace: new("s")}}, DeleteRemoved: new(true)},
	}
	m := Merge(b, Spec{})
	m.Mapping.Username.From[0] = "changed"
	*m.Mapping.Username.Rules[0].Replace = "changed"
	m.Groups.Include[0] = "changed"
	*m.Groups.Rename[0].Replace = "changed"
	*m.Groups.DeleteRemoved = false
	if b.Mapping.Username.From[0] != "userName" || *b.Mapping.Username.Rules[0].Replace != "b" ||
		b.Groups.Include[0] != "x" || *b.Groups.Rename[0].Replace != "s" || !*b.Groups.DeleteRemoved {
		t.Fatalf("changing the merge result changed the base: %+v", b)
	}
}
