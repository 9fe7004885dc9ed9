package scim

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"

	"github.com/scimbridge/scimbridge/store"
)

// Attribute names the handlers treat specially.
const (
	attrUserName    = "userName"
	attrExternalID  = "externalId"
	attrActive      = "active"
	attrDisplayName = "displayName"
	attrMembers     = "members"
	attrGroups      = "groups"
)

// notStored are attributes a client may send that are never stored: readOnly
// ones (RFC 7643 section 2.2: ignored when sent, so Okta's echo of `groups`
// in a PUT changes no membership) and the writeOnly password (Okta sends one
// on create even without password sync; we never keep or return it).
var notStored = []string{"id", "meta", "schemas", "groups", "password"}

func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// badValue is a 400 invalidValue naming the problem.
func badValue(format string, args ...any) error {
	return scimerrors.ScimError{
		Status:   http.StatusBadRequest,
		ScimType: scimerrors.ScimTypeInvalidValue,
		Detail:   fmt.Sprintf(format, args...),
	}
}

// cleanAttributes removes what is never stored and every null value, which
// RFC 7644 section 3.5.1 treats as "unassigned" (Entra's older examples send
// `"title": null`), recursively. It returns a fresh map.
func cleanAttributes(in map[string]any) map[string]any {
	out := make(map[string]any, len(in))
	defer wrapSingles(out)
	for k, v := range in {
		skip := false
		for _, n := range notStored {
			if strings.EqualFold(k, n) {
				skip = true
				break
			}
		}
		if skip {
			continue
		}
		if v = cleanValue(v); v != nil {
			out[k] = v
		}
	}
	return out
}

func cleanValue(v any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			if e = cleanValue(e); e != nil {
				m[k] = e
			}
		}
		return m
	case []any:
		s := make([]any, 0, len(t))
		for _, e := range t {
			if e = cleanValue(e); e != nil {
				s = append(s, e)
			}
		}
		return s
	case []map[string]any:
		s := make([]any, 0, len(t))
		for _, e := range t {
			s = append(s, cleanValue(e))
		}
		return s
	}
	return v
}

// userFromAttributes splits a complete SCIM user (as validated by elimity or
// produced by the PATCH applier) into the store record's fields.
func userFromAttributes(u *store.User, attrs map[string]any) error {
	attrs = cleanAttributes(attrs)
	name, ok := attrs[attrUserName].(string)
	if !ok || strings.TrimSpace(name) == "" {
		return badValue("userName is required and must be a non-empty string.")
	}
	ext, err := optionalString(attrs, attrExternalID)
	if err != nil {
		return err
	}
	active := true // RFC 7643 leaves an absent `active` to the provider: a pushed user is active unless told otherwise.
	if v, present := attrs[attrActive]; present {
		b, ok := v.(bool)
		if !ok {
			return badValue("active must be a boolean.")
		}
		active = b
	}
	delete(attrs, attrUserName)
	delete(attrs, attrExternalID)
	delete(attrs, attrActive)
	u.UserName, u.ExternalID, u.Active, u.Attributes = name, ext, active, attrs
	return nil
}

func optionalString(attrs map[string]any, key string) (string, error) {
	v, present := attrs[key]
	if !present {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", badValue("%s must be a string.", key)
	}
	return s, nil
}

// userAttributes is the inverse of userFromAttributes: the full attribute
// map the PATCH applier works on.
func userAttributes(u store.User) map[string]any {
	m := make(map[string]any, len(u.Attributes)+3)
	for k, v := range u.Attributes {
		m[k] = v
	}
	m[attrUserName] = u.UserName
	m[attrActive] = u.Active
	if u.ExternalID != "" {
		m[attrExternalID] = u.ExternalID
	}
	return m
}

// groupFromAttributes splits a complete SCIM group into the store record.
func groupFromAttributes(g *store.Group, attrs map[string]any) error {
	attrs = cleanAttributes(attrs)
	name, ok := attrs[attrDisplayName].(string)
	if !ok || strings.TrimSpace(name) == "" {
		return badValue("displayName is required and must be a non-empty string.")
	}
	ext, err := optionalString(attrs, attrExternalID)
	if err != nil {
		return err
	}
	members, err := membersFrom(attrs[attrMembers])
	if err != nil {
		return err
	}
	delete(attrs, attrDisplayName)
	delete(attrs, attrExternalID)
	delete(attrs, attrMembers)
	g.DisplayName, g.ExternalID, g.Members, g.Attributes = name, ext, members, attrs
	return nil
}

// membersFrom reads a members value: a list of {value, display, type, $ref}
// objects; only value is kept (display is computed from the member).
func membersFrom(v any) ([]store.Member, error) {
	if v == nil {
		return []store.Member{}, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, badValue("members must be a list of {\"value\": id} objects.")
	}
	out := make([]store.Member, 0, len(list))
	for i, e := range list {
		var id string
		switch t := e.(type) {
		case map[string]any:
			id, _ = t["value"].(string)
		case string:
			id = t
		}
		if id == "" {
			return nil, badValue("members[%d].value is required.", i)
		}
		out = append(out, store.Member{Value: id})
	}
	return out, nil
}

// groupAttributes is the inverse of groupFromAttributes, for PATCH.
func groupAttributes(g store.Group) map[string]any {
	m := make(map[string]any, len(g.Attributes)+3)
	for k, v := range g.Attributes {
		m[k] = v
	}
	m[attrDisplayName] = g.DisplayName
	if g.ExternalID != "" {
		m[attrExternalID] = g.ExternalID
	}
	members := make([]any, 0, len(g.Members))
	for _, mb := range g.Members {
		members = append(members, map[string]any{"value": mb.Value})
	}
	m[attrMembers] = members
	return m
}

// links builds absolute references to this tenant's resources.
type links struct{ base string } // e.g. https://bridge.example.com/scim/v2/okta

func (l links) ref(kind store.ResourceKind, id string) string {
	if kind == store.KindGroup {
		return l.base + "/Groups/" + id
	}
	return l.base + "/Users/" + id
}

func (l links) userResource(u store.User, proj projection) scim.Resource {
	attrs := make(scim.ResourceAttributes, len(u.Attributes)+3)
	for k, v := range u.Attributes {
		attrs[k] = v
	}
	attrs[attrUserName] = u.UserName
	attrs[attrActive] = u.Active
	groups := make([]any, 0, len(u.Groups))
	for _, g := range u.Groups {
		groups = append(groups, map[string]any{
			"value": g.ID, "display": g.DisplayName, "$ref": l.ref(store.KindGroup, g.ID), "type": "direct",
		})
	}
	attrs[attrGroups] = groups
	return scim.Resource{
		ID:         u.ID,
		ExternalID: optionalOf(u.ExternalID),
		Attributes: proj.apply(attrs),
		Meta:       meta(u.CreatedAt, u.UpdatedAt, u.Version),
	}
}

func (l links) groupResource(g store.Group, withMembers bool, proj projection) scim.Resource {
	attrs := make(scim.ResourceAttributes, len(g.Attributes)+2)
	for k, v := range g.Attributes {
		attrs[k] = v
	}
	attrs[attrDisplayName] = g.DisplayName
	switch {
	case withMembers && proj.include == nil && proj.exclude == nil:
		attrs[attrMembers] = memberList{links: l, members: g.Members}
	case withMembers:
		// The projection works on maps.
		members := make([]any, 0, len(g.Members))
		for _, m := range g.Members {
			members = append(members, map[string]any{
				"value": m.Value, "display": m.Display, "$ref": l.ref(m.Kind, m.Value), "type": string(m.Kind),
			})
		}
		attrs[attrMembers] = members
	}
	return scim.Resource{
		ID:         g.ID,
		ExternalID: optionalOf(g.ExternalID),
		Attributes: proj.apply(attrs),
		Meta:       meta(g.CreatedAt, g.UpdatedAt, g.Version),
	}
}

// memberList is a group's members in a response, rendered exactly as the
// list of {"value", "display", "$ref", "type"} maps groupResource builds
// for a projection would be, without a map per member: encoding/json spent
// ~3 ms on the maps of a 1000-member group.
type memberList struct {
	links   links
	members []store.Member
}

// MarshalJSON writes the keys in encoding/json's map order.
func (m memberList) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 2+len(m.members)*(len(m.links.base)+128))
	b = append(b, '[')
	for i, mb := range m.members {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"$ref":`...)
		b = appendJSONString(b, m.links.ref(mb.Kind, mb.Value))
		b = append(b, `,"display":`...)
		b = appendJSONString(b, mb.Display)
		b = append(b, `,"type":`...)
		b = appendJSONString(b, string(mb.Kind))
		b = append(b, `,"value":`...)
		b = appendJSONString(b, mb.Value)
		b = append(b, '}')
	}
	return append(b, ']'), nil
}

// appendJSONString appends s as encoding/json.Marshal writes a string:
// HTML-sensitive characters, U+2028 and U+2029 escaped, invalid UTF-8
// replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func optionalOf(s string) optional.String {
	if s == "" {
		return optional.String{}
	}
	return optional.NewString(s)
}

// multiValued are the multi-valued attributes of the core User and Group
// schemas (RFC 7643 sections 4.1.2 and 4.2).
var multiValued = map[string]bool{
	"emails": true, "phoneNumbers": true, "ims": true, "photos": true, "addresses": true,
	"entitlements": true, "roles": true, "x509Certificates": true, "members": true,
}

// wrapSingles turns a multi-valued attribute sent as a single object (the
// SCIM 1.1-style OneLogin template sends `"emails": {...}`; elimity accepts
// it) into a one-element list, so it reads back RFC-shaped and filters on
// emails.value find it.
func wrapSingles(attrs map[string]any) {
	for k, v := range attrs {
		if m, ok := v.(map[string]any); ok && multiValued[k] {
			attrs[k] = []any{m}
		}
	}
}
