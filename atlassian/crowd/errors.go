package crowd

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"unicode"

	"github.com/scimbridge/scimbridge/atlassian"
)

// errorBody is Crowd's error entity (doc §3.2).
type errorBody struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// reasonKind maps Crowd's reason codes (doc §3.2 [V RCC]) to kinds. "Clients dispatch on reason,
// not status."
func reasonKind(reason string) (atlassian.ErrorKind, bool) {
	switch reason {
	case "USER_NOT_FOUND", "GROUP_NOT_FOUND":
		return atlassian.NotFound, true
	case "MEMBERSHIP_NOT_FOUND":
		return atlassian.NotMember, true
	case "MEMBERSHIP_ALREADY_EXISTS":
		return atlassian.AlreadyMember, true
	case "INVALID_USER", "INVALID_GROUP", "INVALID_CREDENTIAL", "INVALID_EMAIL", "ILLEGAL_ARGUMENT":
		return atlassian.Invalid, true
	case "APPLICATION_PERMISSION_DENIED", "APPLICATION_ACCESS_DENIED", "INACTIVE_ACCOUNT":
		return atlassian.Forbidden, true
	case "INVALID_USER_AUTHENTICATION", "EXPIRED_CREDENTIAL":
		return atlassian.Unauthorized, true
	case "UNSUPPORTED_OPERATION":
		// Guess (§3.2 [U]): UNSUPPORTED_OPERATION is listed without a source.
		return atlassian.Unsupported, true
	}
	return 0, false
}

// names Crowd puts in <angle brackets> and Jira in 'quotes' are removed before keyword matching.
var quotedNames = regexp.MustCompile(`<[^>]*>|'[^']*'`)

// decodeError reads {"reason","message"} and classifies it by reason, then — for the reasons that
// cover several conditions (INVALID_*, OPERATION_FAILED, APPLICATION_PERMISSION_DENIED) — by the
// message. Non-JSON bodies (401 text) fall back to the status.
func decodeError(status int, _ http.Header, body []byte) *atlassian.Error {
	e := &atlassian.Error{Kind: statusKind(status)}
	var b errorBody
	if err := json.Unmarshal(body, &b); err != nil || (b.Reason == "" && b.Message == "") {
		if s := snippet(body); s != "" {
			e.Messages = []string{s}
		}
		return e
	}
	e.Code = b.Reason
	if b.Message != "" {
		e.Messages = []string{b.Message}
	}
	if k, ok := reasonKind(b.Reason); ok {
		e.Kind = k
	}
	text := strings.ToLower(quotedNames.ReplaceAllString(b.Message, "<>"))
	switch {
	case status >= 500 || status == http.StatusTooManyRequests || status == http.StatusUnauthorized:
		// The status says it all (injected or proxy failures carry OPERATION_FAILED too).
	case strings.Contains(text, "read-only") || strings.Contains(text, "read only") || strings.Contains(text, "does not allow updates"):
		// "Cannot update group '<g>' because directory '<d>' does not allow updates." /
		// "ReadOnlyGroupException … is read-only" (doc §7.4 [V KB]).
		e.Kind = atlassian.ReadOnlyDirectory
	case strings.Contains(text, "exceeded the number of users") || strings.Contains(text, "licen") && strings.Contains(text, "exceed"):
		// Guess (§1.9 [U]): a licence refusal through the Crowd API carries Jira's licence text.
		e.Kind = atlassian.LicenseLimit
	case strings.Contains(text, "already exists") && (b.Reason == "INVALID_USER" || b.Reason == "INVALID_GROUP"):
		// 400 INVALID_USER / INVALID_GROUP covers "exists" and "invalid" (doc §3.4); the
		// operations confirm "exists" with a lookup rather than trusting this text alone.
		e.Kind = atlassian.AlreadyExists
	}
	return e
}

// statusKind is the kind of an answer whose body names no known reason. Two statuses mean
// something narrower on Crowd than KindForStatus says:
//   - 404: Crowd names what is missing (USER_NOT_FOUND, GROUP_NOT_FOUND, MEMBERSHIP_NOT_FOUND,
//     doc §3.2, "clients dispatch on reason, not status"). A 404 without such a reason comes from
//     a server that does not serve the resource: a Crowd that predates it (RCC treats the rename
//     404 so, §3.4), a Jira not set up as a Crowd user server, or a wrong BaseURL. Read as NotFound
//     it would say "no such user" about every user, and the engine would create them again.
//   - 409: Crowd answers 409 only for an existing membership (§3.4 [V GOCROWD], §7.7).
func statusKind(status int) atlassian.ErrorKind {
	switch status {
	case http.StatusNotFound:
		return atlassian.Unsupported
	case http.StatusConflict:
		return atlassian.AlreadyMember
	}
	return atlassian.KindForStatus(status)
}

var htmlTag = regexp.MustCompile(`<[^>]*>`)

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
