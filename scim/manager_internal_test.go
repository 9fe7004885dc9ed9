package scim

import (
	"encoding/json"
	"testing"
)

func TestManagerIDAliasLeavesOtherBodiesAlone(t *testing.T) {
	for _, body := range []string{
		`{"userName":"a","title":"managerId"}`,
		`{"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m","managerId":"x"}}}`,
		`{"userName":"a","urn:example:other:2.0:User":{"manager":{"managerId":"x"}}}`,
		`not json managerId`,
	} {
		if got := managerIDAlias([]byte(body)); string(got) != body {
			t.Errorf("managerIDAlias(%s) = %s, want it unchanged", body, got)
		}
	}
}

// managerIDAlias never panics, keeps valid JSON valid, and changes a body
// only to give a manager the value its managerId named.
func FuzzManagerIDAlias(f *testing.F) {
	f.Add(`{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"managerId":"m","displayName":"M"}}}`)
	f.Add(`{"URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER":{"Manager":{"MANAGERID":7}}}`)
	f.Add(`{"title":"managerid"}`)
	f.Add(`[1,2]`)
	f.Fuzz(func(t *testing.T, body string) {
		out := managerIDAlias([]byte(body))
		if string(out) == body {
			return
		}
		if !json.Valid([]byte(body)) || !json.Valid(out) {
			t.Fatalf("changed %q into %q", body, out)
		}
		if !containsFold(out, `"value"`) {
			t.Fatalf("changed %q into %q without a value", body, out)
		}
	})
}
