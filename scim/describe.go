package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"
	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/scim/patch"
)

// elimity's details for a refused resource body: the RFC's descriptions of
// the error types, which do not say what is wrong.
var genericDetails = map[string]bool{
	scimerrors.ScimErrorInvalidSyntax.Detail: true,
	scimerrors.ScimErrorInvalidValue.Detail:  true,
	scimerrors.ScimErrorInvalidPath.Detail:   true,
}

// serveResourceWrite hands a POST, PUT or PATCH of a User or Group to
// elimity and, when elimity refuses the body with one of its generic
// details, names what is wrong instead. A client that sent "active": "yes"
// read "A required value was missing, or the value specified was not
// compatible with the operation or attribute type, or resource schema." and
// had to guess which of its attributes was meant. describe gets elimity's
// scimType and returns the detail ("" when it cannot tell) and the scimType
// to answer with (elimity's, except a PATCH of a readOnly attribute, which
// RFC 7644 section 3.5.2 answers with mutability where elimity said
// invalidPath).
func (s *Server) serveResourceWrite(w http.ResponseWriter, r *http.Request, h http.Handler,
	describe func(scimType scimerrors.ScimType) (string, scimerrors.ScimType)) int {
	rec := &bufferedWriter{header: http.Header{}}
	h.ServeHTTP(rec, r)
	if rec.status == http.StatusBadRequest {
		var e struct {
			Detail   string `json:"detail"`
			ScimType string `json:"scimType"`
		}
		if json.Unmarshal(rec.buf.Bytes(), &e) == nil && genericDetails[e.Detail] {
			if d, t := describe(scimerrors.ScimType(e.ScimType)); d != "" {
				writeError(w, rec.status, t, d)
				return rec.status
			}
		}
	}
	for k, vs := range rec.header {
		w.Header()[k] = vs
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.buf.Bytes())
	return rec.status
}

// describeRefusal says what elimity's validation (createValidator, the same
// rules) finds wrong with a resource body, checking one attribute at a time
// with elimity's own validation; "" if it cannot tell.
func describeRefusal(body []byte, v *createValidator) string {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	if err := d.Decode(&m); err != nil || m == nil {
		return "The request body must be a JSON object (a SCIM resource)."
	}
	core := v.core
	if list, ok := m["schemas"].([]any); !ok || !containsString(list, core.ID) {
		return fmt.Sprintf(`"schemas" must be a list of schema URNs that contains %q (RFC 7643 section 3).`, core.ID)
	}
	seen := map[string]string{}
	for k := range m {
		lk := strings.ToLower(k)
		if prev, dup := seen[lk]; dup {
			a, b := prev, k
			if b < a {
				a, b = b, a
			}
			return fmt.Sprintf("%q and %q name the same attribute (attribute names are case-insensitive).", a, b)
		}
		seen[lk] = k
	}
	for _, a := range core.Attributes {
		one := schema.Schema{ID: core.ID, Attributes: []schema.CoreAttribute{a}}
		sub := map[string]any{"schemas": []any{core.ID}}
		k, val, present := lookup(m, a.Name())
		if present {
			sub[k] = val
		}
		if _, err := one.Validate(sub); err != nil {
			if !present || val == nil {
				return fmt.Sprintf("%s is required.", a.Name())
			}
			return fmt.Sprintf("%s must be %s.", a.Name(), expected(a))
		}
	}
	for _, ext := range v.extensions {
		field, present := m[ext.Schema.ID]
		if !present || field == nil {
			if ext.Required {
				return fmt.Sprintf("the %s extension is required.", ext.Schema.ID)
			}
			continue
		}
		em, ok := field.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s must be an object of the extension's attributes.", ext.Schema.ID)
		}
		for _, a := range ext.Schema.Attributes {
			one := schema.Schema{ID: ext.Schema.ID, Attributes: []schema.CoreAttribute{a}}
			sub := map[string]any{}
			k, val, present := lookup(em, a.Name())
			if present {
				sub[k] = val
			}
			if _, err := one.ValidateExtension(sub); err != nil {
				if !present || val == nil {
					return fmt.Sprintf("%s:%s is required.", ext.Schema.ID, a.Name())
				}
				return fmt.Sprintf("%s:%s must be %s.", ext.Schema.ID, a.Name(), expected(a))
			}
		}
	}
	return ""
}

func containsString(list []any, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// expected describes the values an attribute takes.
func expected(a schema.CoreAttribute) string {
	one := simpleType(a)
	if a.AttributeType() == "complex" {
		var subs []string
		for _, sa := range a.SubAttributes() {
			subs = append(subs, sa.Name()+": "+simpleType(sa))
		}
		sort.Strings(subs)
		one = "an object {" + strings.Join(subs, ", ") + "}"
		if a.MultiValued() {
			return "a list of objects {" + strings.Join(subs, ", ") + "}"
		}
		return one
	}
	if a.MultiValued() {
		return "a list of " + one + "s"
	}
	return one
}

func simpleType(a schema.CoreAttribute) string {
	switch t := a.AttributeType(); t {
	case "boolean":
		return "a boolean (true or false)"
	case "integer":
		return "an integer"
	case "decimal":
		return "a number"
	case "dateTime":
		return "an RFC 3339 date-time string"
	case "binary":
		return "a base64 string"
	case "reference":
		return "a URI string"
	case "complex":
		return "an object"
	default:
		return "a " + t
	}
}

// describePatchRefusal says what is wrong with a PATCH body elimity refused
// with a generic detail; "" if it cannot tell.
func describePatchRefusal(body []byte, sch patch.Schema, scimType scimerrors.ScimType) (string, scimerrors.ScimType) {
	var req map[string]any
	if err := json.Unmarshal(body, &req); err != nil || req == nil {
		return "The request body must be a JSON object (a PatchOp message).", scimType
	}
	if list, ok := req["schemas"].([]any); !ok || !containsString(list, patchOpSchema) {
		return fmt.Sprintf(`"schemas" must be a list that contains %q (RFC 7644 section 3.5.2).`, patchOpSchema), scimType
	}
	_, rawOps, _ := lookup(req, "Operations")
	ops, ok := rawOps.([]any)
	if !ok || len(ops) == 0 {
		return `"Operations" must be a non-empty list of operations (RFC 7644 section 3.5.2).`, scimType
	}
	for i, o := range ops {
		op, ok := o.(map[string]any)
		if !ok {
			return fmt.Sprintf("operation %d must be an object {op, path, value}.", i), scimType
		}
		_, name, _ := lookup(op, "op")
		opName, _ := name.(string)
		switch strings.ToLower(opName) {
		case "add", "replace":
			if _, v, _ := lookup(op, "value"); v == nil {
				return fmt.Sprintf("operation %d (%s): a value is required.", i, opName), scimType
			}
		case "remove":
		default:
			return fmt.Sprintf("operation %d: op must be add, replace or remove.", i), scimType
		}
		_, p, present := lookup(op, "path")
		if !present || p == nil {
			continue
		}
		path, ok := p.(string)
		if !ok {
			return fmt.Sprintf("operation %d (%s): path must be a string.", i, opName), scimType
		}
		if d, t := describePath(path, sch); d != "" {
			return fmt.Sprintf("operation %d (%s %q): %s", i, opName, path, d), t
		}
	}
	if scimType == scimerrors.ScimTypeInvalidPath {
		return "", scimType
	}
	return "An operation names an attribute that does not exist or cannot be changed, or gives it a value of the wrong type (see /Schemas).", scimType
}

// readOnlyCommon are the readOnly attributes every resource has (RFC 7643
// section 3.1) besides its schema's.
var readOnlyCommon = map[string]bool{"id": true, "meta": true, "schemas": true}

// describePath says what is wrong with a PATCH path: not a path at all, an
// attribute no schema of the resource has, or a readOnly one.
func describePath(path string, sch patch.Schema) (string, scimerrors.ScimType) {
	p, err := filter.ParsePath([]byte(path))
	if err != nil {
		return "not a valid attribute path (RFC 7644 section 3.5.2).", scimerrors.ScimTypeInvalidPath
	}
	s := sch.Core
	if p.AttributePath.URIPrefix != nil {
		uri := *p.AttributePath.URIPrefix
		found := strings.EqualFold(uri, sch.Core.ID)
		for _, e := range sch.Extensions {
			if strings.EqualFold(uri, e.ID) {
				s, found = e, true
			}
		}
		if !found {
			return fmt.Sprintf("%q is not a schema of this resource type (see /ResourceTypes).", uri), scimerrors.ScimTypeInvalidPath
		}
	}
	name := p.AttributePath.AttributeName
	if readOnlyCommon[strings.ToLower(name)] {
		return fmt.Sprintf("%s is readOnly (RFC 7643 section 3.1).", name), scimerrors.ScimTypeMutability
	}
	if strings.EqualFold(name, attrExternalID) {
		return "", ""
	}
	for _, a := range s.Attributes {
		if strings.EqualFold(a.Name(), name) {
			return "", ""
		}
	}
	return fmt.Sprintf("%q is not an attribute of %s (see /Schemas).", name, s.ID), scimerrors.ScimTypeInvalidPath
}
