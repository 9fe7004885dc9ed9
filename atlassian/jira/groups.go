package jira

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

// groupsPickerJSON is the /groups/picker answer (doc §1.8).
type groupsPickerJSON struct {
	Total  int `json:"total"`
	Groups []struct {
		Name string `json:"name"`
	} `json:"groups"`
}

// ListGroups returns every group. Jira DC has no paged group list in REST v2, so it asks the groups
// picker (doc §1.8) with an empty query. Guess (§1.8 [U]): an empty query matches every group and
// maxResults may exceed jira.ajax.autocomplete.limit. If the server returns fewer groups than its
// "total" (jira.ajax.autocomplete.limit), the result is incomplete and an Unsupported error says so.
func (c *Client) ListGroups(ctx context.Context) ([]atlassian.Group, error) {
	q := url.Values{"query": {""}, "maxResults": {strconv.Itoa(c.pickerLimit)}}
	var out groupsPickerJSON
	if _, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodGet, Path: apiRoot + "/groups/picker", Query: q}, &out); err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	groups := make([]atlassian.Group, 0, len(out.Groups))
	for _, g := range out.Groups {
		groups = append(groups, atlassian.Group{Name: g.Name})
	}
	if out.Total > len(groups) {
		return groups, fmt.Errorf("list groups: %w", &atlassian.Error{Kind: atlassian.Unsupported, Op: "GET " + apiRoot + "/groups/picker",
			Messages: []string{fmt.Sprintf("the groups picker returned %d of %d groups; raise GroupPickerLimit or jira.ajax.autocomplete.limit", len(groups), out.Total)}})
	}
	return groups, nil
}

// CreateGroup creates a group (POST /group, doc §1.8). An existing group (compared
// case-insensitively) is an AlreadyExists *atlassian.Error. Not retried on 5xx.
func (c *Client) CreateGroup(ctx context.Context, name string) error {
	_, err := c.t.Do(ctx, atlassian.Request{Method: http.MethodPost, Path: apiRoot + "/group", Body: map[string]string{"name": name}})
	if err != nil {
		return fmt.Errorf("create group %q: %w", name, err)
	}
	return nil
}

// DeleteGroup deletes a group (DELETE /group, doc §1.8).
func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	_, err := c.t.Do(ctx, atlassian.Request{Method: http.MethodDelete, Path: apiRoot + "/group", Query: url.Values{"groupname": {name}}})
	if err != nil {
		return fmt.Errorf("delete group %q: %w", name, err)
	}
	return nil
}

// AddMember makes username a direct member of group (POST /group/user, doc §1.8). It is idempotent:
// Jira's 400 "already a member" is success (doc §7.7), which also makes the POST safe to retry.
func (c *Client) AddMember(ctx context.Context, group, username string) error {
	_, err := c.t.Do(ctx, atlassian.Request{Method: http.MethodPost, Path: apiRoot + "/group/user",
		Query: url.Values{"groupname": {group}}, Body: map[string]string{"name": username}, RetrySafe: true})
	if err != nil {
		if errors.Is(err, atlassian.AlreadyMember) {
			return nil
		}
		return fmt.Errorf("add %q to group %q: %w", username, group, err)
	}
	return nil
}

// RemoveMember removes username from group (DELETE /group/user, doc §1.8). It is idempotent: "not a
// member" is success. An unknown user or group is a NotFound *atlassian.Error.
func (c *Client) RemoveMember(ctx context.Context, group, username string) error {
	_, err := c.t.Do(ctx, atlassian.Request{Method: http.MethodDelete, Path: apiRoot + "/group/user",
		Query: url.Values{"groupname": {group}, "username": {username}}})
	if err != nil {
		if errors.Is(err, atlassian.NotMember) {
			return nil
		}
		return fmt.Errorf("remove %q from group %q: %w", username, group, err)
	}
	return nil
}

// memberPageJSON is the /group/member page (doc §1.8).
type memberPageJSON struct {
	StartAt  int        `json:"startAt"`
	Total    int        `json:"total"`
	IsLast   bool       `json:"isLast"`
	NextPage string     `json:"nextPage"`
	Values   []userJSON `json:"values"`
}

// ListMembers calls fn for every member of group, inactive users included
// (GET /group/member?includeInactiveUsers=true, startAt/isLast paging, doc §1.8). Jira lists the
// members of subgroups too (nested membership). fn's error stops the listing and is returned as is.
func (c *Client) ListMembers(ctx context.Context, group string, fn func(atlassian.User) error) error {
	startAt := 0
	seen := map[string]bool{}
	for {
		q := url.Values{
			"groupname":            {group},
			"includeInactiveUsers": {"true"},
			"startAt":              {strconv.Itoa(startAt)},
			"maxResults":           {strconv.Itoa(c.pageSize)},
		}
		var p memberPageJSON
		if _, err := c.t.DoJSON(ctx, atlassian.Request{Method: http.MethodGet, Path: apiRoot + "/group/member", Query: q}, &p); err != nil {
			return fmt.Errorf("list members of %q: %w", group, err)
		}
		fresh := 0
		for _, u := range p.Values {
			if id := strings.ToLower(u.Name); !seen[id] {
				seen[id] = true
				fresh++
				if err := fn(u.user()); err != nil {
					return err
				}
			}
		}
		// nextPage is not followed: it is an absolute URL, and the client would send its
		// credentials wherever it points. startAt + len(values) gives the same page, and stays
		// right when the server caps maxResults below what was asked (doc §1.8: 50 [U]).
		if p.IsLast || len(p.Values) == 0 {
			return nil
		}
		if fresh == 0 {
			return fmt.Errorf("list members of %q: %w", group, &atlassian.Error{Kind: atlassian.Other, Op: "GET " + apiRoot + "/group/member",
				Messages: []string{"the server ignores startAt: page " + strconv.Itoa(startAt) + " repeats earlier members"}})
		}
		startAt += len(p.Values)
	}
}
