package presets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
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
		{"okta", Quirks{}},
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
		if err == nil && strings.TrimSpace(p.Description) == "" {
			t.Fatal("loaded a preset without a description")
		}
	})
}
