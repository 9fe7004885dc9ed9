package patch_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/scim/patch"
)

// OnePrimary leaves the first primary element of each list, turns later
// ones false (whatever the key's case or a "True" string), and changes
// copies only: the lists and elements it was given stay as they were.
func TestOnePrimary(t *testing.T) {
	emails := []any{
		map[string]any{"value": "a", "primary": false},
		map[string]any{"value": "b", "primary": true},
		map[string]any{"value": "c", "Primary": "True"},
		"not an object",
	}
	phones := []any{map[string]any{"value": "1", "primary": true}, map[string]any{"value": "2"}}
	res := map[string]any{"emails": emails, "phoneNumbers": phones, "title": "x"}
	patch.OnePrimary(res)
	want := map[string]any{
		"emails": []any{
			map[string]any{"value": "a", "primary": false},
			map[string]any{"value": "b", "primary": true},
			map[string]any{"value": "c", "Primary": false},
			"not an object",
		},
		"phoneNumbers": phones,
		"title":        "x",
	}
	if d := cmp.Diff(want, res); d != "" {
		t.Errorf("OnePrimary (-want +got):\n%s", d)
	}
	if emails[2].(map[string]any)["Primary"] != "True" {
		t.Errorf("the element given was changed: %v", emails[2])
	}
}
