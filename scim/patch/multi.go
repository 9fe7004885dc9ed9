package patch

import (
	"math"
	"slices"
	"strconv"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"
)

// isMembers reports a group's members attribute, whose elements are
// references compared by id only.
func isMembers(a schema.CoreAttribute) bool {
	if !a.MultiValued() || !strings.EqualFold(a.Name(), "members") {
		return false
	}
	_, ok := a.SubAttributes().ContainsAttribute("value")
	return ok
}

// memberElem normalises one member: a bare id ("string id 1", the
// SCIMReferenceCode Postman suite) or an object with value. Only value and a
// User/Group type are kept; display and $ref are computed by the store.
func memberElem(e any) (map[string]any, bool) {
	switch x := e.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			return nil, false
		}
		return map[string]any{"value": x}, true
	case map[string]any:
		_, v, _ := lookup(x, "value")
		id, ok := v.(string)
		if !ok || strings.TrimSpace(id) == "" {
			return nil, false
		}
		m := map[string]any{"value": id}
		if _, t, ok := lookup(x, "type"); ok {
			if ts, ok := t.(string); ok {
				switch {
				case strings.EqualFold(ts, "User"):
					m["type"] = "User"
				case strings.EqualFold(ts, "Group"):
					m["type"] = "Group"
				}
			}
		}
		return m, true
	}
	return nil, false
}

// normalizeElem turns one element of a PATCH value for the multi-valued
// attribute a into its stored form. ok=false means the element has the wrong
// type; a nil result with ok=true means it carries nothing and is skipped.
func normalizeElem(a schema.CoreAttribute, e any) (any, bool) {
	if isMembers(a) {
		m, ok := memberElem(e)
		return m, ok
	}
	if a.AttributeType() != "complex" {
		if e == nil {
			return nil, true
		}
		v, ok := coerceSimple(a, e)
		if ok && v == "" {
			return nil, true
		}
		return v, ok
	}
	if e == nil {
		return nil, true
	}
	m, ok := e.(map[string]any)
	if !ok {
		return nil, false
	}
	out := map[string]any{}
	for _, sa := range a.SubAttributes() {
		_, sv, ok := lookup(m, sa.Name())
		if !ok || sv == nil || sa.Mutability() == "readOnly" {
			continue
		}
		cv, ok := coerceSimple(sa, sv)
		if !ok {
			return nil, false
		}
		if cv == "" {
			continue
		}
		out[sa.Name()] = cv
	}
	if len(out) == 0 {
		return nil, true
	}
	return out, true
}

// normalizeElems normalises a whole PATCH value for a multi-valued
// attribute, dropping empty elements.
func normalizeElems(c opCtx, a schema.CoreAttribute, v any) ([]any, error) {
	in := elems(v)
	out := make([]any, 0, len(in))
	for _, e := range in {
		n, ok := normalizeElem(a, e)
		if !ok {
			if isMembers(a) {
				return nil, c.fail(scimerrors.ScimTypeInvalidValue, `each member must be an id or {"value": id}`)
			}
			return nil, c.fail(scimerrors.ScimTypeInvalidValue, "an element of %s has the wrong type", a.Name())
		}
		if n != nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// memberID returns a member element's id.
func memberID(e any) (string, bool) {
	m, ok := e.(map[string]any)
	if !ok {
		return "", false
	}
	v, ok := m["value"]
	if !ok {
		_, v, _ = lookup(m, "value")
	}
	id, ok := v.(string)
	return id, ok
}

// sameElem reports whether two stored elements are the same value: members
// (members is isMembers(a), passed in because it is asked per element) by
// id, everything else by content.
func sameElem(members bool, x, y any) bool {
	if members {
		xs, ok1 := memberID(x)
		ys, ok2 := memberID(y)
		return ok1 && ok2 && xs == ys
	}
	return equalJSON(x, y)
}

// indexOf returns the index of the element of list that is the same value
// as e, or -1. ids, when not nil, indexes list by keyOf (elemIndex).
func indexOf(members bool, list []any, ids map[string]int, e any) int {
	if ids != nil {
		if k, ok := keyOf(members, e); ok {
			if i, ok := ids[k]; ok {
				return i
			}
			return -1
		}
		if members {
			return -1
		}
	}
	for i, x := range list {
		if sameElem(members, x, e) {
			return i
		}
	}
	return -1
}

// elemIndex indexes list by keyOf, for adding many values to a long list in
// O(n+k) rather than O(n·k): members by id (a large group), other elements
// by content (a single PATCH adding 20,000 emails compared every pair and
// held the store's writer for seconds). It returns nil when a linear scan is
// cheaper, or when an element has no key.
func elemIndex(members bool, list []any, adding int) map[string]int {
	if adding <= 8 {
		return nil
	}
	ids := make(map[string]int, len(list)+adding)
	for i, e := range list {
		k, ok := keyOf(members, e)
		if !ok {
			if members {
				continue
			}
			return nil
		}
		if _, dup := ids[k]; !dup {
			ids[k] = i
		}
	}
	return ids
}

// keyOf is e's key in an elemIndex: equal keys if and only if sameElem.
func keyOf(members bool, e any) (string, bool) {
	if members {
		return memberID(e)
	}
	var b strings.Builder
	if !writeKey(&b, e) {
		return "", false
	}
	return b.String(), true
}

// writeKey writes a canonical form of a JSON-shaped value: two values get
// the same form exactly when equalJSON holds (numbers by value, maps
// whatever their key order, []any and []map[string]any alike).
func writeKey(b *strings.Builder, v any) bool {
	switch x := v.(type) {
	case nil:
		b.WriteByte('z')
	case string:
		b.WriteString(strconv.Quote(x))
	case bool:
		if x {
			b.WriteByte('t')
		} else {
			b.WriteByte('f')
		}
	case map[string]any:
		b.WriteByte('{')
		for _, k := range sortedKeys(x) {
			b.WriteString(strconv.Quote(k))
			b.WriteByte(':')
			if !writeKey(b, x[k]) {
				return false
			}
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case []any, []map[string]any:
		b.WriteByte('[')
		for _, e := range asList(x) {
			if !writeKey(b, e) {
				return false
			}
			b.WriteByte(',')
		}
		b.WriteByte(']')
	default:
		f, ok := toFloat(v)
		if !ok || math.IsNaN(f) {
			return false
		}
		if f == 0 {
			f = 0 // -0 equals 0
		}
		b.WriteByte('n')
		b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
	}
	return true
}

// removeMatches reports whether elem is selected by item of a remove value:
// members by id; complex elements when every sub-attribute the item names
// has the item's value; simple ones by value.
func removeMatches(a schema.CoreAttribute, members bool, elem, item any) bool {
	if members || a.AttributeType() != "complex" {
		return sameElem(members, elem, item)
	}
	em, ok1 := elem.(map[string]any)
	im, ok2 := item.(map[string]any)
	if !ok1 || !ok2 || len(im) == 0 {
		return false
	}
	for k, iv := range im {
		_, ev, ok := lookup(em, k)
		if !ok || !equalValue(a, k, ev, iv) {
			return false
		}
	}
	return true
}

// equalValue compares a sub-attribute's values, honouring caseExact.
func equalValue(a schema.CoreAttribute, sub string, x, y any) bool {
	xs, ok1 := x.(string)
	ys, ok2 := y.(string)
	if ok1 && ok2 {
		if sa, ok := subAttr(a, sub); ok && !sa.CaseExact() {
			return strings.EqualFold(xs, ys)
		}
		return xs == ys
	}
	return equalJSON(x, y)
}

func isPrimaryElem(e any) bool {
	m, ok := e.(map[string]any)
	if !ok {
		return false
	}
	_, p, _ := lookup(m, "primary")
	return isTrue(p)
}

// enforcePrimary keeps at most one element with primary=true (RFC 7643
// §2.4): when the operation made element keep primary, the others lose it.
func enforcePrimary(a schema.CoreAttribute, list []any, keep int) {
	if keep < 0 {
		return
	}
	if _, ok := a.SubAttributes().ContainsAttribute("primary"); !ok {
		return
	}
	for i, e := range list {
		if i == keep {
			continue
		}
		if m, ok := e.(map[string]any); ok {
			if k, p, ok := lookup(m, "primary"); ok && isTrue(p) {
				m = shallowMap(m) // may be shared with Apply's input
				m[k] = false
				list[i] = m
			}
		}
	}
}

// OnePrimary applies enforcePrimary's rule to a whole resource, for a POST
// or PUT: in each multi-valued attribute only the first element that says
// primary true keeps it (RFC 7643 section 2.4: "The primary attribute value
// true MUST appear no more than once"); the later ones say false. A body
// with two primary emails was stored as sent, and a mapping from
// emails[primary eq true].value got whichever came first out of the store.
// Lists and elements it changes are copies: res may share them.
func OnePrimary(res map[string]any) {
	for k, v := range res {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		first := slices.IndexFunc(list, isPrimaryElem)
		if first < 0 || !slices.ContainsFunc(list[first+1:], isPrimaryElem) {
			continue
		}
		list = slices.Clone(list)
		for i := first + 1; i < len(list); i++ {
			if m, ok := list[i].(map[string]any); ok {
				if pk, p, ok := lookup(m, "primary"); ok && isTrue(p) {
					m = shallowMap(m)
					m[pk] = false
					list[i] = m
				}
			}
		}
		res[k] = list
	}
}

// dedupeMembers drops later elements with an id seen before.
func dedupeMembers(list []any) []any {
	out := make([]any, 0, len(list))
	seen := make(map[string]bool, len(list))
	for _, e := range list {
		id, ok := memberID(e)
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, e)
	}
	return out
}

// storeList writes a multi-valued attribute back. An empty list removes the
// attribute, except members, which stay an explicit (non-nil) empty list.
func storeList(cont map[string]any, a schema.CoreAttribute, list []any) {
	if isMembers(a) {
		if list == nil {
			list = []any{}
		}
		setKey(cont, a.Name(), list)
		return
	}
	if len(list) == 0 {
		deleteKey(cont, a.Name())
		return
	}
	setKey(cont, a.Name(), list)
}

// applyMultiWhole applies an operation to a multi-valued attribute as a
// whole (emails, members).
func applyMultiWhole(c opCtx, cont map[string]any, a schema.CoreAttribute, v any) error {
	_, curV, _ := lookup(cont, a.Name())
	list := asList(curV)
	members := isMembers(a)
	primary := -1
	switch {
	case c.op == opRemove && v == nil:
		if a.Required() {
			return c.fail(scimerrors.ScimTypeMutability, "%s is required and cannot be removed", a.Name())
		}
		list = nil
	case c.op == opRemove:
		// Entra (without aadOptscim062020) and JumpCloud remove members with
		// path "members" and a value list: only those go, never the whole
		// group (idp-scim-clients.md §3.7).
		items, err := normalizeElems(c, a, v)
		if err != nil {
			return err
		}
		kept := list[:0]
		for _, e := range list {
			drop := false
			for _, it := range items {
				if removeMatches(a, members, e, it) {
					drop = true
					break
				}
			}
			if !drop {
				kept = append(kept, e)
			}
		}
		list = kept
	case c.op == opAdd:
		if v == nil {
			return nil
		}
		items, err := normalizeElems(c, a, v)
		if err != nil {
			return err
		}
		ids := elemIndex(members, list, len(items))
		for _, it := range items {
			if indexOf(members, list, ids, it) >= 0 {
				// Adding a value that is already there is not an error
				// (RFC 7644 §3.5.2.1; Okta and Entra re-send members).
				continue
			}
			list = append(list, it)
			if ids != nil {
				if k, ok := keyOf(members, it); ok {
					ids[k] = len(list) - 1
				}
			}
			if primary < 0 && isPrimaryElem(it) {
				primary = len(list) - 1
			}
		}
	default: // replace
		items, err := normalizeElems(c, a, v)
		if err != nil {
			return err
		}
		if len(items) == 0 && a.Required() {
			return c.fail(scimerrors.ScimTypeInvalidValue, "%s is required and cannot be empty", a.Name())
		}
		list = list[:0]
		if members {
			list = dedupeMembers(items)
		} else {
			ids := elemIndex(false, nil, len(items))
			for _, it := range items {
				if indexOf(false, list, ids, it) < 0 {
					list = append(list, it)
					if ids != nil {
						if k, ok := keyOf(false, it); ok {
							ids[k] = len(list) - 1
						}
					}
				}
			}
		}
		for i, e := range list {
			if isPrimaryElem(e) {
				primary = i
				break
			}
		}
	}
	enforcePrimary(a, list, primary)
	storeList(cont, a, list)
	return nil
}

// applyMultiFiltered applies an operation to the elements of a multi-valued
// attribute selected by a value filter (emails[type eq "work"]), optionally
// to one sub-attribute of them (emails[type eq "work"].value). flt nil with
// a sub-attribute (emails.value) selects every element.
func applyMultiFiltered(c opCtx, cont map[string]any, a schema.CoreAttribute, flt filter.Expression, sub *schema.CoreAttribute, v any) error {
	_, curV, _ := lookup(cont, a.Name())
	list := asList(curV)
	var idx []int
	for i, e := range list {
		if flt == nil || matches(flt, e, a) {
			idx = append(idx, i)
		}
	}
	if sub != nil && sub.Mutability() == "immutable" && (c.op != opAdd || len(idx) > 0) {
		return c.fail(scimerrors.ScimTypeMutability, "%s.%s is immutable", a.Name(), sub.Name())
	}

	remove := c.op == opRemove || v == nil
	var cv any
	if !remove && sub != nil {
		var ok bool
		if cv, ok = coerceSimple(*sub, v); !ok {
			return c.fail(scimerrors.ScimTypeInvalidValue, "%s.%s must be a %s", a.Name(), sub.Name(), sub.AttributeType())
		}
		remove = cv == ""
	}

	primary := -1
	switch {
	case remove && sub == nil:
		// A filter that matches nothing removes nothing; that is success.
		list = dropIndexes(list, idx)
	case remove:
		// Entra sends remove emails[type eq "work"].value with the value
		// to remove: then only a matching value goes.
		var want any
		if c.op == opRemove && v != nil {
			var ok bool
			if want, ok = coerceSimple(*sub, v); !ok {
				return c.fail(scimerrors.ScimTypeInvalidValue, "%s.%s must be a %s", a.Name(), sub.Name(), sub.AttributeType())
			}
		}
		var drop []int
		for _, i := range idx {
			m, ok := list[i].(map[string]any)
			if !ok {
				continue
			}
			m = shallowMap(m) // may be shared with Apply's input
			list[i] = m
			_, old, present := lookup(m, sub.Name())
			if !present || (want != nil && !equalValue(a, sub.Name(), old, want)) {
				continue
			}
			// An element without its value is no element (an email without
			// an address), so removing "value" removes the element.
			if strings.EqualFold(sub.Name(), "value") {
				drop = append(drop, i)
				continue
			}
			deleteKey(m, sub.Name())
			if len(m) == 0 {
				drop = append(drop, i)
			}
		}
		list = dropIndexes(list, drop)
	case sub == nil:
		in := v
		if l, ok := v.([]any); ok && len(l) == 1 {
			in = l[0]
		}
		elem, ok := normalizeElem(a, in)
		if !ok {
			return c.fail(scimerrors.ScimTypeInvalidValue, "the value does not fit an element of %s", a.Name())
		}
		if elem == nil {
			list = dropIndexes(list, idx)
			break
		}
		terms, haveTerms := eqTerms(flt, a)
		if len(idx) == 0 {
			// Entra adds/replaces emails[type eq "work"] on users without a
			// work email: create the element from the filter (SCIM-SDK#416).
			if !haveTerms {
				return c.fail(scimerrors.ScimTypeNoTarget, "the filter matches no element and does not say how to create one")
			}
			list = append(list, withTerms(elem, terms))
			if isPrimaryElem(list[len(list)-1]) {
				primary = len(list) - 1
			}
			break
		}
		for _, i := range idx {
			ne := deepCopy(elem)
			if old, ok := list[i].(map[string]any); ok && c.op == opAdd {
				if nm, ok := ne.(map[string]any); ok {
					old = shallowMap(old) // may be shared with Apply's input
					// add merges into the matched element.
					for _, k := range sortedKeys(nm) {
						setKey(old, k, nm[k])
					}
					ne = old
				}
			} else if haveTerms {
				// replace swaps the element but keeps what the filter
				// selected it by (type "work"), unless the value says
				// otherwise.
				ne = withTerms(ne, terms)
			}
			list[i] = ne
			if primary < 0 && isPrimaryElem(ne) {
				primary = i
			}
		}
	default:
		if len(idx) == 0 {
			terms := map[string]any{}
			if flt != nil {
				var ok bool
				if terms, ok = eqTerms(flt, a); !ok {
					return c.fail(scimerrors.ScimTypeNoTarget, "the filter matches no element and does not say how to create one")
				}
			}
			// Several adds to addresses[type eq "work"].x land here once;
			// later ones match the element this creates (SCIM-SDK#680).
			setKey(terms, sub.Name(), cv)
			list = append(list, terms)
			idx = []int{len(list) - 1}
		} else {
			for _, i := range idx {
				m := shallowMap(asMap(list[i])) // may be shared with Apply's input
				setKey(m, sub.Name(), cv)
				list[i] = m
			}
		}
		if strings.EqualFold(sub.Name(), "primary") && isTrue(cv) {
			primary = idx[0]
		}
	}
	enforcePrimary(a, list, primary)
	if isMembers(a) {
		// A filtered replace may turn one member into another already there.
		list = dedupeMembers(list)
	}
	storeList(cont, a, list)
	return nil
}

// withTerms fills the filter's eq terms into a new complex element where the
// element does not set them.
func withTerms(elem any, terms map[string]any) any {
	m, ok := elem.(map[string]any)
	if !ok {
		return elem
	}
	for _, k := range sortedKeys(terms) {
		if _, _, ok := lookup(m, k); !ok {
			m[k] = terms[k]
		}
	}
	return m
}

// dropIndexes returns list without the elements at the given ascending
// indexes.
func dropIndexes(list []any, idx []int) []any {
	if len(idx) == 0 {
		return list
	}
	out := make([]any, 0, len(list)-len(idx))
	j := 0
	for i, e := range list {
		if j < len(idx) && idx[j] == i {
			j++
			continue
		}
		out = append(out, e)
	}
	return out
}
