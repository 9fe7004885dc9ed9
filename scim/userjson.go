package scim

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/internal/jsonenc"
	"github.com/scimbridge/scimbridge/store"
)

// appendUser appends u as a list answers it with the default projection:
// the same bytes as appendMap(resourceJSON(h.resource(u, projection{}),
// "User", base, schemas)), without the three maps that path builds per
// user (they were about 40% of the CPU of a lookup's handler once the
// store answered from its cache). TestAppendUserAnswersAsTheMaps and
// FuzzAppendUser hold the two to the same output.
func (h *userHandler) appendUser(b []byte, u store.User, base string, schemas []string) ([]byte, error) {
	// The members of the object: the stored attributes, unless a member
	// the resource itself sets has that name (as in the maps, where the
	// later assignment wins).
	var buf [24]string
	keys := buf[:0]
	for k := range u.Attributes {
		switch k {
		case attrUserName, attrActive, attrGroups, "id", "schemas", "meta":
			continue
		case "externalId":
			if u.ExternalID != "" {
				continue
			}
		}
		keys = append(keys, k)
	}
	keys = append(keys, attrUserName, attrActive, attrGroups, "id", "schemas", "meta")
	if _, ok := u.Attributes["name"]; !ok && h.alwaysName {
		keys = append(keys, "name") // givenName and familyName, empty
	}
	if u.ExternalID != "" {
		keys = append(keys, "externalId")
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		b = jsonenc.AppendKey(b, i, k, true)
		if out, ok := h.appendOwnMember(b, k, u, base, schemas); ok {
			b = out
			continue
		}
		switch k {
		case "name":
			var err error
			if b, err = appendValue(b, h.nameValue(u.Attributes[k])); err != nil {
				return nil, err
			}
		default:
			var err error
			if b, err = appendValue(b, u.Attributes[k]); err != nil {
				return nil, err
			}
		}
	}
	return append(b, '}'), nil
}

// appendOwnMember appends the value of the member key that the resource
// sets itself rather than the stored attributes (userName, active, groups,
// id, schemas, meta, and externalId when the user has one); false for any
// other key.
func (h *userHandler) appendOwnMember(b []byte, key string, u store.User, base string, schemas []string) ([]byte, bool) {
	switch key {
	case attrUserName:
		return jsonenc.AppendString(b, u.UserName, true), true
	case attrActive:
		return strconv.AppendBool(b, u.Active), true
	case attrGroups:
		return h.appendGroupRefs(b, u.Groups), true
	case "id":
		return jsonenc.AppendString(b, u.ID, true), true
	case "externalId":
		if u.ExternalID == "" {
			return b, false
		}
		return jsonenc.AppendString(b, u.ExternalID, true), true
	case "schemas":
		b, _ = appendValue(b, schemas)
		return b, true
	case "meta":
		return appendUserMeta(b, u, base), true
	}
	return b, false
}

// nameValue is the name attribute as resource answers it: with the
// alwaysName quirk, givenName and familyName are present (empty) when not
// stored.
func (h *userHandler) nameValue(v any) any {
	if !h.alwaysName {
		return v
	}
	name, _ := v.(map[string]any)
	if name != nil && name["givenName"] != nil && name["familyName"] != nil {
		return v
	}
	n := map[string]any{"givenName": "", "familyName": ""}
	for k, v := range name {
		n[k] = v
	}
	return n
}

// appendGroupRefs appends a user's groups: objects with the members
// "$ref", "display", "type" and "value", in that (sorted) order.
func (h *userHandler) appendGroupRefs(b []byte, groups []store.GroupRef) []byte {
	b = append(b, '[')
	for i, g := range groups {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"$ref":`...)
		b = jsonenc.AppendString(b, h.links.ref(store.KindGroup, g.ID), true)
		b = append(b, `,"display":`...)
		b = jsonenc.AppendString(b, g.DisplayName, true)
		b = append(b, `,"type":"direct","value":`...)
		b = jsonenc.AppendString(b, g.ID, true)
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendUserMeta appends meta as resourceJSON renders meta(u.CreatedAt,
// u.UpdatedAt, u.Version).
func appendUserMeta(b []byte, u store.User, base string) []byte {
	m := meta(u.CreatedAt, u.UpdatedAt, u.Version)
	b = append(b, `{"created":`...)
	b = appendTimeString(b, *m.Created)
	b = append(b, `,"lastModified":`...)
	b = appendTimeString(b, *m.LastModified)
	b = append(b, `,"location":`...)
	b = jsonenc.AppendString(b, base+u.ID, true)
	b = append(b, `,"resourceType":"User"`...)
	if m.Version != "" {
		b = append(b, `,"version":`...)
		b = jsonenc.AppendString(b, m.Version, true)
	}
	return append(b, '}')
}

// appendTimeString appends t in RFC 3339 as a JSON string, as
// jsonenc.AppendString(t.Format(time.RFC3339)) would: the format writes
// nothing JSON escapes.
func appendTimeString(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339)
	return append(b, '"')
}

// rawMember is one member of a stored attributes object: its name and its
// value's bytes.
type rawMember struct{ key, value string }

// appendUserRaw is appendUser for a user read with Query.RawAttributes:
// the stored members are copied as they are stored, without decoding them,
// where the bytes are what appendUser would write for the decoded value.
// It reports false, having appended nothing of use, for anything else
// (keys out of order or with escapes, numbers that are not plain int64,
// escapes that may not round-trip, white space, the alwaysName quirk);
// the caller then reads the users decoded. TestAppendUserRawAsDecoded
// holds it to appendUser's bytes.
func (h *userHandler) appendUserRaw(b []byte, u store.User, base string, schemas []string) ([]byte, bool) {
	if h.alwaysName {
		return b, false
	}
	var buf [24]rawMember
	members, ok := rawMembers(buf[:0], u.RawAttributes)
	if !ok {
		return b, false
	}
	// Stored members the resource sets itself are left out, as in appendUser.
	n := 0
	for _, m := range members {
		switch m.key {
		case attrUserName, attrActive, attrGroups, "id", "schemas", "meta":
			continue
		case "externalId":
			if u.ExternalID != "" {
				continue
			}
		}
		members[n] = m
		n++
	}
	members = members[:n]
	fixed := []string{attrActive, attrGroups, "id", "meta", "schemas", attrUserName} // sorted
	if u.ExternalID != "" {
		fixed = []string{attrActive, "externalId", attrGroups, "id", "meta", "schemas", attrUserName}
	}
	b = append(b, '{')
	i, j, k := 0, 0, 0
	for i < len(members) || j < len(fixed) {
		if j == len(fixed) || i < len(members) && members[i].key < fixed[j] {
			b = jsonenc.AppendKey(b, k, members[i].key, true)
			if b, ok = appendRawValue(b, members[i].value); !ok {
				return b, false
			}
			i++
		} else {
			b = jsonenc.AppendKey(b, k, fixed[j], true)
			b, _ = h.appendOwnMember(b, fixed[j], u, base, schemas)
			j++
		}
		k++
	}
	return append(b, '}'), true
}

// rawMembers splits a JSON object written without white space into its
// members, whose names must be strictly increasing and free of escapes.
func rawMembers(dst []rawMember, s string) ([]rawMember, bool) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	i := 1
	if s == "{}" {
		return dst, true
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return nil, false
		}
		end := strings.IndexByte(s[i+1:], '"')
		if end < 0 {
			return nil, false
		}
		key := s[i+1 : i+1+end]
		if strings.IndexByte(key, '\\') >= 0 || !plainKey(key) || len(dst) > 0 && key <= dst[len(dst)-1].key {
			return nil, false
		}
		i += end + 2
		if i >= len(s) || s[i] != ':' {
			return nil, false
		}
		i++
		vend, ok := skipValue(s, i, 0)
		if !ok {
			return nil, false
		}
		dst = append(dst, rawMember{key: key, value: s[i:vend]})
		i = vend
		if i >= len(s) {
			return nil, false
		}
		switch s[i] {
		case ',':
			i++
		case '}':
			return dst, i == len(s)-1
		default:
			return nil, false
		}
	}
}

// plainKey reports whether a member name is valid UTF-8 without control
// characters: decoded, it is then the same string.
func plainKey(k string) bool {
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 {
			return false
		}
	}
	return utf8.ValidString(k)
}

// skipValue returns the end of the JSON value at s[i:] (no white space
// allowed).
func skipValue(s string, i, depth int) (int, bool) {
	if i >= len(s) || depth > 32 {
		return 0, false
	}
	switch c := s[i]; {
	case c == '"':
		for j := i + 1; j < len(s); j++ {
			switch s[j] {
			case '\\':
				j++
			case '"':
				return j + 1, true
			}
		}
		return 0, false
	case c == '{' || c == '[':
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		j := i + 1
		if j < len(s) && s[j] == closing {
			return j + 1, true
		}
		for {
			if c == '{' {
				k, ok := skipValue(s, j, depth+1) // the member's name
				if !ok || s[j] != '"' || k >= len(s) || s[k] != ':' {
					return 0, false
				}
				j = k + 1
			}
			k, ok := skipValue(s, j, depth+1)
			if !ok || k >= len(s) {
				return 0, false
			}
			switch s[k] {
			case ',':
				j = k + 1
			case closing:
				return k + 1, true
			default:
				return 0, false
			}
		}
	case c == 't' && strings.HasPrefix(s[i:], "true"):
		return i + 4, true
	case c == 'f' && strings.HasPrefix(s[i:], "false"):
		return i + 5, true
	case c == 'n' && strings.HasPrefix(s[i:], "null"):
		return i + 4, true
	case c == '-' || c >= '0' && c <= '9':
		j := i + 1
		for j < len(s) && strings.IndexByte("0123456789+-.eE", s[j]) >= 0 {
			j++
		}
		return j, true
	}
	return 0, false
}

// appendRawValue appends a stored value as appendValue writes it decoded:
// the same bytes but for <, > and & in strings (HTML-safe escaping). It
// refuses (false) what would come out differently or what it cannot vouch
// for: numbers other than plain int64s (decoded, a float is rewritten),
// escapes other than those encoding/json writes for the character itself
// (a stored \ufffd decodes to a U+FFFD that is then written as itself),
// invalid UTF-8, white space, and objects whose member names are not
// strictly increasing or carry escapes (decoded, a map is written sorted).
func appendRawValue(b []byte, v string) ([]byte, bool) {
	if !utf8.ValidString(v) {
		return b, false
	}
	// One entry per open object or array: in an object, the name of its
	// last member so far.
	type level struct {
		object  bool
		hasLast bool
		last    string
	}
	var sbuf [8]level
	stack := sbuf[:0]
	inString, start := false, 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		if inString {
			switch c {
			case '\\':
				if i+1 >= len(v) {
					return b, false
				}
				switch v[i+1] {
				case '"', '\\', 'b', 'f', 'n', 'r', 't':
					b = append(b, v[i:i+2]...)
					i++
					continue
				case 'u':
					if i+6 > len(v) {
						return b, false
					}
					esc := v[i : i+6]
					// encoding/json writes \u00XX for control characters and
					// \u2028, \u2029 as such; anything else as the character.
					if !(strings.HasPrefix(esc, `\u00`) && (esc[4] == '0' || esc[4] == '1')) && esc != `\u2028` && esc != `\u2029` {
						return b, false
					}
					b = append(b, esc...)
					i += 5
					continue
				}
				return b, false
			case '<':
				b = append(b, `\u003c`...)
			case '>':
				b = append(b, `\u003e`...)
			case '&':
				b = append(b, `\u0026`...)
			case '"':
				inString = false
				b = append(b, c)
				if i+1 < len(v) && v[i+1] == ':' { // a member name
					top := len(stack) - 1
					name := v[start+1 : i]
					if top < 0 || !stack[top].object || strings.IndexByte(name, '\\') >= 0 ||
						stack[top].hasLast && name <= stack[top].last {
						return b, false
					}
					stack[top].hasLast, stack[top].last = true, name
				}
			default:
				if c < 0x20 {
					return b, false // not JSON; encoding/json would escape it
				}
				b = append(b, c)
			}
			continue
		}
		switch {
		case c == '"':
			inString, start = true, i
			b = append(b, c)
		case c == '{' || c == '[':
			stack = append(stack, level{object: c == '{'})
			b = append(b, c)
		case c == '}' || c == ']':
			if len(stack) == 0 {
				return b, false
			}
			stack = stack[:len(stack)-1]
			b = append(b, c)
		case c == '-' || c >= '0' && c <= '9':
			j := i + 1
			for j < len(v) && v[j] >= '0' && v[j] <= '9' {
				j++
			}
			num := v[i:j]
			if j < len(v) && strings.IndexByte(",]}", v[j]) < 0 {
				return b, false // a float (its decoded form is written anew), or not a number
			}
			if _, err := strconv.ParseInt(num, 10, 64); err != nil || strings.HasPrefix(num, "-0") ||
				len(num) > 1 && num[0] == '0' {
				return b, false
			}
			b = append(b, num...)
			i = j - 1
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			return b, false
		default:
			b = append(b, c)
		}
	}
	return b, !inString && len(stack) == 0
}
