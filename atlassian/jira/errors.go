package jira

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode"

	"github.com/scimbridge/scimbridge/atlassian"
)

// Jira's error envelope (doc §1.1); "message" is what the basic-auth blocker and rate limiter send.
type errorBody struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
	Message       string            `json:"message"`
}

// msgNoValueChanged is what Jira before 8.3 answers a PUT /user whose only change is "active"
// (doc §1.1, §1.5 [V JRASERVER-36639]).
const msgNoValueChanged = "error.no.value.found.to.be.changed"

// quoted matches the names Jira quotes in its messages ('jdoe', 'jira-users'), removed before
// keyword matching so that a user called "not a member" cannot change an error's kind.
var quoted = regexp.MustCompile(`'[^']*'`)

var htmlTag = regexp.MustCompile(`<[^>]*>`)

// decodeError reads Jira's {"errorMessages":[…],"errors":{…}} body and classifies it. Status
// decides the kind first; a 404 is NotFound only in that envelope (see notFound); 400/403 bodies
// are refined by the documented i18n keys and — where the doc only has [U] English text — by
// keywords. Operations refine further (see users.go, groups.go).
func decodeError(status int, h http.Header, body []byte) *atlassian.Error {
	e := &atlassian.Error{Kind: atlassian.KindForStatus(status)}
	var b errorBody
	enveloped := false
	if err := json.Unmarshal(body, &b); err == nil {
		enveloped = hasEnvelope(body)
		e.Messages = nonEmpty(b.ErrorMessages)
		if b.Message != "" {
			e.Messages = append(e.Messages, b.Message)
		}
		if len(b.Errors) > 0 {
			e.Fields = b.Errors
		}
	} else if s := snippet(body); s != "" {
		e.Messages = []string{s}
	}
	for _, m := range e.Messages {
		if isI18nKey(m) {
			e.Code = m
			break
		}
	}
	if status == http.StatusNotFound {
		return notFound(e, enveloped)
	}
	if status == http.StatusUnauthorized {
		// The 401 of failed basic auth carries the reason in a header (doc §1.1).
		if r := h.Get("X-Seraph-LoginReason"); r != "" {
			e.Code = r
		}
		return e
	}
	if status != http.StatusBadRequest && status != http.StatusForbidden {
		return e
	}
	if k, ok := classifyText(e); ok {
		e.Kind = k
	}
	return e
}

// hasEnvelope reports whether a JSON body is Jira's error envelope: an object with errorMessages
// or errors (doc §1.1).
func hasEnvelope(body []byte) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	_, msgs := m["errorMessages"]
	_, fields := m["errors"]
	return msgs || fields
}

// jerseyNotFound starts the message of the 404 Jira's REST layer (Jersey) gives a path that no
// resource serves: {"message":"null for uri: https://host/rest/api/2/nosuch?x=y","status-code":404}
// [not in the doc; public captures of Jira Server: solidify/jira-azuredevops-migrator#13,
// qoomon/Jira-Issue-Card-Printer#48]. The emulator sends the same text in the envelope.
const jerseyNotFound = "null for uri:"

// msgNotJiraAPI explains a 404 that says nothing about the user or group asked for.
const msgNotJiraAPI = "HTTP 404 without Jira's JSON error body: the URL does not look like Jira's REST API v2 " +
	"(check BaseURL and its context path, e.g. https://host/jira, or a proxy in front of Jira)"

// msgNoSuchResource explains Jersey's 404 for an unknown REST path.
const msgNoSuchResource = "Jira's REST layer has no resource at this path: this Jira version lacks the endpoint, " +
	"or BaseURL leads to another application's REST API"

// notFound classifies a 404. Jira names what is missing in its envelope ("The user named 'x' does
// not exist", doc §1.4, §1.8); only that is NotFound. A 404 without the envelope (an HTML page from
// Tomcat or a proxy under a wrong BaseURL or context path, an empty body) or with Jersey's
// "null for uri" (no such REST path) says nothing about the user or group: read as NotFound it would
// tell the engine that every user is missing (so it creates them again) and every group is gone,
// and the health probe would call the target healthy. It is Unsupported, as in the crowd client:
// this server cannot answer the call at all, which is also what ListUsers needs to fall back from
// /user/list on Jira before 10.3.
func notFound(e *atlassian.Error, enveloped bool) *atlassian.Error {
	jersey := -1
	for i, m := range e.Messages {
		if strings.HasPrefix(m, jerseyNotFound) {
			jersey = i
		}
	}
	if enveloped && jersey < 0 {
		e.Kind = atlassian.NotFound
		return e
	}
	e.Kind = atlassian.Unsupported
	e.Code = ""
	if jersey >= 0 {
		// The URI Jersey quotes carries the query (usernames); the path is enough.
		e.Messages[jersey] = jerseyNotFound + " " + withoutQuery(strings.TrimSpace(strings.TrimPrefix(e.Messages[jersey], jerseyNotFound)))
		e.Messages = append([]string{msgNoSuchResource}, e.Messages...)
	} else {
		e.Messages = append([]string{msgNotJiraAPI}, e.Messages...)
	}
	return e
}

// withoutQuery drops the query, fragment and user info of a URL quoted in a message.
func withoutQuery(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.IndexAny(raw, "?#"); i >= 0 {
			return raw[:i]
		}
		return raw
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// classifyText maps the content of a 400/403 to a kind.
func classifyText(e *atlassian.Error) (atlassian.ErrorKind, bool) {
	text := strings.ToLower(quoted.ReplaceAllString(e.Text(), "''"))
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(text, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has(msgNoValueChanged):
		return atlassian.Unsupported, true
	// Keys admin.errors.cannot.add.user.all.directories.read.only, …cannot.edit.user.directory.read.only,
	// …users.cannot.delete.user.read.only [V JDUS]; the English forms are [U].
	case has("read.only", "read only", "read-only", "does not allow updates"):
		return atlassian.ReadOnlyDirectory, true
	// Guess (§1.9 [U]): Jira's REST answer on seat exhaustion is undocumented; the KB text is
	// "You have exceeded the number of users allowed to use JIRA applications under your license".
	case has("exceeded the number of users", "licence exceeded", "license exceeded", "licenceexceeded",
		"maximum number of users", "user limit"):
		return atlassian.LicenseLimit, true
	// Guess (§1.8, §9 [U text]).
	case has("already a member"):
		return atlassian.AlreadyMember, true
	case has("not a member"):
		return atlassian.NotMember, true
	// "A user with that username already exists." [V PYC]; groups: "A group or user with this name
	// already exists." [U].
	case e.Fields["username"] != "" && strings.Contains(strings.ToLower(e.Fields["username"]), "already exists"),
		has("already exists"):
		return atlassian.AlreadyExists, true
	// Delete vetoes: keys admin.errors.users.cannot.delete.due.to.* [V JDUS], English [U].
	case has("cannot.delete", "cannot delete user"):
		return atlassian.DeleteRefused, true
	// Guess (§1.8 [U]): POST /group/user answers 400 for a missing user.
	case has("does not exist"):
		return atlassian.NotFound, true
	}
	return 0, false
}

// isI18nKey reports whether a message is an untranslated key such as error.no.value.found.to.be.changed.
func isI18nKey(s string) bool {
	if !strings.Contains(s, ".") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for _, r := range s {
		if !(unicode.IsLower(r) || unicode.IsDigit(r) || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

func nonEmpty(in []string) []string {
	var out []string
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// snippet keeps the start of a non-JSON body (an HTML error page, a proxy's text) readable in
// an error message.
func snippet(body []byte) string {
	s := strings.Join(strings.Fields(htmlTag.ReplaceAllString(string(body), " ")), " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}
