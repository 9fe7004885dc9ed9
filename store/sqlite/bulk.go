package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/scimbridge/scimbridge/store"
)

// Bulk reads and writes for a full reconcile: one statement per page of
// users, one for every membership of a tenant, one per batch of links, one
// transaction for many link writes, one statement for the links of users
// that are gone.

// userPage is how many users EachUser reads per statement.
const userPage = 500

// eachUserSQL reads the live users of a tenant after a seq, in seq order,
// through users_tenant_seq (a range of the partial index, not an OFFSET
// that walks every row before the page); cols is userCols or userReadCols.
func eachUserSQL(cols string) string {
	return `SELECT ` + cols + ` FROM users
	WHERE users.tenant = ?1 AND users.deleted_at IS NULL AND users.seq > ?2
	ORDER BY users.seq LIMIT ?3`
}

var (
	eachUserGroupsSQL = eachUserSQL(userReadCols)
	eachUserOnlySQL   = eachUserSQL(userCols)
)

// EachUser calls fn for every live user of tenant in creation order; see
// store.EngineStore. Each page is read in one statement and decoded before
// fn sees any of it, so no read is open while fn runs. Without withGroups
// the statement skips the per-user groups subquery, which is most of its
// cost.
func (d *DB) EachUser(ctx context.Context, tenant string, withGroups bool, fn func(store.User) error) error {
	var after int64
	for {
		page, err := d.userPageAfter(ctx, tenant, withGroups, after)
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

func (d *DB) userPageAfter(ctx context.Context, tenant string, withGroups bool, after int64) ([]userRow, error) {
	query, scan := eachUserOnlySQL, scanUser
	if withGroups {
		query, scan = eachUserGroupsSQL, func(s scanner) (userRow, error) { return scanUserRead(s) }
	}
	return queryAll(ctx, d.r, userPage, scan, query, tenant, after, userPage)
}

// queryAll runs query on db as one bounded statement (see bounded) and
// returns every row scanned by scan, in a slice made for size rows (0: nil
// until a row comes).
func queryAll[T any](ctx context.Context, db *sql.DB, size int, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	bctx, err := bounded(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(bctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, size, scan)
}

// collect scans every row of rows with scan and closes rows; size is as
// for queryAll.
func collect[T any](rows *sql.Rows, size int, scan func(scanner) (T, error)) ([]T, error) {
	defer rows.Close()
	var out []T
	if size > 0 {
		out = make([]T, 0, size)
	}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// groupMembersSQL lists the live groups of a tenant in User.Groups order,
// each with one row per direct member (the members primary key, so in id
// order), or one row with NULLs when it has none.
const groupMembersSQL = `SELECT g.id, g.display_name, m.member_id, m.member_kind
	FROM groups g LEFT JOIN members m ON m.group_id = g.id
	WHERE g.tenant = ?1 AND g.deleted_at IS NULL
	ORDER BY g.display_name_fold, g.display_name, g.id, m.member_id`

// GroupMembers returns every live group of tenant with its direct members;
// see store.EngineStore.
func (d *DB) GroupMembers(ctx context.Context, tenant string) ([]store.GroupNode, error) {
	nodes, err := d.groupMembers(ctx, tenant)
	if err != nil {
		return nil, fmt.Errorf("group members of tenant %q: %w", tenant, err)
	}
	return nodes, nil
}

func (d *DB) groupMembers(ctx context.Context, tenant string) ([]store.GroupNode, error) {
	bctx, err := bounded(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := d.r.QueryContext(bctx, groupMembersSQL, tenant)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var nodes []store.GroupNode
	for rows.Next() {
		var (
			id, name     string
			member, kind sql.NullString
		)
		if err := rows.Scan(&id, &name, &member, &kind); err != nil {
			return nil, err
		}
		if n := len(nodes); n == 0 || nodes[n-1].ID != id {
			nodes = append(nodes, store.GroupNode{ID: id, DisplayName: name})
		}
		n := &nodes[len(nodes)-1]
		switch {
		case !member.Valid:
		case store.ResourceKind(kind.String) == store.KindGroup:
			n.Groups = append(n.Groups, member.String)
		default:
			n.Users = append(n.Users, member.String)
		}
	}
	return nodes, rows.Err()
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
	list, _ := json.Marshal(ids) // a []string always encodes
	links, err := queryAll(ctx, d.r, 0, scanLink, getLinksSQL, target, tenant, string(list))
	if err != nil {
		return nil, fmt.Errorf("get %d links of %s/%s: %w", len(ids), target, tenant, err)
	}
	return links, nil
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

// strandedLinksSQL finds user links whose user is not live: a scan of the
// target's links with one lookup in users (by id, unique) each.
const strandedLinksSQL = `SELECT ` + linkCols + ` FROM links
	WHERE target = ?1 AND kind = 'User' AND applied_name != ''
		AND NOT EXISTS (SELECT 1 FROM users u WHERE u.id = links.resource_id AND u.tenant = links.tenant AND u.deleted_at IS NULL)
	ORDER BY tenant, resource_id`

// StrandedLinks returns the user links on target whose user is not live;
// see store.EngineStore.
func (d *DB) StrandedLinks(ctx context.Context, target string) ([]store.Link, error) {
	links, err := queryAll(ctx, d.r, 0, scanLink, strandedLinksSQL, target)
	if err != nil {
		return nil, fmt.Errorf("stranded links of %s: %w", target, err)
	}
	return links, nil
}
