// Package jira is a client for the user-management part of the Jira Data Center / Server REST
// API v2 (shared/docs/atlassian-api.md §1): users, groups and memberships.
//
// Retry choices per operation (the transport retries GET/PUT/DELETE on 502/503/504 and connection
// errors, every request on 429):
//   - CreateUser and CreateGroup (POST) are not retried on 5xx: a lost 201 would turn into
//     "already exists" on the retry. The engine re-plans on its next pass instead.
//   - AddMember (POST /group/user) is retried: "already a member" is treated as success, so a
//     repeat cannot change the outcome.
package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/scimbridge/scimbridge/atlassian"
)

const apiRoot = "/rest/api/2"

// UserListing selects how ListUsers enumerates users.
type UserListing int

const (
	// ListAuto uses GET /user/list (Jira 10.3 LTS / 11.0+) and falls back to /user/search paging
	// when the server answers 404.
	ListAuto UserListing = iota
	// ListCursor always uses GET /user/list; on a Jira without it ListUsers fails as Unsupported.
	ListCursor
	// ListSearch always pages GET /user/search?username=. .
	ListSearch
)

// Options configures New.
type Options struct {
	// TransportOptions are the connection settings: BaseURL (with any context path, e.g.
	// "https://example.com/jira"), Auth (BearerToken for a PAT on Jira 8.14+, or BasicAuth),
	// rate limit, retries, timeouts, logger. DecodeError is set by New.
	atlassian.TransportOptions
	// PageSize is the page size of /group/member and /user/search; 0 means 50. Guess (§1.8 [U]):
	// Jira caps member pages at 50; /user/search pages are capped at 100 on 10.x (§1.7).
	PageSize int
	// StreamPageSize is the maxResults of /user/list; 0 means 1000 (Jira's default is 2000).
	StreamPageSize int
	// UserListing picks the enumeration endpoint; the zero value detects it.
	UserListing UserListing
	// GroupPickerLimit is the maxResults ListGroups asks /groups/picker for; 0 means 10000.
	GroupPickerLimit int
}

// Client talks to one Jira server. It is safe for concurrent use.
type Client struct {
	t              *atlassian.Transport
	pageSize       int
	streamPageSize int
	pickerLimit    int

	mu      sync.Mutex
	listing UserListing // ListAuto until detected
}

// New returns a Client for the server described by opts.
func New(opts Options) (*Client, error) {
	if opts.PageSize < 0 || opts.StreamPageSize < 0 || opts.GroupPickerLimit < 0 {
		return nil, errors.New("jira: page sizes must not be negative")
	}
	if opts.UserListing < ListAuto || opts.UserListing > ListSearch {
		return nil, fmt.Errorf("jira: unknown UserListing %d", opts.UserListing)
	}
	to := opts.TransportOptions
	to.DecodeError = decodeError
	t, err := atlassian.NewTransport(to)
	if err != nil {
		return nil, fmt.Errorf("jira: %w", err)
	}
	c := &Client{
		t:              t,
		pageSize:       50,
		streamPageSize: 1000,
		pickerLimit:    10000,
		listing:        opts.UserListing,
	}
	if opts.PageSize > 0 {
		c.pageSize = opts.PageSize
	}
	if opts.StreamPageSize > 0 {
		c.streamPageSize = opts.StreamPageSize
	}
	if opts.GroupPickerLimit > 0 {
		c.pickerLimit = opts.GroupPickerLimit
	}
	return c, nil
}

// ServerInfo is the part of GET /rest/api/2/serverInfo the client uses.
type ServerInfo struct {
	Version        string `json:"version"`
	VersionNumbers []int  `json:"versionNumbers"`
	DeploymentType string `json:"deploymentType"`
}

// AtLeast reports whether the server version is major.minor or newer.
func (s ServerInfo) AtLeast(major, minor int) bool {
	v := append(s.VersionNumbers, 0, 0)
	if v[0] != major {
		return v[0] > major
	}
	return v[1] >= minor
}

// ServerInfo reads the server's version. Guess (§7.3 [U]): the field is "versionNumbers".
func (c *Client) ServerInfo(ctx context.Context) (ServerInfo, error) {
	var out ServerInfo
	_, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodGet, Path: apiRoot + "/serverInfo"}, &out)
	if err != nil {
		return ServerInfo{}, fmt.Errorf("jira server info: %w", err)
	}
	return out, nil
}
