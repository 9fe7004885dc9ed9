package jira

import (
	"encoding/json"
	"net/http"
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
// decides the kind first; 400/403 bodies are refined by the documented i18n keys and — where the
// doc only has [U] English text — by keywords. Operations refine further (see users.go, groups.go).
func decodeError(status int, h http.Header, body []byte) *atlassian.Error {
	e := &atlassian.Error{Kind: atlassian.KindForStatus(status)}
	var b errorBody
	if err := json.Unmarshal(body, &b); err == nil {
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
