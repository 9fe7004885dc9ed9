package scim

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"
)

// User PATCHes of plain attributes, without elimity's validator.
//
// {"op":"replace","path":"title","value":"Boss"} is the common user PATCH
// (Okta's profile pushes, Entra's attribute updates). elimity's validator
// parses every path with the PEG filter parser, a sixth of such a PATCH's
// CPU. Operations that set a singular, read-write string or boolean core
// attribute to a value of that type (the checks elimity's validator makes
// for them) are built here and applied by the same handler; anything else
// goes to elimity.

// plainAttrs maps the lower-cased names of the core attributes the direct
// path sets to their canonical names and types.
type plainAttrs map[string]plainAttr

type plainAttr struct {
	name    string
	boolean bool
}

// newPlainAttrs lists s's singular, read-write string and boolean
// attributes without canonical values.
func newPlainAttrs(s schema.Schema) plainAttrs {
	out := plainAttrs{}
	for _, a := range s.Attributes {
		if a.MultiValued() || a.Mutability() != "readWrite" || len(a.CanonicalValues()) != 0 {
			continue
		}
		switch a.AttributeType() {
		case "string":
			out[strings.ToLower(a.Name())] = plainAttr{name: a.Name()}
		case "boolean":
			out[strings.ToLower(a.Name())] = plainAttr{name: a.Name(), boolean: true}
		}
	}
	return out
}

// userPatchOps reads a PATCH body whose operations all add or replace a
// plainAttrs attribute with a value of its type; false for anything else.
func userPatchOps(body []byte, attrs plainAttrs) ([]scim.PatchOperation, bool) {
	rawOps, ok := decodePatchOps(body)
	if !ok {
		return nil, false
	}
	ops := make([]scim.PatchOperation, 0, len(rawOps))
	for _, o := range rawOps {
		op := strings.ToLower(o.Op)
		a, ok := attrs[strings.ToLower(o.Path)]
		if !ok || op != "add" && op != "replace" {
			return nil, false
		}
		var value any
		if a.boolean {
			var b bool
			if !bytes.Equal(o.Value, []byte("true")) && !bytes.Equal(o.Value, []byte("false")) {
				return nil, false
			}
			b = o.Value[0] == 't'
			value = b
		} else {
			var s string
			if len(o.Value) == 0 || o.Value[0] != '"' || json.Unmarshal(o.Value, &s) != nil {
				return nil, false
			}
			value = s
		}
		// The path as elimity's parser gives it: the name as sent.
		ops = append(ops, scim.PatchOperation{Op: op, Path: &filter.Path{AttributePath: filter.AttributePath{AttributeName: o.Path}}, Value: value})
	}
	return ops, true
}
