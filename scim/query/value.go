package query

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/store"
)

// maxExactInt bounds the int compare values trusted as exact:
// filter.ParseFilter goes through float64, so 2^53+1 arrives as 2^53, and
// anything past int64 as math.MinInt64 (amd64). Parse avoids this with
// filter.ParseFilterNumber.
const maxExactInt = 1 << 53

// compare builds `path op value`, typing the value by the attribute.
func compare(r resolved, rawOp filter.CompareOperator, v any) (store.Filter, error) {
	op := store.Operator(strings.ToLower(string(rawOp)))
	switch op {
	case store.OpEq, store.OpNe, store.OpCo, store.OpSw, store.OpEw,
		store.OpGt, store.OpGe, store.OpLt, store.OpLe, store.OpPr:
	default:
		return nil, invalidFilter("unknown operator %q for attribute %q", rawOp, r.path.String())
	}
	if r.leaf.AttributeType() == "complex" && op != store.OpPr {
		// Guess (RFC 7643 section 2.4 makes "value" the primary
		// sub-attribute of a multi-valued attribute; RFC 7644's example
		// `emails co "example.com"` relies on it): compare the value
		// sub-attribute.
		s, ok := r.leaf.SubAttributes().ContainsAttribute("value")
		if !ok {
			return nil, invalidFilter("complex attribute %q needs a sub-attribute for operator %q", r.path.String(), op)
		}
		r.path.Sub = s.Name()
		r.leaf = s
	}
	typ := r.leaf.AttributeType()
	c := store.Compare{Path: r.path, Op: op}
	if typ == "string" || typ == "reference" || typ == "binary" {
		c.CaseExact = r.leaf.CaseExact()
	}
	if op == store.OpPr {
		return c, nil
	}
	if v == nil {
		return nil, invalidFilter("attribute %q: null is only allowed as `%s pr` or `not (%s pr)`", r.path.String(), r.path.String(), r.path.String())
	}
	if err := checkOperator(r, typ, op); err != nil {
		return nil, err
	}
	val, err := typedValue(r, typ, v)
	if err != nil {
		return nil, err
	}
	c.Value = val
	if t, ok := val.(time.Time); ok && r.time {
		raw, _ := v.(string)
		return shownPrecision(c, t, !beyondNanoseconds(Unescape(raw))), nil
	}
	return c, nil
}

// shownPrecision compares meta.created or meta.lastModified as the server
// shows them, in whole seconds (RFC 3339 without a fraction, as elimity
// writes meta), while the store keeps nanoseconds: `meta.lastModified eq`
// the value a client read must find the resource, and `gt` it must not
// (an incremental sync would read the same users again). The comparison of
// the shown value s = floor(stored) with t becomes a range on the stored
// value. exact is false when the value sent had non-zero digits beyond the
// nanoseconds t keeps: it lies strictly between t and t+1ns, so it is never
// a whole second.
func shownPrecision(c store.Compare, t time.Time, exact bool) store.Filter {
	at := func(op store.Operator, v time.Time) store.Compare {
		d := c
		d.Op, d.Value = op, v
		return d
	}
	lo := t.Truncate(time.Second)
	next := lo.Add(time.Second)
	whole := exact && t.Equal(lo)
	ceil := next // the first whole second at or after t
	if whole {
		ceil = t
	}
	switch c.Op {
	case store.OpEq:
		if !whole { // no shown value has a fraction
			return store.And{Left: at(store.OpLt, lo), Right: at(store.OpGe, next)}
		}
		return store.And{Left: at(store.OpGe, t), Right: at(store.OpLt, next)}
	case store.OpNe:
		if !whole {
			d := c
			d.Op, d.Value = store.OpPr, nil
			return d
		}
		return store.Or{Left: at(store.OpLt, t), Right: at(store.OpGe, next)}
	case store.OpGt:
		return at(store.OpGe, next)
	case store.OpGe:
		return at(store.OpGe, ceil)
	case store.OpLt:
		return at(store.OpLt, ceil)
	case store.OpLe:
		return at(store.OpLt, next)
	}
	return c
}

// beyondNanoseconds reports whether an RFC 3339 date-time has non-zero
// fractional digits after the ninth, which time.Parse drops.
func beyondNanoseconds(s string) bool {
	dot := strings.IndexByte(s, '.')
	if dot < 0 {
		return false
	}
	digits := s[dot+1:]
	end := 0
	for end < len(digits) && digits[end] >= '0' && digits[end] <= '9' {
		end++
	}
	return end > 9 && strings.Trim(digits[9:end], "0") != ""
}

// checkOperator enforces which operators make sense for a type. RFC 7644
// section 3.4.2.2 forbids gt/ge/lt/le on boolean and binary.
func checkOperator(r resolved, typ string, op store.Operator) error {
	ordering := op == store.OpGt || op == store.OpGe || op == store.OpLt || op == store.OpLe
	substring := op == store.OpCo || op == store.OpSw || op == store.OpEw
	switch {
	case ordering && (typ == "boolean" || typ == "binary"):
		return invalidFilter("operator %q is not supported for %s attribute %q", op, typ, r.path.String())
	case substring && typ != "string" && typ != "reference" && typ != "binary":
		// Guess: the RFC describes co/sw/ew only for strings; on numbers,
		// booleans and dates they have no meaning a backend could run.
		return invalidFilter("operator %q is not supported for %s attribute %q", op, typ, r.path.String())
	}
	return nil
}

func typedValue(r resolved, typ string, v any) (any, error) {
	name := r.path.String()
	switch typ {
	case "string", "reference", "binary":
		s, ok := v.(string)
		if !ok {
			return nil, invalidFilter("attribute %q needs a string value, got %s", name, describe(v))
		}
		return cleanString(name, s)
	case "boolean":
		switch v := v.(type) {
		case bool:
			return v, nil
		case string:
			// Entra sends booleans as "True"/"False" strings.
			s := Unescape(v)
			if strings.EqualFold(s, "true") {
				return true, nil
			}
			if strings.EqualFold(s, "false") {
				return false, nil
			}
		}
		return nil, invalidFilter("attribute %q needs a boolean value, got %s", name, describe(v))
	case "integer":
		switch v := v.(type) {
		case int:
			if v >= maxExactInt || v <= -maxExactInt {
				return nil, invalidFilter("attribute %q: integer %d is out of range", name, v)
			}
			return int64(v), nil
		case int64:
			return v, nil
		case json.Number:
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return nil, invalidFilter("attribute %q needs an integer value, got %s", name, clip(string(v)))
			}
			return n, nil
		}
		return nil, invalidFilter("attribute %q needs an integer value, got %s", name, describe(v))
	case "decimal":
		switch v := v.(type) {
		case int:
			return float64(v), nil
		case int64:
			return float64(v), nil
		case float64:
			return v, nil
		case json.Number:
			f, err := strconv.ParseFloat(string(v), 64)
			if err != nil {
				return nil, invalidFilter("attribute %q needs a decimal value, got %s", name, clip(string(v)))
			}
			return f, nil
		}
		return nil, invalidFilter("attribute %q needs a decimal value, got %s", name, describe(v))
	case "dateTime":
		s, ok := v.(string)
		if !ok {
			return nil, invalidFilter("attribute %q needs an RFC 3339 date-time string, got %s", name, describe(v))
		}
		s, err := cleanString(name, s)
		if err != nil {
			return nil, err
		}
		// RFC 3339 layout also parses fractional seconds of any length
		// and numeric offsets (Postman: 2015-10-10T14:38:21.8617979-07:00).
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return nil, invalidFilter("attribute %q needs an RFC 3339 date-time, got %s", name, clip(s))
		}
		if r.time {
			return ts, nil
		}
		// Guess: other dateTime attributes live as strings in the stored
		// JSON, so they stay strings (checked, as sent).
		return s, nil
	default:
		return nil, invalidFilter("attribute %q of type %s cannot be compared", name, typ)
	}
}

// cleanString unescapes a parser string and refuses text the store could
// not hold faithfully.
func cleanString(name, s string) (string, error) {
	s = Unescape(s)
	if !utf8.ValidString(s) {
		return "", invalidFilter("attribute %q: compare value is not valid UTF-8", name)
	}
	return s, nil
}

// describe names a compare value for an error detail, briefly.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return "string " + clip(Unescape(v))
	case bool:
		return "boolean " + strconv.FormatBool(v)
	case int, int64, float64, json.Number:
		return "number"
	default:
		return "an unsupported value"
	}
}

// clip quotes s for an error detail, cut to a length that keeps details
// readable whatever the client sent.
func clip(s string) string {
	const limit = 64
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}
