-- 0001: users, groups, memberships and the outbox.
--
-- Times are unix nanoseconds (UTC). Deleted resources are tombstones
-- (deleted_at set): every read and every uniqueness rule ignores them, which is
-- why the unique indexes are partial.

CREATE TABLE users (
    seq            INTEGER PRIMARY KEY,          -- creation order, for stable paging
    id             TEXT    NOT NULL UNIQUE,
    tenant         TEXT    NOT NULL,
    external_id    TEXT,                         -- NULL when absent
    user_name      TEXT    NOT NULL,             -- as sent
    user_name_fold TEXT    NOT NULL,             -- Unicode-folded in Go
    display_name   TEXT    NOT NULL DEFAULT '',  -- the displayName attribute, for Member.Display
    active         INTEGER NOT NULL CHECK (active IN (0, 1)),
    attributes     TEXT    NOT NULL CHECK (json_valid(attributes)),
    version        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    deleted_at     INTEGER
);
CREATE UNIQUE INDEX users_user_name ON users (tenant, user_name_fold) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX users_external_id ON users (tenant, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX users_tenant_seq ON users (tenant, seq) WHERE deleted_at IS NULL;

CREATE TABLE groups (
    seq               INTEGER PRIMARY KEY,
    id                TEXT    NOT NULL UNIQUE,
    tenant            TEXT    NOT NULL,
    external_id       TEXT,
    display_name      TEXT    NOT NULL,
    display_name_fold TEXT    NOT NULL,
    attributes        TEXT    NOT NULL CHECK (json_valid(attributes)),
    version           INTEGER NOT NULL,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    deleted_at        INTEGER
);
CREATE UNIQUE INDEX groups_display_name ON groups (tenant, display_name_fold) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX groups_external_id ON groups (tenant, external_id)
    WHERE deleted_at IS NULL AND external_id IS NOT NULL;
CREATE INDEX groups_tenant_seq ON groups (tenant, seq) WHERE deleted_at IS NULL;

-- members holds live memberships only: deleting a user or group removes its
-- rows, so a member_id always names a live user or group of the group's tenant.
CREATE TABLE members (
    group_id    TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
    member_id   TEXT NOT NULL,
    member_kind TEXT NOT NULL CHECK (member_kind IN ('User', 'Group')),
    PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX members_member ON members (member_id);

-- jobs is the outbox: at most one pending row per resource.
CREATE TABLE jobs (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('User', 'Group')),
    resource_id TEXT    NOT NULL,
    not_before  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant, kind, resource_id)
);
CREATE INDEX jobs_created ON jobs (created_at, id);
