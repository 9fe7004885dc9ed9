package query

import (
	"reflect"
	"testing"

	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/store"
)

// The fast path must mean exactly what the general parser means.
func TestSimpleComparisonAgreesWithParser(t *testing.T) {
	s := Schema{Kind: store.KindUser, Core: schema.CoreUserSchema(), Extensions: []schema.Schema{schema.ExtensionEnterpriseUser()}}
	for _, f := range []string{
		`userName eq "test.user@okta.local"`,
		`UserName Eq "A \"quoted\" name"`,
		`externalId eq "00ujl29u0le5T6Aj10h7"`,
		`name.familyName sw "Emp"`,
		`emails.value co "example.com"`,
		`displayName ne "x\\y"`,
		`userName eq "caf\u00E9"`,
		`meta.lastModified gt "2011-05-13T04:42:34Z"`,
		`title eq ""`,
	} {
		fast, ok := simpleComparison(f)
		if !ok {
			t.Errorf("%s: fast path not taken", f)
			continue
		}
		slow, err := filter.ParseFilter([]byte(f))
		if err != nil {
			t.Fatalf("%s: parser: %v", f, err)
		}
		a, errA := Translate(fast, s)
		b, errB := Translate(slow, s)
		if !reflect.DeepEqual(a, b) || (errA == nil) != (errB == nil) {
			t.Errorf("%s: fast %#v (%v), parser %#v (%v)", f, a, errA, b, errB)
		}
	}
	for _, f := range []string{`userName eq "a" and active eq true`, `title pr`, `active eq true`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`, `userName xx "a"`, `userName eq "bad \q"`} {
		if _, ok := simpleComparison(f); ok {
			t.Errorf("%s: fast path taken for a non-simple filter", f)
		}
	}
}
