package config

import (
	"fmt"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/transform"
)

// referencePath is the configuration reference an operations team reads.
const referencePath = "../docs/config.md"

// fieldPlaceholder stands, in the reference, for every key of
// transform.Mapping (username, display_name, email), whose values share
// one type and so one set of keys.
const fieldPlaceholder = "<field>"

// acceptedKeys walks the yaml tags of t and returns every key path the
// decoder accepts, blocks and leaves alike: "targets", "targets[].name",
// "tenants[].jwt.audience". Struct types are descended into (through
// pointers, and slices as "[]"); anything else is a leaf, including the
// types with their own UnmarshalYAML (Duration, Audience, Sources).
func acceptedKeys(t reflect.Type, prefix string, out map[string]bool) {
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		out[path] = true
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Struct:
			acceptedKeys(ft, path, out)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			acceptedKeys(ft.Elem(), path+"[]", out)
		}
	}
}

// referenceRow is one key row of the reference's tables.
type referenceRow struct {
	key, typ, def string
}

var rowRE = regexp.MustCompile("^\\| `([^`]+)` \\|([^|]*)\\|([^|]*)\\|")

// readReference returns the key rows of the reference, keyed by path.
func readReference(t *testing.T) map[string]referenceRow {
	t.Helper()
	doc, err := os.ReadFile(referencePath)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]referenceRow{}
	for line := range strings.Lines(string(doc)) {
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if _, dup := rows[m[1]]; dup {
			t.Errorf("%s: key %s has two rows", referencePath, m[1])
		}
		rows[m[1]] = referenceRow{key: m[1], typ: strings.TrimSpace(m[2]), def: strings.TrimSpace(m[3])}
	}
	return rows
}

// mappingFields lists the keys fieldPlaceholder stands for.
func mappingFields() []string {
	keys := map[string]bool{}
	acceptedKeys(reflect.TypeFor[transform.Mapping](), "", keys)
	var out []string
	for k := range keys {
		if !strings.Contains(k, ".") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// expand replaces fieldPlaceholder with each mapping field.
func expand(key string) []string {
	if !strings.Contains(key, fieldPlaceholder) {
		return []string{key}
	}
	var out []string
	for _, f := range mappingFields() {
		out = append(out, strings.Replace(key, fieldPlaceholder, f, 1))
	}
	return out
}

// Every key the config types accept has a row in the reference, and every
// row names a key they accept: the reference cannot fall behind the code.
func TestReferenceCoversEveryKey(t *testing.T) {
	accepted := map[string]bool{}
	acceptedKeys(reflect.TypeFor[Config](), "", accepted)
	if len(accepted) < 60 || !accepted["tenants[].mapping.email.rules[].strip_domain"] || !accepted["targets[].burst"] {
		t.Fatalf("the walk of the config types looks wrong: %d keys", len(accepted))
	}
	documented := map[string]bool{}
	for key := range readReference(t) {
		for _, k := range expand(key) {
			documented[k] = true
			if !accepted[k] {
				t.Errorf("%s documents %s, which the config types do not accept", referencePath, k)
			}
		}
	}
	var missing []string
	for k := range accepted {
		if !documented[k] {
			missing = append(missing, k)
		}
	}
	slices.Sort(missing)
	for _, k := range missing {
		t.Errorf("%s has no row for key %s", referencePath, k)
	}
}

// appliedDownstream are keys whose documented default is applied where the
// value is used (the engine, cmd), not by Parse, which leaves them at the
// zero value shown here.
var appliedDownstream = map[string]string{
	"reconcile.orphans":                   "",
	"reconcile.max_deprovision_percent":   "0",
	"tenants[].lifecycle.on_deactivate":   "",
	"tenants[].lifecycle.on_delete":       "",
	"tenants[].lifecycle.never_logged_in": "",
}

var literalDefaultRE = regexp.MustCompile("^`([^`]*)`(?: \\([^`]*\\))?$")

// A default shown in the reference as a literal is what Parse leaves in a
// configuration that does not set the key.
func TestReferenceDefaultsMatchTheParser(t *testing.T) {
	minimal := `
targets: [{name: jira, kind: jira-dc, url: "http://127.0.0.1:8090", token_env: JIRA_TOKEN}]
tenants: [{name: okta, token_env: OKTA_TOKEN}]
`
	c, err := Parse([]byte(minimal), "", func(name string) string { return "a-long-enough-secret-for-" + name })
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for key, row := range readReference(t) {
		m := literalDefaultRE.FindStringSubmatch(row.def)
		if m == nil || strings.Contains(key, fieldPlaceholder) {
			continue
		}
		got, ok := valueAt(reflect.ValueOf(c).Elem(), strings.Split(key, "."))
		if !ok {
			t.Errorf("%s: default %s: the minimal config has no value there", key, row.def)
			continue
		}
		want := m[1]
		if zero, ok := appliedDownstream[key]; ok {
			want = zero
		}
		if got != want {
			t.Errorf("%s: the reference says the default is %s, the parser leaves %q", key, row.def, got)
		}
		checked++
	}
	if checked < 15 {
		t.Fatalf("only %d literal defaults were checked", checked)
	}
	for key := range appliedDownstream {
		if _, ok := readReference(t)[key]; !ok {
			t.Errorf("appliedDownstream names %s, which the reference does not document", key)
		}
	}
}

// valueAt follows a key path ("targets[].timeout") into v by yaml tags,
// taking the first element of lists, and formats what it finds; a nil
// pointer reads as its element's zero value.
func valueAt(v reflect.Value, path []string) (string, bool) {
	for _, seg := range path {
		name, list := strings.CutSuffix(seg, "[]")
		found := false
		for i, f := range slices.Collect(v.Type().Fields()) {
			if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == name {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			return "", false
		}
		if list {
			if v.Len() == 0 {
				return "", false
			}
			v = v.Index(0)
		}
		for v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v = reflect.Zero(v.Type().Elem())
				continue
			}
			v = v.Elem()
		}
	}
	return fmt.Sprint(v.Interface()), true
}
