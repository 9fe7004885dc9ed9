package transform_test

import (
	"fmt"

	"github.com/scimbridge/scimbridge/transform"
)

func Example() {
	preset := transform.Spec{Mapping: transform.Mapping{
		Username:    transform.Field{From: transform.Sources{"userName"}},
		DisplayName: transform.Field{From: transform.Sources{"displayName", "{{.name.givenName}} {{.name.familyName}}"}},
		Email:       transform.Field{From: transform.Sources{`emails[type eq "work"].value`, "emails.value"}},
	}}
	tenant := transform.Spec{
		Mapping: transform.Mapping{Username: transform.Field{Rules: []transform.Rule{
			{Regex: `^(.*)@example\.com$`, Replace: new("$1")}, {Lowercase: true}}}},
		Users: transform.Users{RequireGroups: []string{"jira-users"}},
		Groups: transform.Groups{
			Include: []string{"^jira-", "^okta-jira-"},
			Rename:  []transform.Rename{{Regex: "^okta-(.*)$", Replace: new("$1")}},
			Default: []string{"jira-software-users"},
		},
	}
	c, err := transform.Compile(transform.Merge(preset, tenant))
	if err != nil {
		fmt.Println(err)
		return
	}
	user := map[string]any{
		"userName": "Ada.Lovelace@example.com",
		"name":     map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
		"emails":   []any{map[string]any{"type": "work", "value": "ada@example.com", "primary": true}},
		"active":   true,
	}
	nested := map[string][]string{"jira-users": {"okta-jira-devs"}}
	d, err := c.Desired(user, transform.Flatten(nested, []string{"okta-jira-devs", "sales"}))
	fmt.Printf("%+v %v\n", d.Account, d.Groups)
	fmt.Println(err, d.Skipped)
	// Output:
	// {Username:ada.lovelace DisplayName:Ada Lovelace Email:ada@example.com Active:true} [jira-devs jira-software-users jira-users]
	// <nil> false
}

func ExampleCompile_errors() {
	_, err := transform.Compile(transform.Spec{Mapping: transform.Mapping{
		Username: transform.Field{From: transform.Sources{"userName"}, Rules: []transform.Rule{
			{Lowercase: true, Trim: true}, {Regex: "([a-z"}}},
		Email: transform.Field{From: transform.Sources{`emails[type co "work"].value`}},
	}})
	for _, p := range err.(*transform.SpecError).Problems {
		fmt.Println(p)
	}
	// Output:
	// mapping.username.rules[0]: lowercase and trim set together; a rule does one thing, so write one rule per kind
	// mapping.username.rules[1].regex: error parsing regexp: missing closing ]: `[a-z`
	// mapping.email.from[0]: path "emails[type co \"work\"].value": filter [type co "work"]: unsupported operator "co" (only eq, joined with and)
}

func ExampleRemovals() {
	c, _ := transform.Compile(transform.Spec{
		Mapping: transform.Mapping{Username: transform.Field{From: transform.Sources{"userName"}}, Email: transform.Field{From: transform.Sources{"emails.value"}}},
		Groups:  transform.Groups{Managed: []string{"^jira-"}},
	})
	desired := []string{"jira-devs"}
	actual := []string{"jira-devs", "jira-old", "engineering", "confluence-admins"} // in Jira now
	applied := []string{"jira-devs", "engineering"}                                 // what the bridge added
	fmt.Println(transform.Removals(desired, actual, applied, c.Managed))
	// Output: [engineering jira-old]
}
