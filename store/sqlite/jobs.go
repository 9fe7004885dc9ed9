package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// The outbox. A job row exists per (tenant, kind, resource) while there is
// something to apply; its seq changes on every enqueue, so the engine can
// settle exactly the version it read: CompleteJob and the backoff of
// RetryJob and ParkJob apply only while seq is unchanged, otherwise the
// newer change keeps the job due now. Job ids are never reused
// (AUTOINCREMENT), so (id, seq) names one version of one job forever.

var (
	_ store.EngineStore = (*DB)(nil)
	_ store.JobSettler  = (*DB)(nil)
)

// Job states as stored.
const (
	jobPending = string(store.JobPending)
	jobParked  = string(store.JobParked)
)

// upsertJob is the conflict clause of every enqueue: an existing job (pending
// or parked) becomes pending, due now, with a fresh attempt count and a new
// seq; it keeps its id, created_at and last_error (still worth showing until
// the next attempt replaces it).
const upsertJob = ` ON CONFLICT (tenant, kind, resource_id) DO UPDATE SET not_before = excluded.not_before,
	seq = jobs.seq + 1, state = 'pending', attempts = 0`

// enqueue upserts the outbox job for a resource (see upsertJob), unless
// the tenant's writes enqueue nothing (Options.NoOutbox).
func (d *DB) enqueue(ctx context.Context, tx querier, tenant string, kind store.ResourceKind, id string, now time.Time) error {
	if d.noOutbox[tenant] {
		return nil
	}
	return enqueueJob(ctx, tx, tenant, kind, id, now)
}

// enqueueJob upserts the outbox job for a resource (see upsertJob).
func enqueueJob(ctx context.Context, tx querier, tenant string, kind store.ResourceKind, id string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO jobs (tenant, kind, resource_id, not_before, created_at)
		VALUES (?1, ?2, ?3, ?4, ?4)`+upsertJob,
		tenant, string(kind), id, nanos(now))
	if err != nil {
		return fmt.Errorf("enqueue %s %q: %w", kind, id, err)
	}
	return nil
}

// enqueueUsers enqueues a job for every user in users and for every user
// member, transitively through nested groups, of the groups; all of tenant.
// It is how a group change reaches the users whose flattened membership it
// changes (the engine works user by user). One statement: a recursive walk
// down the members table (UNION stops on cycles) feeding one upsert.
// Nothing for a tenant in Options.NoOutbox.
func (d *DB) enqueueUsers(ctx context.Context, tx querier, tenant string, users, groups []string, now time.Time) error {
	if (len(users) == 0 && len(groups) == 0) || d.noOutbox[tenant] {
		return nil
	}
	gl, err := json.Marshal(nonNil(groups))
	if err != nil {
		return err
	}
	ul, err := json.Marshal(nonNil(users))
	if err != nil {
		return err
	}
	// "WHERE true" resolves the parsing ambiguity of INSERT ... SELECT ...
	// ON CONFLICT (https://sqlite.org/lang_upsert.html, 2.2).
	_, err = tx.ExecContext(ctx, enqueueUsersSQL, string(gl), string(ul), tenant, nanos(now))
	if err != nil {
		return fmt.Errorf("enqueue users affected by %d groups: %w", len(groups), err)
	}
	return nil
}

// enqueueUsersSQL is enqueueUsers' statement. The CROSS JOINs make SQLite
// walk from the groups to their members rows (members' primary key):
// left to choose, it scanned every membership of the database once per
// call (members_member index and a Bloom filter on sub), so that a
// one-member PATCH cost grew with the number of memberships stored.
const enqueueUsersSQL = `WITH RECURSIVE
		sub(id) AS (
			SELECT value FROM json_each(?1)
			UNION
			SELECT m.member_id FROM sub CROSS JOIN members m ON m.group_id = sub.id WHERE m.member_kind = 'Group'),
		affected(id) AS (
			SELECT value FROM json_each(?2)
			UNION
			SELECT m.member_id FROM sub CROSS JOIN members m ON m.group_id = sub.id WHERE m.member_kind = 'User')
		INSERT INTO jobs (tenant, kind, resource_id, not_before, created_at)
		SELECT ?3, 'User', id, ?4, ?4 FROM affected WHERE true` + upsertJob

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

const jobCols = `id, seq, state, tenant, kind, resource_id, not_before, attempts, last_error, created_at`

func scanJob(s scanner) (store.Job, error) {
	var (
		j                    store.Job
		state, kind          string
		notBefore, createdAt int64
	)
	if err := s.Scan(&j.ID, &j.Seq, &state, &j.Tenant, &kind, &j.ResourceID, &notBefore, &j.Attempts,
		&j.LastError, &createdAt); err != nil {
		return store.Job{}, err
	}
	j.State, j.Kind = store.JobState(state), store.ResourceKind(kind)
	j.NotBefore, j.CreatedAt = fromNanos(notBefore), fromNanos(createdAt)
	return j, nil
}

// queryJobs runs a job query on the reader pool.
func (d *DB) queryJobs(ctx context.Context, query string, args ...any) ([]store.Job, error) {
	rows, err := d.r.QueryContext(ctx, `SELECT `+jobCols+` FROM jobs `+query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var jobs []store.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, j)
	}
	return jobs, rows.Err()
}

// PendingJobs returns up to limit pending (not parked) jobs, oldest first,
// whatever their NotBefore; none for limit <= 0.
func (d *DB) PendingJobs(ctx context.Context, limit int) ([]store.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	jobs, err := d.queryJobs(ctx, `WHERE state = ?1 ORDER BY created_at, id`+limitSQL(limit, 0), jobPending)
	if err != nil {
		return nil, fmt.Errorf("pending jobs: %w", err)
	}
	return jobs, nil
}

// dueJobsWhere selects the due jobs (index jobs_due); the LIMIT follows
// (see limitSQL).
const dueJobsWhere = `WHERE state = ?1 AND not_before <= ?2 ORDER BY not_before, id`

// DueJobs returns up to limit pending jobs with NotBefore <= now, oldest
// NotBefore first (ties by id); none for limit <= 0. See store.EngineStore.
func (d *DB) DueJobs(ctx context.Context, now time.Time, limit int) ([]store.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	jobs, err := d.queryJobs(ctx, dueJobsWhere+limitSQL(limit, 0), jobPending, nanos(now))
	if err != nil {
		return nil, fmt.Errorf("due jobs: %w", err)
	}
	return jobs, nil
}

// ParkedJobs lists up to limit parked jobs, oldest (created) first; none
// for limit <= 0.
func (d *DB) ParkedJobs(ctx context.Context, limit int) ([]store.Job, error) {
	if limit <= 0 {
		return nil, nil
	}
	jobs, err := d.queryJobs(ctx, `WHERE state = ?1 ORDER BY created_at, id`+limitSQL(limit, 0), jobParked)
	if err != nil {
		return nil, fmt.Errorf("parked jobs: %w", err)
	}
	return jobs, nil
}

// JobStats counts pending and parked jobs; see store.EngineStore.
func (d *DB) JobStats(ctx context.Context) (store.JobStats, error) {
	var st store.JobStats
	rows, err := d.r.QueryContext(ctx, `SELECT state, COUNT(*), MIN(created_at) FROM jobs GROUP BY state`)
	if err != nil {
		return store.JobStats{}, fmt.Errorf("job stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			state  string
			n      int
			oldest int64
		)
		if err := rows.Scan(&state, &n, &oldest); err != nil {
			return store.JobStats{}, fmt.Errorf("job stats: %w", err)
		}
		switch state {
		case jobPending:
			st.Pending, st.OldestPending = n, fromNanos(oldest)
		case jobParked:
			st.Parked = n
		}
	}
	if err := rows.Err(); err != nil {
		return store.JobStats{}, fmt.Errorf("job stats: %w", err)
	}
	return st, nil
}

// CompleteJob deletes the job if its seq is still the one j was read with;
// see store.EngineStore.
func (d *DB) CompleteJob(ctx context.Context, j store.Job) error {
	err := d.write(ctx, func(tx *wtx) error { return completeJob(ctx, tx, j) })
	if err != nil {
		return fmt.Errorf("complete job %d: %w", j.ID, err)
	}
	return nil
}

func completeJob(ctx context.Context, tx querier, j store.Job) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE id = ?1 AND seq = ?2`, j.ID, j.Seq)
	return err
}

// RetryJob records a transient failure; see store.EngineStore. A job gone
// meanwhile (completed by another worker) is not an error.
func (d *DB) RetryJob(ctx context.Context, j store.Job, next time.Time, errText string) error {
	err := d.write(ctx, func(tx *wtx) error { return retryJob(ctx, tx, j, next, errText) })
	if err != nil {
		return fmt.Errorf("retry job %d: %w", j.ID, err)
	}
	return nil
}

func retryJob(ctx context.Context, tx querier, j store.Job, next time.Time, errText string) error {
	res, err := tx.ExecContext(ctx, `UPDATE jobs SET attempts = attempts + 1, last_error = ?1, not_before = ?2
		WHERE id = ?3 AND seq = ?4`, errText, nanos(next), j.ID, j.Seq)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	// Enqueued again since it was read: the newer change stays due now.
	_, err = tx.ExecContext(ctx, `UPDATE jobs SET last_error = ?1 WHERE id = ?2`, errText, j.ID)
	return err
}

// ParkJob records a permanent failure: the job stops being due (Attempts+1,
// LastError). If the job was enqueued again since it was read, the newer
// change deserves its own attempt: like RetryJob, only the error is
// recorded and the job stays pending and due. Guess: the contract states
// this only for RetryJob; a failure of the older version says nothing
// final about the newer one.
func (d *DB) ParkJob(ctx context.Context, j store.Job, errText string) error {
	err := d.write(ctx, func(tx *wtx) error { return parkJob(ctx, tx, j, errText) })
	if err != nil {
		return fmt.Errorf("park job %d: %w", j.ID, err)
	}
	return nil
}

func parkJob(ctx context.Context, tx querier, j store.Job, errText string) error {
	res, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?1, attempts = attempts + 1, last_error = ?2
		WHERE id = ?3 AND seq = ?4`, jobParked, errText, j.ID, j.Seq)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE jobs SET last_error = ?1 WHERE id = ?2`, errText, j.ID)
	return err
}

// settleLinkSQL is PutLink's upsert (links.go), repeated here so that
// SettleJobs writes a link exactly as PutLink does inside its own
// transaction.
const settleLinkSQL = `INSERT INTO links (target, tenant, resource_id, kind, desired_name, desired_name_fold,
		priority, desired, applied, applied_name, "key", state, deactivated_at, deactivated_reason, last_login_at, updated_at)
	VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
	ON CONFLICT (target, tenant, resource_id) DO UPDATE SET kind = excluded.kind,
		desired_name = excluded.desired_name, desired_name_fold = excluded.desired_name_fold,
		priority = excluded.priority, desired = excluded.desired, applied = excluded.applied,
		applied_name = excluded.applied_name, "key" = excluded."key", state = excluded.state,
		deactivated_at = excluded.deactivated_at, deactivated_reason = excluded.deactivated_reason,
		last_login_at = excluded.last_login_at, updated_at = excluded.updated_at`

// SettleJobs saves the outcomes' links and settles their jobs in one write
// request, so one commit; see store.JobSettler.
func (d *DB) SettleJobs(ctx context.Context, outcomes []store.JobOutcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	for _, o := range outcomes {
		for _, l := range o.Links {
			if err := checkLink(l); err != nil {
				return fmt.Errorf("settle job %d: link %s/%s/%s: %w", o.Job.ID, l.Target, l.Tenant, l.ResourceID, err)
			}
		}
	}
	now := nanos(d.utcNow())
	err := d.write(ctx, func(tx *wtx) error {
		for _, o := range outcomes {
			for _, l := range o.Links {
				if _, err := tx.ExecContext(ctx, settleLinkSQL,
					l.Target, l.Tenant, l.ResourceID, string(l.Kind), l.DesiredName, fold(l.DesiredName),
					l.Priority, blob(l.Desired), blob(l.Applied), l.AppliedName, l.Key, string(l.State),
					timeNull(l.DeactivatedAt), l.DeactivatedReason, timeNull(l.LastLoginAt), now); err != nil {
					return fmt.Errorf("job %d: put link %s/%s/%s: %w", o.Job.ID, l.Target, l.Tenant, l.ResourceID, err)
				}
			}
			var err error
			switch {
			case o.Error == "":
				err = completeJob(ctx, tx, o.Job)
			case o.Park:
				err = parkJob(ctx, tx, o.Job, o.Error)
			default:
				err = retryJob(ctx, tx, o.Job, o.NotBefore, o.Error)
			}
			if err != nil {
				return fmt.Errorf("job %d: %w", o.Job.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("settle %d jobs: %w", len(outcomes), err)
	}
	return nil
}

// UnparkJobs makes the parked jobs of tenant ("" for every tenant) pending
// and due now, with Attempts 0 (Guess: a retry on demand starts its
// backoff afresh); it keeps LastError and Seq.
func (d *DB) UnparkJobs(ctx context.Context, tenant string) (int, error) {
	now := d.utcNow()
	var n int64
	err := d.write(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?1, not_before = ?2, attempts = 0
			WHERE state = ?3 AND (?4 = '' OR tenant = ?4)`, jobPending, nanos(now), jobParked, tenant)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("unpark jobs of tenant %q: %w", tenant, err)
	}
	return int(n), nil
}

// EnqueueJob makes a job for the resource due now, like a change to it
// would; see store.EngineStore. The resource need not exist (the engine
// handles a job for a vanished resource as a no-op).
func (d *DB) EnqueueJob(ctx context.Context, tenant string, kind store.ResourceKind, resourceID string) error {
	if err := checkJobTarget(tenant, kind, resourceID); err != nil {
		return fmt.Errorf("enqueue job: %w", err)
	}
	now := d.utcNow()
	if err := d.write(ctx, func(tx *wtx) error {
		return enqueueJob(ctx, tx, tenant, kind, resourceID, now)
	}); err != nil {
		return fmt.Errorf("enqueue job for %s %q: %w", kind, resourceID, err)
	}
	return nil
}

func checkJobTarget(tenant string, kind store.ResourceKind, id string) error {
	switch {
	case tenant == "":
		return errors.New("tenant is empty")
	case kind != store.KindUser && kind != store.KindGroup:
		return fmt.Errorf("unknown resource kind %q", kind)
	case id == "":
		return errors.New("resource id is empty")
	}
	return nil
}

// extraScan scans a row's leading columns with s and the rest into extra,
// so row scanners like scanUser can read queries with more columns.
type extraScan struct {
	s     scanner
	extra []any
}

func (e extraScan) Scan(dest ...any) error { return e.s.Scan(append(dest, e.extra...)...) }

// GetUserAny returns the user, live or tombstone, with its live groups (a
// deleted user has none: deletion removed its memberships); see
// store.EngineStore.
func (d *DB) GetUserAny(ctx context.Context, tenant, id string) (store.User, bool, error) {
	var (
		deleted bool
		r       userRow
		u       store.User
	)
	bctx, err := bounded(ctx)
	if err == nil {
		r, err = scanUserRead(d.r.QueryRowContext(bctx, `SELECT `+userReadCols+`, users.deleted_at IS NOT NULL
			FROM users WHERE users.tenant = ?1 AND users.id = ?2`, tenant, id), &deleted)
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err == nil {
		u, err = r.decoded()
	}
	if err != nil {
		return store.User{}, false, fmt.Errorf("get user %q: %w", id, err)
	}
	return u, deleted, nil
}

// GetGroupAny returns the group, live or tombstone, without members; see
// store.EngineStore.
func (d *DB) GetGroupAny(ctx context.Context, tenant, id string) (store.Group, bool, error) {
	var (
		deleted bool
		r       groupRow
		g       store.Group
	)
	bctx, err := bounded(ctx)
	if err == nil {
		r, err = scanGroup(extraScan{d.r.QueryRowContext(bctx, `SELECT `+groupCols+`, groups.deleted_at IS NOT NULL
			FROM groups WHERE groups.tenant = ?1 AND groups.id = ?2`, tenant, id), []any{&deleted}})
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err == nil {
		g, err = r.decoded()
	}
	if err != nil {
		return store.Group{}, false, fmt.Errorf("get group %q: %w", id, err)
	}
	return g, deleted, nil
}

// groupsContainingSQL is GroupsContaining's statement. The CROSS JOINs
// make SQLite go from the member ids to their memberships
// (members_member) to the groups; left to choose, it walked every group of
// the tenant (groups_display_name) and probed each for the members, once
// per user the engine applies.
const groupsContainingSQL = `SELECT DISTINCT g.id, g.display_name, g.display_name_fold
		FROM json_each(?1) j CROSS JOIN members m ON m.member_id = j.value CROSS JOIN groups g ON g.id = m.group_id
		WHERE g.tenant = ?2 AND g.deleted_at IS NULL
		ORDER BY g.display_name_fold, g.display_name, g.id`

// GroupsContaining returns the live groups of tenant that directly contain
// any of memberIDs, each once, ordered by display name; see
// store.EngineStore.
func (d *DB) GroupsContaining(ctx context.Context, tenant string, memberIDs []string) ([]store.GroupRef, error) {
	if len(memberIDs) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(memberIDs)
	if err != nil {
		return nil, fmt.Errorf("groups containing %d ids: %w", len(memberIDs), err)
	}
	rows, err := d.r.QueryContext(ctx, groupsContainingSQL, string(list), tenant)
	if err != nil {
		return nil, fmt.Errorf("groups containing %d ids: %w", len(memberIDs), err)
	}
	defer rows.Close()
	var out []store.GroupRef
	for rows.Next() {
		var g store.GroupRef
		var unused string
		if err := rows.Scan(&g.ID, &g.DisplayName, &unused); err != nil {
			return nil, fmt.Errorf("groups containing %d ids: %w", len(memberIDs), err)
		}
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("groups containing %d ids: %w", len(memberIDs), err)
	}
	return out, nil
}
