package scim

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/scimbridge/scimbridge/store"
)

// Strings that exercise every branch of appendJSONString.
var jsonStringSeeds = []string{"", "plain", `q"uote\back`, "<a & b>", "\b\f\n\r\t\x00\x1f\x7f", "åsa ſ 😀",
	"\u2028\u2029", "bad \xff utf8 \xe2\x80", "ends in \xc3"}

func TestAppendJSONStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonStringSeeds {
		want, _ := json.Marshal(s)
		if got := appendJSONString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("appendJSONString(%q) = %s, want %s", s, got, want)
		}
	}
}

func FuzzAppendJSONString(f *testing.F) {
	for _, s := range jsonStringSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendJSONString([]byte("x"), s); !bytes.Equal(got[1:], want) {
			t.Fatalf("appendJSONString(%q) = %s, want %s", s, got[1:], want)
		}
	})
}

// A members list renders exactly as the maps a projection works on.
func TestMemberListMatchesMaps(t *testing.T) {
	l := links{base: "https://b.example/scim/v2/t<&>"}
	for _, members := range [][]store.Member{
		nil,
		{{Value: "u1", Kind: store.KindUser, Display: "Ålice <admin>"}},
		{{Value: "g\"1", Kind: store.KindGroup, Display: "Team & co"}, {Value: "u2", Kind: store.KindUser, Display: "\u2028\xff"}},
	} {
		g := store.Group{ID: "g", DisplayName: "G", Members: members}
		fast := l.groupResource(g, true, projection{})
		slow := l.groupResource(g, true, projection{exclude: []attrRef{{name: "nothing"}}})
		got, err := json.Marshal(fast.Attributes)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(slow.Attributes)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("members %v:\n got %s\nwant %s", members, got, want)
		}
	}
}
