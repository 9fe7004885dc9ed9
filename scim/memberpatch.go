package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/internal/jsonenc"
	"github.com/scimbridge/scimbridge/scim/patch"
)

// PATCH /Groups/{id} with membership operations only, without elimity.
//
// For Okta's and Entra's membership PATCHes of a 1000-member group,
// elimity's validator parsed every operation's path with the PEG filter
// parser (about 0.3 ms each, twice: NormalizeBody parses it too), and its
// response encoded the whole member list through a map. Requests whose
// operations are all forms memberOps handles are answered here: the same
// handler (groupHandler.Patch: If-Match, the store, errors), the same
// response (status, ETag, body with the same members and attributes).
// Anything else, including every malformed request, goes to elimity, so
// its error answers stay as they are.

const patchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// rawPatchOp is one operation of a PATCH body, its value not decoded yet.
type rawPatchOp struct {
	Op    string
	Path  string
	Value json.RawMessage
}

// decodePatchOps reads a PatchOp body for the fast paths: exactly the
// PatchOp schema, at least one operation, no unknown member and nothing after
// the object; false for anything else, which elimity then answers.
func decodePatchOps(body []byte) ([]rawPatchOp, bool) {
	var req struct {
		Schemas    []string
		Operations []rawPatchOp
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || dec.More() {
		return nil, false
	}
	if len(req.Schemas) != 1 || req.Schemas[0] != patchOpSchema || len(req.Operations) == 0 {
		return nil, false
	}
	return req.Operations, true
}

// memberPatchOps reads a PATCH body whose operations are all membership
// forms (see memberOps) into the operations elimity would hand the
// handler; false for anything else.
func memberPatchOps(body []byte) ([]scim.PatchOperation, bool) {
	rawOps, ok := decodePatchOps(body)
	if !ok {
		return nil, false
	}
	ops := make([]scim.PatchOperation, 0, len(rawOps))
	members := func() *filter.Path {
		return &filter.Path{AttributePath: filter.AttributePath{AttributeName: attrMembers}}
	}
	for _, o := range rawOps {
		var value any
		if len(o.Value) > 0 && !bytes.Equal(o.Value, []byte("null")) {
			list, ok := memberValueList(o.Value)
			if !ok {
				return nil, false
			}
			value = list
		}
		switch {
		case strings.EqualFold(o.Op, "add") && strings.EqualFold(o.Path, attrMembers) && value != nil:
			ops = append(ops, scim.PatchOperation{Op: "add", Path: members(), Value: value})
		case strings.EqualFold(o.Op, "remove") && strings.EqualFold(o.Path, attrMembers) && value != nil:
			ops = append(ops, scim.PatchOperation{Op: "remove", Path: members(), Value: value})
		case strings.EqualFold(o.Op, "remove") && value == nil:
			id, ok := memberFilterID(o.Path)
			if !ok {
				return nil, false
			}
			p := members()
			p.ValueExpression = &filter.AttributeExpression{
				AttributePath: filter.AttributePath{AttributeName: "value"}, Operator: filter.EQ, CompareValue: id,
			}
			ops = append(ops, scim.PatchOperation{Op: "remove", Path: p, Value: nil})
		default:
			return nil, false
		}
	}
	return ops, true
}

// memberValueList reads [{"value": id, ...}, ...] where every member has a
// non-empty string value and nothing besides but a string display and a
// type of User or Group (what elimity's validation of the members
// sub-attributes surely accepts; anything else is left to it).
func memberValueList(raw json.RawMessage) ([]any, bool) {
	var list []map[string]any
	if err := json.Unmarshal(raw, &list); err != nil || len(list) == 0 {
		return nil, false
	}
	out := make([]any, 0, len(list))
	for _, m := range list {
		if m == nil {
			return nil, false
		}
		hasValue := false
		for k, v := range m {
			s, ok := v.(string)
			if !ok {
				return nil, false
			}
			switch {
			case k == "value":
				hasValue = strings.TrimSpace(s) != ""
			case k == "display":
			case k == "type" && (s == "User" || s == "Group"):
			default:
				return nil, false
			}
		}
		if !hasValue {
			return nil, false
		}
		out = append(out, map[string]any(m))
	}
	return out, true
}

// memberFilterID reads exactly `members[value eq "id"]` (names and
// operator in any letter case) where id has no escapes.
func memberFilterID(path string) (string, bool) {
	const prefix, suffix = `members[value eq "`, `"]`
	if len(path) < len(prefix)+len(suffix) || !strings.EqualFold(path[:len(prefix)], prefix) || !strings.HasSuffix(path, suffix) {
		return "", false
	}
	id := path[len(prefix) : len(path)-len(suffix)]
	if id == "" || strings.ContainsAny(id, "\"\\") || !utf8.ValidString(id) {
		return "", false
	}
	for _, c := range id {
		if c < 0x20 {
			return "", false
		}
	}
	return id, true
}

// serveDirectPatch answers a PATCH of /Groups/{id} whose body
// memberPatchOps accepts, or of /Users/{id} whose body userPatchOps
// accepts, as elimity would; false (nothing written) for anything else.
func (s *Server) serveDirectPatch(w http.ResponseWriter, r *http.Request, ts *tenantService, endpoint, id string, body []byte) bool {
	var (
		ops     []scim.PatchOperation
		ok      bool
		apply   func(*http.Request, string, []scim.PatchOperation) (scim.Resource, error)
		rt      string
		schemas []string
	)
	switch endpoint {
	case "Groups":
		ops, ok = memberPatchOps(body)
		apply, rt, schemas = ts.groups.Patch, "Group", []string{ts.groups.query.Core.ID}
	case "Users":
		ops, ok = userPatchOps(body, ts.users.plain)
		apply, rt, schemas = ts.users.Patch, "User", []string{ts.users.query.Core.ID}
		for _, e := range ts.users.query.Extensions {
			schemas = append(schemas, e.ID)
		}
	}
	if !ok {
		return false
	}
	// Membership operations are cheap each, but the limit is the same for
	// every PATCH (README): 11,500 of them took 0.8 s.
	if err := patch.CheckCount(len(ops)); err != nil {
		writeSCIMError(w, err)
		return true
	}
	res, err := apply(r, id, ops)
	s.writeWritten(w, r, http.MethodPatch, res, err, rt, ts.users.links.base+"/"+endpoint+"/"+url.PathEscape(id), schemas)
	return true
}

// writeWritten answers a write (POST or PATCH) the handler did or refused,
// as elimity answers it: the error; 204 for a PATCH answered without a
// resource; else the resource, rendered by hand (resourceResponse), with
// its ETag (and for a POST, 201 and its Location).
func (s *Server) writeWritten(w http.ResponseWriter, r *http.Request, method string, res scim.Resource, err error, rt, location string, schemas []string) {
	h := w.Header()
	h.Set("Content-Type", "application/scim+json")
	if err != nil {
		se := scimerrors.CheckScimError(err, method)
		writeError(w, se.Status, se.ScimType, se.Detail)
		return
	}
	if s.changed != nil {
		s.changed()
	}
	if method == http.MethodPatch && len(res.Attributes) == 0 {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	bp := s.getResponseBuf()
	defer s.putResponseBuf(bp)
	out, err := resourceResponse((*bp)[:0], res, rt, location, schemas)
	*bp = out
	if err != nil {
		// The change is stored; elimity answers 500 here too.
		s.log.ErrorContext(r.Context(), "encode resource", "err", err)
		writeError(w, http.StatusInternalServerError, "", "Internal error.")
		return
	}
	status := http.StatusOK
	if method == http.MethodPost {
		status = http.StatusCreated
		h.Set("Location", location)
	}
	if res.Meta.Version != "" {
		h.Set("Etag", res.Meta.Version)
	}
	h.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	_, _ = w.Write(out)
}

// elimityMeta is elimity's meta object, field for field.
type elimityMeta struct {
	ResourceType string `json:"resourceType"`
	Created      string `json:"created,omitempty"`
	LastModified string `json:"lastModified,omitempty"`
	Location     string `json:"location,omitempty"`
	Version      string `json:"version,omitempty"`
}

// appendJSON appends m as json.Marshal writes it (field order, omitempty,
// HTML-safe escaping), without reflection.
func (m elimityMeta) appendJSON(b []byte) []byte {
	b = append(b, `{"resourceType":`...)
	b = jsonenc.AppendString(b, m.ResourceType, true)
	for _, f := range [...]struct{ key, v string }{
		{`,"created":`, m.Created}, {`,"lastModified":`, m.LastModified}, {`,"location":`, m.Location}, {`,"version":`, m.Version},
	} {
		if f.v != "" {
			b = append(b, f.key...)
			b = jsonenc.AppendString(b, f.v, true)
		}
	}
	return append(b, '}')
}

// resourceResponse renders a resource the way elimity renders one (its
// attributes, id, externalId, schemas and meta), by hand (appendValue),
// except that a []memberJSON member list is written first: JSON objects
// are unordered, and this way the list is not walked twice.
func resourceResponse(out []byte, res scim.Resource, resourceType, location string, schemas []string) ([]byte, error) {
	doc := make(map[string]any, len(res.Attributes)+4)
	var members []memberJSON
	hasMembers := false
	for k, v := range res.Attributes {
		if ms, ok := v.([]memberJSON); ok && k == attrMembers {
			members, hasMembers = ms, true
			continue
		}
		doc[k] = v
	}
	doc["id"] = res.ID
	if res.ExternalID.Present() {
		doc["externalId"] = res.ExternalID.Value()
	}
	doc["schemas"] = schemas
	m := elimityMeta{ResourceType: resourceType, Location: location, Version: res.Meta.Version}
	if res.Meta.Created != nil {
		m.Created = res.Meta.Created.Format(time.RFC3339)
	}
	if res.Meta.LastModified != nil {
		m.LastModified = res.Meta.LastModified.Format(time.RFC3339)
	}
	doc["meta"] = m
	size := 512
	for _, m := range members {
		size += len(m.Ref) + len(m.Display) + len(m.Type) + len(m.Value) + 48
	}
	out = slices.Grow(out, size)
	if hasMembers {
		out = append(out, `{"members":`...)
		out = appendMembers(out, members)
		out = append(out, ',')
		rest, err := appendMap(nil, doc)
		if err != nil {
			return nil, err
		}
		return append(out, rest[1:]...), nil
	}
	return appendMap(out, doc)
}

// maxPooledResponse bounds the buffers kept: an answer for a rare huge group
// should not stay resident.
const maxPooledResponse = 1 << 20

// getResponseBuf returns a buffer for a PATCH answer: a large group's
// answer is ~150 KiB, and allocating (and zeroing) one per request was a
// tenth of its CPU, plus the garbage collection after it.
func (s *Server) getResponseBuf() *[]byte {
	if bp, ok := s.responseBufs.Get().(*[]byte); ok {
		return bp
	}
	return new([]byte)
}

func (s *Server) putResponseBuf(bp *[]byte) {
	if cap(*bp) <= maxPooledResponse {
		*bp = (*bp)[:0]
		s.responseBufs.Put(bp)
	}
}

// groupSchemaID is the core Group schema's URN.
const groupSchemaID = "urn:ietf:params:scim:schemas:core:2.0:Group"

// appendMembers writes members as encoding/json writes a []memberJSON.
//
// Escaping was the largest cost of a 1000-member response, so a $ref that
// is a prefix ending in '/' followed by the member's value is written as
// the prefix, escaped once per distinct prefix, and the value, escaped once
// for both fields: the same bytes, because an ASCII '/' ends any UTF-8
// sequence before it (so escaping the two parts apart escapes the same
// characters), and "User" and "Group" need no escaping.
func appendMembers(b []byte, members []memberJSON) []byte {
	var (
		prefix     string
		escPrefix  []byte // `"prefix` escaped, without the closing quote
		escValue   []byte // `"value"` escaped
		havePrefix bool
	)
	b = append(b, '[')
	for i, m := range members {
		if i > 0 {
			b = append(b, ',')
		}
		escValue = jsonenc.AppendString(escValue[:0], m.Value, true)
		b = append(b, `{"$ref":`...)
		if p, ok := strings.CutSuffix(m.Ref, m.Value); ok && strings.HasSuffix(p, "/") {
			if !havePrefix || p != prefix {
				prefix, havePrefix = p, true
				escPrefix = jsonenc.AppendString(escPrefix[:0], p, true)
				escPrefix = escPrefix[:len(escPrefix)-1]
			}
			b = append(b, escPrefix...)
			b = append(b, escValue[1:]...)
		} else {
			b = jsonenc.AppendString(b, m.Ref, true)
		}
		b = append(b, `,"display":`...)
		b = jsonenc.AppendString(b, m.Display, true)
		b = append(b, `,"type":`...)
		switch m.Type {
		case "User":
			b = append(b, `"User"`...)
		case "Group":
			b = append(b, `"Group"`...)
		default:
			b = jsonenc.AppendString(b, m.Type, true)
		}
		b = append(b, `,"value":`...)
		b = append(b, escValue...)
		b = append(b, '}')
	}
	return append(b, ']')
}
