package atlassian

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// ErrorKind classifies an Error so that callers branch on it, never on message text.
// A kind is itself an error value: errors.Is(err, atlassian.NotFound) reports whether err
// (or anything it wraps) is an *Error of that kind.
type ErrorKind int

// The kinds of Error. Other is the zero value.
const (
	// Other is any failure that fits no other kind.
	Other ErrorKind = iota
	// NotFound: the user, group or membership target does not exist.
	NotFound
	// AlreadyExists: a user or group with that name exists (case-insensitively).
	AlreadyExists
	// AlreadyMember: the user is already a direct member of the group.
	AlreadyMember
	// NotMember: the user is not a member of the group.
	NotMember
	// Forbidden: authenticated, but the account or application may not do this (HTTP 403).
	Forbidden
	// Unauthorized: the credentials were rejected (HTTP 401).
	Unauthorized
	// LicenseLimit: granting application access would exceed the licensed seats.
	LicenseLimit
	// DeleteRefused: the product vetoed deleting the user (issues, comments, project lead…);
	// deactivate instead.
	DeleteRefused
	// ReadOnlyDirectory: the user's or group's directory does not allow the change.
	ReadOnlyDirectory
	// RateLimited: the server answered 429; Error.RetryAfter holds the wait it asked for.
	RateLimited
	// Unsupported: the server's version cannot do this (e.g. Jira < 8.3 cannot change "active").
	Unsupported
	// Transient: a 5xx answer, a timeout or a connection failure; trying later may succeed.
	Transient
	// Invalid: the server rejected the request's content (HTTP 400 validation).
	Invalid
)

var kindNames = [...]string{
	Other:             "other",
	NotFound:          "not found",
	AlreadyExists:     "already exists",
	AlreadyMember:     "already a member",
	NotMember:         "not a member",
	Forbidden:         "forbidden",
	Unauthorized:      "unauthorized",
	LicenseLimit:      "licence limit reached",
	DeleteRefused:     "delete refused",
	ReadOnlyDirectory: "read-only directory",
	RateLimited:       "rate limited",
	Unsupported:       "unsupported by this server version",
	Transient:         "transient failure",
	Invalid:           "invalid request",
}

// String returns a short lower-case name of the kind.
func (k ErrorKind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Error makes a kind usable as an errors.Is target.
func (k ErrorKind) Error() string { return "atlassian: " + k.String() }

// KindForStatus is the kind an HTTP error status maps to when the body says nothing more.
func KindForStatus(status int) ErrorKind {
	switch {
	case status == http.StatusBadRequest:
		return Invalid
	case status == http.StatusUnauthorized:
		return Unauthorized
	case status == http.StatusPaymentRequired:
		// Confluence DC answers 402 when no licence is left (doc §2.2).
		return LicenseLimit
	case status == http.StatusForbidden:
		return Forbidden
	case status == http.StatusNotFound:
		return NotFound
	case status == http.StatusConflict:
		return AlreadyExists
	case status == http.StatusTooManyRequests:
		return RateLimited
	case status >= 500:
		return Transient
	default:
		return Other
	}
}

// Error is the error every client in this module tree returns for a failed call. It never holds
// a credential: Op is method and path only, Messages come from the server's error body.
type Error struct {
	Kind ErrorKind
	// Op is the HTTP method and path, e.g. "GET /rest/api/2/user" (no host, no query).
	Op string
	// Status is the HTTP status, 0 when no answer arrived.
	Status int
	// Code is the product's machine-readable reason when it sends one: Crowd's "reason"
	// (USER_NOT_FOUND…) or a Jira i18n key used as a message (error.no.value.found.to.be.changed).
	Code string
	// Messages are the server's global messages (Jira "errorMessages", Crowd "message").
	Messages []string
	// Fields are Jira's per-field messages ("errors": {"username": "…"}).
	Fields map[string]string
	// RetryAfter is the wait the server asked for (Retry-After, X-RateLimit-*), if any.
	RetryAfter time.Duration
	// RequestID is the X-Request-Id the transport sent, to find the call in logs.
	RequestID string
	// Err is the underlying cause for failures without an HTTP answer.
	Err error
}

// Error describes the failure in one line.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("atlassian: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	var detail []string
	if e.Status != 0 {
		detail = append(detail, fmt.Sprintf("HTTP %d", e.Status))
	}
	if e.Code != "" {
		detail = append(detail, e.Code)
	}
	if e.RetryAfter > 0 {
		detail = append(detail, "retry after "+e.RetryAfter.String())
	}
	if len(detail) > 0 {
		b.WriteString(" (" + strings.Join(detail, ", ") + ")")
	}
	msgs := append([]string(nil), e.Messages...)
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		msgs = append(msgs, k+": "+e.Fields[k])
	}
	if len(msgs) > 0 {
		b.WriteString(": ")
		b.WriteString(strings.Join(msgs, "; "))
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the ErrorKind of e, so errors.Is(err, atlassian.NotFound) works.
func (e *Error) Is(target error) bool {
	k, ok := target.(ErrorKind)
	return ok && k == e.Kind
}

// Text returns all server messages joined, for matching product-specific wording.
func (e *Error) Text() string {
	parts := append([]string{e.Code}, e.Messages...)
	for _, v := range e.Fields {
		parts = append(parts, v)
	}
	return strings.Join(parts, "\n")
}

// KindOf returns the kind of the first *Error in err's chain, or Other when there is none.
func KindOf(err error) ErrorKind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return Other
}
