package sqlite

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// viaEncoder is encodeAttrs's Encoder path.
func viaEncoder(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(markFloats(v)); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func randomAttrValue(rng *rand.Rand, depth int) any {
	strs := []string{"", "a", "Ann <ann@example.com> & co", "q\"b\\s/", "\u2028\u2029", "\x00\x1f\x7f", "ü🙂", "\xff\xfe", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}
	floats := []float64{0, math.Copysign(0, -1), 1, 1.5, -3, 1e21, 1e-7, 123456789012345678, math.MaxFloat64, math.SmallestNonzeroFloat64, 0.1, math.NaN(), math.Inf(1)}
	n := 9
	if depth > 3 {
		n = 6
	}
	switch rng.IntN(n) {
	case 0:
		return nil
	case 1, 2:
		return strs[rng.IntN(len(strs))]
	case 3:
		return rng.IntN(2) == 0
	case 4:
		return int64(rng.IntN(2000) - 1000)
	case 5:
		return floats[rng.IntN(len(floats))]
	case 6:
		if rng.IntN(6) == 0 {
			return []any(nil)
		}
		a := make([]any, rng.IntN(4))
		for i := range a {
			a[i] = randomAttrValue(rng, depth+1)
		}
		return a
	case 7:
		if rng.IntN(6) == 0 {
			return map[string]any(nil)
		}
		m := map[string]any{}
		for range rng.IntN(5) {
			m[strs[rng.IntN(len(strs))]] = randomAttrValue(rng, depth+1)
		}
		return m
	default:
		switch rng.IntN(3) {
		case 0:
			return json.Number("12")
		case 1:
			return int32(7)
		}
		return []map[string]any{{"value": "x"}}
	}
}

func checkAttrValue(t *testing.T, m map[string]any) {
	t.Helper()
	want, werr := viaEncoder(m)
	got, ok := appendAttrValue(nil, m, 0)
	if !ok {
		return // encodeAttrs uses the Encoder
	}
	if werr != nil {
		t.Fatalf("%#v: the fast path rendered %s, the Encoder failed: %v", m, got, werr)
	}
	if string(got) != want {
		t.Fatalf("%#v:\n got %s\nwant %s", m, got, want)
	}
}

func TestAppendAttrValueAsTheEncoder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	fast := 0
	for range 20000 {
		m := map[string]any{}
		for range rng.IntN(6) {
			m[[]string{"displayName", "name", "emails", "title", "x", "<k>"}[rng.IntN(6)]] = randomAttrValue(rng, 0)
		}
		if _, ok := appendAttrValue(nil, m, 0); ok {
			fast++
		}
		checkAttrValue(t, m)
	}
	if fast < 5000 {
		t.Errorf("only %d of 20000 maps took the fast path", fast)
	}
	// Deep nesting gives up rather than recursing for ever.
	deep := map[string]any{}
	for range 40 {
		deep = map[string]any{"d": deep}
	}
	if _, ok := appendAttrValue(nil, deep, 0); ok {
		t.Error("40 levels took the fast path")
	}
	// What IdPs store takes the fast path.
	user := map[string]any{"displayName": "Ann", "name": map[string]any{"givenName": "Ann", "familyName": "Lee"},
		"emails": []any{map[string]any{"value": "ann@example.com", "type": "work", "primary": true}}}
	if _, ok := appendAttrValue(nil, user, 0); !ok {
		t.Error("a plain user did not take the fast path")
	}
	checkAttrValue(t, user)
}

func FuzzAppendAttrValue(f *testing.F) {
	f.Add("a", "b<>&", 1.5, int64(3), true)
	f.Add("\u2028", "\xff", 1e21, int64(-1), false)
	f.Fuzz(func(t *testing.T, k, s string, fl float64, n int64, b bool) {
		checkAttrValue(t, map[string]any{k: s, s: []any{fl, n, b, nil, map[string]any{k: fl}}})
	})
}
