package query

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	scimerrors "github.com/elimity-com/scim/errors"

	"github.com/scimbridge/scimbridge/store"
)

// FuzzParse: Parse never panics and returns either a well-formed filter or
// nil with a 400 invalidFilter ScimError value.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`userName eq "test.user@okta.local"`,
		`userName Eq "x"`,
		`username eq "X"`,
		`externalId eq "abc"`,
		`displayName eq "Group"`,
		`DisplayName eq "BobIsAmazing"`,
		`emails[type eq "work"].value eq "a@b.c"`,
		`emails.value co "example.com"`,
		`name.FamilyName eq "Employee" and (emails.Value co "example.com" or emails.Value co "example.org")`,
		`name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`,
		`userName sw "O"`,
		`meta.Created gt "2015-10-10T14:38:21.8617979-07:00"`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`members eq "id"`,
		`members[value eq "a" or value eq "b"]`,
		`groups.value eq "g"`,
		`not (active eq true)`,
		`title pr`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m"`,
		`urn:example:params:scim:schemas:extension:custom:2.0:User:level ge 9007199254740993`,
		`urn:example:params:scim:schemas:extension:custom:2.0:User:score lt -1.5e3`,
		`emails[type eq "work" and value co "@x"] or roles[primary eq "True"].value eq "a"`,
		`emails[not (type eq "work")]`,
		`userName eq "caf\u00e9 \"q\" \\"`,
		`active eq "False"`,
		`((((title pr))))`,
		`title pr and eq pr`,
		`a[b eq 1].c eq 2].d eq 3`,
		`userName eq null`,
		"userName eq \"\xff\"",
		`emails[type eq "work"].value`,
		`]. eq ]`,
	} {
		f.Add(s)
	}
	schemas := []Schema{userSchema(), groupSchema()}
	f.Fuzz(func(t *testing.T, raw string) {
		for _, s := range schemas {
			got, err := Parse(raw, s)
			if err != nil {
				if got != nil {
					t.Fatalf("Parse(%q) = %#v with error %v", raw, got, err)
				}
				var se scimerrors.ScimError
				if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType != scimerrors.ScimTypeInvalidFilter || se.Detail == "" {
					t.Fatalf("Parse(%q) error %#v is not a 400 invalidFilter ScimError", raw, err)
				}
				continue
			}
			if got == nil {
				t.Fatalf("Parse(%q) = nil, nil", raw)
			}
			if msg := checkFilter(got, nil); msg != "" {
				t.Fatalf("Parse(%q) = %#v: %s", raw, got, msg)
			}
		}
		// Prepare is idempotent: rewriting its own output changes nothing.
		if once, err := Prepare(raw); err == nil {
			twice, err := Prepare(once)
			if err != nil || twice != once {
				t.Fatalf("Prepare(%q) = %q, again = %q, %v", raw, once, twice, err)
			}
		}
	})
}

// checkFilter returns what is wrong with f, "" if nothing. vp is the
// enclosing value path, if any.
func checkFilter(f store.Filter, vp *store.ValuePath) string {
	switch f := f.(type) {
	case store.Compare:
		if f.Path.Name == "" {
			return "empty attribute name"
		}
		if vp != nil && (f.Path.Name != vp.Path.Name || f.Path.Schema != vp.Path.Schema || f.Path.Sub == "") {
			return "value path comparison does not name a sub-attribute of " + vp.Path.String()
		}
		switch f.Op {
		case store.OpPr:
			if f.Value != nil {
				return "pr with a value"
			}
			return ""
		case store.OpEq, store.OpNe, store.OpCo, store.OpSw, store.OpEw, store.OpGt, store.OpGe, store.OpLt, store.OpLe:
		default:
			return "unknown operator " + string(f.Op)
		}
		switch f.Value.(type) {
		case string, bool, int64, float64, time.Time:
			return ""
		case json.Number:
			return "json.Number leaked"
		default:
			return "bad value type"
		}
	case store.And:
		return firstOf(checkFilter(f.Left, vp), checkFilter(f.Right, vp))
	case store.Or:
		return firstOf(checkFilter(f.Left, vp), checkFilter(f.Right, vp))
	case store.Not:
		return checkFilter(f.Inner, vp)
	case store.ValuePath:
		if vp != nil {
			return "nested value path"
		}
		if f.Path.Sub != "" || !f.Path.MultiValued {
			return "value path on " + f.Path.String()
		}
		return checkFilter(f.Inner, &f)
	case nil:
		return "nil node"
	default:
		return "unknown node type"
	}
}

func firstOf(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
