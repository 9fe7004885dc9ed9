// Package yamlstrict decodes YAML strictly (unknown keys are errors) and
// reports every problem with the key path it concerns, for the config file
// and the embedded presets alike.
package yamlstrict

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Decode decodes one YAML document into out, rejecting unknown keys.
// Every problem the decoder reports is returned, rewritten so that it names
// the key path (tenants[0] (okta).token) instead of Go types; hint maps an
// unknown key to advice ("" for none) appended to its message. An empty document is not an
// error: out keeps its defaults.
func Decode(data []byte, out any, hint func(key string) string) []string {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		// Syntax errors already carry "yaml: line N: ...".
		return []string{err.Error()}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(out)
	if errors.Is(err, io.EOF) {
		return nil
	}
	var problems []string
	if err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return []string{err.Error()}
		}
		idx := indexKeys(&root)
		keys := knownKeys(out)
		for _, msg := range te.Errors {
			problems = append(problems, idx.rewrite(msg, keys, hint))
		}
	}
	if err := dec.Decode(new(yaml.Node)); !errors.Is(err, io.EOF) {
		problems = append(problems, "the file holds more than one YAML document; only one is allowed")
	}
	return problems
}

// keyEntry records where a key, or the scalar value of a key, sits in the source.
type keyEntry struct {
	line  int
	key   string // "" for value entries
	path  string
	value bool
	tag   string // the value's resolved tag (!!str, !!map, ...), for value entries
}

// keyIndex finds the key path for a line number in a decoder message.
type keyIndex []keyEntry

func indexKeys(root *yaml.Node) keyIndex {
	var idx keyIndex
	idx.walk(root, "")
	return idx
}

func (idx *keyIndex) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			*idx = append(*idx, keyEntry{line: c.Line, path: "document", value: true, tag: c.ShortTag()})
			idx.walk(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			*idx = append(*idx, keyEntry{line: k.Line, key: k.Value, path: p},
				keyEntry{line: v.Line, path: p, value: true, tag: v.ShortTag()})
			idx.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			if name := mappingName(c); name != "" {
				p += " (" + name + ")"
			}
			*idx = append(*idx, keyEntry{line: c.Line, path: p, value: true, tag: c.ShortTag()})
			idx.walk(c, p)
		}
	}
	// Aliases are not followed: the decoder reports problems at the alias's
	// target, which is indexed where it is defined.
}

// mappingName returns the scalar "name" of a mapping, so that list entries read
// as tenants[1] (entra), the way Validate names them.
func mappingName(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

func (idx keyIndex) keyPath(line int, key string) string {
	for _, e := range idx {
		if e.line == line && !e.value && e.key == key {
			return e.path
		}
	}
	return key
}

// valuePath finds the value the decoder complains about: on that line, with
// that tag. The outermost match wins, since parents are indexed first; a block
// mapping starts on the line of its first key, so the tag tells them apart.
func (idx keyIndex) valuePath(line int, tag string) string {
	for _, e := range idx {
		if e.line == line && e.value && e.tag == tag {
			return e.path
		}
	}
	for _, e := range idx {
		if e.line == line {
			return e.path
		}
	}
	return "value"
}

var (
	unknownFieldRE = regexp.MustCompile(`(?s)^line (\d+): field (.+) not found in type (\S+)$`)
	typeErrorRE    = regexp.MustCompile("(?s)^line (\\d+): cannot unmarshal !!(\\w+)(?: `.*`)? into (.+)$")
	// customRE matches what this package's own UnmarshalYAML methods report:
	// "line N: !!tag: message", so that rewrite can prefix the key path.
	customRE = regexp.MustCompile(`(?s)^line (\d+): !!(\w+): (.*)$`)
)

// rewrite turns a yaml.v3 type error into a message naming the key. The
// offending value is never repeated: a misplaced secret must not reach logs.
func (idx keyIndex) rewrite(msg string, keys map[string][]string, hint func(string) string) string {
	if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		out := fmt.Sprintf("line %s: %s: unknown key", m[1], idx.keyPath(line, m[2]))
		if h := hint(m[2]); h != "" {
			out += " (" + h + ")"
		}
		if known := keys[m[3]]; len(known) > 0 {
			out += "; known keys here: " + strings.Join(known, ", ")
		}
		return out
	}
	if m := typeErrorRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		path := idx.valuePath(line, "!!"+m[2])
		return fmt.Sprintf("line %s: %s: got %s, want %s", m[1], path, describeTag(m[2]), describeGoType(m[3]))
	}
	if m := customRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("line %s: %s: %s", m[1], idx.valuePath(line, "!!"+m[2]), m[3])
	}
	return msg
}

func describeTag(tag string) string {
	switch tag {
	case "str":
		return "a string"
	case "int", "float":
		return "a number"
	case "bool":
		return "true or false"
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "null":
		return "null"
	}
	return "a !!" + tag + " value"
}

func describeGoType(t string) string {
	switch {
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "a number"
	case t == "[]string":
		return "a list of strings"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	}
	return "a mapping"
}

// knownKeys lists, for every struct type reachable from out, the YAML keys it
// accepts, keyed by the type name the decoder prints (presets.Quirks).
func knownKeys(out any) map[string][]string {
	keys := map[string][]string{}
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Map {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		if _, seen := keys[t.String()]; seen {
			return
		}
		keys[t.String()] = nil
		var names []string
		for f := range t.Fields() {
			tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if tag == "-" || !f.IsExported() {
				continue
			}
			if tag == "" {
				tag = strings.ToLower(f.Name)
			}
			names = append(names, tag)
			visit(f.Type)
		}
		keys[t.String()] = names
	}
	visit(reflect.TypeOf(out))
	return keys
}
