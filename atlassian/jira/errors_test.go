package jira

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

func TestDecodeError(t *testing.T) {
	cases := []struct {
		name   string
		status int
		header http.Header
		body   string
		kind   atlassian.ErrorKind
		code   string
	}{
		{"doc 1.1 not found", 404, nil, `{"errorMessages":["Issue Does Not Exist"],"errors":{}}`, atlassian.NotFound, ""},
		{"doc 1.3 duplicate", 400, nil, `{"errorMessages":[],"errors":{"username":"A user with that username already exists."}}`, atlassian.AlreadyExists, ""},
		{"doc 1.1 before 8.3", 400, nil, `{"errorMessages":["error.no.value.found.to.be.changed"],"errors":{}}`, atlassian.Unsupported, "error.no.value.found.to.be.changed"},
		{"read-only key", 400, nil, `{"errorMessages":["admin.errors.cannot.add.user.all.directories.read.only"],"errors":{}}`, atlassian.ReadOnlyDirectory, "admin.errors.cannot.add.user.all.directories.read.only"},
		{"read-only text", 403, nil, `{"errorMessages":["You cannot add user 'x' to group 'y'. The user's directory is read only."],"errors":{}}`, atlassian.ReadOnlyDirectory, ""},
		{"licence KB text", 400, nil, `{"errorMessages":["You have exceeded the number of users allowed to use JIRA applications under your license"],"errors":{}}`, atlassian.LicenseLimit, ""},
		{"delete veto", 400, nil, `{"errorMessages":["Cannot delete user 'fred' because they have reported 12 issues.","Cannot delete user 'fred' because they have 3 comments."],"errors":{}}`, atlassian.DeleteRefused, ""},
		{"delete veto key", 400, nil, `{"errorMessages":["admin.errors.users.cannot.delete.due.to.reported.issues"],"errors":{}}`, atlassian.DeleteRefused, "admin.errors.users.cannot.delete.due.to.reported.issues"},
		{"already member", 400, nil, `{"errorMessages":["Cannot add user. 'x' is already a member of 'g'"],"errors":{}}`, atlassian.AlreadyMember, ""},
		{"cloud already member (AX-17)", 400, nil, `{"errorMessages":["Cannot add user. User is already a member of '{1}'"],"errors":{}}`, atlassian.AlreadyMember, ""},
		{"not member", 400, nil, `{"errorMessages":["Cannot remove user 'x' from group 'g' since user is not a member of 'g'"],"errors":{}}`, atlassian.NotMember, ""},
		{"group exists", 400, nil, `{"errorMessages":["A group or user with this name already exists."],"errors":{}}`, atlassian.AlreadyExists, ""},
		{"quoted names do not classify", 400, nil, `{"errorMessages":["The user named 'already a member read only' does not exist"],"errors":{}}`, atlassian.NotFound, ""},
		{"validation", 400, nil, `{"errorMessages":[],"errors":{"email":"You must specify a valid email address."}}`, atlassian.Invalid, ""},
		{"401 html", 401, http.Header{"X-Seraph-Loginreason": {"AUTHENTICATED_FAILED"}}, `<html><body><p>Basic Authentication Failure - Reason : AUTHENTICATED_FAILED</p></body></html>`, atlassian.Unauthorized, "AUTHENTICATED_FAILED"},
		{"403 basic disabled", 403, nil, `{"message":"Basic Authentication has been disabled on this instance."}`, atlassian.Forbidden, ""},
		{"429", 429, nil, `{"message":"Rate limit exceeded"}`, atlassian.RateLimited, ""},
		{"502 proxy html", 502, nil, "<html>Bad Gateway</html>", atlassian.Transient, ""},
		{"empty 500", 500, nil, "", atlassian.Transient, ""},
		{"402 seats", 402, nil, `{}`, atlassian.LicenseLimit, ""},
		// A 404 is NotFound only in Jira's envelope (doc §1.4); anything else is no answer about
		// the user or group.
		{"doc 1.4 user not found", 404, nil, `{"errorMessages":["The user named 'xyz' does not exist"],"errors":{}}`, atlassian.NotFound, ""},
		{"404 envelope, fields only", 404, nil, `{"errors":{}}`, atlassian.NotFound, ""},
		{"404 html", 404, nil, "<html><body><h1>HTTP Status 404 – Not Found</h1></body></html>", atlassian.Unsupported, ""},
		{"404 empty", 404, nil, "", atlassian.Unsupported, ""},
		{"404 json, not Jira's", 404, nil, `{"error":"not found"}`, atlassian.Unsupported, ""},
		{"404 jersey no resource", 404, nil, `{"message":"null for uri: https://jira.example.com/rest/api/2/user/list?maxResults=1000","status-code":404}`, atlassian.Unsupported, ""},
		{"404 jersey text in the envelope", 404, nil, `{"errorMessages":["null for uri: http://127.0.0.1/rest/api/2/x"],"errors":{}}`, atlassian.Unsupported, ""},
		{"403 read-only group (Crowd layer)", 403, nil, `{"errorMessages":["Cannot update group 'g' because directory 'LDAP server' does not allow updates."],"errors":{}}`, atlassian.ReadOnlyDirectory, ""},
		{"400 read-only delete", 400, nil, `{"errorMessages":["Cannot delete user, the user directory is read-only."],"errors":{}}`, atlassian.ReadOnlyDirectory, ""},
		{"403 read-only, apostrophe in the name", 403, nil, `{"errorMessages":["You cannot add user 'o'brien' to group 'dev's'. The user's directory is read only."],"errors":{}}`, atlassian.ReadOnlyDirectory, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			e := decodeError(tc.status, h, []byte(tc.body))
			if e.Kind != tc.kind || e.Code != tc.code {
				t.Errorf("kind=%v code=%q, want %v %q (%s)", e.Kind, e.Code, tc.kind, tc.code, e.Error())
			}
		})
	}
	if e := decodeError(401, http.Header{}, []byte("<html><body>x</body></html>")); strings.Contains(e.Error(), "<") {
		t.Errorf("HTML markup kept in %q", e.Error())
	}
	// Jersey quotes the whole request URI; the error keeps the path only.
	e := decodeError(404, http.Header{}, []byte(`{"message":"null for uri: https://jira.example.com/rest/api/2/user?username=jdoe#x","status-code":404}`))
	if s := e.Error(); strings.Contains(s, "jdoe") || !strings.Contains(s, "null for uri: https://jira.example.com/rest/api/2/user") {
		t.Errorf("Jersey 404 = %q, want the URI without its query", s)
	}
}

func FuzzDecodeError(f *testing.F) {
	f.Add(400, []byte(`{"errorMessages":["a"],"errors":{"username":"A user with that username already exists."}}`))
	f.Add(404, []byte(`{"errorMessages":null,"errors":null}`))
	f.Add(403, []byte(`{"message":"x"}`))
	f.Add(500, []byte("\xff\xfe<html>"))
	f.Add(404, []byte(`{"message":"null for uri: %zz?x","status-code":404}`))
	f.Add(404, []byte(`{"errorMessages":["null for uri:"],"errors":{}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := decodeError(status, http.Header{}, body)
		if e == nil {
			t.Fatal("nil error")
		}
		_ = e.Error()
		if status == http.StatusNotFound && e.Kind == atlassian.NotFound && !hasEnvelope(body) {
			t.Fatalf("404 without Jira's envelope read as NotFound: %q", body)
		}
	})
}

// TestRawKindsFromEmulator checks the kinds AddMember/RemoveMember deliberately swallow, on the
// emulator's actual answers.
func TestRawKindsFromEmulator(t *testing.T) {
	e := atlassiantest.New(atlassiantest.Options{Token: "tok"})
	if err := e.AddUser(atlassiantest.SeedUser{Name: "m", Groups: []string{"g"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.AddUser(atlassiantest.SeedUser{Name: "n"}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	c, err := New(Options{TransportOptions: atlassian.TransportOptions{BaseURL: srv.URL, Auth: atlassian.BearerToken("tok")}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.t.Do(t.Context(), atlassian.Request{Method: http.MethodPost, Path: apiRoot + "/group/user",
		Query: map[string][]string{"groupname": {"g"}}, Body: map[string]string{"name": "m"}})
	if !errors.Is(err, atlassian.AlreadyMember) {
		t.Errorf("second add = %v, want AlreadyMember", err)
	}
	_, err = c.t.Do(t.Context(), atlassian.Request{Method: http.MethodDelete, Path: apiRoot + "/group/user",
		Query: map[string][]string{"groupname": {"g"}, "username": {"n"}}})
	if !errors.Is(err, atlassian.NotMember) {
		t.Errorf("remove non-member = %v, want NotMember", err)
	}
}
