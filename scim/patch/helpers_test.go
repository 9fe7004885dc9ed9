package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	"github.com/google/go-cmp/cmp"
	"github.com/scim2/filter-parser/v2"
)

const (
	enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	patchOpURN    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

func TestMain(m *testing.M) {
	// cmd/scimbridge sets this process-wide for Entra's "True"/"False".
	schema.SetAllowStringValues(true)
	os.Exit(m.Run())
}

func userSchema() Schema {
	return Schema{Core: schema.CoreUserSchema(), Extensions: []schema.Schema{schema.ExtensionEnterpriseUser()}}
}

func groupSchema() Schema {
	return Schema{Core: schema.CoreGroupSchema()}
}

// memHandler is a scim.ResourceHandler over an in-memory map that applies
// PATCH with Apply, like the real handlers do over the store. It also
// records the operations elimity delivered.
type memHandler struct {
	s Schema

	mu  sync.Mutex
	res map[string]map[string]any
	ops []scim.PatchOperation
}

func newMemHandler(s Schema) *memHandler {
	return &memHandler{s: s, res: map[string]map[string]any{}}
}

func (h *memHandler) put(id string, attrs map[string]any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.res[id] = attrs
}

func (h *memHandler) get(id string) map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.res[id]
}

func (h *memHandler) lastOps() []scim.PatchOperation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ops
}

func (h *memHandler) Create(*http.Request, scim.ResourceAttributes) (scim.Resource, error) {
	return scim.Resource{}, scimerrors.ScimError{Status: http.StatusNotImplemented}
}

func (h *memHandler) Get(_ *http.Request, id string) (scim.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r, ok := h.res[id]
	if !ok {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	return scim.Resource{ID: id, Attributes: r}, nil
}

func (h *memHandler) GetAll(*http.Request, scim.ListRequestParams) (scim.Page, error) {
	return scim.Page{}, nil
}

func (h *memHandler) Replace(*http.Request, string, scim.ResourceAttributes) (scim.Resource, error) {
	return scim.Resource{}, scimerrors.ScimError{Status: http.StatusNotImplemented}
}

func (h *memHandler) Delete(*http.Request, string) error {
	return scimerrors.ScimError{Status: http.StatusNotImplemented}
}

func (h *memHandler) Patch(_ *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = ops
	cur, ok := h.res[id]
	if !ok {
		return scim.Resource{}, scimerrors.ScimErrorResourceNotFound(id)
	}
	out, err := Apply(cur, ops, h.s)
	if err != nil {
		return scim.Resource{}, err
	}
	h.res[id] = out
	return scim.Resource{ID: id, Attributes: out}, nil
}

// testServer is a real elimity scim.Server for Users (core + enterprise)
// and Groups over memHandlers.
type testServer struct {
	users, groups *memHandler
	handler       http.Handler // elimity, optionally behind NormalizeBody
}

func newTestServer(t testing.TB, normalize bool) *testServer {
	t.Helper()
	ts := &testServer{users: newMemHandler(userSchema()), groups: newMemHandler(groupSchema())}
	srv, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{SupportPatch: true, SupportFiltering: true},
		ResourceTypes: []scim.ResourceType{
			{
				ID: optional.NewString("User"), Name: "User", Endpoint: "/Users",
				Schema:           schema.CoreUserSchema(),
				SchemaExtensions: []scim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}},
				Handler:          ts.users,
			},
			{
				ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups",
				Schema:  schema.CoreGroupSchema(),
				Handler: ts.groups,
			},
		},
	})
	if err != nil {
		t.Fatalf("new scim server: %v", err)
	}
	ts.handler = srv
	if normalize {
		ts.handler = normalizing(srv)
	}
	return ts
}

// normalizing runs NormalizeBody on PATCH bodies before elimity, as the
// scim package wires it.
func normalizing(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPatch {
			next.ServeHTTP(w, r)
			return
		}
		s := userSchema()
		if strings.HasPrefix(strings.TrimPrefix(r.URL.Path, "/v2"), "/Groups") {
			s = groupSchema()
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read body", http.StatusBadRequest)
			return
		}
		nb, err := NormalizeBody(body, s)
		if err != nil {
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(scimerrors.ScimErrorInvalidSyntax)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(nb))
		r.ContentLength = int64(len(nb))
		next.ServeHTTP(w, r)
	})
}

// patch sends one PATCH through the handler in process and returns the
// status and body.
func (ts *testServer) patch(endpoint, id, body string) (int, string) {
	req := httptest.NewRequest(http.MethodPatch, "/"+endpoint+"/"+id, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	ts.handler.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// patchBody wraps operations (a JSON array) into a PatchOp body.
func patchBody(ops string) string {
	return `{"schemas":["` + patchOpURN + `"],"Operations":` + ops + `}`
}

// mustMap decodes a JSON object the way a store read does.
func mustMap(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// jsonShape round-trips v through JSON so int64/float64/json.Number and
// []any/[]map differences do not matter in comparisons.
func jsonShape(t testing.TB, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out
}

func assertResource(t testing.TB, got map[string]any, want string) {
	t.Helper()
	if diff := cmp.Diff(jsonShape(t, mustMap(t, want)), jsonShape(t, got)); diff != "" {
		t.Errorf("resource mismatch (-want +got):\n%s", diff)
	}
}

// directOps builds operations the way elimity would deliver them, but
// without its validation: op as sent, path parsed, value decoded with
// UseNumber. For forms elimity rejects and for fuzzing Apply alone.
func directOps(t testing.TB, opsJSON string) []scim.PatchOperation {
	t.Helper()
	ops, err := decodeOps([]byte(opsJSON))
	if err != nil {
		t.Fatalf("decode ops %s: %v", opsJSON, err)
	}
	return ops
}

func decodeOps(data []byte) ([]scim.PatchOperation, error) {
	var raw []struct {
		Op    string
		Path  string
		Value json.RawMessage
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	ops := make([]scim.PatchOperation, 0, len(raw))
	for _, r := range raw {
		op := scim.PatchOperation{Op: r.Op}
		if r.Path != "" {
			p, err := filter.ParsePath([]byte(r.Path))
			if err != nil {
				return nil, err
			}
			op.Path = &p
		}
		if len(r.Value) > 0 {
			dec := json.NewDecoder(bytes.NewReader(r.Value))
			dec.UseNumber()
			if err := dec.Decode(&op.Value); err != nil {
				return nil, err
			}
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// scimErr asserts err is a ScimError value with status 400 and the type.
func assertScimErr(t testing.TB, err error, want scimerrors.ScimType) scimerrors.ScimError {
	t.Helper()
	var se scimerrors.ScimError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a scimerrors.ScimError value", err, err)
	}
	if se.Status != http.StatusBadRequest || se.ScimType != want {
		t.Fatalf("got status %d scimType %q (%s), want 400 %q", se.Status, se.ScimType, se.Detail, want)
	}
	return se
}
