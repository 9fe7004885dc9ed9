package sqlite

import (
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf8"
)

func TestStringTuples(t *testing.T) {
	cases := []struct {
		in   string
		want [][]string
	}{
		{`[]`, nil},
		{` [ ] `, nil},
		{`[["a","User","Alice"]]`, [][]string{{"a", "User", "Alice"}}},
		{`[["a","User","Al\"ice"],["b","Group",null]]`, [][]string{{"a", "User", `Al"ice`}, {"b", "Group", ""}}},
		{`[["\u00e5sa","User","\\ \/ \n"] , ["ſ","Group","😀"]]`, [][]string{{"åsa", "User", "\\ / \n"}, {"ſ", "Group", "😀"}}},
	}
	for _, c := range cases {
		var got [][]string
		if err := stringTuples(c.in, 3, func(t []string) { got = append(got, slices.Clone(t)) }); err != nil {
			t.Errorf("stringTuples(%s): %v", c.in, err)
			continue
		}
		if !slices.EqualFunc(got, c.want, slices.Equal) {
			t.Errorf("stringTuples(%s) = %q, want %q", c.in, got, c.want)
		}
	}
	for _, bad := range []string{``, `[`, `[[]]`, `[["a","b"]]`, `[["a","b","c","d"]]`, `[["a","b","c"]`, `[["a","b","c"]]x`,
		`[["a","b","c"],]`, `[["a",1,"c"]]`, `[["a","b","c`, "[[\"a\",\"b\",\"c\x01\"]]", `[["a","b","\x"]]`, `{}`, `[nul]`} {
		if err := stringTuples(bad, 3, func([]string) {}); err == nil {
			t.Errorf("stringTuples(%q) accepted it", bad)
		}
	}
}

// FuzzStringTuples checks the hand-written parser against encoding/json:
// whatever both accept reads the same, and the parser never accepts what
// encoding/json rejects as a list of string triples.
func FuzzStringTuples(f *testing.F) {
	for _, s := range []string{`[]`, `[["a","User","Alice"]]`, `[["a","b","c"],["d","e",null]]`, `[["\u00e5","\"","\\"]]`, `[["a","b"]]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var got [][3]string
		err := stringTuples(s, 3, func(t []string) { got = append(got, [3]string(t)) })
		var want [][3]*string
		jerr := json.Unmarshal([]byte(s), &want)
		if err != nil || !utf8.ValidString(s) {
			// Stricter than encoding/json (arity) is fine. Invalid UTF-8
			// is kept as is, as scanning the rows did (encoding/json
			// would replace it); the stored text is always valid anyway.
			return
		}
		if jerr != nil {
			t.Fatalf("stringTuples accepted %q, encoding/json: %v", s, jerr)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d tuples, encoding/json %d", s, len(got), len(want))
		}
		for i := range got {
			for k := range 3 {
				w := ""
				if want[i][k] != nil {
					w = *want[i][k]
				}
				if got[i][k] != w {
					t.Fatalf("%q: tuple %d field %d = %q, encoding/json %q", s, i, k, got[i][k], w)
				}
			}
		}
	})
}
