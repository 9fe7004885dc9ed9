package scim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/elimity-com/scim"
	"github.com/elimity-com/scim/schema"
)

// createValidator validates a POST body exactly as elimity's
// ResourceType.validate does, against a schema built once. elimity rebuilds
// the core schema plus externalId on every request, and building the
// externalId attribute compiles a regular expression to check its name:
// that and elimity's generic response encoding were a quarter of a create's
// CPU.
type createValidator struct {
	core       schema.Schema // the core schema with externalId, as elimity's schemaWithCommon
	extensions []scim.SchemaExtension
}

func newCreateValidator(rt scim.ResourceType) *createValidator {
	core := rt.Schema
	externalID := schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
		CaseExact:  true,
		Mutability: schema.AttributeMutabilityReadWrite(),
		Name:       schema.CommonAttributeExternalID,
		Uniqueness: schema.AttributeUniquenessNone(),
	}))
	attrs := make([]schema.CoreAttribute, len(core.Attributes), len(core.Attributes)+1)
	copy(attrs, core.Attributes)
	core.Attributes = append(attrs, externalID)
	return &createValidator{core: core, extensions: rt.SchemaExtensions}
}

// validate returns the attributes elimity would hand to the handler, or
// false where elimity would answer with an error (the caller then leaves the
// request to elimity, which writes that error).
func (v *createValidator) validate(raw []byte) (scim.ResourceAttributes, bool) {
	m, ok := decodeObject(raw)
	if !ok {
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&m); err != nil {
			return nil, false
		}
	}
	attrs, serr := v.core.Validate(m)
	if serr != nil {
		return nil, false
	}
	for _, ext := range v.extensions {
		field := m[ext.Schema.ID]
		if field == nil {
			if ext.Required {
				return nil, false
			}
			continue
		}
		ea, serr := ext.Schema.ValidateExtension(field)
		if serr != nil {
			return nil, false
		}
		attrs[ext.Schema.ID] = ea
	}
	return attrs, true
}

// serveDirectCreate answers a POST to /Users or /Groups whose body elimity
// would accept, as elimity would (twin-tested in create_internal_test.go);
// false, with nothing written, for a body elimity would refuse.
func (s *Server) serveDirectCreate(w http.ResponseWriter, r *http.Request, ts *tenantService, endpoint string, body []byte) bool {
	var (
		v       *createValidator
		create  func(*http.Request, scim.ResourceAttributes) (scim.Resource, error)
		rt      string
		schemas []string
	)
	switch endpoint {
	case "Users":
		v, create, rt, schemas = ts.createUsers, ts.users.Create, "User", ts.userSchemas
	case "Groups":
		v, create, rt, schemas = ts.createGroups, ts.groups.Create, "Group", ts.groupSchemas
	default:
		return false
	}
	attrs, ok := v.validate(body)
	if !ok {
		return false
	}
	res, err := create(r, attrs)
	s.writeWritten(w, r, http.MethodPost, res, err, rt, ts.users.links.base+"/"+endpoint+"/"+url.PathEscape(res.ID), schemas)
	return true
}

// resourceTypeSchemas is the "schemas" elimity puts in a response of the
// resource type: the core schema, then every extension.
func resourceTypeSchemas(rt scim.ResourceType) []string {
	out := []string{rt.Schema.ID}
	for _, e := range rt.SchemaExtensions {
		out = append(out, e.Schema.ID)
	}
	return out
}
