package patch

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

const fuzzUser = `{"userName":"bjensen","active":true,"displayName":"B","nickName":"n",
	"name":{"givenName":"Barbara","familyName":"Jensen"},
	"emails":[{"value":"b@home","type":"home","primary":true},{"value":"w@work","type":"work"}],
	"addresses":[{"type":"work","formatted":"F","locality":"L"}],
	"phoneNumbers":[{"type":"mobile","value":"1"}],
	"roles":[{"primary":true,"value":"r","display":"R"}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m0"}}}`

const fuzzGroup = `{"displayName":"G","externalId":"e","members":[{"value":"u1"},{"value":"u2","type":"User"},{"value":"g3","type":"Group"}]}`

// checkingHandler applies PATCH to a fresh copy of a fixed resource and
// checks Apply's contract on every call: the input is never modified, an
// error is a 400 ScimError value and comes without a result, and a result
// is JSON.
type checkingHandler struct {
	memHandler
	base map[string]any
	t    *testing.T // set per fuzz input; fuzz inputs run sequentially
}

func (h *checkingHandler) Patch(_ *http.Request, id string, ops []scim.PatchOperation) (scim.Resource, error) {
	out, err := checkApply(h.t, h.base, ops, h.s)
	if err != nil {
		return scim.Resource{}, err
	}
	return scim.Resource{ID: id, Attributes: out}, nil
}

func checkApply(t *testing.T, base map[string]any, ops []scim.PatchOperation, s Schema) (map[string]any, error) {
	t.Helper()
	in, _ := deepCopy(base).(map[string]any)
	snapshot, _ := deepCopy(base).(map[string]any)
	out, err := Apply(in, ops, s)
	if !reflect.DeepEqual(in, snapshot) {
		t.Fatalf("Apply modified its input (err %v)", err)
	}
	if err != nil {
		var se scimerrors.ScimError
		if !errors.As(err, &se) || se.Status != http.StatusBadRequest || se.ScimType == "" || !strings.Contains(se.Detail, "operation ") {
			t.Fatalf("error %#v is not a detailed 400 ScimError value", err)
		}
		if out != nil {
			t.Fatalf("result %v returned with error %v", out, err)
		}
		return nil, err
	}
	if _, err := json.Marshal(out); err != nil {
		t.Fatalf("result is not JSON: %v", err)
	}
	if m, ok := out["members"]; ok {
		if _, ok := m.([]any); !ok {
			t.Fatalf("members is %T", m)
		}
	}
	return out, nil
}

type fuzzRig struct {
	users, groups *checkingHandler
	handler       http.Handler
}

func newFuzzRig(f *testing.F) *fuzzRig {
	r := &fuzzRig{
		users:  &checkingHandler{memHandler: *newMemHandler(userSchema()), base: mustMap(f, fuzzUser)},
		groups: &checkingHandler{memHandler: *newMemHandler(groupSchema()), base: mustMap(f, fuzzGroup)},
	}
	srv, err := scim.NewServer(&scim.ServerArgs{
		ServiceProviderConfig: &scim.ServiceProviderConfig{SupportPatch: true},
		ResourceTypes: []scim.ResourceType{
			{ID: optional.NewString("User"), Name: "User", Endpoint: "/Users", Schema: schema.CoreUserSchema(),
				SchemaExtensions: []scim.SchemaExtension{{Schema: schema.ExtensionEnterpriseUser()}}, Handler: r.users},
			{ID: optional.NewString("Group"), Name: "Group", Endpoint: "/Groups", Schema: schema.CoreGroupSchema(), Handler: r.groups},
		},
	})
	if err != nil {
		f.Fatal(err)
	}
	r.handler = normalizing(srv)
	return r
}

func (r *fuzzRig) serve(t *testing.T, endpoint string, body []byte) int {
	r.users.t, r.groups.t = t, t
	req := httptest.NewRequest(http.MethodPatch, "/"+endpoint+"/x", strings.NewReader(string(body)))
	rec := httptest.NewRecorder()
	r.handler.ServeHTTP(rec, req)
	return rec.Code
}

// opJSON builds one operation; value is embedded raw when it is JSON, else
// as a string.
func opJSON(op, path, value string) string {
	m := map[string]any{"op": op}
	if path != "" {
		m["path"] = path
	}
	if value != "" {
		if json.Valid([]byte(value)) {
			m["value"] = json.RawMessage(value)
		} else {
			m["value"] = value
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return `{}`
	}
	return string(b)
}

// FuzzApply sends random operations through NormalizeBody, a real elimity
// server and Apply, and straight into Apply: Apply never panics, never
// modifies its input, and fails only with a detailed 400 ScimError.
func FuzzApply(f *testing.F) {
	seeds := []struct {
		op, path, value string
		group           bool
	}{
		{"add", "nickName", `"Babs"`, false},
		{"Replace", "emails[type eq \"work\"].value", `"x@y"`, false},
		{"replace", "emails[type eq \"other\"].value", `"x@y"`, false},
		{"add", "addresses[type eq \"work\"].locality", `"L"`, false},
		{"replace", "roles[primary eq \"True\"].value", `"v"`, false},
		{"replace", "roles[primary eq true and value ne \"x\"].display", `"v"`, false},
		{"remove", "emails[type eq \"work\"]", ``, false},
		{"remove", "emails[not (type eq \"work\")]", ``, false},
		{"replace", "", `{"active":"False","name.givenName":"G","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"1"}`, false},
		{"replace", "", `{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"m1","department":null}}`, false},
		{"add", "manager", `[{"$ref":"x","value":"m1"}]`, false},
		{"replace", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", `{"value":""}`, false},
		{"replace", "userName", `""`, false},
		{"remove", "userName", ``, false},
		{"replace", "active", `null`, false},
		{"add", "emails", `[{"value":"a","primary":true},{"value":"b","primary":"True"}]`, false},
		{"replace", "groups", `[]`, false},
		{"replace", "", `{"id":"x","meta":{}}`, false},
		{"replace", "emails.display", `"d"`, false},
		{"replace", "phoneNumbers[value gt 0].type", `"x"`, false},
		{"add", "members", `[{"value":"u9","display":"x","$ref":null}]`, true},
		{"add", "members", `"string id 1"`, true},
		{"Remove", "members", `[{"$ref":null,"value":"u1"}]`, true},
		{"remove", "members[value eq \"u2\"]", ``, true},
		{"replace", "members", `[]`, true},
		{"replace", "members[type eq \"Group\"]", `{"value":"g9"}`, true},
		{"replace", "", `{"id":"g","displayName":"New"}`, true},
		{"remove", "displayName", ``, true},
		{"move", "x[", `{`, false},
	}
	for _, s := range seeds {
		f.Add(s.op, s.path, s.value, s.group)
	}
	rig := newFuzzRig(f)
	f.Fuzz(func(t *testing.T, op, path, value string, group bool) {
		endpoint, h := "Users", rig.users
		if group {
			endpoint, h = "Groups", rig.groups
		}
		one := opJSON(op, path, value)
		rig.serve(t, endpoint, []byte(patchBody("["+one+"]")))
		rig.serve(t, endpoint, []byte(patchBody("["+one+","+one+"]")))

		// Directly, without elimity's validation or NormalizeBody.
		if ops, err := decodeOps([]byte("[" + one + "]")); err == nil {
			checkApply(t, h.base, ops, h.s)
		}
	})
}

// FuzzNormalizeBody: never panics, errors exactly for invalid JSON, returns
// JSON, is idempotent, and whatever it returns can go through elimity and
// Apply safely.
func FuzzNormalizeBody(f *testing.F) {
	for _, s := range []string{
		patchBody(`[{"op":"Add","path":"manager","value":"m1"}]`),
		patchBody(`[{"op":"replace","value":{"nickName":null,"title":"T","manager":"m"}}]`),
		patchBody(`[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":null,"manager":[{"value":"m"}]}}}]`),
		patchBody(`[{"op":"add","path":"members","value":"string id 1"},{"op":"add","path":"members","value":null}]`),
		patchBody(`[{"op":"remove","path":"members","value":["a",{"value":"b"}]}]`),
		patchBody(`[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":{"managerId":"m"}}]`),
		"{\r\n\t\"id\": \"g\",\r\n \"Operations\":[{\"op\":\"add\",\"path\":\"members\",\"value\":\"x\"}],\"schemas\":[\"" + patchOpURN + "\"]}",
		`{"operations":[],"Operations":[{"Op":"add","op":"replace","path":"x","PATH":"manager","value":null}]}`,
		`{"Operations":[1,"x",{"op":5},{"op":"add","path":5}]}`,
		`[1]`, `{`, ``, `null`, `{"Operations":null}`,
	} {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	rig := newFuzzRig(f)
	f.Fuzz(func(t *testing.T, body []byte, group bool) {
		s, endpoint := userSchema(), "Users"
		if group {
			s, endpoint = groupSchema(), "Groups"
		}
		out, err := NormalizeBody(body, s)
		if valid := json.Valid(body); valid != (err == nil) {
			t.Fatalf("json.Valid=%v but err=%v", valid, err)
		}
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("output is not JSON: %s", out)
		}
		again, err := NormalizeBody(out, s)
		if err != nil || string(again) != string(out) {
			t.Fatalf("not idempotent:\n%s\n%s", out, again)
		}
		rig.serve(t, endpoint, body)
	})
}

func BenchmarkApplyMembersAdd(b *testing.B) {
	members := make([]any, 1000)
	for i := range members {
		members[i] = map[string]any{"value": fmt.Sprintf("user-%04d", i), "type": "User"}
	}
	res := map[string]any{"displayName": "Big", "members": members}
	ops := directOps(b, `[{"op":"add","path":"members","value":[{"value":"new-user","display":"New"}]}]`)
	s := groupSchema()
	b.ReportAllocs()
	for b.Loop() {
		out, err := Apply(res, ops, s)
		if err != nil || len(out["members"].([]any)) != 1001 {
			b.Fatalf("Apply: %v", err)
		}
	}
}
