package patch

import (
	"reflect"
	"testing"

	"github.com/scim2/filter-parser/v2"
)

var pathSeeds = []string{"title", "name.givenName", "active", "x-y_z9", "a.b.c", "9a", "a.", ".a", "", "$ref", "a.$ref",
	"emails[type eq \"work\"].value", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "a b", "ñame",
	"members[value eq \"1\"]", "name.", "A-.B_"}

func TestParsePathAgreesWithTheLibrary(t *testing.T) {
	fast := 0
	for _, s := range pathSeeds {
		checkParsePath(t, s)
		if _, _, ok := simplePath(s); ok {
			fast++
		}
	}
	if fast < 4 {
		t.Errorf("only %d seeds take the fast path", fast)
	}
}

func FuzzParsePath(f *testing.F) {
	for _, s := range pathSeeds {
		f.Add(s)
	}
	f.Fuzz(checkParsePath)
}

func checkParsePath(t *testing.T, s string) {
	got, gerr := parsePath(s)
	want, werr := filter.ParsePath([]byte(s))
	if (gerr == nil) != (werr == nil) {
		t.Fatalf("parsePath(%q) error %v, filter.ParsePath error %v", s, gerr, werr)
	}
	if gerr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("parsePath(%q) = %#v, filter.ParsePath %#v", s, got, want)
	}
}
