package query

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
)

var (
	userName    = path("userName", "", false)
	displayName = path("displayName", "", false)
	title       = path("title", "", false)
	active      = path("active", "", false)
	emailsValue = path("emails", "value", true)
	emailsType  = path("emails", "type", true)
	emails      = path("emails", "", true)
	idPath      = path("id", "", false)
	externalID  = path("externalId", "", false)
	metaCreated = path("meta", "created", false)
	metaLastMod = path("meta", "lastModified", false)
)

func ext(name, sub string) store.AttrPath {
	return store.AttrPath{Schema: enterpriseURN, Name: name, Sub: sub}
}

func custom(name string) store.AttrPath {
	return store.AttrPath{Schema: customURN, Name: name}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

type okCase struct {
	name   string
	filter string
	schema Schema
	want   store.Filter
}

func runOK(t *testing.T, cases []okCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.filter, tc.schema)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tc.filter, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tc.filter, diff)
			}
		})
	}
}

type errCase struct {
	name   string
	filter string
	schema Schema
	detail string
}

func runErr(t *testing.T, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.filter, tc.schema)
			if got != nil {
				t.Errorf("Parse(%q) = %#v, want nil filter", tc.filter, got)
			}
			checkInvalidFilter(t, err, tc.detail)
		})
	}
}

// TestIdPFilters covers the exact filters IdPs and their test suites send
// (idp-scim-clients.md sections 3.3, 6, 8.4, 8.5, 9).
func TestIdPFilters(t *testing.T) {
	u, g := userSchema(), groupSchema()
	createdNext := mustTime(t, "2015-10-10T14:38:22-07:00")
	familyThenEmails := store.And{
		Left: cmpOp(path("name", "familyName", false), store.OpEq, "Employee", false),
		Right: store.Or{
			Left:  cmpOp(emailsValue, store.OpCo, "example.com", false),
			Right: cmpOp(emailsValue, store.OpCo, "example.org", false),
		},
	}
	entraWork := store.ValuePath{Path: emails, Inner: store.And{
		Left:  cmpOp(emailsType, store.OpEq, "work", false),
		Right: cmpOp(emailsValue, store.OpEq, "a@b.c", false),
	}}
	runOK(t, []okCase{
		{"okta userName", `userName eq "test.user@okta.local"`, u, cmpOp(userName, store.OpEq, "test.user@okta.local", false)},
		{"pingone Eq", `userName Eq "x"`, u, cmpOp(userName, store.OpEq, "x", false)},
		{"pingone username", `username eq "X"`, u, cmpOp(userName, store.OpEq, "X", false)},
		{"entra externalId", `externalId eq "abc"`, u, cmpOp(externalID, store.OpEq, "abc", true)},
		{"entra group displayName", `displayName eq "Group"`, g, cmpOp(displayName, store.OpEq, "Group", false)},
		{"postman DisplayName", `DisplayName eq "BobIsAmazing"`, u, cmpOp(displayName, store.OpEq, "BobIsAmazing", false)},
		{"entra value path with sub-attribute", `emails[type eq "work"].value eq "a@b.c"`, u, entraWork},
		{"emails.value co", `emails.value co "example.com"`, u, cmpOp(emailsValue, store.OpCo, "example.com", false)},
		{"postman grouped or", `name.FamilyName eq "Employee" and (emails.Value co "example.com" or emails.Value co "example.org")`, u, familyThenEmails},
		{"postman sw", `userName sw "O"`, u, cmpOp(userName, store.OpSw, "O", false)},
		// meta is shown in whole seconds: "after t" is "from the next
		// shown second on" (shownPrecision).
		{"postman meta.Created", `meta.Created gt "2015-10-10T14:38:21.8617979-07:00"`, u, cmpOp(metaCreated, store.OpGe, createdNext, false)},
		{"meta.lastModified", `meta.lastModified gt "2011-05-13T04:42:34Z"`, u, cmpOp(metaLastMod, store.OpGe, mustTime(t, "2011-05-13T04:42:35Z"), false)},
		{"members eq", `members eq "id"`, g, cmpOp(path("members", "value", true), store.OpEq, "id", true)},
		{"not active", `not (active eq true)`, u, store.Not{Inner: cmpOp(active, store.OpEq, true, false)}},
		{"title pr", `title pr`, u, cmpOp(title, store.OpPr, nil, false)},
		{"enterprise employeeNumber", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984"`, u, cmpOp(ext("employeeNumber", ""), store.OpEq, "701984", false)},
		// The Postman suite's unquoted values, quoted by Prepare.
		{"postman unquoted grouped or", `name.FamilyName eq Employee and (emails.Value co example.com or emails.Value co example.org)`, u, familyThenEmails},
		{"postman unquoted sw", `userName sw O`, u, cmpOp(userName, store.OpSw, "O", false)},
		{"postman unquoted meta.Created", `meta.Created gt 2015-10-10T14:38:21.8617979-07:00`, u, cmpOp(metaCreated, store.OpGe, createdNext, false)},
		{"old entra doc unquoted externalId", `externalId eq jyoung`, u, cmpOp(externalID, store.OpEq, "jyoung", true)},
		{"entra unquoted value path", `emails[type eq work].value eq a@b.c`, u, entraWork},
	})
}

func TestOperators(t *testing.T) {
	u := userSchema()
	var cases []okCase
	for _, op := range []store.Operator{store.OpEq, store.OpNe, store.OpCo, store.OpSw, store.OpEw, store.OpGt, store.OpGe, store.OpLt, store.OpLe} {
		cases = append(cases,
			okCase{"lower " + string(op), "userName " + string(op) + ` "v"`, u, cmpOp(userName, op, "v", false)},
			okCase{"upper " + string(op), "userName " + strings.ToUpper(string(op)) + ` "v"`, u, cmpOp(userName, op, "v", false)},
		)
	}
	cases = append(cases,
		okCase{"pr", "title pr", u, cmpOp(title, store.OpPr, nil, false)},
		okCase{"PR", "title PR", u, cmpOp(title, store.OpPr, nil, false)},
		okCase{"pr on complex", "name pr", u, cmpOp(path("name", "", false), store.OpPr, nil, false)},
		okCase{"pr on multi-valued complex", "emails pr", u, cmpOp(emails, store.OpPr, nil, false)},
		okCase{"pr on case-exact", "externalId pr", u, cmpOp(externalID, store.OpPr, nil, true)},
		okCase{"pingone CO", `emails CO "@x.org"`, u, cmpOp(emailsValue, store.OpCo, "@x.org", false)},
	)
	runOK(t, cases)
}

func TestSpecialAttributes(t *testing.T) {
	u, g := userSchema(), groupSchema()
	ts := mustTime(t, "2024-01-02T03:04:05Z")
	members := path("members", "", true)
	membersValue := path("members", "value", true)
	groupsValue := path("groups", "value", true)
	runOK(t, []okCase{
		{"id user", `id eq "2819c223"`, u, cmpOp(idPath, store.OpEq, "2819c223", true)},
		{"id group", `ID eq "2819c223"`, g, cmpOp(idPath, store.OpEq, "2819c223", true)},
		{"externalId group", `EXTERNALID eq "e1"`, g, cmpOp(externalID, store.OpEq, "e1", true)},
		{"meta.created group", `meta.created ge "2024-01-02T03:04:05Z"`, g, cmpOp(metaCreated, store.OpGe, ts, false)},
		{"META.LASTMODIFIED", `META.LASTMODIFIED lt "2024-01-02T03:04:05Z"`, u, cmpOp(metaLastMod, store.OpLt, ts, false)},
		{"meta.created with offset", `meta.created eq "2024-01-02T05:04:05+02:00"`, u, store.And{
			Left:  cmpOp(metaCreated, store.OpGe, mustTime(t, "2024-01-02T05:04:05+02:00"), false),
			Right: cmpOp(metaCreated, store.OpLt, mustTime(t, "2024-01-02T05:04:06+02:00"), false),
		}},
		{"core URN prefix on id", `urn:ietf:params:scim:schemas:core:2.0:User:id eq "x"`, u, cmpOp(idPath, store.OpEq, "x", true)},
		{"members.value", `Members.Value eq "u1"`, g, cmpOp(membersValue, store.OpEq, "u1", true)},
		{"members pr", `members pr`, g, cmpOp(members, store.OpPr, nil, false)},
		{"members value path", `members[value eq "u1"]`, g, cmpOp(membersValue, store.OpEq, "u1", true)},
		{"members value path or", `members[value eq "u1" or value eq "u2"]`, g, store.Or{
			Left:  cmpOp(membersValue, store.OpEq, "u1", true),
			Right: cmpOp(membersValue, store.OpEq, "u2", true),
		}},
		{"groups", `groups eq "g1"`, u, cmpOp(groupsValue, store.OpEq, "g1", true)},
		{"groups.value", `groups.value eq "g1"`, u, cmpOp(groupsValue, store.OpEq, "g1", true)},
		{"groups value path", `GROUPS[VALUE eq "g1"]`, u, cmpOp(groupsValue, store.OpEq, "g1", true)},
	})
	runErr(t, []errCase{
		{"members on users", `members eq "x"`, u, `unknown attribute "members" in filter`},
		{"groups on groups", `groups eq "x"`, g, `unknown attribute "groups" in filter`},
		{"members.display", `members.display eq "x"`, g, `"members.display" is not supported in filters; use members or members.value`},
		{"groups.type", `groups.type eq "direct"`, u, `"groups.type" is not supported in filters; use groups or groups.value`},
		{"members value path display", `members[display eq "x"]`, g, `"members.display" is not supported in filters; use members or members.value`},
		{"members value path and", `members[value eq "a" and value eq "b"]`, g, `members[...] supports only comparisons of value joined by or`},
		{"members value path not", `members[not (value eq "a")]`, g, `members[...] supports only comparisons of value joined by or`},
		{"meta", `meta pr`, u, `"meta" is not supported in filters; use meta.created or meta.lastModified`},
		{"meta.version", `meta.version eq "W/\"1\""`, u, `"meta.version" is not supported in filters; use meta.created or meta.lastModified`},
		{"meta.resourceType", `meta.resourceType eq "User"`, g, `"meta.resourceType" is not supported in filters; use meta.created or meta.lastModified`},
		{"id sub-attribute", `id.value eq "x"`, u, `attribute "id" has no sub-attributes`},
		{"schemas", `schemas eq "urn:x"`, u, `unknown attribute "schemas" in filter`},
	})
}

func TestCanonicalisation(t *testing.T) {
	u := userSchema()
	runOK(t, []okCase{
		{"UserName", `UserName eq "a"`, u, cmpOp(userName, store.OpEq, "a", false)},
		{"name.FamilyName", `NAME.FamilyName eq "a"`, u, cmpOp(path("name", "familyName", false), store.OpEq, "a", false)},
		{"emails.Value", `emails.Value eq "a"`, u, cmpOp(emailsValue, store.OpEq, "a", false)},
		{"phoneNumbers.TYPE", `PHONENUMBERS.TYPE eq "fax"`, u, cmpOp(path("phoneNumbers", "type", true), store.OpEq, "fax", false)},
		{"enterprise department", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "d"`, u, cmpOp(ext("department", ""), store.OpEq, "d", false)},
		{"enterprise URN and name case", `URN:IETF:params:scim:schemas:extension:ENTERPRISE:2.0:user:DEPARTMENT eq "d"`, u, cmpOp(ext("department", ""), store.OpEq, "d", false)},
		{"enterprise manager.value", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.Value eq "m1"`, u, cmpOp(ext("manager", "value"), store.OpEq, "m1", false)},
		{"enterprise manager without sub", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager eq "m1"`, u, cmpOp(ext("manager", "value"), store.OpEq, "m1", false)},
		{"unprefixed extension attribute", `Department eq "d"`, u, cmpOp(ext("department", ""), store.OpEq, "d", false)},
		{"core URN prefix", `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`, u, cmpOp(userName, store.OpEq, "a", false)},
		{"complex without sub compares value", `emails eq "a@b.c"`, u, cmpOp(emailsValue, store.OpEq, "a@b.c", false)},
	})
	runErr(t, []errCase{
		{"unknown attribute", `nosuch eq "x"`, u, `unknown attribute "nosuch" in filter`},
		{"unknown sub-attribute", `name.nickName eq "x"`, u, `attribute "name" has no sub-attribute "nickName"`},
		{"sub of simple attribute", `userName.first eq "x"`, u, `attribute "userName" has no sub-attributes (in "userName.first")`},
		{"unknown schema", `urn:example:nothing:attr eq "x"`, u, `unknown schema "urn:example:nothing" in filter attribute "urn:example:nothing:attr"`},
		{"unknown extension attribute", `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nosuch eq "x"`, u, `unknown attribute "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:nosuch" in filter`},
		{"extension attribute under core URN", `urn:ietf:params:scim:schemas:core:2.0:User:department eq "x"`, u, `unknown attribute "urn:ietf:params:scim:schemas:core:2.0:User:department" in filter`},
		{"ambiguous unprefixed", `costCenter eq "x"`, u, `attribute "costCenter" is ambiguous: prefix it with its schema URN`},
		{"user attribute on groups", `title pr`, groupSchema(), `unknown attribute "title" in filter`},
		{"complex without value sub", `name eq "x"`, u, `complex attribute "name" needs a sub-attribute for operator "eq"`},
		{"password", `password co "a"`, u, `attribute "password" cannot be used in filters`},
		{"write-only extension", `urn:example:params:scim:schemas:extension:custom:2.0:User:pin pr`, u, `attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:pin" cannot be used in filters`},
	})
}

func TestCaseExact(t *testing.T) {
	u, g := userSchema(), groupSchema()
	cases := []struct {
		filter string
		s      Schema
		want   bool
	}{
		{`userName eq "a"`, u, false},
		{`displayName eq "a"`, u, false},
		{`displayName eq "a"`, g, false},
		{`emails.value eq "a"`, u, false},
		{`emails.type eq "work"`, u, false},
		{`id eq "a"`, u, true},
		{`externalId eq "a"`, g, true},
		{`members.value eq "a"`, g, true},
		{`groups eq "a"`, u, true},
		{`urn:example:params:scim:schemas:extension:custom:2.0:User:badgeCode eq "a"`, u, true},
		{`urn:example:params:scim:schemas:extension:custom:2.0:User:badge eq "QUJD"`, u, true},              // binary
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.$ref eq "https://x"`, u, true}, // reference
		{`profileUrl eq "https://x"`, u, true},
		// Non-string types ignore caseExact.
		{`active eq true`, u, false},
		{`meta.created gt "2024-01-01T00:00:00Z"`, u, false},
		{`urn:example:params:scim:schemas:extension:custom:2.0:User:level gt 1`, u, false},
		{`urn:example:params:scim:schemas:extension:custom:2.0:User:hireDate gt "2024-01-01T00:00:00Z"`, u, false},
	}
	for _, tc := range cases {
		f, err := Parse(tc.filter, tc.s)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.filter, err)
			continue
		}
		c, ok := f.(store.Compare)
		if !ok {
			t.Errorf("Parse(%q) = %T, want store.Compare", tc.filter, f)
			continue
		}
		if c.CaseExact != tc.want {
			t.Errorf("Parse(%q).CaseExact = %v, want %v", tc.filter, c.CaseExact, tc.want)
		}
	}
}

func TestValueTypes(t *testing.T) {
	u := userSchema()
	level, score, vip, hire := custom("level"), custom("score"), custom("vip"), custom("hireDate")
	primary := path("emails", "primary", true)
	runOK(t, []okCase{
		{"string unescaped", `userName eq "a \"b\" \\ c"`, u, cmpOp(userName, store.OpEq, `a "b" \ c`, false)},
		{"unicode escape upper", `userName eq "caf\u00E9"`, u, cmpOp(userName, store.OpEq, "café", false)},
		{"unicode escape lower", `userName eq "caf\u00e9"`, u, cmpOp(userName, store.OpEq, "café", false)},
		{"raw unicode", `userName eq "日本"`, u, cmpOp(userName, store.OpEq, "日本", false)},
		{"empty string", `userName eq ""`, u, cmpOp(userName, store.OpEq, "", false)},
		{"bool true", `active eq true`, u, cmpOp(active, store.OpEq, true, false)},
		{"bool FALSE literal", `active ne FALSE`, u, cmpOp(active, store.OpNe, false, false)},
		{"entra string True", `active eq "True"`, u, cmpOp(active, store.OpEq, true, false)},
		{"entra string False", `active eq "False"`, u, cmpOp(active, store.OpEq, false, false)},
		{"string true", `active eq "true"`, u, cmpOp(active, store.OpEq, true, false)},
		{"string false", `active eq "false"`, u, cmpOp(active, store.OpEq, false, false)},
		{"entra value path primary True", `emails[primary eq "True"]`, u, store.ValuePath{Path: emails, Inner: cmpOp(primary, store.OpEq, true, false)}},
		{"extension boolean", `urn:example:params:scim:schemas:extension:custom:2.0:User:vip eq true`, u, cmpOp(vip, store.OpEq, true, false)},
		{"integer", `urn:example:params:scim:schemas:extension:custom:2.0:User:level ge 5`, u, cmpOp(level, store.OpGe, int64(5), false)},
		{"negative integer", `urn:example:params:scim:schemas:extension:custom:2.0:User:level gt -3`, u, cmpOp(level, store.OpGt, int64(-3), false)},
		{"integer past 2^53 exact", `urn:example:params:scim:schemas:extension:custom:2.0:User:level eq 9007199254740993`, u, cmpOp(level, store.OpEq, int64(9007199254740993), false)},
		{"decimal", `urn:example:params:scim:schemas:extension:custom:2.0:User:score lt 1.5`, u, cmpOp(score, store.OpLt, 1.5, false)},
		{"decimal from integer literal", `urn:example:params:scim:schemas:extension:custom:2.0:User:score eq 2`, u, cmpOp(score, store.OpEq, float64(2), false)},
		{"decimal exponent", `urn:example:params:scim:schemas:extension:custom:2.0:User:score eq 1.5E3`, u, cmpOp(score, store.OpEq, float64(1500), false)},
		{"dateTime extension stays string", `urn:example:params:scim:schemas:extension:custom:2.0:User:hireDate gt "2020-01-01T00:00:00Z"`, u, cmpOp(hire, store.OpGt, "2020-01-01T00:00:00Z", false)},
		{"meta fractional UTC", `meta.created le "2024-01-02T03:04:05.123Z"`, u, cmpOp(metaCreated, store.OpLt, mustTime(t, "2024-01-02T03:04:06Z"), false)},
	})
	long := strings.Repeat("x", 100)
	runErr(t, []errCase{
		{"number for string", `userName eq 5`, u, `attribute "userName" needs a string value, got number`},
		{"bool for string", `userName eq true`, u, `attribute "userName" needs a string value, got boolean true`},
		{"null eq", `userName eq null`, u, "attribute \"userName\": null is only allowed as `userName pr` or `not (userName pr)`"},
		{"null ne", `title ne NULL`, u, "attribute \"title\": null is only allowed as `title pr` or `not (title pr)`"},
		{"string for boolean", `active eq "yes"`, u, `attribute "active" needs a boolean value, got string "yes"`},
		{"number for boolean", `active eq 1`, u, `attribute "active" needs a boolean value, got number`},
		{"string for integer", `urn:example:params:scim:schemas:extension:custom:2.0:User:level eq "5"`, u, `attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:level" needs an integer value, got string "5"`},
		{"fraction for integer", `urn:example:params:scim:schemas:extension:custom:2.0:User:level eq 1.5`, u, `attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:level" needs an integer value, got "1.5"`},
		{"exponent for integer", `urn:example:params:scim:schemas:extension:custom:2.0:User:level eq 1e3`, u, `attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:level" needs an integer value, got "1e3"`},
		{"integer past int64", `urn:example:params:scim:schemas:extension:custom:2.0:User:level eq 100000000000000000000`, u, `attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:level" needs an integer value, got "100000000000000000000"`},
		{"string for decimal", `urn:example:params:scim:schemas:extension:custom:2.0:User:score eq "1.5"`, u, `attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:score" needs a decimal value, got string "1.5"`},
		{"decimal out of range", `urn:example:params:scim:schemas:extension:custom:2.0:User:score eq 1e400`, u, `attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:score" needs a decimal value, got "1e400"`},
		{"meta not a date", `meta.created gt "yesterday"`, u, `attribute "meta.created" needs an RFC 3339 date-time, got "yesterday"`},
		{"meta without zone", `meta.created gt "2024-01-02T03:04:05"`, u, `attribute "meta.created" needs an RFC 3339 date-time, got "2024-01-02T03:04:05"`},
		{"meta number", `meta.lastModified gt 5`, u, `attribute "meta.lastModified" needs an RFC 3339 date-time string, got number`},
		{"extension dateTime garbage", `urn:example:params:scim:schemas:extension:custom:2.0:User:hireDate eq "soon"`, u, `attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:hireDate" needs an RFC 3339 date-time, got "soon"`},
		{"long value clipped", `meta.created gt "` + long + `"`, u, `attribute "meta.created" needs an RFC 3339 date-time, got "` + long[:64] + `…"`},
		{"invalid UTF-8", "userName eq \"\xff\"", u, `attribute "userName": compare value is not valid UTF-8`},
	})
}

func TestOperatorTypeRules(t *testing.T) {
	u := userSchema()
	var cases []errCase
	for _, op := range []string{"gt", "ge", "lt", "le"} {
		cases = append(cases,
			errCase{op + " boolean", "active " + op + " true", u, `operator "` + op + `" is not supported for boolean attribute "active"`},
			errCase{op + " emails.primary", `emails[primary ` + op + ` true]`, u, `operator "` + op + `" is not supported for boolean attribute "emails.primary"`},
			errCase{op + " binary", `urn:example:params:scim:schemas:extension:custom:2.0:User:badge ` + op + ` "QUJD"`, u, `operator "` + op + `" is not supported for binary attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:badge"`},
		)
	}
	for _, op := range []string{"co", "sw", "ew"} {
		cases = append(cases,
			errCase{op + " boolean", "active " + op + " true", u, `operator "` + op + `" is not supported for boolean attribute "active"`},
			errCase{op + " integer", `urn:example:params:scim:schemas:extension:custom:2.0:User:level ` + op + ` 1`, u, `operator "` + op + `" is not supported for integer attribute "urn:example:params:scim:schemas:extension:custom:2.0:User:level"`},
			errCase{op + " meta", `meta.created ` + op + ` "2024"`, u, `operator "` + op + `" is not supported for dateTime attribute "meta.created"`},
		)
	}
	runErr(t, cases)
	runOK(t, []okCase{
		{"ne boolean", `active ne true`, u, cmpOp(active, store.OpNe, true, false)},
		{"binary co", `urn:example:params:scim:schemas:extension:custom:2.0:User:badge co "QU"`, u, cmpOp(custom("badge"), store.OpCo, "QU", true)},
		{"integer lt", `urn:example:params:scim:schemas:extension:custom:2.0:User:level lt 10`, u, cmpOp(custom("level"), store.OpLt, int64(10), false)},
	})
}

func TestLogicAndValuePaths(t *testing.T) {
	u := userSchema()
	a := cmpOp(userName, store.OpEq, "a", false)
	b := cmpOp(title, store.OpPr, nil, false)
	c := cmpOp(active, store.OpEq, true, false)
	work := cmpOp(emailsType, store.OpEq, "work", false)
	home := cmpOp(emailsType, store.OpEq, "home", false)
	runOK(t, []okCase{
		{"and", `userName eq "a" and title pr`, u, store.And{Left: a, Right: b}},
		{"AND or precedence", `userName eq "a" AND title pr or active eq true`, u, store.Or{Left: store.And{Left: a, Right: b}, Right: c}},
		{"or binds looser", `userName eq "a" or title pr and active eq true`, u, store.Or{Left: a, Right: store.And{Left: b, Right: c}}},
		{"grouping", `userName eq "a" and (title pr or active eq true)`, u, store.And{Left: a, Right: store.Or{Left: b, Right: c}}},
		{"chain nests left", `userName eq "a" or title pr or active eq true`, u, store.Or{Left: store.Or{Left: a, Right: b}, Right: c}},
		{"not group", `not (userName eq "a" or title pr)`, u, store.Not{Inner: store.Or{Left: a, Right: b}}},
		{"not without space", `not(title pr)`, u, store.Not{Inner: b}},
		{"redundant parentheses", `((title pr))`, u, b},
		{"value path", `emails[type eq "work"]`, u, store.ValuePath{Path: emails, Inner: work}},
		{"value path and", `emails[type eq "work" and value co "@x.org"]`, u, store.ValuePath{Path: emails, Inner: store.And{Left: work, Right: cmpOp(emailsValue, store.OpCo, "@x.org", false)}}},
		{"value path or", `emails[type eq "work" or type eq "home"]`, u, store.ValuePath{Path: emails, Inner: store.Or{Left: work, Right: home}}},
		{"value path not", `emails[not (type eq "work")]`, u, store.ValuePath{Path: emails, Inner: store.Not{Inner: work}}},
		{"value path case", `EMAILS[TYPE eq "work"]`, u, store.ValuePath{Path: emails, Inner: work}},
		{"value path and attribute", `userName eq "a" and emails[type eq "work"]`, u, store.And{Left: a, Right: store.ValuePath{Path: emails, Inner: work}}},
		{"entra form pr", `emails[type eq "work"].value pr`, u, store.ValuePath{Path: emails, Inner: store.And{Left: work, Right: cmpOp(emailsValue, store.OpPr, nil, false)}}},
		{"entra form inside and", `userName eq "a" and emails[type eq "work"].value eq "a@b.c"`, u, store.And{Left: a, Right: store.ValuePath{Path: emails, Inner: store.And{Left: work, Right: cmpOp(emailsValue, store.OpEq, "a@b.c", false)}}}},
		// The parser reads at most two comparisons between brackets;
		// parseValueFilters parses the brackets' content on its own.
		{"value path three terms", `emails[type eq "work" or type eq "home" or value co "@x"]`, u, store.ValuePath{Path: emails, Inner: store.Or{
			Left: store.Or{Left: work, Right: home}, Right: cmpOp(emailsValue, store.OpCo, "@x", false)}}},
		{"value path group", `emails[type eq "work" and (type eq "home" or value pr)]`, u, store.ValuePath{Path: emails, Inner: store.And{
			Left: work, Right: store.Or{Left: home, Right: cmpOp(emailsValue, store.OpPr, nil, false)}}}},
		{"value path parenthesised", `emails[(type eq "work")]`, u, store.ValuePath{Path: emails, Inner: work}},
		{"two complex value paths", `emails[type eq "work" and not (value pr)] or emails[(type eq "home")]`, u, store.Or{
			Left:  store.ValuePath{Path: emails, Inner: store.And{Left: work, Right: store.Not{Inner: cmpOp(emailsValue, store.OpPr, nil, false)}}},
			Right: store.ValuePath{Path: emails, Inner: home}}},
		{"entra form with two inner comparisons", `emails[type eq "work" and primary eq true].value eq "x"`, u, store.ValuePath{Path: emails, Inner: store.And{
			Left: store.And{Left: work, Right: cmpOp(path("emails", "primary", true), store.OpEq, true, false)}, Right: cmpOp(emailsValue, store.OpEq, "x", false)}}},
		{"entra roles primary", `roles[primary eq "True"].value eq "admin"`, u, store.ValuePath{Path: path("roles", "", true), Inner: store.And{
			Left:  cmpOp(path("roles", "primary", true), store.OpEq, true, false),
			Right: cmpOp(path("roles", "value", true), store.OpEq, "admin", false),
		}}},
	})
	runErr(t, []errCase{
		{"value path on single complex", `name[givenName eq "x"]`, u, `attribute "name" is not a multi-valued complex attribute and takes no [value filter]`},
		{"value path on simple", `userName[value eq "x"]`, u, `attribute "userName" is not a multi-valued complex attribute and takes no [value filter]`},
		{"value path unknown sub", `emails[nosuch eq "x"]`, u, `attribute "emails" has no sub-attribute "nosuch"`},
		{"value path dotted sub", `emails[value.x eq "x"]`, u, `"emails.value.x": a value filter names plain sub-attributes of "emails"`},
		{"value path with sub before bracket", `emails.type[value eq "x"]`, u, `value path "emails.type": a sub-attribute may not precede the [filter]`},
		{"value path unknown attribute", `nosuch[value eq "x"]`, u, `unknown attribute "nosuch" in filter`},
	})
}

func TestSyntaxAndLimits(t *testing.T) {
	u := userSchema()
	orChain := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = "id pr"
		}
		return strings.Join(parts, " or ")
	}
	nest := func(n int, open, close string) string {
		return strings.Repeat(open, n) + "title pr" + strings.Repeat(close, n)
	}
	runErr(t, []errCase{
		{"empty", "", u, "empty filter"},
		{"blank", "   ", u, "empty filter"},
		{"missing value", `userName eq`, u, "invalid filter syntax (RFC 7644 section 3.4.2.2)"},
		{"unknown operator", `userName xx "a"`, u, "invalid filter syntax (RFC 7644 section 3.4.2.2)"},
		{"unterminated string", `userName eq "abc`, u, "filter has an unterminated string"},
		{"unbalanced", `(title pr`, u, "invalid filter syntax (RFC 7644 section 3.4.2.2)"},
		{"too long", `userName eq "` + strings.Repeat("a", MaxFilterBytes) + `"`, u, "filter is longer than 4096 bytes"},
		{"too deep parentheses", nest(MaxDepth+1, "(", ")"), u, "filter nests deeper than 50 levels"},
		{"too deep not", nest(MaxDepth+1, "not (", ")"), u, "filter nests deeper than 50 levels"},
		{"too many comparisons", orChain(MaxComparisons + 1), u, "filter has more than 256 comparisons"},
	})
	runOK(t, []okCase{
		{"leading and trailing space", "  title pr  ", u, cmpOp(title, store.OpPr, nil, false)},
		{"multiple spaces", `userName   eq   "a"`, u, cmpOp(userName, store.OpEq, "a", false)},
		{"deepest parentheses", nest(MaxDepth, "(", ")"), u, cmpOp(title, store.OpPr, nil, false)},
	})
	f, err := Parse(orChain(MaxComparisons), u)
	if err != nil {
		t.Fatalf("chain of %d ors: %v", MaxComparisons, err)
	}
	if n := countCompares(f); n != MaxComparisons {
		t.Errorf("chain of %d ors has %d comparisons", MaxComparisons, n)
	}
	deepNot, err := Parse(nest(MaxDepth-1, "not (", ")"), u)
	if err != nil {
		t.Fatalf("%d nested nots: %v", MaxDepth-1, err)
	}
	if d := notDepth(deepNot); d != MaxDepth-1 {
		t.Errorf("nested nots = %d, want %d", d, MaxDepth-1)
	}
}

func countCompares(f store.Filter) int {
	switch f := f.(type) {
	case store.Compare:
		return 1
	case store.And:
		return countCompares(f.Left) + countCompares(f.Right)
	case store.Or:
		return countCompares(f.Left) + countCompares(f.Right)
	case store.Not:
		return countCompares(f.Inner)
	case store.ValuePath:
		return countCompares(f.Inner)
	}
	return 0
}

func notDepth(f store.Filter) int {
	n := 0
	for {
		nf, ok := f.(store.Not)
		if !ok {
			return n
		}
		n++
		f = nf.Inner
	}
}
