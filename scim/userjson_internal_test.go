package scim

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elimity-com/scim/schema"

	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
	"github.com/scimbridge/scimbridge/store/storetest"
)

var userJSONSchemas = []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}

// viaMaps is how lists rendered users before appendUser, and how they still
// render them with a projection.
func viaMaps(t testing.TB, h *userHandler, u store.User, base string) string {
	b, err := appendMap(nil, resourceJSON(h.resource(u, projection{}), "User", base, userJSONSchemas))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func direct(t testing.TB, h *userHandler, u store.User, base string) string {
	b, err := h.appendUser(nil, u, base, userJSONSchemas)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// randomUser draws users like the ones IdPs store, and stranger: stored
// attributes named like the members the resource sets itself, strings
// JSON and HTML escape, names with and without given/family names.
func randomUser(rng *rand.Rand) store.User {
	pick := func(xs ...string) string { return xs[rng.IntN(len(xs))] }
	str := func() string {
		return pick("", "ann", "Ann <ann@example.com>", "a\"b\\c", "ü & ö", "\u2028line", "x\x01y", "🙂", "O'Brien")
	}
	attrs := map[string]any{}
	for range rng.IntN(8) {
		switch k := pick("displayName", "title", "name", "emails", "externalId", "id", "schemas", "meta", "groups",
			"userName", "active", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "nickName", "x-custom", "Name"); k {
		case "name":
			n := map[string]any{}
			for _, s := range []string{"givenName", "familyName", "formatted", "middleName"} {
				if rng.IntN(2) == 0 {
					n[s] = str()
				}
			}
			if rng.IntN(5) == 0 {
				n["givenName"] = nil
			}
			attrs[k] = n
		case "emails":
			attrs[k] = []any{map[string]any{"value": str(), "type": "work", "primary": rng.IntN(2) == 0}}
		case "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
			attrs[k] = map[string]any{"department": str(), "manager": map[string]any{"value": str()}, "costCenter": json.Number("12")}
		default:
			switch rng.IntN(4) {
			case 0:
				attrs[k] = str()
			case 1:
				attrs[k] = rng.IntN(2) == 0
			case 2:
				attrs[k] = int64(rng.IntN(1000))
			default:
				attrs[k] = nil
			}
		}
	}
	var groups []store.GroupRef
	for range rng.IntN(3) {
		groups = append(groups, store.GroupRef{ID: pick("g1", "g<2>", "g\"3"), DisplayName: str()})
	}
	created := time.Date(2026, 1, 2, 3, 4, 5, rng.IntN(1e9), time.FixedZone("x", 3600*rng.IntN(3)))
	return store.User{
		ID: pick("0f7c3d2e-1111-2222-3333-444455556666", "a&b"), Tenant: "t",
		ExternalID: pick("", "", "ext-1", "<ext>"), UserName: str(), Active: rng.IntN(2) == 0,
		Attributes: attrs, Groups: groups, Version: int64(rng.IntN(3)),
		CreatedAt: created, UpdatedAt: created.Add(time.Duration(rng.IntN(1e6)) * time.Second),
	}
}

func TestAppendUserAnswersAsTheMaps(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, alwaysName := range []bool{false, true} {
		h := &userHandler{links: links{base: "https://bridge.example.com/scim/v2/okta"}, alwaysName: alwaysName}
		base := h.links.base + "/Users/"
		for i := range 5000 {
			u := randomUser(rng)
			if got, want := direct(t, h, u, base), viaMaps(t, h, u, base); got != want {
				t.Fatalf("alwaysName %v, user %d %+v:\n got %s\nwant %s", alwaysName, i, u, got, want)
			}
		}
	}
}

func FuzzAppendUser(f *testing.F) {
	f.Add(uint64(1), uint64(2), false)
	f.Add(uint64(3), uint64(4), true)
	f.Fuzz(func(t *testing.T, a, b uint64, alwaysName bool) {
		h := &userHandler{links: links{base: "http://127.0.0.1:8080/scim/v2/t"}, alwaysName: alwaysName}
		base := h.links.base + "/Users/"
		u := randomUser(rand.New(rand.NewPCG(a, b)))
		if got, want := direct(t, h, u, base), viaMaps(t, h, u, base); got != want {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}

func TestElimityMetaAsJSONMarshal(t *testing.T) {
	vals := []string{"", "User", "2026-01-02T03:04:05Z", "W/\"3\"", "http://127.0.0.1:8080/scim/v2/t/Users/a&b<c>", "\u2028"}
	for _, rt := range vals {
		for _, c := range vals {
			for _, l := range vals {
				for _, v := range vals {
					m := elimityMeta{ResourceType: rt, Created: c, LastModified: c, Location: l, Version: v}
					want, err := json.Marshal(m)
					if err != nil {
						t.Fatal(err)
					}
					if got := m.appendJSON(nil); string(got) != string(want) {
						t.Fatalf("%+v:\n got %s\nwant %s", m, got, want)
					}
				}
			}
		}
	}
}

// TestAppendUserRawAsDecoded stores random users in a real SQLite store and
// renders each page both ways: from RawAttributes (when appendUserRaw
// vouches for it) and from the decoded Attributes; the bytes must agree.
func TestAppendUserRawAsDecoded(t *testing.T) {
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "raw.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rng := rand.New(rand.NewPCG(17, 19))
	extra := []any{1.5, 1e21, -0.25, "<b>&amp;</b>", "\u2028\t\x01", "\xff", "\ufffd", int64(-7), int64(1) << 62,
		map[string]any{"z": 1, "a": []any{"x<", map[string]any{"k": nil}}}}
	for i := range 400 {
		u := randomUser(rng)
		u.ID, u.UserName, u.Tenant = "", fmt.Sprint("user", i), "t"
		for range rng.IntN(3) {
			u.Attributes[fmt.Sprint("x", rng.IntN(5))] = extra[rng.IntN(len(extra))]
		}
		if _, err := st.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	h := &userHandler{links: links{base: "http://127.0.0.1:8080/scim/v2/t"}}
	base := h.links.base + "/Users/"
	q := store.Query{Limit: 500}
	plain, _, err := st.ListUsers(t.Context(), "t", q)
	if err != nil {
		t.Fatal(err)
	}
	q.RawAttributes = true
	raw, _, err := st.ListUsers(t.Context(), "t", q)
	if err != nil || len(raw) != len(plain) {
		t.Fatalf("raw list: %d users, %v", len(raw), err)
	}
	vouched := 0
	for i := range raw {
		got, ok := h.appendUserRaw(nil, raw[i], base, userJSONSchemas)
		if !ok {
			continue
		}
		vouched++
		if want := direct(t, h, plain[i], base); string(got) != want {
			t.Fatalf("user %d, stored %s:\n got %s\nwant %s", i, raw[i].RawAttributes, got, want)
		}
	}
	if vouched < len(raw)/4 {
		t.Errorf("appendUserRaw vouched for %d of %d users", vouched, len(raw))
	}
	// The alwaysName quirk needs the decoded name.
	h.alwaysName = true
	if _, ok := h.appendUserRaw(nil, raw[0], base, userJSONSchemas); ok {
		t.Error("appendUserRaw vouched for a user under the alwaysName quirk")
	}
}

func FuzzAppendRawValue(f *testing.F) {
	f.Add(`{"a":[1,"<x>",{"b":null}],"c":true}`)
	f.Add(`"\u2028\ufffd"`)
	f.Add(`[1.5,-0,01]`)
	f.Fuzz(func(t *testing.T, v string) {
		if end, ok := skipValue(v, 0, 0); !ok || end != len(v) {
			return // appendUserRaw only passes it what skipValue delimited
		}
		got, ok := appendRawValue(nil, v)
		if !ok {
			return
		}
		// What it vouches for must decode, and render as the decoded value.
		var d any
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&d); err != nil || dec.More() {
			t.Fatalf("vouched for %q, which does not decode: %v", v, err)
		}
		want, err := appendValue(nil, storetest.NumbersAsStored(d))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Fatalf("%q:\n got %s\nwant %s", v, got, want)
		}
	})
}

func FuzzAppendUserRaw(f *testing.F) {
	f.Add(`{"displayName":"A<b>","emails":[{"primary":true,"value":"a@b"}],"id":"x","x":12}`, "ext")
	f.Add(`{"a":1,"a":2}`, "")
	f.Add(`{"externalId":"e","name":{"familyName":"L","givenName":"A"}}`, "")
	f.Fuzz(func(t *testing.T, raw, ext string) {
		h := &userHandler{links: links{base: "http://127.0.0.1:8080/scim/v2/t"}}
		u := store.User{ID: "id1", Tenant: "t", UserName: "ann", ExternalID: ext, Active: true, Version: 2,
			Groups: []store.GroupRef{{ID: "g", DisplayName: "G"}}, RawAttributes: raw,
			CreatedAt: time.Unix(1, 0), UpdatedAt: time.Unix(2, 0)}
		got, ok := h.appendUserRaw(nil, u, h.links.base+"/Users/", userJSONSchemas)
		if !ok {
			return
		}
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil || dec.More() {
			t.Fatalf("vouched for %q, which does not decode: %v", raw, err)
		}
		u.RawAttributes, u.Attributes = "", storetest.NumbersAsStored(m).(map[string]any)
		if want := direct(t, h, u, h.links.base+"/Users/"); string(got) != want {
			t.Fatalf("%q:\n got %s\nwant %s", raw, got, want)
		}
	})
}

// TestListFallsBackToDecodedUsers: a page with a user appendUserRaw does
// not vouch for (a stored float) is read again decoded and answered in
// full, once.
func TestListFallsBackToDecodedUsers(t *testing.T) {
	schema.SetAllowStringValues(true)
	st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "fb.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, u := range []store.User{
		{UserName: "ann", Attributes: map[string]any{"displayName": "Ann <a&b>"}},
		{UserName: "bob", Attributes: map[string]any{"displayName": "Bob", "x-ratio": 1.5}},
	} {
		u.Tenant, u.Active = "t", true
		if _, err := st.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	authn, err := auth.New([]auth.Tenant{{Name: "t", TokenHashes: [][32]byte{auth.HashToken("tok")}}}, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(st, authn, []Tenant{{Name: "t"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, filter := range []string{"", `userName eq "ann"`, `userName eq "bob"`} {
		target := "/scim/v2/t/Users"
		if filter != "" {
			target += "?filter=" + url.QueryEscape(filter)
		}
		for range 3 { // the lookup cache answers the later rounds
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.Header.Set("Authorization", "Bearer tok")
			rec := httptest.NewRecorder()
			srv.ServeHTTP(rec, req)
			body := rec.Body.String()
			if rec.Code != http.StatusOK || strings.Count(body, `"Resources"`) != 1 {
				t.Fatalf("%s: %d %s", target, rec.Code, body)
			}
			var lr struct {
				TotalResults int
				Resources    []map[string]any
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &lr); err != nil {
				t.Fatalf("%s: %v: %s", target, err, body)
			}
			want := map[string]map[string]any{
				"ann": {"displayName": "Ann <a&b>"},
				"bob": {"displayName": "Bob", "x-ratio": 1.5},
			}
			if filter != "" {
				name := strings.Trim(strings.TrimPrefix(filter, "userName eq "), `"`)
				want = map[string]map[string]any{name: want[name]}
			}
			if lr.TotalResults != len(want) || len(lr.Resources) != len(want) {
				t.Fatalf("%s: %d of %d resources: %s", target, len(lr.Resources), lr.TotalResults, body)
			}
			for _, res := range lr.Resources {
				w := want[res["userName"].(string)]
				for k, v := range w {
					if res[k] != v {
						t.Errorf("%s: %s.%s = %v, want %v", target, res["userName"], k, res[k], v)
					}
				}
			}
			if _, ann := want["ann"]; ann && (strings.Contains(body, "<") || !strings.Contains(body, `Ann \u003ca\u0026b\u003e`)) {
				t.Errorf("%s: not HTML-safe: %s", target, body)
			}
		}
	}
}
