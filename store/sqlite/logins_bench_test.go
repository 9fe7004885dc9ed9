package sqlite

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
)

// seedLinks writes n user links on target jira, applied as user0..user{n-1},
// in one transaction.
func seedLinks(b *testing.B, d *DB, n int) {
	b.Helper()
	now := nanos(d.utcNow())
	err := d.write(b.Context(), func(tx *wtx) error {
		for i := range n {
			name := fmt.Sprintf("user%d", i)
			if _, err := tx.ExecContext(b.Context(), `INSERT INTO links (target, tenant, resource_id, kind, desired_name,
				desired_name_fold, applied_name, state, updated_at) VALUES ('jira', 'okta', ?1, 'User', ?2, ?2, ?2, 'active', ?3)`,
				fmt.Sprintf("r%d", i), name, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

const benchLinks = 20_000

// BenchmarkRecordLogin records a login among benchLinks user links: one
// indexed write.
func BenchmarkRecordLogin(b *testing.B) {
	d, _ := open(b)
	seedLinks(b, d, benchLinks)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	for b.Loop() {
		i++
		ls, err := d.RecordLogin(b.Context(), "jira", fmt.Sprintf("USER%d", i%benchLinks), at.Add(time.Duration(i)))
		if err != nil || len(ls) != 1 {
			b.Fatalf("%v, %d links", err, len(ls))
		}
	}
}

// BenchmarkLoginByWalk is what admin did before RecordLogin: walk every
// link of the target for the name, then PutLink the match.
func BenchmarkLoginByWalk(b *testing.B) {
	d, _ := open(b)
	seedLinks(b, d, benchLinks)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	for b.Loop() {
		i++
		name := fmt.Sprintf("USER%d", i%benchLinks)
		var matched []store.Link
		if err := d.ListLinks(b.Context(), "jira", func(l store.Link) error {
			if strings.EqualFold(l.AppliedName, name) {
				matched = append(matched, l)
			}
			return nil
		}); err != nil || len(matched) != 1 {
			b.Fatalf("%v, %d links", err, len(matched))
		}
		t := at.Add(time.Duration(i))
		matched[0].LastLoginAt = &t
		if err := d.PutLink(b.Context(), matched[0]); err != nil {
			b.Fatal(err)
		}
	}
}
