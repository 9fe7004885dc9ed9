package patch

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/google/go-cmp/cmp"
)

const baseUser = `{
	"userName": "bjensen",
	"active": true,
	"name": {"givenName": "Barbara", "familyName": "Jensen"},
	"emails": [{"value": "b@home.example", "type": "home", "primary": true}],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}
}`

const baseGroup = `{
	"displayName": "Admins",
	"externalId": "ext-1",
	"members": [{"value": "u1"}, {"value": "u2", "type": "User"}]
}`

type applyCase struct {
	name    string
	group   bool   // a Group instead of a User
	res     string // stored resource; baseUser/baseGroup when empty
	ops     string // JSON array of operations
	direct  bool   // call Apply without elimity (forms elimity rejects)
	want    string // resulting resource, when no error
	wantErr scimerrors.ScimType
}

// runApplyCase runs one case. Unless direct, the operations go as a real
// PATCH body through NormalizeBody and an elimity scim.Server whose handler
// calls Apply, so the test sees exactly what production sees.
func runApplyCase(t *testing.T, c applyCase) {
	t.Helper()
	res := c.res
	if res == "" {
		res = baseUser
		if c.group {
			res = baseGroup
		}
	}
	s := userSchema()
	if c.group {
		s = groupSchema()
	}
	if c.direct {
		in := mustMap(t, res)
		before := jsonShape(t, in)
		got, err := Apply(in, directOps(t, c.ops), s)
		if diff := cmp.Diff(before, jsonShape(t, in)); diff != "" {
			t.Errorf("Apply modified its input (-before +after):\n%s", diff)
		}
		if c.wantErr != "" {
			se := assertScimErr(t, err, c.wantErr)
			if !strings.Contains(se.Detail, "operation ") {
				t.Errorf("detail %q does not name the operation", se.Detail)
			}
			if got != nil {
				t.Errorf("got a result %v with an error", got)
			}
			return
		}
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		assertResource(t, got, c.want)
		return
	}

	ts := newTestServer(t, true)
	h, endpoint := ts.users, "Users"
	if c.group {
		h, endpoint = ts.groups, "Groups"
	}
	h.put("r1", mustMap(t, res))
	code, body := ts.patch(endpoint, "r1", patchBody(c.ops))
	if c.wantErr != "" {
		if code != http.StatusBadRequest {
			t.Fatalf("status %d, want 400; body %s", code, body)
		}
		var e struct{ ScimType, Detail string }
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			t.Fatalf("error body %s: %v", body, err)
		}
		if e.ScimType != string(c.wantErr) {
			t.Fatalf("scimType %q (%s), want %q", e.ScimType, e.Detail, c.wantErr)
		}
		assertResource(t, h.get("r1"), res)
		return
	}
	if code != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", code, body)
	}
	assertResource(t, h.get("r1"), c.want)
}

func TestApplyBasicOps(t *testing.T) {
	for _, c := range []applyCase{
		{
			name: "add simple with path",
			ops:  `[{"op":"add","path":"nickName","value":"Babs"}]`,
			want: `{"userName":"bjensen","active":true,"nickName":"Babs","name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"b@home.example","type":"home","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"}}`,
		},
		{
			name: "replace with path, capitalised op (Entra)",
			ops:  `[{"op":"Replace","path":"userName","value":"barbara@example.com"}]`,
			want: `{"userName":"barbara@example.com","active":true,"name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"b@home.example","type":"home","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"}}`,
		},
		{
			name: "remove with path",
			ops:  `[{"op":"Remove","path":"name.familyName"}]`,
			want: `{"userName":"bjensen","active":true,"name":{"givenName":"Barbara"},"emails":[{"value":"b@home.example","type":"home","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"}}`,
		},
		{
			name: "add without path",
			ops:  `[{"op":"add","value":{"title":"CEO"}}]`,
			want: `{"userName":"bjensen","active":true,"title":"CEO","name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"b@home.example","type":"home","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"}}`,
		},
		{
			name: "replace without path",
			ops:  `[{"op":"replace","value":{"userName":"burdette@beer.co.uk"}}]`,
			want: `{"userName":"burdette@beer.co.uk","active":true,"name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"b@home.example","type":"home","primary":true}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"}}`,
		},
		{
			name:   "op in any case, direct (Apply lower-cases itself)",
			direct: true,
			res:    `{"userName":"a"}`,
			ops:    `[{"op":"ADD","path":"title","value":"T"},{"op":"rEpLaCe","path":"nickName","value":"N"},{"op":"REMOVE","path":"title"}]`,
			want:   `{"userName":"a","nickName":"N"}`,
		},
		{
			name: "several ops apply in order",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"add","path":"displayName","value":"One"},{"op":"replace","path":"displayName","value":"Two"},{"op":"add","path":"title","value":"T"}]`,
			want: `{"userName":"a","displayName":"Two","title":"T"}`,
		},
		{
			name: "externalId is a common attribute",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"replace","path":"externalId","value":"e-9"}]`,
			want: `{"userName":"a","externalId":"e-9"}`,
		},
		{
			name: "core-URN-qualified path",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:userName","value":"b"}]`,
			want: `{"userName":"b"}`,
		},
		{
			name: "password is accepted and never stored",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"replace","value":{"password":"s3cret!"}},{"op":"replace","path":"password","value":"other"}]`,
			want: `{"userName":"a"}`,
		},
	} {
		t.Run(c.name, func(t *testing.T) { runApplyCase(t, c) })
	}
}

func TestApplyPathForms(t *testing.T) {
	for _, c := range []applyCase{
		{
			name: "userName",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"replace","path":"userName","value":"b"}]`,
			want: `{"userName":"b"}`,
		},
		{
			name: "name.givenName",
			res:  `{"userName":"a","name":{"familyName":"F"}}`,
			ops:  `[{"op":"replace","path":"name.givenName","value":"G"}]`,
			want: `{"userName":"a","name":{"familyName":"F","givenName":"G"}}`,
		},
		{
			name: "Name.GivenName is canonicalised",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"add","path":"Name.GivenName","value":"G"},{"op":"add","path":"NAME.familyname","value":"F"}]`,
			want: `{"userName":"a","name":{"givenName":"G","familyName":"F"}}`,
		},
		{
			name: "enterprise URN path goes under the URN key",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Retail"}]`,
			want: `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Retail"}}`,
		},
		{
			name: "emails[type eq work].value updates the work email",
			res:  `{"userName":"a","emails":[{"type":"home","value":"h@x"},{"type":"work","value":"old@x","primary":true}]}`,
			ops:  `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@x"}]`,
			want: `{"userName":"a","emails":[{"type":"home","value":"h@x"},{"type":"work","value":"new@x","primary":true}]}`,
		},
		{
			name: "filter compares case-insensitively and sub-attribute case is canonicalised",
			res:  `{"userName":"a","emails":[{"type":"Work","value":"old@x"}]}`,
			ops:  `[{"op":"replace","path":"emails[type eq \"work\"].Value","value":"new@x"}]`,
			want: `{"userName":"a","emails":[{"type":"Work","value":"new@x"}]}`,
		},
		{
			name: "addresses[type eq work].formatted",
			res:  `{"userName":"a","addresses":[{"type":"work","locality":"Paris"}]}`,
			ops:  `[{"op":"replace","path":"addresses[type eq \"work\"].formatted","value":"1 Rue X"}]`,
			want: `{"userName":"a","addresses":[{"type":"work","locality":"Paris","formatted":"1 Rue X"}]}`,
		},
		{
			name: "phoneNumbers[type eq mobile].value",
			res:  `{"userName":"a","phoneNumbers":[{"type":"work","value":"1"},{"type":"mobile","value":"2"}]}`,
			ops:  `[{"op":"replace","path":"phoneNumbers[type eq \"mobile\"].value","value":"3"}]`,
			want: `{"userName":"a","phoneNumbers":[{"type":"work","value":"1"},{"type":"mobile","value":"3"}]}`,
		},
		{
			name: "roles[primary eq \"True\"] matches a boolean true",
			res:  `{"userName":"a","roles":[{"primary":false,"value":"r0"},{"primary":true,"value":"r1","display":"R1"}]}`,
			ops:  `[{"op":"replace","path":"roles[primary eq \"True\"].value","value":"r2"},{"op":"replace","path":"roles[primary eq \"True\"].display","value":"R2"}]`,
			want: `{"userName":"a","roles":[{"primary":false,"value":"r0"},{"primary":true,"value":"r2","display":"R2"}]}`,
		},
		{
			name: "roles[primary eq \"True\"] also matches a stored string \"True\"",
			res:  `{"userName":"a","roles":[{"primary":"True","value":"r1"}]}`,
			ops:  `[{"op":"replace","path":"roles[primary eq \"True\"].type","value":"T"}]`,
			want: `{"userName":"a","roles":[{"primary":"True","value":"r1","type":"T"}]}`,
		},
		{
			name:  "members[value eq id] remove",
			group: true,
			ops:   `[{"op":"remove","path":"members[value eq \"u1\"]"}]`,
			want:  `{"displayName":"Admins","externalId":"ext-1","members":[{"value":"u2","type":"User"}]}`,
		},
		{
			name: "emails[type eq work] whole element replace keeps the type",
			res:  `{"userName":"a","emails":[{"type":"work","value":"old@x","primary":true},{"type":"home","value":"h@x"}]}`,
			ops:  `[{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"new@x"}}]`,
			want: `{"userName":"a","emails":[{"type":"work","value":"new@x"},{"type":"home","value":"h@x"}]}`,
		},
		{
			name: "emails[type eq work] whole element add merges",
			res:  `{"userName":"a","emails":[{"type":"work","value":"old@x"}]}`,
			ops:  `[{"op":"add","path":"emails[type eq \"work\"]","value":{"value":"new@x","primary":true}}]`,
			want: `{"userName":"a","emails":[{"type":"work","value":"new@x","primary":true}]}`,
		},
		{
			name: "emails[type eq work] whole element remove",
			res:  `{"userName":"a","emails":[{"type":"work","value":"w@x"},{"type":"home","value":"h@x"}]}`,
			ops:  `[{"op":"remove","path":"emails[type eq \"work\"]"}]`,
			want: `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
		},
		{
			name: "filter with and",
			res:  `{"userName":"a","emails":[{"type":"work","value":"a@x"},{"type":"work","value":"b@x"}]}`,
			ops:  `[{"op":"replace","path":"emails[type eq \"work\" and value eq \"b@x\"].display","value":"B"}]`,
			want: `{"userName":"a","emails":[{"type":"work","value":"a@x"},{"type":"work","value":"b@x","display":"B"}]}`,
		},
		{
			name: "unqualified sub-path on a multi-valued attribute sets it on every element",
			res:  `{"userName":"a","emails":[{"type":"work","value":"a@x"},{"type":"home","value":"b@x"}]}`,
			ops:  `[{"op":"replace","path":"emails.display","value":"D"}]`,
			want: `{"userName":"a","emails":[{"type":"work","value":"a@x","display":"D"},{"type":"home","value":"b@x","display":"D"}]}`,
		},
		{
			name: "escaped quote in a filter value",
			res:  `{"userName":"a","emails":[{"type":"a\"b","value":"q@x"}]}`,
			ops:  `[{"op":"replace","path":"emails[type eq \"a\\\"b\"].value","value":"r@x"}]`,
			want: `{"userName":"a","emails":[{"type":"a\"b","value":"r@x"}]}`,
		},
	} {
		t.Run(c.name, func(t *testing.T) { runApplyCase(t, c) })
	}
}

func TestApplyFilterMatchesNothing(t *testing.T) {
	for _, c := range []applyCase{
		{
			name: "add creates the work email",
			ops:  `[{"op":"Add","path":"emails[type eq \"work\"].value","value":"w@x"}]`,
			res:  `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
			want: `{"userName":"a","emails":[{"type":"home","value":"h@x"},{"type":"work","value":"w@x"}]}`,
		},
		{
			name: "replace creates the work email on a user without emails",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"replace","path":"emails[type eq \"work\"].value","value":"w@x"}]`,
			want: `{"userName":"a","emails":[{"type":"work","value":"w@x"}]}`,
		},
		{
			name: "several adds merge into one work address (SCIM-SDK#680)",
			res:  `{"userName":"a"}`,
			ops: `[{"op":"Add","path":"addresses[type eq \"work\"].formatted","value":"F"},
				{"op":"Add","path":"addresses[type eq \"work\"].locality","value":"L"},
				{"op":"Add","path":"addresses[type eq \"work\"].region","value":"R"}]`,
			want: `{"userName":"a","addresses":[{"type":"work","formatted":"F","locality":"L","region":"R"}]}`,
		},
		{
			name: "phone number of a new type",
			res:  `{"userName":"a","phoneNumbers":[{"type":"work","value":"1"}]}`,
			ops:  `[{"op":"Add","path":"phoneNumbers[type eq \"mobile\"].value","value":"1-612-619-9001"}]`,
			want: `{"userName":"a","phoneNumbers":[{"type":"work","value":"1"},{"type":"mobile","value":"1-612-619-9001"}]}`,
		},
		{
			name: "roles[primary eq \"True\"] creates a boolean primary",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"replace","path":"roles[primary eq \"True\"].value","value":"r"}]`,
			want: `{"userName":"a","roles":[{"primary":true,"value":"r"}]}`,
		},
		{
			name: "whole element with no match is created from the filter",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"add","path":"emails[type eq \"work\"]","value":{"value":"w@x"}}]`,
			want: `{"userName":"a","emails":[{"type":"work","value":"w@x"}]}`,
		},
		{
			name: "remove with no match succeeds without change",
			res:  `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
			ops:  `[{"op":"remove","path":"emails[type eq \"work\"]"},{"op":"remove","path":"emails[type eq \"work\"].value"},{"op":"remove","path":"roles[value eq \"x\"]"}]`,
			want: `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
		},
		{
			name:  "remove members[value eq x] of a non-member succeeds",
			group: true,
			ops:   `[{"op":"remove","path":"members[value eq \"nobody\"]"}]`,
			want:  baseGroup,
		},
		{
			name:    "no eq terms to create from: noTarget",
			res:     `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
			ops:     `[{"op":"replace","path":"emails[value co \"work\"].type","value":"work"}]`,
			wantErr: scimerrors.ScimTypeNoTarget,
		},
		{
			name:    "or filter cannot create: noTarget",
			res:     `{"userName":"a"}`,
			ops:     `[{"op":"add","path":"emails[type eq \"work\" or type eq \"home\"].value","value":"x@x"}]`,
			wantErr: scimerrors.ScimTypeNoTarget,
		},
	} {
		t.Run(c.name, func(t *testing.T) { runApplyCase(t, c) })
	}
}

func TestApplyPathlessValues(t *testing.T) {
	for _, c := range []applyCase{
		{
			name: "plain, dotted and URN keys (Entra aadOptscim062020)",
			res:  `{"userName":"a","name":{"givenName":"Old"}}`,
			ops: `[{"op":"replace","value":{"displayName":"Bjfe","name.givenName":"Kkom","name.familyName":"Unua",
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"Aklq"}}]`,
			want: `{"userName":"a","displayName":"Bjfe","name":{"givenName":"Kkom","familyName":"Unua"},
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"Aklq"}}`,
		},
		{
			name: "dotted keys in any case",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"add","value":{"Name.GivenName":"G","NAME.familyName":"F"}}]`,
			want: `{"userName":"a","name":{"givenName":"G","familyName":"F"}}`,
		},
		{
			name: "extension object under its URN key is merged",
			ops:  `[{"op":"add","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"costCenter":"CC","Manager":{"Value":"m1"}}}}]`,
			want: `{"userName":"bjensen","active":true,"name":{"givenName":"Barbara","familyName":"Jensen"},"emails":[{"value":"b@home.example","type":"home","primary":true}],
				"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales","costCenter":"CC","manager":{"value":"m1"}}}`,
		},
		{
			name: "Okta deactivate",
			res:  `{"userName":"a","active":true}`,
			ops:  `[{"op":"replace","value":{"active":false}}]`,
			want: `{"userName":"a","active":false}`,
		},
		{
			name:  "Okta group rename carrying the group id: elimity drops id",
			group: true,
			ops:   `[{"op":"replace","value":{"id":"r1","displayName":"Test SCIMv2"}}]`,
			want:  `{"displayName":"Test SCIMv2","externalId":"ext-1","members":[{"value":"u1"},{"value":"u2","type":"User"}]}`,
		},
		{
			name:  "group displayName without path",
			group: true,
			ops:   `[{"op":"replace","value":{"displayName":"WUZPWMBDDCGI"}}]`,
			want:  `{"displayName":"WUZPWMBDDCGI","externalId":"ext-1","members":[{"value":"u1"},{"value":"u2","type":"User"}]}`,
		},
		{
			name:  "group externalId without path",
			group: true,
			ops:   `[{"op":"replace","value":{"externalId":"663fa3a8"}}]`,
			want:  `{"displayName":"Admins","externalId":"663fa3a8","members":[{"value":"u1"},{"value":"u2","type":"User"}]}`,
		},
		{
			name: "complex value merges sub-attributes and drops unknown ones",
			res:  `{"userName":"a","name":{"givenName":"G","familyName":"F"}}`,
			ops:  `[{"op":"replace","value":{"name":{"givenName":"G2","bogus":1}}}]`,
			want: `{"userName":"a","name":{"givenName":"G2","familyName":"F"}}`,
		},
		{
			name: "core URN object",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:core:2.0:User":{"userName":"b","nickName":"n"}}}]`,
			want: `{"userName":"b","nickName":"n"}`,
		},
		{
			name:    "unknown key: invalidPath from Apply",
			direct:  true,
			ops:     `[{"op":"replace","value":{"unknownAttr":"x"}}]`,
			wantErr: scimerrors.ScimTypeInvalidPath,
		},
		{
			name:    "unknown dotted key: invalidPath from Apply",
			direct:  true,
			ops:     `[{"op":"replace","value":{"name.nosuch":"x"}}]`,
			wantErr: scimerrors.ScimTypeInvalidPath,
		},
		{
			name:    "unknown key in a URN object: invalidPath from Apply",
			direct:  true,
			ops:     `[{"op":"replace","value":{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"nosuch":"x"}}}]`,
			wantErr: scimerrors.ScimTypeInvalidPath,
		},
		{
			name:    "unknown schema URN: invalidPath from Apply",
			direct:  true,
			ops:     `[{"op":"replace","value":{"urn:example:unknown:1.0:User:attr":"x"}}]`,
			wantErr: scimerrors.ScimTypeInvalidPath,
		},
		{
			name:    "unknown key through elimity: it answers invalidValue itself",
			ops:     `[{"op":"replace","value":{"unknownAttr":"x"}}]`,
			wantErr: scimerrors.ScimTypeInvalidValue,
		},
		{
			name:    "pathless value that is not an object",
			direct:  true,
			ops:     `[{"op":"replace","value":"str"}]`,
			wantErr: scimerrors.ScimTypeInvalidValue,
		},
	} {
		t.Run(c.name, func(t *testing.T) { runApplyCase(t, c) })
	}
}

func TestApplyBooleans(t *testing.T) {
	for _, c := range []applyCase{
		{
			name: "active \"False\" with path (Entra without flag)",
			res:  `{"userName":"a","active":true}`,
			ops:  `[{"op":"Replace","path":"active","value":"False"}]`,
			want: `{"userName":"a","active":false}`,
		},
		{
			name: "active \"True\" with path",
			res:  `{"userName":"a","active":false}`,
			ops:  `[{"op":"Replace","path":"active","value":"True"}]`,
			want: `{"userName":"a","active":true}`,
		},
		{
			name:   "\"true\" inside a pathless map, direct",
			direct: true,
			res:    `{"userName":"a","active":false}`,
			ops:    `[{"op":"replace","value":{"active":"true"}}]`,
			want:   `{"userName":"a","active":true}`,
		},
		{
			name:   "\"True\" under a filtered dotted key, direct",
			direct: true,
			res:    `{"userName":"a","emails":[{"type":"work","value":"w@x"},{"type":"home","value":"h@x","primary":true}]}`,
			ops:    `[{"op":"replace","value":{"emails[type eq \"work\"].primary":"True"}}]`,
			want:   `{"userName":"a","emails":[{"type":"work","value":"w@x","primary":true},{"type":"home","value":"h@x","primary":false}]}`,
		},
		{
			name:   "\"False\" in an element of a list, direct",
			direct: true,
			res:    `{"userName":"a"}`,
			ops:    `[{"op":"add","path":"roles","value":[{"value":"r","primary":"False"}]}]`,
			want:   `{"userName":"a","roles":[{"value":"r","primary":false}]}`,
		},
		{
			name: "\"True\" in a pathless map through elimity",
			res:  `{"userName":"a","active":false}`,
			ops:  `[{"op":"replace","value":{"ACTIVE":"True"}}]`,
			want: `{"userName":"a","active":true}`,
		},
		{
			name:    "not a boolean",
			direct:  true,
			res:     `{"userName":"a"}`,
			ops:     `[{"op":"replace","path":"active","value":"maybe"}]`,
			wantErr: scimerrors.ScimTypeInvalidValue,
		},
	} {
		t.Run(c.name, func(t *testing.T) { runApplyCase(t, c) })
	}
}

func TestApplyMultiValued(t *testing.T) {
	for _, c := range []applyCase{
		{
			name: "add appends",
			res:  `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
			ops:  `[{"op":"add","path":"emails","value":[{"type":"work","value":"w@x"}]}]`,
			want: `{"userName":"a","emails":[{"type":"home","value":"h@x"},{"type":"work","value":"w@x"}]}`,
		},
		{
			name: "add of an identical value is not duplicated",
			res:  `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
			ops:  `[{"op":"add","path":"emails","value":[{"type":"home","value":"h@x"}]},{"op":"add","value":{"emails":[{"value":"h@x","type":"home"}]}}]`,
			want: `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
		},
		{
			name: "replace replaces the whole attribute",
			res:  `{"userName":"a","emails":[{"type":"home","value":"h@x"},{"type":"work","value":"w@x"}]}`,
			ops:  `[{"op":"replace","path":"emails","value":[{"type":"other","value":"o@x"}]}]`,
			want: `{"userName":"a","emails":[{"type":"other","value":"o@x"}]}`,
		},
		{
			name: "replace with an empty list removes it",
			res:  `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
			ops:  `[{"op":"replace","path":"emails","value":[]}]`,
			want: `{"userName":"a"}`,
		},
		{
			name: "added primary clears the others",
			res:  `{"userName":"a","emails":[{"type":"home","value":"h@x","primary":true}]}`,
			ops:  `[{"op":"add","path":"emails","value":[{"type":"work","value":"w@x","primary":true}]}]`,
			want: `{"userName":"a","emails":[{"type":"home","value":"h@x","primary":false},{"type":"work","value":"w@x","primary":true}]}`,
		},
		{
			name: "primary set through a filter clears the others",
			res:  `{"userName":"a","phoneNumbers":[{"type":"mobile","value":"1","primary":true},{"type":"work","value":"2"}]}`,
			ops:  `[{"op":"replace","path":"phoneNumbers[type eq \"work\"].primary","value":true}]`,
			want: `{"userName":"a","phoneNumbers":[{"type":"mobile","value":"1","primary":false},{"type":"work","value":"2","primary":true}]}`,
		},
		{
			name: "replace list with two primaries keeps the first",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"replace","path":"emails","value":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}]`,
			want: `{"userName":"a","emails":[{"value":"a@x","primary":true},{"value":"b@x","primary":false}]}`,
		},
		{
			name: "remove whole attribute",
			res:  `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
			ops:  `[{"op":"remove","path":"emails"}]`,
			want: `{"userName":"a"}`,
		},
		{
			name: "remove with a value list removes those only",
			res:  `{"userName":"a","emails":[{"type":"home","value":"h@x"},{"type":"work","value":"w@x"}]}`,
			ops:  `[{"op":"remove","path":"emails","value":[{"value":"W@X"}]}]`,
			want: `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
		},
		{
			name: "remove of .value with the value (SCIMReferenceCode PR #87) drops the element",
			res:  `{"userName":"a","emails":[{"type":"home","value":"h@x"},{"type":"work","value":"w@x"}]}`,
			ops:  `[{"op":"Remove","path":"emails[type eq \"work\"].value","value":"w@x"}]`,
			want: `{"userName":"a","emails":[{"type":"home","value":"h@x"}]}`,
		},
		{
			name: "remove of .value with a different value changes nothing",
			res:  `{"userName":"a","emails":[{"type":"work","value":"w@x"}]}`,
			ops:  `[{"op":"Remove","path":"emails[type eq \"work\"].value","value":"other@x"}]`,
			want: `{"userName":"a","emails":[{"type":"work","value":"w@x"}]}`,
		},
		{
			name: "Entra roles add with JSON inside value is stored as sent",
			res:  `{"userName":"a"}`,
			ops:  `[{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"06b0\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}]`,
			want: `{"userName":"a","roles":[{"value":"{\"id\":\"06b0\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}]}`,
		},
	} {
		t.Run(c.name, func(t *testing.T) { runApplyCase(t, c) })
	}
}

func TestApplyMembers(t *testing.T) {
	for _, c := range []applyCase{
		{
			name:  "add list with display and $ref null keeps value only",
			group: true,
			res:   `{"displayName":"G","members":[]}`,
			ops:   `[{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648"},{"value":"u9","display":"test.user@okta.local"}]}]`,
			want:  `{"displayName":"G","members":[{"value":"f648"},{"value":"u9"}]}`,
		},
		{
			name:  "type User/Group is kept, anything else dropped",
			group: true,
			res:   `{"displayName":"G"}`,
			ops:   `[{"op":"add","path":"members","value":[{"value":"g1","type":"Group"},{"value":"u1","type":"user"},{"value":"x","type":"Bogus","$ref":"http://x"}]}]`,
			want:  `{"displayName":"G","members":[{"value":"g1","type":"Group"},{"value":"u1","type":"User"},{"value":"x"}]}`,
		},
		{
			name:  "duplicate add is no error and no duplicate",
			group: true,
			ops:   `[{"op":"add","path":"members","value":[{"value":"u1","display":"again"},{"value":"u3"},{"value":"u3"}]}]`,
			want:  `{"displayName":"Admins","externalId":"ext-1","members":[{"value":"u1"},{"value":"u2","type":"User"},{"value":"u3"}]}`,
		},
		{
			name:  "bare string value (Postman) through NormalizeBody",
			group: true,
			ops:   `[{"op":"add","path":"members","value":"string id 1"}]`,
			want:  `{"displayName":"Admins","externalId":"ext-1","members":[{"value":"u1"},{"value":"u2","type":"User"},{"value":"string id 1"}]}`,
		},
		{
			name:   "bare string value, direct",
			group:  true,
			direct: true,
			ops:    `[{"op":"add","path":"members","value":"abc"},{"op":"add","path":"members","value":["def"]}]`,
			want:   `{"displayName":"Admins","externalId":"ext-1","members":[{"value":"u1"},{"value":"u2","type":"User"},{"value":"abc"},{"value":"def"}]}`,
		},
		{
			name:  "Entra remove with path members and a value list removes exactly those",
			group: true,
			res:   `{"displayName":"G","members":[{"value":"a"},{"value":"b"},{"value":"c"}]}`,
			ops:   `[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"b"},{"value":"not-a-member"}]}]`,
			want:  `{"displayName":"G","members":[{"value":"a"},{"value":"c"}]}`,
		},
		{
			name:  "remove members without value empties the group",
			group: true,
			ops:   `[{"op":"remove","path":"members"}]`,
			want:  `{"displayName":"Admins","externalId":"ext-1","members":[]}`,
		},
		{
			name:  "remove members[value eq x]",
			group: true,
			ops:   `[{"op":"remove","path":"members[value eq \"u2\"]"}]`,
			want:  `{"displayName":"Admins","externalId":"ext-1","members":[{"value":"u1"}]}`,
		},
		{
			name:  "replace members with a list",
			group: true,
			ops:   `[{"op":"replace","path":"members","value":[{"value":"u7","display":"x"},{"value":"u8"}]}]`,
			want:  `{"displayName":"Admins","externalId":"ext-1","members":[{"value":"u7"},{"value":"u8"}]}`,
		},
		{
			name:  "replace members with an empty list",
			group: true,
			ops:   `[{"op":"replace","path":"members","value":[]}]`,
			want:  `{"displayName":"Admins","externalId":"ext-1","members":[]}`,
		},
		{
			name:  "replace a member found by filter",
			group: true,
			ops:   `[{"op":"replace","path":"members[value eq \"u1\"]","value":{"value":"u5","type":"User","display":"d"}}]`,
			want:  `{"displayName":"Admins","externalId":"ext-1","members":[{"value":"u5","type":"User"},{"value":"u2","type":"User"}]}`,
		},
		{
			name:    "member sub-attributes are immutable",
			group:   true,
			ops:     `[{"op":"replace","path":"members[value eq \"u1\"].value","value":"u9"}]`,
			wantErr: scimerrors.ScimTypeMutability,
		},
		{
			name:    "member without value",
			group:   true,
			direct:  true,
			ops:     `[{"op":"add","path":"members","value":[{"display":"nobody"}]}]`,
			wantErr: scimerrors.ScimTypeInvalidValue,
		},
		{
			name:  "add then remove the same member in one request (MS validator preview)",
			group: true,
			res:   `{"displayName":"G"}`,
			ops:   `[{"op":"add","path":"members","value":[{"value":"761a"}]},{"op":"remove","path":"members[value eq \"761a\"]"}]`,
			want:  `{"displayName":"G","members":[]}`,
		},
	} {
		t.Run(c.name, func(t *testing.T) { runApplyCase(t, c) })
	}
}

func TestApplyManager(t *testing.T) {
	const withManager = `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m0"}}}`
	const managerM1 = `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m1"}}}`
	const noManager = `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D"}}`
	const path = `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`
	var cases []applyCase
	for _, v := range []string{
		`"m1"`,
		`{"value":"m1"}`,
		`{"value":"m1","$ref":"https://idp.example/Users/m1"}`,
		`[{"$ref":"https://idp.example/Users/m1","value":"m1"}]`,
		`{"managerId":"m1"}`,
	} {
		for _, op := range []string{"add", "replace"} {
			cases = append(cases,
				applyCase{name: op + " " + v, res: withManager, ops: `[{"op":"` + op + `","path":"` + path + `","value":` + v + `}]`, want: managerM1},
				applyCase{name: op + " " + v + " direct", direct: true, res: withManager, ops: `[{"op":"` + op + `","path":"` + path + `","value":` + v + `}]`, want: managerM1},
			)
		}
	}
	for _, v := range []string{`{"value":""}`, `""`, `null`, `[]`, `{"value":null}`} {
		cases = append(cases, applyCase{name: "replace " + v + " removes", res: withManager, ops: `[{"op":"replace","path":"` + path + `","value":` + v + `}]`, want: noManager})
	}
	cases = append(cases,
		applyCase{name: "remove", res: withManager, ops: `[{"op":"remove","path":"` + path + `"}]`, want: noManager},
		applyCase{name: "unqualified manager path (Entra old docs)", res: withManager,
			ops: `[{"op":"Add","path":"manager","value":[{"$ref":"http://x/scim/Users/m1","value":"m1"}]}]`, want: managerM1},
		applyCase{name: "unqualified manager path, direct", direct: true, res: withManager,
			ops: `[{"op":"Add","path":"manager","value":"m1"}]`, want: managerM1},
		applyCase{name: "unqualified manager key in a pathless value", res: withManager,
			ops: `[{"op":"replace","value":{"manager":"m1"}}]`, want: managerM1},
		applyCase{name: "manager.value path", res: noManager,
			ops: `[{"op":"add","path":"` + path + `.value","value":"m1"}]`, want: managerM1},
		applyCase{name: "manager.value empty removes", res: withManager,
			ops: `[{"op":"replace","path":"` + path + `.value","value":""}]`, want: noManager},
		applyCase{name: "manager on a user without extension object",
			res: `{"userName":"a"}`, ops: `[{"op":"add","path":"` + path + `","value":{"value":"m1"}}]`,
			want: `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}}}`},
		applyCase{name: "removing the last extension attribute drops the object",
			res: `{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m1"}}}`,
			ops: `[{"op":"replace","path":"` + path + `","value":{"value":""}}]`, want: `{"userName":"a"}`},
		applyCase{name: "manager.displayName is read-only", res: withManager,
			ops: `[{"op":"replace","path":"` + path + `.displayName","value":"x"}]`, wantErr: scimerrors.ScimTypeMutability},
		applyCase{name: "manager as a number", direct: true, res: withManager,
			ops: `[{"op":"replace","path":"` + path + `","value":5}]`, wantErr: scimerrors.ScimTypeInvalidValue},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runApplyCase(t, c) })
	}
}

func TestApplyRequiredAndReadOnly(t *testing.T) {
	for _, c := range []applyCase{
		{name: "remove userName", ops: `[{"op":"remove","path":"userName"}]`, wantErr: scimerrors.ScimTypeMutability},
		{name: "remove group displayName", group: true, ops: `[{"op":"remove","path":"displayName"}]`, wantErr: scimerrors.ScimTypeMutability},
		{name: "replace userName with empty", ops: `[{"op":"replace","path":"userName","value":""}]`, wantErr: scimerrors.ScimTypeInvalidValue},
		{name: "replace userName with null", ops: `[{"op":"replace","path":"userName","value":null}]`, wantErr: scimerrors.ScimTypeMutability},
		{name: "replace userName with null, direct", direct: true, ops: `[{"op":"replace","path":"userName","value":null}]`, wantErr: scimerrors.ScimTypeInvalidValue},
		{name: "pathless empty displayName of a group", group: true, ops: `[{"op":"replace","value":{"displayName":""}}]`, wantErr: scimerrors.ScimTypeInvalidValue},
		{name: "groups with path", ops: `[{"op":"add","path":"groups","value":[{"value":"g1"}]}]`, wantErr: scimerrors.ScimTypeMutability},
		{name: "groups without path", ops: `[{"op":"replace","value":{"groups":[]}}]`, wantErr: scimerrors.ScimTypeMutability},
		{name: "remove groups", ops: `[{"op":"remove","path":"groups"}]`, wantErr: scimerrors.ScimTypeMutability},
		{name: "id path through elimity is invalidPath", ops: `[{"op":"replace","path":"id","value":"x"}]`, wantErr: scimerrors.ScimTypeInvalidPath},
		{name: "id path, direct", direct: true, ops: `[{"op":"replace","path":"id","value":"x"}]`, wantErr: scimerrors.ScimTypeMutability},
		{name: "id key, direct", direct: true, ops: `[{"op":"replace","value":{"id":"x","displayName":"y"}}]`, wantErr: scimerrors.ScimTypeMutability},
		{name: "meta, direct", direct: true, ops: `[{"op":"replace","path":"meta.created","value":"x"}]`, wantErr: scimerrors.ScimTypeMutability},
		{name: "schemas, direct", direct: true, ops: `[{"op":"replace","value":{"schemas":["x"]}}]`, wantErr: scimerrors.ScimTypeMutability},
	} {
		t.Run(c.name, func(t *testing.T) { runApplyCase(t, c) })
	}
}

func TestApplyNullAndEmpty(t *testing.T) {
	const u = `{"userName":"a","nickName":"n","title":"t","name":{"givenName":"G","familyName":"F"}}`
	for _, c := range []applyCase{
		{name: "replace null removes (through NormalizeBody)", res: u, ops: `[{"op":"replace","path":"nickName","value":null}]`, want: `{"userName":"a","title":"t","name":{"givenName":"G","familyName":"F"}}`},
		{name: "add null removes (through NormalizeBody)", res: u, ops: `[{"op":"add","path":"nickName","value":null}]`, want: `{"userName":"a","title":"t","name":{"givenName":"G","familyName":"F"}}`},
		{name: "replace null removes, direct", direct: true, res: u, ops: `[{"op":"replace","path":"nickName","value":null}]`, want: `{"userName":"a","title":"t","name":{"givenName":"G","familyName":"F"}}`},
		{name: "sub-attribute null removes", res: u, ops: `[{"op":"replace","path":"name.givenName","value":null}]`, want: `{"userName":"a","nickName":"n","title":"t","name":{"familyName":"F"}}`},
		{name: "pathless null keys remove (through NormalizeBody)", res: u, ops: `[{"op":"replace","value":{"nickName":null,"title":"T2"}}]`, want: `{"userName":"a","title":"T2","name":{"givenName":"G","familyName":"F"}}`},
		{name: "pathless null keys, direct", direct: true, res: u, ops: `[{"op":"replace","value":{"nickName":null,"title":null}}]`, want: `{"userName":"a","name":{"givenName":"G","familyName":"F"}}`},
		{name: "empty string for an optional string removes", res: u, ops: `[{"op":"replace","path":"nickName","value":""},{"op":"replace","value":{"title":""}}]`, want: `{"userName":"a","name":{"givenName":"G","familyName":"F"}}`},
		{name: "emptying every sub-attribute drops the complex", res: u, ops: `[{"op":"replace","path":"name.givenName","value":""},{"op":"remove","path":"name.familyName"}]`, want: `{"userName":"a","nickName":"n","title":"t"}`},
		{name: "add null to members adds nothing", group: true, ops: `[{"op":"add","path":"members","value":null}]`, want: baseGroup},
		{name: "replace null on members empties it", group: true, ops: `[{"op":"replace","path":"members","value":null}]`, want: `{"displayName":"Admins","externalId":"ext-1","members":[]}`},
	} {
		t.Run(c.name, func(t *testing.T) { runApplyCase(t, c) })
	}
}

func TestApplyErrors(t *testing.T) {
	for _, c := range []applyCase{
		{name: "unknown op", direct: true, ops: `[{"op":"move","path":"userName","value":"x"}]`, wantErr: scimerrors.ScimTypeInvalidValue},
		{name: "remove without path", direct: true, ops: `[{"op":"remove"}]`, wantErr: scimerrors.ScimTypeNoTarget},
		{name: "unknown attribute path", direct: true, ops: `[{"op":"replace","path":"nosuch","value":"x"}]`, wantErr: scimerrors.ScimTypeInvalidPath},
		{name: "unknown sub-attribute", direct: true, ops: `[{"op":"replace","path":"name.nosuch","value":"x"}]`, wantErr: scimerrors.ScimTypeInvalidPath},
		{name: "unknown filter attribute", direct: true, ops: `[{"op":"replace","path":"emails[nosuch eq \"x\"].value","value":"x"}]`, wantErr: scimerrors.ScimTypeInvalidPath},
		{name: "filter on single-valued", direct: true, ops: `[{"op":"replace","path":"name[givenName eq \"x\"].familyName","value":"x"}]`, wantErr: scimerrors.ScimTypeInvalidPath},
		{name: "sub-attribute of a simple attribute", direct: true, ops: `[{"op":"replace","path":"userName.x","value":"x"}]`, wantErr: scimerrors.ScimTypeInvalidPath},
		{name: "wrong type", direct: true, ops: `[{"op":"replace","path":"name.givenName","value":5}]`, wantErr: scimerrors.ScimTypeInvalidValue},
		{name: "wrong element type", direct: true, ops: `[{"op":"add","path":"emails","value":["a@x"]}]`, wantErr: scimerrors.ScimTypeInvalidValue},
		{name: "complex given a string", direct: true, ops: `[{"op":"replace","path":"name","value":"x"}]`, wantErr: scimerrors.ScimTypeInvalidValue},
	} {
		t.Run(c.name, func(t *testing.T) { runApplyCase(t, c) })
	}
}

// TestApplyAtomicAndDetail checks that a failing operation leaves nothing
// applied and that the detail names the operation index and its path.
func TestApplyAtomicAndDetail(t *testing.T) {
	in := mustMap(t, baseUser)
	before := jsonShape(t, in)
	ops := directOps(t, `[{"op":"replace","path":"nickName","value":"n"},{"op":"remove","path":"userName"}]`)
	got, err := Apply(in, ops, userSchema())
	se := assertScimErr(t, err, scimerrors.ScimTypeMutability)
	if got != nil {
		t.Errorf("result %v returned with an error", got)
	}
	for _, want := range []string{"operation 1", `"userName"`, "remove"} {
		if !strings.Contains(se.Detail, want) {
			t.Errorf("detail %q lacks %q", se.Detail, want)
		}
	}
	if diff := cmp.Diff(before, jsonShape(t, in)); diff != "" {
		t.Errorf("input changed:\n%s", diff)
	}

	// Through elimity the ScimError value becomes the response body.
	ts := newTestServer(t, true)
	ts.users.put("u", mustMap(t, baseUser))
	code, body := ts.patch("Users", "u", patchBody(`[{"op":"replace","path":"nickName","value":"n"},{"op":"remove","path":"userName"}]`))
	if code != http.StatusBadRequest || !strings.Contains(body, "operation 1") || !strings.Contains(body, "mutability") {
		t.Fatalf("got %d %s", code, body)
	}
	if _, ok := ts.users.get("u")["nickName"]; ok {
		t.Error("first operation was applied although the second failed")
	}
}

// TestApplyCopyOnWrite runs operations that edit every kind of nested value
// (extension object, reference, complex, list elements via filter, primary
// clearing, merge, sub-attribute removal) and checks the input is untouched,
// while a list no operation touches is shared, not copied.
func TestApplyCopyOnWrite(t *testing.T) {
	in := mustMap(t, `{"userName":"a","name":{"givenName":"G"},
		"emails":[{"type":"work","value":"w@x","primary":true},{"type":"home","value":"h@x","display":"H"}],
		"addresses":[{"type":"work","formatted":"F"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D","manager":{"value":"m0"}}}`)
	before := jsonShape(t, in)
	ops := directOps(t, `[
		{"op":"replace","path":"name.givenName","value":"G2"},
		{"op":"add","path":"name.familyName","value":"F2"},
		{"op":"replace","path":"emails[type eq \"home\"].primary","value":true},
		{"op":"add","path":"emails[type eq \"work\"]","value":{"display":"W"}},
		{"op":"remove","path":"emails[type eq \"home\"].display"},
		{"op":"replace","path":"emails[type eq \"work\"].value","value":"w2@x"},
		{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"E"},
		{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"m1"}]`)
	out, err := Apply(in, ops, userSchema())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, jsonShape(t, in)); diff != "" {
		t.Fatalf("input changed (-before +after):\n%s", diff)
	}
	assertResource(t, out, `{"userName":"a","name":{"givenName":"G2","familyName":"F2"},
		"emails":[{"type":"work","value":"w2@x","primary":false,"display":"W"},{"type":"home","value":"h@x","primary":true}],
		"addresses":[{"type":"work","formatted":"F"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"E","manager":{"value":"m1"}}}`)
	if &out["addresses"].([]any)[0] != &in["addresses"].([]any)[0] {
		t.Error("an untouched list was copied")
	}
}

func TestApplyNilAndOddInputs(t *testing.T) {
	out, err := Apply(nil, directOps(t, `[{"op":"add","path":"userName","value":"u"}]`), userSchema())
	if err != nil || out["userName"] != "u" {
		t.Fatalf("Apply(nil) = %v, %v", out, err)
	}
	// Stored data of unexpected shapes is replaced, not a panic.
	odd := map[string]any{
		"userName": "a",
		"emails":   "not-a-list",
		"name":     []any{1, 2},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "not-an-object",
		"members": []map[string]any{{"value": "x"}},
	}
	ops := directOps(t, `[{"op":"add","path":"emails[type eq \"work\"].value","value":"w@x"},{"op":"replace","path":"name.givenName","value":"G"},{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"D"}]`)
	out, err = Apply(odd, ops, userSchema())
	if err != nil {
		t.Fatal(err)
	}
	assertResource(t, out, `{"userName":"a","emails":["not-a-list",{"type":"work","value":"w@x"}],"name":{"givenName":"G"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"D"},"members":[{"value":"x"}]}`)
	if _, err := Apply(map[string]any{}, []scim.PatchOperation{{Op: "add"}}, userSchema()); err == nil {
		t.Error("add without path and value succeeded")
	}
}

func ExampleApply() {
	res := map[string]any{"userName": "bjensen", "active": true}
	ops := []scim.PatchOperation{{Op: "replace", Value: map[string]any{"active": false}}}
	out, err := Apply(res, ops, Schema{Core: userSchema().Core, Extensions: userSchema().Extensions})
	fmt.Println(out["active"], res["active"], err)
	// Output: false true <nil>
}
