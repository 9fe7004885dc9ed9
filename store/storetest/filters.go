package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// Path constructors for the filter tables.
func core(name string) store.AttrPath   { return store.AttrPath{Name: name} }
func sub(name, s string) store.AttrPath { return store.AttrPath{Name: name, Sub: s} }
func multi(name, s string) store.AttrPath {
	return store.AttrPath{Name: name, Sub: s, MultiValued: true}
}
func ent(name, s string) store.AttrPath {
	return store.AttrPath{Schema: enterpriseURN, Name: name, Sub: s}
}
func custom(name string) store.AttrPath { return store.AttrPath{Schema: customURN, Name: name} }
func customMV(name string) store.AttrPath {
	return store.AttrPath{Schema: customURN, Name: name, MultiValued: true}
}
func ci(p store.AttrPath, op store.Operator, v any) store.Compare {
	return store.Compare{Path: p, Op: op, Value: v}
}
func exact(p store.AttrPath, op store.Operator, v any) store.Compare {
	return store.Compare{Path: p, Op: op, Value: v, CaseExact: true}
}
func pr(p store.AttrPath) store.Compare                { return store.Compare{Path: p, Op: store.OpPr} }
func and(l, r store.Filter) store.Filter               { return store.And{Left: l, Right: r} }
func or(l, r store.Filter) store.Filter                { return store.Or{Left: l, Right: r} }
func not(f store.Filter) store.Filter                  { return store.Not{Inner: f} }
func vp(p store.AttrPath, f store.Filter) store.Filter { return store.ValuePath{Path: p, Inner: f} }

// filterUsers creates the users the filter tables run against, in this
// order: alice, Bob, 100%_sure\yes, ÅSA, dave.
func filterUsers(t *testing.T, s store.Store) map[string]store.User {
	users := []store.User{
		{ID: "id-alice", UserName: "alice", ExternalID: "ext-1", Active: true, Attributes: map[string]any{
			"displayName": "Alice Smith",
			"name":        map[string]any{"givenName": "Alice", "familyName": "Smith"},
			"emails": []any{
				map[string]any{"value": "alice@work.example", "type": "work", "primary": true},
				map[string]any{"value": "ALICE@home.example", "type": "home"},
			},
			enterpriseURN: map[string]any{"department": "Engineering", "manager": map[string]any{"value": "id-dave"}},
			customURN:     map[string]any{"level": int64(3), "tags": []any{"blue", "GREEN"}},
		}},
		{ID: "id-bob", UserName: "Bob", ExternalID: "EXT-2", Active: false, Attributes: map[string]any{
			"name":        map[string]any{"familyName": "Jones"},
			"emails":      []any{map[string]any{"value": "bob@work.example", "type": "work"}},
			enterpriseURN: map[string]any{"department": "Sales"},
			customURN:     map[string]any{"level": int64(7), "tags": []any{"red"}},
		}},
		{ID: "id-pct", UserName: `100%_sure\yes`, Active: true},
		{ID: "id-asa", UserName: "ÅSA", Active: true, Attributes: map[string]any{
			"displayName": "Åsa Öberg",
			"nickName":    "",
		}},
		{ID: "id-dave", UserName: "dave", ExternalID: "ext-4", Active: true, Attributes: map[string]any{
			"name": map[string]any{"familyName": "smith"},
			"emails": []any{
				map[string]any{"value": "dave@home.example", "type": "home"},
				map[string]any{"value": "dave@WORK.example", "type": "work"},
			},
			enterpriseURN: map[string]any{"department": "engineering"},
			customURN:     map[string]any{"level": 3.5, "tags": []any{}},
		}},
	}
	out := make(map[string]store.User, len(users))
	for _, u := range users {
		u.Tenant = "f"
		out[u.ID] = createUser(t, s, u)
	}
	// Same data in another tenant: filters must not see it.
	for _, u := range users {
		u.Tenant, u.ID = "other", ""
		createUser(t, s, u)
	}
	return out
}

type filterCase struct {
	name   string
	filter store.Filter
	want   []string // names in creation order
}

func testUserFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	us := filterUsers(t, s)
	// Joining a group gives bob a new version and lastModified (his groups
	// changed); alice changes last, so her lastModified is the newest.
	admins := createGroup(t, s, store.Group{Tenant: "f", DisplayName: "Admins", Members: refs("id-alice", "id-bob")})
	us["id-bob"] = getUser(t, s, "f", "id-bob")
	alice, err := s.UpdateUser(ctx, "f", "id-alice", func(u *store.User) error { u.Attributes["title"] = "Boss"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	us[alice.ID] = alice

	all := []string{"alice", "Bob", `100%_sure\yes`, "ÅSA", "dave"}
	except := func(names ...string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(n string) bool { return slices.Contains(names, n) })
	}
	order := []string{"id-alice", "id-bob", "id-pct", "id-asa", "id-dave"}
	// byTime lists the users whose time passes keep, in creation order.
	byTime := func(keep func(store.User) bool) []string {
		var out []string
		for _, id := range order {
			if keep(us[id]) {
				out = append(out, us[id].UserName)
			}
		}
		return out
	}
	bob := us["id-bob"]
	pct := us["id-pct"]

	cases := []filterCase{
		// userName: case-insensitive by schema, Unicode included.
		{"userName eq ci", ci(core("userName"), store.OpEq, "ALICE"), []string{"alice"}},
		{"userName eq non-ASCII ci", ci(core("userName"), store.OpEq, "åsa"), []string{"ÅSA"}},
		{"userName eq exact", exact(core("userName"), store.OpEq, "alice"), []string{"alice"}},
		{"userName eq exact other case", exact(core("userName"), store.OpEq, "ALICE"), nil},
		{"userName ne", ci(core("userName"), store.OpNe, "alice"), except("alice")},
		{"userName co", ci(core("userName"), store.OpCo, "LI"), []string{"alice"}},
		{"userName sw", ci(core("userName"), store.OpSw, "b"), []string{"Bob"}},
		{"userName ew", ci(core("userName"), store.OpEw, "E"), []string{"alice", "dave"}},
		{"userName gt", ci(core("userName"), store.OpGt, "c"), []string{"ÅSA", "dave"}},
		{"userName ge", ci(core("userName"), store.OpGe, "DAVE"), []string{"ÅSA", "dave"}},
		{"userName lt", ci(core("userName"), store.OpLt, "b"), []string{"alice", `100%_sure\yes`}},
		{"userName le", ci(core("userName"), store.OpLe, "BOB"), []string{"alice", "Bob", `100%_sure\yes`}},
		{"userName pr", pr(core("userName")), all},
		{"userName co percent underscore literal", ci(core("userName"), store.OpCo, "%_"), []string{`100%_sure\yes`}},
		{"userName co underscore literal", ci(core("userName"), store.OpCo, "_"), []string{`100%_sure\yes`}},
		{"userName co backslash literal", ci(core("userName"), store.OpCo, `\`), []string{`100%_sure\yes`}},
		{"userName sw percent literal", ci(core("userName"), store.OpSw, "100%"), []string{`100%_sure\yes`}},
		{"userName sw percent no wildcard", ci(core("userName"), store.OpSw, "%"), nil},
		{"userName ew backslash literal", ci(core("userName"), store.OpEw, `\YES`), []string{`100%_sure\yes`}},
		{"userName co empty", ci(core("userName"), store.OpCo, ""), all},
		{"userName ew empty", ci(core("userName"), store.OpEw, ""), all},

		// externalId: case-exact by schema; absent on pct and ÅSA.
		{"externalId eq", exact(core("externalId"), store.OpEq, "ext-1"), []string{"alice"}},
		{"externalId eq exact other case", exact(core("externalId"), store.OpEq, "ext-2"), nil},
		{"externalId eq exact", exact(core("externalId"), store.OpEq, "EXT-2"), []string{"Bob"}},
		{"externalId eq ci", ci(core("externalId"), store.OpEq, "ext-2"), []string{"Bob"}},
		{"externalId ne skips absent", exact(core("externalId"), store.OpNe, "ext-1"), []string{"Bob", "dave"}},
		{"not externalId eq includes absent", not(exact(core("externalId"), store.OpEq, "ext-1")), except("alice")},
		{"externalId co", exact(core("externalId"), store.OpCo, "-"), []string{"alice", "Bob", "dave"}},
		{"externalId sw", exact(core("externalId"), store.OpSw, "ext"), []string{"alice", "dave"}},
		{"externalId ew", exact(core("externalId"), store.OpEw, "-4"), []string{"dave"}},
		{"externalId gt", exact(core("externalId"), store.OpGt, "ext-1"), []string{"dave"}},
		{"externalId lt", exact(core("externalId"), store.OpLt, "ext"), []string{"Bob"}},
		{"externalId pr", pr(core("externalId")), []string{"alice", "Bob", "dave"}},
		{"not externalId pr", not(pr(core("externalId"))), []string{`100%_sure\yes`, "ÅSA"}},

		// id: case-exact.
		{"id eq", exact(core("id"), store.OpEq, "id-bob"), []string{"Bob"}},
		{"id eq other case", exact(core("id"), store.OpEq, "ID-BOB"), nil},
		{"id ne", exact(core("id"), store.OpNe, "id-bob"), except("Bob")},
		{"id sw", exact(core("id"), store.OpSw, "id-a"), []string{"alice", "ÅSA"}},
		{"id ew", exact(core("id"), store.OpEw, "ve"), []string{"dave"}},
		{"id co", exact(core("id"), store.OpCo, "pc"), []string{`100%_sure\yes`}},
		{"id gt", exact(core("id"), store.OpGt, "id-c"), []string{`100%_sure\yes`, "dave"}},
		{"id le", exact(core("id"), store.OpLe, "id-asa"), []string{"alice", "ÅSA"}},

		// displayName of users lives in the attributes.
		{"displayName eq ci", ci(core("displayName"), store.OpEq, "alice smith"), []string{"alice"}},
		{"displayName co non-ASCII ci", ci(core("displayName"), store.OpCo, "ö"), []string{"ÅSA"}},
		{"displayName co non-ASCII exact", exact(core("displayName"), store.OpCo, "ö"), nil},
		{"displayName sw", ci(core("displayName"), store.OpSw, "ÅSA Ö"), []string{"ÅSA"}},
		{"displayName pr", pr(core("displayName")), []string{"alice", "ÅSA"}},
		{"not displayName pr", not(pr(core("displayName"))), []string{"Bob", `100%_sure\yes`, "dave"}},
		{"title eq", ci(core("title"), store.OpEq, "BOSS"), []string{"alice"}},

		// Complex single-valued sub-attributes.
		{"name.familyName eq ci", ci(sub("name", "familyName"), store.OpEq, "smith"), []string{"alice", "dave"}},
		{"name.familyName eq exact", exact(sub("name", "familyName"), store.OpEq, "smith"), []string{"dave"}},
		{"name.familyName ne skips absent", ci(sub("name", "familyName"), store.OpNe, "smith"), []string{"Bob"}},
		{"not name.familyName eq includes absent", not(ci(sub("name", "familyName"), store.OpEq, "smith")), []string{"Bob", `100%_sure\yes`, "ÅSA"}},
		{"name.familyName sw", ci(sub("name", "familyName"), store.OpSw, "J"), []string{"Bob"}},
		{"name.familyName gt", ci(sub("name", "familyName"), store.OpGt, "k"), []string{"alice", "dave"}},
		{"name.givenName ew", ci(sub("name", "givenName"), store.OpEw, "ICE"), []string{"alice"}},
		{"name.familyName pr", pr(sub("name", "familyName")), []string{"alice", "Bob", "dave"}},
		{"name pr", pr(core("name")), []string{"alice", "Bob", "dave"}},
		{"nickName empty is not present", pr(core("nickName")), nil},
		{"not nickName pr", not(pr(core("nickName"))), all},

		// Multi-valued: any element matches.
		{"emails.value eq ci", ci(multi("emails", "value"), store.OpEq, "alice@home.example"), []string{"alice"}},
		{"emails.value eq exact miss", exact(multi("emails", "value"), store.OpEq, "alice@home.example"), nil},
		{"emails.value eq exact", exact(multi("emails", "value"), store.OpEq, "ALICE@home.example"), []string{"alice"}},
		{"emails.value co ci", ci(multi("emails", "value"), store.OpCo, "@work"), []string{"alice", "Bob", "dave"}},
		{"emails.value co exact", exact(multi("emails", "value"), store.OpCo, "@work"), []string{"alice", "Bob"}},
		{"emails.value sw", ci(multi("emails", "value"), store.OpSw, "DAVE"), []string{"dave"}},
		{"emails.value ew", ci(multi("emails", "value"), store.OpEw, ".EXAMPLE"), []string{"alice", "Bob", "dave"}},
		{"emails.value ne any element", ci(multi("emails", "value"), store.OpNe, "bob@work.example"), []string{"alice", "dave"}},
		{"emails.value gt", ci(multi("emails", "value"), store.OpGt, "c"), []string{"dave"}},
		{"not emails.value co", not(ci(multi("emails", "value"), store.OpCo, "work")), []string{`100%_sure\yes`, "ÅSA"}},
		{"emails pr", pr(multi("emails", "")), []string{"alice", "Bob", "dave"}},
		{"emails.type eq", ci(multi("emails", "type"), store.OpEq, "home"), []string{"alice", "dave"}},
		{"emails.primary eq true", ci(multi("emails", "primary"), store.OpEq, true), []string{"alice"}},
		{"emails.primary pr", pr(multi("emails", "primary")), []string{"alice"}},

		// Value paths: one element must satisfy the whole inner filter.
		{"emails[type and value] ci", vp(multi("emails", ""), and(ci(multi("emails", "type"), store.OpEq, "work"), ci(multi("emails", "value"), store.OpEq, "dave@work.example"))), []string{"dave"}},
		{"emails[type and value co]", vp(multi("emails", ""), and(ci(multi("emails", "type"), store.OpEq, "work"), ci(multi("emails", "value"), store.OpCo, "alice"))), []string{"alice"}},
		{"emails[type and value] across elements", vp(multi("emails", ""), and(ci(multi("emails", "type"), store.OpEq, "home"), ci(multi("emails", "value"), store.OpCo, "work"))), nil},
		{"emails[not type]", vp(multi("emails", ""), not(ci(multi("emails", "type"), store.OpEq, "work"))), []string{"alice", "dave"}},
		{"emails[type or primary]", vp(multi("emails", ""), or(ci(multi("emails", "type"), store.OpEq, "home"), ci(multi("emails", "primary"), store.OpEq, true))), []string{"alice", "dave"}},
		{"emails[work] and not emails[primary]", and(vp(multi("emails", ""), ci(multi("emails", "type"), store.OpEq, "work")), not(vp(multi("emails", ""), ci(multi("emails", "primary"), store.OpEq, true)))), []string{"Bob", "dave"}},
		{"not emails[type home]", not(vp(multi("emails", ""), ci(multi("emails", "type"), store.OpEq, "home"))), []string{"Bob", `100%_sure\yes`, "ÅSA"}},

		// Extension attributes.
		{"enterprise department eq ci", ci(ent("department", ""), store.OpEq, "engineering"), []string{"alice", "dave"}},
		{"enterprise department eq exact", exact(ent("department", ""), store.OpEq, "Engineering"), []string{"alice"}},
		{"enterprise department ne skips absent", ci(ent("department", ""), store.OpNe, "sales"), []string{"alice", "dave"}},
		{"not enterprise department eq", not(ci(ent("department", ""), store.OpEq, "Sales")), except("Bob")},
		{"enterprise department pr", pr(ent("department", "")), []string{"alice", "Bob", "dave"}},
		{"enterprise manager.value eq", exact(ent("manager", "value"), store.OpEq, "id-dave"), []string{"alice"}},
		{"custom level gt", ci(custom("level"), store.OpGt, int64(5)), []string{"Bob"}},
		{"custom level ge", ci(custom("level"), store.OpGe, int64(3)), []string{"alice", "Bob", "dave"}},
		{"custom level lt float", ci(custom("level"), store.OpLt, 3.5), []string{"alice"}},
		{"custom level le", ci(custom("level"), store.OpLe, int64(3)), []string{"alice"}},
		{"custom level eq float", ci(custom("level"), store.OpEq, 3.5), []string{"dave"}},
		{"custom level eq int", ci(custom("level"), store.OpEq, int64(3)), []string{"alice"}},
		{"custom level ne", ci(custom("level"), store.OpNe, int64(3)), []string{"Bob", "dave"}},
		{"custom level eq string is another type", ci(custom("level"), store.OpEq, "3"), nil},
		{"custom level gt string is another type", ci(custom("level"), store.OpGt, "0"), nil},
		{"custom tags eq element ci", ci(customMV("tags"), store.OpEq, "green"), []string{"alice"}},
		{"custom tags eq element exact", exact(customMV("tags"), store.OpEq, "green"), nil},
		{"custom tags co", ci(customMV("tags"), store.OpCo, "E"), []string{"alice", "Bob"}},
		{"custom tags pr skips empty array", pr(customMV("tags")), []string{"alice", "Bob"}},

		// Column-backed booleans and times.
		{"active eq false", exact(core("active"), store.OpEq, false), []string{"Bob"}},
		{"active eq true", exact(core("active"), store.OpEq, true), except("Bob")},
		{"active ne true", exact(core("active"), store.OpNe, true), []string{"Bob"}},
		{"active pr", pr(core("active")), all},
		{"meta.lastModified gt", exact(sub("meta", "lastModified"), store.OpGt, bob.UpdatedAt),
			byTime(func(u store.User) bool { return u.UpdatedAt.After(bob.UpdatedAt) })},
		{"meta.lastModified ge", exact(sub("meta", "lastModified"), store.OpGe, bob.UpdatedAt),
			byTime(func(u store.User) bool { return !u.UpdatedAt.Before(bob.UpdatedAt) })},
		{"meta.lastModified lt", exact(sub("meta", "lastModified"), store.OpLt, alice.UpdatedAt),
			byTime(func(u store.User) bool { return u.UpdatedAt.Before(alice.UpdatedAt) })},
		{"meta.created le", exact(sub("meta", "created"), store.OpLe, pct.CreatedAt),
			byTime(func(u store.User) bool { return !u.CreatedAt.After(pct.CreatedAt) })},
		{"meta.created eq", exact(sub("meta", "created"), store.OpEq, pct.CreatedAt),
			byTime(func(u store.User) bool { return u.CreatedAt.Equal(pct.CreatedAt) })},
		{"meta.created in another zone", exact(sub("meta", "created"), store.OpEq, pct.CreatedAt.In(time.FixedZone("x", 5*3600))),
			byTime(func(u store.User) bool { return u.CreatedAt.Equal(pct.CreatedAt) })},
		{"meta.lastModified gt the future", exact(sub("meta", "lastModified"), store.OpGt, alice.UpdatedAt.Add(time.Hour)), nil},

		// Group membership of users.
		{"groups eq", exact(multi("groups", "value"), store.OpEq, admins.ID), []string{"alice", "Bob"}},
		{"groups bare eq", exact(multi("groups", ""), store.OpEq, admins.ID), []string{"alice", "Bob"}},
		{"groups pr", pr(multi("groups", "")), []string{"alice", "Bob"}},
		{"not groups pr", not(pr(multi("groups", ""))), []string{`100%_sure\yes`, "ÅSA", "dave"}},
		{"groups[value eq]", vp(multi("groups", ""), exact(multi("groups", "value"), store.OpEq, admins.ID)), []string{"alice", "Bob"}},

		// Combinations.
		{"and", and(ci(core("userName"), store.OpSw, "a"), exact(core("active"), store.OpEq, true)), []string{"alice"}},
		{"or", or(ci(core("userName"), store.OpEq, "bob"), ci(multi("emails", "value"), store.OpCo, "dave")), []string{"Bob", "dave"}},
		{"not or", not(or(ci(core("userName"), store.OpEq, "alice"), ci(core("userName"), store.OpEq, "bob"))), except("alice", "Bob")},
		{"not not", not(not(exact(core("active"), store.OpEq, false))), []string{"Bob"}},
		{"not and", not(and(ci(sub("name", "familyName"), store.OpEq, "smith"), exact(core("active"), store.OpEq, true))), []string{"Bob", `100%_sure\yes`, "ÅSA"}},
		{"or and not", and(or(ci(sub("name", "familyName"), store.OpEq, "smith"), exact(core("externalId"), store.OpEq, "EXT-2")), not(ci(multi("emails", "type"), store.OpEq, "home"))), []string{"Bob"}},
		{"or of absent", or(pr(core("nickName")), ci(ent("department", ""), store.OpEq, "sales")), []string{"Bob"}},
		{"not (absent and x)", not(and(ci(core("nickName"), store.OpEq, "x"), exact(core("active"), store.OpEq, true))), all},
		{"not (absent or x)", not(or(ci(core("title"), store.OpEq, "boss"), exact(core("active"), store.OpEq, false))), []string{`100%_sure\yes`, "ÅSA", "dave"}},
		{"pointer forms", &store.And{Left: &store.Compare{Path: core("userName"), Op: store.OpEq, Value: "bob"}, Right: &store.Not{Inner: &store.Compare{Path: core("active"), Op: store.OpEq, Value: true}}}, []string{"Bob"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := userNames(allUsers(t, s, "f", c.filter))
			if !slices.Equal(got, c.want) {
				t.Errorf("filter %v = %q, want %q", describe(c.filter), got, c.want)
			}
		})
	}
	// The time filters found something, so they were not all vacuous.
	if got := allUsers(t, s, "f", exact(sub("meta", "lastModified"), store.OpGe, alice.UpdatedAt)); len(got) == 0 {
		t.Error("meta.lastModified ge alice's lastModified finds nothing")
	}
}

func testGroupFilters(t *testing.T, s store.Store) {
	filterUsers(t, s)
	admins := createGroup(t, s, store.Group{Tenant: "f", DisplayName: "Admins", Members: refs("id-alice", "id-bob")})
	eng := createGroup(t, s, store.Group{Tenant: "f", DisplayName: "Engineering", ExternalID: "g-ext",
		Attributes: map[string]any{customURN: map[string]any{"level": int64(2)}},
		Members:    refs("id-alice", "id-dave", admins.ID)})
	empty := createGroup(t, s, store.Group{Tenant: "f", DisplayName: "empty"})
	createGroup(t, s, store.Group{Tenant: "other", DisplayName: "Admins"})

	cases := []filterCase{
		{"displayName eq ci", ci(core("displayName"), store.OpEq, "ADMINS"), []string{"Admins"}},
		{"displayName eq exact", exact(core("displayName"), store.OpEq, "admins"), nil},
		{"displayName eq exact match", exact(core("displayName"), store.OpEq, "Admins"), []string{"Admins"}},
		{"displayName sw ci", ci(core("displayName"), store.OpSw, "E"), []string{"Engineering", "empty"}},
		{"displayName co", ci(core("displayName"), store.OpCo, "MIN"), []string{"Admins"}},
		{"displayName ew", ci(core("displayName"), store.OpEw, "ty"), []string{"empty"}},
		{"displayName ne", ci(core("displayName"), store.OpNe, "admins"), []string{"Engineering", "empty"}},
		{"displayName gt", ci(core("displayName"), store.OpGt, "b"), []string{"Engineering", "empty"}},
		{"members eq", exact(multi("members", "value"), store.OpEq, "id-alice"), []string{"Admins", "Engineering"}},
		{"members bare eq", exact(multi("members", ""), store.OpEq, "id-dave"), []string{"Engineering"}},
		{"members eq group", exact(multi("members", "value"), store.OpEq, admins.ID), []string{"Engineering"}},
		{"members ne any", exact(multi("members", "value"), store.OpNe, "id-alice"), []string{"Admins", "Engineering"}},
		{"not members eq", not(exact(multi("members", "value"), store.OpEq, "id-bob")), []string{"Engineering", "empty"}},
		{"members pr", pr(multi("members", "")), []string{"Admins", "Engineering"}},
		{"not members pr", not(pr(multi("members", ""))), []string{"empty"}},
		{"members[value eq]", vp(multi("members", ""), exact(multi("members", "value"), store.OpEq, "id-bob")), []string{"Admins"}},
		{"externalId eq", exact(core("externalId"), store.OpEq, "g-ext"), []string{"Engineering"}},
		{"not externalId eq", not(exact(core("externalId"), store.OpEq, "g-ext")), []string{"Admins", "empty"}},
		{"id eq", exact(core("id"), store.OpEq, empty.ID), []string{"empty"}},
		{"extension attribute", ci(custom("level"), store.OpEq, int64(2)), []string{"Engineering"}},
		{"meta.created ge", exact(sub("meta", "created"), store.OpGe, eng.CreatedAt), createdSince(eng, admins, eng, empty)},
		{"and", and(exact(multi("members", "value"), store.OpEq, "id-alice"), ci(core("displayName"), store.OpSw, "eng")), []string{"Engineering"}},
		{"or", or(not(pr(multi("members", ""))), exact(multi("members", "value"), store.OpEq, "id-bob")), []string{"Admins", "empty"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := groupNames(allGroups(t, s, "f", c.filter, true))
			if !slices.Equal(got, c.want) {
				t.Errorf("filter %v = %q, want %q", describe(c.filter), got, c.want)
			}
		})
	}
}

// createdSince names the groups created at or after pivot, in order.
func createdSince(pivot store.Group, gs ...store.Group) []string {
	var out []string
	for _, g := range gs {
		if !g.CreatedAt.Before(pivot.CreatedAt) {
			out = append(out, g.DisplayName)
		}
	}
	return out
}

func testUnsupportedFilters(t *testing.T, s store.Store) {
	ctx := t.Context()
	createUser(t, s, store.User{Tenant: "t1", UserName: "alice", Active: true,
		Attributes: map[string]any{"emails": []any{map[string]any{"value": "a@x", "primary": true}}}})
	bad := []store.Filter{
		exact(core("active"), store.OpGt, true),
		exact(core("active"), store.OpLe, false),
		ci(multi("emails", "primary"), store.OpGt, true),
		ci(core("x"), store.OpLt, false),
		and(ci(core("userName"), store.OpEq, "alice"), nil),
		not(nil),
	}
	for _, f := range bad {
		if _, _, err := s.ListUsers(ctx, "t1", store.Query{Filter: f, Limit: 10}); !errors.Is(err, store.ErrUnsupportedFilter) {
			t.Errorf("ListUsers(%s): err = %v, want ErrUnsupportedFilter", describe(f), err)
		}
		if _, _, err := s.ListGroups(ctx, "t1", store.Query{Filter: f, Limit: 10}); !errors.Is(err, store.ErrUnsupportedFilter) {
			t.Errorf("ListGroups(%s): err = %v, want ErrUnsupportedFilter", describe(f), err)
		}
	}
}

// describe renders a filter for failure messages.
func describe(f store.Filter) string {
	switch f := f.(type) {
	case store.Compare:
		s := f.String()
		if f.CaseExact {
			s += " (exact)"
		}
		return s
	case store.And:
		return "(" + describe(f.Left) + " and " + describe(f.Right) + ")"
	case store.Or:
		return "(" + describe(f.Left) + " or " + describe(f.Right) + ")"
	case store.Not:
		return "not (" + describe(f.Inner) + ")"
	case store.ValuePath:
		return f.Path.String() + "[" + describe(f.Inner) + "]"
	case nil:
		return "<nil>"
	}
	return fmt.Sprintf("%#v", f)
}
