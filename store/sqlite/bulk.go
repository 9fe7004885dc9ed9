package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/scimbridge/scimbridge/store"
)

// Bulk reads and writes for a full reconcile: one statement per page of
// users, one for the whole group nesting of a tenant, one per batch of
// links, one transaction for many link writes.

// userPage is how many users EachUser reads per statement.
const userPage = 500

// eachUserSQL reads the live users of a tenant after a seq, in seq order,
// through users_tenant_seq (a range of the partial index, not an OFFSET
// that walks every row before the page).
const eachUserSQL = `SELECT ` + userReadCols + ` FROM users
	WHERE users.tenant = ?1 AND users.deleted_at IS NULL AND users.seq > ?2
	ORDER BY users.seq LIMIT ?3`

// EachUser calls fn for every live user of tenant in creation order; see
// store.EngineStore. Each page is read in one statement and decoded before
// fn sees any of it, so no read is open while fn runs.
func (d *DB) EachUser(ctx context.Context, tenant string, fn func(store.User) error) error {
	var after int64
	for {
		page, err := d.userPageAfter(ctx, tenant, after)
		if err != nil {
			return fmt.Errorf("users of tenant %q: %w", tenant, err)
		}
		for _, r := range page {
			u, err := r.decoded()
			if err != nil {
				return fmt.Errorf("users of tenant %q: user %q: %w", tenant, r.u.ID, err)
			}
			if err := fn(u); err != nil {
				return err
			}
		}
		if len(page) < userPage {
			return nil
		}
		after = page[len(page)-1].seq
	}
}

func (d *DB) userPageAfter(ctx context.Context, tenant string, after int64) ([]userRow, error) {
	bctx, err := bounded(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(bctx, eachUserSQL, tenant, after, userPage)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	page := make([]userRow, 0, userPage)
	for rows.Next() {
		r, err := scanUserRead(rows)
		if err != nil {
			return nil, err
		}
		page = append(page, r)
	}
	return page, rows.Err()
}

// groupNestingSQL lists the live groups of a tenant, each with one row per
// group that has it as a member (members_member), or one row with a NULL
// parent when none does.
const groupNestingSQL = `SELECT g.id, g.display_name, m.group_id
	FROM groups g LEFT JOIN members m ON m.member_id = g.id
	WHERE g.tenant = ?1 AND g.deleted_at IS NULL
	ORDER BY g.display_name_fold, g.display_name, g.id, m.group_id`

// GroupNesting returns every live group of tenant with its direct parents;
// see store.EngineStore.
func (d *DB) GroupNesting(ctx context.Context, tenant string) ([]store.GroupNode, error) {
	nodes, err := d.groupNesting(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("group nesting of tenant %q: %w", tenant, err)
	}
	return nodes, nil
}

func (d *DB) groupNesting(ctx context.Context, tenant string) ([]store.GroupNode, error) {
	bctx, err := bounded(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(bctx, groupNestingSQL, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var nodes []store.GroupNode
	for rows.Next() {
		var (
			id, name string
			parent   *string
		)
		if err := rows.Scan(&id, &name, &parent); err != nil {
			return nil, err
		}
		if n := len(nodes); n == 0 || nodes[n-1].ID != id {
			nodes = append(nodes, store.GroupNode{ID: id, DisplayName: name})
		}
		if parent != nil {
			n := &nodes[len(nodes)-1]
			n.Parents = append(n.Parents, *parent)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A members row always names a live group (deleting a group deletes
	// its rows, and ids are unique across tenants), so every parent is one
	// of the nodes; this keeps the promise should that ever change.
	live := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		live[n.ID] = true
	}
	for i := range nodes {
		ps := nodes[i].Parents[:0]
		for _, p := range nodes[i].Parents {
			if live[p] {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			ps = nil
		}
		nodes[i].Parents = ps
	}
	return nodes, nil
}

// getLinksSQL looks each id up by primary key: the IN list (deduplicated
// by SQLite) drives the search.
const getLinksSQL = `SELECT ` + linkCols + ` FROM links
	WHERE target = ?1 AND tenant = ?2 AND resource_id IN (SELECT value FROM json_each(?3))
	ORDER BY resource_id`

// GetLinks returns the links of tenant's resources ids on target; see
// store.EngineStore.
func (d *DB) GetLinks(ctx context.Context, target, tenant string, ids []string) ([]store.Link, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	links, err := d.getLinks(ctx, target, tenant, ids)
	if err != nil {
		return nil, fmt.Errorf("get %d links of %s/%s: %w", len(ids), target, tenant, err)
	}
	return links, nil
}

func (d *DB) getLinks(ctx context.Context, target, tenant string, ids []string) ([]store.Link, error) {
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	bctx, err := bounded(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(bctx, getLinksSQL, target, tenant, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// PutLinks creates or replaces the links in one write; see
// store.EngineStore.
func (d *DB) PutLinks(ctx context.Context, links []store.Link) error {
	for i, l := range links {
		if err := checkLink(l); err != nil {
			return fmt.Errorf("put %d links: link %d (%s/%s/%s): %w", len(links), i, l.Target, l.Tenant, l.ResourceID, err)
		}
	}
	if len(links) == 0 {
		return nil
	}
	now := d.utcNow()
	err := d.write(ctx, func(tx *wtx) error {
		for _, l := range links {
			if _, err := tx.ExecContext(ctx, putLinkSQL, putLinkArgs(l, now)...); err != nil {
				return fmt.Errorf("link %s/%s/%s: %w", l.Target, l.Tenant, l.ResourceID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("put %d links: %w", len(links), err)
	}
	return nil
}
