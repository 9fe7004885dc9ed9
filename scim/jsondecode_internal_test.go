package scim

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// viaEncodingJSON is what the create path did before decodeObject.
func viaEncodingJSON(raw []byte) (map[string]any, error) {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	err := d.Decode(&m)
	return m, err
}

func checkDecodeObject(t *testing.T, raw []byte) bool {
	t.Helper()
	got, ok := decodeObject(raw)
	if !ok {
		return false
	}
	if !json.Valid(raw) {
		t.Fatalf("%q: decoded, but not valid JSON", raw)
	}
	want, err := viaEncodingJSON(raw)
	if err != nil {
		t.Fatalf("%q: decoded, encoding/json says %v", raw, err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got %#v\nwant %#v", raw, got, want)
	}
	return true
}

func TestDecodeObjectAsEncodingJSON(t *testing.T) {
	for _, raw := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":{"x":1},"a":{"y":2}}`, `{"a":[],"b":[1,-0.5e+10,2E3,0],"c":null,"d":true,"e":false}`,
		"{\n\t\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"],\r\n \"userName\": \"ann@example.com\" }",
		`{"emails":[{"value":"a@b","primary":true,"type":"work"}],"name":{"givenName":"Ä","familyName":"🙂"}}`,
		`{"big":123456789012345678901234567890,"neg":-1}`,
	} {
		if !checkDecodeObject(t, []byte(raw)) {
			t.Errorf("%q: left to encoding/json", raw)
		}
	}
	for _, raw := range []string{`[]`, `null`, `"x"`, `{"a":"\n"}`, `{"a":"\u00e9"}`, `{"a":01}`, `{"a":1.}`, `{"a":-}`, `{"a" 1}`, `{"a":1,}`, `{"a":tru}`, `{"a":1}x`} {
		if _, ok := decodeObject([]byte(raw)); ok {
			t.Errorf("%q: decoded, want it left to encoding/json", raw)
		}
	}
	// Okta-shaped bodies, generated.
	rng := rand.New(rand.NewPCG(5, 9))
	for range 2000 {
		u := randomUser(rng)
		u.Attributes["userName"] = u.UserName
		body, err := json.Marshal(u.Attributes)
		if err != nil {
			t.Fatal(err)
		}
		checkDecodeObject(t, body)
	}
	deep := strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70)
	if _, ok := decodeObject([]byte(deep)); ok {
		t.Error("70 levels decoded by hand")
	}
}

func FuzzDecodeObject(f *testing.F) {
	for _, s := range []string{`{"a":1}`, `{"a":[1,{"b":null}],"c":"d"}`, `{"a":1e5,"a":"x"}`, ` {"x" : [ true , false ] } `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkDecodeObject(t, raw)
	})
}
