package transform

import (
	"encoding/json"
	"strings"
	"testing"
)

const enterpriseURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"

// entraUser is shaped like the Microsoft validator's fixture user
// (idp-scim-clients.md 8.4), with the mixed-case and string-boolean quirks of
// sections 3.8 and 3.9, a custom extension (3.10) and Entra's bare-string
// manager (3.8).
func entraUser() map[string]any {
	return map[string]any{
		"userName":    "Noemie.Hoppe@schaefer.us",
		"displayName": "Noemie Hoppe",
		"active":      true,
		"title":       "Engineer",
		"name": map[string]any{
			"givenName": "Noemie", "familyName": "Hoppe", "formatted": "Noemie Hoppe",
		},
		"emails": []any{
			map[string]any{"type": "other", "Value": "proxy@schaefer.us"},
			map[string]any{"type": "Work", "value": "noemie.hoppe@schaefer.us", "primary": true},
		},
		"phoneNumbers": []any{
			map[string]any{"type": "work", "value": "+1 555 0100", "primary": true},
			map[string]any{"type": "mobile", "value": "+1 555 0199"},
		},
		"roles": []any{map[string]any{"primary": "True", "value": "Admin"}},
		enterpriseURN: map[string]any{
			"department": "R&D", "employeeNumber": json.Number("701984"), "costCenter": float64(4100),
			"manager": map[string]any{"value": "2c2f6fb8"},
		},
		"urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User": map[string]any{"CustomAttribute": "x-42"},
		"urn:example:flat": map[string]any{"manager": "bare-manager-id"},
	}
}

func TestPathValue(t *testing.T) {
	tests := []struct {
		path    string
		user    map[string]any
		want    string
		wantErr string
	}{
		{path: "userName", want: "Noemie.Hoppe@schaefer.us"},
		{path: "USERNAME", want: "Noemie.Hoppe@schaefer.us"},
		{path: "name.givenName", want: "Noemie"},
		{path: "Name.FamilyName", want: "Hoppe"},
		{path: "name.middleName", want: ""},
		{path: "nickName", want: ""},
		{path: "active", want: "true"},
		{path: `emails[type eq "work"].value`, want: "noemie.hoppe@schaefer.us"},
		{path: `emails[TYPE EQ "WORK"].VALUE`, want: "noemie.hoppe@schaefer.us"},
		{path: `emails[type eq "other"].Value`, want: "proxy@schaefer.us"},
		{path: `emails[type eq "other"].value`, want: "proxy@schaefer.us"},
		{path: `emails[primary eq true].value`, want: "noemie.hoppe@schaefer.us"},
		{path: `emails[primary eq True].value`, want: "noemie.hoppe@schaefer.us"},
		{path: `emails[type eq "work" and primary eq true].value`, want: "noemie.hoppe@schaefer.us"},
		{path: `emails[type eq "other" and primary eq true].value`, want: ""},
		{path: `emails[type eq "home"].value`, want: ""},
		{path: `emails[primary eq null].value`, want: "proxy@schaefer.us"},
		{path: "emails.value", want: "noemie.hoppe@schaefer.us"}, // the primary one
		{path: "emails", want: "noemie.hoppe@schaefer.us"},       // complex: its value
		{path: `phoneNumbers[type eq "mobile"].value`, want: "+1 555 0199"},
		{path: `roles[primary eq "True"].value`, want: "Admin"},
		{path: `roles[primary eq true].value`, want: "Admin"},
		{path: enterpriseURN + ":department", want: "R&D"},
		{path: strings.ToUpper(enterpriseURN) + ":Department", want: "R&D"},
		{path: enterpriseURN + ":employeeNumber", want: "701984"},
		{path: enterpriseURN + ":costCenter", want: "4100"},
		{path: enterpriseURN + ":manager.value", want: "2c2f6fb8"},
		{path: enterpriseURN + ":manager", want: "2c2f6fb8"},
		{path: enterpriseURN + ":division", want: ""},
		{path: "urn:example:flat:manager", want: "bare-manager-id"},
		{path: "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User:CustomAttribute", want: "x-42"},
		{path: "urn:ietf:params:scim:schemas:extension:Missing:2.0:User:x", want: ""},
		{path: "urn:ietf:params:scim:schemas:core:2.0:User:userName", want: "Noemie.Hoppe@schaefer.us"},
		{path: "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName", want: "Noemie"},
		{path: "name", wantErr: `is a complex value without a "value" sub-attribute`},
		{path: "userName.x", want: ""},
		// OneLogin's SCIM 1.1 template sends emails as an object (section 4).
		{path: `emails[primary eq true].value`, user: map[string]any{"emails": map[string]any{"value": "o@x", "primary": true}}, want: "o@x"},
		{path: "emails.value", user: map[string]any{"emails": map[string]any{"value": "o@x"}}, want: "o@x"},
		// No primary: the first element.
		{path: "emails.value", user: map[string]any{"emails": []any{map[string]any{"value": "1@x"}, map[string]any{"value": "2@x"}}}, want: "1@x"},
		{path: "emails.value", user: map[string]any{"emails": []any{}}, want: ""},
		{path: "emails.value", user: map[string]any{"emails": nil}, want: ""},
		// Hand-built shapes the engine might pass.
		{path: "emails.value", user: map[string]any{"emails": []map[string]any{{"value": "h@x"}}}, want: "h@x"},
		{path: "name.givenName", user: map[string]any{"name": map[string]string{"givenName": "Hand"}}, want: "Hand"},
		{path: "tags", user: map[string]any{"tags": []string{"a", "b"}}, want: "a"},
		{path: "n", user: map[string]any{"n": 3}, want: "3"},
		{path: "n", user: map[string]any{"n": 1e21}, want: "1000000000000000000000"},
		{path: "x", user: map[string]any{"x": struct{}{}}, wantErr: "is a struct {}, not a string, number or boolean"},
		// Exact key beats a case-folded one; among folded ones the smallest key wins.
		{path: "title", user: map[string]any{"Title": "B", "title": "A"}, want: "A"},
		{path: "TITLE", user: map[string]any{"title": "A", "Title": "B"}, want: "B"},
		{path: "deep", user: map[string]any{"deep": []any{[]any{[]any{[]any{[]any{[]any{[]any{[]any{[]any{"x"}}}}}}}}}}, wantErr: "nested too deeply"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			user := tc.user
			if user == nil {
				user = entraUser()
			}
			p, err := parsePath(tc.path)
			if err != nil {
				t.Fatalf("parsePath(%q): %v", tc.path, err)
			}
			got, err := p.value(user)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("value = %q, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("value = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestParsePathErrors(t *testing.T) {
	tests := []struct{ path, wantErr string }{
		{"", "empty path"},
		{" userName", "leading or trailing spaces"},
		{"name.", "ends with '.'"},
		{".name", `unexpected '.' at offset 0`},
		{"name..givenName", `unexpected '.' at offset 5`},
		{"1name", `unexpected '1' at offset 0`},
		{"user name", `unexpected ' ' at offset 4`},
		{"emails[type eq \"work\"", "unterminated '['"},
		{"emails[]", "empty filter"},
		{"emails[type]", "incomplete comparison"},
		{"emails[type eq]", "incomplete comparison"},
		{`emails[type co "work"]`, `unsupported operator "co"`},
		{`emails[type eq "work" or type eq "home"]`, `unexpected "or" (only and joins`},
		{`emails[type eq "work" and]`, "incomplete comparison"},
		{`emails["type" eq "work"]`, `"type" is not an attribute name`},
		{`emails[type eq "wo\qrk"]`, "bad string"},
		{`emails[type eq "work]`, "unterminated '['"},
		{`emails[type eq "work"]x`, `unexpected 'x'`},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:", "no attribute after the schema URN"},
		{"urn:", "no attribute after the schema URN"},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			_, err := parsePath(tc.path)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("parsePath(%q) = %v, want error containing %q", tc.path, err, tc.wantErr)
			}
		})
	}
}

func TestParsePathQuotedBracketAndEscapes(t *testing.T) {
	p, err := parsePath(`emails[type eq "a]\"b"].value`)
	if err != nil {
		t.Fatal(err)
	}
	user := map[string]any{"emails": []any{map[string]any{"type": `a]"b`, "value": "ok"}}}
	if got, err := p.value(user); err != nil || got != "ok" {
		t.Fatalf("value = %q, %v; want ok", got, err)
	}
}
