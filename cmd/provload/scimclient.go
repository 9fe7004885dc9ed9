package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// scimClient pushes to one tenant the way an IdP does.
type scimClient struct {
	base, token string
	http        *http.Client
}

func newSCIMClient(base, token string) *scimClient {
	return &scimClient{base: base, token: token, http: &http.Client{
		Timeout:   60 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64},
	}}
}

// do sends one request and decodes the answer into out when it has the
// wanted status.
func (c *scimClient) do(ctx context.Context, method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode != want && !(want == http.StatusOK && resp.StatusCode == http.StatusNoContent) {
		return fmt.Errorf("%s %s: status %d: %.200s", method, path, resp.StatusCode, data)
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
		}
	}
	return nil
}

// userName is the SCIM userName (and, with the okta preset, the Jira
// username) of the i-th user of a batch.
func userName(prefix string, i int) string {
	return prefix + "-" + strconv.Itoa(i) + "@example.com"
}

func userBody(name string) map[string]any {
	return map[string]any{
		"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": name, "displayName": "User " + name, "active": true,
		"name":   map[string]any{"givenName": "Load", "familyName": name},
		"emails": []any{map[string]any{"value": name, "type": "work", "primary": true}},
	}
}

// createUser POSTs a user and returns its SCIM id.
func (c *scimClient) createUser(ctx context.Context, name string) (string, error) {
	var out struct{ ID string }
	if err := c.do(ctx, http.MethodPost, "/Users", userBody(name), http.StatusCreated, &out); err != nil {
		return "", err
	}
	return out.ID, nil
}

// createGroup POSTs a group with its members and returns its SCIM id.
func (c *scimClient) createGroup(ctx context.Context, name string, memberIDs []string) (string, error) {
	members := make([]any, len(memberIDs))
	for i, id := range memberIDs {
		members[i] = map[string]any{"value": id}
	}
	var out struct{ ID string }
	err := c.do(ctx, http.MethodPost, "/Groups", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": name, "members": members,
	}, http.StatusCreated, &out)
	return out.ID, err
}

// addMembers PATCHes members into a group (Okta Group Push and Entra shape).
func (c *scimClient) addMembers(ctx context.Context, groupID string, memberIDs []string) error {
	vals := make([]any, len(memberIDs))
	for i, id := range memberIDs {
		vals[i] = map[string]any{"value": id}
	}
	return c.do(ctx, http.MethodPatch, "/Groups/"+groupID, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "add", "path": "members", "value": vals}},
	}, http.StatusOK, nil)
}

// patchDisplayName replaces one attribute.
func (c *scimClient) patchDisplayName(ctx context.Context, id, value string) error {
	return c.do(ctx, http.MethodPatch, "/Users/"+id, map[string]any{
		"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
		"Operations": []any{map[string]any{"op": "replace", "path": "displayName", "value": value}},
	}, http.StatusOK, nil)
}

// getUser reads the user as the IdP would before a PUT.
func (c *scimClient) getUser(ctx context.Context, id string) (map[string]any, error) {
	var u map[string]any
	err := c.do(ctx, http.MethodGet, "/Users/"+id, nil, http.StatusOK, &u)
	return u, err
}

// putUser replaces the user with doc (server-assigned meta left out, as
// IdPs send it).
func (c *scimClient) putUser(ctx context.Context, id string, doc map[string]any) error {
	body := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "meta" {
			body[k] = v
		}
	}
	return c.do(ctx, http.MethodPut, "/Users/"+id, body, http.StatusOK, nil)
}
