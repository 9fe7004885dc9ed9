package scim_test

// Requests from the black-box probe of issue 2 (helpers/P) that were
// answered wrongly, driven through the full server over HTTP and SQLite.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/patch"
)

const (
	probeUserSchema = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	probePatchOp    = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
	probeSearch     = `"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]`
)

// wantError checks a SCIM error answer's status and scimType ("" for none).
func wantError(t *testing.T, what string, status int, doc map[string]any, wantStatus int, wantType string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("%s: status %d, want %d (%v)", what, status, wantStatus, doc)
		return
	}
	if got, _ := doc["scimType"].(string); got != wantType {
		t.Errorf("%s: scimType %q, want %q (%v)", what, got, wantType, doc)
	}
	if d, _ := doc["detail"].(string); d == "" {
		t.Errorf("%s: error without detail: %v", what, doc)
	}
}

// A request body must be one JSON value in UTF-8 (RFC 8259 sections 2 and
// 8.1): elimity and the direct create path read the first value and ignored
// what followed, and encoding/json turned invalid UTF-8 into U+FFFD, so
// `{...} junk` was accepted and a userName read back other than sent.
// Each refusal changes nothing.
func TestProbeBodyIsOneUTF8JSONValue(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	status, _, doc := e.do(http.MethodPost, "/Users", `{`+probeUserSchema+`,"userName":"kept","title":"before"}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, doc)
	}
	id := doc["id"].(string)
	_, _, before, _ := e.doRaw(http.MethodGet, "/Users/"+id, "")

	for _, tc := range []struct{ name, method, path, body string }{
		{"POST trailing object", http.MethodPost, "/Users", `{` + probeUserSchema + `,"userName":"trailing"} {"more":1}`},
		{"POST trailing word", http.MethodPost, "/Users", `{` + probeUserSchema + `,"userName":"trailing2"} junk`},
		{"POST invalid UTF-8", http.MethodPost, "/Users", `{` + probeUserSchema + `,"userName":"bad` + "\xff" + `"}`},
		{"POST group trailing", http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g"}]`},
		{"PUT trailing", http.MethodPut, "/Users/" + id, `{` + probeUserSchema + `,"userName":"kept","title":"after"} x`},
		{"PUT invalid UTF-8", http.MethodPut, "/Users/" + id, `{` + probeUserSchema + `,"userName":"kept","title":"` + "\xc3\x28" + `"}`},
		{"PATCH invalid UTF-8", http.MethodPatch, "/Users/" + id, `{` + probePatchOp + `,"Operations":[{"op":"replace","path":"title","value":"` + "\xff" + `"}]}`},
		{"PATCH trailing", http.MethodPatch, "/Users/" + id, `{` + probePatchOp + `,"Operations":[{"op":"replace","path":"title","value":"x"}]} {}`},
		{"search trailing", http.MethodPost, "/Users/.search", `{` + probeSearch + `} x`},
	} {
		status, _, doc := e.do(tc.method, tc.path, tc.body)
		wantError(t, tc.name, status, doc, http.StatusBadRequest, "invalidSyntax")
	}
	_, _, after, _ := e.doRaw(http.MethodGet, "/Users/"+id, "")
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("the user changed (-before +after):\n%s", diff)
	}
	for _, ep := range []string{"/Users", "/Groups"} {
		_, _, list := e.do(http.MethodGet, ep, "")
		want := 0.0
		if ep == "/Users" {
			want = 1
		}
		if list["totalResults"] != want {
			t.Errorf("GET %s: totalResults %v, want %v: a refused body created something", ep, list["totalResults"], want)
		}
	}
}

// RFC 7644 section 4: on /Schemas and /ResourceTypes, pagination "SHALL be
// ignored" and a filter SHOULD get 403; RFC 7643 sections 6 and 7 give each
// resource a meta with resourceType and location. elimity paged by
// startIndex/count, answered itemsPerPage 500, silently filtered (0
// resources, totalResults 6) and gave no meta.
func TestProbeDiscovery(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	const base = "https://bridge.example.com/scim/v2/t"
	for _, tc := range []struct {
		endpoint, resourceType string
		want                   []string
	}{
		{"Schemas", "Schema", []string{
			"urn:ietf:params:scim:schemas:core:2.0:Group",
			"urn:ietf:params:scim:schemas:core:2.0:ResourceType",
			"urn:ietf:params:scim:schemas:core:2.0:Schema",
			"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig",
			"urn:ietf:params:scim:schemas:core:2.0:User",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
		}},
		{"ResourceTypes", "ResourceType", []string{"Group", "User"}},
	} {
		for _, q := range []string{"", "?count=1", "?startIndex=2&count=1", "?attributes=id"} {
			status, h, doc := e.do(http.MethodGet, "/"+tc.endpoint+q, "")
			if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "application/scim+json") {
				t.Fatalf("GET /%s%s: %d %s %v", tc.endpoint, q, status, h.Get("Content-Type"), doc)
			}
			res, _ := doc["Resources"].([]any)
			n := float64(len(tc.want))
			if len(res) != len(tc.want) || doc["totalResults"] != n || doc["itemsPerPage"] != n || doc["startIndex"] != 1.0 {
				t.Errorf("GET /%s%s: %d resources, totalResults %v, itemsPerPage %v, startIndex %v; want %v of each, startIndex 1",
					tc.endpoint, q, len(res), doc["totalResults"], doc["itemsPerPage"], doc["startIndex"], n)
			}
			var ids []string
			for _, r := range res {
				m := r.(map[string]any)
				id, _ := m["id"].(string)
				ids = append(ids, id)
				wantMeta := map[string]any{"resourceType": tc.resourceType, "location": base + "/" + tc.endpoint + "/" + id}
				if diff := cmp.Diff(wantMeta, m["meta"]); diff != "" {
					t.Errorf("GET /%s%s: %s meta (-want +got):\n%s", tc.endpoint, q, id, diff)
				}
			}
			if q == "" {
				if diff := cmp.Diff(tc.want, slices.Sorted(slices.Values(ids))); diff != "" {
					t.Errorf("GET /%s ids (-want +got):\n%s", tc.endpoint, diff)
				}
			}
		}
		for _, id := range tc.want {
			status, _, doc := e.do(http.MethodGet, "/"+tc.endpoint+"/"+id, "")
			wantMeta := map[string]any{"resourceType": tc.resourceType, "location": base + "/" + tc.endpoint + "/" + id}
			if status != http.StatusOK || doc["id"] != id {
				t.Errorf("GET /%s/%s: %d %v", tc.endpoint, id, status, doc)
			} else if diff := cmp.Diff(wantMeta, doc["meta"]); diff != "" {
				t.Errorf("GET /%s/%s meta (-want +got):\n%s", tc.endpoint, id, diff)
			}
		}
		status, _, doc := e.do(http.MethodGet, "/"+tc.endpoint+"/Nope", "")
		wantError(t, "GET /"+tc.endpoint+"/Nope", status, doc, http.StatusNotFound, "")
	}
	for _, ep := range []string{"Schemas", "ResourceTypes", "ServiceProviderConfig"} {
		status, _, doc := e.do(http.MethodGet, "/"+ep+"?filter="+url.QueryEscape(`id eq "User"`), "")
		wantError(t, "GET /"+ep+"?filter", status, doc, http.StatusForbidden, "")
	}
}

// POST /.search answers as GET with the same parameters (RFC 7644 section
// 3.4.3): elimity's search answered itemsPerPage with the requested count
// (500), refused Entra's `emails[type eq "work"].value eq` form that GET
// accepts, and sent errors without a scimType.
func TestProbeSearchAnswersAsList(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	for _, n := range []string{"ada", "bob", "cy"} {
		status, _, doc := e.do(http.MethodPost, "/Users", `{`+probeUserSchema+`,"userName":"`+n+`","emails":[{"type":"work","value":"`+n+`@example.com"}]}`)
		if status != http.StatusCreated {
			t.Fatalf("create %s: %d %v", n, status, doc)
		}
	}
	g := e.group("Staff", nil)
	for _, tc := range []struct {
		name, endpoint, search, query string
	}{
		{"entra filter", "Users", `"filter":"emails[type eq \"work\"].value eq \"BOB@example.com\""`,
			"filter=" + url.QueryEscape(`emails[type eq "work"].value eq "BOB@example.com"`)},
		{"page", "Users", `"startIndex":2,"count":1`, "startIndex=2&count=1"},
		{"count 0", "Users", `"count":0`, "count=0"},
		{"negative", "Users", `"count":-3,"startIndex":-1`, "count=-3&startIndex=-1"},
		{"attributes", "Users", `"attributes":["userName"],"filter":"userName sw \"a\""`, "attributes=userName&filter=" + url.QueryEscape(`userName sw "a"`)},
		{"excluded", "Groups", `"excludedAttributes":["members"]`, "excludedAttributes=members"},
		{"group filter", "Groups", `"filter":"displayName eq \"staff\""`, "filter=" + url.QueryEscape(`displayName eq "staff"`)},
	} {
		status, _, got, _ := e.doRaw(http.MethodPost, "/"+tc.endpoint+"/.search", `{`+probeSearch+`,`+tc.search+`}`)
		wstatus, _, want, _ := e.doRaw(http.MethodGet, "/"+tc.endpoint+"?"+tc.query, "")
		if status != http.StatusOK || wstatus != http.StatusOK {
			t.Errorf("%s: .search %d %v, GET %d %v", tc.name, status, got, wstatus, want)
			continue
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: .search differs from GET (-GET +search):\n%s", tc.name, diff)
		}
		res, _ := got["Resources"].([]any)
		if got["itemsPerPage"] != float64(len(res)) {
			t.Errorf("%s: itemsPerPage %v for %d resources", tc.name, got["itemsPerPage"], len(res))
		}
	}
	_, _, doc := e.do(http.MethodPost, "/Users/.search", `{`+probeSearch+`,"filter":"userName eq \"ada\""}`)
	if doc["totalResults"] != 1.0 {
		t.Errorf("search userName eq ada: %v", doc)
	}
	_, _, doc = e.do(http.MethodPost, "/Groups/.search", `{`+probeSearch+`,"filter":"id eq \"`+g+`\""}`)
	if doc["totalResults"] != 1.0 {
		t.Errorf("search group by id: %v", doc)
	}
	for _, tc := range []struct {
		name, body, scimType string
		status               int
	}{
		{"bad filter", `{` + probeSearch + `,"filter":"nope eq 1"}`, "invalidFilter", 400},
		{"unfinished filter", `{` + probeSearch + `,"filter":"userName eq"}`, "invalidFilter", 400},
		{"attributes as string", `{` + probeSearch + `,"attributes":"userName"}`, "invalidValue", 400},
		{"count as string", `{` + probeSearch + `,"count":"2"}`, "invalidValue", 400},
		{"no schemas", `{"filter":"userName pr"}`, "invalidValue", 400},
		{"not JSON", `filter=userName`, "invalidSyntax", 400},
		{"array", `[]`, "invalidValue", 400},
	} {
		status, _, doc := e.do(http.MethodPost, "/Users/.search", tc.body)
		wantError(t, tc.name, status, doc, tc.status, tc.scimType)
	}
	status, h, doc := e.do(http.MethodGet, "/Users/.search", "")
	wantError(t, "GET /Users/.search", status, doc, http.StatusMethodNotAllowed, "")
	if h.Get("Allow") != "POST" {
		t.Errorf("GET /Users/.search: Allow %q, want POST", h.Get("Allow"))
	}
}

// A method the target does not support is 405 with Allow (RFC 9110 section
// 15.5.6), not elimity's 404 "endpoint does not exist"; HEAD is GET without
// a body; /Me, /Bulk and queries at the root, which scimbridge does not
// implement, are 501 with a detail (RFC 7644 sections 3.11, 3.7 and
// 3.4.2.1). Nothing changes.
func TestProbeMethodsAndUnsupportedEndpoints(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	u := e.user("ada")
	for _, tc := range []struct{ method, path, body, allow string }{
		{http.MethodPut, "/Users", `{` + probeUserSchema + `,"userName":"x"}`, "GET, POST"},
		{http.MethodPatch, "/Users", `{` + probePatchOp + `,"Operations":[{"op":"replace","path":"title","value":"x"}]}`, "GET, POST"},
		{http.MethodDelete, "/Users", "", "GET, POST"},
		{http.MethodDelete, "/groups/", "", "GET, POST"},
		{http.MethodPost, "/Users/" + u, `{` + probeUserSchema + `,"userName":"y"}`, "GET, PUT, PATCH, DELETE"},
		{http.MethodOptions, "/Users/" + u, "", "GET, PUT, PATCH, DELETE"},
	} {
		status, h, doc := e.do(tc.method, tc.path, tc.body)
		wantError(t, tc.method+" "+tc.path, status, doc, http.StatusMethodNotAllowed, "")
		if h.Get("Allow") != tc.allow {
			t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, h.Get("Allow"), tc.allow)
		}
	}
	_, _, list := e.do(http.MethodGet, "/Users", "")
	if list["totalResults"] != 1.0 {
		t.Errorf("after the refused requests: %v users, want 1", list["totalResults"])
	}
	status, h, _, raw := e.doRaw(http.MethodHead, "/Users/"+u, "")
	if status != http.StatusOK || h.Get("Etag") == "" || len(raw) != 0 {
		t.Errorf("HEAD /Users/{id}: %d ETag %q body %q", status, h.Get("Etag"), raw)
	}
	status, _, _, raw = e.doRaw(http.MethodHead, "/Users?count=1", "")
	if status != http.StatusOK || len(raw) != 0 {
		t.Errorf("HEAD /Users: %d body %q", status, raw)
	}
	for _, tc := range []struct{ method, path, body string }{
		{http.MethodGet, "/Me", ""},
		{http.MethodPost, "/Bulk", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[]}`},
		// Root queries (RFC 7644 section 3.4.2.1): elimity said 400 tooMany.
		{http.MethodGet, "", ""},
		{http.MethodGet, "/?filter=" + url.QueryEscape(`userName eq "ada"`), ""},
		{http.MethodPost, "/.search", `{` + probeSearch + `}`},
	} {
		body := tc.body
		status, _, doc := e.do(tc.method, tc.path, body)
		wantError(t, tc.method+" "+tc.path, status, doc, http.StatusNotImplemented, "")
	}
}

// RFC 7644 section 3.10: an attribute in attributes/excludedAttributes may
// be written with its schema URN; urn:...:core:2.0:User:title was ignored.
func TestProbeAttributesWithCoreSchemaURN(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	status, _, doc := e.do(http.MethodPost, "/Users", `{`+probeUserSchema+`,"userName":"ada","title":"Countess","displayName":"Ada","name":{"givenName":"Ada","familyName":"Lovelace"}}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, doc)
	}
	id := doc["id"].(string)
	const core = "urn:ietf:params:scim:schemas:core:2.0:User:"
	for _, path := range []string{"/Users/" + id + "?", "/Users?filter=" + url.QueryEscape(`userName eq "ada"`) + "&"} {
		_, _, got := e.do(http.MethodGet, path+"attributes="+url.QueryEscape(core+"title,"+core+"name.givenName"), "")
		res := got
		if l, ok := got["Resources"].([]any); ok && len(l) == 1 {
			res = l[0].(map[string]any)
		}
		name, _ := res["name"].(map[string]any)
		if res["title"] != "Countess" || res["displayName"] != nil || len(name) != 1 || name["givenName"] != "Ada" {
			t.Errorf("GET %s attributes=core URN: %v", path, res)
		}
		_, _, got = e.do(http.MethodGet, path+"excludedAttributes="+url.QueryEscape(core+"title"), "")
		res = got
		if l, ok := got["Resources"].([]any); ok && len(l) == 1 {
			res = l[0].(map[string]any)
		}
		if _, has := res["title"]; has || res["displayName"] != "Ada" {
			t.Errorf("GET %s excludedAttributes=core URN: %v", path, res)
		}
	}
	// The bare core URN selects nothing by itself: every default attribute.
	_, _, got := e.do(http.MethodGet, "/Users/"+id+"?attributes="+url.QueryEscape(strings.TrimSuffix(core, ":")), "")
	if got["title"] != "Countess" || got["userName"] != "ada" {
		t.Errorf("attributes=<core URN>: %v", got)
	}
	b, _ := json.Marshal(got)
	if strings.Contains(string(b), `"password"`) {
		t.Errorf("password returned: %s", b)
	}
}

// The 409's detail named externalId, which is not unique (RFC 7643 section
// 3.1; store.ErrConflict): a client reading it would look for a clash that
// cannot be. Two users with one externalId are both created.
func TestProbeUniquenessDetail(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	for _, n := range []string{"ada", "bob"} {
		status, _, doc := e.do(http.MethodPost, "/Users", `{`+probeUserSchema+`,"userName":"`+n+`","externalId":"same"}`)
		if status != http.StatusCreated {
			t.Fatalf("create %s with a shared externalId: %d %v", n, status, doc)
		}
	}
	e.group("Staff", nil)
	for _, tc := range []struct{ path, body string }{
		{"/Users", `{` + probeUserSchema + `,"userName":"ADA"}`},
		{"/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"staff"}`},
	} {
		status, _, doc := e.do(http.MethodPost, tc.path, tc.body)
		wantError(t, "POST "+tc.path+" duplicate", status, doc, http.StatusConflict, "uniqueness")
		if d, _ := doc["detail"].(string); strings.Contains(d, "externalId") {
			t.Errorf("POST %s duplicate: detail %q names externalId, which is not unique", tc.path, d)
		}
	}
}

// A complex value with nothing assigned reads back absent, not as {}: a
// manager of only the readOnly displayName read back as "manager": {}; PUT
// and PATCH likewise. (OneLogin's enterprise template, manager {"managerId",
// "displayName"} (idp-scim-clients.md section 4), keeps managerId as the
// value: TestProbeOneLoginManagerID.)
func TestProbeEmptyComplexValueIsUnassigned(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	status, _, doc := e.do(http.MethodPost, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ol",
		"active":"true","id":null,"meta":{"resourceType":"User"},"name":{"givenName":"F","familyName":"L"},
		"`+ent+`":{"department":"Sales","manager":{"managerId":"m-1","displayName":"Jo Bloggs"}}}`)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, doc)
	}
	id := doc["id"].(string)
	check := func(what string, want map[string]any) {
		t.Helper()
		_, _, got := e.do(http.MethodGet, "/Users/"+id, "")
		for k, v := range want {
			if diff := cmp.Diff(v, got[k]); diff != "" {
				t.Errorf("%s: %s (-want +got):\n%s", what, k, diff)
			}
		}
	}
	check("create", map[string]any{ent: map[string]any{"department": "Sales", "manager": map[string]any{"value": "m-1"}}, "name": map[string]any{"givenName": "F", "familyName": "L"}})
	status, _, doc = e.do(http.MethodPut, "/Users/"+id, `{`+probeUserSchema+`,"userName":"ol","name":{"givenName":null},"`+ent+`":{"manager":{"displayName":"x"}}}`)
	if status != http.StatusOK {
		t.Fatalf("put: %d %v", status, doc)
	}
	check("put", map[string]any{ent: nil, "name": nil})
	status, _, doc = e.do(http.MethodPatch, "/Users/"+id, `{`+probePatchOp+`,"Operations":[{"op":"add","value":{"name":{"givenName":"G"},"`+ent+`":{"department":"D"}}},
		{"op":"remove","path":"name.givenName"},{"op":"remove","path":"`+ent+`:department"}]}`)
	if status != http.StatusOK {
		t.Fatalf("patch: %d %v", status, doc)
	}
	check("patch", map[string]any{ent: nil, "name": nil})
}

// A PATCH with more operations than patch.MaxOperations is refused whole
// (8,000 one-email adds held the store's writer for 18 s); at the limit it
// is applied.
func TestProbeTooManyPatchOperations(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	u := e.user("ada")
	_, _, before, _ := e.doRaw(http.MethodGet, "/Users/"+u, "")
	ops := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"op":"add","path":"emails","value":[{"value":"e` + strconv.Itoa(i) + `@x","type":"other"}]}`)
		}
		return `{` + probePatchOp + `,"Operations":[` + b.String() + `]}`
	}
	status, _, doc := e.do(http.MethodPatch, "/Users/"+u, ops(patch.MaxOperations+1))
	wantError(t, "PATCH with too many operations", status, doc, http.StatusBadRequest, "invalidValue")
	_, _, after, _ := e.doRaw(http.MethodGet, "/Users/"+u, "")
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("a refused PATCH changed the user (-before +after):\n%s", diff)
	}
	// The count is refused before any operation's path is parsed (paths
	// with value filters cost elimity's parser ~0.4 ms each: 15,000 took 6 s
	// to be refused): here every path is bad, and the answer is the count.
	var bad strings.Builder
	for i := range patch.MaxOperations + 1 {
		if i > 0 {
			bad.WriteByte(',')
		}
		bad.WriteString(`{"op":"add","path":"emails[type eq \"w\"].nope` + strconv.Itoa(i) + `","value":"x"}`)
	}
	status, _, doc = e.do(http.MethodPatch, "/Users/"+u, `{`+probePatchOp+`,"Operations":[`+bad.String()+`]}`)
	wantError(t, "PATCH with too many bad operations", status, doc, http.StatusBadRequest, "invalidValue")
	if d, _ := doc["detail"].(string); !strings.Contains(d, "at most 1000 operations") {
		t.Errorf("PATCH with too many bad operations: detail %q, want the count refused first", d)
	}
	status, _, doc = e.do(http.MethodPatch, "/Users/"+u, ops(patch.MaxOperations))
	if emails, _ := doc["emails"].([]any); status != http.StatusOK || len(emails) != patch.MaxOperations {
		t.Errorf("PATCH with %d operations: %d, %d emails", patch.MaxOperations, status, len(emails))
	}
	// The membership fast path keeps the same limit.
	g := e.group("Staff", nil)
	memberOps := func(n int) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`{"op":"add","path":"members","value":[{"value":"` + u + `"}]}`)
		}
		return `{` + probePatchOp + `,"Operations":[` + b.String() + `]}`
	}
	_, _, gBefore := e.do(http.MethodGet, "/Groups/"+g, "")
	status, _, doc = e.do(http.MethodPatch, "/Groups/"+g, memberOps(patch.MaxOperations+1))
	wantError(t, "membership PATCH with too many operations", status, doc, http.StatusBadRequest, "invalidValue")
	if _, _, gAfter := e.do(http.MethodGet, "/Groups/"+g, ""); !cmp.Equal(gBefore, gAfter) {
		t.Errorf("a refused membership PATCH changed the group:\n%s", cmp.Diff(gBefore, gAfter))
	}
	if status, _, doc = e.do(http.MethodPatch, "/Groups/"+g, memberOps(patch.MaxOperations)); status != http.StatusOK {
		t.Errorf("membership PATCH with %d operations: %d %v", patch.MaxOperations, status, doc)
	}
}

// attributes and excludedAttributes list at most scim.MaxAttributeNames
// names: every resource of a page is projected through them (50,000 names
// on a 500-user page took 8.5 s).
func TestProbeAttributeListsAreBounded(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	e.user("ada")
	names := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = "name.givenName"
		}
		return strings.Join(parts, ",")
	}
	for _, param := range []string{"attributes", "excludedAttributes"} {
		status, _, doc := e.do(http.MethodGet, "/Users?"+param+"="+names(scim.MaxAttributeNames+1), "")
		wantError(t, param+" too long", status, doc, http.StatusBadRequest, "invalidValue")
		// Empty names (a trailing comma) do not count.
		status, _, doc = e.do(http.MethodGet, "/Users?"+param+"="+names(scim.MaxAttributeNames)+",,", "")
		if n, _ := doc["totalResults"].(float64); status != http.StatusOK || n != 1 {
			t.Errorf("%s with %d names: %d %v", param, scim.MaxAttributeNames, status, doc)
		}
		// POST .search takes the same parameters (RFC 7644 section 3.4.3).
		list := func(n int) string {
			b, _ := json.Marshal(strings.Split(names(n), ","))
			return string(b)
		}
		search := func(n int) string {
			return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"` + param + `":` + list(n) + `}`
		}
		status, _, doc = e.do(http.MethodPost, "/Users/.search", search(scim.MaxAttributeNames+1))
		wantError(t, param+" too long in .search", status, doc, http.StatusBadRequest, "invalidValue")
		status, _, doc = e.do(http.MethodPost, "/Users/.search", search(scim.MaxAttributeNames))
		if n, _ := doc["totalResults"].(float64); status != http.StatusOK || n != 1 {
			t.Errorf(".search %s with %d names: %d %v", param, scim.MaxAttributeNames, status, doc)
		}
	}
}

// RFC 7644's value filter is any filter (valFilter = attrExp / logExp /
// *1"not" "(" valFilter ")"), but the parser read only one comparison, two
// joined by and/or, or not(...) between the brackets: three terms, or a
// group, were 400 invalidFilter. One element must satisfy the whole value
// filter.
func TestProbeValueFilterIsAnyFilter(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	for _, u := range []struct{ name, emails string }{
		{"w", `[{"type":"work","value":"alpha@x"}]`},
		{"h", `[{"type":"home","value":"beta@x"}]`},
		{"o", `[{"type":"other","value":"gamma@x"}]`},
		// work and an "a" address, but not in one element.
		{"split", `[{"type":"work","value":"zzz@x"},{"type":"home","value":"alpha2@x"}]`},
	} {
		status, _, doc := e.do(http.MethodPost, "/Users", `{`+probeUserSchema+`,"userName":"`+u.name+`","emails":`+u.emails+`}`)
		if status != http.StatusCreated {
			t.Fatalf("create %s: %d %v", u.name, status, doc)
		}
	}
	for _, tc := range []struct {
		filter string
		want   []string
	}{
		{`emails[type eq "work" or type eq "home" or type eq "other"]`, []string{"h", "o", "split", "w"}},
		{`emails[type eq "work" or type eq "home" or type eq "other"] and userName ne "split"`, []string{"h", "o", "w"}},
		{`emails[type eq "work" and (value co "alpha" or value co "beta")]`, []string{"w"}},
		{`emails[(type eq "home")]`, []string{"h", "split"}},
		{`emails[type eq "home" and not (value sw "beta")]`, []string{"split"}},
		{`emails[value co "a" and value co "@" and type eq "other"] or emails[type eq "work" and value sw "z"]`, []string{"o", "split"}},
	} {
		status, _, doc := e.do(http.MethodGet, "/Users?filter="+url.QueryEscape(tc.filter), "")
		if status != http.StatusOK {
			t.Errorf("%s: %d %v", tc.filter, status, doc)
			continue
		}
		var got []string
		for _, r := range doc["Resources"].([]any) {
			got = append(got, r.(map[string]any)["userName"].(string))
		}
		slices.Sort(got)
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.filter, diff)
		}
	}
	for _, f := range []string{
		`emails[type eq "work" or type eq "home" or]`,
		`emails[type eq "work" or [type eq "home"]]`,
		`scimbridgeValueFilter0 pr`,
		`emails[scimbridgeValueFilter0 pr or type eq "a" or type eq "b"]`,
		`emails[type eq "work" or type eq "home" or type eq "x"`,
	} {
		status, _, doc := e.do(http.MethodGet, "/Users?filter="+url.QueryEscape(f), "")
		wantError(t, f, status, doc, http.StatusBadRequest, "invalidFilter")
	}
}

// A POST or PUT body elimity refuses got one of its generic details ("A
// required value was missing, or the value specified was not compatible
// ..."), which does not say which attribute is wrong; the detail now names
// it. Status and scimType stay as they were, and nothing changes.
func TestProbeRefusalNamesTheAttribute(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	u := e.user("ada")
	g := e.group("Staff", nil)
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	for _, tc := range []struct {
		name, method, path, body, scimType, detail string
	}{
		{"no schemas", http.MethodPost, "/Users", `{"userName":"x"}`, "invalidSyntax", `"schemas" must be a list of schema URNs that contains "urn:ietf:params:scim:schemas:core:2.0:User"`},
		{"group schema on Users", http.MethodPost, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"userName":"x"}`, "invalidSyntax", `contains "urn:ietf:params:scim:schemas:core:2.0:User"`},
		{"not an object", http.MethodPost, "/Users", `[{"userName":"x"}]`, "invalidSyntax", "must be a JSON object"},
		{"no userName", http.MethodPost, "/Users", `{` + probeUserSchema + `,"displayName":"x"}`, "invalidValue", "userName is required."},
		{"userName number", http.MethodPost, "/Users", `{` + probeUserSchema + `,"userName":7}`, "invalidValue", "userName must be a string."},
		{"active word", http.MethodPost, "/Users", `{` + probeUserSchema + `,"userName":"x","active":"maybe"}`, "invalidValue", "active must be a boolean (true or false)."},
		{"emails string", http.MethodPost, "/Users", `{` + probeUserSchema + `,"userName":"x","emails":"x@y"}`, "invalidSyntax", "emails must be a list of objects {display: a string, primary: a boolean (true or false), type: a string, value: a string}."},
		{"emails value number", http.MethodPost, "/Users", `{` + probeUserSchema + `,"userName":"x","emails":[{"value":1}]}`, "invalidValue", "emails must be a list of objects"},
		{"name string", http.MethodPost, "/Users", `{` + probeUserSchema + `,"userName":"x","name":"Ada"}`, "invalidValue", "name must be an object {"},
		{"twice", http.MethodPost, "/Users", `{` + probeUserSchema + `,"userName":"x","USERNAME":"y"}`, "invalidSyntax", `"USERNAME" and "userName" name the same attribute`},
		{"extension not object", http.MethodPost, "/Users", `{` + probeUserSchema + `,"userName":"x","` + ent + `":"Sales"}`, "invalidSyntax", ent + " must be an object"},
		{"manager string", http.MethodPost, "/Users", `{` + probeUserSchema + `,"userName":"x","` + ent + `":{"manager":"m"}}`, "invalidValue", ent + ":manager must be an object {"},
		{"PUT no userName", http.MethodPut, "/Users/" + u, `{` + probeUserSchema + `,"userame":"ada"}`, "invalidValue", "userName is required."},
		{"PUT externalId number", http.MethodPut, "/Users/" + u, `{` + probeUserSchema + `,"userName":"ada","externalId":5}`, "invalidValue", "externalId must be a string."},
		{"group members string", http.MethodPost, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":"x"}`, "invalidSyntax", "members must be a list of objects"},
		{"PUT group no displayName", http.MethodPut, "/Groups/" + g, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}`, "invalidValue", "displayName is required."},
	} {
		status, h, doc := e.do(tc.method, tc.path, tc.body)
		wantError(t, tc.name, status, doc, http.StatusBadRequest, tc.scimType)
		if d, _ := doc["detail"].(string); !strings.Contains(d, tc.detail) {
			t.Errorf("%s: detail %q, want it to contain %q", tc.name, d, tc.detail)
		}
		if !strings.HasPrefix(h.Get("Content-Type"), "application/scim+json") {
			t.Errorf("%s: Content-Type %q", tc.name, h.Get("Content-Type"))
		}
	}
	_, _, list := e.do(http.MethodGet, "/Users", "")
	_, _, user := e.do(http.MethodGet, "/Users/"+u, "")
	if list["totalResults"] != 1.0 || user["userName"] != "ada" || user["externalId"] != nil {
		t.Errorf("a refused body changed something: %v users, user %v", list["totalResults"], user)
	}
}

// The same for PATCH bodies elimity refuses with a generic detail.
func TestProbePatchRefusalSaysWhy(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	u := e.user("ada")
	g := e.group("Staff", nil)
	_, _, before := e.do(http.MethodGet, "/Users/"+u, "")
	for _, tc := range []struct {
		name, path, body, scimType, detail string
	}{
		{"no schemas", "/Users/" + u, `{"Operations":[{"op":"replace","path":"title","value":"x"}]}`, "invalidValue", `"schemas" must be a list that contains "urn:ietf:params:scim:api:messages:2.0:PatchOp"`},
		{"no Operations", "/Users/" + u, `{` + probePatchOp + `}`, "invalidValue", `"Operations" must be a non-empty list`},
		{"empty Operations", "/Groups/" + g, `{` + probePatchOp + `,"Operations":[]}`, "invalidValue", `"Operations" must be a non-empty list`},
		{"Operations object", "/Users/" + u, `{` + probePatchOp + `,"Operations":{"op":"add","path":"title","value":"x"}}`, "invalidSyntax", `"Operations" must be a non-empty list`},
		{"bad op", "/Users/" + u, `{` + probePatchOp + `,"Operations":[{"op":"frobnicate","path":"title","value":"x"}]}`, "invalidValue", "operation 0: op must be add, replace or remove."},
		{"no op", "/Users/" + u, `{` + probePatchOp + `,"Operations":[{"op":"add","path":"title","value":"x"},{"path":"title","value":"x"}]}`, "invalidValue", "operation 1: op must be add, replace or remove."},
		{"add without value", "/Users/" + u, `{` + probePatchOp + `,"Operations":[{"op":"add","path":"title"}]}`, "invalidValue", "operation 0 (add): a value is required."},
		{"wrong type", "/Users/" + u, `{` + probePatchOp + `,"Operations":[{"op":"replace","path":"active","value":"maybe"}]}`, "invalidValue", "wrong type"},
		// RFC 7644 section 3.5.2: an operation incompatible with an
		// attribute's mutability is answered with mutability (elimity said
		// invalidPath, "The "path" attribute was invalid or malformed.").
		{"path id", "/Users/" + u, `{` + probePatchOp + `,"Operations":[{"op":"replace","path":"title","value":"x"},{"op":"replace","path":"id","value":"other"}]}`, "mutability", `operation 1 (replace "id"): id is readOnly`},
		{"path meta", "/Groups/" + g, `{` + probePatchOp + `,"Operations":[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]}`, "mutability", "meta is readOnly"},
		{"unknown attribute", "/Users/" + u, `{` + probePatchOp + `,"Operations":[{"op":"add","path":"bogus","value":"x"}]}`, "invalidPath", `operation 0 (add "bogus"): "bogus" is not an attribute of urn:ietf:params:scim:schemas:core:2.0:User`},
		{"unknown schema", "/Users/" + u, `{` + probePatchOp + `,"Operations":[{"op":"add","path":"urn:example:ext:2.0:User:x","value":"x"}]}`, "invalidPath", `"urn:example:ext:2.0:User" is not a schema of this resource type`},
		{"broken path", "/Users/" + u, `{` + probePatchOp + `,"Operations":[{"op":"replace","path":"emails[type eq","value":"x"}]}`, "invalidPath", "not a valid attribute path"},
		{"group attribute on a user", "/Users/" + u, `{` + probePatchOp + `,"Operations":[{"op":"add","path":"members","value":[{"value":"` + g + `"}]}]}`, "invalidPath", `"members" is not an attribute`},
	} {
		status, _, doc := e.do(http.MethodPatch, tc.path, tc.body)
		wantError(t, tc.name, status, doc, http.StatusBadRequest, tc.scimType)
		if d, _ := doc["detail"].(string); !strings.Contains(d, tc.detail) {
			t.Errorf("%s: detail %q, want it to contain %q", tc.name, d, tc.detail)
		}
	}
	_, _, after := e.do(http.MethodGet, "/Users/"+u, "")
	if diff := cmp.Diff(before, after); diff != "" {
		t.Errorf("a refused PATCH changed the user (-before +after):\n%s", diff)
	}
}

// A list read with filter, count or startIndex given twice used the first
// and dropped the other silently: an exists-check could match the wrong
// account. It is refused.
func TestProbeRepeatedListParameters(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	e.user("ada")
	for _, tc := range []struct{ query, scimType string }{
		{"filter=" + url.QueryEscape(`userName eq "ada"`) + "&filter=" + url.QueryEscape(`userName eq "bob"`), "invalidFilter"},
		{"count=1&count=2", "invalidValue"},
		{"startIndex=1&startIndex=2", "invalidValue"},
	} {
		status, _, doc := e.do(http.MethodGet, "/Users?"+tc.query, "")
		wantError(t, tc.query, status, doc, http.StatusBadRequest, tc.scimType)
	}
	status, _, doc := e.do(http.MethodGet, "/Users?filter="+url.QueryEscape(`userName eq "ada"`)+"&aadOptscim062020&count=1&startIndex=1", "")
	if status != http.StatusOK || doc["totalResults"] != 1.0 {
		t.Errorf("single parameters with an unknown one: %d %v", status, doc)
	}
}

// If-None-Match on PUT, PATCH or DELETE (RFC 9110 section 13.1.2): "*" or
// the current version is 412 and changes nothing (it was ignored); another
// version lets the write through.
func TestProbeIfNoneMatchOnWrites(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	u := e.user("ada")
	g := e.group("Staff", nil)
	_, h, _ := e.do(http.MethodGet, "/Users/"+u, "")
	cur := h.Get("Etag")
	for _, tc := range []struct{ method, path, body, inm string }{
		{http.MethodPatch, "/Users/" + u, `{` + probePatchOp + `,"Operations":[{"op":"replace","path":"title","value":"x"}]}`, "*"},
		{http.MethodPatch, "/Users/" + u, `{` + probePatchOp + `,"Operations":[{"op":"replace","path":"title","value":"x"}]}`, cur},
		{http.MethodPut, "/Users/" + u, `{` + probeUserSchema + `,"userName":"ada","title":"x"}`, `W/"7", ` + cur},
		{http.MethodDelete, "/Users/" + u, "", "*"},
		{http.MethodPatch, "/Groups/" + g, `{` + probePatchOp + `,"Operations":[{"op":"replace","path":"displayName","value":"x"}]}`, "*"},
	} {
		status, _, doc := e.do(tc.method, tc.path, tc.body, "If-None-Match", tc.inm)
		wantError(t, tc.method+" If-None-Match "+tc.inm, status, doc, http.StatusPreconditionFailed, "")
	}
	_, h, user := e.do(http.MethodGet, "/Users/"+u, "")
	if h.Get("Etag") != cur || user["title"] != nil {
		t.Errorf("a refused write changed the user: ETag %s, %v", h.Get("Etag"), user)
	}
	status, _, doc := e.do(http.MethodPatch, "/Users/"+u, `{`+probePatchOp+`,"Operations":[{"op":"replace","path":"title","value":"x"}]}`, "If-None-Match", `W/"999"`)
	if status != http.StatusOK || doc["title"] != "x" {
		t.Errorf("PATCH with a stale If-None-Match: %d %v", status, doc)
	}
	status, _, _ = e.do(http.MethodDelete, "/Users/nope", "", "If-None-Match", "*")
	if status != http.StatusNotFound {
		t.Errorf("DELETE unknown id with If-None-Match: %d, want 404", status)
	}
}

// Only an explicit true activates a user: the store has no unassigned
// `active`, and a PATCH removing it, a null, or a PUT leaving it out made a
// deactivated account active again. Creating without it makes an active user.
func TestProbeOnlyTrueActivates(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	u := e.user("ada")
	active := func(step string, want bool) {
		t.Helper()
		status, _, doc := e.do(http.MethodGet, "/Users/"+u, "")
		if status != http.StatusOK || doc["active"] != want {
			t.Errorf("%s: %d, active %v, want %v", step, status, doc["active"], want)
		}
	}
	patchOK := func(step, ops string) {
		t.Helper()
		if status, _, doc := e.do(http.MethodPatch, "/Users/"+u, `{`+probePatchOp+`,"Operations":[`+ops+`]}`); status != http.StatusOK {
			t.Fatalf("%s: %d %v", step, status, doc)
		}
	}
	put := func(step, active string) {
		t.Helper()
		body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada"` + active + `}`
		if status, _, doc := e.do(http.MethodPut, "/Users/"+u, body); status != http.StatusOK {
			t.Fatalf("%s: %d %v", step, status, doc)
		}
	}
	active("created without active", true)
	patchOK("deactivate", `{"op":"replace","path":"active","value":false}`)
	for _, op := range []string{
		`{"op":"remove","path":"active"}`,
		`{"op":"replace","path":"active","value":null}`,
		`{"op":"replace","value":{"active":null}}`,
		`{"op":"add","path":"active","value":null}`,
	} {
		patchOK(op, op)
		active(op, false)
	}
	put("PUT without active", "")
	active("PUT without active", false)
	put("PUT with active null", `,"active":null`)
	active("PUT with active null", false)
	put("PUT with active true", `,"active":true`)
	active("PUT with active true", true)
	put("PUT without active, once active", "")
	active("PUT without active, once active", true)
	patchOK("remove, once active", `{"op":"remove","path":"active"}`)
	active("remove, once active", true)
}

// meta.lastModified and meta.created are shown in whole seconds and kept in
// nanoseconds: filtering on the value a client read compares what it read
// (eq found nothing, gt found the user again).
func TestProbeMetaFiltersUseTheShownValue(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	u := e.user("ada")
	_, _, doc := e.do(http.MethodGet, "/Users/"+u, "")
	meta, _ := doc["meta"].(map[string]any)
	for _, attr := range []string{"lastModified", "created"} {
		shown, _ := meta[attr].(string)
		at, err := time.Parse(time.RFC3339, shown)
		if err != nil {
			t.Fatalf("meta.%s %q: %v", attr, shown, err)
		}
		for _, tc := range []struct {
			op    string
			value time.Time
			found bool
		}{
			{"eq", at, true}, {"ne", at, false}, {"gt", at, false}, {"ge", at, true}, {"lt", at, false}, {"le", at, true},
			{"gt", at.Add(-time.Second), true}, {"lt", at.Add(time.Second), true}, {"eq", at.Add(time.Millisecond), false},
			{"le", at.Add(-time.Millisecond), false}, {"ge", at.Add(-time.Millisecond), true},
		} {
			filter := fmt.Sprintf(`meta.%s %s "%s" and userName eq "ada"`, attr, tc.op, tc.value.Format(time.RFC3339Nano))
			status, _, doc := e.do(http.MethodGet, "/Users?filter="+url.QueryEscape(filter), "")
			if n, _ := doc["totalResults"].(float64); status != http.StatusOK || (n == 1) != tc.found {
				t.Errorf("%s: %d, %v results; want found=%v", filter, status, doc["totalResults"], tc.found)
			}
		}
		// A tenth of a nanosecond after the shown value is after it, though
		// time.Parse keeps nanoseconds only.
		after := strings.TrimSuffix(shown, "Z") + ".0000000001Z"
		for op, found := range map[string]bool{"eq": false, "ne": true, "gt": false, "ge": false, "lt": true, "le": true} {
			filter := fmt.Sprintf(`meta.%s %s "%s" and userName eq "ada"`, attr, op, after)
			status, _, doc := e.do(http.MethodGet, "/Users?filter="+url.QueryEscape(filter), "")
			if n, _ := doc["totalResults"].(float64); status != http.StatusOK || (n == 1) != found {
				t.Errorf("%s: %d, %v results; want found=%v", filter, status, doc["totalResults"], found)
			}
		}
	}
}

// "The primary attribute value true MUST appear no more than once" (RFC
// 7643 section 2.4): a POST or PUT with two primary emails keeps the first,
// as a PATCH does, instead of storing both.
func TestProbeOnePrimary(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	body := func(emails string) string {
		return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada","emails":[` + emails + `],
			"phoneNumbers":[{"value":"1","primary":true},{"value":"2","primary":"True"},{"value":"3"}]}`
	}
	check := func(step string, doc map[string]any, wantEmails ...bool) {
		t.Helper()
		for attr, want := range map[string][]bool{"emails": wantEmails, "phoneNumbers": {true, false, false}} {
			list, _ := doc[attr].([]any)
			var got []bool
			for _, e := range list {
				p, _ := e.(map[string]any)["primary"].(bool)
				got = append(got, p)
			}
			if !slices.Equal(got, want) {
				t.Errorf("%s: %s primary %v, want %v", step, attr, got, want)
			}
		}
	}
	status, _, doc := e.do(http.MethodPost, "/Users", body(`{"value":"a@x","primary":true},{"value":"b@x","primary":true}`))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, doc)
	}
	id, _ := doc["id"].(string)
	check("create answer", doc, true, false)
	_, _, doc = e.do(http.MethodGet, "/Users/"+id, "")
	check("create read back", doc, true, false)
	status, _, doc = e.do(http.MethodPut, "/Users/"+id, body(`{"value":"a@x"},{"value":"b@x","primary":true},{"value":"c@x","primary":true}`))
	if status != http.StatusOK {
		t.Fatalf("put: %d %v", status, doc)
	}
	check("put answer", doc, false, true, false)
	_, _, doc = e.do(http.MethodGet, "/Users/"+id, "")
	check("put read back", doc, false, true, false)
}

// A compressed body is an unsupported content coding (415 with
// Accept-Encoding, RFC 9110 section 15.5.16), not invalid UTF-8 (400).
func TestProbeContentEncoding(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t"})
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ada"}`
	status, h, doc := e.do(http.MethodPost, "/Users", body, "Content-Encoding", "gzip")
	wantError(t, "gzip body", status, doc, http.StatusUnsupportedMediaType, "")
	if h.Get("Accept-Encoding") != "identity" {
		t.Errorf("gzip body: Accept-Encoding %q, want identity", h.Get("Accept-Encoding"))
	}
	if status, _, doc := e.do(http.MethodGet, "/Users", ""); doc["totalResults"] != float64(0) {
		t.Errorf("after the refused POST: %d %v", status, doc)
	}
	// Header lines of one field are one list (RFC 9110 section 5.3).
	req, err := http.NewRequest(http.MethodPost, e.url+"/Users", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Add("Content-Encoding", "identity")
	req.Header.Add("Content-Encoding", "gzip")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("identity and gzip on two lines: %d, want 415", resp.StatusCode)
	}
	if status, _, doc := e.do(http.MethodPost, "/Users", body, "Content-Encoding", "identity"); status != http.StatusCreated {
		t.Errorf("identity body: %d %v", status, doc)
	}
}

// OneLogin's "Enterprise User Schema" template sends the manager as
// {"managerId": …, "displayName": …} (idp-scim-clients.md section 4): the
// id is kept as manager.value on POST and PUT instead of being dropped.
func TestProbeOneLoginManagerID(t *testing.T) {
	e := newPatchEnv(t, scim.Tenant{Name: "t", AlwaysReturnName: true})
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	body := func(manager string) string {
		return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"olu","active":"true","id":null,
			"meta":{"resourceType":"User"},"title":"managerId is not an attribute",
			"` + ent + `":{"department":"D","manager":` + manager + `}}`
	}
	manager := func(step string, doc map[string]any, want string) {
		t.Helper()
		ext, _ := doc[ent].(map[string]any)
		m, _ := ext["manager"].(map[string]any)
		if got, _ := m["value"].(string); got != want || ext["department"] != "D" || doc["title"] != "managerId is not an attribute" {
			t.Errorf("%s: %s = %v, want manager.value %q", step, ent, ext, want)
		}
	}
	status, _, doc := e.do(http.MethodPost, "/Users", body(`{"managerId":"m-77","displayName":"Man Ager"}`))
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, doc)
	}
	id, _ := doc["id"].(string)
	manager("create answer", doc, "m-77")
	_, _, doc = e.do(http.MethodGet, "/Users/"+id, "")
	manager("create read back", doc, "m-77")
	if status, _, doc = e.do(http.MethodPut, "/Users/"+id, body(`{"ManagerID":"m-78"}`)); status != http.StatusOK {
		t.Fatalf("put: %d %v", status, doc)
	}
	manager("put answer", doc, "m-78")
	if status, _, doc = e.do(http.MethodPut, "/Users/"+id, body(`{"value":"m-79","managerId":"m-80"}`)); status != http.StatusOK {
		t.Fatalf("put with both: %d %v", status, doc)
	}
	manager("put with value and managerId", doc, "m-79")
}
