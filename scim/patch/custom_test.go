package patch

import (
	"fmt"
	"strings"
	"testing"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
	"github.com/google/go-cmp/cmp"
)

const customURN = "urn:example:custom:1.0:User"

// customSchema is the user schema plus an extension with the data types and
// mutabilities the core schemas do not exercise.
func customSchema() Schema {
	s := userSchema()
	s.Extensions = append(s.Extensions, schema.Schema{
		ID:   customURN,
		Name: optional.NewString("Custom"),
		Attributes: []schema.CoreAttribute{
			schema.SimpleCoreAttribute(schema.SimpleNumberParams(schema.NumberParams{Name: "level", Type: schema.AttributeTypeInteger()})),
			schema.SimpleCoreAttribute(schema.SimpleNumberParams(schema.NumberParams{Name: "score", Type: schema.AttributeTypeDecimal()})),
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{Name: "badge", Mutability: schema.AttributeMutabilityImmutable()})),
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{Name: "tags", MultiValued: true})),
			schema.ComplexCoreAttribute(schema.ComplexParams{
				Name:        "devices",
				MultiValued: true,
				SubAttributes: []schema.SimpleParams{
					schema.SimpleStringParams(schema.StringParams{Name: "id", CaseExact: true}),
					schema.SimpleStringParams(schema.StringParams{Name: "label"}),
					schema.SimpleNumberParams(schema.NumberParams{Name: "weight", Type: schema.AttributeTypeInteger()}),
					schema.SimpleNumberParams(schema.NumberParams{Name: "ratio", Type: schema.AttributeTypeDecimal()}),
					schema.SimpleBooleanParams(schema.BooleanParams{Name: "on"}),
					schema.SimpleDateTimeParams(schema.DateTimeParams{Name: "since"}),
				},
			}),
		},
	})
	return s
}

func applyCustom(t *testing.T, res, ops string) (map[string]any, error) {
	t.Helper()
	in := mustMap(t, res)
	before := jsonShape(t, in)
	out, err := Apply(in, directOps(t, ops), customSchema())
	if diff := cmp.Diff(before, jsonShape(t, in)); diff != "" {
		t.Fatalf("input changed (-before +after):\n%s", diff)
	}
	return out, err
}

// TestApplyFilterOperators removes the elements a filter matches and checks
// which remain, for every operator and the type mixes IdPs produce.
func TestApplyFilterOperators(t *testing.T) {
	const res = `{"userName":"a","` + customURN + `":{"devices":[
		{"id":"A","label":"Alpha","weight":3,"ratio":0.5,"since":"2020-01-01T00:00:00Z"},
		{"id":"b","label":"beta","weight":7,"on":false},
		{"id":"C","label":"Gamma","weight":10,"on":true,"since":"2024-06-01T00:00:00Z"}]}}`
	for filter, remaining := range map[string]string{
		`weight gt 5`:                     "A",
		`weight ge 7`:                     "A",
		`weight lt 7`:                     "b,C",
		`weight le 7`:                     "C",
		`weight eq "7"`:                   "A,C",
		`ratio eq 0.5`:                    "b,C",
		`id eq "a"`:                       "A,b,C", // caseExact
		`id eq "A"`:                       "b,C",
		`label eq "ALPHA"`:                "b,C", // not caseExact
		`label co "amm"`:                  "A,b",
		`label sw "be"`:                   "A,C",
		`label ew "TA"`:                   "A,C", // beta, case-insensitive
		`on pr`:                           "A",
		`since pr`:                        "b",
		`on eq "True"`:                    "A,b",
		`on eq false`:                     "A,C",
		`on ne true`:                      "C",
		`since gt "2021-01-01T00:00:00Z"`: "A,b",
		`not (weight gt 5)`:               "b,C",
		`weight lt 5 or id eq "C"`:        "b",
		`weight gt 5 and on eq true`:      "A,b",
		`label eq null`:                   "A,b,C",
		`weight gt "x"`:                   "A,b,C",
	} {
		t.Run(filter, func(t *testing.T) {
			out, err := applyCustom(t, res, `[{"op":"remove","path":"`+customURN+`:devices[`+strings.ReplaceAll(filter, `"`, `\"`)+`]"}]`)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			ext, _ := out[customURN].(map[string]any)
			for _, d := range asList(ext["devices"]) {
				ids = append(ids, d.(map[string]any)["id"].(string))
			}
			if got := strings.Join(ids, ","); got != remaining {
				t.Errorf("remaining %q, want %q", got, remaining)
			}
		})
	}
}

func TestApplyTypedEqTerms(t *testing.T) {
	out, err := applyCustom(t, `{"userName":"a"}`,
		`[{"op":"add","path":"`+customURN+`:devices[weight eq 4 and on eq \"true\"].label","value":"new"}]`)
	if err != nil {
		t.Fatal(err)
	}
	assertResource(t, out, `{"userName":"a","`+customURN+`":{"devices":[{"weight":4,"on":true,"label":"new"}]}}`)
	if _, ok := out[customURN].(map[string]any)["devices"].([]any)[0].(map[string]any)["weight"].(int64); !ok {
		t.Errorf("weight is not stored as int64")
	}
	_, err = applyCustom(t, `{"userName":"a"}`,
		`[{"op":"add","path":"`+customURN+`:devices[id eq \"x\" and id eq \"y\"].label","value":"new"}]`)
	assertScimErr(t, err, scimerrors.ScimTypeNoTarget)
}

func TestApplyNumbers(t *testing.T) {
	for _, c := range []struct {
		value, want string
		ok          bool
	}{
		{`5`, `5`, true}, {`"6"`, `6`, true}, {`7.0`, ``, false}, {`7.5`, ``, false}, {`"x"`, ``, false}, {`true`, ``, false},
	} {
		out, err := applyCustom(t, `{"userName":"a"}`, `[{"op":"replace","path":"`+customURN+`:level","value":`+c.value+`}]`)
		if !c.ok {
			assertScimErr(t, err, scimerrors.ScimTypeInvalidValue)
			continue
		}
		if err != nil {
			t.Fatalf("level %s: %v", c.value, err)
		}
		assertResource(t, out, `{"userName":"a","`+customURN+`":{"level":`+c.want+`}}`)
	}
	for _, c := range []struct {
		value, want string
		ok          bool
	}{
		{`1.25`, `1.25`, true}, {`"2.5"`, `2.5`, true}, {`3`, `3`, true}, {`"NaN"`, ``, false}, {`"x"`, ``, false},
	} {
		out, err := applyCustom(t, `{"userName":"a"}`, `[{"op":"replace","path":"`+customURN+`:score","value":`+c.value+`}]`)
		if !c.ok {
			assertScimErr(t, err, scimerrors.ScimTypeInvalidValue)
			continue
		}
		if err != nil {
			t.Fatalf("score %s: %v", c.value, err)
		}
		assertResource(t, out, `{"userName":"a","`+customURN+`":{"score":`+c.want+`}}`)
	}
}

func TestApplyImmutable(t *testing.T) {
	out, err := applyCustom(t, `{"userName":"a"}`, `[{"op":"add","path":"`+customURN+`:badge","value":"B1"}]`)
	if err != nil {
		t.Fatalf("first set of an immutable attribute: %v", err)
	}
	assertResource(t, out, `{"userName":"a","`+customURN+`":{"badge":"B1"}}`)
	for _, op := range []string{
		`{"op":"replace","path":"` + customURN + `:badge","value":"B2"}`,
		`{"op":"add","path":"` + customURN + `:badge","value":"B2"}`,
		`{"op":"remove","path":"` + customURN + `:badge"}`,
	} {
		_, err := applyCustom(t, `{"userName":"a","`+customURN+`":{"badge":"B1"}}`, "["+op+"]")
		assertScimErr(t, err, scimerrors.ScimTypeMutability)
	}
}

func TestApplyWholeExtension(t *testing.T) {
	const res = `{"userName":"a","` + customURN + `":{"badge":"B","level":1}}`
	out, err := applyCustom(t, res, `[{"op":"replace","path":"`+customURN+`","value":{"level":2,"score":0.5}}]`)
	if err != nil {
		t.Fatal(err)
	}
	assertResource(t, out, `{"userName":"a","`+customURN+`":{"badge":"B","level":2,"score":0.5}}`)

	out, err = applyCustom(t, res, `[{"op":"remove","path":"`+customURN+`"}]`)
	if err != nil {
		t.Fatal(err)
	}
	assertResource(t, out, `{"userName":"a"}`)

	out, err = applyCustom(t, res, `[{"op":"replace","value":{"`+customURN+`":null}}]`)
	if err != nil {
		t.Fatal(err)
	}
	assertResource(t, out, `{"userName":"a"}`)

	_, err = applyCustom(t, res, `[{"op":"replace","path":"`+customURN+`","value":"x"}]`)
	assertScimErr(t, err, scimerrors.ScimTypeInvalidValue)
	_, err = applyCustom(t, res, `[{"op":"replace","value":{"`+customURN+`":"x"}}]`)
	assertScimErr(t, err, scimerrors.ScimTypeInvalidValue)
	_, err = applyCustom(t, res, `[{"op":"remove","path":"urn:ietf:params:scim:schemas:core:2.0:User"}]`)
	assertScimErr(t, err, scimerrors.ScimTypeInvalidPath)
	_, err = applyCustom(t, res, `[{"op":"replace","value":{"`+customURN+`":{"`+enterpriseURN+`:department":"x"}}}]`)
	assertScimErr(t, err, scimerrors.ScimTypeInvalidPath)
}

func TestApplyMultiValuedSimple(t *testing.T) {
	out, err := applyCustom(t, `{"userName":"a"}`, `[
		{"op":"add","path":"`+customURN+`:tags","value":["x","y","x"]},
		{"op":"add","path":"`+customURN+`:tags","value":"z"},
		{"op":"remove","path":"`+customURN+`:tags[value eq \"y\"]"},
		{"op":"replace","path":"`+customURN+`:tags[value eq \"q\"]","value":"q"},
		{"op":"replace","path":"`+customURN+`:tags[value eq \"z\"]","value":"z2"}]`)
	if err != nil {
		t.Fatal(err)
	}
	assertResource(t, out, `{"userName":"a","`+customURN+`":{"tags":["x","z2","q"]}}`)
	_, err = applyCustom(t, `{"userName":"a"}`, `[{"op":"add","path":"`+customURN+`:tags","value":[5]}]`)
	assertScimErr(t, err, scimerrors.ScimTypeInvalidValue)
}

// TestApplyManyMembers adds more members than the linear-scan threshold, with
// duplicates among them and against the group.
func TestApplyManyMembers(t *testing.T) {
	var vals []string
	for i := range 20 {
		vals = append(vals, fmt.Sprintf(`{"value":"m%d"}`, i%15))
	}
	out, err := Apply(mustMap(t, `{"displayName":"G","members":[{"value":"m3"},{"value":"old"}]}`),
		directOps(t, `[{"op":"add","path":"members","value":[`+strings.Join(vals, ",")+`]}]`), groupSchema())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range out["members"].([]any) {
		ids = append(ids, m.(map[string]any)["value"].(string))
	}
	want := "m3,old,m0,m1,m2,m4,m5,m6,m7,m8,m9,m10,m11,m12,m13,m14"
	if got := strings.Join(ids, ","); got != want {
		t.Errorf("members %s, want %s", got, want)
	}
}
