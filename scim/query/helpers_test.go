package query

import (
	"errors"
	"net/http"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/schema"

	"github.com/scimbridge/scimbridge/store"
)

const (
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	customURN     = "urn:example:params:scim:schemas:extension:custom:2.0:User"
)

// customExtension has one attribute of every type the enterprise extension
// lacks, a write-only one, and costCenter (also in the enterprise
// extension) to make an unprefixed name ambiguous.
func customExtension() schema.Schema {
	return schema.Schema{
		ID: customURN,
		Attributes: []schema.CoreAttribute{
			schema.SimpleCoreAttribute(schema.SimpleNumberParams(schema.NumberParams{Name: "level", Type: schema.AttributeTypeInteger()})),
			schema.SimpleCoreAttribute(schema.SimpleNumberParams(schema.NumberParams{Name: "score", Type: schema.AttributeTypeDecimal()})),
			schema.SimpleCoreAttribute(schema.SimpleBooleanParams(schema.BooleanParams{Name: "vip"})),
			schema.SimpleCoreAttribute(schema.SimpleDateTimeParams(schema.DateTimeParams{Name: "hireDate"})),
			schema.SimpleCoreAttribute(schema.SimpleBinaryParams(schema.BinaryParams{Name: "badge"})),
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{Name: "badgeCode", CaseExact: true})),
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{Name: "pin", Mutability: schema.AttributeMutabilityWriteOnly()})),
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{Name: "costCenter"})),
		},
	}
}

func userSchema() Schema {
	return Schema{
		Kind:       store.KindUser,
		Core:       schema.CoreUserSchema(),
		Extensions: []schema.Schema{schema.ExtensionEnterpriseUser(), customExtension()},
	}
}

func groupSchema() Schema {
	return Schema{Kind: store.KindGroup, Core: schema.CoreGroupSchema()}
}

// path builds a core AttrPath; mv marks it multi-valued.
func path(name, sub string, mv bool) store.AttrPath {
	return store.AttrPath{Name: name, Sub: sub, MultiValued: mv}
}

func cmpOp(p store.AttrPath, op store.Operator, v any, exact bool) store.Compare {
	return store.Compare{Path: p, Op: op, Value: v, CaseExact: exact}
}

// checkInvalidFilter asserts err is a ScimError value (not a pointer: the
// library turns those into 500s) with 400 invalidFilter and the detail.
func checkInvalidFilter(t *testing.T, err error, detail string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want invalidFilter %q", detail)
	}
	var se scimerrors.ScimError
	if !errors.As(err, &se) {
		t.Fatalf("err = %T %v, want a scimerrors.ScimError value", err, err)
	}
	if se.Status != http.StatusBadRequest || se.ScimType != scimerrors.ScimTypeInvalidFilter {
		t.Errorf("status, scimType = %d, %q; want 400, invalidFilter", se.Status, se.ScimType)
	}
	if se.Detail != detail {
		t.Errorf("detail = %q\n      want %q", se.Detail, detail)
	}
	// The server maps errors with errors.As on the value type; make sure
	// that is what it will see.
	if got := scimerrors.CheckScimError(err, http.MethodGet); got.Status != http.StatusBadRequest {
		t.Errorf("CheckScimError status = %d, want 400", got.Status)
	}
}
