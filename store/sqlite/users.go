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

	"github.com/scimbridge/scimbridge/internal/jsondec"
	"github.com/scimbridge/scimbridge/store"
)

// querier is what *sql.Tx and *sql.DB have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

const userCols = `users.seq, users.id, users.tenant, users.external_id, users.user_name, users.active,
	users.attributes, users.version, users.created_at, users.updated_at`

// userGroupsCol renders, in the statement that reads a user, the live
// groups the user is a direct member of as a JSON array of [id,
// displayName] pairs in the order store.User.Groups promises. One statement
// reads one snapshot, so a user and its groups need neither a second query
// nor an explicit read transaction (BEGIN and ROLLBACK on the reader, with
// database/sql's Tx bookkeeping, cost more than the lookup itself).
const userGroupsCol = `(SELECT json_group_array(json_array(g.id, g.display_name)
		ORDER BY g.display_name_fold, g.display_name, g.id)
	FROM members m JOIN groups g ON g.id = m.group_id
	WHERE m.member_id = users.id AND g.deleted_at IS NULL)`

// userReadCols are userCols followed by userGroupsCol; scanUserRead reads them.
const userReadCols = userCols + `, ` + userGroupsCol

// userRow is a scanned users row; attrs stays the stored canonical JSON.
type userRow struct {
	seq   int64
	u     store.User
	attrs string
}

type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner) (userRow, error) {
	var (
		r                userRow
		ext              sql.NullString
		created, updated int64
	)
	if err := s.Scan(&r.seq, &r.u.ID, &r.u.Tenant, &ext, &r.u.UserName, &r.u.Active,
		&r.attrs, &r.u.Version, &created, &updated); err != nil {
		return userRow{}, err
	}
	r.u.ExternalID = ext.String
	r.u.CreatedAt, r.u.UpdatedAt = fromNanos(created), fromNanos(updated)
	return r, nil
}

// scanUserRead scans userReadCols (and extra columns after them into
// extra), filling the user's Groups.
func scanUserRead(s scanner, extra ...any) (userRow, error) {
	var groups string
	r, err := scanUser(extraScan{s, append([]any{&groups}, extra...)})
	if err != nil {
		return userRow{}, err
	}
	if r.u.Groups, err = decodeGroupRefs(groups); err != nil {
		return userRow{}, err
	}
	return r, nil
}

// decodeGroupRefs reads userGroupsCol; no groups is nil.
func decodeGroupRefs(s string) ([]store.GroupRef, error) {
	if s == "[]" {
		return nil, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal([]byte(s), &pairs); err != nil {
		return nil, fmt.Errorf("decode groups: %w", err)
	}
	refs := make([]store.GroupRef, len(pairs))
	for i, p := range pairs {
		refs[i] = store.GroupRef{ID: p[0], DisplayName: p[1]}
	}
	return refs, nil
}

// user returns the user with RawAttributes (raw) or with Attributes
// decoded (a fresh map each call).
func (r userRow) user(raw bool) (store.User, error) {
	if raw {
		u := r.u
		u.RawAttributes = r.attrs
		return u, nil
	}
	return r.decoded()
}

// decoded returns the user with Attributes decoded (a fresh map each call).
func (r userRow) decoded() (store.User, error) {
	u := r.u
	m, err := decodeAttrsQuick(r.attrs)
	if err != nil {
		return store.User{}, err
	}
	u.Attributes = m
	return u, nil
}

// decodeAttrsQuick is decodeAttrs, through quickDecodeAttrs when it can.
func decodeAttrsQuick(s string) (map[string]any, error) {
	if m, ok := quickDecodeAttrs(s); ok {
		return m, nil
	}
	return decodeAttrs(s)
}

// quickDecodeAttrs is decodeAttrs for the JSON encodeAttrs writes: an
// object of objects, arrays, plain strings, numbers and literals. It gives
// up (false) on anything else (escapes, invalid UTF-8, deep nesting, bad
// syntax), and decodeAttrs decides. A lookup by userName spent more CPU in
// encoding/json's decoder for the attributes than in SQLite. Strings share
// attrs' memory instead of being copied.
func quickDecodeAttrs(attrs string) (map[string]any, bool) {
	if strings.TrimSpace(attrs) == "null" {
		return map[string]any{}, true
	}
	return jsondec.Object(attrs, storedNumber)
}

// storedNumber is a number as unmarkNumbers converts it.
func storedNumber(lit string) (any, bool) {
	return unmarkNumbers(json.Number(lit)), true
}

// nullable stores "" as NULL (externalId absent).
func nullable(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// displayNameAttr is the user's displayName attribute, "" when absent or not
// a string.
func displayNameAttr(attrs map[string]any) string {
	s, _ := attrs["displayName"].(string)
	return s
}

func userConflict(err error, u store.User) error {
	return conflict(err, map[string]string{
		"user_name_fold": fmt.Sprintf("userName %q", u.UserName),
		"id":             fmt.Sprintf("id %q", u.ID),
	})
}

func checkUser(u store.User) error {
	if u.Tenant == "" {
		return errors.New("tenant is empty")
	}
	if u.UserName == "" {
		return errors.New("userName is empty")
	}
	return nil
}

// idTaken reports whether id names a user or group, live or deleted, in any
// tenant: member ids must say unambiguously whether they are a user or a
// group, and tombstones keep their id for the engine. Ids are UUIDs the
// store assigns, so a caller-chosen id that collides across tenants is a
// caller bug, reported as ErrConflict.
func idTaken(ctx context.Context, q querier, id string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM users WHERE id = ?1) + (SELECT COUNT(*) FROM groups WHERE id = ?1)`, id).Scan(&n)
	return n > 0, err
}

// CreateUser stores a new user; see store.Store.
func (d *DB) CreateUser(ctx context.Context, u store.User) (store.User, error) {
	if err := checkUser(u); err != nil {
		return store.User{}, fmt.Errorf("create user %q: %w", u.UserName, err)
	}
	// A fresh random UUID cannot collide; only a caller's id is checked
	// (one query less on the hot path).
	checkID := u.ID != ""
	if !checkID {
		u.ID = uuid.NewString()
	}
	attrs, err := encodeAttrs(u.Attributes)
	if err != nil {
		return store.User{}, fmt.Errorf("create user %q: %w", u.UserName, err)
	}
	now := d.utcNow()
	err = d.write(ctx, func(tx *wtx) error {
		if checkID {
			if taken, err := idTaken(ctx, tx, u.ID); err != nil {
				return err
			} else if taken {
				return fmt.Errorf("id %q is taken: %w", u.ID, store.ErrConflict)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, tenant, external_id, user_name, user_name_fold,
			display_name, active, attributes, version, created_at, updated_at)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, ?9, ?9)`,
			u.ID, u.Tenant, nullable(u.ExternalID), u.UserName, fold(u.UserName),
			displayNameAttr(u.Attributes), u.Active, attrs, nanos(now))
		if err != nil {
			return userConflict(err, u)
		}
		return d.enqueue(ctx, tx, u.Tenant, store.KindUser, u.ID, now)
	})
	if err != nil {
		return store.User{}, fmt.Errorf("create user %q: %w", u.UserName, err)
	}
	m, err := decodeAttrsQuick(attrs)
	if err != nil {
		return store.User{}, fmt.Errorf("create user %q: %w", u.UserName, err)
	}
	u.Attributes, u.Groups, u.Version, u.CreatedAt, u.UpdatedAt = m, nil, 1, now, now
	return u, nil
}

// getUserRow reads one live user with its groups in one statement.
func getUserRow(ctx context.Context, q querier, tenant, id string) (userRow, error) {
	r, err := scanUserRead(q.QueryRowContext(ctx, `SELECT `+userReadCols+` FROM users
		WHERE users.tenant = ?1 AND users.id = ?2 AND users.deleted_at IS NULL`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return userRow{}, store.ErrNotFound
	}
	return r, err
}

// GetUser returns a live user with its groups; see store.Store.
func (d *DB) GetUser(ctx context.Context, tenant, id string) (store.User, error) {
	var (
		r userRow
		u store.User
	)
	bctx, err := bounded(ctx)
	if err == nil {
		r, err = getUserRow(bctx, d.r, tenant, id)
	}
	if err == nil {
		u, err = r.decoded()
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user %q: %w", id, err)
	}
	return u, nil
}

// ListUsers returns one page of live users in creation order and the total.
func (d *DB) ListUsers(ctx context.Context, tenant string, q store.Query) ([]store.User, int, error) {
	key, cacheable := "", false
	if d.users != nil {
		key, cacheable = lookupKey(tenant, q)
	}
	var epoch uint64
	if cacheable {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		if r, memo, ok := d.users.get(key); ok {
			u, err := r.user(q.RawAttributes)
			if err != nil {
				return nil, 0, fmt.Errorf("list users of tenant %q: %w", tenant, err)
			}
			u.Memo = memo
			return []store.User{u}, 1, nil
		}
		epoch = d.users.epoch.Load() // before the statement (lookupcache.go)
	}
	var rows []userRow
	total, err := d.list(ctx, usersTable, tenant, q, userReadCols, func(s scanner) error {
		r, err := scanUserRead(s)
		rows = append(rows, r)
		return err
	})
	if cacheable && err == nil && len(rows) == 1 {
		d.users.put(epoch, key, rows[0])
	}
	var users []store.User
	if err == nil && len(rows) > 0 {
		users = make([]store.User, len(rows))
		for i, r := range rows {
			if users[i], err = r.user(q.RawAttributes); err != nil {
				break
			}
		}
	}
	if err != nil {
		return nil, 0, fmt.Errorf("list users of tenant %q: %w", tenant, err)
	}
	return users, total, nil
}

// UpdateUser is a read-modify-write inside the writer's IMMEDIATE
// transaction (fn sees every earlier write of its batch); see store.Store.
func (d *DB) UpdateUser(ctx context.Context, tenant, id string, fn func(*store.User) error) (store.User, error) {
	var (
		out      store.User
		outAttrs string // decoded into out after the commit, off the writer
	)
	err := d.write(ctx, func(tx *wtx) error {
		cur, err := getUserRow(ctx, tx, tenant, id)
		if err != nil {
			return err
		}
		groups := cur.u.Groups
		next, err := cur.decoded() // a fresh copy fn may change at will
		if err != nil {
			return err
		}
		next.Groups = slices.Clone(groups)
		oldDisplay := memberDisplay(displayNameAttr(next.Attributes), next.UserName)
		if err := fn(&next); err != nil {
			return err
		}
		// Fields fn may not change.
		next.ID, next.Tenant, next.Version = cur.u.ID, cur.u.Tenant, cur.u.Version
		next.CreatedAt, next.UpdatedAt, next.Groups = cur.u.CreatedAt, cur.u.UpdatedAt, groups
		if err := checkUser(next); err != nil {
			return err
		}
		attrs, err := encodeAttrs(next.Attributes)
		if err != nil {
			return err
		}
		if attrs == cur.attrs && next.UserName == cur.u.UserName && next.ExternalID == cur.u.ExternalID &&
			next.Active == cur.u.Active {
			// Nothing changed: write nothing, enqueue nothing, keep the version.
			out, outAttrs = cur.u, cur.attrs
			return nil
		}
		now := d.utcNow()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET external_id = ?1, user_name = ?2, user_name_fold = ?3,
			display_name = ?4, active = ?5, attributes = ?6, version = version + 1, updated_at = ?7 WHERE seq = ?8`,
			nullable(next.ExternalID), next.UserName, fold(next.UserName), displayNameAttr(next.Attributes),
			next.Active, attrs, nanos(now), cur.seq); err != nil {
			return userConflict(err, next)
		}
		if display := memberDisplay(displayNameAttr(next.Attributes), next.UserName); display != oldDisplay {
			if err := d.setMemberDisplay(ctx, tx, tenant, id, display, now); err != nil {
				return err
			}
		}
		if err := d.enqueue(ctx, tx, tenant, store.KindUser, id, now); err != nil {
			return err
		}
		out, outAttrs = next, attrs
		out.Version, out.UpdatedAt = cur.u.Version+1, now
		return nil
	})
	if err == nil {
		out.Attributes, err = decodeAttrsQuick(outAttrs)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("update user %q: %w", id, err)
	}
	return out, nil
}

// DeleteUser tombstones the user (its attributes stay, for the engine's
// GetUserAny) and removes it from every group; each group that lost the
// member gets a new version and a job, because its member list (and so its
// ETag) changed. The user gets a job too.
func (d *DB) DeleteUser(ctx context.Context, tenant, id string) error {
	now := d.utcNow()
	err := d.write(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET deleted_at = ?1, updated_at = ?1, version = version + 1
			WHERE tenant = ?2 AND id = ?3 AND deleted_at IS NULL`, nanos(now), tenant, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		if err := d.removeMember(ctx, tx, tenant, id, now); err != nil {
			return err
		}
		return d.enqueue(ctx, tx, tenant, store.KindUser, id, now)
	})
	if err != nil {
		return fmt.Errorf("delete user %q: %w", id, err)
	}
	return nil
}

// removeMember deletes every membership of member (as a member of other
// groups) and bumps and enqueues the groups concerned.
func (d *DB) removeMember(ctx context.Context, tx *wtx, tenant, member string, now time.Time) error {
	d.wr.members.invalidate()
	groups, err := func() ([]string, error) {
		rows, err := tx.QueryContext(ctx, `DELETE FROM members WHERE member_id = ?1 RETURNING group_id`, member)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var groups []string
		for rows.Next() {
			var g string
			if err := rows.Scan(&g); err != nil {
				return nil, err
			}
			groups = append(groups, g)
		}
		return groups, rows.Err()
	}()
	if err != nil {
		return fmt.Errorf("remove memberships of %q: %w", member, err)
	}
	for _, g := range groups {
		if err := d.touchGroup(ctx, tx, tenant, g, now); err != nil {
			return err
		}
	}
	return nil
}
