package transform

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// coreUserURN is the core User schema. A path may name it as a prefix
// (urn:ietf:params:scim:schemas:core:2.0:User:userName); core attributes sit at
// the top level of the stored user, not under this key.
const coreUserURN = "urn:ietf:params:scim:schemas:core:2.0:User"

// attrPath is a compiled SCIM attribute path: an optional schema URN, then
// dotted segments, each with an optional value filter.
type attrPath struct {
	src  string
	urn  string // "" for core attributes
	segs []segment
}

type segment struct {
	name   string
	filter []term // nil when the segment has no [filter]
}

// term is one `attr eq value` comparison of a value filter.
type term struct {
	attr  string
	value string // normalised as scalarString normalises attribute values
	null  bool   // `attr eq null`: the sub-attribute is absent or null
}

// parsePath compiles a path such as userName, name.givenName,
// emails[type eq "work"].value or
// urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value.
func parsePath(s string) (*attrPath, error) {
	if s == "" {
		return nil, errors.New("empty path")
	}
	if strings.TrimSpace(s) != s {
		return nil, errors.New("leading or trailing spaces")
	}
	p := &attrPath{src: s}
	rest := s
	if len(s) >= 4 && strings.EqualFold(s[:4], "urn:") {
		head := s
		if i := strings.IndexByte(s, '['); i >= 0 {
			head = s[:i]
		}
		i := strings.LastIndexByte(head, ':')
		p.urn, rest = s[:i], s[i+1:]
		if rest == "" {
			return nil, errors.New("no attribute after the schema URN (want urn:...:User:attribute)")
		}
		if strings.EqualFold(p.urn, coreUserURN) {
			p.urn = ""
		}
	}
	for {
		n := 0
		for n < len(rest) && isNameChar(rest[n], n == 0) {
			n++
		}
		if n == 0 {
			if rest == "" {
				return nil, errors.New("ends with '.' (want an attribute name after it)")
			}
			return nil, fmt.Errorf("unexpected %q at offset %d (want an attribute name)", rest[0], len(s)-len(rest))
		}
		seg := segment{name: rest[:n]}
		rest = rest[n:]
		if strings.HasPrefix(rest, "[") {
			end := closingBracket(rest)
			if end < 0 {
				return nil, errors.New("unterminated '[' (want a filter such as [type eq \"work\"])")
			}
			f, err := parseFilter(rest[1:end])
			if err != nil {
				return nil, fmt.Errorf("filter [%s]: %w", rest[1:end], err)
			}
			seg.filter = f
			rest = rest[end+1:]
		}
		p.segs = append(p.segs, seg)
		if rest == "" {
			return p, nil
		}
		if rest[0] != '.' {
			return nil, fmt.Errorf("unexpected %q at offset %d (want '.' or the end)", rest[0], len(s)-len(rest))
		}
		rest = rest[1:]
	}
}

// isNameChar follows RFC 7644 ATTRNAME (ALPHA *(nameChar)), plus "$" for $ref.
func isNameChar(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '$':
		return true
	case first:
		return false
	}
	return c >= '0' && c <= '9' || c == '_' || c == '-'
}

// closingBracket returns the index of the ']' closing s[0] == '[', skipping
// quoted strings, or -1.
func closingBracket(s string) int {
	inQuote := false
	for i := 1; i < len(s); i++ {
		switch {
		case inQuote && s[i] == '\\':
			i++
		case s[i] == '"':
			inQuote = !inQuote
		case !inQuote && s[i] == ']':
			return i
		}
	}
	return -1
}

// parseFilter parses `attr eq value (and attr eq value)*`. Values are JSON
// strings, true, false, null, numbers, or (leniently) bare words.
func parseFilter(s string) ([]term, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, errors.New("empty filter")
	}
	var terms []term
	for i := 0; ; {
		if len(toks)-i < 3 {
			return nil, errors.New("incomplete comparison (want attribute eq value)")
		}
		attr, op, val := toks[i], toks[i+1], toks[i+2]
		if attr.quoted || !validName(attr.text) {
			return nil, fmt.Errorf("%q is not an attribute name", attr.text)
		}
		if op.quoted || !strings.EqualFold(op.text, "eq") {
			return nil, fmt.Errorf("unsupported operator %q (only eq, joined with and)", op.text)
		}
		t := term{attr: attr.text, value: val.text}
		if !val.quoted {
			switch strings.ToLower(val.text) {
			case "null":
				t = term{attr: attr.text, null: true}
			case "true", "false":
				t.value = strings.ToLower(val.text)
			}
		}
		terms = append(terms, t)
		i += 3
		if i == len(toks) {
			return terms, nil
		}
		if toks[i].quoted || !strings.EqualFold(toks[i].text, "and") {
			return nil, fmt.Errorf("unexpected %q (only and joins comparisons)", toks[i].text)
		}
		i++
	}
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i], i == 0) {
			return false
		}
	}
	return true
}

type token struct {
	text   string
	quoted bool
}

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '"':
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
			}
			if j >= len(s) {
				return nil, errors.New("unterminated string")
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return nil, fmt.Errorf("bad string %s: %w", s[i:j+1], err)
			}
			toks = append(toks, token{text: v, quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && s[j] != ' ' && s[j] != '\t' && s[j] != '"' {
				j++
			}
			toks = append(toks, token{text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

// lookup resolves the path in v and returns the raw value (a scalar, map or
// list) and whether anything was there. Where a segment meets a list (emails
// in emails.value, or the matches of a filter), it descends into the element
// marked primary, else the first: a mapping needs one value, and the primary
// one is what SCIM says to prefer. Guess: "else the first" relies on the IdP
// sending its preferred value first when it marks none (RFC 7643 leaves the
// order of multi-valued attributes undefined).
func (p *attrPath) lookup(v any) (any, bool) {
	if p.urn != "" {
		var ok bool
		if v, ok = getKey(v, p.urn); !ok {
			return nil, false
		}
	}
	for _, seg := range p.segs {
		if list, ok := asList(v); ok {
			if v, ok = pick(list); !ok {
				return nil, false
			}
		}
		var ok bool
		if v, ok = getKey(v, seg.name); !ok {
			return nil, false
		}
		if seg.filter != nil {
			if v, ok = applyFilter(v, seg.filter); !ok {
				return nil, false
			}
		}
	}
	return v, v != nil
}

// value resolves the path to one string: "" when absent or null. A list gives
// its primary (else first) element; a complex value gives its "value"
// sub-attribute (manager -> manager.value). Anything else complex is an error.
func (p *attrPath) value(user map[string]any) (string, error) {
	v, ok := p.lookup(user)
	if !ok {
		return "", nil
	}
	return scalarOf(v)
}

func scalarOf(v any) (string, error) {
	for range 8 { // bounded: a list of lists of maps of ... is not a value
		if list, ok := asList(v); ok {
			if v, ok = pick(list); !ok {
				return "", nil
			}
			continue
		}
		if _, ok := asMap(v); ok {
			inner, ok := getKey(v, "value")
			if !ok {
				return "", errors.New("is a complex value without a \"value\" sub-attribute (name one of its sub-attributes)")
			}
			v = inner
			continue
		}
		if v == nil {
			return "", nil
		}
		s, ok := scalarString(v)
		if !ok {
			return "", fmt.Errorf("is a %T, not a string, number or boolean", v)
		}
		return s, nil
	}
	return "", errors.New("is nested too deeply to be one value")
}

// scalarString renders a JSON scalar as text: strings as they are, booleans as
// true/false, numbers without exponent or trailing zeros.
func scalarString(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case uint64:
		return strconv.FormatUint(x, 10), true
	case uint32:
		return strconv.FormatUint(uint64(x), 10), true
	case uint:
		return strconv.FormatUint(uint64(x), 10), true
	}
	return "", false
}

// truthy reports whether a stored value means true: the boolean, or the
// strings Entra sends ("True").
func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		return strings.EqualFold(x, "true")
	}
	return false
}

// pick returns the element marked primary, else the first.
func pick(list []any) (any, bool) {
	for _, e := range list {
		if p, ok := getKey(e, "primary"); ok && truthy(p) {
			return e, true
		}
	}
	if len(list) == 0 {
		return nil, false
	}
	return list[0], true
}

// applyFilter keeps the elements of a list that match every term. A single
// complex value (OneLogin's SCIM 1.1 template sends emails as an object)
// is treated as a list of one.
func applyFilter(v any, terms []term) (any, bool) {
	list, ok := asList(v)
	if !ok {
		list = []any{v}
	}
	var out []any
	for _, e := range list {
		if matches(e, terms) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, false
	}
	return out, true
}

func matches(e any, terms []term) bool {
	if _, ok := asMap(e); !ok {
		return false
	}
	for _, t := range terms {
		v, ok := getKey(e, t.attr)
		if t.null {
			if ok && v != nil {
				return false
			}
			continue
		}
		s, isScalar := scalarString(v)
		if !ok || !isScalar || !strings.EqualFold(s, t.value) {
			return false
		}
	}
	return true
}

// getKey looks name up in a map case-insensitively (SCIM attribute names are
// case-insensitive, and IdPs send Value, Primary, ...). An exact match wins;
// among several case-folded matches the smallest key wins, so the result does
// not depend on map order.
func getKey(v any, name string) (any, bool) {
	m, ok := asMap(v)
	if !ok {
		return nil, false
	}
	if x, ok := m[name]; ok {
		return x, true
	}
	best, found := "", false
	for k := range m {
		if strings.EqualFold(k, name) && (!found || k < best) {
			best, found = k, true
		}
	}
	if !found {
		return nil, false
	}
	return m[best], true
}

// asMap accepts the map shapes a decoded or hand-built user may hold.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[string]string:
		out := make(map[string]any, len(m))
		for k, s := range m {
			out[k] = s
		}
		return out, true
	case nil:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Map || rv.Type().Key().Kind() != reflect.String {
		return nil, false
	}
	out := make(map[string]any, rv.Len())
	for it := rv.MapRange(); it.Next(); {
		out[it.Key().String()] = it.Value().Interface()
	}
	return out, true
}

// asList accepts the list shapes a decoded or hand-built user may hold.
func asList(v any) ([]any, bool) {
	switch l := v.(type) {
	case []any:
		return l, true
	case []map[string]any:
		out := make([]any, len(l))
		for i, m := range l {
			out[i] = m
		}
		return out, true
	case []string:
		out := make([]any, len(l))
		for i, s := range l {
			out[i] = s
		}
		return out, true
	case nil, string, []byte:
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, true
}

// sortedFold sorts names case-insensitively, then byte-wise, for stable output.
func sortedFold(names []string) {
	slices.SortFunc(names, func(a, b string) int {
		if c := strings.Compare(strings.ToLower(a), strings.ToLower(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
}
