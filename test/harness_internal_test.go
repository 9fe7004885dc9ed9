package test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The harness itself is tested here: an assertion that cannot fail would
// make every transcript worthless.

const sampleDoc = `{
  "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
  "totalResults": 2,
  "Resources": [
    {"id": "a", "active": false, "emails": [{"type": "home", "value": "h@x"}, {"type": "work", "value": "w@x", "primary": true}],
     "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": "m1"}},
     "name.givenName": "literal key", "title": ""},
    {"id": "b", "members": []}
  ]
}`

func TestCheckAssertions(t *testing.T) {
	doc := mustJSON(t, sampleDoc)
	h := http.Header{"Content-Type": {"application/scim+json; charset=utf-8"}, "Etag": {`W/"3"`}}
	body := []byte(sampleDoc)
	for _, tc := range []struct {
		key  string
		want string // JSON
		ok   bool
	}{
		{"totalResults", `2`, true},
		{"totalResults", `"2"`, false},
		{"totalResults", `3`, false},
		{"Resources[0].active", `false`, true},
		{"Resources[0].active", `true`, false},
		{"Resources[1].members", `[]`, true},
		{"Resources[1].members", `null`, false},
		{"Resources[0].emails[type=work].value", `"w@x"`, true},
		{"Resources[0].emails[type=work].primary", `true`, true},
		{"Resources[0].emails[type=other].value", `"w@x"`, false},
		{"Resources[0].urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value", `"m1"`, true},
		{"Resources[0]['name.givenName']", `"literal key"`, true},
		{"Resources[0].name.givenName", `"literal key"`, false},
		{"!Resources[1].active", `true`, true},
		{"!Resources[0].active", `true`, false},
		{"?Resources[0].id", `true`, true},
		{"?Resources[0].title", `true`, false},
		{"?Resources[1].members", `true`, false},
		{"?Resources[0].active", `true`, true},
		{"#totalResults", `"integer"`, true},
		{"#totalResults", `"string"`, false},
		{"#Resources", `"array"`, true},
		{"~schemas", `"urn:ietf:params:scim:api:messages:2.0:ListResponse"`, true},
		{"~schemas", `"urn:ietf:params:scim:api:messages:2.0:Error"`, false},
		{"~Resources", `{"id": "b"}`, true},
		{"~Resources", `{"id": "c"}`, false},
		{"~Resources[0].emails", `{"type": "work", "primary": true}`, true},
		{"len:Resources", `2`, true},
		{"len:Resources", `1`, false},
		{"header:Content-Type", `"application/scim+json"`, true},
		{"header:Content-Type", `"application/json"`, false},
		{"header:ETag", `"W/\"3\""`, true},
		{"header:ETag", `"W/\"4\""`, false},
		{"header:Location", `"x"`, false},
		{"?header:ETag", `true`, true},
		{"?header:Retry-After", `true`, false},
		{"!header:Location", `true`, true},
		{"!header:ETag", `true`, false},
		{"raw~", `"literal key"`, true},
		{"raw~", `"absent text"`, false},
		{"raw!~", `"absent text"`, true},
		{"raw!~", `"literal key"`, false},
		{"raw", `""`, false},
	} {
		got := check(tc.key, mustJSON(t, tc.want), h, body, doc)
		if (got == "") != tc.ok {
			t.Errorf("check(%q, %s) = %q, want ok=%v", tc.key, tc.want, got, tc.ok)
		}
	}
	if got := check("raw", "", h, nil, nil); got != "" {
		t.Errorf(`check("raw", "") on an empty body = %q`, got)
	}
}

func TestParsePathErrors(t *testing.T) {
	for _, p := range []string{"a[", "a['x", "a[]", "a[=x]"} {
		if _, err := parsePath(p); err == nil {
			t.Errorf("parsePath(%q) accepted a bad path", p)
		}
	}
}

func TestInvariants(t *testing.T) {
	scimErr := func(status int, body string) []string {
		resp := &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"application/scim+json"}}}
		return invariants(resp, []byte(body), mustJSON(t, body))
	}
	if p := scimErr(404, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"x"}`); len(p) != 0 {
		t.Errorf("a good error body was flagged: %v", p)
	}
	for _, body := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":404,"detail":"x"}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404"}`,
		`{"status":"404","detail":"x"}`,
	} {
		if p := scimErr(404, body); len(p) == 0 {
			t.Errorf("bad error body %s not flagged", body)
		}
	}
	if p := scimErr(500, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"x"}`); len(p) == 0 {
		t.Error("a 500 was not flagged")
	}
	resp := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}}
	if p := invariants(resp, []byte(`{}`), map[string]any{}); len(p) == 0 {
		t.Error("a body served as application/json was not flagged")
	}
}

func TestEncodeURL(t *testing.T) {
	for in, want := range map[string]string{
		`/Users?filter=userName eq "a@b"`:       `/Users?filter=userName%20eq%20%22a@b%22`,
		`/Users?filter=userName+eq+%22a%40b%22`: `/Users?filter=userName+eq+%22a%40b%22`,
		`/Users?filter=emails[type eq "work"]`:  `/Users?filter=emails%5Btype%20eq%20%22work%22%5D`,
		`/Users?filter=userName eq "zoë"`:       `/Users?filter=userName%20eq%20%22zo%C3%AB%22`,
	} {
		if got := encodeURL(in); got != want {
			t.Errorf("encodeURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSubstitute(t *testing.T) {
	r := &replayer{vars: map[string]string{"v": `W/"3"`, "id": "42"}}
	got, err := r.substituteJSON(`{"If": "{{v}}", "id": "{{id}}"}`)
	if err != nil || got != `{"If": "W/\"3\"", "id": "42"}` {
		t.Errorf("substituteJSON = %q, %v", got, err)
	}
	if _, err := r.substitute("/Users/{{missing}}"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("undefined variable not reported: %v", err)
	}
}

func TestReadTranscriptRejectsMistakes(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"unknown field":       `[{"name":"a","method":"GET","path":"/Users","status":200,"expct":{}}]`,
		"no status":           `[{"name":"a","method":"GET","path":"/Users"}]`,
		"duplicate name":      `[{"name":"a","method":"GET","path":"/U","status":200},{"name":"a","method":"GET","path":"/U","status":200}]`,
		"absence not true":    `[{"name":"a","method":"GET","path":"/U","status":200,"expect":{"!x":false}}]`,
		"bad path":            `[{"name":"a","method":"GET","path":"/U","status":200,"expect":{"a[":1}}]`,
		"padTo without body":  `[{"name":"a","method":"POST","path":"/U","status":413,"padTo":10}]`,
		"not a list of steps": `{"name":"a"}`,
	} {
		f := filepath.Join(dir, "x.json")
		if err := os.WriteFile(f, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := readTranscript(f); err == nil {
			t.Errorf("%s: accepted %s", name, text)
		}
	}
}

func TestPadTo(t *testing.T) {
	r := &replayer{vars: map[string]string{}}
	b, err := r.bodyBytes(step{Body: []byte(`{"userName":"big"}`), PadTo: 2000})
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2000 || len(b) > 2100 {
		t.Errorf("padded body is %d bytes, want about 2000", len(b))
	}
	if !strings.Contains(string(b), `"userName":"big"`) {
		t.Errorf("padding lost the body: %.80s", b)
	}
}

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}
