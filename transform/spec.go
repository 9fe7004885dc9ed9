package transform

import (
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// Spec is everything a tenant (or a preset) says about turning its SCIM users
// into Atlassian accounts and group memberships: the mapping:, users: and
// groups: blocks of a tenant in the config file. Decode it strictly (unknown
// keys are errors), check it with Validate, combine a preset with a tenant's
// override with Merge, and Compile the result.
//
// In every list-valued key, absent (nil) means "not set here: inherit" while
// an explicit empty list ([]) means "set to nothing"; Merge relies on that.
type Spec struct {
	// Mapping says where the account's username, display name and email come from.
	Mapping Mapping `yaml:"mapping" json:"mapping"`
	// Users scopes which users are provisioned at all.
	Users Users `yaml:"users" json:"users"`
	// Groups filters, renames and adds the groups provisioned users get.
	Groups Groups `yaml:"groups" json:"groups"`
}

// Mapping says where each account field comes from.
type Mapping struct {
	// Username becomes the Atlassian username. Jira usernames are
	// case-insensitive: the value is not lowercased unless a rule says so. It
	// must come out non-empty, at most 255 characters, without control
	// characters or < > & (which Jira refuses).
	Username Field `yaml:"username" json:"username"`
	// DisplayName becomes the full name. When it comes out empty the username
	// is used (Jira requires a display name).
	DisplayName Field `yaml:"display_name" json:"display_name"`
	// Email becomes the email address; Jira requires one, so it must come out
	// non-empty and look like an address.
	Email Field `yaml:"email" json:"email"`
}

// Field computes one account field: the first source (From, then Fallback)
// that yields a non-blank value, then Rules applied in order.
//
// A source is either an attribute path or, when it contains "{{", a template
// (see Rule.Template) whose blank output means "try the next source":
//
//	from: [displayName, name.formatted, '{{.name.givenName}} {{.name.familyName}}']
//
// Paths: core attributes (userName, name.givenName), value filters with eq and
// and on strings and booleans (emails[type eq "work"].value,
// emails[primary eq true].value, phoneNumbers[type eq "mobile"].value),
// extension attributes under their schema URN
// (urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department,
// ...:User:manager.value, custom URNs alike). Attribute names match
// case-insensitively. Where a path meets a list without a filter (emails.value)
// or a filter matches several elements, the element marked primary is used,
// else the first. A complex value (manager) yields its "value" sub-attribute.
type Field struct {
	// From is one path or a list of paths, tried in order.
	From Sources `yaml:"from,omitempty" json:"from,omitempty"`
	// Fallback lists more sources tried after From; it is From's
	// continuation, for configs that read better with it.
	Fallback Sources `yaml:"fallback,omitempty" json:"fallback,omitempty"`
	// Rules transform the value, in order.
	Rules []Rule `yaml:"rules,omitempty" json:"rules,omitempty"`
}

// sources returns From followed by Fallback.
func (f Field) sources() []string {
	return append(slices.Clone([]string(f.From)), f.Fallback...)
}

// Sources is a list of attribute paths or templates, written in YAML as one
// string or a list of strings.
type Sources []string

// UnmarshalYAML accepts a string or a list of strings.
func (s *Sources) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		*s = Sources{n.Value}
		return nil
	}
	if n.Kind == yaml.SequenceNode {
		list := make(Sources, 0, len(n.Content))
		for _, item := range n.Content {
			if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" {
				list = nil
				break
			}
			list = append(list, item.Value)
		}
		if list != nil {
			*s = list
			return nil
		}
	}
	// The "line N: !!tag: message" form lets internal/yamlstrict name the key.
	return &yaml.TypeError{Errors: []string{fmt.Sprintf(
		"line %d: %s: want a path or a list of paths", n.Line, n.ShortTag())}}
}

// Rule is one step of a Field's rule chain. Exactly one kind is set per rule:
//
//	{regex: '^(.*)@example\.com$', replace: '$1'}  Go RE2 syntax; every match is replaced,
//	                                               $1/${name} expand capture groups (write ${1}x,
//	                                               not $1x); no match leaves the value as it is
//	{lowercase: true} {uppercase: true} {trim: true}
//	{strip_domain: true}                           drops the last @ and what follows
//	{template: '{{.name.givenName}} {{.name.familyName}}'}
//	{default: 'x'}                                 x when the value is empty at this point
//
// Templates are Go text/template over the user as stored. Field references
// (.name.givenName) resolve like paths: case-insensitive, absent means "". The
// functions are attr (a full path, for URNs and filters:
// {{attr . "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}}),
// lower, upper, trim, strip_domain, coalesce (first non-blank argument), and,
// or, not, eq, ne and len; if, with and range (over an attribute) work;
// define, template, printf and the other builtins are refused. The output is
// trimmed; a template rule that fails or yields a blank value is an error.
// A template rule computes a fresh value from the user, replacing the value so far.
type Rule struct {
	// Regex is matched against the value; Replace is its replacement.
	Regex string `yaml:"regex,omitempty" json:"regex,omitempty"`
	// Replace is required with Regex (an empty string deletes the matches).
	Replace *string `yaml:"replace,omitempty" json:"replace,omitempty"`
	// Lowercase lowercases the value.
	Lowercase bool `yaml:"lowercase,omitempty" json:"lowercase,omitempty"`
	// Uppercase uppercases the value.
	Uppercase bool `yaml:"uppercase,omitempty" json:"uppercase,omitempty"`
	// Trim removes leading and trailing white space.
	Trim bool `yaml:"trim,omitempty" json:"trim,omitempty"`
	// StripDomain removes the last "@" and everything after it.
	StripDomain bool `yaml:"strip_domain,omitempty" json:"strip_domain,omitempty"`
	// Template replaces the value with the template's output.
	Template string `yaml:"template,omitempty" json:"template,omitempty"`
	// Default is used when the value is empty at this point.
	Default string `yaml:"default,omitempty" json:"default,omitempty"`
}

// kinds lists the rule kinds set in r, in declaration order.
func (r Rule) kinds() []string {
	var k []string
	if r.Regex != "" {
		k = append(k, "regex")
	}
	if r.Lowercase {
		k = append(k, "lowercase")
	}
	if r.Uppercase {
		k = append(k, "uppercase")
	}
	if r.Trim {
		k = append(k, "trim")
	}
	if r.StripDomain {
		k = append(k, "strip_domain")
	}
	if r.Template != "" {
		k = append(k, "template")
	}
	if r.Default != "" {
		k = append(k, "default")
	}
	return k
}

// Users scopes provisioning.
type Users struct {
	// RequireGroups lists IdP group names (matched case-insensitively, after
	// nested groups are flattened); a user is provisioned only when in at
	// least one. Empty or absent: every user.
	RequireGroups []string `yaml:"require_groups" json:"require_groups,omitempty"`
}

// Groups turns a user's IdP groups into Atlassian groups, in this order:
// Include and Exclude filter the IdP group names, Rename turns the survivors
// into Atlassian names, Default groups are added. Managed is about removal.
//
// All patterns here are Go regular expressions matched case-insensitively
// (write (?-i) to opt out): Jira DC group names are case-insensitive, and a
// pattern that told "Jira-Devs" from "jira-devs" would treat one Jira group
// two ways.
type Groups struct {
	// Include keeps the IdP groups matching at least one pattern; absent or
	// empty keeps all.
	Include []string `yaml:"include" json:"include,omitempty"`
	// Exclude drops the IdP groups matching any pattern (after Include).
	Exclude []string `yaml:"exclude" json:"exclude,omitempty"`
	// Rename maps a kept IdP group name to its Atlassian name: the first rule
	// whose pattern matches applies; no match keeps the name.
	Rename []Rename `yaml:"rename" json:"rename,omitempty"`
	// Default lists Atlassian groups every provisioned (in-scope) user gets.
	Default []string `yaml:"default" json:"default,omitempty"`
	// Managed lists patterns on Atlassian group names whose memberships the
	// bridge may remove even when it did not add them itself; see
	// Compiled.Managed and Removals for the whole rule.
	Managed []string `yaml:"managed" json:"managed,omitempty"`
	// DeleteRemoved lets the bridge delete an Atlassian group when its IdP
	// group is deleted; by default only its managed memberships go, because
	// permission schemes point at groups. Absent means false.
	DeleteRemoved *bool `yaml:"delete_removed" json:"delete_removed,omitempty"`
}

// Rename is one group rename rule; Replace expands capture groups as in
// regexp.Regexp.ReplaceAllString.
type Rename struct {
	// Regex is matched case-insensitively against the IdP group name.
	Regex string `yaml:"regex" json:"regex"`
	// Replace is the Atlassian name; required.
	Replace *string `yaml:"replace" json:"replace"`
}

// Merge returns base with every piece that override sets replaced by
// override's, so that a tenant overrides its preset piece by piece:
//   - per account field, the sources (from and fallback together: setting
//     either replaces both) and the rules are separate pieces;
//   - users.require_groups, and each of groups.include, exclude, rename,
//     default, managed and delete_removed, is one piece.
//
// A piece is set when it is non-nil, so an explicit empty list clears the
// base's. The result shares no slices with its arguments.
func Merge(base, override Spec) Spec {
	out := Spec{
		Mapping: Mapping{
			Username:    mergeField(base.Mapping.Username, override.Mapping.Username),
			DisplayName: mergeField(base.Mapping.DisplayName, override.Mapping.DisplayName),
			Email:       mergeField(base.Mapping.Email, override.Mapping.Email),
		},
		Users: Users{RequireGroups: orBase(base.Users.RequireGroups, override.Users.RequireGroups)},
		Groups: Groups{
			Include: orBase(base.Groups.Include, override.Groups.Include),
			Exclude: orBase(base.Groups.Exclude, override.Groups.Exclude),
			Rename:  cloneRenames(orBase(base.Groups.Rename, override.Groups.Rename)),
			Default: orBase(base.Groups.Default, override.Groups.Default),
			Managed: orBase(base.Groups.Managed, override.Groups.Managed),
		},
	}
	switch {
	case override.Groups.DeleteRemoved != nil:
		out.Groups.DeleteRemoved = new(*override.Groups.DeleteRemoved)
	case base.Groups.DeleteRemoved != nil:
		out.Groups.DeleteRemoved = new(*base.Groups.DeleteRemoved)
	}
	return out
}

func mergeField(base, override Field) Field {
	out := Field{From: base.From, Fallback: base.Fallback, Rules: base.Rules}
	if override.From != nil || override.Fallback != nil {
		out.From, out.Fallback = override.From, override.Fallback
	}
	if override.Rules != nil {
		out.Rules = override.Rules
	}
	out.From = slices.Clone(out.From)
	out.Fallback = slices.Clone(out.Fallback)
	out.Rules = cloneRules(out.Rules)
	return out
}

// orBase returns a copy of override when it is set, else of base.
func orBase[S ~[]E, E any](base, override S) S {
	if override != nil {
		return slices.Clone(override)
	}
	return slices.Clone(base)
}

func cloneRules(rules []Rule) []Rule {
	out := slices.Clone(rules)
	for i, r := range out {
		if r.Replace != nil {
			out[i].Replace = new(*r.Replace)
		}
	}
	return out
}

func cloneRenames(rs []Rename) []Rename {
	for i, r := range rs {
		if r.Replace != nil {
			rs[i].Replace = new(*r.Replace)
		}
	}
	return rs
}
