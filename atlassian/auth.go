package atlassian

import (
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"strings"
)

// Auth holds the credentials of a Transport: a Jira/Confluence personal access token sent as
// Bearer (Jira 8.14+, doc §1.10), or HTTP Basic user/password (a Jira account, or a Crowd
// application name and password, doc §3.1). Its printed and logged forms never show the secret.
type Auth struct {
	scheme string // "bearer" or "basic"
	user   string
	// secret is behind a pointer so that a struct holding an Auth in an unexported field (the
	// Transport) prints an address, not the secret, when logged with %v or slog: fmt cannot call
	// String on unexported fields.
	secret *string
}

// BearerToken returns Auth that sends "Authorization: Bearer <token>".
func BearerToken(token string) Auth { return Auth{scheme: "bearer", secret: &token} }

// BasicAuth returns Auth that sends HTTP Basic credentials.
func BasicAuth(user, password string) Auth {
	return Auth{scheme: "basic", user: user, secret: &password}
}

func (a Auth) secretValue() string {
	if a.secret == nil {
		return ""
	}
	return *a.secret
}

// IsZero reports whether no credentials are set.
func (a Auth) IsZero() bool { return a.scheme == "" }

// String names the scheme and, for Basic, the user; the secret is always redacted.
func (a Auth) String() string {
	switch a.scheme {
	case "bearer":
		return "Bearer [REDACTED]"
	case "basic":
		return "Basic " + a.user + ":[REDACTED]"
	}
	return "none"
}

// GoString redacts the secret for %#v.
func (a Auth) GoString() string { return a.String() }

// LogValue redacts the secret when Auth is logged with slog.
func (a Auth) LogValue() slog.Value { return slog.StringValue(a.String()) }

func (a Auth) validate() error {
	switch a.scheme {
	case "":
		return errors.New("no credentials: set Auth to BearerToken or BasicAuth")
	case "bearer":
		if a.secretValue() == "" {
			return errors.New("bearer token is empty")
		}
	case "basic":
		if a.user == "" {
			return errors.New("basic auth user is empty")
		}
		if strings.Contains(a.user, ":") {
			return errors.New("basic auth user must not contain ':'")
		}
	}
	// The message never quotes the value: it is a secret.
	if strings.ContainsAny(a.user+a.secretValue(), "\r\n\x00") {
		return errors.New("credentials contain control characters")
	}
	return nil
}

// redactedSecret replaces a credential found in server-provided text.
const redactedSecret = "[REDACTED]"

// redact removes the credentials from text a server sent back: the token or password itself, and
// the base64 form Basic auth puts on the wire, which a proxy's error page may quote.
func (a Auth) redact(s string) string {
	secret := a.secretValue()
	if secret == "" || s == "" {
		return s
	}
	s = strings.ReplaceAll(s, secret, redactedSecret)
	if a.scheme == "basic" {
		s = strings.ReplaceAll(s, base64.StdEncoding.EncodeToString([]byte(a.user+":"+secret)), redactedSecret)
	}
	return s
}

func (a Auth) apply(r *http.Request) {
	switch a.scheme {
	case "bearer":
		r.Header.Set("Authorization", "Bearer "+a.secretValue())
	case "basic":
		r.SetBasicAuth(a.user, a.secretValue())
	}
}
