package atlassiantest

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// authJira checks the Jira face's credentials (atlassian-api.md 1.10) and answers 401/403 itself
// when they fail. With neither Token nor User configured every caller is accepted.
func (e *Emulator) authJira(c *call) bool {
	o := e.opts
	if o.Token == "" && o.User == "" {
		c.principal = "admin"
		return true
	}
	authz := c.r.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(authz, " ")
	switch {
	case strings.EqualFold(scheme, "Bearer") && cred != "":
		// PATs exist since Jira 8.14; an older Jira does not know the scheme and treats the
		// request as anonymous.
		if o.Token != "" && e.version.pat() && secretEqual(cred, o.Token) {
			c.principal = e.principalHdr[0]
			c.w.Header()["X-Ausername"] = e.principalHdr
			return true
		}
		// Guess (1.1, 1.10): a rejected token is reported like failed basic auth; before 8.14
		// the header means nothing to Jira, so the caller is simply anonymous.
		jiraUnauthenticated(c.w, e.version.pat())
		return false
	case strings.EqualFold(scheme, "Basic") && cred != "":
		user, pass, ok := decodeBasic(cred)
		if ok && o.User != "" &&
			secretEqual(strings.ToLower(user), strings.ToLower(o.User)) && secretEqual(pass, o.Password) {
			if e.version.basicAuthOff() {
				// Jira 11 disables basic auth by default (atlassian-api.md 1.10); blocked requests
				// get 403 with this body.
				body := `{"message":"Basic Authentication has been disabled on this instance."}` + "\n"
				writeRaw(c.w, http.StatusForbidden, "application/json;charset=UTF-8", body)
				return false
			}
			c.principal = o.User
			h := c.w.Header()
			h["X-Ausername"] = e.basicHdr
			h["X-Seraph-Loginreason"] = e.seraphOK
			return true
		}
		// Failed basic auth: 401, X-Seraph-LoginReason: AUTHENTICATED_FAILED and Jira's HTML error
		// page naming the reason (atlassian-api.md 1.1).
		c.w.Header()["X-Seraph-Loginreason"] = []string{"AUTHENTICATED_FAILED"}
		// Guess (1.1 documents no WWW-Authenticate): Jira's OAuth filter challenges with the
		// URL-encoded base URL as realm, as curl transcripts of DC show.
		c.w.Header()["Www-Authenticate"] = []string{`OAuth realm="` + url.QueryEscape(c.origin) + `"`}
		writeRaw(c.w, http.StatusUnauthorized, "text/html;charset=UTF-8", jiraBasicFailurePage)
		return false
	default:
		jiraUnauthenticated(c.w, authz != "")
		return false
	}
}

// jiraBasicFailurePage is the body Jira's servlet filter sends for failed basic authentication.
// Guess (1.1): only the "Basic Authentication Failure - Reason : AUTHENTICATED_FAILED" line is
// documented; the surrounding markup is ours.
const jiraBasicFailurePage = "<html><head><title>Unauthorized (401)</title></head><body>" +
	"<h1>Unauthorized (401)</h1><p>Encountered a &quot;401 - Unauthorized&quot; error while loading this page.</p>" +
	"<p>Basic Authentication Failure - Reason : AUTHENTICATED_FAILED</p></body></html>\n"

// jiraUnauthenticated answers a request without usable credentials.
// Guess (1.1): anonymous REST calls get the standard envelope with this text; failed credentials
// also carry X-Seraph-LoginReason: AUTHENTICATED_FAILED.
func jiraUnauthenticated(w http.ResponseWriter, failed bool) {
	if failed {
		w.Header()["X-Seraph-Loginreason"] = []string{"AUTHENTICATED_FAILED"}
	}
	body := `{"errorMessages":["You are not authenticated. Authentication required to perform this operation."],"errors":{}}` + "\n"
	writeRaw(w, http.StatusUnauthorized, "application/json;charset=UTF-8", body)
}

// patOwner is the user a PAT belongs to. Guess (1.10): the PAT inherits its creator's permissions;
// the emulator's creator is the configured basic-auth user, else "admin".
func patOwner(o Options) string {
	if o.User != "" {
		return o.User
	}
	return "admin"
}

// authCrowd checks the Crowd application credentials (atlassian-api.md 3.1).
func (e *Emulator) authCrowd(c *call) bool {
	o := e.opts
	if o.User == "" {
		c.principal = "application"
		return true
	}
	scheme, cred, _ := strings.Cut(c.r.Header.Get("Authorization"), " ")
	if strings.EqualFold(scheme, "Basic") {
		if app, pass, ok := decodeBasic(cred); ok && secretEqual(app, o.User) && secretEqual(pass, o.Password) {
			c.principal = app
			return true
		}
	}
	// Guess (3.1 [U]): Crowd's 401 for a failed application login is plain text with a Basic
	// challenge, not a reason/message body.
	c.w.Header()["Www-Authenticate"] = []string{`BASIC realm="Crowd REST Service"`}
	writeRaw(c.w, http.StatusUnauthorized, "text/plain;charset=UTF-8", "Application failed to authenticate\n")
	return false
}

func decodeBasic(cred string) (user, pass string, ok bool) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}

// secretEqual compares in constant time (for equal lengths).
func secretEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func writeRaw(w http.ResponseWriter, status int, contentType, body string) {
	h := w.Header()
	h["Content-Type"] = []string{contentType}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
