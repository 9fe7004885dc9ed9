package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

var _ store.ReplayGuard = (*DB)(nil)

// replayPrune bounds how many expired signatures one RememberSignature
// deletes, so a backlog never holds the shared write transaction for long.
const replayPrune = 1000

// RememberSignature records key until expires and reports true, or false
// when key is already recorded with an expiry after now (a replay). In the
// same write it forgets up to replayPrune signatures that expired by now;
// an expired row for key itself is taken over, not reported as a replay.
func (d *DB) RememberSignature(ctx context.Context, key string, expires, now time.Time) (bool, error) {
	if key == "" {
		return false, errors.New("remember signature: empty key")
	}
	var fresh bool
	err := d.write(ctx, func(tx *wtx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhook_signatures WHERE "key" IN
			(SELECT "key" FROM webhook_signatures WHERE expires_at <= ?1 LIMIT ?2)`, nanos(now), replayPrune); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO webhook_signatures ("key", expires_at) VALUES (?1, ?2)
			ON CONFLICT ("key") DO UPDATE SET expires_at = excluded.expires_at
			WHERE webhook_signatures.expires_at <= ?3`, key, nanos(expires), nanos(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("remember signature: %w", err)
	}
	return fresh, nil
}
