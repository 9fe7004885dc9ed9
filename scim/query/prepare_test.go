package query

import (
	"strings"
	"testing"

	"github.com/scim2/filter-parser/v2"
)

func TestPrepareRewrites(t *testing.T) {
	cases := []struct{ in, want string }{
		// Entra's non-RFC value path with a trailing sub-attribute.
		{`emails[type eq "work"].value eq "a@b.c"`, `emails[type eq "work" and value eq "a@b.c"]`},
		{`emails[type eq "work"].value pr`, `emails[type eq "work" and value pr]`},
		{`emails[type eq "work"].Value Eq "a@b.c"`, `emails[type eq "work" and Value Eq "a@b.c"]`},
		{`userName eq "u" and emails[type eq "work"].value eq "a@b.c"`, `userName eq "u" and emails[type eq "work" and value eq "a@b.c"]`},
		{`roles[primary eq "True"].value eq "admin"`, `roles[primary eq "True" and value eq "admin"]`},
		// Bare values (Microsoft's Postman suite, old Entra doc).
		{`userName sw O`, `userName sw "O"`},
		{`externalId eq jyoung`, `externalId eq "jyoung"`},
		{`meta.Created gt 2015-10-10T14:38:21.8617979-07:00`, `meta.Created gt "2015-10-10T14:38:21.8617979-07:00"`},
		{`name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`,
			`name.FamilyName eq "Employee" and (emails.Value co "example.com" or emails.Value co "example.org")`},
		{`emails[type eq work].value eq a@b.c`, `emails[type eq "work" and value eq "a@b.c"]`},
		// Lower-case \u escapes, which the parser refuses.
		{`userName eq "caf\u00e9 \u00ff"`, `userName eq "caf\u00E9 \u00FF"`},
		{`userName eq "a\\u00e9"`, `userName eq "a\\u00e9"`}, // an escaped backslash, not an escape
		// Surrounding white space.
		{" \ttitle pr\n", `title pr`},
	}
	for _, tc := range cases {
		got, err := Prepare(tc.in)
		if err != nil {
			t.Errorf("Prepare(%q): %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("Prepare(%q)\n = %q\nwant %q", tc.in, got, tc.want)
		}
		if _, err := filter.ParseFilter([]byte(got)); err != nil {
			t.Errorf("rewritten %q does not parse: %v", got, err)
		}
	}
}

// TestPrepareKeepsRFCFilters makes sure valid filters pass untouched, so
// Prepare can sit in front of elimity without changing any meaning.
func TestPrepareKeepsRFCFilters(t *testing.T) {
	for _, s := range []string{
		`userName eq "bjensen"`,
		`name.familyName co "O'Malley"`,
		`userName sw "J"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J"`,
		`title pr`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`title pr and userType eq "Employee"`,
		`title pr or userType eq "Intern"`,
		`schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`,
		`userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")`,
		`userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")`,
		`userType eq "Employee" and emails[type eq "work" and value co "@example.com"]`,
		`emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]`,
		`active eq true`, `active eq FALSE`, `x eq null`, `x eq -1.5e+3`, `x eq 0`,
		`title pr and eq pr`, // an attribute named eq
		`userName eq "a ] .b eq c"`,
		`userName eq "a\"b"`,
		`userName eq "\u00E9"`,
	} {
		got, err := Prepare(s)
		if err != nil {
			t.Errorf("Prepare(%q): %v", s, err)
			continue
		}
		if got != s {
			t.Errorf("Prepare(%q) = %q, want it unchanged", s, got)
		}
	}
}

func TestPrepareErrors(t *testing.T) {
	cases := []struct{ in, detail string }{
		{"", "empty filter"},
		{" \t ", "empty filter"},
		{`userName eq "abc`, "filter has an unterminated string"},
		{`userName eq "abc\"`, "filter has an unterminated string"},
		{strings.Repeat("(", MaxDepth+1) + "title pr" + strings.Repeat(")", MaxDepth+1), "filter nests deeper than 50 levels"},
		{strings.Repeat("a", MaxFilterBytes+1), "filter is longer than 4096 bytes"},
	}
	for _, tc := range cases {
		got, err := Prepare(tc.in)
		if got != "" {
			t.Errorf("Prepare(%.40q) = %q, want empty", tc.in, got)
		}
		checkInvalidFilter(t, err, tc.detail)
	}
}

func TestIsNumber(t *testing.T) {
	for w, want := range map[string]bool{
		"0": true, "-0": true, "12": true, "1.5": true, "-1.5e3": true, "1E+3": true, "1e-3": true,
		"": false, "-": false, "01": false, "1.": false, ".5": false, "1e": false, "1e+": false, "1x": false, "O": false,
	} {
		if got := isNumber(w); got != want {
			t.Errorf("isNumber(%q) = %v, want %v", w, got, want)
		}
	}
}
