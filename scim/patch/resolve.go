package patch

import (
	"fmt"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"
)

// scope is where an attribute lives in the stored map: the resource itself
// (core) or the object under an extension's URN key.
type scope struct {
	ext *schema.Schema // nil: core
}

// container returns the map holding the scope's attributes, ready to be
// written: an existing extension object is replaced by a private copy of
// itself (res may share it with Apply's input). A missing extension object
// is created when create is set, else container returns nil.
func (sc scope) container(res map[string]any, create bool) map[string]any {
	if sc.ext == nil {
		return res
	}
	if _, v, ok := lookup(res, sc.ext.ID); ok {
		if m, ok := v.(map[string]any); ok {
			own := shallowMap(m)
			setKey(res, sc.ext.ID, own)
			return own
		}
	}
	if !create {
		return nil
	}
	m := map[string]any{}
	setKey(res, sc.ext.ID, m)
	return m
}

// dropIfEmpty removes an extension object that an operation left empty, so
// that an emptied extension does not linger as {}.
func (sc scope) dropIfEmpty(res map[string]any) {
	if sc.ext == nil {
		return
	}
	if _, v, ok := lookup(res, sc.ext.ID); ok {
		if m, ok := v.(map[string]any); ok && len(m) == 0 {
			deleteKey(res, sc.ext.ID)
		}
	}
}

// target is a resolved PATCH path.
type target struct {
	scope  scope
	whole  bool // the whole extension object, not one attribute
	attr   schema.CoreAttribute
	sub    *schema.CoreAttribute // a sub-attribute of attr, or nil
	filter filter.Expression     // value filter on a multi-valued attr, or nil
}

type resolveErr struct {
	typ scimerrors.ScimType
	msg string
}

func invalidPath(format string, args ...any) *resolveErr {
	return &resolveErr{typ: scimerrors.ScimTypeInvalidPath, msg: fmt.Sprintf(format, args...)}
}

// externalIDAttr is the common attribute elimity adds to every resource
// type's schema (schemaWithCommon); the core schemas do not declare it.
func externalIDAttr() schema.CoreAttribute {
	return schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
		CaseExact:  true,
		Mutability: schema.AttributeMutabilityReadWrite(),
		Name:       schema.CommonAttributeExternalID,
		Uniqueness: schema.AttributeUniquenessNone(),
	}))
}

// containerScope reports whether key names a schema (core or extension)
// whose attributes a pathless value nests under that key.
func (s Schema) containerScope(key string) (scope, bool) {
	if s.Core.ID != "" && strings.EqualFold(key, s.Core.ID) {
		return scope{}, true
	}
	for i := range s.Extensions {
		if strings.EqualFold(key, s.Extensions[i].ID) {
			return scope{ext: &s.Extensions[i]}, true
		}
	}
	return scope{}, false
}

// findAttr looks name up in one scope.
func (s Schema) findAttr(sc scope, name string) (schema.CoreAttribute, bool) {
	if sc.ext != nil {
		return sc.ext.Attributes.ContainsAttribute(name)
	}
	if a, ok := s.Core.Attributes.ContainsAttribute(name); ok {
		return a, true
	}
	if strings.EqualFold(name, schema.CommonAttributeExternalID) {
		return externalIDAttr(), true
	}
	return schema.CoreAttribute{}, false
}

// resolve turns a parsed path into a target. in restricts the lookup to one
// scope (keys inside a URN object of a pathless value); nil means: a URN
// prefix picks the scope, else the core schema, else the first extension
// that declares the attribute (Entra's old docs send the enterprise
// "manager" unqualified).
func (s Schema) resolve(p filter.Path, in *scope) (target, *resolveErr) {
	ap := p.AttributePath
	name := ap.AttributeName
	if name == "" {
		return target{}, invalidPath("empty attribute name")
	}
	var scopes []scope
	if uri := ap.URI(); uri != "" {
		// "urn:…:enterprise:2.0:User" parses as URI "urn:…:2.0" plus
		// attribute "User": the extension object as a whole.
		if ap.SubAttribute == nil && p.ValueExpression == nil && p.SubAttribute == nil {
			if sc, ok := s.containerScope(uri + ":" + name); ok && sc.ext != nil && (in == nil || in.ext == sc.ext) {
				return target{scope: sc, whole: true}, nil
			}
		}
		sc, ok := s.containerScope(uri)
		if !ok {
			return target{}, invalidPath("unknown schema %q", truncate(uri))
		}
		if in != nil && in.ext != sc.ext {
			return target{}, invalidPath("schema %q inside the object of another schema", truncate(uri))
		}
		scopes = []scope{sc}
	} else if in != nil {
		scopes = []scope{*in}
	} else {
		scopes = append(scopes, scope{})
		for i := range s.Extensions {
			scopes = append(scopes, scope{ext: &s.Extensions[i]})
		}
	}

	var (
		t     target
		found bool
	)
	for _, sc := range scopes {
		if a, ok := s.findAttr(sc, name); ok {
			t, found = target{scope: sc, attr: a}, true
			break
		}
	}
	if !found {
		if scopes[0].ext == nil {
			switch strings.ToLower(name) {
			case "id", "meta", "schemas":
				return target{}, &resolveErr{typ: scimerrors.ScimTypeMutability, msg: name + " is read-only"}
			}
		}
		return target{}, invalidPath("unknown attribute %q", truncate(name))
	}

	attrSub, pathSub := ap.SubAttributeName(), p.SubAttributeName()
	if attrSub != "" && (pathSub != "" || p.ValueExpression != nil) {
		return target{}, invalidPath("malformed path")
	}
	subName := attrSub
	if subName == "" {
		subName = pathSub
	}
	if p.ValueExpression != nil {
		if !t.attr.MultiValued() {
			return target{}, invalidPath("%s is single-valued and takes no filter", t.attr.Name())
		}
		if err := validateFilter(p.ValueExpression, t.attr); err != nil {
			return target{}, invalidPath("filter: %s", err.Error())
		}
		t.filter = p.ValueExpression
	}
	if subName != "" {
		if !t.attr.HasSubAttributes() {
			return target{}, invalidPath("%s has no sub-attributes", t.attr.Name())
		}
		sa, ok := t.attr.SubAttributes().ContainsAttribute(subName)
		if !ok {
			return target{}, invalidPath("%s has no sub-attribute %q", t.attr.Name(), truncate(subName))
		}
		t.sub = &sa
	}
	return t, nil
}

// subAttr finds the attribute a value filter on a (multi-valued) attribute
// may name: a sub-attribute, or "value" for a multi-valued simple attribute.
func subAttr(a schema.CoreAttribute, name string) (schema.CoreAttribute, bool) {
	if a.AttributeType() == "complex" {
		return a.SubAttributes().ContainsAttribute(name)
	}
	if strings.EqualFold(name, "value") {
		return a, true
	}
	return schema.CoreAttribute{}, false
}

// validateFilter checks that a value filter only names sub-attributes of a,
// like elimity does, so that a typo is an error rather than "no match".
func validateFilter(e filter.Expression, a schema.CoreAttribute) error {
	switch e := e.(type) {
	case *filter.AttributeExpression:
		if e == nil {
			return fmt.Errorf("empty expression")
		}
		if e.AttributePath.URI() != "" || e.AttributePath.SubAttribute != nil {
			return fmt.Errorf("%q is not a sub-attribute of %s", truncate(e.AttributePath.String()), a.Name())
		}
		if _, ok := subAttr(a, e.AttributePath.AttributeName); !ok {
			return fmt.Errorf("%q is not a sub-attribute of %s", truncate(e.AttributePath.AttributeName), a.Name())
		}
		return nil
	case *filter.LogicalExpression:
		if e == nil {
			return fmt.Errorf("empty expression")
		}
		if err := validateFilter(e.Left, a); err != nil {
			return err
		}
		return validateFilter(e.Right, a)
	case *filter.NotExpression:
		if e == nil {
			return fmt.Errorf("empty expression")
		}
		return validateFilter(e.Expression, a)
	default:
		return fmt.Errorf("unsupported expression")
	}
}
