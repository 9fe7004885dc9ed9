package scim

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/elimity-com/scim/schema"
	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// createTwin is one Server over its own SQLite file; a request is answered
// either through ServeHTTP (which takes the direct create path) or by the
// tenant's elimity server itself.
type createTwin struct {
	srv *Server
	ts  *tenantService
}

func newCreateTwin(t testing.TB, name string) *createTwin {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), name+".db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	authn, err := auth.New([]auth.Tenant{{Name: "t", TokenHashes: [][32]byte{auth.HashToken("tok")}}}, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(st, authn, []Tenant{{Name: "t"}}, Options{BaseURL: "https://bridge.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return &createTwin{srv: srv, ts: srv.tenants["t"]}
}

// post sends body to endpoint ("Users" or "Groups"); viaElimity skips
// Server.ServeHTTP and hands the request to elimity as ServeHTTP would.
func (c *createTwin) post(t *testing.T, endpoint, body string, viaElimity bool) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	if viaElimity {
		req := httptest.NewRequest(http.MethodPost, "/"+endpoint, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/scim+json")
		c.ts.elimity.ServeHTTP(rec, req)
		return rec
	}
	req := httptest.NewRequest(http.MethodPost, Prefix+"t/"+endpoint, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/scim+json")
	c.srv.ServeHTTP(rec, req)
	return rec
}

var (
	uuidRe  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	stampRe = regexp.MustCompile(`"(created|lastModified)":"[^"]*"`)
)

// normalizeCreate replaces what differs between the twins by construction:
// generated ids and the creation time.
func normalizeCreate(s string) string {
	return stampRe.ReplaceAllString(uuidRe.ReplaceAllString(s, "ID"), `"$1":"T"`)
}

// Creates answered without elimity's request handling answer exactly as
// elimity does: status, Location, Etag, Content-Type and the body byte for
// byte (ids and times aside), for bodies elimity accepts, refuses, or that
// the store refuses (a duplicate userName), and the stored resources match.
func TestCreateAnswersAsElimity(t *testing.T) {
	schema.SetAllowStringValues(true)
	direct, viaElimity := newCreateTwin(t, "direct"), newCreateTwin(t, "elimity")
	users := createUserBodies
	for i, body := range users {
		if refusedAtEdge(t, direct, "Users", body) {
			continue
		}
		d, e := direct.post(t, "Users", body, false), viaElimity.post(t, "Users", body, true)
		compareCreate(t, i, body, d, e)
	}
	groups := []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Test SCIMv2","members":[]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],"externalId":"8aa1","displayName":"Entra <&> group","meta":{"resourceType":"Group"}}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"test scimv2"}`, // duplicate displayName
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"bad members","members":"x"}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"unknown member","members":[{"value":"no-such-user"}]}`,
	}
	for i, body := range groups {
		if refusedAtEdge(t, direct, "Groups", body) {
			continue
		}
		d, e := direct.post(t, "Groups", body, false), viaElimity.post(t, "Groups", body, true)
		compareCreate(t, 100+i, body, d, e)
	}
	// A group whose members are users of each twin's own store.
	du := decodeID(t, direct.post(t, "Users", `{`+userSchema+`,"userName":"member@example.com","displayName":"M <1>"}`, false))
	eu := decodeID(t, viaElimity.post(t, "Users", `{`+userSchema+`,"userName":"member@example.com","displayName":"M <1>"}`, true))
	tmpl := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"with members","members":[{"value":"%s","display":"ignored"}]}`
	compareCreate(t, 200, tmpl,
		direct.post(t, "Groups", strings.Replace(tmpl, "%s", du, 1), false),
		viaElimity.post(t, "Groups", strings.Replace(tmpl, "%s", eu, 1), true))

	// The stores hold the same resources.
	ctx := context.Background()
	for _, kind := range []string{"Users", "Groups"} {
		var dl, el []string
		for _, tw := range []*createTwin{direct, viaElimity} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodGet, Prefix+"t/"+kind+"?count=100", nil).WithContext(ctx)
			req.Header.Set("Authorization", "Bearer tok")
			tw.srv.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				t.Fatalf("list %s: %d %s", kind, rec.Code, rec.Body)
			}
			if tw == direct {
				dl = append(dl, normalizeCreate(rec.Body.String()))
			} else {
				el = append(el, normalizeCreate(rec.Body.String()))
			}
		}
		if diff := cmp.Diff(el, dl); diff != "" {
			t.Errorf("stored %s (-elimity +direct):\n%s", kind, diff)
		}
	}
}

const (
	userSchema = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	ent        = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
)

// createUserBodies are the user creates of TestCreateAnswersAsElimity and the
// seeds of FuzzCreateAnswersAsElimity.
var createUserBodies = []string{
	// Okta's create (idp-scim-clients.md 2.3), with password and groups.
	`{` + userSchema + `,"userName":"okta.user@example.com","name":{"givenName":"Okta","familyName":"User"},"emails":[{"primary":true,"value":"okta.user@example.com","type":"work"}],"displayName":"Okta User","locale":"en-US","externalId":"00u1","groups":[],"password":"1mz050nq","active":true}`,
	// Entra's create with the enterprise extension and a manager.
	`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","` + ent + `"],"externalId":"0a21f0f2","userName":"Test_User_ab6490ee@contoso.com","active":true,"displayName":"BobIsAmazing","emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b@contoso.com"}],"meta":{"resourceType":"User"},"name":{"formatted":"Ryan Leenay","familyName":"Leenay","givenName":"Ryan"},"roles":[],"` + ent + `":{"department":"R&D <lab>","employeeNumber":"7","manager":{"value":"m-1"}}}`,
	// String booleans, a single email object, unknown and readOnly attributes.
	`{` + userSchema + `,"userName":"strings@example.com","active":"False","emails":{"value":"s@example.com","type":"work"},"id":"mine","meta":{"version":"W/\"9\""},"groups":[{"value":"g"}],"unknownAttr":1,"urn:example:ext:1.0":{"x":1}}`,
	// Attribute names in other letter cases, unicode, escapes.
	`{` + userSchema + `,"USERNAME":"Case.Ünïcödé@example.com","DisplayName":"\"quoted\" \u2028 line","nickName":"\u0001"}`,
	// Minimal.
	`{` + userSchema + `,"userName":"min"}`,
	// Duplicate userName (case-insensitive): the store refuses with 409.
	`{` + userSchema + `,"userName":"MIN"}`,
	// What elimity refuses: no userName, wrong types, not JSON, not an object.
	`{` + userSchema + `,"displayName":"no user name"}`,
	`{` + userSchema + `,"userName":7}`,
	`{` + userSchema + `,"userName":"x","active":"maybe"}`,
	`{` + userSchema + `,"userName":"x","emails":[{"value":1}]}`,
	`{` + userSchema + `,"userName":"x","` + ent + `":"not an object"}`,
	`{"userName":`,
	`[]`,
	`null`,
	``,
	// Trailing data after the object (elimity reads the first value and
	// accepts it; ServeHTTP refuses it) and invalid UTF-8 (encoding/json
	// would store U+FFFD).
	`{` + userSchema + `,"userName":"trailing"} {"more":1}`,
	`{` + userSchema + `,"userName":"bad` + "\xff" + ` utf-8"}`,
}

// refusedAtEdge reports whether body is not one valid UTF-8 JSON value, which
// ServeHTTP refuses before any create path sees it (elimity would read the
// first value and ignore the rest); for such a body it checks the direct
// twin's answer, 400 invalidSyntax, and the caller compares nothing with
// elimity (so the twins' stores stay in step).
func refusedAtEdge(t *testing.T, direct *createTwin, endpoint, body string) bool {
	t.Helper()
	if utf8.ValidString(body) && json.Valid([]byte(body)) {
		return false
	}
	d := direct.post(t, endpoint, body, false)
	if d.Code != http.StatusBadRequest || !strings.Contains(d.Body.String(), `"scimType":"invalidSyntax"`) {
		t.Errorf("%s %q: status %d %s, want 400 invalidSyntax", endpoint, body, d.Code, d.Body)
	}
	return true
}

func decodeID(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var doc struct{ ID string }
	if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &doc) != nil || doc.ID == "" {
		t.Fatalf("create: %d %s", rec.Code, rec.Body)
	}
	return doc.ID
}

func compareCreate(t *testing.T, i int, body string, d, e *httptest.ResponseRecorder) {
	t.Helper()
	if d.Code != e.Code {
		t.Errorf("body %d %.60s: status direct %d, elimity %d (%s)", i, body, d.Code, e.Code, e.Body)
	}
	// Only the direct path sets Content-Length (elimity leaves it to
	// net/http): so each success took the path meant.
	if d.Code == http.StatusCreated && (d.Header().Get("Content-Length") == "" || e.Header().Get("Content-Length") != "") {
		t.Errorf("body %d: not answered by the intended paths (Content-Length direct %q, elimity %q)", i,
			d.Header().Get("Content-Length"), e.Header().Get("Content-Length"))
	}
	for _, h := range []string{"Content-Type", "Etag"} {
		if d.Header().Get(h) != e.Header().Get(h) {
			t.Errorf("body %d: %s direct %q, elimity %q", i, h, d.Header().Get(h), e.Header().Get(h))
		}
	}
	if dl, el := normalizeCreate(d.Header().Get("Location")), normalizeCreate(e.Header().Get("Location")); dl != el {
		t.Errorf("body %d: Location direct %q, elimity %q", i, dl, el)
	}
	db, eb := normalizeCreate(d.Body.String()), normalizeCreate(e.Body.String())
	if db == eb {
		return
	}
	// Where elimity's refusal carries one of its generic details,
	// serveResourceWrite names the problem instead: the rest of the error
	// must be elimity's.
	var de, ee map[string]any
	if d.Code >= 400 && json.Unmarshal(d.Body.Bytes(), &de) == nil && json.Unmarshal(e.Body.Bytes(), &ee) == nil {
		if det, _ := ee["detail"].(string); genericDetails[det] {
			if dd, _ := de["detail"].(string); dd == "" {
				t.Errorf("body %d %.60s: refusal without a detail: %s", i, body, d.Body)
			}
			delete(de, "detail")
			delete(ee, "detail")
			if diff := cmp.Diff(ee, de); diff != "" {
				t.Errorf("body %d %.60s: errors differ (-elimity +direct):\n%s", i, body, diff)
			}
			return
		}
	}
	// A group's answer writes its member list first (resourceResponse);
	// elimity sorts the keys. JSON objects are unordered: compare values.
	var dv, ev any
	if strings.HasPrefix(db, `{"members":`) && json.Unmarshal([]byte(db), &dv) == nil && json.Unmarshal([]byte(eb), &ev) == nil {
		if diff := cmp.Diff(ev, dv); diff != "" {
			t.Errorf("body %d %.60s: documents differ (-elimity +direct):\n%s", i, body, diff)
		}
		return
	}
	t.Errorf("body %d %.60s: bodies differ:\n direct  %s\n elimity %s", i, body, db, eb)
}

// FuzzCreateAnswersAsElimity sends each input to both twins as a user and
// as a group: the direct path must answer as elimity does (so it never
// accepts what elimity refuses, and never answers 500), and the twins' stores
// stay in step.
func FuzzCreateAnswersAsElimity(f *testing.F) {
	schema.SetAllowStringValues(true)
	for _, b := range createUserBodies {
		f.Add(b)
	}
	f.Add(`{"displayName":"g","members":[{"value":"x"}]}`)
	f.Add(`{"displayName":"g","members":[{"value":"x","display":1}],"externalId":null}`)
	direct, viaElimity := newCreateTwin(f, "direct"), newCreateTwin(f, "elimity")
	i := 0
	f.Fuzz(func(t *testing.T, body string) {
		for _, ep := range []string{"Users", "Groups"} {
			if refusedAtEdge(t, direct, ep, body) {
				continue
			}
			d, e := direct.post(t, ep, body, false), viaElimity.post(t, ep, body, true)
			if d.Code >= 500 {
				t.Fatalf("%s %q: status %d %s", ep, body, d.Code, d.Body)
			}
			compareCreate(t, i, body, d, e)
			i++
		}
	})
}
