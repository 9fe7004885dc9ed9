package crowd

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
)

// userJSON is Crowd's user entity (doc §3.3); keys are hyphenated.
type userJSON struct {
	Name        string         `json:"name"`
	Key         string         `json:"key,omitempty"`
	FirstName   string         `json:"first-name"`
	LastName    string         `json:"last-name"`
	DisplayName string         `json:"display-name"`
	Email       string         `json:"email"`
	Active      bool           `json:"active"`
	Password    *passwordJSON  `json:"password,omitempty"`
	Attributes  *attributeList `json:"attributes,omitempty"`
}

type passwordJSON struct {
	Value string `json:"value,omitempty"`
}

type attributeList struct {
	Attributes []struct {
		Name   string   `json:"name"`
		Values []string `json:"values"`
	} `json:"attributes"`
}

// lastAuthenticated is the attribute Crowd keeps the last login in. Guess (§3.3 [U]): milliseconds
// since the epoch, present only with expand=attributes.
const lastAuthenticated = "lastAuthenticated"

func (u userJSON) user() atlassian.User {
	out := atlassian.User{Name: u.Name, Key: u.Key, DisplayName: u.DisplayName, Email: u.Email, Active: u.Active}
	if out.DisplayName == "" {
		out.DisplayName = strings.TrimSpace(u.FirstName + " " + u.LastName)
	}
	if u.Attributes != nil {
		for _, a := range u.Attributes.Attributes {
			if a.Name == lastAuthenticated && len(a.Values) > 0 {
				if ms, err := strconv.ParseInt(a.Values[0], 10, 64); err == nil && ms > 0 {
					t := time.UnixMilli(ms).UTC()
					out.LastLogin = &t
				}
			}
		}
	}
	return out
}

// splitName derives first and last name from a display name. Guess (§3.3 [U]): Crowd wants
// first-name/last-name; the last word is the last name, the rest the first name.
func splitName(display string) (first, last string) {
	display = strings.TrimSpace(display)
	i := strings.LastIndexByte(display, ' ')
	if i < 0 {
		return "", display
	}
	return strings.TrimSpace(display[:i]), display[i+1:]
}

func userQuery(username string) url.Values { return url.Values{"username": {username}} }

// GetUser returns the user (GET /user?username=, doc §3.4), with LastLogin when Crowd reports it.
func (c *Client) GetUser(ctx context.Context, username string) (atlassian.User, error) {
	u, err := c.getUser(ctx, username)
	if err != nil {
		return atlassian.User{}, fmt.Errorf("get user %q: %w", username, err)
	}
	return u.user(), nil
}

func (c *Client) getUser(ctx context.Context, username string) (userJSON, error) {
	q := userQuery(username)
	q.Set("expand", "attributes")
	var out userJSON
	_, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodGet, Path: apiRoot + "/user", Query: q}, &out)
	return out, err
}

// exists reports whether a lookup finds the entity; used to tell "exists" from "invalid" in
// Crowd's shared 400 INVALID_USER / INVALID_GROUP answers.
func (c *Client) userExists(ctx context.Context, username string) bool {
	_, err := c.getUser(ctx, username)
	return err == nil
}

// asExists turns an Invalid error into AlreadyExists when the named entity does exist.
func asExists(err error, exists func() bool) error {
	if e, ok := errors.AsType[*atlassian.Error](err); ok && e.Kind == atlassian.Invalid && exists() {
		e.Kind = atlassian.AlreadyExists
	}
	return err
}

// CreateUser creates a user (POST /user, doc §3.3/3.4). Without a password a random one is set.
// ApplicationKeys are granted by adding the user to the mapped groups (Options.ApplicationGroups);
// if that fails (e.g. LicenseLimit) the new user is deleted again so that a refused create changes
// nothing, and the error is returned. Not retried on 5xx.
func (c *Client) CreateUser(ctx context.Context, n atlassian.NewUser) (atlassian.User, error) {
	var groups []string
	for _, k := range n.ApplicationKeys {
		g, ok := c.appGroups[k]
		if !ok {
			return atlassian.User{}, fmt.Errorf("create user %q: %w", n.Name, &atlassian.Error{Kind: atlassian.Invalid, Op: "POST " + apiRoot + "/user",
				Messages: []string{fmt.Sprintf("application key %q has no group in ApplicationGroups", k)}})
		}
		groups = append(groups, g)
	}
	password := n.Password
	if password == "" {
		// Guess (§3.3 [U]): whether Crowd accepts a user without a password is undocumented; a
		// random one nobody knows is safe (SSO users never use it).
		password = "R" + rand.Text() + "!9z"
	}
	first, last := splitName(n.DisplayName)
	body := userJSON{Name: n.Name, FirstName: first, LastName: last, DisplayName: n.DisplayName, Email: n.Email,
		Active: n.Active, Password: &passwordJSON{Value: password}}
	var out userJSON
	resp, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodPost, Path: apiRoot + "/user", Body: body,
		Secrets: []string{password}}, &out)
	if err != nil {
		err = asExists(err, func() bool { return c.userExists(ctx, n.Name) })
		return atlassian.User{}, fmt.Errorf("create user %q: %w", n.Name, err)
	}
	if len(resp.Body) == 0 || out.Name == "" {
		// The entity in the 201 is optional (doc §3.4: RCC "andOptionallyReceive").
		if out, err = c.getUser(ctx, n.Name); err != nil {
			return atlassian.User{}, fmt.Errorf("create user %q: read back: %w", n.Name, err)
		}
	}
	for _, g := range groups {
		if err := c.AddMember(ctx, g, out.Name); err != nil {
			if derr := c.DeleteUser(ctx, out.Name); derr != nil {
				return out.user(), fmt.Errorf("create user %q: grant access: %w (and the rollback failed: %v)", n.Name, err, derr)
			}
			return atlassian.User{}, fmt.Errorf("create user %q: grant access: %w", n.Name, err)
		}
	}
	return out.user(), nil
}

// UpdateUser changes the given attributes. Crowd's PUT /user replaces the whole entity and blanks
// omitted fields (doc §3.4), so the client reads the user first and sends it back complete.
func (c *Client) UpdateUser(ctx context.Context, username string, upd atlassian.UserUpdate) (atlassian.User, error) {
	cur, err := c.getUser(ctx, username)
	if err != nil {
		return atlassian.User{}, fmt.Errorf("update user %q: %w", username, err)
	}
	if upd.IsZero() {
		return cur.user(), nil
	}
	next := userJSON{Name: cur.Name, FirstName: cur.FirstName, LastName: cur.LastName, DisplayName: cur.DisplayName,
		Email: cur.Email, Active: cur.Active}
	unchanged := next
	if upd.DisplayName != nil && *upd.DisplayName != cur.DisplayName {
		next.DisplayName = *upd.DisplayName
		next.FirstName, next.LastName = splitName(*upd.DisplayName)
	}
	if upd.Email != nil {
		next.Email = *upd.Email
	}
	if upd.Active != nil {
		next.Active = *upd.Active
	}
	if next == unchanged {
		return cur.user(), nil // nothing to change
	}
	// The body's name must equal the username parameter: use the stored name for both.
	_, err = c.t.Do(ctx, atlassian.Request{Method: http.MethodPut, Path: apiRoot + "/user", Query: userQuery(cur.Name), Body: next})
	if err != nil {
		return atlassian.User{}, fmt.Errorf("update user %q: %w", username, err)
	}
	next.Key, next.Attributes = cur.Key, cur.Attributes
	return next.user(), nil
}

// SetActive deactivates or reactivates a user (full-entity PUT with "active", doc §3.4).
func (c *Client) SetActive(ctx context.Context, username string, active bool) error {
	if _, err := c.UpdateUser(ctx, username, atlassian.UserUpdate{Active: &active}); err != nil {
		return fmt.Errorf("set active=%t: %w", active, err)
	}
	return nil
}

// RenameUser renames a user (POST /user/rename {"new-name":…}, Crowd 2.8.4+, doc §3.4). A 404
// without USER_NOT_FOUND means the server predates the endpoint and is reported as Unsupported.
// A change of case only is not a rename (case-insensitive names) and returns the user unchanged.
func (c *Client) RenameUser(ctx context.Context, oldName, newName string) (atlassian.User, error) {
	if strings.EqualFold(oldName, newName) {
		return c.GetUser(ctx, oldName)
	}
	// Guess (§3.4 [U]): the RenameEntity field is "new-name".
	body := map[string]string{"new-name": newName}
	var out userJSON
	_, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodPost, Path: apiRoot + "/user/rename", Query: userQuery(oldName), Body: body}, &out)
	if err != nil {
		if e, ok := errors.AsType[*atlassian.Error](err); ok && e.Status == http.StatusNotFound && e.Code != "USER_NOT_FOUND" {
			e.Kind = atlassian.Unsupported // RCC treats this 404 as "rename unsupported" (Crowd < 2.8.4)
		}
		err = asExists(err, func() bool { return c.userExists(ctx, newName) })
		return atlassian.User{}, fmt.Errorf("rename user %q to %q: %w", oldName, newName, err)
	}
	if out.Name == "" {
		return c.GetUser(ctx, newName)
	}
	return out.user(), nil
}

// DeleteUser deletes a user (DELETE /user, doc §3.4). Crowd itself has no veto; a Jira user
// server that refuses (OPERATION_FAILED on 400) is reported as DeleteRefused.
func (c *Client) DeleteUser(ctx context.Context, username string) error {
	_, err := c.t.Do(ctx, atlassian.Request{Method: http.MethodDelete, Path: apiRoot + "/user", Query: userQuery(username)})
	if err != nil {
		if e, ok := errors.AsType[*atlassian.Error](err); ok && e.Status == http.StatusBadRequest && e.Code == "OPERATION_FAILED" && e.Kind == atlassian.Invalid {
			// Guess (§1.6, §3.2 [U]): how Jira-as-user-server reports its delete veto.
			e.Kind = atlassian.DeleteRefused
		}
		return fmt.Errorf("delete user %q: %w", username, err)
	}
	return nil
}

// listJSON is the shape of Crowd's list answers: {"expand":…,"users":[…]} or {"groups":[…]}.
type listJSON struct {
	Users  []userJSON `json:"users"`
	Groups []struct {
		Name string `json:"name"`
	} `json:"groups"`
}

// page fetches one start-index/max-results page; paging ends with a page shorter than
// max-results (doc §3.4 [I RCC]: no total, no isLast).
func (c *Client) page(ctx context.Context, path string, q url.Values, start int) (listJSON, error) {
	q.Set("start-index", strconv.Itoa(start))
	q.Set("max-results", strconv.Itoa(c.pageSize))
	var out listJSON
	_, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodGet, Path: apiRoot + path, Query: q}, &out)
	return out, err
}

// ListUsers calls fn for every user, inactive ones included (GET /search?entity-type=user with no
// restriction, expand=user, doc §3.4). fn's error stops the listing and is returned as is.
func (c *Client) ListUsers(ctx context.Context, fn func(atlassian.User) error) error {
	q := url.Values{"entity-type": {"user"}, "expand": {"user,attributes"}}
	return callbackOr(c.eachUser(ctx, "/search", q, fn), "list users")
}

// callbackOr returns a callback's error as is and wraps every other error with op.
func callbackOr(err error, op string) error {
	if err == nil {
		return nil
	}
	if s, ok := errors.AsType[errStop](err); ok {
		return s.err
	}
	return fmt.Errorf("%s: %w", op, err)
}

func (c *Client) eachUser(ctx context.Context, path string, q url.Values, fn func(atlassian.User) error) error {
	seen := map[string]bool{}
	for start := 0; ; {
		p, err := c.page(ctx, path, q, start)
		if err != nil {
			return err
		}
		fresh := 0
		for _, u := range p.Users {
			id := strings.ToLower(u.Name)
			if seen[id] {
				continue
			}
			seen[id] = true
			fresh++
			if err := fn(u.user()); err != nil {
				return errStop{err}
			}
		}
		if len(p.Users) < c.pageSize {
			return nil
		}
		if fresh == 0 {
			return &atlassian.Error{Kind: atlassian.Other, Op: "GET " + apiRoot + path,
				Messages: []string{"the server ignores start-index: page " + strconv.Itoa(start) + " repeats earlier entries"}}
		}
		start += len(p.Users)
	}
}

// errStop carries the callback's error out of the paging loop untouched.
type errStop struct{ err error }

// Error returns the callback's message.
func (e errStop) Error() string { return e.err.Error() }

// Unwrap returns the callback's error.
func (e errStop) Unwrap() error { return e.err }
