package patch

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/elimity-com/scim"
	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/google/go-cmp/cmp"
	"github.com/scim2/filter-parser/v2"
)

func mustPath(t testing.TB, s string) *filter.Path {
	t.Helper()
	p, err := filter.ParsePath([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return &p
}

func isScimError(err error, status int, typ scimerrors.ScimType) bool {
	var se scimerrors.ScimError
	return errors.As(err, &se) && se.Status == status && se.ScimType == typ
}

// Adding or replacing with many values indexes the list by content
// (elemIndex) instead of comparing every pair; the result must be what the
// pairwise comparison (equalJSON) gives: a value already there, in another
// key order or number type, is not added twice, and duplicates within the
// value collapse to their first occurrence.
func TestManyValuesIndexedAsPairwise(t *testing.T) {
	existing := []any{
		map[string]any{"value": "a@x", "type": "work"},
		map[string]any{"type": "home", "value": "b@x", "display": "B"},
	}
	var items []any
	for i := range 30 {
		items = append(items, map[string]any{"value": fmt.Sprintf("n%d@x", i%12), "type": "other"})
	}
	items = append(items,
		map[string]any{"type": "work", "value": "a@x"},                 // existing, other key order
		map[string]any{"display": "B", "value": "b@x", "type": "home"}, // existing, other key order
		map[string]any{"value": "b@x", "type": "home", "display": "b"}, // case differs: another value
		map[string]any{"value": "c@x", "type": "home"},
		map[string]any{"value": "c@x"},
		map[string]any{"value": "d@x", "primary": false, "type": "work"},
		map[string]any{"type": "work", "value": "d@x", "primary": false},
	)
	want := append([]any(nil), existing...)
	for _, it := range items {
		dup := false
		for _, w := range want {
			if equalJSON(w, it) {
				dup = true
				break
			}
		}
		if !dup {
			want = append(want, it)
		}
	}
	if len(want) != 2+12+4 {
		t.Fatalf("the reference keeps %d elements, want 18: the test data is wrong", len(want))
	}
	for _, op := range []string{"add", "replace"} {
		res := map[string]any{"userName": "u", "emails": append([]any(nil), existing...)}
		value := items
		wantOp := want
		if op == "replace" {
			value = append(append([]any(nil), existing...), items...)
		}
		out, err := Apply(res, []scim.PatchOperation{{Op: op, Path: mustPath(t, "emails"), Value: value}}, userSchema())
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		got, _ := out["emails"].([]any)
		// enforcePrimary may clear other primaries; compare without it.
		if diff := cmp.Diff(len(wantOp), len(got)); diff != "" {
			t.Errorf("%s: %d elements, want %d\n%v", op, len(got), len(wantOp), got)
		}
		for i := range min(len(got), len(wantOp)) {
			if !equalJSON(got[i], wantOp[i]) {
				t.Errorf("%s: element %d = %v, want %v", op, i, got[i], wantOp[i])
			}
		}
	}
}

// keyOf gives two JSON values the same key exactly when equalJSON holds.
func TestKeyOfAgreesWithEqualJSON(t *testing.T) {
	values := []any{
		nil, "", "1", "a", "A", true, false,
		json.Number("1"), 1.0, 1, json.Number("1.0"), json.Number("-0"), 0.0, json.Number("2"),
		map[string]any{}, map[string]any{"a": 1.0, "b": "x"}, map[string]any{"b": "x", "a": json.Number("1")},
		map[string]any{"a": "1", "b": "x"}, map[string]any{"a": nil},
		[]any{}, []any{1.0, "x"}, []any{json.Number("1"), "x"}, []any{"x", 1.0},
		[]any{map[string]any{"v": true}}, []map[string]any{{"v": true}}, []any{nil},
	}
	for _, x := range values {
		for _, y := range values {
			kx, okx := keyOf(false, x)
			ky, oky := keyOf(false, y)
			if !okx || !oky {
				t.Fatalf("no key for %#v or %#v", x, y)
			}
			if (kx == ky) != equalJSON(x, y) {
				t.Errorf("%#v vs %#v: keys %q, %q; equalJSON %v", x, y, kx, ky, equalJSON(x, y))
			}
		}
	}
}

// More than MaxOperations operations are refused before any is applied.
func TestApplyRefusesTooManyOperations(t *testing.T) {
	res := map[string]any{"userName": "u"}
	ops := make([]scim.PatchOperation, MaxOperations+1)
	for i := range ops {
		ops[i] = scim.PatchOperation{Op: "add", Path: mustPath(t, "emails"), Value: []any{map[string]any{"value": fmt.Sprintf("e%d@x", i)}}}
	}
	if _, err := Apply(res, ops, userSchema()); !isScimError(err, 400, "invalidValue") {
		t.Errorf("%d operations: err %v, want 400 invalidValue", len(ops), err)
	}
	out, err := Apply(res, ops[:MaxOperations], userSchema())
	if err != nil {
		t.Fatalf("%d operations: %v", MaxOperations, err)
	}
	if got := len(out["emails"].([]any)); got != MaxOperations {
		t.Errorf("%d operations: %d emails", MaxOperations, got)
	}
	if _, has := res["emails"]; has {
		t.Error("Apply modified its input")
	}
}

// BenchmarkAddManyEmails adds 5,000 emails in one operation to a user with
// 5,000: linear with elemIndex (pairwise comparison took ~1 s).
func BenchmarkAddManyEmails(b *testing.B) {
	var have, add []any
	for i := range 5000 {
		have = append(have, map[string]any{"value": fmt.Sprintf("h%d@x", i), "type": "work"})
		add = append(add, map[string]any{"value": fmt.Sprintf("a%d@x", i), "type": "work"})
	}
	res := map[string]any{"userName": "u", "emails": have}
	path := mustPath(b, "emails")
	for b.Loop() {
		if _, err := Apply(res, []scim.PatchOperation{{Op: "add", Path: path, Value: add}}, userSchema()); err != nil {
			b.Fatal(err)
		}
	}
}
