// Package crowd is a client for the Crowd usermanagement REST API v1
// (/rest/usermanagement/1, shared/docs/atlassian-api.md §3). Jira configured as a Crowd user
// server speaks the same API (§1.10), so this client can also target Jira.
//
// Authentication is HTTP Basic with the Crowd *application* name and password (§3.1); the calling
// host must be in the application's remote addresses.
//
// Retry choices per operation (the transport retries GET/PUT/DELETE on 502/503/504 and connection
// errors, every request on 429):
//   - CreateUser, CreateGroup and RenameUser (POST) are not retried on 502/503/504 or on a
//     connection lost once the request was sent: whether the server acted is unknown, and a blind
//     repeat after a lost success would fail ("exists" / "not found"). They return a Transient
//     error; the caller's next attempt sees AlreadyExists (create) or NotFound for the old name
//     (rename) and can adopt the result. A failed dial (nothing sent) and 429 (refused before it
//     ran) are retried.
//   - AddMember (POST /user/group/direct) is retried: 409 MEMBERSHIP_ALREADY_EXISTS is success.
//   - UpdateUser/SetActive read the user and PUT the full entity; both steps are idempotent.
package crowd

import (
	"errors"
	"fmt"
	"maps"

	"github.com/scimbridge/scimbridge/atlassian"
)

const apiRoot = "/rest/usermanagement/1"

// DefaultApplicationGroups maps Jira application keys to the groups that grant them, used when
// Options.ApplicationGroups is nil. Guess (§1.3, §7.6, §7.11 [U]): Crowd has no application keys;
// a Jira that uses this directory grants access through these default groups.
func DefaultApplicationGroups() map[string]string {
	return map[string]string{
		"jira-software":    "jira-software-users",
		"jira-core":        "jira-core-users",
		"jira-servicedesk": "jira-servicedesk-users",
	}
}

// Options configures New.
type Options struct {
	// TransportOptions are the connection settings: BaseURL (Crowd's base including its context
	// path, e.g. "https://crowd.example.com/crowd", or a Jira base URL when Jira is the user
	// server), Auth = atlassian.BasicAuth(applicationName, applicationPassword), rate limit,
	// retries, timeouts, logger. DecodeError is set by New.
	atlassian.TransportOptions
	// PageSize is the max-results of every paged call; 0 means 1000.
	PageSize int
	// ApplicationGroups maps NewUser.ApplicationKeys to groups; nil means DefaultApplicationGroups.
	ApplicationGroups map[string]string
}

// Client talks to one Crowd server (or Jira user server). It is safe for concurrent use.
type Client struct {
	t         *atlassian.Transport
	pageSize  int
	appGroups map[string]string
}

// New returns a Client for the server described by opts.
func New(opts Options) (*Client, error) {
	if opts.PageSize < 0 {
		return nil, errors.New("crowd: PageSize must not be negative")
	}
	to := opts.TransportOptions
	to.DecodeError = decodeError
	t, err := atlassian.NewTransport(to)
	if err != nil {
		return nil, fmt.Errorf("crowd: %w", err)
	}
	c := &Client{t: t, pageSize: 1000, appGroups: DefaultApplicationGroups()}
	if opts.PageSize > 0 {
		c.pageSize = opts.PageSize
	}
	if opts.ApplicationGroups != nil {
		c.appGroups = maps.Clone(opts.ApplicationGroups)
	}
	return c, nil
}
