package scim

import (
	"net/url"
	"strings"
	"time"

	"github.com/elimity-com/scim"
)

// projection implements the attributes and excludedAttributes query
// parameters (RFC 7644 section 3.4.2.5), which elimity ignores. Entra reads
// groups with excludedAttributes=members, and the group handler uses
// wants("members") to skip loading members at all.
type projection struct {
	include []attrRef // nil: everything returned by default
	exclude []attrRef
}

// attrRef is one requested attribute: an optional extension URN, a name and
// an optional sub-attribute.
type attrRef struct{ urn, name, sub string }

func parseProjection(q url.Values) projection {
	return projection{include: parseAttrList(q.Get("attributes")), exclude: parseAttrList(q.Get("excludedAttributes"))}
}

func parseAttrList(s string) []attrRef {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []attrRef
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		// Microsoft's reference tests send filters in attributes
		// (`emails[type eq "work"]`): select the attribute itself.
		if i := strings.IndexByte(part, '['); i >= 0 {
			rest := part[i:]
			part = part[:i]
			if j := strings.IndexByte(rest, ']'); j >= 0 && strings.HasPrefix(rest[j+1:], ".") {
				part += rest[j+1:]
			}
		}
		if part == "" {
			continue
		}
		var ref attrRef
		if strings.HasPrefix(strings.ToLower(part), "urn:") {
			i := strings.LastIndexByte(part, ':')
			ref.urn, part = part[:i], part[i+1:]
			// A bare extension URN (its last segment is the schema's
			// resource name, e.g. "User") selects the whole extension.
			if !strings.Contains(part, ".") && looksLikeSchemaURN(ref.urn+":"+part) {
				ref.urn, part = ref.urn+":"+part, ""
			}
			// A core attribute may be written with its schema URN (RFC 7644
			// section 3.10): urn:...:core:2.0:User:title is title. The bare
			// core URN names no attribute and is skipped.
			if strings.EqualFold(ref.urn, coreUserURN) || strings.EqualFold(ref.urn, coreGroupURN) {
				if part == "" {
					continue
				}
				ref.urn = ""
			}
		}
		ref.name, ref.sub, _ = strings.Cut(part, ".")
		out = append(out, ref)
	}
	return out
}

// The core schemas' URNs.
const (
	coreUserURN  = "urn:ietf:params:scim:schemas:core:2.0:User"
	coreGroupURN = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

func looksLikeSchemaURN(s string) bool {
	last := s[strings.LastIndexByte(s, ':')+1:]
	return strings.EqualFold(last, "User") || strings.EqualFold(last, "Group")
}

// wants reports whether a top-level core attribute is returned.
func (p projection) wants(name string) bool {
	for _, r := range p.exclude {
		if r.urn == "" && r.sub == "" && strings.EqualFold(r.name, name) {
			return false
		}
	}
	if p.include == nil {
		return true
	}
	for _, r := range p.include {
		if r.urn == "" && strings.EqualFold(r.name, name) {
			return true
		}
	}
	return false
}

// apply returns attrs reduced by the projection (attrs itself is not
// modified). id and schemas are always returned by elimity.
func (p projection) apply(attrs scim.ResourceAttributes) scim.ResourceAttributes {
	if p.include == nil && p.exclude == nil {
		return attrs
	}
	out := attrs
	if p.include != nil {
		out = make(scim.ResourceAttributes, len(p.include))
		for _, r := range p.include {
			copyRef(out, attrs, r)
		}
	} else {
		out = make(scim.ResourceAttributes, len(attrs))
		for k, v := range attrs {
			out[k] = v
		}
	}
	for _, r := range p.exclude {
		removeRef(out, r)
	}
	return out
}

// lookup finds key in m case-insensitively.
func lookup(m map[string]any, key string) (string, any, bool) {
	if v, ok := m[key]; ok {
		return key, v, true
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return k, v, true
		}
	}
	return "", nil, false
}

func copyRef(dst, src map[string]any, r attrRef) {
	if r.urn != "" {
		k, v, ok := lookup(src, r.urn)
		ext, isMap := v.(map[string]any)
		if !ok || !isMap {
			return
		}
		if r.name == "" {
			dst[k] = ext
			return
		}
		sub, _ := dst[k].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
			dst[k] = sub
		}
		copyRef(sub, ext, attrRef{name: r.name, sub: r.sub})
		return
	}
	k, v, ok := lookup(src, r.name)
	if !ok {
		return
	}
	if r.sub == "" {
		dst[k] = v
		return
	}
	switch t := v.(type) {
	case map[string]any:
		if sk, sv, ok := lookup(t, r.sub); ok {
			m, _ := dst[k].(map[string]any)
			if m == nil {
				m = map[string]any{}
				dst[k] = m
			}
			m[sk] = sv
		}
	case []any:
		list := make([]any, 0, len(t))
		for _, e := range t {
			if em, ok := e.(map[string]any); ok {
				if sk, sv, ok := lookup(em, r.sub); ok {
					list = append(list, map[string]any{sk: sv})
				}
			}
		}
		dst[k] = list
	}
}

func removeRef(m map[string]any, r attrRef) {
	if r.urn != "" {
		k, v, ok := lookup(m, r.urn)
		if !ok {
			return
		}
		if r.name == "" {
			delete(m, k)
			return
		}
		if ext, ok := v.(map[string]any); ok {
			c := make(map[string]any, len(ext))
			for ek, ev := range ext {
				c[ek] = ev
			}
			removeRef(c, attrRef{name: r.name, sub: r.sub})
			m[k] = c
		}
		return
	}
	k, v, ok := lookup(m, r.name)
	if !ok {
		return
	}
	if r.sub == "" {
		delete(m, k)
		return
	}
	switch t := v.(type) {
	case map[string]any:
		c := make(map[string]any, len(t))
		for ck, cv := range t {
			if !strings.EqualFold(ck, r.sub) {
				c[ck] = cv
			}
		}
		m[k] = c
	case []any:
		list := make([]any, 0, len(t))
		for _, e := range t {
			if em, ok := e.(map[string]any); ok {
				c := make(map[string]any, len(em))
				for ck, cv := range em {
					if !strings.EqualFold(ck, r.sub) {
						c[ck] = cv
					}
				}
				list = append(list, c)
			} else {
				list = append(list, e)
			}
		}
		m[k] = list
	}
}

func meta(created, updated time.Time, version int64) scim.Meta {
	c, u := created.UTC(), updated.UTC()
	return scim.Meta{Created: &c, LastModified: &u, Version: etag(version)}
}
