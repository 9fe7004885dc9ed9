package scim

import (
	"slices"
	"strconv"
	"time"

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
		switch k {
		case attrUserName:
			b = jsonenc.AppendString(b, u.UserName, true)
		case attrActive:
			b = strconv.AppendBool(b, u.Active)
		case attrGroups:
			b = h.appendGroupRefs(b, u.Groups)
		case "id":
			b = jsonenc.AppendString(b, u.ID, true)
		case "externalId":
			if u.ExternalID != "" {
				b = jsonenc.AppendString(b, u.ExternalID, true)
				break
			}
			var err error
			if b, err = appendValue(b, u.Attributes[k]); err != nil {
				return nil, err
			}
		case "schemas":
			b, _ = appendValue(b, schemas)
		case "meta":
			b = appendUserMeta(b, u, base)
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
