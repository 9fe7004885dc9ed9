package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// Run history: runs and the results of each. Counts and Changes are JSON;
// Changes' Before and After round-trip like attributes do (integers int64,
// other numbers float64, objects map[string]any, arrays []any).

const runCols = `id, kind, "trigger", status, started_at, finished_at, counts, error`

func scanRun(s scanner) (store.Run, error) {
	var (
		r        store.Run
		started  int64
		finished sql.NullInt64
		counts   string
	)
	if err := s.Scan(&r.ID, &r.Kind, &r.Trigger, &r.Status, &started, &finished, &counts, &r.Error); err != nil {
		return store.Run{}, err
	}
	r.StartedAt, r.FinishedAt = fromNanos(started), nullTime(finished)
	if err := json.Unmarshal([]byte(counts), &r.Counts); err != nil {
		return store.Run{}, fmt.Errorf("decode counts of run %d: %w", r.ID, err)
	}
	if r.Counts == nil {
		r.Counts = map[string]int{}
	}
	return r, nil
}

func encodeCounts(c map[string]int) (string, error) {
	if c == nil {
		return "{}", nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encode counts: %w", err)
	}
	return string(b), nil
}

func checkRun(r store.Run) error {
	if r.Kind == "" {
		return errors.New("kind is empty")
	}
	if r.Status == "" {
		return errors.New("status is empty")
	}
	return nil
}

// CreateRun stores a new run and returns it with its ID, times in UTC and
// Counts never nil. Guess: a zero StartedAt becomes the store's clock.
func (d *DB) CreateRun(ctx context.Context, r store.Run) (store.Run, error) {
	if err := checkRun(r); err != nil {
		return store.Run{}, fmt.Errorf("create run: %w", err)
	}
	counts, err := encodeCounts(r.Counts)
	if err != nil {
		return store.Run{}, fmt.Errorf("create run: %w", err)
	}
	if r.StartedAt.IsZero() {
		r.StartedAt = d.utcNow()
	}
	err = d.write(ctx, func(tx *wtx) error {
		return tx.QueryRowContext(ctx, `INSERT INTO runs (kind, "trigger", status, started_at, finished_at, counts, error)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id`,
			r.Kind, r.Trigger, r.Status, nanos(r.StartedAt), timeNull(r.FinishedAt), counts, r.Error).Scan(&r.ID)
	})
	if err != nil {
		return store.Run{}, fmt.Errorf("create run: %w", err)
	}
	// Return what a GetRun would: UTC at the stored precision, a fresh map.
	out := r
	out.StartedAt, out.FinishedAt = fromNanos(nanos(r.StartedAt)), nullTime(timeNull(r.FinishedAt))
	out.Counts = make(map[string]int, len(r.Counts))
	for k, v := range r.Counts {
		out.Counts[k] = v
	}
	return out, nil
}

// UpdateRun replaces status, finish time, counts and error of run r.ID;
// kind, trigger and start time stay. Returns an error wrapping
// store.ErrNotFound for an unknown run.
func (d *DB) UpdateRun(ctx context.Context, r store.Run) error {
	if r.Status == "" {
		return fmt.Errorf("update run %d: status is empty", r.ID)
	}
	counts, err := encodeCounts(r.Counts)
	if err != nil {
		return fmt.Errorf("update run %d: %w", r.ID, err)
	}
	err = d.write(ctx, func(tx *wtx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?1, finished_at = ?2, counts = ?3, error = ?4 WHERE id = ?5`,
			r.Status, timeNull(r.FinishedAt), counts, r.Error, r.ID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return store.ErrNotFound
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("update run %d: %w", r.ID, err)
	}
	return nil
}

// GetRun returns the run or an error wrapping store.ErrNotFound.
func (d *DB) GetRun(ctx context.Context, id int64) (store.Run, error) {
	r, err := scanRun(d.r.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ?1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Run{}, fmt.Errorf("get run %d: %w", id, err)
	}
	return r, nil
}

// ListRuns returns up to limit runs, newest (highest ID) first.
// Guess: limit <= 0 returns none, like PendingJobs (the contract is silent).
func (d *DB) ListRuns(ctx context.Context, limit int) ([]store.Run, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := d.r.QueryContext(ctx, `SELECT `+runCols+` FROM runs ORDER BY id DESC LIMIT ?1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	var out []store.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	return out, nil
}

// encodeChanges renders Changes as JSON (NULL for nil), with integral
// floats marked like attributes so every number keeps its Go type.
func encodeChanges(c map[string]store.Change) (sql.NullString, error) {
	if c == nil {
		return sql.NullString{}, nil
	}
	m := make(map[string]any, len(c))
	for k, ch := range c {
		m[k] = map[string]any{"before": ch.Before, "after": ch.After}
	}
	s, err := encodeAttrs(m)
	if err != nil {
		return sql.NullString{}, fmt.Errorf("encode changes: %w", err)
	}
	return sql.NullString{String: s, Valid: true}, nil
}

func decodeChanges(s sql.NullString) (map[string]store.Change, error) {
	if !s.Valid {
		return nil, nil
	}
	m, err := decodeAttrs(s.String)
	if err != nil {
		return nil, fmt.Errorf("decode changes: %w", err)
	}
	out := make(map[string]store.Change, len(m))
	for k, v := range m {
		ch, _ := v.(map[string]any)
		out[k] = store.Change{Before: ch["before"], After: ch["after"]}
	}
	return out, nil
}

const resultCols = `run_id, tenant, resource_id, user_name, target, action, changes, error, at`

func scanResult(s scanner) (store.Result, error) {
	var (
		r       store.Result
		changes sql.NullString
		at      int64
	)
	if err := s.Scan(&r.RunID, &r.Tenant, &r.ResourceID, &r.UserName, &r.Target, &r.Action, &changes, &r.Error, &at); err != nil {
		return store.Result{}, err
	}
	r.At = fromNanos(at)
	var err error
	r.Changes, err = decodeChanges(changes)
	return r, err
}

// AddResults appends the results in one transaction: all or none. Guess: a
// zero At becomes the store's clock. A result naming an unknown run fails the
// whole call with an error wrapping store.ErrNotFound.
func (d *DB) AddResults(ctx context.Context, rs []store.Result) error {
	if len(rs) == 0 {
		return nil
	}
	type row struct {
		r       store.Result
		changes sql.NullString
	}
	rows := make([]row, len(rs))
	now := d.utcNow()
	for i, r := range rs {
		if r.Tenant == "" || r.ResourceID == "" || r.Action == "" {
			return fmt.Errorf("add results: result %d lacks tenant, resource id or action", i)
		}
		c, err := encodeChanges(r.Changes)
		if err != nil {
			return fmt.Errorf("add results: result %d: %w", i, err)
		}
		if r.At.IsZero() {
			r.At = now
		}
		rows[i] = row{r, c}
	}
	err := d.write(ctx, func(tx *wtx) error {
		runs := map[int64]bool{}
		for _, x := range rows {
			if _, ok := runs[x.r.RunID]; !ok {
				var n int
				if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE id = ?1`, x.r.RunID).Scan(&n); err != nil {
					return err
				}
				if n == 0 {
					return fmt.Errorf("run %d: %w", x.r.RunID, store.ErrNotFound)
				}
				runs[x.r.RunID] = true
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO results (run_id, tenant, resource_id, user_name, user_name_fold,
				target, action, changes, error, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)`,
				x.r.RunID, x.r.Tenant, x.r.ResourceID, x.r.UserName, fold(x.r.UserName), x.r.Target, x.r.Action,
				x.changes, x.r.Error, nanos(x.r.At)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add %d results: %w", len(rs), err)
	}
	return nil
}

// ListResults returns the run's results in insertion order; see
// store.ResultQuery. Guess: an explicit Action "unchanged" returns the
// unchanged results even without All (asking for them by name is asking).
func (d *DB) ListResults(ctx context.Context, runID int64, q store.ResultQuery) ([]store.Result, error) {
	var (
		where strings.Builder
		args  = []any{runID}
	)
	where.WriteString(`run_id = ?1`)
	if q.Action != "" {
		args = append(args, q.Action)
		fmt.Fprintf(&where, ` AND action = ?%d`, len(args))
	} else if !q.All {
		where.WriteString(` AND action <> 'unchanged'`)
	}
	if q.User != "" {
		args = append(args, fold(q.User))
		fmt.Fprintf(&where, ` AND user_name_fold = ?%d`, len(args))
	}
	limit := ""
	if q.Limit > 0 {
		args = append(args, q.Limit)
		limit = fmt.Sprintf(` LIMIT ?%d`, len(args))
	}
	out, err := d.queryResults(ctx, `SELECT `+resultCols+` FROM results WHERE `+where.String()+` ORDER BY id`+limit, args...)
	if err != nil {
		return nil, fmt.Errorf("list results of run %d: %w", runID, err)
	}
	return out, nil
}

// userHistorySQL reads a resource's results newest first (index
// results_resource).
const userHistorySQL = `SELECT ` + resultCols + ` FROM results WHERE tenant = ?1 AND resource_id = ?2
	ORDER BY at DESC, id DESC LIMIT ?3`

// UserHistory returns up to limit results of the resource across runs,
// newest first. Guess: limit <= 0 returns none, like ListRuns.
func (d *DB) UserHistory(ctx context.Context, tenant, resourceID string, limit int) ([]store.Result, error) {
	if limit <= 0 {
		return nil, nil
	}
	out, err := d.queryResults(ctx, userHistorySQL, tenant, resourceID, limit)
	if err != nil {
		return nil, fmt.Errorf("history of %q in tenant %q: %w", resourceID, tenant, err)
	}
	return out, nil
}

func (d *DB) queryResults(ctx context.Context, query string, args ...any) ([]store.Result, error) {
	rows, err := d.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []store.Result
	for rows.Next() {
		r, err := scanResult(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Pruning bounds: each write request deletes the results of at most
// pruneRuns runs, at most pruneResults of them, so one request never holds
// the (shared) write transaction for long; then it deletes the runs whose
// results are gone.
const (
	pruneRuns    = 500
	pruneResults = 20_000
)

// PruneRuns deletes the runs that finished before cutoff and their
// results, one bounded write request at a time (see pruneRuns), and
// returns how many runs it deleted. Runs still going (no finish time) are
// kept. If ctx ends between requests, it returns what it deleted so far
// with ctx's error.
func (d *DB) PruneRuns(ctx context.Context, cutoff time.Time) (int, error) {
	total := 0
	for {
		var deleted int64
		var more bool
		err := d.write(ctx, func(tx *wtx) error {
			// The runs' ids as JSON: the oldest prunable ones.
			var ids string
			if err := tx.QueryRowContext(ctx, `SELECT COALESCE(json_group_array(id), '[]') FROM
				(SELECT id FROM runs WHERE finished_at IS NOT NULL AND finished_at < ?1 ORDER BY id LIMIT ?2)`,
				nanos(cutoff), pruneRuns).Scan(&ids); err != nil {
				return err
			}
			if ids == "[]" {
				return nil
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM results WHERE id IN (SELECT id FROM results
				WHERE run_id IN (SELECT value FROM json_each(?1)) LIMIT ?2)`, ids, pruneResults)
			if err != nil {
				return err
			}
			more = true
			if n, err := res.RowsAffected(); err != nil || n == pruneResults {
				return err // results left: the next request goes on with them
			}
			res, err = tx.ExecContext(ctx, `DELETE FROM runs WHERE id IN (SELECT value FROM json_each(?1))`, ids)
			if err != nil {
				return err
			}
			deleted, err = res.RowsAffected()
			return err
		})
		total += int(deleted)
		if err != nil {
			return total, fmt.Errorf("prune runs finished before %v: %w", cutoff, err)
		}
		if !more {
			return total, nil
		}
	}
}
