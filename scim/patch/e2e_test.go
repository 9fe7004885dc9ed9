package patch

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// e2e is a real HTTP server on 127.0.0.1: NormalizeBody in front of an
// elimity scim.Server whose handlers apply PATCH with Apply over in-memory
// maps. Bodies are the verbatim IdP bodies of idp-scim-clients.md.
type e2e struct {
	*testServer
	url string
}

func newE2E(t *testing.T) *e2e {
	t.Helper()
	ts := newTestServer(t, true)
	srv := httptest.NewServer(ts.handler)
	t.Cleanup(srv.Close)
	return &e2e{testServer: ts, url: srv.URL}
}

// send PATCHes body to /{endpoint}/{id} over HTTP and requires 200.
func (e *e2e) send(t *testing.T, endpoint, id, body string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPatch, e.url+"/v2/"+endpoint+"/"+id, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/scim+json; charset=utf-8")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PATCH %s/%s: status %d %s\nbody: %s", endpoint, id, resp.StatusCode, b, body)
	}
	if !strings.Contains(string(b), `"id":"`+id+`"`) {
		t.Errorf("response lacks the id: %s", b)
	}
}

func readIdPBody(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "idp", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestE2EOkta(t *testing.T) {
	e := newE2E(t)
	const uid, u2, gid = "23a35c27-23d3-4c03-b4c5-6443c09e7173", "89bb1940-b905-4575-9e7f-6f887cfb368e", "abf4dd94-a4c0-4f67-89c9-76b03340cb9b"
	e.users.put(uid, mustMap(t, `{"userName":"test.user@okta.local","name":{"givenName":"Another","familyName":"User"},
		"emails":[{"primary":true,"value":"test.user@okta.local","type":"work","display":"test.user@okta.local"}],"active":true}`))
	e.groups.put(gid, mustMap(t, `{"displayName":"Test SCIMv2","members":[]}`))

	// §2.6 deactivate and reactivate: no path, object value.
	e.send(t, "Users", uid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations": [{"op": "replace", "value": {"active": false}}]}`)
	if e.users.get(uid)["active"] != false {
		t.Fatalf("not deactivated: %v", e.users.get(uid))
	}
	e.send(t, "Users", uid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations": [{"op": "replace", "value": {"active": true}}]}`)
	if e.users.get(uid)["active"] != true {
		t.Fatalf("not reactivated: %v", e.users.get(uid))
	}

	// §2.8 full overwrite ("Push Now").
	e.send(t, "Groups", gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations": [{"op": "replace", "path": "members", "value": [
   {"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"},
   {"value": "89bb1940-b905-4575-9e7f-6f887cfb368e", "display": "test.user@okta.local"}]}]}`)
	assertResource(t, e.groups.get(gid), `{"displayName":"Test SCIMv2","members":[{"value":"`+uid+`"},{"value":"`+u2+`"}]}`)

	// §2.8 membership: remove by filter and add in one request; the add
	// re-sends an existing member.
	e.send(t, "Groups", gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations": [
   {"op": "remove", "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"},
   {"op": "add", "path": "members", "value": [{"value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local"}]}
 ]}`)
	assertResource(t, e.groups.get(gid), `{"displayName":"Test SCIMv2","members":[{"value":"`+uid+`"}]}`)

	// §2.8 rename: the value carries the group id.
	e.send(t, "Groups", gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations": [{"op": "replace", "value": {"id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b", "displayName": "Test SCIMv2 renamed"}}]}`)
	assertResource(t, e.groups.get(gid), `{"displayName":"Test SCIMv2 renamed","members":[{"value":"`+uid+`"}]}`)

	// elimity's okta/update_group_membership.json fixture: three ops.
	e.send(t, "Groups", gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]"},{"op":"add","path":"members","value":[{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173","display":"test.user@okta.local"}]},{"op":"replace","path":"members","value":[{"value":"23a35c27-23d3-4c03-b4c5-6443c09e7173","display":"test.user@okta.local"},{"value":"89bb1940-b905-4575-9e7f-6f887cfb368e","display":"test.user@okta.local"}]}]}`)
	assertResource(t, e.groups.get(gid), `{"displayName":"Test SCIMv2 renamed","members":[{"value":"`+uid+`"},{"value":"`+u2+`"}]}`)
}

func TestE2EEntraWithoutFlag(t *testing.T) {
	e := newE2E(t)
	const uid, gid = "5b50642d", "40734ae655284ad3abcc"
	e.users.put(uid, mustMap(t, `{"userName":"old@testuser.com","active":true,"name":{"givenName":"G","familyName":"F"},
		"emails":[{"type":"work","value":"old@microsoft.com","primary":true}]}`))

	// §3.5 the documented default body.
	e.send(t, "Users", uid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations": [
   {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "updatedEmail@microsoft.com"},
   {"op": "Replace", "path": "name.familyName", "value": "updatedFamilyName"}]}`)
	e.send(t, "Users", uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"userName","value":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com"}]}`)
	e.send(t, "Users", uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"nickName","value":"Babs"}]}`)
	// §3.5 multiple attributes: separate Replace ops.
	e.send(t, "Users", uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Replace","path":"displayName","value":"Bjfe"},
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"TestMhvaes@test.microsoft.com"},
		{"op":"Replace","path":"name.givenName","value":"Kkom"},
		{"op":"Replace","path":"name.familyName","value":"Unua"},
		{"op":"Replace","path":"externalId","value":"mailnick"},
		{"op":"Replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber","value":"Aklq"}]}`)
	// §3.6 disable with the string "False".
	e.send(t, "Users", uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	if e.users.get(uid)["active"] != false {
		t.Fatalf("active %v", e.users.get(uid)["active"])
	}
	// Other shapes seen in the field (§3.5, §3.8).
	e.send(t, "Users", uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department","value":"Retail"},
		{"op":"Replace","path":"addresses[type eq \"work\"].formatted","value":"1 Main St"},
		{"op":"Add","path":"addresses[type eq \"work\"].locality","value":"Springfield"},
		{"op":"Add","path":"phoneNumbers[type eq \"work\"].value","value":"1-612-619-9001"},
		{"op":"Add","path":"addresses[type eq \"other\"].Formatted","value":"Office 12"},
		{"op":"Add","path":"emails[type eq \"other\"].Value","value":"proxy@microsoft.com"}]}`)
	// The manager as real Entra sends it: a bare string.
	e.send(t, "Users", uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}]}`)
	assertResource(t, e.users.get(uid), `{
		"userName":"5b50642d-79fc-4410-9e90-4c077cdd1a59@testuser.com","active":false,"nickName":"Babs","displayName":"Bjfe","externalId":"mailnick",
		"name":{"givenName":"Kkom","familyName":"Unua"},
		"emails":[{"type":"work","value":"TestMhvaes@test.microsoft.com","primary":true},{"type":"other","value":"proxy@microsoft.com"}],
		"addresses":[{"type":"work","formatted":"1 Main St","locality":"Springfield"},{"type":"other","formatted":"Office 12"}],
		"phoneNumbers":[{"type":"work","value":"1-612-619-9001"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"Aklq","department":"Retail","manager":{"value":"2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2"}}}`)
	// The old documentation's manager: unqualified path, array value.
	e.send(t, "Users", uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"manager","value":[{"$ref":"http://example.com/scim/Users/00aa00aa","value":"00aa00aa"}]}]}`)
	// Remove carrying the value (SCIMReferenceCode PR #87), re-enable.
	e.send(t, "Users", uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"emails[type eq \"other\"].value","value":"proxy@microsoft.com"},{"op":"Replace","path":"active","value":"True"}]}`)
	u := e.users.get(uid)
	if u["active"] != true {
		t.Errorf("active %v", u["active"])
	}
	assertResource(t, map[string]any{"emails": u["emails"], "ext": u[enterpriseURN]}, `{
		"emails":[{"type":"work","value":"TestMhvaes@test.microsoft.com","primary":true}],
		"ext":{"employeeNumber":"Aklq","department":"Retail","manager":{"value":"00aa00aa"}}}`)

	// Groups §3.7.
	e.groups.put(gid, mustMap(t, `{"displayName":"displayName","externalId":"8aa1a0c0","members":[]}`))
	e.send(t, "Groups", gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations": [{"op": "Add", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}]}`)
	e.send(t, "Groups", gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Add","path":"members","value":[{"value":"u1091"},{"value":"u2000"}]}]}`)
	e.send(t, "Groups", gid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations": [{"op": "Remove", "path": "members", "value": [{"$ref": null, "value": "f648f8d5ea4e4cd38e9c"}]}]}`)
	e.send(t, "Groups", gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"u1091"}]}]}`)
	assertResource(t, e.groups.get(gid), `{"displayName":"displayName","externalId":"8aa1a0c0","members":[{"value":"u2000"}]}`)
	e.send(t, "Groups", gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"}]}`)
	// elimity's azuread/update_group.json fixture.
	e.send(t, "Groups", gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","path":"displayName","value":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName"},{"op":"Add","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]},{"op":"Remove","path":"members","value":[{"$ref":null,"value":"f648f8d5ea4e4cd38e9c"}]}]}`)
	assertResource(t, e.groups.get(gid), `{"displayName":"1879db59-3bdf-4490-ad68-ab880a269474updatedDisplayName","externalId":"8aa1a0c0","members":[{"value":"u2000"}]}`)
}

func TestE2EEntraWithFlag(t *testing.T) {
	e := newE2E(t)
	const uid, gid = "u-flag", "g-flag"
	e.users.put(uid, mustMap(t, `{"userName":"x@y","active":true,"emails":[{"type":"work","value":"old@y"}]}`))
	e.groups.put(gid, mustMap(t, `{"displayName":"G","members":[{"value":"7f4bc1a3-285e-48ae-8202-5accb43efb0e"},{"value":"keep"}]}`))

	e.send(t, "Users", uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"nickName","value":"Babs"}]}`)
	// §3.5 with the flag: dotted and URN-qualified keys in a pathless value.
	e.send(t, "Users", uid, `{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
 "Operations": [
   {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com"},
   {"op": "replace", "value": {"displayName": "Bjfe", "name.givenName": "Kkom", "name.familyName": "Unua",
       "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "Aklq"}}]}`)
	e.send(t, "Users", uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`)
	assertResource(t, e.users.get(uid), `{"userName":"x@y","active":false,"nickName":"Babs","displayName":"Bjfe",
		"name":{"givenName":"Kkom","familyName":"Unua"},"emails":[{"type":"work","value":"TestMhvaes@test.microsoft.com"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"Aklq"}}`)

	// §3.7 remove member with the flag.
	e.send(t, "Groups", gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"7f4bc1a3-285e-48ae-8202-5accb43efb0e\"]"}]}`)
	assertResource(t, e.groups.get(gid), `{"displayName":"G","members":[{"value":"keep"}]}`)
}

func TestE2EMSValidator(t *testing.T) {
	e := newE2E(t)
	const uid, gid = "77255a36-b80e-4762-b36b-33b6aa76631d", "90b63fd7-197d-4634-ac88-4faafb2a19cb"
	// The validator's fixture user as POST stores it (roles' "True"
	// coerced to a boolean, schemas dropped).
	e.users.put(uid, mustMap(t, `{"userName":"nickolas.bernhard@robelweber.info","active":true,"displayName":"JWGAQIENDVEM","title":"FQXEKTXNBKMB","emails":[{"type":"work","value":"nannie.marvin@russel.com","primary":true}],"preferredLanguage":"el-CY","name":{"givenName":"Stefanie","familyName":"Rollin","formatted":"Omari","middleName":"Jayce","honorificPrefix":"Chesley","honorificSuffix":"Hulda"},"addresses":[{"type":"work","formatted":"LLGPQERHVEPF","streetAddress":"3008 Jarret Rue","locality":"CRLKORAGBJLS","region":"THZISNWKCDPJ","postalCode":"pr01 7fy","primary":true,"country":"Estonia"}],"phoneNumbers":[{"type":"work","value":"45-955-7623","primary":true},{"type":"mobile","value":"45-955-7623"},{"type":"fax","value":"45-955-7623"}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"PAUCKSIOCHXT","department":"BRYTQSAMNUFV","costCenter":"OEBKZAUQECWO","organization":"JPIYQKLDOKUE","division":"KZNWIHJCWDKZ","manager":{"value":"CYKQWKOFNTWC"}},"roles":[{"primary":true,"display":"HRHFBMXLZSTZ","value":"RTSKUXALBPLQ","type":"VMIYJTGCMNLT"}],"userType":"PHMUOBTAQGGR","nickName":"WIULSWICPERK","locale":"NNRDFXPHOXUY","timezone":"America/Guyana","profileUrl":"MFGMUGTYPBKA"}`))

	e.send(t, "Users", uid, readIdPBody(t, "msvalidator-00.json"))
	assertResource(t, e.users.get(uid), `{"userName":"nickolas.bernhard@robelweber.info","active":true,"displayName":"GTNCXBFJAYYF","title":"NRMIMLXXPFCQ",
		"emails":[{"type":"work","value":"art@botsford.ca","primary":true}],"preferredLanguage":"nus-SS",
		"name":{"givenName":"Jaqueline","familyName":"Jaylin","formatted":"Alphonso","middleName":"Burley","honorificPrefix":"Jordan","honorificSuffix":"Carmelo"},
		"addresses":[{"type":"work","formatted":"SLSIAOINWGKF","streetAddress":"42543 Matteo Squares","locality":"SRGBSNWYWKCE","region":"TPUDYFKYCXZG","postalCode":"cd4 6xm","primary":true,"country":"Tunisia"}],
		"phoneNumbers":[{"type":"work","value":"16-953-9121","primary":true},{"type":"mobile","value":"16-953-9121"},{"type":"fax","value":"16-953-9121"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"YELOFEEPPTQS","department":"BAGAJLIBBUNP","costCenter":"RFANDONCHLHU","organization":"JGHHQBCZMILV","division":"REQRSGZKITYC","manager":{"value":"CYKQWKOFNTWC"}},
		"roles":[{"primary":true,"display":"CFBCZENNYVAA","value":"YJSPMLTGMQYP","type":"GOHYCDLRADAY"}],
		"userType":"GJZUUWCYFNGO","nickName":"KGTEXLURUSTJ","locale":"AESNOPDZYXPE","timezone":"America/Costa_Rica","profileUrl":"FPOCWAGSMIDK"}`)

	e.send(t, "Users", uid, readIdPBody(t, "msvalidator-01.json"))
	if got := e.users.get(uid)["userName"]; got != "burdette@beer.co.uk" {
		t.Errorf("userName %v", got)
	}
	e.send(t, "Users", uid, readIdPBody(t, "msvalidator-02.json"))
	if got := e.users.get(uid)["active"]; got != false {
		t.Errorf("active %v", got)
	}
	manager := func() any {
		ext, _ := e.users.get(uid)[enterpriseURN].(map[string]any)
		return ext["manager"]
	}
	e.send(t, "Users", uid, readIdPBody(t, "msvalidator-03.json"))
	assertResource(t, map[string]any{"m": manager()}, `{"m":{"value":"1f556bd0-c280-458b-9d95-21f2b68755da"}}`)
	e.send(t, "Users", uid, readIdPBody(t, "msvalidator-04.json"))
	assertResource(t, map[string]any{"m": manager()}, `{"m":{"value":"53db2194-fab8-4121-b101-8f6909e50b8e"}}`)
	e.send(t, "Users", uid, readIdPBody(t, "msvalidator-05.json"))
	if m := manager(); m != nil {
		t.Errorf("manager not removed: %v", m)
	}
	e.send(t, "Users", uid, readIdPBody(t, "msvalidator-10.json"))
	if u := e.users.get(uid); u["displayName"] != "FBPCNVCHETXV" || u["title"] != "EBBINEPPNBDO" {
		t.Errorf("displayName %v title %v", u["displayName"], u["title"])
	}

	e.groups.put(gid, mustMap(t, `{"displayName":"VGTYIGGWFQIA","externalId":"895c1bcf","members":[]}`))
	e.send(t, "Groups", gid, readIdPBody(t, "msvalidator-06.json"))
	e.send(t, "Groups", gid, readIdPBody(t, "msvalidator-07.json"))
	e.send(t, "Groups", gid, readIdPBody(t, "msvalidator-08.json"))
	assertResource(t, e.groups.get(gid), `{"displayName":"WUZPWMBDDCGI","externalId":"663fa3a8-e2b6-4ac0-96c8-363432cdc01d","members":[{"value":"805d32c6-9e01-43b9-9735-4576cae634b5"}]}`)
	// The validator's setup replaces the members with two before removing one.
	e.groups.put(gid, mustMap(t, `{"displayName":"G","members":[{"value":"ee90548a-11dd-4795-b3ac-9cfcd99232bc"},{"value":"805d32c6-9e01-43b9-9735-4576cae634b5"}]}`))
	e.send(t, "Groups", gid, readIdPBody(t, "msvalidator-09.json"))
	e.send(t, "Groups", gid, readIdPBody(t, "msvalidator-11.json"))
	assertResource(t, e.groups.get(gid), `{"displayName":"G","members":[{"value":"805d32c6-9e01-43b9-9735-4576cae634b5"}]}`)
}

func TestE2EPostman(t *testing.T) {
	e := newE2E(t)
	const id1, gid, id4 = "id-1", "group-1", "id-4"
	sub := func(body string) string {
		return strings.NewReplacer("{{id4}}", id4, "{{1stgroupid}}", gid).Replace(body)
	}
	e.users.put(id1, mustMap(t, `{"userName":"UserName123","active":true,"displayName":"BobIsAmazing"}`))
	e.send(t, "Users", id1, readIdPBody(t, "postman-00.json"))
	if got := e.users.get(id1)["userName"]; got != "ryan3" {
		t.Errorf("userName %v", got)
	}
	e.send(t, "Users", id1, readIdPBody(t, "postman-05.json"))
	e.send(t, "Users", id1, readIdPBody(t, "postman-06.json"))
	assertResource(t, e.users.get(id1), `{"userName":"newusername","active":false,"displayName":"BobIsAmazing"}`)

	e.groups.put(gid, mustMap(t, `{"displayName":"Group1DisplayName","members":[{"value":"id-3"}]}`))
	e.send(t, "Groups", gid, sub(readIdPBody(t, "postman-01.json"))) // "name":"addMember"
	assertResource(t, e.groups.get(gid), `{"displayName":"Group1DisplayName","members":[{"value":"id-3"},{"value":"id-4"}]}`)
	e.send(t, "Groups", gid, sub(readIdPBody(t, "postman-02.json")))
	assertResource(t, e.groups.get(gid), `{"displayName":"Group1DisplayName","members":[{"value":"id-3"}]}`)
	e.send(t, "Groups", gid, sub(readIdPBody(t, "postman-03.json")))
	e.send(t, "Groups", gid, sub(readIdPBody(t, "postman-04.json"))) // remove all
	assertResource(t, e.groups.get(gid), `{"displayName":"Group1DisplayName","members":[]}`)

	// "Group tests with garbage": bare string value and a top-level id.
	e.send(t, "Groups", gid, sub(readIdPBody(t, "postman-07.json")))
	e.send(t, "Groups", gid, sub(readIdPBody(t, "postman-08.json")))
	assertResource(t, e.groups.get(gid), `{"displayName":"Group1DisplayName","members":[{"value":"string id 1"},{"value":"string id 2"}]}`)
}

// TestE2EOneLoginJumpCloud uses the group PATCH shapes the docs report for
// OneLogin (lowercase ops, value list; UNVERIFIED beyond "op":"add") and
// JumpCloud (Azure-style remove with a value list, uni-moni KB, REPORTED).
func TestE2EOneLoginJumpCloud(t *testing.T) {
	e := newE2E(t)
	const gid = "g-ol"
	e.groups.put(gid, mustMap(t, `{"displayName":"Engineering","members":[]}`))
	e.send(t, "Groups", gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"ol-1"},{"value":"ol-2"},{"value":"ol-3"}]}]}`)
	e.send(t, "Groups", gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members","value":[{"value":"ol-2"}]}]}`)
	assertResource(t, e.groups.get(gid), `{"displayName":"Engineering","members":[{"value":"ol-1"},{"value":"ol-3"}]}`)
	// JumpCloud renames ("Group renaming is supported") and syncs members.
	e.send(t, "Groups", gid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Engineering 2"},{"op":"remove","path":"members","value":[{"value":"ol-1"},{"value":"ol-3"}]}]}`)
	assertResource(t, e.groups.get(gid), `{"displayName":"Engineering 2","members":[]}`)

	// OneLogin's string booleans in a user update.
	const uid = "u-ol"
	e.users.put(uid, mustMap(t, `{"userName":"ol@x","active":true}`))
	e.send(t, "Users", uid, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":"false","name.givenName":"Ann"}}]}`)
	assertResource(t, e.users.get(uid), `{"userName":"ol@x","active":false,"name":{"givenName":"Ann"}}`)
}
