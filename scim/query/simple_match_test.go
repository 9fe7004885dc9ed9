package query

import (
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
