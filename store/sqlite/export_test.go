package sqlite

import (
	"context"
	"fmt"
)

// Preload inserts n users user0..user{n-1} (and no jobs) into tenant in one
// transaction, for benchmarks.
func Preload(ctx context.Context, d *DB, tenant string, n int) error {
	return d.write(ctx, func(tx *wtx) error {
		const insert = `INSERT INTO users (id, tenant, external_id, user_name, user_name_fold,
			display_name, active, attributes, version, created_at, updated_at)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, 1, ?7, 1, ?8, ?8)`
		now := nanos(d.utcNow())
		for i := range n {
			name := fmt.Sprintf("user%d", i)
			attrs, err := encodeAttrs(map[string]any{
				"displayName": fmt.Sprintf("User %d", i),
				"emails":      []any{map[string]any{"value": name + "@example.com", "type": "work"}},
			})
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, insert, fmt.Sprintf("pre-%d", i), tenant, fmt.Sprintf("ext%d", i), name, fold(name),
				fmt.Sprintf("User %d", i), attrs, now); err != nil {
				return err
			}
		}
		return nil
	})
}
