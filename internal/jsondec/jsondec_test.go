package jsondec_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/internal/jsondec"
)

func asNumber(lit string) (any, bool) { return json.Number(lit), true }

// Object decodes what it decodes as encoding/json with UseNumber does.
func FuzzObject(f *testing.F) {
	for _, s := range []string{`{}`, ` {"a" : [1, -2.5e3, true, false, null, {"b":"ü"}]} `, `{"a":1,"a":{"x":[]}}`, `{"a":"\n"}`, `[1]`, `{"a":01}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := jsondec.Object(s, asNumber)
		if !ok {
			return
		}
		var want map[string]any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if err := d.Decode(&want); err != nil || d.More() || !json.Valid([]byte(s)) {
			t.Fatalf("%q: decoded by hand, encoding/json: %v", s, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", s, got, want)
		}
	})
}

func TestObjectLeavesTheHardPartsToEncodingJSON(t *testing.T) {
	for _, s := range []string{`{"a":"\u00e9"}`, "{\"a\":\"\x01\"}", "{\"\xff\":1}", `[]`, `null`, `{"a":1}x`,
		strings.Repeat(`{"a":`, jsondec.MaxDepth+2) + "1" + strings.Repeat("}", jsondec.MaxDepth+2)} {
		if _, ok := jsondec.Object(s, asNumber); ok {
			t.Errorf("%.40q decoded by hand", s)
		}
	}
	// The number callback decides what a number becomes, and may refuse.
	if _, ok := jsondec.Object(`{"a":1.5}`, func(string) (any, bool) { return nil, false }); ok {
		t.Error("a refused number decoded")
	}
	m, ok := jsondec.Object(`{"a":12,"b":[3]}`, func(lit string) (any, bool) { return "n" + lit, true })
	if !ok || m["a"] != "n12" || m["b"].([]any)[0] != "n3" {
		t.Errorf("callback results: %#v %v", m, ok)
	}
}
