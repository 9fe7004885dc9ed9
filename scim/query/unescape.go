package query

import (
	"encoding/json"
	"strings"
)

// Unescape turns a string compare value as scim2/filter-parser delivers it
// (the text between the quotes, escapes untouched: `a \"b\"`) into the value
// the client meant (`a "b"`). The parser rejects malformed escapes, so a
// failure here only returns the input unchanged.
func Unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var out string
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		return s
	}
	return out
}
