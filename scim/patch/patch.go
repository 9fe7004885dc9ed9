package patch

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
)

// Schema describes the resource type: the core schema and its extensions
// (elimity schema.Schema values), the same ones the scim.ResourceType uses.
type Schema struct {
	Core       schema.Schema
	Extensions []schema.Schema
}

// Apply applies ops in order to a copy of res and returns the result; res is
// never modified. res is a SCIM resource's attributes as stored: canonical
// attribute names (the schema's spelling), extension attributes nested under
// their schema URN key, no "id"/"meta"/"groups"/"schemas". For groups,
// "members" is []any of map[string]any{"value": id, ...}.
//
// The copy is copy-on-write: nested maps and lists the operations do not
// change are shared between res and the result, so that adding one member
// to a large group does not copy every member. Treat both as read-only.
//
// The operations are applied atomically: on the first failing operation Apply
// returns a scimerrors.ScimError value (status 400) whose detail names the
// operation index and path, and no result.
//
// More than MaxOperations operations are refused (400 invalidValue) before
// any is applied.
func Apply(res map[string]any, ops []scim.PatchOperation, s Schema) (map[string]any, error) {
	if err := CheckCount(len(ops)); err != nil {
		return nil, err
	}
	out := shallowMap(res)
	for i, op := range ops {
		if err := s.applyOp(out, i, op); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// MaxOperations bounds the operations of one PATCH request. Each operation
// on a multi-valued attribute scans its elements, so 8,000 one-email adds in
// a 650 kB body took 18 s of CPU inside the store's single writer, blocking
// every other write.
// Guess: no IdP is known to send more than a few dozen operations (the
// Microsoft validator's verbose replace has 36); membership changes put many
// members in one operation's value, and the group member fast path
// (scim.memberOps) does not come here.
const MaxOperations = 1000

// CheckCount refuses more than MaxOperations operations (400 invalidValue),
// for every path a PATCH takes.
func CheckCount(n int) error {
	if n > MaxOperations {
		return scimerrors.ScimError{
			ScimType: scimerrors.ScimTypeInvalidValue,
			Detail:   fmt.Sprintf("a PATCH request may carry at most %d operations, this one has %d", MaxOperations, n),
			Status:   http.StatusBadRequest,
		}
	}
	return nil
}

// opCtx identifies the operation being applied, for error details.
type opCtx struct {
	index int
	op    string // lower case
	path  string // the path, or the key of a pathless value map; "" if none
}

func (c opCtx) fail(t scimerrors.ScimType, format string, args ...any) error {
	where := fmt.Sprintf("operation %d (%s", c.index, c.op)
	if c.path != "" {
		where += fmt.Sprintf(" %q", c.path)
	}
	where += ")"
	return scimerrors.ScimError{
		ScimType: t,
		Detail:   where + ": " + fmt.Sprintf(format, args...),
		Status:   http.StatusBadRequest,
	}
}

const (
	opAdd     = "add"
	opReplace = "replace"
	opRemove  = "remove"
)

func (s Schema) applyOp(res map[string]any, i int, op scim.PatchOperation) error {
	c := opCtx{index: i, op: strings.ToLower(op.Op)}
	switch c.op {
	case opAdd, opReplace, opRemove:
	default:
		return c.fail(scimerrors.ScimTypeInvalidValue, "unknown op %q, want add, replace or remove", truncate(op.Op))
	}
	if op.Path == nil {
		if c.op == opRemove {
			return c.fail(scimerrors.ScimTypeNoTarget, "remove needs a path")
		}
		m, ok := op.Value.(map[string]any)
		if !ok {
			return c.fail(scimerrors.ScimTypeInvalidValue, "an operation without path needs an object value")
		}
		return s.applyMap(res, c, m, nil)
	}
	c.path = truncate(op.Path.String())
	t, err := s.resolve(*op.Path, nil)
	if err != nil {
		return c.fail(err.typ, "%s", err.msg)
	}
	return s.applyTarget(res, c, t, op.Value)
}

// applyMap applies a pathless add/replace value: every key is a path of its
// own (plain, dotted, URN-qualified or value-filtered), and a key equal to a
// schema URN holds that schema's attributes. in restricts the keys to one
// schema (inside a URN container); nil means any.
func (s Schema) applyMap(res map[string]any, c opCtx, m map[string]any, in *scope) error {
	// Sorted so that results and errors do not depend on map order, and a
	// whole attribute ("name") is applied before its sub-attributes
	// ("name.givenName").
	for _, k := range sortedKeys(m) {
		v := m[k]
		kc := c
		kc.path = truncate(k)
		if in == nil {
			if sc, ok := s.containerScope(k); ok {
				if v == nil {
					if err := s.applyTarget(res, kc, target{scope: sc, whole: true}, nil); err != nil {
						return err
					}
					continue
				}
				sub, ok := v.(map[string]any)
				if !ok {
					return kc.fail(scimerrors.ScimTypeInvalidValue, "the value of a schema URN key must be an object")
				}
				if err := s.applyMap(res, kc, sub, &sc); err != nil {
					return err
				}
				continue
			}
		}
		p, err := parsePath(k)
		if err != nil {
			return kc.fail(scimerrors.ScimTypeInvalidPath, "not an attribute path")
		}
		t, rerr := s.resolve(p, in)
		if rerr != nil {
			return kc.fail(rerr.typ, "%s", rerr.msg)
		}
		if err := s.applyTarget(res, kc, t, v); err != nil {
			return err
		}
	}
	return nil
}

// applyTarget applies one operation to a resolved target.
func (s Schema) applyTarget(res map[string]any, c opCtx, t target, v any) error {
	if t.whole {
		return s.applyWholeScope(res, c, t.scope, v)
	}
	a := t.attr
	switch {
	case a.Mutability() == "readOnly":
		return c.fail(scimerrors.ScimTypeMutability, "%s is read-only", a.Name())
	case t.sub != nil && t.sub.Mutability() == "readOnly":
		return c.fail(scimerrors.ScimTypeMutability, "%s.%s is read-only", a.Name(), t.sub.Name())
	case a.Mutability() == "writeOnly":
		// Passwords (the only write-only attribute in the core schemas) are
		// accepted so that Okta's password sync does not fail, and dropped:
		// scimbridge never stores or provisions them.
		return nil
	}
	cont := t.scope.container(res, false)
	if cont == nil {
		if c.op == opRemove || v == nil {
			// Removing from an extension object that does not exist.
			if a.Required() && c.op == opRemove {
				return c.fail(scimerrors.ScimTypeMutability, "%s is required and cannot be removed", a.Name())
			}
			if a.Required() {
				return c.fail(scimerrors.ScimTypeInvalidValue, "%s is required and cannot be null", a.Name())
			}
			return nil
		}
		cont = t.scope.container(res, true)
	}
	if a.Mutability() == "immutable" {
		if err := checkImmutable(c, cont, a); err != nil {
			return err
		}
	}
	var err error
	switch {
	case !a.MultiValued() && t.sub == nil && a.AttributeType() == "complex":
		err = applyComplex(c, cont, a, v)
	case !a.MultiValued() && t.sub == nil:
		err = applySimple(c, cont, a, v)
	case !a.MultiValued():
		err = applySubOfComplex(c, cont, a, *t.sub, v)
	case t.filter == nil && t.sub == nil:
		err = applyMultiWhole(c, cont, a, v)
	default:
		err = applyMultiFiltered(c, cont, a, t.filter, t.sub, v)
	}
	if err != nil {
		return err
	}
	t.scope.dropIfEmpty(res)
	return nil
}

// checkImmutable allows an immutable attribute to be set only while it has no
// value (RFC 7643 §2.2); multi-valued ones may also gain elements by add.
func checkImmutable(c opCtx, cont map[string]any, a schema.CoreAttribute) error {
	if _, cur, ok := lookup(cont, a.Name()); !ok || cur == nil {
		return nil
	}
	if c.op == opAdd && a.MultiValued() {
		return nil
	}
	return c.fail(scimerrors.ScimTypeMutability, "%s is immutable", a.Name())
}

// applyWholeScope applies an operation whose target is an extension object
// as a whole (the key "urn:…:enterprise:2.0:User" in a pathless value, or the
// URN as a path).
func (s Schema) applyWholeScope(res map[string]any, c opCtx, sc scope, v any) error {
	if c.op == opRemove || v == nil {
		if sc.ext == nil {
			return c.fail(scimerrors.ScimTypeMutability, "the core schema cannot be removed")
		}
		for _, a := range sc.ext.Attributes {
			if a.Required() {
				return c.fail(scimerrors.ScimTypeMutability, "%s is required and cannot be removed", a.Name())
			}
		}
		deleteKey(res, sc.ext.ID)
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return c.fail(scimerrors.ScimTypeInvalidValue, "the value of a schema URN must be an object")
	}
	return s.applyMap(res, c, m, &sc)
}

func truncate(s string) string {
	const limit = 200
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}
