package patch

import (
	"strconv"
	"strings"

	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/scim/query"
)

// elemMap views an element of a multi-valued attribute as a map: complex
// elements are maps already; a simple element x is {"value": x}, which is
// how RFC 7644 §3.4.2.2 lets filters address it.
func elemMap(e any) map[string]any {
	if m, ok := e.(map[string]any); ok {
		return m
	}
	return map[string]any{"value": e}
}

// compareValue returns a filter's compare value as the client meant it:
// scim2/filter-parser leaves string escapes in place.
func compareValue(v any) any {
	if s, ok := v.(string); ok {
		return query.Unescape(s)
	}
	return v
}

// matches evaluates a value filter against one element of the multi-valued
// attribute a. Our own evaluator instead of elimity's PassesFilter, which
// panics on unexpected types and compares "True" with true as unequal
// (Entra's roles[primary eq "True"] must match a boolean true).
func matches(e filter.Expression, elem any, a schema.CoreAttribute) bool {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		if x == nil || x.AttributePath.URI() != "" || x.AttributePath.SubAttribute != nil {
			return false
		}
		name := x.AttributePath.AttributeName
		caseExact := false
		if sa, ok := subAttr(a, name); ok {
			caseExact = sa.CaseExact()
		}
		_, have, present := lookup(elemMap(elem), name)
		return compare(strings.ToLower(string(x.Operator)), have, present, compareValue(x.CompareValue), caseExact)
	case *filter.LogicalExpression:
		if x == nil {
			return false
		}
		switch strings.ToLower(string(x.Operator)) {
		case "and":
			return matches(x.Left, elem, a) && matches(x.Right, elem, a)
		case "or":
			return matches(x.Left, elem, a) || matches(x.Right, elem, a)
		}
		return false
	case *filter.NotExpression:
		if x == nil {
			return false
		}
		return !matches(x.Expression, elem, a)
	}
	return false
}

// compare applies one filter operator (RFC 7644 §3.4.2.2).
func compare(op string, have any, present bool, want any, caseExact bool) bool {
	if op == "pr" {
		return present && !isEmpty(have)
	}
	if op == "ne" {
		return !equalFilter(have, want, caseExact)
	}
	if !present || have == nil {
		return op == "eq" && want == nil
	}
	switch op {
	case "eq":
		return equalFilter(have, want, caseExact)
	case "co", "sw", "ew":
		hs, ok1 := have.(string)
		ws, ok2 := want.(string)
		if !ok1 || !ok2 {
			return false
		}
		if !caseExact {
			hs, ws = strings.ToLower(hs), strings.ToLower(ws)
		}
		switch op {
		case "co":
			return strings.Contains(hs, ws)
		case "sw":
			return strings.HasPrefix(hs, ws)
		default:
			return strings.HasSuffix(hs, ws)
		}
	case "gt", "ge", "lt", "le":
		c, ok := order(have, want, caseExact)
		if !ok {
			return false
		}
		switch op {
		case "gt":
			return c > 0
		case "ge":
			return c >= 0
		case "lt":
			return c < 0
		default:
			return c <= 0
		}
	}
	return false
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// equalFilter is eq across the types IdPs mix: a string "True" equals a
// boolean true, "25" equals 25, strings compare case-insensitively unless
// the attribute is caseExact.
func equalFilter(have, want any, caseExact bool) bool {
	if want == nil {
		return have == nil
	}
	if hs, ok := have.(string); ok {
		switch w := want.(type) {
		case string:
			if caseExact {
				return hs == w
			}
			return strings.EqualFold(hs, w)
		case bool:
			b, err := strconv.ParseBool(strings.TrimSpace(hs))
			return err == nil && b == w
		}
		if wf, ok := toFloat(want); ok {
			hf, err := strconv.ParseFloat(strings.TrimSpace(hs), 64)
			return err == nil && hf == wf
		}
		return false
	}
	if hb, ok := have.(bool); ok {
		switch w := want.(type) {
		case bool:
			return hb == w
		case string:
			b, err := strconv.ParseBool(strings.TrimSpace(w))
			return err == nil && b == hb
		}
		return false
	}
	if hf, ok := toFloat(have); ok {
		if wf, ok := toFloat(want); ok {
			return hf == wf
		}
		if ws, ok := want.(string); ok {
			wf, err := strconv.ParseFloat(strings.TrimSpace(ws), 64)
			return err == nil && hf == wf
		}
	}
	return false
}

// order compares numbers numerically and strings (dateTimes included)
// lexicographically.
func order(have, want any, caseExact bool) (int, bool) {
	if hf, ok := toFloat(have); ok {
		wf, ok := toFloat(want)
		if !ok {
			return 0, false
		}
		switch {
		case hf < wf:
			return -1, true
		case hf > wf:
			return 1, true
		}
		return 0, true
	}
	hs, ok1 := have.(string)
	ws, ok2 := want.(string)
	if !ok1 || !ok2 {
		return 0, false
	}
	if !caseExact {
		hs, ws = strings.ToLower(hs), strings.ToLower(ws)
	}
	return strings.Compare(hs, ws), true
}

// eqTerms extracts the sub-attribute values a filter of eq terms joined by
// "and" pins down (type eq "work" -> {"type": "work"}), typed per the
// schema, to create an element when the filter matches none. ok is false
// for any other filter shape.
func eqTerms(e filter.Expression, a schema.CoreAttribute) (map[string]any, bool) {
	switch x := e.(type) {
	case *filter.AttributeExpression:
		if x == nil || !strings.EqualFold(string(x.Operator), string(filter.EQ)) ||
			x.AttributePath.URI() != "" || x.AttributePath.SubAttribute != nil || x.CompareValue == nil {
			return nil, false
		}
		sa, ok := subAttr(a, x.AttributePath.AttributeName)
		if !ok {
			return nil, false
		}
		cv, ok := coerceSimple(sa, compareValue(x.CompareValue))
		if !ok {
			return nil, false
		}
		name := sa.Name()
		if a.AttributeType() != "complex" {
			name = "value"
		}
		return map[string]any{name: cv}, true
	case *filter.LogicalExpression:
		if x == nil || !strings.EqualFold(string(x.Operator), string(filter.AND)) {
			return nil, false
		}
		l, ok := eqTerms(x.Left, a)
		if !ok {
			return nil, false
		}
		r, ok := eqTerms(x.Right, a)
		if !ok {
			return nil, false
		}
		for k, v := range r {
			if old, ok := l[k]; ok && !equalJSON(old, v) {
				return nil, false // type eq "work" and type eq "home"
			}
			l[k] = v
		}
		return l, true
	}
	return nil, false
}
