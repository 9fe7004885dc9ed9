package scim

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/elimity-com/scim"
	"github.com/google/go-cmp/cmp"
)

// randomValue builds the kind of value a stored resource decodes to.
func randomValue(rng *rand.Rand, depth int) any {
	strs := []string{"", "plain", "Ålice <admin> & co", `q"uote\`, "tab\tnl\n", "\u2028", "bad\xffutf8", "😀", "ctl\x01\x1f"}
	n := rng.IntN(9)
	if depth > 2 {
		n = rng.IntN(5)
	}
	switch n {
	case 0:
		return nil
	case 1:
		return strs[rng.IntN(len(strs))]
	case 2:
		return rng.IntN(2) == 0
	case 3:
		return int64(rng.IntN(1000) - 500)
	case 4:
		return rng.Float64() * 1e6
	case 5, 6:
		m := map[string]any{}
		for range rng.IntN(5) {
			m[strs[rng.IntN(len(strs))]+string(rune('a'+rng.IntN(26)))] = randomValue(rng, depth+1)
		}
		return m
	case 7:
		var l []any
		for range rng.IntN(4) {
			l = append(l, randomValue(rng, depth+1))
		}
		return l
	default:
		return []string{strs[rng.IntN(len(strs))], "x"}
	}
}

// appendValue writes what encoding/json writes: the same bytes, except
// that control characters may be escaped differently (\u0008 for \b), so
// the decoded values are compared too.
func TestAppendValueAsEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		v := randomValue(rng, 0)
		if i%3 == 0 {
			v = scim.ResourceAttributes{"userName": "u", "nested": v, "members": []memberJSON{{Ref: "r<", Display: "d&", Type: "User", Value: "v"}}}
		}
		got, err := appendValue(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(got) {
			t.Fatalf("invalid JSON for %#v: %s", v, got)
		}
		if !bytes.Equal(got, want) {
			var g, w any
			_ = json.Unmarshal(got, &g)
			_ = json.Unmarshal(want, &w)
			if diff := cmp.Diff(w, g); diff != "" || !strings.ContainsAny(string(want), "\\") {
				t.Fatalf("value %#v:\n got %s\nwant %s\n%s", v, got, want, diff)
			}
		}
	}
}
