package transform

import "testing"

// BenchmarkDesired measures one user through a full preset-like mapping with
// rules and group rules, the work the engine does per user per pass.
func BenchmarkDesired(b *testing.B) {
	s := issueSpec()
	s.Mapping.Username.Rules = []Rule{{Regex: `^(.*)@schaefer\.us$`, Replace: new("$1")}, {Lowercase: true}}
	s.Mapping.DisplayName = Field{From: Sources{"nickName", "{{.name.givenName}} {{.name.familyName}}"}}
	c, err := Compile(s)
	if err != nil {
		b.Fatal(err)
	}
	user := entraUser()
	groups := []string{"jira-users", "okta-jira-qa", "jira-developers", "sales", "all-staff"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Desired(user, groups); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCompile(b *testing.B) {
	s := issueSpec()
	for b.Loop() {
		if _, err := Compile(s); err != nil {
			b.Fatal(err)
		}
	}
}
