package crowd

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/atlassian"
)

// ListGroups returns every group (GET /search?entity-type=group with no restriction, doc §3.4).
func (c *Client) ListGroups(ctx context.Context) ([]atlassian.Group, error) {
	var out []atlassian.Group
	seen := map[string]bool{}
	q := url.Values{"entity-type": {"group"}}
	for start := 0; ; {
		p, err := c.page(ctx, "/search", q, start)
		if err != nil {
			return nil, fmt.Errorf("list groups: %w", err)
		}
		fresh := 0
		for _, g := range p.Groups {
			if id := strings.ToLower(g.Name); !seen[id] {
				seen[id] = true
				fresh++
				out = append(out, atlassian.Group{Name: g.Name})
			}
		}
		if len(p.Groups) < c.pageSize {
			return out, nil
		}
		if fresh == 0 {
			return nil, fmt.Errorf("list groups: %w", &atlassian.Error{Kind: atlassian.Other, Op: "GET " + apiRoot + "/search",
				Messages: []string{"the server ignores start-index: page " + strconv.Itoa(start) + " repeats earlier groups"}})
		}
		start += len(p.Groups)
	}
}

func groupQuery(name string) url.Values { return url.Values{"groupname": {name}} }

func (c *Client) groupExists(ctx context.Context, name string) bool {
	_, err := c.t.Do(ctx, atlassian.Request{Method: http.MethodGet, Path: apiRoot + "/group", Query: groupQuery(name)})
	return err == nil
}

// CreateGroup creates a group (POST /group, doc §3.4). Crowd answers 400 INVALID_GROUP both for an
// existing and an invalid group; the client looks the group up to report AlreadyExists.
func (c *Client) CreateGroup(ctx context.Context, name string) error {
	body := map[string]any{"name": name, "description": "", "type": "GROUP", "active": true}
	_, err := c.t.Do(ctx, atlassian.Request{Method: http.MethodPost, Path: apiRoot + "/group", Body: body})
	if err != nil {
		err = asExists(err, func() bool { return c.groupExists(ctx, name) })
		return fmt.Errorf("create group %q: %w", name, err)
	}
	return nil
}

// DeleteGroup deletes a group (DELETE /group, doc §3.4).
func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	_, err := c.t.Do(ctx, atlassian.Request{Method: http.MethodDelete, Path: apiRoot + "/group", Query: groupQuery(name)})
	if err != nil {
		return fmt.Errorf("delete group %q: %w", name, err)
	}
	return nil
}

// AddMember makes username a direct member of group (POST /user/group/direct?username= {"name":g},
// the form whose status codes are verified, doc §3.4). 409 MEMBERSHIP_ALREADY_EXISTS is success,
// so the call is idempotent and safe to retry. A missing user or group is NotFound.
func (c *Client) AddMember(ctx context.Context, group, username string) error {
	_, err := c.t.Do(ctx, atlassian.Request{Method: http.MethodPost, Path: apiRoot + "/user/group/direct",
		Query: userQuery(username), Body: map[string]string{"name": group}, RetrySafe: true})
	if err != nil {
		if errors.Is(err, atlassian.AlreadyMember) {
			return nil
		}
		return fmt.Errorf("add %q to group %q: %w", username, group, err)
	}
	return nil
}

// RemoveMember removes a direct membership (DELETE /user/group/direct, doc §3.4). 404
// MEMBERSHIP_NOT_FOUND is success; USER_NOT_FOUND / GROUP_NOT_FOUND are NotFound.
func (c *Client) RemoveMember(ctx context.Context, group, username string) error {
	q := userQuery(username)
	q.Set("groupname", group)
	_, err := c.t.Do(ctx, atlassian.Request{Method: http.MethodDelete, Path: apiRoot + "/user/group/direct", Query: q})
	if err != nil {
		if errors.Is(err, atlassian.NotMember) {
			return nil
		}
		return fmt.Errorf("remove %q from group %q: %w", username, group, err)
	}
	return nil
}

// ListMembers calls fn for every direct member of group, inactive users included
// (GET /group/user/direct?expand=user, start-index/max-results paging, doc §3.4). Direct members
// are what SCIM writes (§7.8). fn's error stops the listing and is returned as is.
func (c *Client) ListMembers(ctx context.Context, group string, fn func(atlassian.User) error) error {
	q := groupQuery(group)
	q.Set("expand", "user")
	return callbackOr(c.eachUser(ctx, "/group/user/direct", q, fn), fmt.Sprintf("list members of %q", group))
}
