package patch

import (
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
)

// applySimple applies an operation to a singular simple attribute
// (userName, active, urn:…:enterprise:2.0:User:department).
func applySimple(c opCtx, cont map[string]any, a schema.CoreAttribute, v any) error {
	if c.op == opRemove {
		if a.Required() {
			return c.fail(scimerrors.ScimTypeMutability, "%s is required and cannot be removed", a.Name())
		}
		deleteKey(cont, a.Name())
		return nil
	}
	if v == nil {
		// value null removes the attribute (Entra's SCIM_Null_Update_Test;
		// RFC 7643 §2.5 treats null as unassigned).
		if a.Required() {
			return c.fail(scimerrors.ScimTypeInvalidValue, "%s is required and cannot be null", a.Name())
		}
		deleteKey(cont, a.Name())
		return nil
	}
	cv, ok := coerceSimple(a, v)
	if !ok {
		return c.fail(scimerrors.ScimTypeInvalidValue, "%s must be a %s", a.Name(), a.AttributeType())
	}
	if cv == "" {
		// "" for an optional string is not stored: it reads back as absent,
		// which Entra's null/empty update test accepts, and keeps "" from
		// reaching Atlassian as a value.
		if a.Required() {
			return c.fail(scimerrors.ScimTypeInvalidValue, "%s is required and cannot be empty", a.Name())
		}
		deleteKey(cont, a.Name())
		return nil
	}
	setKey(cont, a.Name(), cv)
	return nil
}

// isReference reports a singular complex attribute that points at another
// resource (the enterprise manager: value, $ref, displayName). Only its
// value is stored; $ref and displayName are derived by the server.
func isReference(a schema.CoreAttribute) bool {
	if a.MultiValued() || a.AttributeType() != "complex" {
		return false
	}
	_, hasValue := a.SubAttributes().ContainsAttribute("value")
	_, hasRef := a.SubAttributes().ContainsAttribute("$ref")
	return hasValue && hasRef
}

// referenceID extracts the id from the shapes IdPs send for a reference
// (idp-scim-clients.md §3.8): "id", {"value": id[, "$ref": …]} or
// [{"$ref": …, "value": id}]. "" means: remove the reference.
func referenceID(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", true
	case string:
		return strings.TrimSpace(x), true
	case map[string]any:
		_, id, ok := lookup(x, "value")
		if !ok {
			// Guess: OneLogin's enterprise template names the id managerId
			// (idp-scim-clients.md §4).
			if _, id, ok = lookup(x, "managerId"); !ok {
				return "", false
			}
		}
		if id == nil {
			return "", true
		}
		s, ok := id.(string)
		return strings.TrimSpace(s), ok
	case []any:
		switch len(x) {
		case 0:
			return "", true
		case 1:
			if _, nested := x[0].([]any); nested {
				return "", false
			}
			return referenceID(x[0])
		}
	}
	return "", false
}

// applyComplex applies an operation to a singular complex attribute as a
// whole (name, manager). add and replace merge the given sub-attributes into
// the existing ones (RFC 7644 §3.5.2.1 and §3.5.2.3: sub-attributes not in
// the value are left unchanged).
func applyComplex(c opCtx, cont map[string]any, a schema.CoreAttribute, v any) error {
	if c.op == opRemove || v == nil {
		if a.Required() {
			if c.op == opRemove {
				return c.fail(scimerrors.ScimTypeMutability, "%s is required and cannot be removed", a.Name())
			}
			return c.fail(scimerrors.ScimTypeInvalidValue, "%s is required and cannot be null", a.Name())
		}
		deleteKey(cont, a.Name())
		return nil
	}
	if isReference(a) {
		id, ok := referenceID(v)
		if !ok {
			return c.fail(scimerrors.ScimTypeInvalidValue, `%s must be an id, {"value": id} or [{"value": id}]`, a.Name())
		}
		if id == "" {
			// Entra and the MS validator remove the manager with
			// replace {"value": ""}.
			if a.Required() {
				return c.fail(scimerrors.ScimTypeInvalidValue, "%s is required and cannot be empty", a.Name())
			}
			deleteKey(cont, a.Name())
			return nil
		}
		setKey(cont, a.Name(), map[string]any{"value": id})
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return c.fail(scimerrors.ScimTypeInvalidValue, "%s must be an object", a.Name())
	}
	_, curV, _ := lookup(cont, a.Name())
	cur := shallowMap(asMap(curV))
	for _, sa := range a.SubAttributes() {
		_, sv, ok := lookup(m, sa.Name())
		if !ok || sa.Mutability() == "readOnly" {
			// Unknown and read-only sub-attributes are ignored, as elimity
			// and POST do.
			continue
		}
		if sv == nil {
			deleteKey(cur, sa.Name())
			continue
		}
		cv, ok := coerceSimple(sa, sv)
		if !ok {
			return c.fail(scimerrors.ScimTypeInvalidValue, "%s.%s must be a %s", a.Name(), sa.Name(), sa.AttributeType())
		}
		if cv == "" {
			deleteKey(cur, sa.Name())
			continue
		}
		setKey(cur, sa.Name(), cv)
	}
	if len(cur) == 0 {
		deleteKey(cont, a.Name())
		return nil
	}
	setKey(cont, a.Name(), cur)
	return nil
}

// applySubOfComplex applies an operation to one sub-attribute of a singular
// complex attribute (name.givenName, manager.value).
func applySubOfComplex(c opCtx, cont map[string]any, a, sa schema.CoreAttribute, v any) error {
	_, curV, _ := lookup(cont, a.Name())
	cur := asMap(curV)
	if cur != nil {
		cur = shallowMap(cur) // shared with Apply's input until now
	}
	if sa.Mutability() == "immutable" && cur != nil {
		if _, old, ok := lookup(cur, sa.Name()); ok && old != nil {
			return c.fail(scimerrors.ScimTypeMutability, "%s.%s is immutable", a.Name(), sa.Name())
		}
	}
	ref := isReference(a)
	remove := c.op == opRemove || v == nil
	var cv any
	if !remove {
		var ok bool
		if cv, ok = coerceSimple(sa, v); !ok {
			return c.fail(scimerrors.ScimTypeInvalidValue, "%s.%s must be a %s", a.Name(), sa.Name(), sa.AttributeType())
		}
		remove = cv == ""
	}
	if remove {
		if cur == nil {
			return nil
		}
		if ref && strings.EqualFold(sa.Name(), "value") {
			// A reference without an id is no reference.
			deleteKey(cont, a.Name())
			return nil
		}
		deleteKey(cur, sa.Name())
		if len(cur) == 0 {
			deleteKey(cont, a.Name())
		} else {
			setKey(cont, a.Name(), cur)
		}
		return nil
	}
	if ref && !strings.EqualFold(sa.Name(), "value") {
		// Only a reference's id is stored; $ref is accepted and dropped.
		return nil
	}
	if cur == nil {
		cur = map[string]any{}
	}
	setKey(cur, sa.Name(), cv)
	setKey(cont, a.Name(), cur)
	return nil
}
