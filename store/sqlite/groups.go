package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
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

// membersCol renders, in the statement that reads a group, its members as
// a JSON array of [id, kind, display] triples (see store.Member): one row
// for the whole list, where one row per member cost a cgo call and a Scan
// each, and one snapshot with the group row, without an explicit
// transaction. The display is the one the members row keeps current
// (migration 0003); decodeMembers orders the members by id.
const membersCol = `(SELECT json_group_array(json_array(m.member_id, m.member_kind, m.display))
	FROM members m WHERE m.group_id = groups.id)`

// groupReadCols are the columns a group read selects: groupCols, and
// membersCol when members are wanted; scanGroupRead reads them.
func groupReadCols(withMembers bool) string {
	if withMembers {
		return groupCols + `, ` + membersCol
	}
	return groupCols
}

func scanGroupRead(s scanner, withMembers bool, extra ...any) (groupRow, error) {
	if !withMembers {
		return scanGroup(extraScan{s, extra})
	}
	var members string
	r, err := scanGroup(extraScan{s, append([]any{&members}, extra...)})
	if err != nil {
		return groupRow{}, err
	}
	if r.g.Members, err = decodeMembers(members); err != nil {
		return groupRow{}, err
	}
	return r, nil
}

// decodeMembers reads membersCol; no members is nil. The members come
// ordered by id: SQLite reads them in primary key order, so the sort only
// checks that (it is not something a json_group_array without ORDER BY
// promises, and an ORDER BY there costs a temporary b-tree).
func decodeMembers(s string) ([]store.Member, error) {
	var out []store.Member
	if n := strings.Count(s, "],["); n > 0 {
		out = make([]store.Member, 0, n+1) // (an upper bound: a display may hold "],[")
	}
	err := stringTuples(s, 3, func(t []string) {
		out = append(out, store.Member{Value: t[0], Kind: store.ResourceKind(t[1]), Display: t[2]})
	})
	if err != nil {
		return nil, fmt.Errorf("decode members: %w", err)
	}
	if !slices.IsSortedFunc(out, byValue) {
		slices.SortFunc(out, byValue)
	}
	return out, nil
}

// memberDisplay is what a membership row keeps as the display of a user
// member: its displayName attribute, else its userName (as store.Member
// says).
func memberDisplay(displayName, userName string) string {
	if displayName != "" {
		return displayName
	}
	return userName
}

// setMemberDisplay records a member's new display in every group that
// contains it.
func (d *DB) setMemberDisplay(ctx context.Context, tx *wtx, tenant, member, display string, now time.Time) error {
	d.wr.members.invalidate()
	if _, err := tx.ExecContext(ctx, `UPDATE members SET display = ?1 WHERE member_id = ?2`, display, member); err != nil {
		return fmt.Errorf("update display of member %q: %w", member, err)
	}
	// The groups holding it now show another display: a new version (the
	// ETag) and lastModified. A version changes no user's groups attribute
	// (lookupcache.go).
	if err := tx.keepUsers(func() error {
		_, err := tx.ExecContext(ctx, bumpGroupsOfMemberSQL, nanos(now), tenant, member)
		return err
	}); err != nil {
		return fmt.Errorf("touch the groups of member %q: %w", member, err)
	}
	return nil
}

// The statements that give users and groups a new version when only what
// is computed about them changed (?1 now, ?2 tenant, ?3 the list, group or
// member). The unary + keeps SQLite off the tenant indexes: through
// users_tenant_seq one membership PATCH walked all 100,000 users of the
// tenant (19 ms) instead of looking up its one id (TestVersionBumpPlans).
const (
	bumpUsersSQL = `UPDATE users SET version = version + 1, updated_at = ?1
		WHERE id IN (SELECT value FROM json_each(?3)) AND +tenant = ?2 AND deleted_at IS NULL`
	bumpMemberUsersSQL = `UPDATE users SET version = version + 1, updated_at = ?1
		WHERE id IN (SELECT member_id FROM members WHERE group_id = ?3 AND member_kind = 'User')
			AND +tenant = ?2 AND deleted_at IS NULL`
	bumpGroupsOfMemberSQL = `UPDATE groups SET version = version + 1, updated_at = ?1
		WHERE id IN (SELECT group_id FROM members WHERE member_id = ?3) AND +tenant = ?2 AND deleted_at IS NULL`
)

// bumpUsers gives the users ids a new version and lastModified: their
// groups attribute changed (they joined or left a group) though their row
// did not, and meta.version is their ETag.
func bumpUsers(ctx context.Context, tx querier, tenant string, ids []string, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, bumpUsersSQL, nanos(now), tenant, string(list)); err != nil {
		return fmt.Errorf("touch %d users: %w", len(ids), err)
	}
	return nil
}

// bumpMemberUsers is bumpUsers for every user directly in group (renamed,
// created with them, or deleted).
func bumpMemberUsers(ctx context.Context, tx querier, tenant, group string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, bumpMemberUsersSQL, nanos(now), tenant, group); err != nil {
		return fmt.Errorf("touch the users in group %q: %w", group, err)
	}
	return nil
}

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
	m, err := decodeAttrsQuick(r.attrs)
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

// sortedIDs returns the distinct member values, sorted bytewise.
func sortedIDs(ms []store.Member) []string {
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.Value
	}
	slices.Sort(ids)
	return slices.Compact(ids)
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

// memberInfo resolves a new member of group: a live user or group of the
// tenant, never the group itself; Kind and Display are filled in as a read
// (membersCol) would.
func memberInfo(ctx context.Context, tx querier, tenant, group, id string) (store.Member, error) {
	if id == group {
		return store.Member{}, fmt.Errorf("group %q cannot contain itself: %w", group, store.ErrInvalidMember)
	}
	m := store.Member{Value: id}
	var kind string
	err := tx.QueryRowContext(ctx, `SELECT 'User', COALESCE(NULLIF(display_name, ''), user_name) FROM users
			WHERE tenant = ?1 AND id = ?2 AND deleted_at IS NULL
		UNION ALL SELECT 'Group', display_name FROM groups WHERE tenant = ?1 AND id = ?2 AND deleted_at IS NULL`,
		tenant, id).Scan(&kind, &m.Display)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Member{}, fmt.Errorf("member %q is no user or group of the tenant: %w", id, store.ErrInvalidMember)
	}
	m.Kind = store.ResourceKind(kind)
	return m, err
}

// addMembers validates and inserts memberships and returns the members
// added, with Kind and Display.
func addMembers(ctx context.Context, tx querier, tenant, group string, ids []string) ([]store.Member, error) {
	added := make([]store.Member, 0, len(ids))
	for _, id := range ids {
		m, err := memberInfo(ctx, tx, tenant, group, id)
		if err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO members (group_id, member_id, member_kind, display) VALUES (?1, ?2, ?3, ?4)`,
			group, id, string(m.Kind), m.Display); err != nil {
			return nil, fmt.Errorf("add member %q: %w", id, err)
		}
		added = append(added, m)
	}
	return added, nil
}

// byValue orders members as reads return them: by id, bytewise (SQLite's
// BINARY collation, which membersCol sorts with).
func byValue(a, b store.Member) int { return strings.Compare(a.Value, b.Value) }

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
		d.wr.members.invalidate()
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
		added, err := addMembers(ctx, tx, g.Tenant, g.ID, memberIDs(g.Members))
		if err != nil {
			return err
		}
		if len(added) > 0 {
			members = slices.SortedFunc(slices.Values(added), byValue)
			if err := bumpMemberUsers(ctx, tx, g.Tenant, g.ID, now); err != nil {
				return err
			}
		}
		if err := d.enqueueUsers(ctx, tx, g.Tenant, nil, []string{g.ID}, now); err != nil {
			return err
		}
		return d.enqueue(ctx, tx, g.Tenant, store.KindGroup, g.ID, now)
	})
	if err != nil {
		return store.Group{}, fmt.Errorf("create group %q: %w", g.DisplayName, err)
	}
	m, err := decodeAttrsQuick(attrs)
	if err != nil {
		return store.Group{}, fmt.Errorf("create group %q: %w", g.DisplayName, err)
	}
	g.Attributes, g.Members, g.Version, g.CreatedAt, g.UpdatedAt = m, members, 1, now, now
	return g, nil
}

// getGroupRow reads one live group, with its members if asked, in one
// statement.
func getGroupRow(ctx context.Context, q querier, tenant, id string, withMembers bool) (groupRow, error) {
	r, err := scanGroupRead(q.QueryRowContext(ctx, `SELECT `+groupReadCols(withMembers)+` FROM groups
		WHERE groups.tenant = ?1 AND groups.id = ?2 AND groups.deleted_at IS NULL`, tenant, id), withMembers)
	if errors.Is(err, sql.ErrNoRows) {
		return groupRow{}, store.ErrNotFound
	}
	return r, err
}

// GetGroup returns a live group; see store.Store.
func (d *DB) GetGroup(ctx context.Context, tenant, id string, withMembers bool) (store.Group, error) {
	var (
		r groupRow
		g store.Group
	)
	bctx, err := bounded(ctx)
	if err == nil {
		r, err = getGroupRow(bctx, d.r, tenant, id, withMembers)
	}
	if err == nil {
		g, err = r.decoded()
	}
	if err != nil {
		return store.Group{}, fmt.Errorf("get group %q: %w", id, err)
	}
	return g, nil
}

// ListGroups returns one page of live groups in creation order and the
// total; see store.Store.
func (d *DB) ListGroups(ctx context.Context, tenant string, q store.Query) ([]store.Group, int, error) {
	var rows []groupRow
	total, err := d.list(ctx, groupsTable, tenant, q, groupReadCols(q.WithMembers), func(s scanner) error {
		r, err := scanGroupRead(s, q.WithMembers)
		rows = append(rows, r)
		return err
	})
	var groups []store.Group
	if err == nil && len(rows) > 0 {
		groups = make([]store.Group, len(rows))
		for i, r := range rows {
			if groups[i], err = r.decoded(); err != nil {
				break
			}
		}
	}
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
		cur, err := getGroupRow(ctx, tx, tenant, id, true)
		if err != nil {
			return err
		}
		curMembers := cur.g.Members
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
		// The diff by merging sorted id lists: curMembers comes sorted by id
		// (decodeMembers); maps of every member cost more than the rest of
		// a one-member change of a 1000-member group.
		want := sortedIDs(next.Members)
		var added, removed []string
		i, j := 0, 0
		for i < len(curMembers) || j < len(want) {
			switch {
			case j == len(want) || i < len(curMembers) && curMembers[i].Value < want[j]:
				removed = append(removed, curMembers[i].Value)
				i++
			case i == len(curMembers) || want[j] < curMembers[i].Value:
				added = append(added, want[j])
				j++
			default:
				i++
				j++
			}
		}
		fieldsChanged := attrs != cur.attrs || next.DisplayName != cur.g.DisplayName || next.ExternalID != cur.g.ExternalID
		if !fieldsChanged && len(added) == 0 && len(removed) == 0 {
			// Nothing changed: write nothing, enqueue nothing, keep the version.
			out, outAttrs = cur.g, cur.attrs
			out.Members = curMembers
			return nil
		}
		d.wr.members.invalidate()
		now := d.utcNow()
		if _, err := tx.ExecContext(ctx, `UPDATE groups SET external_id = ?1, display_name = ?2, display_name_fold = ?3,
			attributes = ?4, version = version + 1, updated_at = ?5 WHERE seq = ?6`,
			nullable(next.ExternalID), next.DisplayName, fold(next.DisplayName), attrs, nanos(now), cur.seq); err != nil {
			return groupConflict(err, next)
		}
		if next.DisplayName != cur.g.DisplayName {
			if err := d.setMemberDisplay(ctx, tx, tenant, id, next.DisplayName, now); err != nil {
				return err
			}
			// Every user in it shows the new name in its groups: the
			// ones staying, and those leaving now (bumped below).
			if err := bumpMemberUsers(ctx, tx, tenant, id, now); err != nil {
				return err
			}
		}
		for _, m := range removed {
			if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE group_id = ?1 AND member_id = ?2`, id, m); err != nil {
				return fmt.Errorf("remove member %q: %w", m, err)
			}
		}
		newMembers, err := addMembers(ctx, tx, tenant, id, added)
		if err != nil {
			return err
		}
		// The member list as a read would now return it, without reading
		// it again: what stayed (Display is current, read in this
		// transaction) and what was added.
		members := make([]store.Member, 0, len(curMembers)-len(removed)+len(newMembers))
		for _, m := range curMembers {
			if _, gone := slices.BinarySearch(removed, m.Value); !gone {
				members = append(members, m)
			}
		}
		members = append(members, newMembers...)
		slices.SortFunc(members, byValue)
		if len(members) == 0 {
			members = nil
		}
		// The users whose flattened membership changed: the added and
		// removed users, the users under added and removed groups, and on
		// a rename everyone under the group.
		var users, groups []string
		for _, m := range newMembers { // added, with their kinds
			if m.Kind == store.KindGroup {
				groups = append(groups, m.Value)
			} else {
				users = append(users, m.Value)
			}
		}
		joined := len(users)
		for _, id := range removed {
			k, _ := slices.BinarySearchFunc(curMembers, id, func(m store.Member, id string) int { return strings.Compare(m.Value, id) })
			if curMembers[k].Kind == store.KindGroup {
				groups = append(groups, id)
			} else {
				users = append(users, id)
			}
		}
		if next.DisplayName != cur.g.DisplayName {
			groups = append(groups, id)
		}
		// The users who joined or left show other groups; on a rename
		// those who left were bumped with everyone in it.
		bump := users
		if next.DisplayName != cur.g.DisplayName {
			bump = users[:joined]
		}
		if err := bumpUsers(ctx, tx, tenant, bump, now); err != nil {
			return err
		}
		if err := d.enqueueUsers(ctx, tx, tenant, users, groups, now); err != nil {
			return err
		}
		if err := d.enqueue(ctx, tx, tenant, store.KindGroup, id, now); err != nil {
			return err
		}
		out, outAttrs = next, attrs
		out.Members, out.Version, out.UpdatedAt = members, cur.g.Version+1, now
		return nil
	})
	if err == nil {
		out.Attributes, err = decodeAttrsQuick(outAttrs)
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
		d.wr.members.invalidate()
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
		if err := d.enqueueUsers(ctx, tx, tenant, nil, []string{id}, now); err != nil {
			return err
		}
		if err := bumpMemberUsers(ctx, tx, tenant, id, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE group_id = ?1`, id); err != nil {
			return fmt.Errorf("remove members: %w", err)
		}
		if err := d.removeMember(ctx, tx, tenant, id, now); err != nil {
			return err
		}
		return d.enqueue(ctx, tx, tenant, store.KindGroup, id, now)
	})
	if err != nil {
		return fmt.Errorf("delete group %q: %w", id, err)
	}
	return nil
}

// touchGroup records that a group's member list changed outside
// UpdateGroup: new version, new lastModified, and a job.
func (d *DB) touchGroup(ctx context.Context, tx *wtx, tenant, id string, now time.Time) error {
	d.wr.members.invalidate()
	// A version bump changes no user's groups attribute (lookupcache.go).
	if err := tx.keepUsers(func() error {
		_, err := tx.ExecContext(ctx, `UPDATE groups SET version = version + 1, updated_at = ?1
			WHERE tenant = ?2 AND id = ?3 AND deleted_at IS NULL`, nanos(now), tenant, id)
		return err
	}); err != nil {
		return fmt.Errorf("touch group %q: %w", id, err)
	}
	return d.enqueue(ctx, tx, tenant, store.KindGroup, id, now)
}

// PatchGroupMembers changes some members of a group without reading the
// others: the delta form of an UpdateGroup whose fn only adds and removes
// members, for the membership PATCHes IdPs send (a few members of a large
// group at a time). Inside the writer it reads the group row, calls check
// on it (Members not loaded), looks up only the ids named, inserts and
// deletes those membership rows, bumps the version and enqueues the group
// and the users whose flattened membership changed, as UpdateGroup does;
// when nothing changes (adds of members, removes of non-members) it writes
// nothing and keeps the version.
//
// add are ids to be members afterwards (each validated as UpdateGroup
// validates a new member, unless it already is one); remove are ids not to
// be members; removeFold removes every member whose id equals one of them
// under strings.EqualFold, except the ids in add and remove, which decide
// for themselves. The caller resolves the order of its operations into
// these three lists. With withMembers the returned group carries its whole
// member list as a read would return it (read in the same transaction, so
// it matches the version; decoded after the commit, off the writer).
// Returns ErrNotFound, ErrInvalidMember, or check's error.
func (d *DB) PatchGroupMembers(ctx context.Context, tenant, id string, check func(store.Group) error,
	add, remove, removeFold []string, withMembers bool) (store.Group, error) {
	var (
		out         store.Group
		outAttrs    string
		rawMembers  string
		haveMembers bool
		members     []store.Member // the whole list, when withMembers
		gen         uint64
	)
	err := d.write(ctx, func(tx *wtx) error {
		cur, err := getGroupRow(ctx, tx, tenant, id, false)
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(cur.g); err != nil {
				return err
			}
		}
		toAdd, gone, err := memberDelta(ctx, tx, id, add, remove, removeFold)
		if err != nil {
			return err
		}
		out, outAttrs = cur.g, cur.attrs
		gen = d.wr.members.generation()
		cached, hit := d.wr.members.get(id, cur.g.Version)
		var added []store.Member
		if len(toAdd) > 0 || len(gone) > 0 {
			now := d.utcNow()
			// The version bump changes no user's groups attribute; the
			// members added and removed are named below (lookupcache.go).
			if err := tx.keepUsers(func() error {
				_, err := tx.ExecContext(ctx, `UPDATE groups SET version = version + 1, updated_at = ?1 WHERE seq = ?2`,
					nanos(now), cur.seq)
				return err
			}); err != nil {
				return fmt.Errorf("touch group: %w", err)
			}
			var users, groups []string
			for _, m := range gone {
				if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE group_id = ?1 AND member_id = ?2`, id, m.Value); err != nil {
					return fmt.Errorf("remove member %q: %w", m.Value, err)
				}
			}
			added, err = addMembers(ctx, tx, tenant, id, toAdd)
			if err != nil {
				return err
			}
			for _, m := range append(added, gone...) {
				if m.Kind == store.KindGroup {
					groups = append(groups, m.Value)
				} else {
					users = append(users, m.Value)
				}
			}
			tx.usersChanged(users...)
			if err := bumpUsers(ctx, tx, tenant, users, now); err != nil {
				return err
			}
			if err := d.enqueueUsers(ctx, tx, tenant, users, groups, now); err != nil {
				return err
			}
			if err := d.enqueue(ctx, tx, tenant, store.KindGroup, id, now); err != nil {
				return err
			}
			out.Version, out.UpdatedAt = cur.g.Version+1, now
		}
		switch {
		case withMembers && hit:
			members = applyMemberDelta(cached, added, gone)
			d.wr.members.put(id, out.Version, gen, members)
		case withMembers:
			haveMembers = true
			if err := tx.QueryRowContext(ctx, `SELECT `+membersCol+` FROM groups WHERE groups.id = ?1`, id).Scan(&rawMembers); err != nil {
				return fmt.Errorf("read members: %w", err)
			}
		}
		return nil
	})
	if err == nil {
		out.Attributes, err = decodeAttrsQuick(outAttrs)
	}
	if err == nil && haveMembers {
		if members, err = decodeMembers(rawMembers); err == nil {
			d.wr.members.put(id, out.Version, gen, members)
		}
	}
	if err == nil && withMembers {
		out.Members = slices.Clone(members) // the cache keeps members
	}
	if err != nil {
		return store.Group{}, fmt.Errorf("patch members of group %q: %w", id, err)
	}
	return out, nil
}

// memberDelta finds what PatchGroupMembers changes: the ids of add that
// are no members yet (distinct, in order), and the members that go, with
// their kinds: those named in remove, and those matching removeFold that
// add and remove do not name.
func memberDelta(ctx context.Context, tx querier, group string, add, remove, removeFold []string) ([]string, []store.Member, error) {
	named := make(map[string]bool, len(add)+len(remove))
	kindOf := func(id string) (store.ResourceKind, bool, error) {
		var kind string
		err := tx.QueryRowContext(ctx, `SELECT member_kind FROM members WHERE group_id = ?1 AND member_id = ?2`, group, id).Scan(&kind)
		if errors.Is(err, sql.ErrNoRows) {
			return "", false, nil
		}
		if err != nil {
			return "", false, fmt.Errorf("look up member %q: %w", id, err)
		}
		return store.ResourceKind(kind), true, nil
	}
	var toAdd []string
	for _, id := range add {
		if named[id] {
			continue
		}
		named[id] = true
		if _, ok, err := kindOf(id); err != nil {
			return nil, nil, err
		} else if !ok {
			toAdd = append(toAdd, id)
		}
	}
	var gone []store.Member
	for _, id := range remove {
		if named[id] {
			continue
		}
		named[id] = true
		if kind, ok, err := kindOf(id); err != nil {
			return nil, nil, err
		} else if ok {
			gone = append(gone, store.Member{Value: id, Kind: kind})
		}
	}
	for _, f := range removeFold {
		// SQLite's NOCASE folds ASCII letters only, which is what
		// strings.EqualFold does between ASCII strings; an id with other
		// characters may fold onto ASCII ones (U+212A KELVIN SIGN is k), so
		// such members are candidates too, and a non-ASCII f reads every
		// member. strings.EqualFold decides.
		q := `SELECT member_id, member_kind FROM members WHERE group_id = ?1 AND (member_id = ?2 COLLATE NOCASE
			OR length(member_id) < length(CAST(member_id AS BLOB)))`
		if !isASCII(f) {
			q = `SELECT member_id, member_kind FROM members WHERE group_id = ?1 AND ?2 IS NOT NULL`
		}
		rows, err := tx.QueryContext(ctx, q, group, f)
		if err != nil {
			return nil, nil, fmt.Errorf("look up members like %q: %w", f, err)
		}
		for rows.Next() {
			var m store.Member
			var kind string
			if err := rows.Scan(&m.Value, &kind); err != nil {
				_ = rows.Close()
				return nil, nil, fmt.Errorf("look up members like %q: %w", f, err)
			}
			if !named[m.Value] && strings.EqualFold(m.Value, f) {
				named[m.Value] = true
				m.Kind = store.ResourceKind(kind)
				gone = append(gone, m)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, nil, fmt.Errorf("look up members like %q: %w", f, err)
		}
		if err := rows.Err(); err != nil {
			return nil, nil, fmt.Errorf("look up members like %q: %w", f, err)
		}
	}
	return toAdd, gone, nil
}

// applyMemberDelta returns members (sorted by id, not modified) without
// gone and with added, sorted by id as a read returns them; nil for none.
// One copy and a binary search per change: it runs inside the writer.
func applyMemberDelta(members, added, gone []store.Member) []store.Member {
	out := make([]store.Member, len(members), len(members)+len(added))
	copy(out, members)
	find := func(id string) (int, bool) {
		return slices.BinarySearchFunc(out, id, func(m store.Member, id string) int { return strings.Compare(m.Value, id) })
	}
	for _, g := range gone {
		if i, ok := find(g.Value); ok {
			out = slices.Delete(out, i, i+1)
		}
	}
	for _, a := range added {
		if i, ok := find(a.Value); !ok {
			out = slices.Insert(out, i, a)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}
