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
		idx := indexKeys(&root, reflect.TypeOf(out))
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

// keyEntry records where a key, or the value of a key, sits in the source.
type keyEntry struct {
	line  int
	key   string // "" for value entries
	path  string
	value bool
	tag   string       // the value's resolved tag (!!str, !!map, ...), for value entries
	typ   reflect.Type // the Go type the value decodes into; nil if unknown
}

// keyIndex finds the key path for a line number in a decoder message.
type keyIndex []keyEntry

// indexKeys indexes every key and value of root, with the Go type each
// value decodes into when out's type (t) says.
func indexKeys(root *yaml.Node, t reflect.Type) keyIndex {
	var idx keyIndex
	idx.walk(root, "", t)
	return idx
}

func (idx *keyIndex) walk(n *yaml.Node, path string, t reflect.Type) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			*idx = append(*idx, keyEntry{line: c.Line, path: "document", value: true, tag: c.ShortTag(), typ: t})
			idx.walk(c, path, t)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			vt := fieldType(t, k.Value)
			*idx = append(*idx, keyEntry{line: k.Line, key: k.Value, path: p},
				keyEntry{line: v.Line, path: p, value: true, tag: v.ShortTag(), typ: vt})
			idx.walk(v, p, vt)
		}
	case yaml.SequenceNode:
		et := elemType(t)
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			if name := mappingName(c); name != "" {
				p += " (" + name + ")"
			}
			*idx = append(*idx, keyEntry{line: c.Line, path: p, value: true, tag: c.ShortTag(), typ: et})
			idx.walk(c, p, et)
		}
	}
	// Aliases are not followed: the decoder reports problems at the alias's
	// target, which is indexed where it is defined.
}

// deref strips pointers.
func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// fieldType is the Go type the value of key decodes into inside a value of
// type t: a struct field by its yaml name, a map's element; nil if unknown.
func fieldType(t reflect.Type, key string) reflect.Type {
	t = deref(t)
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem()
	case reflect.Struct:
		for f := range t.Fields() {
			if yamlName(f) == key {
				return f.Type
			}
		}
	}
	return nil
}

// elemType is the Go type of the entries of a list decoded into t.
func elemType(t reflect.Type) reflect.Type {
	t = deref(t)
	if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
		return t.Elem()
	}
	return nil
}

// yamlName is the key a struct field is decoded from ("" for none).
func yamlName(f reflect.StructField) string {
	tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	switch {
	case tag == "-" || !f.IsExported():
		return ""
	case tag == "":
		return strings.ToLower(f.Name)
	}
	return tag
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

// valuePath finds the value the decoder complains about: on that line,
// with that tag, decoding into a Go type that fits (the decoder names the
// type it wanted; fits says whether a candidate's type is that one). Several
// values of one tag can start on one line (a list entry, the document, flow
// mappings inside them), so the tag alone cannot tell them apart; the Go
// type does. Among equals the outermost wins (parents are indexed first);
// when no type fits, the first value with the tag, then anything on the
// line.
func (idx keyIndex) valuePath(line int, tag string, fits func(reflect.Type) bool) string {
	first := ""
	for _, e := range idx {
		if e.line != line || !e.value || e.tag != tag {
			continue
		}
		if e.typ != nil && fits(e.typ) {
			return e.path
		}
		if first == "" {
			first = e.path
		}
	}
	if first != "" {
		return first
	}
	for _, e := range idx {
		if e.line == line {
			return e.path
		}
	}
	return "value"
}

// namedType reports whether t, or what it points to, prints as name (the
// decoder's "cannot unmarshal ... into <name>"). A local type inside an
// UnmarshalYAML method prints like the type it copies (config.Target).
func namedType(name string) func(reflect.Type) bool {
	return func(t reflect.Type) bool {
		for ; t != nil; t = t.Elem() {
			if t.String() == name {
				return true
			}
			if t.Kind() != reflect.Pointer {
				return false
			}
		}
		return false
	}
}

var nodeUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()

// customType reports whether t decodes itself from a node: the only types
// whose errors come in the "line N: !!tag: message" form.
func customType(t reflect.Type) bool {
	return t.Implements(nodeUnmarshaler) || reflect.PointerTo(t).Implements(nodeUnmarshaler)
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
		path := idx.valuePath(line, "!!"+m[2], namedType(m[3]))
		return fmt.Sprintf("line %s: %s: got %s, want %s", m[1], path, describeTag(m[2]), describeGoType(m[3]))
	}
	if m := customRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return fmt.Sprintf("line %s: %s: %s", m[1], idx.valuePath(line, "!!"+m[2], customType), m[3])
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
			name := yamlName(f)
			if name == "" {
				continue
			}
			names = append(names, name)
			visit(f.Type)
		}
		keys[t.String()] = names
	}
	visit(reflect.TypeOf(out))
	return keys
}
