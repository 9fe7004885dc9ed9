package query

import (
	"reflect"
	"regexp"
	"slices"
	"testing"
)

// matchSimple is simpleForm, by hand: for any text it returns what the
// regular expression's FindStringSubmatch returns.
func FuzzMatchSimpleIsTheRegexp(f *testing.F) {
	re := regexp.MustCompile(simpleForm)
	for _, s := range []string{
		`userName eq "a@b.c"`, `name.familyName  SW   "x"`, `a.b eq "\u00E9\n\"\\\/"`, `a.b eq "\u00e9"`, `a eq "x" `,
		`a eq "x"y"`, `a. eq "x"`, `1a eq "x"`, `a eq"x"`, `a e "x"`, `a eqq "x"`, `a eq "\q"`, `a eq "tab	"`, `a eq "\u12"`,
		`a_b$-c.d-e eq ""`, `a eq "` + "\xff\xfe" + `"`, `a eq "x`, `a eq "x\"`, ``, `a`, `a eq `,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		want := re.FindStringSubmatch(text)
		if got := matchSimple(text); !slices.Equal(got, want) {
			t.Fatalf("%q: matchSimple %q, regexp %q", text, got, want)
		}
	})
}

// Parse's shortcut for filters already in the simple form answers as the
// long way (Prepare, then the same comparison) for any text.
func FuzzParseSkipsPrepare(f *testing.F) {
	for _, s := range []string{
		`userName eq "a@b.c"`, ` userName eq "x" `, "\tuserName eq \"x\"\n", `userName eq "\u00e9"`, `userName eq "\u00E9"`,
		`userName eq x`, `emails[type eq "work"].value eq "a"`, `name.familyName sw "L"`, `active eq "true"`,
		`userName eq "` + "\xff" + `"`, `meta.lastModified gt "2020-01-01T00:00:00Z"`, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`,
	} {
		f.Add(s)
	}
	schemas := []Schema{userSchema(), groupSchema()}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, s := range schemas {
			got, gerr := Parse(raw, s)
			want, werr := parsePrepared(raw, s)
			if (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error() {
				t.Fatalf("%q: err %v, the long way %v", raw, gerr, werr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%q: %#v, the long way %#v", raw, got, want)
			}
		}
	})
}
