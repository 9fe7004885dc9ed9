package transform

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzAccount compiles random rules and applies them to random users: nothing
// may panic or hang, a failed Compile is a *SpecError with problems, and every
// Desired that succeeds satisfies what Jira needs.
func FuzzAccount(f *testing.F) {
	f.Add([]byte(`{"userName":"Jane.Doe@example.com","displayName":"Jane","emails":[{"value":"j@x.org","primary":true}],"active":true}`),
		"userName", `emails[primary eq true].value`, `^(.*)@example\.com$`, "$1", "{{.name.givenName}} {{.name.familyName}}", "^okta-(.*)$", "okta-jira-qa")
	f.Add([]byte(`{"userName":"u","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"m"},"employeeNumber":12}}`),
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "emails.value", "(", "", "{{range .emails}}{{.value}}{{end}}", "[", "x")
	f.Add([]byte(`{"emails":{"value":"o@x","primary":"True"},"name":{"givenName":"A"},"active":"False"}`),
		`emails[type eq "work" and primary eq true].value`, "name", ".*", "", `{{attr . "emails[primary eq true].value" | upper}}`, "", "")
	f.Add([]byte(`[1,2]`), "", "a..b", "x*", "${1}", "{{define \"x\"}}{{end}}", "(?i)^A", "a")
	f.Add([]byte(`{"userName":"a<b","emails":[[["x"]]],"active":3}`), "userName", "emails", "<", "&", "{{range 5}}{{end}}", "-", "-")
	f.Fuzz(func(t *testing.T, userJSON []byte, path1, path2, regex, replace, tmplSrc, groupPat, group string) {
		spec := Spec{
			Mapping: Mapping{
				Username:    Field{From: Sources{path1, path2}, Rules: []Rule{{Regex: regex, Replace: &replace}, {Trim: true}}},
				DisplayName: Field{From: Sources{tmplSrc, "displayName"}, Rules: []Rule{{Template: tmplSrc}}},
				Email:       Field{From: Sources{path2}, Fallback: Sources{"emails.value"}},
			},
			Users:  Users{RequireGroups: []string{group}},
			Groups: Groups{Include: []string{groupPat}, Rename: []Rename{{Regex: groupPat, Replace: &replace}}, Default: []string{"d"}},
		}
		c, err := Compile(spec)
		if err != nil {
			var se *SpecError
			if !errors.As(err, &se) || len(se.Problems) == 0 {
				t.Fatalf("Compile error %v is not a *SpecError with problems", err)
			}
			// Drop the rules and patterns and keep going with the paths.
			spec.Mapping.Username.Rules, spec.Mapping.DisplayName = nil, Field{}
			spec.Groups = Groups{}
			if c, err = Compile(spec); err != nil {
				return
			}
		}
		var user map[string]any
		dec := json.NewDecoder(bytes.NewReader(userJSON))
		dec.UseNumber()
		if dec.Decode(&user) != nil {
			user = map[string]any{"raw": string(userJSON)}
		}
		d, err := c.Desired(user, []string{group, "okta-" + group})
		if err != nil || d.Skipped {
			return
		}
		if why := checkUsername(d.Username); why != "" {
			t.Fatalf("Desired username %q: %s", d.Username, why)
		}
		if why := checkEmail(d.Email); why != "" {
			t.Fatalf("Desired email %q: %s", d.Email, why)
		}
		if d.DisplayName == "" {
			t.Fatal("empty display name")
		}
		for i, g := range d.Groups {
			if why := badGroupName(g); why != "" {
				t.Fatalf("group %q: %s", g, why)
			}
			if i > 0 && strings.EqualFold(d.Groups[i-1], g) {
				t.Fatalf("groups not deduplicated: %q", d.Groups)
			}
		}
	})
}

// FuzzPath parses random paths and resolves them in a rich user.
func FuzzPath(f *testing.F) {
	for _, p := range []string{
		"userName", `emails[type eq "work"].value`, `roles[primary eq "True"].value`,
		enterpriseURN + ":manager.value", `a[b eq "c\"]" and d eq null].e`, "urn:x", "x[y eq z]",
	} {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, path string) {
		p, err := parsePath(path)
		if err != nil {
			if p != nil {
				t.Fatal("non-nil path with an error")
			}
			return
		}
		if _, err := p.value(entraUser()); err != nil && err.Error() == "" {
			t.Fatal("empty error message")
		}
		if _, err := attrFunc(entraUser(), path); err != nil {
			t.Fatalf("attr fails on a path parsePath accepted: %v", err)
		}
	})
}
