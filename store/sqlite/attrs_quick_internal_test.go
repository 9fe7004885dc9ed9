package sqlite

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// quickDecodeAttrs decodes exactly what decodeAttrs decodes, or gives up.
func FuzzQuickDecodeAttrs(f *testing.F) {
	for _, s := range []string{
		`{}`, `null`, ` {"a":1} `, `{"displayName":"Ada","name":{"givenName":"A","familyName":"L"},"emails":[{"value":"a@b.c","type":"work","primary":true}]}`,
		`{"n":-0.5e+10,"i":9223372036854775807,"big":9223372036854775808,"f":1.0,"z":0,"neg":-12}`,
		`{"a":[1,[2,[3]],{"b":null}],"c":false,"d":true}`, `{"esc":"a\"b","u":"\u00e9","ü":"ö"}`, `{"a":1}x`, `{"a":1,}`, `{"a" 1}`,
		`[1]`, `"s"`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":1e}`, `{"a":"` + "\xff" + `"}`, `{"a":"tab	"}`, `{"a":1}{"b":2}`,
		`{"a":1,"a":2}`, `{"k":{"k":{"k":{"k":[[[[[[]]]]]]}}}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := quickDecodeAttrs(s)
		if !ok {
			return
		}
		want, err := decodeAttrs(s)
		if err != nil {
			t.Fatalf("%q: quick decoded %v, decodeAttrs failed: %v", s, got, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%q (-decodeAttrs +quick):\n%s", s, diff)
		}
	})
}

// The attributes the store writes take the quick path.
func TestQuickDecodeAttrsTakesStoredForms(t *testing.T) {
	for _, m := range []map[string]any{
		{},
		{"displayName": "Ada Lovelace", "name": map[string]any{"givenName": "Ada"}, "emails": []any{map[string]any{"value": "ada@example.com", "primary": true}},
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": map[string]any{"employeeNumber": "7", "manager": map[string]any{"value": ""}}},
		{"n": int64(42), "f": 1.5, "whole": 2.0, "neg": int64(-3), "nil": nil, "ünï": "çødé <&>"},
	} {
		s, err := encodeAttrs(m)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := quickDecodeAttrs(s)
		if !ok {
			t.Errorf("%s: not decoded by the quick path", s)
			continue
		}
		want, _ := decodeAttrs(s)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-decodeAttrs +quick):\n%s", s, diff)
		}
	}
}

func BenchmarkDecodeUserAttrs(b *testing.B) {
	s := `{"displayName":"fyhybb-pre-49995","emails":[{"primary":true,"type":"work","value":"fyhybb-pre-49995@example.com"}],"name":{"familyName":"fyhybb-pre-49995","givenName":"Load"}}`
	b.Run("decodeAttrs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeAttrs(s); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("quick", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok := quickDecodeAttrs(s); !ok {
				b.Fatal("not decoded")
			}
		}
	})
}
