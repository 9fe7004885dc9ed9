package scim

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/elimity-com/scim/schema"
	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
)

// appendMembers writes what encoding/json writes for a []memberJSON, for
// any strings.
func TestAppendMembersAsEncodingJSON(t *testing.T) {
	odd := []string{"", "plain", `q"uote\back`, "<tag>&amp;", "ctl\x00\x01\b\f\n\r\t\x1f", "ünï €", "bad\xff\xfeutf8", "line\u2028sep\u2029", "\U0001F600"}
	var ms []memberJSON
	for i, s := range odd {
		ms = append(ms, memberJSON{Ref: "https://x/Users/" + s, Display: s, Type: "User", Value: odd[(i+1)%len(odd)]})
	}
	for _, list := range [][]memberJSON{nil, {}, ms[:1], ms} {
		got := appendMembers(nil, list)
		if !json.Valid(got) {
			t.Fatalf("invalid JSON: %s", got)
		}
		want, _ := json.Marshal(list)
		if list == nil {
			want = []byte("[]") // never null: the caller always has a list
		}
		var g, w any
		_ = json.Unmarshal(got, &g)
		_ = json.Unmarshal(want, &w)
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("decoded (-encoding/json +appendMembers):\n%s\n%s\n%s", diff, want, got)
		}
	}
}

// appendMembers writes the bytes encoding/json writes, also where it
// writes a $ref as an escaped prefix and an escaped value: odd values and
// prefixes (escapes, non-ASCII, invalid UTF-8 on either side of the
// boundary), prefixes that change from one member to the next, and $refs
// that do not end in the value or whose prefix does not end in '/'.
func TestAppendMembersBytesAsEncodingJSON(t *testing.T) {
	odd := []string{"", "plain", `q"uote\back`, "<tag>&amp;", "ctl\x00\x01\b\f\n\r\t\x1f", "ünï €", "bad\xff\xfeutf8",
		"\xe2\x82", "\xac/end", "line\u2028sep\u2029", "\U0001F600", "/", "User", "Group"}
	prefixes := []string{"https://x/Users/", "https://x/Groups/", "https://ü<&>/\u2028/", "bad\xe2/", "no-slash", "\xe2\x82", ""}
	var ms []memberJSON
	for i, v := range odd {
		for j, p := range prefixes {
			ms = append(ms, memberJSON{Ref: p + v, Display: odd[(i+j)%len(odd)], Type: odd[(i+2*j)%len(odd)], Value: v})
		}
		ms = append(ms, memberJSON{Ref: "https://x/Users/other", Display: v, Type: "User", Value: v})
	}
	for _, list := range [][]memberJSON{ms, ms[:3], ms[7:8]} {
		want, err := json.Marshal(list)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendMembers(nil, list); string(got) != string(want) {
			t.Errorf("appendMembers:\n got %q\nwant %q", got, want)
		}
	}
}

// memberPatchOps never panics, and whatever it accepts is what the
// membership fast path applies (so it is never sent to the store
// unapplied).
func FuzzMemberPatchOps(f *testing.F) {
	for _, s := range []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"a"}]}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"a\"]"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"a","type":"User"}]}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"MEMBERS[VALUE EQ \"a\"]","value":null}]}`,
		`{"schemas":["x"],"Operations":[]}`, `[]`, `{"Operations":[{"op":"add"}]}`,
	} {
		f.Add([]byte(s))
	}
	plain := newPlainAttrs(schema.CoreUserSchema())
	f.Fuzz(func(t *testing.T, body []byte) {
		if ops, ok := userPatchOps(body, plain); ok {
			for _, op := range ops {
				a, known := plain[strings.ToLower(op.Path.AttributePath.AttributeName)]
				_, isBool := op.Value.(bool)
				_, isString := op.Value.(string)
				if !known || op.Op != "add" && op.Op != "replace" || a.boolean != isBool || !a.boolean && !isString {
					t.Fatalf("accepted %s as %+v", body, op)
				}
			}
		}
		ops, ok := memberPatchOps(body)
		if !ok {
			return
		}
		if _, ok := memberOps(ops); !ok {
			t.Fatalf("accepted %s, but the fast path refuses its operations", body)
		}
	})
}

func TestMemberFilterID(t *testing.T) {
	for path, want := range map[string]string{
		`members[value eq "abc"]`:               "abc",
		`Members[Value EQ "a-1"]`:               "a-1",
		`members[value eq ""]`:                  "",
		`members[value eq "a\"b"]`:              "",
		`members[value eq "a"].x`:               "",
		`members[value  eq "a"]`:                "",
		`members[display eq "a"]`:               "",
		`members[value eq "a\tb"]`:              "",
		`members[value eq "a"] `:                "",
		`members[value eq "\xff"]`:              "",
		`members[value eq "a" or value eq "b"]`: "",
	} {
		got, ok := memberFilterID(path)
		if got != want || ok != (want != "") {
			t.Errorf("memberFilterID(%q) = %q, %v; want %q", path, got, ok, want)
		}
	}
}

// BenchmarkGroupResponse1000 renders a PATCH answer for a 1000-member
// group: the direct path (members written by appendMembers) against
// encoding/json on the map elimity builds.
func BenchmarkGroupResponse1000(b *testing.B) {
	l := links{base: "https://bridge.example.com/scim/v2/okta"}
	g := store.Group{ID: "g1", DisplayName: "Engineering", Attributes: map[string]any{}, Version: 3}
	for i := range 1000 {
		id := fmt.Sprintf("%08d-1111-4222-8333-444455556666", i)
		g.Members = append(g.Members, store.Member{Value: id, Kind: store.KindUser, Display: "User Number " + strconv.Itoa(i)})
	}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res := l.groupResource(g, true, projection{})
			if _, err := resourceResponse(nil, res, "Group", l.base+"/Groups/g1", []string{groupSchemaID}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			res := l.groupResource(g, true, projection{})
			if _, err := json.Marshal(resourceJSON(res, "Group", l.base+"/Groups/", []string{groupSchemaID})); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestUserPatchOpsForms(t *testing.T) {
	plain := newPlainAttrs(schema.CoreUserSchema())
	for _, name := range []string{"username", "displayname", "title", "active", "nickname"} {
		if _, ok := plain[name]; !ok {
			t.Errorf("%s is not a plain attribute", name)
		}
	}
	for _, name := range []string{"password", "emails", "name", "groups", "id", "profileurl"} {
		if a, ok := plain[name]; ok {
			t.Errorf("%s taken as plain: %+v", name, a)
		}
	}
	wrap := func(ops string) []byte {
		return []byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`)
	}
	for ops, want := range map[string]bool{
		`{"op":"replace","path":"title","value":"x"}`:                                          true,
		`{"op":"Add","path":"Title","value":""},{"op":"replace","path":"active","value":true}`: true,
		`{"op":"remove","path":"title"}`:                                                       false,
		`{"op":"replace","path":"title","value":null}`:                                         false,
		`{"op":"replace","path":"title","value":1}`:                                            false,
		`{"op":"replace","path":"active","value":"True"}`:                                      false,
		`{"op":"replace","path":"name.givenName","value":"x"}`:                                 false,
		`{"op":"replace","path":"manager","value":"x"}`:                                        false,
		`{"op":"replace","value":{"title":"x"}}`:                                               false,
		`{"op":"replace","path":"password","value":"x"}`:                                       false,
		`{"op":"replace","path":"title","value":"x","extra":1}`:                                false,
	} {
		if _, ok := userPatchOps(wrap(ops), plain); ok != want {
			t.Errorf("%s: taken %v, want %v", ops, ok, want)
		}
	}
}

// TestMemberListRefs checks that the one-string $refs of memberList are the
// references links.ref builds, member by member, for users and groups.
func TestMemberListRefs(t *testing.T) {
	l := links{base: "https://bridge.example/scim/v2/okta"}
	ms := []store.Member{
		{Value: "u1", Kind: store.KindUser, Display: "a"},
		{Value: "g-2", Kind: store.KindGroup, Display: "b"},
		{Value: "", Kind: store.KindUser},
		{Value: "ü/x", Kind: store.KindUser, Display: "c"},
	}
	got := l.memberList(ms)
	if len(got) != len(ms) {
		t.Fatalf("len = %d, want %d", len(got), len(ms))
	}
	for i, m := range ms {
		want := memberJSON{Ref: l.ref(m.Kind, m.Value), Display: m.Display, Type: string(m.Kind), Value: m.Value}
		if got[i] != want {
			t.Errorf("member %d = %+v, want %+v", i, got[i], want)
		}
	}
	if got := l.memberList(nil); got == nil || len(got) != 0 {
		t.Errorf("memberList(nil) = %#v, want an empty, non-nil list (renders [])", got)
	}
}
