package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// Links: the engine's memory of what it applied per (target, tenant,
// resource). Desired and Applied are opaque bytes (NULL for nil).

const linkCols = `target, tenant, resource_id, kind, desired_name, priority, desired, applied, applied_name, "key",
	state, deactivated_at, deactivated_reason, last_login_at, updated_at`

func scanLink(s scanner) (store.Link, error) {
	var (
		l                  store.Link
		kind, state        string
		deactivated, login sql.NullInt64
		updated            int64
	)
	if err := s.Scan(&l.Target, &l.Tenant, &l.ResourceID, &kind, &l.DesiredName, &l.Priority, &l.Desired, &l.Applied,
		&l.AppliedName, &l.Key, &state, &deactivated, &l.DeactivatedReason, &login, &updated); err != nil {
		return store.Link{}, err
	}
	l.Kind, l.State = store.ResourceKind(kind), store.LinkState(state)
	l.DeactivatedAt, l.LastLoginAt = nullTime(deactivated), nullTime(login)
	l.UpdatedAt = fromNanos(updated)
	return l, nil
}

// nullTime and timeNull convert between optional times and nullable
// nanosecond columns.
func nullTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromNanos(n.Int64)
	return &t
}

func timeNull(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: nanos(*t), Valid: true}
}

// blob stores nil as NULL; mattn would store a nil []byte as an empty blob
// otherwise, and nil must read back as nil.
func blob(b []byte) any {
	if b == nil {
		return nil
	}
	return b
}

func checkLink(l store.Link) error {
	switch {
	case l.Target == "":
		return errors.New("target is empty")
	case l.Tenant == "":
		return errors.New("tenant is empty")
	case l.ResourceID == "":
		return errors.New("resource id is empty")
	case l.Kind != store.KindUser && l.Kind != store.KindGroup:
		return fmt.Errorf("unknown resource kind %q", l.Kind)
	}
	switch l.State {
	case store.LinkPending, store.LinkActive, store.LinkDeactivated, store.LinkDeleted, store.LinkSkipped:
		return nil
	}
	return fmt.Errorf("unknown link state %q", l.State)
}

// GetLink returns the link or an error wrapping store.ErrNotFound.
func (d *DB) GetLink(ctx context.Context, target, tenant, resourceID string) (store.Link, error) {
	l, err := scanLink(d.r.QueryRowContext(ctx, `SELECT `+linkCols+` FROM links
		WHERE target = ?1 AND tenant = ?2 AND resource_id = ?3`, target, tenant, resourceID))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Link{}, fmt.Errorf("get link %s/%s/%s: %w", target, tenant, resourceID, err)
	}
	return l, nil
}

// putLinkSQL creates or replaces one link; putLinkArgs are its arguments.
// last_login_at keeps the later of the stored and the given time: a login
// recorded (RecordLogin) between the engine's read of a link and its write
// back must not be erased by the stale copy.
const putLinkSQL = `INSERT INTO links (target, tenant, resource_id, kind, desired_name, desired_name_fold,
		priority, desired, applied, applied_name, "key", state, deactivated_at, deactivated_reason, last_login_at, updated_at)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
	ON CONFLICT (target, tenant, resource_id) DO UPDATE SET kind = excluded.kind,
		desired_name = excluded.desired_name, desired_name_fold = excluded.desired_name_fold,
		priority = excluded.priority, desired = excluded.desired, applied = excluded.applied,
		applied_name = excluded.applied_name, "key" = excluded."key", state = excluded.state,
		deactivated_at = excluded.deactivated_at, deactivated_reason = excluded.deactivated_reason,
		last_login_at = CASE WHEN excluded.last_login_at IS NULL THEN links.last_login_at
			WHEN links.last_login_at IS NULL OR links.last_login_at < excluded.last_login_at THEN excluded.last_login_at
			ELSE links.last_login_at END,
		updated_at = excluded.updated_at`

func putLinkArgs(l store.Link, now time.Time) []any {
	return []any{l.Target, l.Tenant, l.ResourceID, string(l.Kind), l.DesiredName, fold(l.DesiredName),
		l.Priority, blob(l.Desired), blob(l.Applied), l.AppliedName, l.Key, string(l.State),
		timeNull(l.DeactivatedAt), l.DeactivatedReason, timeNull(l.LastLoginAt), nanos(now)}
}

// PutLink creates or replaces the link; UpdatedAt is the store's clock.
func (d *DB) PutLink(ctx context.Context, l store.Link) error {
	if err := checkLink(l); err != nil {
		return fmt.Errorf("put link %s/%s/%s: %w", l.Target, l.Tenant, l.ResourceID, err)
	}
	now := d.utcNow()
	err := d.write(ctx, func(tx *wtx) error {
		_, err := tx.ExecContext(ctx, putLinkSQL, putLinkArgs(l, now)...)
		return err
	})
	if err != nil {
		return fmt.Errorf("put link %s/%s/%s: %w", l.Target, l.Tenant, l.ResourceID, err)
	}
	return nil
}

// linksByNameSQL finds links by folded desired name. INDEXED BY because,
// without ANALYZE statistics, SQLite prefers the primary key's (target=?)
// prefix on this WITHOUT ROWID table and would scan every link of the
// target.
const linksByNameSQL = `SELECT ` + linkCols + ` FROM links INDEXED BY links_desired_name
	WHERE target = ?1 AND kind = ?2 AND desired_name_fold = ?3 ORDER BY tenant, resource_id`

// LinksByDesiredName returns the links of kind on target whose DesiredName
// equals name case-insensitively (Unicode simple folding, like userName),
// of every tenant and state, ordered by tenant and resource id.
func (d *DB) LinksByDesiredName(ctx context.Context, target string, kind store.ResourceKind, name string) ([]store.Link, error) {
	rows, err := d.r.QueryContext(ctx, linksByNameSQL, target, string(kind), fold(name))
	if err != nil {
		return nil, fmt.Errorf("links named %q on %s: %w", name, target, err)
	}
	defer rows.Close()
	var out []store.Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, fmt.Errorf("links named %q on %s: %w", name, target, err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("links named %q on %s: %w", name, target, err)
	}
	return out, nil
}

// linkPage is how many links ListLinks reads per query.
const linkPage = 256

// ListLinks calls fn for every link of target, ordered by tenant and
// resource id, and stops at fn's first error (returned as is). It reads
// page by page after the last key seen, so no read transaction stays open
// while fn runs: fn may write (PutLink) and a long walk never holds back
// WAL checkpoints. A link written during the walk is seen if its key sorts
// after the current position.
func (d *DB) ListLinks(ctx context.Context, target string, fn func(store.Link) error) error {
	var lastTenant, lastID string
	first := true
	for {
		page, err := d.linkPage(ctx, target, first, lastTenant, lastID)
		if err != nil {
			return fmt.Errorf("list links of %s: %w", target, err)
		}
		for _, l := range page {
			if err := fn(l); err != nil {
				return err
			}
		}
		if len(page) < linkPage {
			return nil
		}
		last := page[len(page)-1]
		first, lastTenant, lastID = false, last.Tenant, last.ResourceID
	}
}

func (d *DB) linkPage(ctx context.Context, target string, first bool, tenant, id string) ([]store.Link, error) {
	// Two statements rather than "?first OR (...)", which would keep
	// SQLite from seeking the primary key.
	query, args := `SELECT `+linkCols+` FROM links WHERE target = ?1
		AND (tenant, resource_id) > (?3, ?4) ORDER BY tenant, resource_id LIMIT ?2`, []any{target, linkPage, tenant, id}
	if first {
		query, args = `SELECT `+linkCols+` FROM links WHERE target = ?1 ORDER BY tenant, resource_id LIMIT ?2`, args[:2]
	}
	rows, err := d.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collect(rows, linkPage, scanLink)
}
