package patch

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

const mgrPath = enterpriseURN + ":manager"

// normalizeCase is a body that elimity + Apply reject as sent and accept
// after NormalizeBody, which must produce exactly want.
type normalizeCase struct {
	name    string
	group   bool
	res     string // stored resource before the PATCH
	ops     string // Operations as sent
	wantOps string // Operations after NormalizeBody, byte for byte
	after   string // stored resource after the normalised PATCH
}

func TestNormalizeBodyRewrites(t *testing.T) {
	const user = `{"userName":"a","nickName":"n","title":"t","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m0"}}}`
	const group = `{"displayName":"G","members":[{"value":"u1"}]}`
	const userM1 = `{"userName":"a","nickName":"n","title":"t","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m1"}}}`
	const userNoMgr = `{"userName":"a","nickName":"n","title":"t","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D"}}`
	for _, c := range []normalizeCase{
		{
			name:    "unqualified manager path and bare string (Entra old docs)",
			res:     user,
			ops:     `[{"op":"Add","path":"manager","value":"m1"}]`,
			wantOps: `[{"op":"Add","path":"` + mgrPath + `","value":{"value":"m1"}}]`,
			after:   userM1,
		},
		{
			name:    "unqualified manager path with array value (Entra old docs, verbatim shape)",
			res:     user,
			ops:     `[{"op":"Add","path":"manager","value":[{"$ref":"http://example.com/scim/Users/m1","value":"m1"}]}]`,
			wantOps: `[{"op":"Add","path":"` + mgrPath + `","value":{"$ref":"http://example.com/scim/Users/m1","value":"m1"}}]`,
			after:   userM1,
		},
		{
			name:    "unqualified manager.value path",
			res:     user,
			ops:     `[{"op":"replace","path":"manager.value","value":"m1"}]`,
			wantOps: `[{"op":"replace","path":"` + mgrPath + `.value","value":"m1"}]`,
			after:   userM1,
		},
		{
			name:    "unqualified extension attribute",
			res:     user,
			ops:     `[{"op":"replace","path":"department","value":"E"}]`,
			wantOps: `[{"op":"replace","path":"` + enterpriseURN + `:department","value":"E"}]`,
			after:   `{"userName":"a","nickName":"n","title":"t","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"E","manager":{"value":"m0"}}}`,
		},
		{
			name:    "manager bare string (real Entra, SCIM-SDK#686)",
			res:     user,
			ops:     `[{"op":"add","path":"` + mgrPath + `","value":"m1"}]`,
			wantOps: `[{"op":"add","path":"` + mgrPath + `","value":{"value":"m1"}}]`,
			after:   userM1,
		},
		{
			name:    "manager empty string removes",
			res:     user,
			ops:     `[{"op":"replace","path":"` + mgrPath + `","value":""}]`,
			wantOps: `[{"op":"replace","path":"` + mgrPath + `","value":{"value":""}}]`,
			after:   userNoMgr,
		},
		{
			name:    "manager empty array removes",
			res:     user,
			ops:     `[{"op":"replace","path":"` + mgrPath + `","value":[]}]`,
			wantOps: `[{"op":"replace","path":"` + mgrPath + `","value":{"value":""}}]`,
			after:   userNoMgr,
		},
		{
			name:    "manager value null removes",
			res:     user,
			ops:     `[{"op":"replace","path":"` + mgrPath + `","value":{"value":null}}]`,
			wantOps: `[{"op":"replace","path":"` + mgrPath + `","value":{"value":""}}]`,
			after:   userNoMgr,
		},
		{
			name:    "OneLogin managerId (Guess)",
			res:     user,
			ops:     `[{"op":"replace","path":"` + mgrPath + `","value":{"managerId":"m1","displayName":"M One"}}]`,
			wantOps: `[{"op":"replace","path":"` + mgrPath + `","value":{"displayName":"M One","value":"m1"}}]`,
			after:   userM1,
		},
		{
			name:    "manager null becomes remove",
			res:     user,
			ops:     `[{"op":"replace","path":"` + mgrPath + `","value":null}]`,
			wantOps: `[{"op":"remove","path":"` + mgrPath + `"}]`,
			after:   userNoMgr,
		},
		{
			name:    "replace simple attribute with null becomes remove (SCIM_Null_Update_Test)",
			res:     user,
			ops:     `[{"op":"Replace","path":"nickName","value":null,"name":"x"}]`,
			wantOps: `[{"op":"remove","path":"nickName","name":"x"}]`,
			after:   `{"userName":"a","title":"t","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m0"}}}`,
		},
		{
			name:    "add null to members adds nothing, never removes all",
			group:   true,
			res:     group,
			ops:     `[{"op":"add","path":"members","value":null}]`,
			wantOps: `[{"op":"add","path":"members","value":[]}]`,
			after:   group,
		},
		{
			name:    "pathless null keys become remove operations first",
			res:     user,
			ops:     `[{"op":"replace","value":{"nickName":null,"title":"T"}}]`,
			wantOps: `[{"op":"remove","path":"nickName"},{"op":"replace","value":{"title":"T"}}]`,
			after:   `{"userName":"a","title":"T","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m0"}}}`,
		},
		{
			name:    "pathless value of nulls only leaves only removes",
			res:     user,
			ops:     `[{"op":"add","value":{"nickName":null,"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":null}}]`,
			wantOps: `[{"op":"remove","path":"nickName"},{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"}]`,
			after:   `{"userName":"a","title":"t","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m0"}}}`,
		},
		{
			name:    "URN object with a null and a bare-string manager",
			res:     user,
			ops:     `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":null,"manager":"m1"},"title":"T"}}]`,
			wantOps: `[{"op":"remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"},{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}},"title":"T"}}]`,
			after:   `{"userName":"a","nickName":"n","title":"T","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}}}`,
		},
		{
			name:    "pathless unqualified manager key",
			res:     user,
			ops:     `[{"op":"replace","value":{"manager":"m1"}}]`,
			wantOps: `[{"op":"replace","value":{"` + mgrPath + `":{"value":"m1"}}}]`,
			after:   userM1,
		},
		{
			name:    "member bare string (Postman)",
			group:   true,
			res:     group,
			ops:     `[{"op":"add","path":"members","value":"string id 1"}]`,
			wantOps: `[{"op":"add","path":"members","value":[{"value":"string id 1"}]}]`,
			after:   `{"displayName":"G","members":[{"value":"u1"},{"value":"string id 1"}]}`,
		},
		{
			name:    "member list with bare strings",
			group:   true,
			res:     group,
			ops:     `[{"op":"add","path":"Members","value":["a",{"value":"b"}]}]`,
			wantOps: `[{"op":"add","path":"Members","value":[{"value":"a"},{"value":"b"}]}]`,
			after:   `{"displayName":"G","members":[{"value":"u1"},{"value":"a"},{"value":"b"}]}`,
		},
		{
			name:    "remove member given as a bare string",
			group:   true,
			res:     group,
			ops:     `[{"op":"remove","path":"members","value":"u1"}]`,
			wantOps: `[{"op":"remove","path":"members","value":[{"value":"u1"}]}]`,
			after:   `{"displayName":"G","members":[]}`,
		},
		{
			name:    "pathless members bare string",
			group:   true,
			res:     group,
			ops:     `[{"op":"add","value":{"members":"u2"}}]`,
			wantOps: `[{"op":"add","value":{"members":[{"value":"u2"}]}}]`,
			after:   `{"displayName":"G","members":[{"value":"u1"},{"value":"u2"}]}`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			endpoint, s := "Users", userSchema()
			if c.group {
				endpoint, s = "Groups", groupSchema()
			}
			in := patchBody(c.ops)
			got, err := NormalizeBody([]byte(in), s)
			if err != nil {
				t.Fatalf("NormalizeBody: %v", err)
			}
			if want := patchBody(c.wantOps); string(got) != want {
				t.Fatalf("NormalizeBody:\n got %s\nwant %s", got, want)
			}
			again, err := NormalizeBody(got, s)
			if err != nil || !bytes.Equal(again, got) {
				t.Errorf("not idempotent: %s", again)
			}

			// As sent, the request fails (elimity or Apply rejects it).
			raw := newTestServer(t, false)
			rh := raw.users
			if c.group {
				rh = raw.groups
			}
			rh.put("r1", mustMap(t, c.res))
			if code, body := raw.patch(endpoint, "r1", in); code != http.StatusBadRequest {
				t.Errorf("without NormalizeBody: status %d (%s), want 400", code, body)
			}
			assertResource(t, rh.get("r1"), c.res)

			// Normalised, it succeeds with the intended result.
			ts := newTestServer(t, true)
			h := ts.users
			if c.group {
				h = ts.groups
			}
			h.put("r1", mustMap(t, c.res))
			if code, body := ts.patch(endpoint, "r1", in); code != http.StatusOK {
				t.Fatalf("with NormalizeBody: status %d (%s)", code, body)
			}
			assertResource(t, h.get("r1"), c.after)
		})
	}
}

// TestNormalizeBodyKeepsBytes checks that only rewritten operations change:
// whitespace, key order, other top-level members and untouched operations
// are kept byte for byte.
func TestNormalizeBodyKeepsBytes(t *testing.T) {
	in := "{\r\n\t\"id\": \"g1\",\r\n    \"Operations\" : [ {\"op\" : \"replace\", \"path\":\"title\", \"value\": \"a<b>&c\"} ,\r\n" +
		"  {\"op\":\"add\", \"path\":\"manager\",\"value\":\"m1\"}\r\n  ] ,\r\n  \"schemas\": [\"" + patchOpURN + "\"] }\r\n"
	want := "{\r\n\t\"id\": \"g1\",\r\n    \"Operations\" : [{\"op\" : \"replace\", \"path\":\"title\", \"value\": \"a<b>&c\"}," +
		"{\"op\":\"add\",\"path\":\"" + mgrPath + "\",\"value\":{\"value\":\"m1\"}}] ,\r\n  \"schemas\": [\"" + patchOpURN + "\"] }\r\n"
	got, err := NormalizeBody([]byte(in), userSchema())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

// TestNormalizeBodyLeavesAlone checks that bodies needing no rewrite come
// back as the very same slice, including the verbatim IdP bodies.
func TestNormalizeBodyLeavesAlone(t *testing.T) {
	bodies := map[string]string{
		"okta deactivate":       patchBody(`[{"op":"replace","value":{"active":false}}]`),
		"okta rename with id":   patchBody(`[{"op":"replace","value":{"id":"abf4dd94-a4c0-4f67-89c9-76b03340cb9b","displayName":"Test SCIMv2"}}]`),
		"entra capitalised ops": patchBody(`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@y"},{"op":"Replace","path":"active","value":"False"}]`),
		"entra remove members":  patchBody(`[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]`),
		"qualified manager":     patchBody(`[{"op":"add","path":"` + mgrPath + `","value":{"value":"1f556bd0"}}]`),
		"remove manager":        patchBody(`[{"op":"replace","path":"` + mgrPath + `","value":{"value":""}}]`),
		"remove with null":      patchBody(`[{"op":"remove","path":"nickName","value":null}]`),
		"pathless dotted keys":  patchBody(`[{"op":"replace","value":{"name.givenName":"G","` + enterpriseURN + `:employeeNumber":"1"}}]`),
		"not an object":         `[1,2]`,
		"no operations":         `{"schemas":["` + patchOpURN + `"]}`,
		"operations not a list": `{"Operations":{"op":"add"}}`,
		"odd operations":        `{"Operations":[1,"x",{"op":5},{"op":"add","path":5},{"op":"add","path":"emails[","value":null},{"op":"add","path":"nosuch","value":null}]}`,
		"empty":                 `{}`,
	}
	for _, name := range []string{"postman-01.json", "postman-04.json", "msvalidator-00.json", "msvalidator-05.json", "msvalidator-11.json"} {
		bodies[name] = readIdPBody(t, name)
	}
	for name, b := range bodies {
		t.Run(name, func(t *testing.T) {
			in := []byte(b)
			s := userSchema()
			if strings.Contains(b, "members") {
				s = groupSchema()
			}
			got, err := NormalizeBody(in, s)
			if err != nil {
				t.Fatalf("NormalizeBody: %v", err)
			}
			if len(in) > 0 && (len(got) != len(in) || &got[0] != &in[0]) {
				t.Errorf("body was copied or changed: %s", got)
			}
		})
	}
}

func TestNormalizeBodyRejectsNonJSON(t *testing.T) {
	for _, b := range []string{``, `{`, `{"Operations":[]}x`, `nope`, "{\"a\":\"\xff\"", `{"a":1,}`} {
		if got, err := NormalizeBody([]byte(b), userSchema()); err == nil {
			t.Errorf("NormalizeBody(%q) = %q, nil; want an error", b, got)
		}
	}
}

// TestNormalizeBodyDuplicateKeys follows encoding/json, which elimity
// decodes with: the last of case-variant keys wins, and the shadowed ones
// are dropped from a rewritten operation.
func TestNormalizeBodyDuplicateKeys(t *testing.T) {
	in := `{"schemas":["` + patchOpURN + `"],"operations":[{"op":"add","path":"title","value":"x"}],"Operations":[{"Op":"add","op":"Replace","PATH":"nickName","path":"manager","value":"m1"}]}`
	want := `{"schemas":["` + patchOpURN + `"],"operations":[{"op":"add","path":"title","value":"x"}],"Operations":[{"op":"Replace","path":"` + mgrPath + `","value":{"value":"m1"}}]}`
	got, err := NormalizeBody([]byte(in), userSchema())
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// TestElimityAcceptsAsIs pins down what elimity already accepts or drops,
// which is why NormalizeBody does not touch these forms. If an elimity
// upgrade changes any of this, this test says so.
func TestElimityAcceptsAsIs(t *testing.T) {
	ts := newTestServer(t, false)
	ts.groups.put("g1", mustMap(t, `{"displayName":"G","members":[]}`))
	ts.users.put("u1", mustMap(t, `{"userName":"a","active":true}`))

	// Postman: extra "name" in an operation and a top-level "id".
	code, body := ts.patch("Groups", "g1", `{"id":"g1","Operations":[{"name":"addMember","op":"add","path":"members","value":[{"displayName":"new User","value":"u4"}]}],"schemas":["`+patchOpURN+`"]}`)
	if code != http.StatusOK {
		t.Fatalf("name/id body: %d %s", code, body)
	}
	assertResource(t, ts.groups.get("g1"), `{"displayName":"G","members":[{"value":"u4"}]}`)

	// Member keys in any case.
	if code, body := ts.patch("Groups", "g1", `{"Schemas":["`+patchOpURN+`"],"operations":[{"OP":"Add","PATH":"Members","VALUE":[{"Value":"u5"}]}]}`); code != http.StatusOK {
		t.Fatalf("upper-case keys: %d %s", code, body)
	}
	assertResource(t, ts.groups.get("g1"), `{"displayName":"G","members":[{"value":"u4"},{"value":"u5"}]}`)

	// A pathless "id" is dropped whatever its value (Okta rename); Apply
	// never sees it.
	for _, id := range []string{"g1", "some-other-id"} {
		if code, body := ts.patch("Groups", "g1", patchBody(`[{"op":"replace","value":{"id":"`+id+`","displayName":"H"}}]`)); code != http.StatusOK {
			t.Fatalf("id %s: %d %s", id, code, body)
		}
		ops := ts.groups.lastOps()
		if !reflect.DeepEqual(ops[0].Value, map[string]any{"displayName": "H"}) {
			t.Errorf("id %s: handler got %#v", id, ops[0].Value)
		}
	}

	// "False" becomes a bool with schema.SetAllowStringValues(true).
	if code, body := ts.patch("Users", "u1", patchBody(`[{"op":"Replace","path":"active","value":"False"}]`)); code != http.StatusOK {
		t.Fatalf("active False: %d %s", code, body)
	}
	if v := ts.users.lastOps()[0].Value; v != false {
		t.Errorf("active value %#v, want false", v)
	}

	// Rejected by elimity before the handler: the handler is not called.
	for name, c := range map[string]struct {
		endpoint, body, scimType string
	}{
		"empty Operations":     {"Users", patchBody(`[]`), "invalidValue"},
		"pathless meta":        {"Users", patchBody(`[{"op":"replace","value":{"meta":{"x":1}}}]`), "invalidValue"},
		"pathless schemas":     {"Users", patchBody(`[{"op":"replace","value":{"schemas":["x"]}}]`), "invalidValue"},
		"pathless unknown":     {"Users", patchBody(`[{"op":"replace","value":{"unknownAttr":"x"}}]`), "invalidValue"},
		"two id keys":          {"Groups", patchBody(`[{"op":"replace","value":{"Id":"a","ID":"b","displayName":"x"}}]`), "invalidPath"},
		"id path":              {"Users", patchBody(`[{"op":"replace","path":"id","value":"x"}]`), "invalidPath"},
		"filter typo":          {"Users", patchBody(`[{"op":"replace","path":"emails[nosuch eq \"x\"].value","value":"u"}]`), "invalidPath"},
		"remove without path":  {"Users", patchBody(`[{"op":"remove"}]`), "noTarget"},
		"unknown op":           {"Users", patchBody(`[{"op":"bogus","path":"userName","value":"u"}]`), "invalidValue"},
		"null value":           {"Users", patchBody(`[{"op":"replace","path":"nickName","value":null}]`), "invalidValue"},
		"bare string member":   {"Groups", patchBody(`[{"op":"add","path":"members","value":"x"}]`), "invalidValue"},
		"bare string manager":  {"Users", patchBody(`[{"op":"add","path":"` + mgrPath + `","value":"m"}]`), "invalidValue"},
		"unqualified manager":  {"Users", patchBody(`[{"op":"add","path":"manager","value":{"value":"m"}}]`), "invalidValue"},
		"array manager":        {"Users", patchBody(`[{"op":"add","path":"` + mgrPath + `","value":[{"value":"m"}]}]`), "invalidValue"},
		"two schemas":          {"Users", `{"schemas":["` + patchOpURN + `","x"],"Operations":[{"op":"add","path":"title","value":"t"}]}`, "invalidValue"},
		"pathless null member": {"Users", patchBody(`[{"op":"replace","value":{"nickName":null}}]`), "invalidValue"},
	} {
		t.Run(name, func(t *testing.T) {
			ts.users.mu.Lock()
			ts.users.ops = nil
			ts.users.mu.Unlock()
			ts.groups.mu.Lock()
			ts.groups.ops = nil
			ts.groups.mu.Unlock()
			code, body := ts.patch(c.endpoint, map[string]string{"Users": "u1", "Groups": "g1"}[c.endpoint], c.body)
			var e struct{ ScimType string }
			_ = json.Unmarshal([]byte(body), &e)
			if code != http.StatusBadRequest || e.ScimType != c.scimType {
				t.Fatalf("got %d %s, want 400 %s", code, body, c.scimType)
			}
			if ts.users.lastOps() != nil || ts.groups.lastOps() != nil {
				t.Error("the handler was called")
			}
		})
	}
}
