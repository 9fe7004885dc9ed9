package crowd

import (
	"net/http"
	"testing"

	"github.com/scimbridge/scimbridge/atlassian"
)

func TestDecodeError(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		kind   atlassian.ErrorKind
		code   string
	}{
		{"doc 3.2 user not found", 404, `{"reason":"USER_NOT_FOUND","message":"User <hoge> does not exist"}`, atlassian.NotFound, "USER_NOT_FOUND"},
		{"group not found as 400", 400, `{"reason":"GROUP_NOT_FOUND","message":"Group <g> does not exist"}`, atlassian.NotFound, "GROUP_NOT_FOUND"},
		{"membership exists", 409, `{"reason":"MEMBERSHIP_ALREADY_EXISTS","message":"…"}`, atlassian.AlreadyMember, "MEMBERSHIP_ALREADY_EXISTS"},
		{"membership missing", 404, `{"reason":"MEMBERSHIP_NOT_FOUND","message":"…"}`, atlassian.NotMember, "MEMBERSHIP_NOT_FOUND"},
		{"invalid user exists", 400, `{"reason":"INVALID_USER","message":"User <x> already exists"}`, atlassian.AlreadyExists, "INVALID_USER"},
		{"invalid user other", 400, `{"reason":"INVALID_USER","message":"User name must be given"}`, atlassian.Invalid, "INVALID_USER"},
		{"password policy", 400, `{"reason":"INVALID_CREDENTIAL","message":"too short"}`, atlassian.Invalid, "INVALID_CREDENTIAL"},
		{"permission", 403, `{"reason":"APPLICATION_PERMISSION_DENIED","message":"no"}`, atlassian.Forbidden, "APPLICATION_PERMISSION_DENIED"},
		{"read-only", 403, `{"reason":"APPLICATION_PERMISSION_DENIED","message":"Cannot update group 'g' because directory 'LDAP' does not allow updates."}`, atlassian.ReadOnlyDirectory, "APPLICATION_PERMISSION_DENIED"},
		{"read-only group", 400, `{"reason":"OPERATION_FAILED","message":"ReadOnlyGroupException: Group <confluence-users> is read-only and cannot be updated"}`, atlassian.ReadOnlyDirectory, "OPERATION_FAILED"},
		{"licence", 400, `{"reason":"OPERATION_FAILED","message":"You have exceeded the number of users allowed to use JIRA applications under your license"}`, atlassian.LicenseLimit, "OPERATION_FAILED"},
		{"unsupported", 400, `{"reason":"UNSUPPORTED_OPERATION","message":"x"}`, atlassian.Unsupported, "UNSUPPORTED_OPERATION"},
		{"names do not classify", 404, `{"reason":"USER_NOT_FOUND","message":"User <read-only licence exceeded> does not exist"}`, atlassian.NotFound, "USER_NOT_FOUND"},
		{"injected 503", 503, `{"reason":"OPERATION_FAILED","message":"emulator: injected fault (503)"}`, atlassian.Transient, "OPERATION_FAILED"},
		{"401 text", 401, "Application failed to authenticate\n", atlassian.Unauthorized, ""},
		{"unknown reason keeps status", 400, `{"reason":"SOMETHING_NEW","message":"?"}`, atlassian.Invalid, "SOMETHING_NEW"},
		{"404 page without reason", 404, "<html><h1>HTTP Status 404 – Not Found</h1></html>", atlassian.Unsupported, ""},
		{"404 without a not-found reason", 404, `{"reason":"OPERATION_FAILED","message":"No resource"}`, atlassian.Unsupported, "OPERATION_FAILED"},
		{"empty 404", 404, "", atlassian.Unsupported, ""},
		{"group not found 404", 404, `{"reason":"GROUP_NOT_FOUND","message":"Group <g> does not exist"}`, atlassian.NotFound, "GROUP_NOT_FOUND"},
		{"409 without body", 409, "", atlassian.AlreadyMember, ""},
		{"403 text", 403, "Client with address \"10.0.0.9\" is forbidden from making requests to the application", atlassian.Forbidden, ""},
		{"access denied", 403, `{"reason":"APPLICATION_ACCESS_DENIED","message":"x"}`, atlassian.Forbidden, "APPLICATION_ACCESS_DENIED"},
		{"principal authentication", 401, `{"reason":"INVALID_USER_AUTHENTICATION","message":"Failed to authenticate principal, password was invalid"}`, atlassian.Unauthorized, "INVALID_USER_AUTHENTICATION"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := decodeError(tc.status, http.Header{}, []byte(tc.body))
			if e.Kind != tc.kind || e.Code != tc.code {
				t.Errorf("kind=%v code=%q, want %v %q (%s)", e.Kind, e.Code, tc.kind, tc.code, e.Error())
			}
		})
	}
}

func FuzzDecodeError(f *testing.F) {
	f.Add(404, []byte(`{"reason":"USER_NOT_FOUND","message":"User <x> does not exist"}`))
	f.Add(400, []byte(`{"reason":null}`))
	f.Add(401, []byte("text"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		e := decodeError(status, http.Header{}, body)
		if e == nil {
			t.Fatal("nil error")
		}
		_ = e.Error()
	})
}
