-- 0004: operability. Webhook signatures already accepted (so a replay is
-- refused after a restart too), a heartbeat row the readiness probe writes,
-- and an index for recording login events by applied username.
--
-- Times are unix nanoseconds (UTC), as in 0001.

-- webhook_signatures: key is "<timestamp>.<lowercase hex signature>";
-- expires_at is when the signed timestamp leaves the acceptance window,
-- after which the row may go (RememberSignature prunes).
CREATE TABLE webhook_signatures (
    "key"      TEXT    NOT NULL PRIMARY KEY,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhook_signatures_expires ON webhook_signatures (expires_at);

-- heartbeat: one row, rewritten by Ping, so readiness proves a real write
-- (a page appended to the WAL and synced), not only a lock.
CREATE TABLE heartbeat (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    at INTEGER NOT NULL
);

-- RecordLogin finds user links by applied name, case-insensitively. NOCASE
-- (built in, ASCII case folding) rather than the scim_fold function, so
-- that tools opening the file without scimbridge's functions (the sqlite3
-- shell, VACUUM INTO) can still write links and rebuild the index;
-- RecordLogin checks full Unicode folding on the rows the index finds.
CREATE INDEX links_applied_name ON links (target, applied_name COLLATE NOCASE)
    WHERE kind = 'User' AND applied_name <> '';

