package scim

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
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
