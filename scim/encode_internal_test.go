package scim

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/scimbridge/scimbridge/store"
)

// A members list renders exactly as the maps a projection works on.
func TestMemberListMatchesMaps(t *testing.T) {
	l := links{base: "https://b.example/scim/v2/t<&>"}
	for _, members := range [][]store.Member{
		nil,
		{{Value: "u1", Kind: store.KindUser, Display: "Ålice <admin>"}},
		{{Value: "g\"1", Kind: store.KindGroup, Display: "Team & co"}, {Value: "u2", Kind: store.KindUser, Display: "\u2028\xff\x01"}},
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
