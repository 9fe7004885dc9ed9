package sqlite

import (
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// A database written by a binary that knew only 0001 keeps its users and
// jobs through 0002; jobs become pending with seq 1, externalId stops
// being unique, and job ids are never reused afterwards.
func TestMigration0002KeepsData(t *testing.T) {
	ctx := t.Context()
	p := filepath.Join(t.TempDir(), "v1.db")
	ms, err := loadMigrations()
	if err != nil || len(ms) < 2 || ms[0].version != 1 || ms[1].version != 2 {
		t.Fatalf("migrations = %+v, %v", ms, err)
	}
	raw := sql.OpenDB(newConnector(p, url.Values{"_journal_mode": {"WAL"}, "_foreign_keys": {"on"}}))
	created := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`,
		ms[0].sql,
		`INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)`,
		fmt.Sprintf(`INSERT INTO users (id, tenant, external_id, user_name, user_name_fold, active, attributes, version, created_at, updated_at)
			VALUES ('u1', 't', 'dup', 'alice', 'alice', 1, '{}', 1, %d, %[1]d)`, nanos(created)),
		fmt.Sprintf(`INSERT INTO jobs (id, tenant, kind, resource_id, not_before, attempts, last_error, created_at)
			VALUES (7, 't', 'User', 'u1', %d, 2, 'old error', %[1]d)`, nanos(created)),
	} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			t.Fatalf("building a v1 database: %v\n%s", err, q)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db, err := Open(ctx, p, Options{})
	if err != nil {
		t.Fatalf("Open of a v1 database: %v", err)
	}
	defer db.Close()
	js, err := db.PendingJobs(ctx, 10)
	if err != nil || len(js) != 1 {
		t.Fatalf("jobs after migrating = %+v, %v", js, err)
	}
	want := store.Job{ID: 7, Seq: 1, State: store.JobPending, Tenant: "t", Kind: store.KindUser, ResourceID: "u1",
		NotBefore: created, Attempts: 2, LastError: "old error", CreatedAt: created}
	if js[0] != want {
		t.Errorf("migrated job = %+v, want %+v", js[0], want)
	}
	if _, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: "bob", ExternalID: "dup"}); err != nil {
		t.Errorf("a second user with the externalId of a migrated one: %v", err)
	}
	// Job 7 was the highest id; completing it and enqueueing again must
	// not hand out 7 again.
	if err := db.CompleteJob(ctx, js[0]); err != nil {
		t.Fatal(err)
	}
	if err := db.EnqueueJob(ctx, "t", store.KindUser, "u1"); err != nil {
		t.Fatal(err)
	}
	for _, j := range mustPending(t, db) {
		if j.ResourceID == "u1" && j.ID <= 7 {
			t.Errorf("job id %d reused or lower after completing job 7", j.ID)
		}
	}
}

func mustPending(t *testing.T, db *DB) []store.Job {
	t.Helper()
	js, err := db.PendingJobs(t.Context(), 100)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// PruneRuns splits a large prune into several write transactions (runs
// per request, and results per request when one run has very many).
func TestPruneRunsInBatches(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	const runs, results = 1234, 25_000
	old := nanos(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	err := db.write(ctx, func(tx *wtx) error {
		for i := range runs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO runs (kind, "trigger", status, started_at, finished_at)
				VALUES ('push', 'scim', 'succeeded', ?1, ?1)`, old+int64(i)); err != nil {
				return err
			}
		}
		// Every result in the oldest run, so its results alone exceed one
		// request's share.
		_, err := tx.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
			INSERT INTO results (run_id, tenant, resource_id, action, at)
			SELECT (SELECT MIN(id) FROM runs), 't', 'r' || i, 'created', ?2 FROM n`, results, old)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	// One run that is still going, with a result: kept.
	live, err := db.CreateRun(ctx, store.Run{Kind: "push", Trigger: "scim", Status: "running", StartedAt: fromNanos(old)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.AddResults(ctx, []store.Result{{RunID: live.ID, Tenant: "t", ResourceID: "x", Action: "created"}}); err != nil {
		t.Fatal(err)
	}

	commits := db.wr.commits.Load()
	n, err := db.PruneRuns(ctx, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC))
	if err != nil || n != runs {
		t.Fatalf("PruneRuns = %d, %v; want %d", n, err, runs)
	}
	// 20k results, then 5k results and 500 runs, 500 runs, 234 runs.
	if c := db.wr.commits.Load() - commits; c < 4 {
		t.Errorf("PruneRuns used %d write transactions, want at least 4 (bounded batches)", c)
	}
	var left, leftRuns int
	if err := db.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM results), (SELECT COUNT(*) FROM runs)`).Scan(&left, &leftRuns); err != nil {
		t.Fatal(err)
	}
	if left != 1 || leftRuns != 1 {
		t.Errorf("after pruning: %d results and %d runs left, want the live run's 1 and 1", left, leftRuns)
	}
}

// The engine's hot reads use their indexes.
func TestEngineQueriesUseIndexes(t *testing.T) {
	db, _ := open(t)
	for _, c := range []struct {
		sql   string
		args  []any
		index string
	}{
		{`SELECT ` + jobCols + ` FROM jobs ` + dueJobsWhere + limitSQL(10, 0), []any{jobPending, 0}, "jobs_due"},
		{linksByNameSQL, []any{"jira", "User", "gus"}, "links_desired_name"},
		{userHistorySQL, []any{"t", "r", 10}, "results_resource"},
		{`SELECT id FROM results WHERE run_id = ?1`, []any{1}, "results_run_action"},
		{`SELECT id FROM users WHERE tenant = ?1 AND external_id = ?2 AND deleted_at IS NULL`, []any{"t", "x"}, "users_external_id"},
	} {
		if plan := explain(t, db, c.sql, c.args); !strings.Contains(plan, c.index) {
			t.Errorf("plan does not use %s:\n%s\nSQL: %s", c.index, plan, c.sql)
		}
	}
}

// Rows of a jobs table that ParkJob and RetryJob leave alone when the job
// is gone (completed by another worker): no error, nothing created.
func TestSettlingAVanishedJob(t *testing.T) {
	db, _ := open(t)
	ctx := t.Context()
	gone := store.Job{ID: 42, Seq: 3, Tenant: "t", Kind: store.KindUser, ResourceID: "x"}
	if err := db.RetryJob(ctx, gone, time.Now(), "e"); err != nil {
		t.Errorf("RetryJob of a vanished job: %v", err)
	}
	if err := db.ParkJob(ctx, gone, "e"); err != nil {
		t.Errorf("ParkJob of a vanished job: %v", err)
	}
	if err := db.CompleteJob(ctx, gone); err != nil {
		t.Errorf("CompleteJob of a vanished job: %v", err)
	}
	st, err := db.JobStats(ctx)
	if err != nil || st != (store.JobStats{}) {
		t.Errorf("stats = %+v, %v; want none", st, err)
	}
}
