package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/scim2/filter-parser/v2"
)

// NormalizeBody rewrites a raw PATCH request body BEFORE elimity sees it,
// for forms elimity would reject but IdPs send. It returns the body
// unchanged (the same slice) when nothing needs rewriting, and an error only
// for a body that is not JSON or carries more than MaxOperations operations
// (a scimerrors.ScimError value, 400 invalidValue). Operations that need no rewrite keep their
// bytes; everything outside the Operations array is kept byte for byte.
//
// The rewrites, each found by sending the form through a real scim.Server
// (normalize_test.go asserts that elimity rejects the original and accepts
// the rewrite):
//
//  1. An unqualified path (or pathless key) naming an attribute that only an
//     extension declares gets the extension's URN: "manager" becomes
//     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager".
//     Entra's older documentation sends {"op":"Add","path":"manager",…}
//     (idp-scim-clients.md §3.8); elimity rejects it with invalidValue.
//  2. A manager value that is a bare string (real Entra: SCIM-SDK#686,
//     directory-scimple#1242), a one-element array [{"$ref":…,"value":id}]
//     (Entra's old docs), "" or [] becomes {"value": …}; {"value": null}
//     becomes {"value": ""} (elimity would drop the null and leave {}).
//     Guess: OneLogin's enterprise template sends {"managerId": id}; it
//     becomes {"value": id} when value is absent.
//  3. value null on add/replace with a path becomes remove (Entra's
//     SCIM_Null_Update_Test, Logic App template §8.6; elimity rejects null
//     with invalidValue), except add of null to a whole multi-valued
//     attribute, which adds nothing and becomes value [] (never "remove all
//     members"). In a pathless value, null keys become remove operations
//     placed before the operation; the operation itself is dropped when
//     nothing else is left in its value. This changes operation indexes in
//     Apply's error details.
//  4. A member given as a bare string, alone or in the value list of a
//     members operation, becomes {"value": id} (the SCIMReferenceCode Postman
//     suite: {"op":"add","path":"members","value":"string id 1"}).
//
// Forms elimity accepts as they are, so left alone: ops in any letter case,
// extra fields in an operation ("name":"addMember", Postman), a top-level
// "id" in the PatchOp body (Postman), "True"/"False" strings (with
// schema.SetAllowStringValues(true)), Okta's {"id": …} inside a pathless
// value (elimity drops it).
func NormalizeBody(body []byte, s Schema) ([]byte, error) {
	if !json.Valid(body) {
		return nil, errors.New("patch body is not valid JSON")
	}
	fields, ok := objectFields(body)
	if !ok {
		return body, nil
	}
	// encoding/json, which elimity decodes with, matches "Operations"
	// case-insensitively and the last occurrence wins.
	opsAt := lastField(fields, "Operations")
	if opsAt < 0 {
		return body, nil
	}
	var ops []json.RawMessage
	if err := json.Unmarshal(fields[opsAt].raw, &ops); err != nil {
		return body, nil // not an array: elimity answers 400 itself
	}
	// Refused here, before each operation's path is parsed (by us and by
	// elimity, whose filter parser costs ~0.4 ms a path): 15,000 operations
	// took 6 s of CPU to be refused by Apply.
	if err := CheckCount(len(ops)); err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(ops))
	changed := false
	for _, raw := range ops {
		rewritten, did := s.normalizeOp(raw)
		out = append(out, rewritten...)
		changed = changed || did
	}
	if !changed {
		return body, nil
	}
	arr := joinArray(out)
	f := fields[opsAt]
	if f.start >= 0 && f.end <= len(body) && f.start <= f.end && bytes.Equal(body[f.start:f.end], f.raw) {
		n := make([]byte, 0, len(body)-len(f.raw)+len(arr))
		n = append(n, body[:f.start]...)
		n = append(n, arr...)
		return append(n, body[f.end:]...), nil
	}
	// Offsets did not line up (not expected): rebuild the object instead.
	fields[opsAt].raw = arr
	return joinObject(fields), nil
}

// field is one member of a JSON object, in document order.
type field struct {
	key        string
	raw        json.RawMessage
	start, end int // byte offsets of raw in the parsed input
}

// objectFields lists an object's members in order, duplicates included.
func objectFields(data []byte) ([]field, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	t, err := dec.Token()
	if err != nil {
		return nil, false
	}
	if d, ok := t.(json.Delim); !ok || d != '{' {
		return nil, false
	}
	var fields []field
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, ok := t.(string)
		if !ok {
			return nil, false
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, false
		}
		end := int(dec.InputOffset())
		fields = append(fields, field{key: key, raw: raw, start: end - len(raw), end: end})
	}
	return fields, true
}

// lastField returns the index of the last member whose key matches name
// case-insensitively, or -1.
func lastField(fields []field, name string) int {
	at := -1
	for i, f := range fields {
		if strings.EqualFold(f.key, name) {
			at = i
		}
	}
	return at
}

func isNull(raw json.RawMessage) bool {
	return bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// normalizeOp rewrites one operation; it returns the operation unchanged
// with false when no rewrite applies.
func (s Schema) normalizeOp(raw json.RawMessage) ([]json.RawMessage, bool) {
	keep := []json.RawMessage{raw}
	fields, ok := objectFields(raw)
	if !ok {
		return keep, false
	}
	opAt, pathAt, valAt := lastField(fields, "op"), lastField(fields, "path"), lastField(fields, "value")
	if opAt < 0 {
		return keep, false
	}
	var op, path string
	if err := json.Unmarshal(fields[opAt].raw, &op); err != nil {
		return keep, false
	}
	op = strings.ToLower(op)
	if pathAt >= 0 {
		if err := json.Unmarshal(fields[pathAt].raw, &path); err != nil {
			return keep, false
		}
	}
	var val json.RawMessage
	if valAt >= 0 {
		val = fields[valAt].raw
	}

	if path != "" {
		p, err := parsePath(path)
		if err != nil {
			return keep, false
		}
		newPath, t, ok := s.qualify(path, p)
		if !ok {
			return keep, false
		}
		changed := newPath != path
		newOp, dropValue := op, false
		switch {
		case (op == opAdd || op == opReplace) && val != nil && isNull(val):
			if op == opAdd && isMultiWhole(t) {
				val = json.RawMessage("[]")
			} else {
				newOp, dropValue = opRemove, true
			}
			changed = true
		case val != nil:
			if nv, did := rewriteValue(t, val); did {
				val, changed = nv, true
			}
		}
		if !changed {
			return keep, false
		}
		out := rebuildOp(fields, opAt, pathAt, valAt, newOp != op, newOp, newPath, val, dropValue)
		return []json.RawMessage{out}, true
	}

	if (op != opAdd && op != opReplace) || val == nil || isNull(val) {
		return keep, false
	}
	removes, newVal, changed := s.normalizePathless(op, val)
	if !changed {
		return keep, false
	}
	var out []json.RawMessage
	for _, rp := range removes {
		out = append(out, joinObject([]field{{key: "op", raw: mustJSON(opRemove)}, {key: "path", raw: mustJSON(rp)}}))
	}
	if newVal != nil {
		out = append(out, rebuildOp(fields, opAt, pathAt, valAt, false, op, "", newVal, false))
	}
	return out, true
}

// rebuildOp writes an operation back with a new op, path and value, keeping
// every other member (and its key spelling) and dropping shadowed
// duplicates of op/path/value.
func rebuildOp(fields []field, opAt, pathAt, valAt int, setOp bool, op, path string, val json.RawMessage, dropValue bool) json.RawMessage {
	out := make([]field, 0, len(fields))
	for i, f := range fields {
		switch {
		case i == opAt:
			if setOp {
				f.raw = mustJSON(op)
			}
		case i == pathAt:
			if path != "" {
				f.raw = mustJSON(path)
			}
		case i == valAt:
			if dropValue {
				continue
			}
			f.raw = val
		case strings.EqualFold(f.key, "op"), strings.EqualFold(f.key, "path"), strings.EqualFold(f.key, "value"):
			continue // shadowed by a later duplicate; elimity ignores it too
		}
		out = append(out, f)
	}
	return joinObject(out)
}

// normalizePathless rewrites the members of a pathless value. It returns the
// paths of null members (to become remove operations), the new value (nil
// when nothing else is left) and whether anything changed.
func (s Schema) normalizePathless(op string, val json.RawMessage) ([]string, json.RawMessage, bool) {
	fields, ok := objectFields(val)
	if !ok {
		return nil, nil, false
	}
	var (
		removes []string
		out     []field
		changed bool
	)
	for _, f := range fields {
		if sc, ok := s.containerScope(f.key); ok && !isNull(f.raw) {
			inner, ok := objectFields(f.raw)
			if !ok {
				out = append(out, f)
				continue
			}
			prefix := ""
			if sc.ext != nil {
				prefix = sc.ext.ID + ":"
			}
			var kept []field
			innerChanged := false
			for _, g := range inner {
				p, err := parsePath(g.key)
				if err != nil {
					kept = append(kept, g)
					continue
				}
				t, rerr := s.resolve(p, &sc)
				if rerr != nil {
					kept = append(kept, g)
					continue
				}
				if isNull(g.raw) {
					if !(op == opAdd && isMultiWhole(t)) {
						removes = append(removes, prefix+g.key)
					}
					innerChanged = true
					continue
				}
				if nv, did := rewriteValue(t, g.raw); did {
					g.raw, innerChanged = nv, true
				}
				kept = append(kept, g)
			}
			if !innerChanged {
				out = append(out, f)
				continue
			}
			changed = true
			if len(kept) > 0 {
				out = append(out, field{key: f.key, raw: joinObject(kept)})
			}
			continue
		}
		p, err := parsePath(f.key)
		if err != nil {
			out = append(out, f)
			continue
		}
		key, t, ok := s.qualify(f.key, p)
		if !ok {
			out = append(out, f)
			continue
		}
		if isNull(f.raw) {
			if !(op == opAdd && isMultiWhole(t)) {
				removes = append(removes, key)
			}
			changed = true
			continue
		}
		if key != f.key {
			f.key, changed = key, true
		}
		if nv, did := rewriteValue(t, f.raw); did {
			f.raw, changed = nv, true
		}
		out = append(out, f)
	}
	if !changed {
		return nil, nil, false
	}
	if len(out) == 0 && len(removes) > 0 {
		return removes, nil, true
	}
	return removes, joinObject(out), true
}

// qualify resolves a path as Apply would and, for an unqualified attribute
// that lives in an extension, prefixes the extension URN so that elimity
// finds it. ok is false when the path does not resolve; it is then left for
// elimity to reject.
func (s Schema) qualify(path string, p filter.Path) (string, target, bool) {
	t, err := s.resolve(p, nil)
	if err != nil {
		return path, target{}, false
	}
	if p.AttributePath.URI() == "" && t.scope.ext != nil && !t.whole {
		return t.scope.ext.ID + ":" + path, t, true
	}
	return path, t, true
}

func isMultiWhole(t target) bool {
	return !t.whole && t.attr.MultiValued() && t.filter == nil && t.sub == nil
}

// rewriteValue rewrites the value shapes of rewrites 2 and 4 (see
// NormalizeBody); did is false when the value is fine as it is.
func rewriteValue(t target, raw json.RawMessage) (json.RawMessage, bool) {
	if t.whole || t.filter != nil || t.sub != nil {
		return raw, false
	}
	switch {
	case isReference(t.attr):
		v, ok := decode(raw)
		if !ok {
			return raw, false
		}
		switch x := v.(type) {
		case string:
			return mustJSON(map[string]any{"value": x}), true
		case []any:
			switch len(x) {
			case 0:
				return mustJSON(map[string]any{"value": ""}), true
			case 1:
				switch e := x[0].(type) {
				case string:
					return mustJSON(map[string]any{"value": e}), true
				case map[string]any:
					fixReference(e)
					return mustJSON(e), true
				}
			}
		case map[string]any:
			if fixReference(x) {
				return mustJSON(x), true
			}
		}
	case isMembers(t.attr):
		v, ok := decode(raw)
		if !ok {
			return raw, false
		}
		switch x := v.(type) {
		case string:
			return mustJSON([]any{map[string]any{"value": x}}), true
		case []any:
			did := false
			for i, e := range x {
				if id, ok := e.(string); ok {
					x[i] = map[string]any{"value": id}
					did = true
				}
			}
			if did {
				return mustJSON(x), true
			}
		}
	}
	return raw, false
}

// fixReference turns {"value": null} into {"value": ""} (removal) and, when
// value is absent, OneLogin's managerId into value. It reports a change.
func fixReference(m map[string]any) bool {
	k, v, ok := lookup(m, "value")
	if ok {
		if v == nil {
			m[k] = ""
			return true
		}
		return false
	}
	// Guess: OneLogin's "Enterprise User Schema" names the id managerId
	// (idp-scim-clients.md §4); seen in POST templates, assumed in PATCH.
	if mk, id, ok := lookup(m, "managerId"); ok {
		if s, isStr := id.(string); isStr {
			delete(m, mk)
			m["value"] = s
			return true
		}
	}
	return false
}

func decode(raw json.RawMessage) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	return v, true
}

// mustJSON encodes a value built from decoded JSON, strings and maps, which
// cannot fail; HTML characters are kept as they are.
func mustJSON(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return json.RawMessage("null")
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

func joinObject(fields []field) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(mustJSON(f.key))
		b.WriteByte(':')
		b.Write(f.raw)
	}
	b.WriteByte('}')
	return b.Bytes()
}

func joinArray(items []json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(it)
	}
	b.WriteByte(']')
	return b.Bytes()
}
