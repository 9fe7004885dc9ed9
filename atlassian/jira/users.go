package jira

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
)

// userJSON is the User representation (doc §1.2) and the lighter UserJson of member lists.
type userJSON struct {
	Key           string   `json:"key"`
	Name          string   `json:"name"`
	EmailAddress  string   `json:"emailAddress"`
	DisplayName   string   `json:"displayName"`
	Active        flexBool `json:"active"`
	LastLoginTime string   `json:"lastLoginTime"`
}

// flexBool accepts true/false and their string forms ("active":"false" is accepted by Jira on
// input, doc §1.5 [I]; tolerated on output too).
type flexBool bool

// UnmarshalJSON accepts a JSON boolean, its string form, or null (false).
func (b *flexBool) UnmarshalJSON(data []byte) error {
	s := strings.Trim(string(data), `"`)
	if s == "null" {
		*b = false
		return nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("active: %w", err)
	}
	*b = flexBool(v)
	return nil
}

// Guess (§1.2 [U format]): lastLoginTime is not documented beyond its name; these are Jira's
// usual REST date forms.
var timeLayouts = []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano, "2006-01-02T15:04:05-0700"}

func (u userJSON) user() atlassian.User {
	out := atlassian.User{Name: u.Name, Key: u.Key, DisplayName: u.DisplayName, Email: u.EmailAddress, Active: bool(u.Active)}
	if u.LastLoginTime != "" {
		for _, layout := range timeLayouts {
			if t, err := time.Parse(layout, u.LastLoginTime); err == nil {
				t = t.UTC()
				out.LastLogin = &t
				break
			}
		}
	}
	return out
}

// userWrite is the UserWrite body of POST/PUT /user (doc §1.3, §1.5). Nil fields are omitted:
// "Fields skipped in request will not be changed."
type userWrite struct {
	Name            *string   `json:"name,omitempty"`
	Password        *string   `json:"password,omitempty"`
	EmailAddress    *string   `json:"emailAddress,omitempty"`
	DisplayName     *string   `json:"displayName,omitempty"`
	ApplicationKeys *[]string `json:"applicationKeys,omitempty"` // nil omitted, empty sent as []
	Active          *bool     `json:"active,omitempty"`
}

func userQuery(username string) url.Values { return url.Values{"username": {username}} }

// GetUser returns the user whose username matches case-insensitively (doc §1.4). A user Jira
// reports missing is a NotFound *atlassian.Error; a 404 that is not Jira's answer (wrong BaseURL or
// context path) is Unsupported, so it is never taken for a missing user.
func (c *Client) GetUser(ctx context.Context, username string) (atlassian.User, error) {
	var out userJSON
	_, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodGet, Path: apiRoot + "/user", Query: userQuery(username)}, &out)
	if err != nil {
		return atlassian.User{}, fmt.Errorf("get user %q: %w", username, err)
	}
	return out.user(), nil
}

// CreateUser creates a user (POST /user, doc §1.3). ApplicationKeys nil leaves the choice to Jira
// (its default applications); an empty non-nil slice is sent as [] to grant none. Without a
// password Jira generates one. Not retried on 5xx (see package doc).
func (c *Client) CreateUser(ctx context.Context, n atlassian.NewUser) (atlassian.User, error) {
	body := userWrite{Name: &n.Name, EmailAddress: &n.Email, DisplayName: &n.DisplayName, Active: &n.Active}
	if n.Password != "" {
		body.Password = &n.Password
	}
	if n.ApplicationKeys != nil {
		keys := append([]string{}, n.ApplicationKeys...)
		body.ApplicationKeys = &keys
	}
	var out userJSON
	_, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodPost, Path: apiRoot + "/user", Body: body}, &out)
	if err != nil {
		return atlassian.User{}, fmt.Errorf("create user %q: %w", n.Name, err)
	}
	u := out.user()
	if u.Active != n.Active {
		// Guess (§1.3 [U]): "active" is in the UserWrite schema, but whether create honours it is
		// not documented; if the server ignored it, set it the documented way.
		if err := c.SetActive(ctx, u.Name, n.Active); err != nil {
			return u, fmt.Errorf("create user %q: %w", n.Name, err)
		}
		u.Active = n.Active
	}
	return u, nil
}

// UpdateUser changes the given attributes (PUT /user, doc §1.5) and returns the user as stored.
// Changing Active needs Jira 8.3+: older servers answer error.no.value.found.to.be.changed or
// silently ignore the field; both are reported as an Unsupported *atlassian.Error.
func (c *Client) UpdateUser(ctx context.Context, username string, upd atlassian.UserUpdate) (atlassian.User, error) {
	if upd.IsZero() {
		// A PUT that changes nothing is an error on older Jira; there is nothing to send.
		return c.GetUser(ctx, username)
	}
	body := userWrite{DisplayName: upd.DisplayName, EmailAddress: upd.Email, Active: upd.Active}
	u, err := c.putUser(ctx, username, body)
	if err != nil {
		if e, ok := errors.AsType[*atlassian.Error](err); ok && e.Kind == atlassian.Unsupported && e.Status == http.StatusBadRequest {
			// Jira answers "no value changed" when the request changes nothing it knows: either
			// the values are already as asked (success), or "active" is unknown (< 8.3).
			cur, gerr := c.GetUser(ctx, username)
			if gerr == nil && satisfies(cur, upd) {
				return cur, nil
			}
			if upd.Active != nil && e.Code == msgNoValueChanged {
				// Say what the bare i18n key means.
				e.Messages = append(e.Messages, msgActiveNeeds83)
			}
		}
		return atlassian.User{}, fmt.Errorf("update user %q: %w", username, err)
	}
	if upd.Active != nil && u.Active != *upd.Active {
		// Jira < 8.3 ignores "active" when other fields change (doc §1.5, §7.3).
		return u, fmt.Errorf("update user %q: %w", username, &atlassian.Error{Kind: atlassian.Unsupported,
			Op: "PUT " + apiRoot + "/user", Messages: []string{msgActiveNeeds83}})
	}
	return u, nil
}

// msgActiveNeeds83 explains an Unsupported (de)activation (doc §1.5: JRASERVER-44801, Jira 8.3).
const msgActiveNeeds83 = "the server ignored \"active\": Jira before 8.3 cannot (de)activate users through REST; " +
	"upgrade to 8.3 or later, or use the Crowd API"

func satisfies(u atlassian.User, upd atlassian.UserUpdate) bool {
	return (upd.DisplayName == nil || *upd.DisplayName == u.DisplayName) &&
		(upd.Email == nil || *upd.Email == u.Email) &&
		(upd.Active == nil || *upd.Active == u.Active)
}

func (c *Client) putUser(ctx context.Context, username string, body userWrite) (atlassian.User, error) {
	var out userJSON
	_, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodPut, Path: apiRoot + "/user", Query: userQuery(username), Body: body}, &out)
	if err != nil {
		return atlassian.User{}, err
	}
	return out.user(), nil
}

// SetActive deactivates or reactivates a user (PUT /user {"active":…}, Jira 8.3+, doc §1.5).
// Setting the state the user already has succeeds.
func (c *Client) SetActive(ctx context.Context, username string, active bool) error {
	_, err := c.UpdateUser(ctx, username, atlassian.UserUpdate{Active: &active})
	if err != nil {
		return fmt.Errorf("set active=%t: %w", active, err)
	}
	return nil
}

// RenameUser changes the username (PUT /user?username=old {"name":new}, doc §1.5); the key stays.
// A change of case only is not a rename on Data Center (case-insensitive names), so it returns the
// user unchanged.
func (c *Client) RenameUser(ctx context.Context, oldName, newName string) (atlassian.User, error) {
	if strings.EqualFold(oldName, newName) {
		return c.GetUser(ctx, oldName)
	}
	u, err := c.putUser(ctx, oldName, userWrite{Name: &newName})
	if err != nil {
		return atlassian.User{}, fmt.Errorf("rename user %q to %q: %w", oldName, newName, err)
	}
	return u, nil
}

// DeleteUser deletes a user (DELETE /user, doc §1.6). Jira's vetoes (reported or assigned issues,
// comments, project lead, the caller itself) come back as a DeleteRefused *atlassian.Error with one
// message per reason; a read-only directory as ReadOnlyDirectory.
func (c *Client) DeleteUser(ctx context.Context, username string) error {
	_, err := c.t.Do(ctx, atlassian.Request{Method: http.MethodDelete, Path: apiRoot + "/user", Query: userQuery(username)})
	if err != nil {
		if e, ok := errors.AsType[*atlassian.Error](err); ok && e.Status == http.StatusBadRequest && e.Kind != atlassian.ReadOnlyDirectory {
			// Every 400 on delete is a veto (doc §1.6: "400 if vetoed").
			e.Kind = atlassian.DeleteRefused
		}
		return fmt.Errorf("delete user %q: %w", username, err)
	}
	return nil
}

// ListUsers calls fn for every user, inactive ones included, page by page. It uses the /user/list
// stream where the server has it (Jira 10.3 LTS / 11.0+) and /user/search paging otherwise
// (doc §1.7). fn's error stops the listing and is returned as is.
func (c *Client) ListUsers(ctx context.Context, fn func(atlassian.User) error) error {
	c.mu.Lock()
	mode := c.listing
	c.mu.Unlock()
	switch mode {
	case ListCursor:
		first, err := c.streamPage(ctx, "")
		if err != nil {
			if e, ok := errors.AsType[*atlassian.Error](err); ok && e.Status == http.StatusNotFound {
				// The first page has no cursor, so a 404 is for the path itself: this Jira has no
				// /user/list (doc §1.7: 10.3 LTS / 11.0+).
				e.Kind = atlassian.Unsupported
				e.Messages = append(e.Messages, "GET "+apiRoot+"/user/list needs Jira 10.3 LTS or 11.0+; use ListAuto or ListSearch")
			}
			return fmt.Errorf("list users: %w", err)
		}
		return c.listStream(ctx, fn, &first)
	case ListSearch:
		return c.listSearch(ctx, fn)
	}
	first, err := c.streamPage(ctx, "")
	if err != nil {
		if e, ok := errors.AsType[*atlassian.Error](err); ok && e.Status == http.StatusNotFound {
			// Any 404 on the cursorless first page is about the path: Jira before 10.3 answers
			// with Jersey's "null for uri" (Unsupported, see notFound). If the whole API is
			// missing (wrong BaseURL), /user/search reports it the same way.
			c.setListing(ListSearch)
			return c.listSearch(ctx, fn)
		}
		return fmt.Errorf("list users: %w", err)
	}
	c.setListing(ListCursor)
	return c.listStream(ctx, fn, &first)
}

func (c *Client) setListing(m UserListing) {
	c.mu.Lock()
	c.listing = m
	c.mu.Unlock()
}

// streamPageJSON is the /user/list StreamPage (doc §1.7).
type streamPageJSON struct {
	Values     []userJSON `json:"values"`
	IsLast     bool       `json:"isLast"`
	NextCursor string     `json:"nextCursor"`
}

func (c *Client) streamPage(ctx context.Context, cursor string) (streamPageJSON, error) {
	q := url.Values{"maxResults": {strconv.Itoa(c.streamPageSize)}}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var p streamPageJSON
	_, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodGet, Path: apiRoot + "/user/list", Query: q}, &p)
	return p, err
}

func (c *Client) listStream(ctx context.Context, fn func(atlassian.User) error, first *streamPageJSON) error {
	var p streamPageJSON
	if first != nil {
		p = *first
	} else {
		var err error
		if p, err = c.streamPage(ctx, ""); err != nil {
			return fmt.Errorf("list users: %w", err)
		}
	}
	seen := map[string]bool{}
	for {
		for _, u := range p.Values {
			if err := fn(u.user()); err != nil {
				return err
			}
		}
		if p.IsLast {
			return nil
		}
		if p.NextCursor == "" || seen[p.NextCursor] {
			return fmt.Errorf("list users: %w", &atlassian.Error{Kind: atlassian.Other, Op: "GET " + apiRoot + "/user/list",
				Messages: []string{"page is not the last but has no new nextCursor"}})
		}
		seen[p.NextCursor] = true
		var err error
		if p, err = c.streamPage(ctx, p.NextCursor); err != nil {
			return fmt.Errorf("list users: %w", err)
		}
	}
}

// searchAll is the /user/search query that matches everyone. Guess (§1.7 [U on 10.x]): PYAPI
// documents "." for "all users".
const searchAll = "."

// searchCap is the overall result cap of /user/search on Jira DC 10.x (doc §1.7: "The combination
// of maxResults and startAt is limited to the first 100 results"). Guess (§1.7 [U]): the cap starts
// with 10.0; earlier versions page through every user.
const searchCap = 100

// listSearch pages /user/search until an empty page: a server may clamp maxResults, so a short
// page does not prove the end.
func (c *Client) listSearch(ctx context.Context, fn func(atlassian.User) error) error {
	size := min(c.pageSize, searchCap)
	seen := map[string]bool{}
	total := 0
	for startAt := 0; ; {
		q := url.Values{
			"username":        {searchAll},
			"includeActive":   {"true"},
			"includeInactive": {"true"},
			"startAt":         {strconv.Itoa(startAt)},
			"maxResults":      {strconv.Itoa(size)},
		}
		var page []userJSON
		if _, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodGet, Path: apiRoot + "/user/search", Query: q}, &page); err != nil {
			return fmt.Errorf("list users: %w", err)
		}
		if len(page) == 0 {
			break
		}
		fresh := 0
		for _, uj := range page {
			id := strings.ToLower(uj.Key + "\x00" + uj.Name)
			if seen[id] {
				continue
			}
			seen[id] = true
			fresh++
			total++
			if err := fn(uj.user()); err != nil {
				return err
			}
		}
		if fresh == 0 {
			return fmt.Errorf("list users: %w", &atlassian.Error{Kind: atlassian.Other, Op: "GET " + apiRoot + "/user/search",
				Messages: []string{"the server ignores startAt: page " + strconv.Itoa(startAt) + " repeats earlier users"}})
		}
		startAt += len(page)
	}
	if total == searchCap {
		// Exactly the cap: on Jira 10.0–10.2 there may be more users that /user/search cannot reach.
		info, err := c.ServerInfo(ctx)
		if err != nil {
			return fmt.Errorf("list users: %d users found, cannot tell whether the search was capped: %w", total, err)
		}
		if info.AtLeast(10, 0) {
			return fmt.Errorf("list users: %w", &atlassian.Error{Kind: atlassian.Unsupported, Op: "GET " + apiRoot + "/user/search",
				Messages: []string{fmt.Sprintf("Jira %s returns at most %d users from /user/search and has no /user/list (10.3+); the listing may be incomplete", info.Version, searchCap)}})
		}
	}
	return nil
}
