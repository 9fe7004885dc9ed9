-- 0002: what the provisioning engine needs: job states and sequence
-- numbers, links, runs and results; externalId is no longer unique.
--
-- Times are unix nanoseconds (UTC), as in 0001.

-- externalId has uniqueness "none" (RFC 7643 section 3.1): the unique
-- indexes become plain ones with the same name and predicate, so that
-- `externalId eq` keeps using them.
DROP INDEX users_external_id;
CREATE INDEX users_external_id ON users (tenant, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;
DROP INDEX groups_external_id;
CREATE INDEX groups_external_id ON groups (tenant, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;

-- jobs is rebuilt with AUTOINCREMENT so that a job id is never reused: the
-- engine settles a job by (id, seq), and a deleted job's id coming back for
-- a new job with seq 1 would let a stale CompleteJob delete a fresh change.
-- seq is bumped by every enqueue; state tells pending from parked.
CREATE TABLE jobs_v2 (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('User', 'Group')),
    resource_id TEXT    NOT NULL,
    seq         INTEGER NOT NULL DEFAULT 1,
    state       TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'parked')),
    not_before  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant, kind, resource_id)
);
INSERT INTO jobs_v2 (id, tenant, kind, resource_id, not_before, attempts, last_error, created_at)
    SELECT id, tenant, kind, resource_id, not_before, attempts, last_error, created_at FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_v2 RENAME TO jobs;
-- DueJobs (state = 'pending' AND not_before <= now ORDER BY not_before);
-- PendingJobs, ParkedJobs and JobStats (by state, oldest created first).
CREATE INDEX jobs_due ON jobs (state, not_before, id);
CREATE INDEX jobs_state_created ON jobs (state, created_at, id);

-- links: per (target, tenant, resource) what the engine wants and what it
-- last applied. desired_name_fold is the Unicode-folded desired_name (see
-- fold in sqlite.go), for finding two tenants that map to one username.
CREATE TABLE links (
    target             TEXT    NOT NULL,
    tenant             TEXT    NOT NULL,
    resource_id        TEXT    NOT NULL,
    kind               TEXT    NOT NULL CHECK (kind IN ('User', 'Group')),
    desired_name       TEXT    NOT NULL DEFAULT '',
    desired_name_fold  TEXT    NOT NULL DEFAULT '',
    priority           INTEGER NOT NULL DEFAULT 0,
    desired            BLOB,
    applied            BLOB,
    applied_name       TEXT    NOT NULL DEFAULT '',
    "key"              TEXT    NOT NULL DEFAULT '',
    state              TEXT    NOT NULL
        CHECK (state IN ('pending', 'active', 'deactivated', 'deleted', 'skipped')),
    deactivated_at     INTEGER,
    deactivated_reason TEXT    NOT NULL DEFAULT '',
    last_login_at      INTEGER,
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (target, tenant, resource_id)
) WITHOUT ROWID;
CREATE INDEX links_desired_name ON links (target, kind, desired_name_fold);

-- runs: AUTOINCREMENT so a pruned run's id never names a new run.
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    kind        TEXT    NOT NULL,
    "trigger"   TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    counts      TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(counts)),
    error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX runs_finished ON runs (finished_at) WHERE finished_at IS NOT NULL;

-- results: id is insertion order. results_run_action also serves the
-- foreign key (ON DELETE CASCADE looks results up by run_id).
CREATE TABLE results (
    id             INTEGER PRIMARY KEY,
    run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    tenant         TEXT    NOT NULL,
    resource_id    TEXT    NOT NULL,
    user_name      TEXT    NOT NULL DEFAULT '',
    user_name_fold TEXT    NOT NULL DEFAULT '',
    target         TEXT    NOT NULL DEFAULT '',
    action         TEXT    NOT NULL,
    changes        TEXT CHECK (changes IS NULL OR json_valid(changes)),
    error          TEXT    NOT NULL DEFAULT '',
    at             INTEGER NOT NULL
);
CREATE INDEX results_run_action ON results (run_id, action);
CREATE INDEX results_resource ON results (tenant, resource_id, at);
