package presets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/transform"
)

func TestNames(t *testing.T) {
	want := []string{"entra", "generic", "google", "jumpcloud", "keycloak", "okta", "onelogin", "pingone"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestEveryEmbeddedPresetLoads(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			p, err := Get(name)
			if err != nil {
				t.Fatalf("Get(%q): %v", name, err)
			}
			if p.Name != name {
				t.Errorf("Name = %q, want %q", p.Name, name)
			}
			if strings.TrimSpace(p.Description) == "" {
				t.Error("empty description")
			}
		})
	}
}

func TestQuirksFromDocs(t *testing.T) {
	tests := []struct {
		name string
		want Quirks
	}{
		{"entra", Quirks{PatchNoContent: true}},      // idp-scim-clients.md 3.7
		{"onelogin", Quirks{AlwaysReturnName: true}}, // idp-scim-clients.md 4
		{"okta", Quirks{PatchNoContent: true}},       // idp-scim-clients.md 2.11 item 9
		{"generic", Quirks{}},
	}
	for _, tc := range tests {
		p, err := Get(tc.name)
		if err != nil {
			t.Fatalf("Get(%q): %v", tc.name, err)
		}
		if p.Quirks != tc.want {
			t.Errorf("%s quirks = %+v, want %+v", tc.name, p.Quirks, tc.want)
		}
	}
}

func TestGetUnknownListsValidNames(t *testing.T) {
	for _, name := range []string{"azure", "", "Okta", "../okta", "okta.yaml"} {
		_, err := Get(name)
		if err == nil {
			t.Fatalf("Get(%q) succeeded", name)
		}
		for _, valid := range Names() {
			if !strings.Contains(err.Error(), valid) {
				t.Errorf("Get(%q) error %q does not list %q", name, err, valid)
			}
		}
	}
}

func TestGetReturnsIndependentCopies(t *testing.T) {
	a, err := Get("entra")
	if err != nil {
		t.Fatal(err)
	}
	a.Quirks.PatchNoContent = false
	b, err := Get("entra")
	if err != nil {
		t.Fatal(err)
	}
	if !b.Quirks.PatchNoContent {
		t.Fatal("changing one Get result changed the next")
	}
}

// badPresets maps each testdata/*.bad.yaml to a substring its error must hold:
// the key path and line where one exists.
var badPresets = map[string]string{
	"unknown-quirk.bad.yaml":  "line 3: quirks.patch_no_contnet: unknown key; known keys here: patch_no_content, always_return_name",
	"quirk-not-bool.bad.yaml": "line 3: quirks.patch_no_content: got a string, want true or false",
	"no-description.bad.yaml": "description: required",
	"name-key.bad.yaml":       "line 1: name: unknown key (the preset's name is its file name)",
	"quirks-list.bad.yaml":    "line 2: quirks: got a list, want a mapping",
	"syntax.bad.yaml":         "yaml: line 2",
	"two-documents.bad.yaml":  "more than one YAML document",
	"top-level-list.bad.yaml": "line 1: document: got a list, want a mapping",

	"mapping-bad-regex.bad.yaml":    "mapping.username.rules[0].regex: error parsing regexp: missing closing ]: `[a-z`",
	"mapping-unknown-key.bad.yaml":  "line 6: mapping.username.rules[0].lowercse: unknown key; known keys here: regex, replace, lowercase, uppercase, trim, strip_domain, template, default",
	"mapping-two-kinds.bad.yaml":    "mapping.username.rules[1]: lowercase and trim set together",
	"mapping-field-typo.bad.yaml":   "line 3: mapping.user_name: unknown key; known keys here: username, display_name, email",
	"mapping-from-number.bad.yaml":  "line 4: mapping.username.from: want a path or a list of paths",
	"mapping-bad-path.bad.yaml":     `mapping.email.from[0]: path "emails[type co \"work\"].value": filter [type co "work"]: unsupported operator "co"`,
	"mapping-missing.bad.yaml":      "mapping.username.from: required (an attribute path such as userName); mapping.email.from: required",
	"mapping-bad-template.bad.yaml": `mapping.display_name.from[0]: template: function "printf" is not allowed`,
	"users-key.bad.yaml":            "line 5: users: unknown key (users.require_groups names an organisation's groups: set it on the tenant)",
	"groups-bad-pattern.bad.yaml":   "groups.include[0]: error parsing regexp: missing closing ): `^jira-(`",
}

func TestBadPresets(t *testing.T) {
	files, err := filepath.Glob("testdata/*.bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(badPresets) {
		t.Errorf("%d bad files in testdata, %d in the table: keep them in step", len(files), len(badPresets))
	}
	for _, f := range files {
		base := filepath.Base(f)
		t.Run(base, func(t *testing.T) {
			want, ok := badPresets[base]
			if !ok {
				t.Fatalf("no expected message for %s", base)
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Load("broken", data)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q\n does not contain %q", err, want)
			}
			if !strings.HasPrefix(err.Error(), `preset "broken": `) {
				t.Errorf("error %q does not name the preset", err)
			}
		})
	}
}

func TestLoadEmptyDocumentNeedsDescription(t *testing.T) {
	_, err := Load("empty", nil)
	if err == nil || !strings.Contains(err.Error(), "description: required") {
		t.Fatalf("Load(empty) = %v, want description: required", err)
	}
}

func FuzzLoad(f *testing.F) {
	for _, name := range Names() {
		data, err := dataFS.ReadFile("data/" + name + ".yaml")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	files, _ := filepath.Glob("testdata/*.bad.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Load("fuzz", data)
		if err != nil {
			return
		}
		if strings.TrimSpace(p.Description) == "" {
			t.Fatal("loaded a preset without a description")
		}
		if _, err := transform.Compile(p.Spec()); err != nil {
			t.Fatalf("loaded a preset whose mapping does not compile: %v", err)
		}
	})
}

func TestEveryEmbeddedPresetCompiles(t *testing.T) {
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			p, err := Get(name)
			if err != nil {
				t.Fatal(err)
			}
			c, err := transform.Compile(p.Spec())
			if err != nil {
				t.Fatalf("Compile(%s): %v", name, err)
			}
			// Every preset handles the RFC 7643 minimum the same way.
			acct, err := c.Account(map[string]any{
				"userName": "Min.User@example.com",
				"emails":   []any{map[string]any{"value": "min.user@example.com", "primary": true}},
			})
			if err != nil {
				t.Fatal(err)
			}
			want := transform.Account{Username: "Min.User@example.com", DisplayName: "Min.User@example.com", Email: "min.user@example.com", Active: true}
			if acct != want {
				t.Fatalf("Account = %+v, want %+v", acct, want)
			}
		})
	}
}

// TestPresetMappingsOnIdPBodies applies each preset to a body shaped like what
// its IdP sends (idp-scim-clients.md sections cited), as the store keeps it.
func TestPresetMappingsOnIdPBodies(t *testing.T) {
	tests := []struct {
		preset string
		user   map[string]any
		want   transform.Account
	}{
		{preset: "okta", user: map[string]any{ // 2.3
			"userName":    "test.user@okta.local",
			"name":        map[string]any{"givenName": "Test", "familyName": "User"},
			"emails":      []any{map[string]any{"primary": true, "value": "test.user@okta.local", "type": "work"}},
			"displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7", "active": true,
		}, want: transform.Account{Username: "test.user@okta.local", DisplayName: "Test User", Email: "test.user@okta.local", Active: true}},
		{preset: "entra", user: map[string]any{ // 3.3, without displayName; 3.8 mail -> work email
			"userName":   "Test_User_00aa00aa@contoso.com",
			"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
			"active":     "False", // 3.6, before the scim layer normalises it
			"emails": []any{
				map[string]any{"type": "other", "Value": "proxy@contoso.com", "primary": true},
				map[string]any{"type": "work", "value": "test.user@contoso.com"},
			},
			"name": map[string]any{"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		}, want: transform.Account{Username: "Test_User_00aa00aa@contoso.com", DisplayName: "givenName familyName", Email: "test.user@contoso.com", Active: false}},
		{preset: "entra", user: map[string]any{ // 3.8: no work email, the primary one
			"userName": "u@contoso.com", "emails": []any{map[string]any{"type": "other", "value": "o@contoso.com", "primary": true}},
			"name": map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
		}, want: transform.Account{Username: "u@contoso.com", DisplayName: "Ada Lovelace", Email: "o@contoso.com", Active: true}},
		{preset: "onelogin", user: map[string]any{ // 4: SCIM 1.1 template, emails as an object
			"userName": "jdoe", "name": map[string]any{"givenName": "John", "familyName": "Doe"},
			"emails": map[string]any{"value": "jdoe@example.com", "type": "work", "primary": true},
		}, want: transform.Account{Username: "jdoe", DisplayName: "John Doe", Email: "jdoe@example.com", Active: true}},
		{preset: "jumpcloud", user: map[string]any{ // 5: username, firstname, lastname
			"userName": "jc.user", "name": map[string]any{"givenName": "Jay", "familyName": "Cee"},
			"emails": []any{map[string]any{"value": "jc@example.com", "type": "work"}},
		}, want: transform.Account{Username: "jc.user", DisplayName: "Jay Cee", Email: "jc@example.com", Active: true}},
	}
	for _, tc := range tests {
		t.Run(tc.preset, func(t *testing.T) {
			p, err := Get(tc.preset)
			if err != nil {
				t.Fatal(err)
			}
			c, err := transform.Compile(p.Spec())
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Account(tc.user)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("Account = %+v, want %+v", got, tc.want)
			}
		})
	}
}

// A tenant overrides its preset piece by piece: what it sets replaces the
// preset's piece, what it leaves out keeps the preset's.
func TestMergeWithTenantOverride(t *testing.T) {
	p, err := Get("entra")
	if err != nil {
		t.Fatal(err)
	}
	tenant := transform.Spec{
		Mapping: transform.Mapping{
			// Rules only: the preset's username source (userName) stays.
			Username: transform.Field{Rules: []transform.Rule{{StripDomain: true}, {Lowercase: true}}},
			// Sources only: the preset's display_name sources go.
			DisplayName: transform.Field{From: transform.Sources{"name.familyName"}},
		},
		Users:  transform.Users{RequireGroups: []string{"jira-users"}},
		Groups: transform.Groups{Default: []string{"jira-software-users"}},
	}
	merged := transform.Merge(p.Spec(), tenant)
	want := transform.Spec{
		Mapping: transform.Mapping{
			Username:    transform.Field{From: transform.Sources{"userName"}, Rules: []transform.Rule{{StripDomain: true}, {Lowercase: true}}},
			DisplayName: transform.Field{From: transform.Sources{"name.familyName"}},
			Email:       p.Mapping.Email,
		},
		Users:  transform.Users{RequireGroups: []string{"jira-users"}},
		Groups: transform.Groups{Default: []string{"jira-software-users"}},
	}
	if diff := cmp.Diff(want, merged); diff != "" {
		t.Fatalf("Merge (-want +got):\n%s", diff)
	}
	c, err := transform.Compile(merged)
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Desired(map[string]any{
		"userName": "Jane.Doe@Contoso.com",
		"emails":   []any{map[string]any{"type": "work", "value": "jane@contoso.com"}},
		"name":     map[string]any{"givenName": "Jane", "familyName": "Doe"},
	}, []string{"jira-users"})
	if err != nil {
		t.Fatal(err)
	}
	wantD := transform.Desired{
		Account: transform.Account{Username: "jane.doe", DisplayName: "Doe", Email: "jane@contoso.com", Active: true},
		Groups:  []string{"jira-software-users", "jira-users"},
	}
	if diff := cmp.Diff(wantD, d); diff != "" {
		t.Fatalf("Desired (-want +got):\n%s", diff)
	}
	// The preset itself is untouched by the merge.
	again, err := Get("entra")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(again.Spec(), p.Spec()); diff != "" {
		t.Fatalf("preset changed (-want +got):\n%s", diff)
	}
}

// A broken preset is never half-returned.
func TestBrokenMappingReturnsNoPreset(t *testing.T) {
	data, err := os.ReadFile("testdata/mapping-bad-regex.bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Load("broken", data)
	if err == nil || p.Name != "" || p.Mapping.Username.From != nil {
		t.Fatalf("Load = %+v, %v; want a zero preset and an error", p, err)
	}
}
