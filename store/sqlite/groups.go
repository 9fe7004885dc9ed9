package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/store"
)

// Jobs for group changes: the engine works user by user (a user's desired
// Atlassian groups are its flattened IdP groups), so besides the group's own
// job a change enqueues every user whose flattened membership it changes
// (see store.Store): the users added or removed, directly or inside an added
// or removed nested group, and every user under a group that is renamed or
// deleted. A rename of a large group thus enqueues every user under it, in
// the same transaction.

const groupCols = `groups.seq, groups.id, groups.tenant, groups.external_id, groups.display_name,
	groups.attributes, groups.version, groups.created_at, groups.updated_at`

type groupRow struct {
	seq   int64
	g     store.Group
	attrs string
}

func scanGroup(s scanner) (groupRow, error) {
	var (
		r                groupRow
		ext              sql.NullString
		created, updated int64
	)
	if err := s.Scan(&r.seq, &r.g.ID, &r.g.Tenant, &ext, &r.g.DisplayName, &r.attrs, &r.g.Version,
		&created, &updated); err != nil {
		return groupRow{}, err
	}
	r.g.ExternalID = ext.String
	r.g.CreatedAt, r.g.UpdatedAt = fromNanos(created), fromNanos(updated)
	return r, nil
}

func (r groupRow) decoded() (store.Group, error) {
	g := r.g
	m, err := decodeAttrs(r.attrs)
	if err != nil {
		return store.Group{}, err
	}
	g.Attributes = m
	return g, nil
}

func groupConflict(err error, g store.Group) error {
	return conflict(err, map[string]string{
		"display_name_fold": fmt.Sprintf("displayName %q", g.DisplayName),
		"id":                fmt.Sprintf("id %q", g.ID),
	})
}

func checkGroup(g store.Group) error {
	if g.Tenant == "" {
		return errors.New("tenant is empty")
	}
	if g.DisplayName == "" {
		return errors.New("displayName is empty")
	}
	return nil
}

// memberIDs returns the distinct member values in input order.
func memberIDs(ms []store.Member) []string {
	seen := make(map[string]bool, len(ms))
	ids := make([]string, 0, len(ms))
	for _, m := range ms {
		if !seen[m.Value] {
			seen[m.Value] = true
			ids = append(ids, m.Value)
		}
	}
	return ids
}

// memberKind resolves a new member of group: a live user or group of the
// tenant, never the group itself.
func memberKind(ctx context.Context, tx querier, tenant, group, id string) (store.ResourceKind, error) {
	if id == group {
		return "", fmt.Errorf("group %q cannot contain itself: %w", group, store.ErrInvalidMember)
	}
	var kind string
	err := tx.QueryRowContext(ctx, `SELECT 'User' FROM users WHERE tenant = ?1 AND id = ?2 AND deleted_at IS NULL
		UNION ALL SELECT 'Group' FROM groups WHERE tenant = ?1 AND id = ?2 AND deleted_at IS NULL`, tenant, id).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("member %q is no user or group of the tenant: %w", id, store.ErrInvalidMember)
	}
	return store.ResourceKind(kind), err
}

// addMembers validates and inserts memberships.
func addMembers(ctx context.Context, tx querier, tenant, group string, ids []string) error {
	for _, id := range ids {
		kind, err := memberKind(ctx, tx, tenant, group, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO members (group_id, member_id, member_kind) VALUES (?1, ?2, ?3)`,
			group, id, string(kind)); err != nil {
			return fmt.Errorf("add member %q: %w", id, err)
		}
	}
	return nil
}

// CreateGroup stores a new group with its members; see store.Store.
func (d *DB) CreateGroup(ctx context.Context, g store.Group) (store.Group, error) {
	if err := checkGroup(g); err != nil {
		return store.Group{}, fmt.Errorf("create group %q: %w", g.DisplayName, err)
	}
	checkID := g.ID != "" // a fresh random UUID cannot collide
	if !checkID {
		g.ID = uuid.NewString()
	}
	attrs, err := encodeAttrs(g.Attributes)
	if err != nil {
		return store.Group{}, fmt.Errorf("create group %q: %w", g.DisplayName, err)
	}
	now := d.utcNow()
	var members []store.Member
	err = d.write(ctx, func(tx *wtx) error {
		if checkID {
			if taken, err := idTaken(ctx, tx, g.ID); err != nil {
				return err
			} else if taken {
				return fmt.Errorf("id %q is taken: %w", g.ID, store.ErrConflict)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO groups (id, tenant, external_id, display_name, display_name_fold,
			attributes, version, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, ?7)`,
			g.ID, g.Tenant, nullable(g.ExternalID), g.DisplayName, fold(g.DisplayName), attrs, nanos(now))
		if err != nil {
			return groupConflict(err, g)
		}
		if err := addMembers(ctx, tx, g.Tenant, g.ID, memberIDs(g.Members)); err != nil {
			return err
		}
		ms, err := groupMembers(ctx, tx, []string{g.ID})
		members = ms[g.ID]
		if err != nil {
			return err
		}
		if err := enqueueUsers(ctx, tx, g.Tenant, nil, []string{g.ID}, now); err != nil {
			return err
		}
		return enqueue(ctx, tx, g.Tenant, store.KindGroup, g.ID, now)
	})
	if err != nil {
		return store.Group{}, fmt.Errorf("create group %q: %w", g.DisplayName, err)
	}
	m, err := decodeAttrs(attrs)
	if err != nil {
		return store.Group{}, fmt.Errorf("create group %q: %w", g.DisplayName, err)
	}
	g.Attributes, g.Members, g.Version, g.CreatedAt, g.UpdatedAt = m, members, 1, now, now
	return g, nil
}

// groupMembers loads the members of the groups, with Kind and Display, in
// one query; each group's members are ordered by id.
func groupMembers(ctx context.Context, q querier, ids []string) (map[string][]store.Member, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT m.group_id, m.member_id, m.member_kind,
			COALESCE(NULLIF(u.display_name, ''), u.user_name, g.display_name, '')
		FROM members m
		LEFT JOIN users u ON m.member_kind = 'User' AND u.id = m.member_id
		LEFT JOIN groups g ON m.member_kind = 'Group' AND g.id = m.member_id
		WHERE m.group_id IN (SELECT value FROM json_each(?1))
		ORDER BY m.group_id, m.member_id`, string(list))
	if err != nil {
		return nil, fmt.Errorf("load members: %w", err)
	}
	defer rows.Close()
	out := make(map[string][]store.Member)
	for rows.Next() {
		var (
			group, kind string
			m           store.Member
		)
		if err := rows.Scan(&group, &m.Value, &kind, &m.Display); err != nil {
			return nil, fmt.Errorf("load members: %w", err)
		}
		m.Kind = store.ResourceKind(kind)
		out[group] = append(out[group], m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load members: %w", err)
	}
	return out, nil
}

func getGroupRow(ctx context.Context, q querier, tenant, id string) (groupRow, error) {
	r, err := scanGroup(q.QueryRowContext(ctx, `SELECT `+groupCols+` FROM groups
		WHERE groups.tenant = ?1 AND groups.id = ?2 AND groups.deleted_at IS NULL`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return groupRow{}, store.ErrNotFound
	}
	return r, err
}

// GetGroup returns a live group; see store.Store.
func (d *DB) GetGroup(ctx context.Context, tenant, id string, withMembers bool) (store.Group, error) {
	var g store.Group
	err := d.read(ctx, func(tx *sql.Tx) error {
		r, err := getGroupRow(ctx, tx, tenant, id)
		if err != nil {
			return err
		}
		if g, err = r.decoded(); err != nil {
			return err
		}
		if !withMembers {
			return nil
		}
		ms, err := groupMembers(ctx, tx, []string{id})
		g.Members = ms[id]
		return err
	})
	if err != nil {
		return store.Group{}, fmt.Errorf("get group %q: %w", id, err)
	}
	return g, nil
}

// ListGroups returns one page of live groups in creation order and the
// total; see store.Store.
func (d *DB) ListGroups(ctx context.Context, tenant string, q store.Query) ([]store.Group, int, error) {
	var (
		groups []store.Group
		total  int
	)
	err := d.read(ctx, func(tx *sql.Tx) error {
		var rows []groupRow
		var err error
		total, err = list(ctx, tx, groupsTable, tenant, q, groupCols, func(s scanner) error {
			r, err := scanGroup(s)
			rows = append(rows, r)
			return err
		})
		if err != nil || len(rows) == 0 {
			return err
		}
		var members map[string][]store.Member
		if q.WithMembers {
			ids := make([]string, len(rows))
			for i, r := range rows {
				ids[i] = r.g.ID
			}
			if members, err = groupMembers(ctx, tx, ids); err != nil {
				return err
			}
		}
		groups = make([]store.Group, len(rows))
		for i, r := range rows {
			if groups[i], err = r.decoded(); err != nil {
				return err
			}
			groups[i].Members = members[r.g.ID]
		}
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("list groups of tenant %q: %w", tenant, err)
	}
	return groups, total, nil
}

// UpdateGroup is a read-modify-write inside the writer's IMMEDIATE
// transaction that applies only the difference of the member list; see
// store.Store.
func (d *DB) UpdateGroup(ctx context.Context, tenant, id string, fn func(*store.Group) error) (store.Group, error) {
	var (
		out      store.Group
		outAttrs string // decoded into out after the commit, off the writer
	)
	err := d.write(ctx, func(tx *wtx) error {
		cur, err := getGroupRow(ctx, tx, tenant, id)
		if err != nil {
			return err
		}
		ms, err := groupMembers(ctx, tx, []string{id})
		if err != nil {
			return err
		}
		curMembers := ms[id]
		next, err := cur.decoded()
		if err != nil {
			return err
		}
		next.Members = slices.Clone(curMembers)
		if err := fn(&next); err != nil {
			return err
		}
		next.ID, next.Tenant, next.Version = cur.g.ID, cur.g.Tenant, cur.g.Version
		next.CreatedAt, next.UpdatedAt = cur.g.CreatedAt, cur.g.UpdatedAt
		if err := checkGroup(next); err != nil {
			return err
		}
		attrs, err := encodeAttrs(next.Attributes)
		if err != nil {
			return err
		}
		had := make(map[string]bool, len(curMembers))
		for _, m := range curMembers {
			had[m.Value] = true
		}
		want := memberIDs(next.Members)
		wanted := make(map[string]bool, len(want))
		var added, removed []string
		for _, m := range want {
			wanted[m] = true
			if !had[m] {
				added = append(added, m)
			}
		}
		for _, m := range curMembers {
			if !wanted[m.Value] {
				removed = append(removed, m.Value)
			}
		}
		fieldsChanged := attrs != cur.attrs || next.DisplayName != cur.g.DisplayName || next.ExternalID != cur.g.ExternalID
		if !fieldsChanged && len(added) == 0 && len(removed) == 0 {
			// Nothing changed: write nothing, enqueue nothing, keep the version.
			out, outAttrs = cur.g, cur.attrs
			out.Members = curMembers
			return nil
		}
		now := d.utcNow()
		if _, err := tx.ExecContext(ctx, `UPDATE groups SET external_id = ?1, display_name = ?2, display_name_fold = ?3,
			attributes = ?4, version = version + 1, updated_at = ?5 WHERE seq = ?6`,
			nullable(next.ExternalID), next.DisplayName, fold(next.DisplayName), attrs, nanos(now), cur.seq); err != nil {
			return groupConflict(err, next)
		}
		for _, m := range removed {
			if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE group_id = ?1 AND member_id = ?2`, id, m); err != nil {
				return fmt.Errorf("remove member %q: %w", m, err)
			}
		}
		if err := addMembers(ctx, tx, tenant, id, added); err != nil {
			return err
		}
		if ms, err = groupMembers(ctx, tx, []string{id}); err != nil {
			return err
		}
		// The users whose flattened membership changed: the added and
		// removed users, the users under added and removed groups, and on
		// a rename everyone under the group.
		kinds := make(map[string]store.ResourceKind, len(curMembers)+len(ms[id]))
		for _, m := range slices.Concat(curMembers, ms[id]) {
			kinds[m.Value] = m.Kind
		}
		var users, groups []string
		for _, m := range slices.Concat(added, removed) {
			if kinds[m] == store.KindGroup {
				groups = append(groups, m)
			} else {
				users = append(users, m)
			}
		}
		if next.DisplayName != cur.g.DisplayName {
			groups = append(groups, id)
		}
		if err := enqueueUsers(ctx, tx, tenant, users, groups, now); err != nil {
			return err
		}
		if err := enqueue(ctx, tx, tenant, store.KindGroup, id, now); err != nil {
			return err
		}
		out, outAttrs = next, attrs
		out.Members, out.Version, out.UpdatedAt = ms[id], cur.g.Version+1, now
		return nil
	})
	if err == nil {
		out.Attributes, err = decodeAttrs(outAttrs)
	}
	if err != nil {
		return store.Group{}, fmt.Errorf("update group %q: %w", id, err)
	}
	return out, nil
}

// DeleteGroup tombstones the group and removes its memberships both ways;
// parent groups that lost it as a member get a new version and a job, and
// so does every user under it.
func (d *DB) DeleteGroup(ctx context.Context, tenant, id string) error {
	now := d.utcNow()
	err := d.write(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE groups SET deleted_at = ?1, updated_at = ?1, version = version + 1
			WHERE tenant = ?2 AND id = ?3 AND deleted_at IS NULL`, nanos(now), tenant, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		// Everyone under the group loses it (and the groups above it):
		// found before its memberships go.
		if err := enqueueUsers(ctx, tx, tenant, nil, []string{id}, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE group_id = ?1`, id); err != nil {
			return fmt.Errorf("remove members: %w", err)
		}
		if err := removeMember(ctx, tx, tenant, id, now); err != nil {
			return err
		}
		return enqueue(ctx, tx, tenant, store.KindGroup, id, now)
	})
	if err != nil {
		return fmt.Errorf("delete group %q: %w", id, err)
	}
	return nil
}

// touchGroup records that a group's member list changed outside
// UpdateGroup: new version, new lastModified, and a job.
func touchGroup(ctx context.Context, tx querier, tenant, id string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE groups SET version = version + 1, updated_at = ?1
		WHERE tenant = ?2 AND id = ?3 AND deleted_at IS NULL`, nanos(now), tenant, id); err != nil {
		return fmt.Errorf("touch group %q: %w", id, err)
	}
	return enqueue(ctx, tx, tenant, store.KindGroup, id, now)
}
