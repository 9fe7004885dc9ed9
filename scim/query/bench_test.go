package query

import (
	"testing"

	"github.com/scim2/filter-parser/v2"
)

// BenchmarkTranslateUserNameEq measures the per-request cost on the hot
// path: every IdP looks users up by userName before creating them.
func BenchmarkTranslateUserNameEq(b *testing.B) {
	expr, err := filter.ParseFilter([]byte(`userName eq "test.user@okta.local"`))
	if err != nil {
		b.Fatal(err)
	}
	s := userSchema()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Translate(expr, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseUserNameEq includes Prepare and the (slow) parser.
func BenchmarkParseUserNameEq(b *testing.B) {
	s := userSchema()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(`userName eq "test.user@okta.local"`, s); err != nil {
			b.Fatal(err)
		}
	}
}
