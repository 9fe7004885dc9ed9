// Package presets holds the per-IdP defaults of scimbridge: for every identity
// provider that pushes SCIM to us, a description, the quirk flags the scim
// layer reads, and the default account mapping (transform.Mapping) that a
// tenant overrides piece by piece (transform.Merge(p.Spec(), tenant)). They
// are data files embedded in the binary (data/<name>.yaml), decoded strictly
// and compiled on load, so a typo in a preset fails loudly with the key it
// concerns.
//
// Every quirk flag and mapping choice is backed by a section of
// shared/docs/idp-scim-clients.md, cited in the data file.
// Behaviour that every IdP needs (case-insensitive ops, "True"/"False" strings,
// value-filter paths, ...) is not a quirk: the scim layer always does it.
package presets

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/internal/yamlstrict"
	"github.com/scimbridge/scimbridge/transform"
)

//go:embed data/*.yaml
var dataFS embed.FS

// Quirks are the per-IdP deviations from plain RFC 7644 behaviour that the scim
// layer applies to a tenant. The zero value is plain RFC 7644.
type Quirks struct {
	// PatchNoContent answers a successful PATCH of a Group with 204 No Content
	// instead of 200 and the resource. Entra: "Update to the group PATCH
	// request should yield an HTTP 204 No Content … Returning a body with a
	// list of all the members isn't advisable" (idp-scim-clients.md 3.7). It
	// covers Groups only: the Microsoft validator expects 200 for user PATCHes
	// (8.4), while Okta and the validator accept 200 or 204 for groups (2.11
	// item 9, 8.4).
	PatchNoContent bool `yaml:"patch_no_content"`
	// AlwaysReturnName puts a "name" with givenName and familyName (empty
	// strings when unknown) into every User response: "OneLogin needs to
	// receive in response a 'name' attribute with 'givenName' and
	// 'familyName', even if it was not required" (idp-scim-clients.md 4).
	AlwaysReturnName bool `yaml:"always_return_name"`
}

// Preset is the set of defaults for one IdP.
type Preset struct {
	// Name is the preset's name as a tenant's `preset:` key names it; it comes
	// from the file name, not from the file.
	Name string `yaml:"-"`
	// Description says, for admins, which IdP and setup the preset is for.
	Description string `yaml:"description"`
	// Quirks are the scim layer's deviations for this IdP.
	Quirks Quirks `yaml:"quirks"`
	// Mapping is where this IdP puts the username, display name and email.
	// Load requires it complete (it compiles), so a tenant that overrides
	// nothing still gets a working mapping.
	Mapping transform.Mapping `yaml:"mapping"`
	// Groups are default group rules. The embedded presets set none: group
	// names belong to an organisation, not to an IdP; the key exists so a
	// preset could (an IdP whose group names carry a fixed prefix, say).
	Groups transform.Groups `yaml:"groups"`
}

// Spec returns the preset's mapping and group rules as a transform.Spec, the
// base a tenant's own blocks are merged onto with transform.Merge.
func (p Preset) Spec() transform.Spec {
	return transform.Spec{Mapping: p.Mapping, Groups: p.Groups}
}

// hint explains unknown keys that are likely mistakes rather than typos.
func hint(key string) string {
	switch key {
	case "name":
		return "the preset's name is its file name"
	case "users":
		return "users.require_groups names an organisation's groups: set it on the tenant"
	}
	return ""
}

// Names returns the names of the embedded presets, sorted.
func Names() []string {
	entries, err := fs.ReadDir(dataFS, "data")
	if err != nil {
		// Unreachable: the directory is embedded at build time. TestEmbedded
		// fails if it ever comes back empty.
		return nil
	}
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok && !e.IsDir() {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Get returns the embedded preset called name. An unknown name is an error that
// lists the valid names. Every call decodes afresh, so callers may modify the
// result freely.
func Get(name string) (Preset, error) {
	names := Names()
	if !slices.Contains(names, name) {
		return Preset{}, fmt.Errorf("unknown preset %q (valid: %s)", name, strings.Join(names, ", "))
	}
	data, err := dataFS.ReadFile("data/" + name + ".yaml")
	if err != nil {
		return Preset{}, fmt.Errorf("read preset %q: %w", name, err)
	}
	return Load(name, data)
}

// Load decodes a preset from YAML strictly: unknown keys, values of the wrong
// type, a missing description and a mapping that does not compile (bad
// regex, bad path, two rule kinds in one rule, no username or email source)
// are errors whose message names the key (and line, for decoding problems).
// name becomes Preset.Name.
func Load(name string, data []byte) (Preset, error) {
	p := Preset{Name: name}
	problems := yamlstrict.Decode(data, &p, hint)
	if len(problems) == 0 {
		// Only a fully decoded preset is worth compiling: after a decoding
		// problem the mapping may be half-filled and would add noise.
		if strings.TrimSpace(p.Description) == "" {
			problems = append(problems, "description: required")
		}
		var se *transform.SpecError
		if _, err := transform.Compile(p.Spec()); errors.As(err, &se) {
			problems = append(problems, se.Problems...)
		} else if err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return Preset{}, fmt.Errorf("preset %q: %s", name, strings.Join(problems, "; "))
	}
	return p, nil
}
