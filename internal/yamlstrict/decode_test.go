package yamlstrict

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Test types: a small config with every shape the real one has (lists of
// mappings, a pointer to a block, a type with its own UnmarshalYAML).

type testConfig struct {
	Name    string                `yaml:"name"`
	Port    int                   `yaml:"port"`
	Tags    []string              `yaml:"tags"`
	Items   []testItem            `yaml:"items"`
	Auth    *testAuth             `yaml:"auth"`
	Limits  testLimits            `yaml:"limits"`
	ByName  map[string]testLimits `yaml:"by_name"`
	Skipped string                `yaml:"-"`
	Plain   bool
}

type testItem struct {
	Name  string    `yaml:"name"`
	Size  int       `yaml:"size"`
	Auth  *testAuth `yaml:"auth"`
	Names []string  `yaml:"names"`
}

type testAuth struct {
	Issuer   string     `yaml:"issuer"`
	Audience strOrList  `yaml:"audience"`
	Limits   testLimits `yaml:"limits"`
}

type testLimits struct {
	Rate  float64 `yaml:"rate"`
	Burst int     `yaml:"burst"`
}

// strOrList accepts a string or a list of strings and reports anything
// else the way this package's callers do: "line N: !!tag: message".
type strOrList []string

func (s *strOrList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*s = strOrList{n.Value}
		return nil
	case yaml.SequenceNode:
		var l []string
		if err := n.Decode(&l); err == nil {
			*s = l
			return nil
		}
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s: want a string or a list of strings", n.Line, n.ShortTag())}}
}

func testHint(key string) string {
	if key == "secret" {
		return "name the variable with secret_env"
	}
	return ""
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // problems, in order
	}{
		{"empty document keeps defaults", "", nil},
		{"comment only", "# nothing\n", nil},
		{"valid", "name: x\nport: 8\ntags: [a, b]\nitems:\n  - name: i\n    size: 2\nauth: {issuer: me, audience: [a]}\nplain: true\n", nil},
		{"unknown top-level key", "name: x\nnmae: y\n",
			[]string{"line 2: nmae: unknown key; known keys here: name, port, tags, items, auth, limits, by_name, plain"}},
		{"unknown key with a hint", "secret: hunter2\n",
			[]string{"line 1: secret: unknown key (name the variable with secret_env); known keys here: name, port, tags, items, auth, limits, by_name, plain"}},
		{"unknown key in a list entry", "items:\n  - name: i\n    colour: red\n",
			[]string{"line 3: items[0] (i).colour: unknown key; known keys here: name, size, auth, names"}},
		{"wrong scalar type", "port: eighty\n", []string{"line 1: port: got a string, want a number"}},
		{"wrong type in a list entry", "items:\n  - name: i\n    size: [1]\n",
			[]string{"line 3: items[0] (i).size: got a list, want a number"}},
		{"list wanted", "tags: {a: b}\n", []string{"line 1: tags: got a mapping, want a list of strings"}},
		{"mapping wanted", "limits: 5\n", []string{"line 1: limits: got a number, want a mapping"}},
		{"custom type error", "auth:\n  audience: {x: y}\n",
			[]string{"line 2: auth.audience: want a string or a list of strings"}},
		{"two problems", "port: x\nname: [a]\n",
			[]string{"line 1: port: got a string, want a number", "line 2: name: got a list, want a string"}},
		{"two documents", "name: a\n---\nname: b\n",
			[]string{"the file holds more than one YAML document; only one is allowed"}},
		{"not a mapping", "- a\n", []string{"line 1: document: got a list, want a mapping"}},

		// The reported bug: several mappings start on one line (a list
		// entry and flow mappings inside it); the problem is at the inner
		// one, not the entry.
		{"flow mapping inside a list entry", "items:\n  - auth: {issuer: [x]}\n",
			[]string{"line 2: items[0].auth.issuer: got a list, want a string"}},
		{"custom type in a flow mapping on a list entry's line", "items:\n  - auth: {audience: {x: y}}\n",
			[]string{"line 2: items[0].auth.audience: want a string or a list of strings"}},
		{"mapping where a number goes, inside a flow mapping", "items:\n  - auth: {limits: {burst: {a: 1}}}\n",
			[]string{"line 2: items[0].auth.limits.burst: got a mapping, want a number"}},
		{"outer mapping at fault, inner one on the same line", "items: {a: {b: c}}\n",
			[]string{"line 1: items: got a mapping, want a list"}},
		{"list entry at fault on a line with its flow mapping", "items:\n  - {name: a}\n  - [x]\n",
			[]string{"line 3: items[1]: got a list, want a mapping"}},
		{"string list entry that is a mapping", "items:\n  - names:\n      - {a: b}\n",
			[]string{"line 3: items[0].names[0]: got a mapping, want a string"}},
		{"map values", "by_name:\n  x: {rate: fast}\n",
			[]string{"line 2: by_name.x.rate: got a string, want a number"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var c testConfig
			got := Decode([]byte(tc.yaml), &c, testHint)
			if !slices.Equal(got, tc.want) {
				t.Errorf("Decode(%q)\n got  %q\n want %q", tc.yaml, got, tc.want)
			}
		})
	}
}

// A syntax error is reported as the parser words it, with its line.
func TestDecodeSyntaxError(t *testing.T) {
	var c testConfig
	got := Decode([]byte("name: [a\nport: 1\n"), &c, testHint)
	if len(got) != 1 || !strings.HasPrefix(got[0], "yaml: line ") {
		t.Fatalf("got %q", got)
	}
}

// Values that do not decode are never repeated in a problem: a secret
// pasted into the wrong key must not reach the logs.
func TestDecodeNeverEchoesValues(t *testing.T) {
	const secret = "s3cr3t-v4lue-xyz"
	for _, doc := range []string{
		"port: " + secret + "\n",
		"tags: {" + secret + ": 1}\n",
		"items:\n  - size: " + secret + "\n",
		"limits: " + secret + "\n",
		"auth:\n  audience: {" + secret + ": 1}\n",
	} {
		var c testConfig
		for _, p := range Decode([]byte(doc), &c, testHint) {
			if strings.Contains(p, secret) {
				t.Errorf("Decode(%q) echoes the value: %s", doc, p)
			}
		}
	}
}

func TestDecodeFillsAndKeepsDefaults(t *testing.T) {
	c := testConfig{Name: "default", Port: 1}
	if p := Decode([]byte("port: 2\nauth: {issuer: me}\nitems: [{name: a, auth: {audience: x}}]\n"), &c, testHint); p != nil {
		t.Fatal(p)
	}
	if c.Name != "default" || c.Port != 2 || c.Auth == nil || c.Auth.Issuer != "me" ||
		len(c.Items) != 1 || c.Items[0].Auth == nil || !slices.Equal(c.Items[0].Auth.Audience, []string{"x"}) {
		t.Fatalf("decoded %+v", c)
	}
}

func TestKnownKeys(t *testing.T) {
	keys := knownKeys(&testConfig{})
	if got := keys["yamlstrict.testItem"]; !slices.Equal(got, []string{"name", "size", "auth", "names"}) {
		t.Errorf("testItem keys %v", got)
	}
	if got := keys["yamlstrict.testConfig"]; slices.Contains(got, "skipped") || !slices.Contains(got, "plain") {
		t.Errorf("testConfig keys %v: want plain (untagged, lowercased) and not the - field", got)
	}
	if _, ok := keys["yamlstrict.testLimits"]; !ok {
		t.Errorf("types reached through maps are missing: %v", keys)
	}
}

func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		"", "name: x\n", "items:\n  - auth: {issuer: [x]}\n", "items: {a: {b: c}}\n", "port: [1, {a: b}]\n",
		"auth: &a {issuer: x}\nlimits: *a\n", "name: a\n---\nname: b\n", "? [a]\n: b\n", "by_name: {x: {rate: {}}}\n",
		"!!binary aGk=\n", "items:\n- - - 1\n", "auth:\n  audience: !!map {}\n", "\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var c testConfig
		for _, p := range Decode(data, &c, testHint) {
			if p == "" {
				t.Fatalf("empty problem for %q", data)
			}
		}
	})
}
