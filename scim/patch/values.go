package patch

import (
	"encoding/json"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/elimity-com/scim/schema"
)

// deepCopy copies the JSON-shaped parts of v (maps and slices). Scalars are
// immutable and shared.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		n := make(map[string]any, len(x))
		for k, e := range x {
			n[k] = deepCopy(e)
		}
		return n
	case []any:
		n := make([]any, len(x))
		for i, e := range x {
			n[i] = deepCopy(e)
		}
		return n
	case []map[string]any:
		n := make([]any, len(x))
		for i, e := range x {
			n[i] = deepCopy(e)
		}
		return n
	case []string:
		n := make([]any, len(x))
		for i, e := range x {
			n[i] = e
		}
		return n
	default:
		return v
	}
}

// shallowMap copies one level of m (nil gives an empty map): enough to set
// and delete its keys without touching the original.
func shallowMap(m map[string]any) map[string]any {
	n := make(map[string]any, len(m)+1)
	for k, v := range m {
		n[k] = v
	}
	return n
}

// asMap returns v as a map, or nil.
func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// lookup finds name in m: the exact key, else a case-insensitive match
// (attribute names are case-insensitive, RFC 7643 §2.1). Among several
// case variants the smallest key wins, so the result does not depend on map
// order.
func lookup(m map[string]any, name string) (string, any, bool) {
	if m == nil {
		return "", nil, false
	}
	if v, ok := m[name]; ok {
		return name, v, true
	}
	var (
		key   string
		found bool
	)
	for k := range m {
		if strings.EqualFold(k, name) && (!found || k < key) {
			key, found = k, true
		}
	}
	if !found {
		return "", nil, false
	}
	return key, m[key], true
}

// setKey stores v under the canonical name, dropping other case variants.
func setKey(m map[string]any, name string, v any) {
	deleteKey(m, name)
	m[name] = v
}

// deleteKey removes name in every letter case.
func deleteKey(m map[string]any, name string) {
	for k := range m {
		if strings.EqualFold(k, name) {
			delete(m, k)
		}
	}
}

// asList returns a stored multi-valued attribute as a fresh []any.
func asList(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return append([]any(nil), x...)
	case []map[string]any:
		n := make([]any, len(x))
		for i, e := range x {
			n[i] = e
		}
		return n
	default:
		// A single value stored where a list belongs: treat it as a list of
		// one, rather than failing on data we did not write.
		return []any{v}
	}
}

// elems returns a PATCH value for a multi-valued attribute as a list:
// elimity wraps single values, but Apply may be called directly.
func elems(v any) []any {
	switch x := v.(type) {
	case nil:
		return nil
	case []any:
		return x
	case []map[string]any:
		return asList(x)
	default:
		return []any{v}
	}
}

// coerceSimple converts v to the Go type the stored JSON uses for a's data
// type. Boolean strings ("True", "False", Entra) are accepted regardless of
// schema.SetAllowStringValues, because pathless values and dotted keys
// reach Apply without elimity's coercion in some versions, and the type is
// known here.
func coerceSimple(a schema.CoreAttribute, v any) (any, bool) {
	switch a.AttributeType() {
	case "string", "reference", "binary", "dateTime":
		// Guess: dateTime and binary are stored as sent; elimity already
		// validated their syntax on the way in.
		s, ok := v.(string)
		return s, ok
	case "boolean":
		switch x := v.(type) {
		case bool:
			return x, true
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(x))
			return b, err == nil
		}
		return nil, false
	case "integer":
		switch x := v.(type) {
		case json.Number:
			i, err := x.Int64()
			return i, err == nil
		case string:
			i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
			return i, err == nil
		case int:
			return int64(x), true
		case int32:
			return int64(x), true
		case int64:
			return x, true
		case float64:
			if x != math.Trunc(x) || math.IsInf(x, 0) || math.Abs(x) > 1<<53 {
				return nil, false
			}
			return int64(x), true
		}
		return nil, false
	case "decimal":
		f, ok := toFloat(v)
		if !ok {
			if s, isStr := v.(string); isStr {
				p, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
				f, ok = p, err == nil
			}
		}
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, false
		}
		return f, true
	}
	return nil, false
}

// toFloat converts any JSON number representation to float64.
func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case float64:
		return x, true
	case float32:
		return float64(x), true
	case int:
		return float64(x), true
	case int8:
		return float64(x), true
	case int16:
		return float64(x), true
	case int32:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint:
		return float64(x), true
	case uint8:
		return float64(x), true
	case uint16:
		return float64(x), true
	case uint32:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

// isTrue reports a boolean true, also as a string ("True").
func isTrue(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		return err == nil && b
	}
	return false
}

// equalJSON compares two JSON-shaped values: numbers by value whatever
// their Go type, maps and lists element-wise.
func equalJSON(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok || !equalJSON(xv, yv) {
				return false
			}
		}
		return true
	case []any, []map[string]any:
		switch b.(type) {
		case []any, []map[string]any:
		default:
			return false
		}
		xs, ys := asList(a), asList(b)
		if len(xs) != len(ys) {
			return false
		}
		for i := range xs {
			if !equalJSON(xs[i], ys[i]) {
				return false
			}
		}
		return true
	}
	if fx, ok := toFloat(a); ok {
		fy, ok := toFloat(b)
		return ok && fx == fy
	}
	return reflect.DeepEqual(a, b)
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
