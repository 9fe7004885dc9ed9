package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

var _ store.LoginRecorder = (*DB)(nil)

// Login lookups go through links_applied_name (target, applied_name
// COLLATE NOCASE), which folds ASCII letters only; scim_fold then checks
// full Unicode simple folding on what the index found. NOCASE equality is
// implied by simple folding when the username is ASCII, except for the two
// non-ASCII runes that fold to ASCII letters (K KELVIN SIGN, ſ LONG S) in a
// stored name, which such a lookup misses. A username with non-ASCII
// letters cannot use the index and scans the target's user links instead.
// Guess: Jira DC usernames are overwhelmingly ASCII, so the scan is rare.
const (
	loginWhereASCII = `target = ?1 AND kind = 'User' AND applied_name <> ''
		AND applied_name = ?2 COLLATE NOCASE AND scim_fold(applied_name) = ?3
		AND state NOT IN ('deleted', 'skipped')`
	loginWhereAny = `target = ?1 AND kind = 'User' AND applied_name <> ''
		AND scim_fold(applied_name) = ?3 AND state NOT IN ('deleted', 'skipped')`
)

// RecordLogin sets last_login_at on the matching user links of target in
// one UPDATE and reads them back in the same write transaction, so the
// result is exactly what was stored; see store.LoginRecorder.
func (d *DB) RecordLogin(ctx context.Context, target, username string, at time.Time) ([]store.Link, error) {
	if target == "" || username == "" {
		return nil, errors.New("record login: empty target or username")
	}
	where := loginWhereAny
	if isASCII(username) {
		where = loginWhereASCII
	}
	from := `links`
	if where == loginWhereASCII {
		// Without ANALYZE statistics SQLite prefers the primary key's
		// (target = ?) prefix and would walk every link of the target.
		from = `links INDEXED BY links_applied_name`
	}
	var out []store.Link
	err := d.write(ctx, func(tx *wtx) error {
		out = nil
		if _, err := tx.ExecContext(ctx, `UPDATE `+from+` SET last_login_at = ?4 WHERE `+where+`
			AND (last_login_at IS NULL OR last_login_at < ?4)`, target, username, fold(username), nanos(at)); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+linkCols+` FROM `+from+` WHERE `+where+`
			ORDER BY tenant, resource_id`, target, username, fold(username))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			l, err := scanLink(rows)
			if err != nil {
				return err
			}
			out = append(out, l)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("record login of %q on %s: %w", username, target, err)
	}
	return out, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
