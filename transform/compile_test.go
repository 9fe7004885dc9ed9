package transform

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// base is a complete mapping, like the generic preset's.
func base() Spec {
	return Spec{Mapping: Mapping{
		Username:    Field{From: Sources{"userName"}},
		DisplayName: Field{From: Sources{"displayName", "name.formatted", "{{.name.givenName}} {{.name.familyName}}"}},
		Email:       Field{From: Sources{"emails[primary eq true].value", "emails.value"}},
	}}
}

func withUsername(f Field) Spec {
	s := base()
	s.Mapping.Username = f
	return s
}

func TestCompileProblems(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want []string
	}{
		{name: "empty spec", spec: Spec{}, want: []string{
			"mapping.username.from: required (an attribute path such as userName)",
			"mapping.email.from: required (an attribute path such as userName)",
		}},
		{name: "bad regex", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{Lowercase: true}, {Regex: "([a-z", Replace: new("$1")}}}),
			want: []string{"mapping.username.rules[1].regex: error parsing regexp: missing closing ]: `[a-z`"}},
		{name: "two kinds", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{Lowercase: true, Trim: true}}}),
			want: []string{"mapping.username.rules[0]: lowercase and trim set together; a rule does one thing, so write one rule per kind"}},
		{name: "no kind", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{}}}),
			want: []string{"mapping.username.rules[0]: no rule kind set (want exactly one of regex, lowercase, uppercase, trim, strip_domain, template, default; a flag set to false is not set)"}},
		{name: "regex without replace", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{Regex: "x"}}}),
			want: []string{"mapping.username.rules[0].replace: required with regex (write replace: '' to delete the matches)"}},
		{name: "replace without regex", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{Replace: new("x")}}}),
			want: []string{"mapping.username.rules[0].regex: required with replace"}},
		{name: "replace with lowercase", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{Lowercase: true, Replace: new("x")}}}),
			want: []string{"mapping.username.rules[0].replace: only goes with regex"}},
		{name: "bad template rule", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{Template: "{{printf `x`}}"}}}),
			want: []string{`mapping.username.rules[0].template: function "printf" is not allowed (allowed: attr, lower, upper, trim, strip_domain, coalesce, and, or, not, eq, ne, len)`}},
		{name: "bad paths", spec: withUsername(Field{From: Sources{"userName", "emails[type co \"x\"].value"}, Fallback: Sources{"a..b", "{{.x"}}),
			want: []string{
				`mapping.username.from[1]: path "emails[type co \"x\"].value": filter [type co "x"]: unsupported operator "co" (only eq, joined with and)`,
				`mapping.username.fallback[0]: path "a..b": unexpected '.' at offset 2 (want an attribute name)`,
				"mapping.username.fallback[1]: template: template: template:1: unclosed action",
			}},
		{name: "groups", spec: func() Spec {
			s := base()
			s.Users.RequireGroups = []string{"ok", " "}
			s.Groups = Groups{
				Include: []string{"^jira-", "("},
				Exclude: []string{""},
				Rename:  []Rename{{Regex: "^okta-(.*)$"}, {Regex: "x", Replace: new(" ")}, {Regex: "[", Replace: new("y")}},
				Default: []string{"jira-software-users", "", "bad\x00name"},
				Managed: []string{"*"},
			}
			return s
		}(), want: []string{
			"users.require_groups[1]: empty group name",
			"groups.include[1]: error parsing regexp: missing closing ): `(`",
			"groups.exclude[0]: empty pattern (it would match every group)",
			"groups.managed[0]: error parsing regexp: missing argument to repetition operator: `*`",
			"groups.rename[0].replace: required (the Atlassian name, may use $1 for capture groups)",
			"groups.rename[1].replace: empty: a group needs a name",
			"groups.rename[2].regex: error parsing regexp: missing closing ]: `[`",
			"groups.default[1]: empty group name",
			"groups.default[2]: group name contains a control character",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compile(tc.spec)
			var se *SpecError
			if !errors.As(err, &se) {
				t.Fatalf("Compile = %v, %v; want a *SpecError", c, err)
			}
			if diff := cmp.Diff(tc.want, se.Problems); diff != "" {
				t.Errorf("problems (-want +got):\n%s", diff)
			}
			if !strings.HasPrefix(err.Error(), "invalid mapping: ") {
				t.Errorf("Error() = %q", err)
			}
		})
	}
}

func TestValidateAcceptsPartialBlocks(t *testing.T) {
	// A tenant's override sets only what it changes; Validate must not ask for
	// the rest (the preset supplies it), but still check what is there.
	partial := Spec{Mapping: Mapping{Username: Field{Rules: []Rule{{StripDomain: true}}}}}
	if p := partial.Validate(); len(p) != 0 {
		t.Fatalf("Validate(partial) = %v, want none", p)
	}
	bad := Spec{Mapping: Mapping{Email: Field{Rules: []Rule{{Regex: "(", Replace: new("")}}}}}
	want := []string{"mapping.email.rules[0].regex: error parsing regexp: missing closing ): `(`"}
	if diff := cmp.Diff(want, bad.Validate()); diff != "" {
		t.Fatalf("Validate (-want +got):\n%s", diff)
	}
}

func TestAccount(t *testing.T) {
	okta := map[string]any{ // idp-scim-clients.md 2.3
		"userName":    "test.user@okta.local",
		"name":        map[string]any{"givenName": "Test", "familyName": "User"},
		"emails":      []any{map[string]any{"primary": true, "value": "test.user@okta.local", "type": "work"}},
		"displayName": "Test User",
		"active":      true,
	}
	tests := []struct {
		name    string
		spec    Spec
		user    map[string]any
		want    Account
		wantErr []string // substrings
	}{
		{name: "okta defaults", spec: base(), user: okta,
			want: Account{Username: "test.user@okta.local", DisplayName: "Test User", Email: "test.user@okta.local", Active: true}},
		{name: "issue example rules", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{
			{Regex: `^(.*)@example\.com$`, Replace: new("$1")}, {Lowercase: true}}}),
			user: map[string]any{"userName": "Jane.Doe@Example.com", "emails": []any{map[string]any{"value": "j@example.com"}}},
			// The regex is case-sensitive Go syntax, so Example.com does not match.
			want: Account{Username: "jane.doe@example.com", DisplayName: "jane.doe@example.com", Email: "j@example.com", Active: true}},
		{name: "regex no match keeps value", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{
			{Regex: `^(.*)@example\.com$`, Replace: new("$1")}}}),
			user: map[string]any{"userName": "bob@other.org", "emails": em("bob@other.org")},
			want: Account{Username: "bob@other.org", DisplayName: "bob@other.org", Email: "bob@other.org", Active: true}},
		{name: "regex capture and named group", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{
			{Regex: `^(?P<first>\w+)\.(\w+)@.*$`, Replace: new("${2}_${first}")}}}),
			user: map[string]any{"userName": "jane.doe@x.org", "emails": em("j@x.org")},
			want: Account{Username: "doe_jane", DisplayName: "doe_jane", Email: "j@x.org", Active: true}},
		{name: "every simple rule", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{
			{Trim: true}, {StripDomain: true}, {Uppercase: true}, {Regex: "-", Replace: new("")}}}),
			user: map[string]any{"userName": "  a-b@c@d.org ", "emails": em("x@y")},
			want: Account{Username: "AB@C", DisplayName: "AB@C", Email: "x@y", Active: true}},
		{name: "fallback when first source empty", spec: withUsername(Field{From: Sources{"externalId"}, Fallback: Sources{"userName"}}),
			user: map[string]any{"externalId": "  ", "userName": "u1", "emails": em("e@x")},
			want: Account{Username: "u1", DisplayName: "u1", Email: "e@x", Active: true}},
		{name: "extension source", spec: withUsername(Field{From: Sources{enterpriseURN + ":employeeNumber"}}),
			user: entraUser(),
			want: Account{Username: "701984", DisplayName: "Noemie Hoppe", Email: "noemie.hoppe@schaefer.us", Active: true}},
		{name: "display name from template source", spec: base(),
			user: map[string]any{"userName": "u", "emails": em("e@x"), "name": map[string]any{"givenName": "Ada", "familyName": "Lovelace"}},
			want: Account{Username: "u", DisplayName: "Ada Lovelace", Email: "e@x", Active: true}},
		{name: "display name template rule", spec: func() Spec {
			s := base()
			s.Mapping.DisplayName = Field{From: Sources{"displayName"}, Rules: []Rule{{Template: "{{.name.familyName | upper}}, {{.name.givenName}}"}}}
			return s
		}(), user: entraUser(),
			want: Account{Username: "Noemie.Hoppe@schaefer.us", DisplayName: "HOPPE, Noemie", Email: "noemie.hoppe@schaefer.us", Active: true}},
		{name: "default rule fills empty", spec: func() Spec {
			s := base()
			s.Mapping.DisplayName = Field{From: Sources{"nickName"}, Rules: []Rule{{Default: "Nameless"}}}
			return s
		}(), user: map[string]any{"userName": "u", "emails": em("e@x")},
			want: Account{Username: "u", DisplayName: "Nameless", Email: "e@x", Active: true}},
		{name: "default rule keeps value", spec: func() Spec {
			s := base()
			s.Mapping.DisplayName = Field{From: Sources{"nickName"}, Rules: []Rule{{Default: "Nameless"}}}
			return s
		}(), user: map[string]any{"userName": "u", "emails": em("e@x"), "nickName": "Nick"},
			want: Account{Username: "u", DisplayName: "Nick", Email: "e@x", Active: true}},
		{name: "no display name: username", spec: base(), user: map[string]any{"userName": "u", "emails": em("e@x")},
			want: Account{Username: "u", DisplayName: "u", Email: "e@x", Active: true}},
		{name: "mixed case kept", spec: base(), user: map[string]any{"userName": "MixedCase", "emails": em("e@x")},
			want: Account{Username: "MixedCase", DisplayName: "MixedCase", Email: "e@x", Active: true}},
		{name: "entra string active", spec: base(), user: map[string]any{"userName": "u", "emails": em("e@x"), "active": "False"},
			want: Account{Username: "u", DisplayName: "u", Email: "e@x", Active: false}},
		{name: "active absent", spec: base(), user: map[string]any{"userName": "u", "emails": em("e@x"), "active": nil},
			want: Account{Username: "u", DisplayName: "u", Email: "e@x", Active: true}},
		{name: "active bad", spec: base(), user: map[string]any{"userName": "u", "emails": em("e@x"), "active": "maybe"},
			wantErr: []string{`active: "maybe" (SCIM attribute active): want true or false, got a string`}},

		{name: "no username", spec: base(), user: map[string]any{"emails": em("e@x")},
			wantErr: []string{`mapping.username: "" (sources from[0] "userName"): no username`}},
		{name: "username with <", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{Lowercase: true}}}),
			user:    map[string]any{"userName": "A<B", "emails": em("e@x")},
			wantErr: []string{`mapping.username: "a<b" (from[0] "userName" -> rules[0] (lowercase)): contains <, > or &: not a valid Jira username`}},
		{name: "username emptied by rule", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{Regex: ".*", Replace: new("")}}}),
			user:    map[string]any{"userName": "bob", "emails": em("e@x")},
			wantErr: []string{`mapping.username: "" (from[0] "userName" -> rules[0] (regex)): empty after the rules: not a valid Jira username`}},
		{name: "username too long", spec: base(), user: map[string]any{"userName": strings.Repeat("é", 256), "emails": em("e@x")},
			wantErr: []string{"longer than 255 characters: not a valid Jira username"}},
		{name: "username control char", spec: base(), user: map[string]any{"userName": "a\tb", "emails": em("e@x")},
			wantErr: []string{`mapping.username: "a\tb" (from[0] "userName"): contains a control character`}},
		{name: "username spaces", spec: base(), user: map[string]any{"userName": " a", "emails": em("e@x")},
			wantErr: []string{"has leading or trailing spaces (add a {trim: true} rule)"}},
		{name: "username 255 runes ok", spec: base(), user: map[string]any{"userName": strings.Repeat("é", 255), "emails": em("e@x")},
			want: Account{Username: strings.Repeat("é", 255), DisplayName: strings.Repeat("é", 255), Email: "e@x", Active: true}},
		{name: "template rule empty", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{Template: "{{.nickName}}"}}}),
			user:    map[string]any{"userName": "bob", "emails": em("e@x")},
			wantErr: []string{`mapping.username.rules[0] (template): input "bob": template yielded an empty value`}},
		{name: "template rule fails", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{Template: "{{lower .emails}}"}}}),
			user:    map[string]any{"userName": "bob", "emails": []any{map[string]any{"value": "e@x"}}},
			wantErr: []string{`mapping.username.rules[0] (template): input "bob": template: template:1:2: executing "template" at <lower (attr . "emails")>: error calling lower: want text, got a []interface {}`}},
		{name: "template source fails", spec: withUsername(Field{From: Sources{"{{lower .emails}}"}}),
			user:    map[string]any{"emails": []any{map[string]any{"value": "e@x"}}},
			wantErr: []string{`mapping.username.from[0] "{{lower .emails}}": template:`}},
		{name: "complex source", spec: withUsername(Field{From: Sources{"name"}}),
			user:    map[string]any{"name": map[string]any{"givenName": "x"}, "emails": em("e@x")},
			wantErr: []string{`mapping.username.from[0] "name": is a complex value without a "value" sub-attribute`}},
		{name: "no email", spec: base(), user: map[string]any{"userName": "u"},
			wantErr: []string{`mapping.email: "" (sources from[0] "emails[primary eq true].value", from[1] "emails.value"): empty: Jira requires an email address`}},
		{name: "bad email", spec: base(), user: map[string]any{"userName": "u", "emails": em("not-an-address")},
			wantErr: []string{`mapping.email: "not-an-address" (from[1] "emails.value"): not an email address (want local@domain)`}},
		{name: "email with space", spec: base(), user: map[string]any{"userName": "u", "emails": em("a b@x")},
			wantErr: []string{"contains white space or a control character"}},
		{name: "display name too long", spec: base(), user: map[string]any{"userName": "u", "emails": em("e@x"), "displayName": strings.Repeat("x", 256)},
			wantErr: []string{"mapping.display_name: ", "longer than 255 characters"}},
		{name: "every field reported", spec: base(), user: map[string]any{"userName": "a&b", "emails": em("bad"), "active": 3},
			wantErr: []string{"mapping.username:", "mapping.email:", "active:"}},
		{name: "long input cut", spec: withUsername(Field{From: Sources{"userName"}, Rules: []Rule{{Template: "{{.nothing}}"}}}),
			user:    map[string]any{"userName": strings.Repeat("a", 200), "emails": em("e@x")},
			wantErr: []string{`input "` + strings.Repeat("a", 80) + `"...: template yielded`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Compile(tc.spec)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := c.Account(tc.user)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("Account = %+v, want an error", got)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q\n does not contain %q", err, w)
					}
				}
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Errorf("error %v holds no *FieldError", err)
				}
				if got != (Account{}) {
					t.Errorf("Account on error = %+v, want zero", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("Account: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Account (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAccountNoUsernameIsErrNoUsername(t *testing.T) {
	c, err := Compile(base())
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Account(map[string]any{"emails": em("e@x")})
	if !errors.Is(err, ErrNoUsername) {
		t.Fatalf("err = %v, want ErrNoUsername", err)
	}
	_, err = c.Account(map[string]any{"userName": "a<b", "emails": em("e@x")})
	if err == nil || errors.Is(err, ErrNoUsername) {
		t.Fatalf("err = %v, want a non-ErrNoUsername error", err)
	}
}

// The user map is only read: Account must not change it (the engine hands in
// what the store holds).
func TestAccountDoesNotModifyUser(t *testing.T) {
	s := base()
	s.Mapping.Username.Rules = []Rule{{Template: "{{range .emails}}{{.value}}{{end}}"}, {Lowercase: true}}
	c, err := Compile(s)
	if err != nil {
		t.Fatal(err)
	}
	user, want := entraUser(), entraUser()
	if _, err := c.Account(user); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, user); diff != "" {
		t.Fatalf("user changed (-want +got):\n%s", diff)
	}
}

// em is a one-element emails attribute.
func em(addr string) []any {
	return []any{map[string]any{"value": addr}}
}
