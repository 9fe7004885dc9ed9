package scim

import (
	"net/url"
	"reflect"
	"testing"

	"github.com/elimity-com/scim"
)

func TestEtagMatches(t *testing.T) {
	for _, tc := range []struct {
		header string
		v      int64
		want   bool
	}{
		{"", 3, true},
		{"*", 3, true},
		{`W/"3"`, 3, true},
		{`"3"`, 3, true},
		{`W/"2"`, 3, false},
		{`W/"2", W/"3"`, 3, true},
		{`W/"33"`, 3, false},
	} {
		if got := etagMatches(tc.header, tc.v); got != tc.want {
			t.Errorf("etagMatches(%q, %d) = %v, want %v", tc.header, tc.v, got, tc.want)
		}
	}
}

func TestAcceptableContentType(t *testing.T) {
	for ct, want := range map[string]bool{
		"":                                     true,
		"application/scim+json":                true,
		"application/scim+json; charset=utf-8": true,
		"application/json":                     true,
		"Application/JSON;charset=UTF-8":       true,
		"text/json;charset=UTF-8":              true,
		"text/plain":                           false,
		"application/x-www-form-urlencoded":    false,
		"multipart/form-data; boundary=xyz":    false,
		"application/scim+json; charset=\"utf": false,
	} {
		if got := acceptableContentType(ct); got != want {
			t.Errorf("acceptableContentType(%q) = %v, want %v", ct, got, want)
		}
	}
}

func TestProjection(t *testing.T) {
	const ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	attrs := scim.ResourceAttributes{
		"userName": "ada",
		"name":     map[string]any{"givenName": "Ada", "familyName": "Lovelace"},
		"emails":   []any{map[string]any{"value": "a@x", "type": "work"}},
		"groups":   []any{},
		ent:        map[string]any{"department": "R&D", "employeeNumber": "7"},
	}
	for _, tc := range []struct {
		name, attributes, excluded string
		want                       scim.ResourceAttributes
	}{
		{"none", "", "", attrs},
		{"attributes", "userName,emails", "", scim.ResourceAttributes{"userName": "ada", "emails": attrs["emails"]}},
		{"case-insensitive and sub", "USERNAME,name.GivenName", "", scim.ResourceAttributes{
			"userName": "ada", "name": map[string]any{"givenName": "Ada"}}},
		{"value filter in attributes", `emails[type eq "work"]`, "", scim.ResourceAttributes{"emails": attrs["emails"]}},
		{"extension attribute", ent + ":department", "", scim.ResourceAttributes{ent: map[string]any{"department": "R&D"}}},
		{"whole extension", ent, "", scim.ResourceAttributes{ent: attrs[ent]}},
		{"excluded", "", "groups,name", scim.ResourceAttributes{"userName": "ada", "emails": attrs["emails"], ent: attrs[ent]}},
		{"excluded sub", "", "name.familyName," + ent + ":employeeNumber", scim.ResourceAttributes{
			"userName": "ada", "name": map[string]any{"givenName": "Ada"}, "emails": attrs["emails"], "groups": []any{},
			ent: map[string]any{"department": "R&D"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{}
			if tc.attributes != "" {
				q.Set("attributes", tc.attributes)
			}
			if tc.excluded != "" {
				q.Set("excludedAttributes", tc.excluded)
			}
			got := parseProjection(q).apply(attrs)
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %#v\nwant %#v", got, tc.want)
			}
		})
	}
	if parseProjection(url.Values{"excludedAttributes": {"Members"}}).wants("members") {
		t.Error("excludedAttributes=Members must exclude members")
	}
	if !parseProjection(url.Values{"attributes": {"displayName,members"}}).wants("members") {
		t.Error("attributes=displayName,members must include members")
	}
}

func TestCleanAttributesDropsNullsAndReadOnly(t *testing.T) {
	got := cleanAttributes(map[string]any{
		"userName": "a", "title": nil, "id": "x", "Meta": map[string]any{}, "groups": []any{}, "password": "p",
		"name":   map[string]any{"givenName": "A", "middleName": nil},
		"emails": []any{nil, map[string]any{"value": "a@x"}},
	})
	want := map[string]any{"userName": "a", "name": map[string]any{"givenName": "A"}, "emails": []any{map[string]any{"value": "a@x"}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, want %#v", got, want)
	}
}
