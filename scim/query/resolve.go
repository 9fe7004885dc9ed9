package query

import (
	"strings"

	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/store"
)

// resolved is an attribute path checked against the schema.
type resolved struct {
	path store.AttrPath       // canonical spelling
	top  schema.CoreAttribute // the attribute path.Name names
	leaf schema.CoreAttribute // the sub-attribute if path.Sub != "", else top
	time bool                 // meta.created / meta.lastModified: values become time.Time
	// special marks members (groups) and groups (users): columns holding
	// ids, with value as the only comparable sub-attribute.
	special bool
}

// resolve finds the attribute a filter path names, case-insensitively, and
// returns it with the schema's spelling.
func (t *translator) resolve(ap filter.AttributePath) (resolved, error) {
	label := ap.String()
	name, sub := ap.AttributeName, ap.SubAttributeName()
	if uri := ap.URI(); uri != "" && !strings.EqualFold(uri, t.s.Core.ID) {
		for _, ext := range t.s.Extensions {
			if strings.EqualFold(uri, ext.ID) {
				a, ok := ext.Attributes.ContainsAttribute(name)
				if !ok {
					return resolved{}, invalidFilter("unknown attribute %q in filter", label)
				}
				return build(ext.ID, a, sub, label)
			}
		}
		return resolved{}, invalidFilter("unknown schema %q in filter attribute %q", uri, label)
	}
	if r, ok, err := t.common(name, sub, label); ok {
		return r, err
	}
	if a, ok := t.s.Core.Attributes.ContainsAttribute(name); ok {
		return build("", a, sub, label)
	}
	if ap.URI() == "" {
		// Guess: some clients leave the URN off extension attributes
		// (`department eq "x"`); elimity's own validation accepts that too.
		// Use the extension when exactly one defines the name.
		var found []schema.Schema
		for _, ext := range t.s.Extensions {
			if _, ok := ext.Attributes.ContainsAttribute(name); ok {
				found = append(found, ext)
			}
		}
		if len(found) == 1 {
			a, _ := found[0].Attributes.ContainsAttribute(name)
			return build(found[0].ID, a, sub, label)
		}
		if len(found) > 1 {
			return resolved{}, invalidFilter("attribute %q is ambiguous: prefix it with its schema URN", label)
		}
	}
	return resolved{}, invalidFilter("unknown attribute %q in filter", label)
}

// common resolves the attributes every resource has (RFC 7643 section 3.1)
// and the membership attributes, which the store maps to columns. ok is
// false when name is none of them.
func (t *translator) common(name, sub, label string) (r resolved, ok bool, err error) {
	switch {
	case strings.EqualFold(name, "id"), strings.EqualFold(name, "externalId"):
		canonical := "id"
		if strings.EqualFold(name, "externalId") {
			canonical = "externalId"
		}
		if sub != "" {
			return resolved{}, true, invalidFilter("attribute %q has no sub-attributes", canonical)
		}
		// Both are case-exact (RFC 7643 section 3.1).
		a := schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{Name: canonical, CaseExact: true}))
		return resolved{path: store.AttrPath{Name: canonical}, top: a, leaf: a}, true, nil
	case strings.EqualFold(name, "meta"):
		var canonical string
		switch {
		case strings.EqualFold(sub, "created"):
			canonical = "created"
		case strings.EqualFold(sub, "lastModified"):
			canonical = "lastModified"
		default:
			return resolved{}, true, invalidFilter("%q is not supported in filters; use meta.created or meta.lastModified", label)
		}
		leaf := schema.SimpleCoreAttribute(schema.SimpleDateTimeParams(schema.DateTimeParams{Name: canonical}))
		top := schema.ComplexCoreAttribute(schema.ComplexParams{
			Name:          "meta",
			SubAttributes: []schema.SimpleParams{schema.SimpleDateTimeParams(schema.DateTimeParams{Name: canonical})},
		})
		return resolved{path: store.AttrPath{Name: "meta", Sub: canonical}, top: top, leaf: leaf, time: true}, true, nil
	}
	var canonical string
	switch {
	case t.s.Kind == store.KindGroup && strings.EqualFold(name, "members"):
		canonical = "members"
	case t.s.Kind == store.KindUser && strings.EqualFold(name, "groups"):
		canonical = "groups"
	default:
		return resolved{}, false, nil
	}
	// The store keeps ids here, matched exactly, whatever caseExact the
	// schema gives members.value (elimity's core schema says false).
	top := schema.ComplexCoreAttribute(schema.ComplexParams{
		Name:        canonical,
		MultiValued: true,
		SubAttributes: []schema.SimpleParams{
			schema.SimpleStringParams(schema.StringParams{Name: "value", CaseExact: true}),
		},
	})
	r = resolved{path: store.AttrPath{Name: canonical, MultiValued: true}, top: top, leaf: top, special: true}
	switch {
	case sub == "":
	case strings.EqualFold(sub, "value"):
		r.path.Sub = "value"
		r.leaf, _ = top.SubAttributes().ContainsAttribute("value")
	default:
		return resolved{}, true, unsupportedSpecialSub(canonical, label)
	}
	return r, true, nil
}

func unsupportedSpecialSub(canonical, label string) error {
	return invalidFilter("%q is not supported in filters; use %s or %s.value", label, canonical, canonical)
}

// build resolves the optional sub-attribute of a schema attribute.
func build(urn string, a schema.CoreAttribute, sub, label string) (resolved, error) {
	if err := filterable(a, label); err != nil {
		return resolved{}, err
	}
	r := resolved{
		path: store.AttrPath{Schema: urn, Name: a.Name(), MultiValued: a.MultiValued()},
		top:  a,
		leaf: a,
	}
	if sub == "" {
		return r, nil
	}
	if !a.HasSubAttributes() {
		return resolved{}, invalidFilter("attribute %q has no sub-attributes (in %q)", a.Name(), label)
	}
	s, ok := a.SubAttributes().ContainsAttribute(sub)
	if !ok {
		return resolved{}, invalidFilter("attribute %q has no sub-attribute %q", a.Name(), sub)
	}
	if err := filterable(s, label); err != nil {
		return resolved{}, err
	}
	r.path.Sub = s.Name()
	r.leaf = s
	return r, nil
}

// filterable rejects attributes a filter must not probe: a writeOnly or
// returned=never attribute (password) would otherwise leak through co/sw
// queries one character at a time.
func filterable(a schema.CoreAttribute, label string) error {
	if a.Returned() == "never" || a.Mutability() == "writeOnly" {
		return invalidFilter("attribute %q cannot be used in filters", label)
	}
	return nil
}

// sub resolves a path inside r's value filter (`emails[type eq "work"]`):
// a bare sub-attribute name of r.top.
func (r resolved) sub(ap filter.AttributePath) (resolved, error) {
	label := r.path.String() + "." + ap.String()
	if ap.URIPrefix != nil || ap.SubAttribute != nil {
		return resolved{}, invalidFilter("%q: a value filter names plain sub-attributes of %q", label, r.path.String())
	}
	s, ok := r.top.SubAttributes().ContainsAttribute(ap.AttributeName)
	if !ok {
		if r.special {
			return resolved{}, unsupportedSpecialSub(r.path.Name, label)
		}
		return resolved{}, invalidFilter("attribute %q has no sub-attribute %q", r.path.String(), ap.AttributeName)
	}
	if err := filterable(s, label); err != nil {
		return resolved{}, err
	}
	out := r
	out.path.Sub = s.Name()
	out.leaf = s
	return out, nil
}
