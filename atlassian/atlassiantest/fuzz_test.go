package atlassiantest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzCQL: the CQL parser never panics, and whatever it accepts evaluates without panicking.
func FuzzCQL(f *testing.F) {
	for _, s := range []string{"", `name = "al*"`, "email = bob@example.net", "(name = a or name = b) and active = true",
		"name", "name =", "((((", `name = "unterminated`, `name = "esc\"aped"`, "name = *", "NAME = x AND Email = *y*"} {
		f.Add(s)
	}
	u := &user{name: "Alice", lower: "alice", email: "a@example.com", displayName: "Alice A", active: true}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseCQL(s, userProps)
		if err != nil {
			return
		}
		p.eval(userProp(u))
	})
}

// FuzzQuery: the allocation-free query lookup agrees with net/url on well-formed queries.
func FuzzQuery(f *testing.F) {
	f.Add("username=jdoe&expand=groups", "username")
	f.Add("a=1&a=2", "a")
	f.Add("q=%41%2b+x", "q")
	f.Add("k%3D=v", "k=")
	f.Fuzz(func(t *testing.T, raw, key string) {
		got, ok := query(raw, key)
		vals, err := url.ParseQuery(raw)
		if err != nil || key == "" || strings.ContainsAny(raw, ";") {
			return
		}
		if want, has := vals[key]; has != ok || (has && want[0] != got) {
			t.Fatalf("query(%q, %q) = %q, %v; net/url says %v", raw, key, got, ok, vals[key])
		}
	})
}

var fuzzMethods = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}

var fuzzPaths = []string{
	"/rest/api/2/user", "/rest/api/2/user/search", "/rest/api/2/user/list", "/rest/api/2/user/password",
	"/rest/api/2/user/application", "/rest/api/2/group", "/rest/api/2/group/member", "/rest/api/2/group/user",
	"/rest/api/2/groups/picker", "/rest/usermanagement/1/user", "/rest/usermanagement/1/user/rename",
	"/rest/usermanagement/1/user/group/direct", "/rest/usermanagement/1/group", "/rest/usermanagement/1/group/user/direct",
	"/rest/usermanagement/1/search", "/rest/usermanagement/1/user/password", "/rest/usermanagement/1/group/membership",
	"/_emulator/faults", "/_emulator/users", "/_emulator/login", "/_emulator/content",
}

// FuzzAPI drives every route with arbitrary queries and bodies: no panic, no 5xx, and the
// directory's indexes stay consistent.
func FuzzAPI(f *testing.F) {
	f.Add(uint8(1), uint8(0), "", `{"name":"a","emailAddress":"a@x.io","displayName":"A","applicationKeys":["jira-software"]}`)
	f.Add(uint8(2), uint8(0), "username=seed", `{"name":"renamed","active":"false"}`)
	f.Add(uint8(1), uint8(7), "groupname=g", `{"name":"seed"}`)
	f.Add(uint8(0), uint8(6), "groupname=g&startAt=1&maxResults=1&includeInactiveUsers=true", "")
	f.Add(uint8(1), uint8(9), "", `{"name":"c","password":{"value":"p"},"active":"true","first-name":"C"}`)
	f.Add(uint8(2), uint8(9), "username=seed", `{"name":"SEED","active":false}`)
	f.Add(uint8(1), uint8(14), "entity-type=user&expand=user", `{"restriction-type":"boolean-search-restriction","boolean-logic":"or","restrictions":[{"restriction-type":"property-search-restriction","property":{"name":"name","type":"STRING"},"match-mode":"CONTAINS","value":"e"}]}`)
	f.Add(uint8(0), uint8(14), "entity-type=group&restriction=name%20%3D%20g*", "")
	f.Add(uint8(1), uint8(17), "", `{"error_rate":0,"latency_ms":0}`)
	f.Add(uint8(3), uint8(0), "key=JIRAUSER10100", "")
	f.Fuzz(func(t *testing.T, m, p uint8, rawQuery, body string) {
		e := New(Options{LicenseSeats: 3, JiraVersion: "10.3.0"})
		if err := e.AddUser(SeedUser{Name: "seed", Groups: []string{"g", "jira-software-users"}}); err != nil {
			t.Fatal(err)
		}
		method := fuzzMethods[int(m)%len(fuzzMethods)]
		path := fuzzPaths[int(p)%len(fuzzPaths)]
		req := httptest.NewRequest(method, path, bytes.NewReader([]byte(body)))
		req.URL.RawQuery = rawQuery // unparsed, as a hostile client could send it
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s?%s: %d %s", method, path, rawQuery, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusOK && rec.Header().Get("Content-Type") == "" && rec.Body.Len() > 0 {
			t.Fatalf("200 with a body but no Content-Type")
		}
		checkInvariants(t, e)
		if e.dir.seatsUsed > 3 {
			t.Fatalf("seats %d over the limit of 3", e.dir.seatsUsed)
		}
	})
}

// FuzzJSONWriter: the reflection-free writer escapes strings exactly as encoding/json does, and
// every user shape it writes is valid JSON that round-trips the user's fields.
func FuzzJSONWriter(f *testing.F) {
	for _, s := range []string{"plain", `q"uote\back`, "ctl\x00\x1f\t\n\r\b\f", "bad\xffutf8", "sep\u2028\u2029", "üñï©ødé", "<&>"} {
		f.Add(s, s+"@example.com", "Dïsplay "+s)
	}
	f.Fuzz(func(t *testing.T, name, email, display string) {
		var j jsonBuf
		j.str(name)
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false) // the emulator, like Jira, does not HTML-escape JSON
		if err := enc.Encode(name); err != nil {
			t.Fatal(err)
		}
		if string(j.b)+"\n" != want.String() {
			t.Fatalf("esc(%q) = %s, encoding/json %s", name, j.b, want.String())
		}
		u := &user{key: "JIRAUSER1", name: name, email: email, displayName: display, firstName: display, active: true,
			lastLogin: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
		c := &call{origin: "http://h\"ost", root: "/rest/usermanagement/1"}
		for _, render := range []func(*jsonBuf){
			func(j *jsonBuf) { j.jiraUser(c.origin, u, true, true) },
			func(j *jsonBuf) { j.jiraUserLite(c.origin, u) },
			func(j *jsonBuf) { j.crowdUser(c, u, true) },
		} {
			var out jsonBuf
			render(&out)
			var m map[string]any
			if err := json.Unmarshal(out.b, &m); err != nil {
				t.Fatalf("invalid JSON %v: %s", err, out.b)
			}
			// Invalid UTF-8 comes back as U+FFFD, exactly as encoding/json would send it.
			var wantName string
			if err := json.Unmarshal(want.Bytes(), &wantName); err != nil {
				t.Fatal(err)
			}
			if m["name"] != wantName {
				t.Fatalf("name %q came back as %q", name, m["name"])
			}
		}
	})
}
