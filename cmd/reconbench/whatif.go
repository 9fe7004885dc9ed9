package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver for the what-if reader

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// What-if experiments: the engine's store wrapped so that a suspected cost
// can be taken away without editing reconcile/ or store/ (owned by others).
// They measure what a fix would gain; they are not the fix.
const (
	// whatIfGroupsQuery answers GroupsContaining with the members table as
	// the outer loop (CROSS JOIN), instead of the plan SQLite picks for
	// store/sqlite's query (every group of the tenant, then a membership
	// lookup per group).
	whatIfGroupsQuery = "groups-query"
	// whatIfSkipLinks drops PutLink calls that would store the link exactly
	// as GetLink or ListLinks returned it.
	whatIfSkipLinks = "skip-unchanged-links"
)

// whatIfStore is *sqlite.DB with the chosen experiments applied.
type whatIfStore struct {
	*sqlite.DB
	reader *sql.DB // nil unless whatIfGroupsQuery

	skipLinks bool
	mu        sync.Mutex
	seen      map[string]store.Link
	skipped   int
}

func newWhatIfStore(db *sqlite.DB, path string, experiments []string) (*whatIfStore, error) {
	w := &whatIfStore{DB: db, seen: map[string]store.Link{}}
	for _, x := range experiments {
		switch x {
		case whatIfGroupsQuery:
			dsn := url.URL{Scheme: "file", Path: path, RawQuery: "mode=ro&_query_only=1&_busy_timeout=5000"}
			r, err := sql.Open("sqlite3", dsn.String())
			if err != nil {
				return nil, err
			}
			r.SetMaxOpenConns(4)
			w.reader = r
		case whatIfSkipLinks:
			w.skipLinks = true
		default:
			return nil, fmt.Errorf("unknown what-if experiment %q (known: %s, %s)", x, whatIfGroupsQuery, whatIfSkipLinks)
		}
	}
	return w, nil
}

func (w *whatIfStore) close() error {
	if w.reader != nil {
		return w.reader.Close()
	}
	return nil
}

// groupsContainingSQL is store/sqlite's query with the join order forced.
const groupsContainingSQL = `SELECT DISTINCT g.id, g.display_name, g.display_name_fold
	FROM members m CROSS JOIN groups g ON g.id = m.group_id
	WHERE m.member_id IN (SELECT value FROM json_each(?1)) AND g.tenant = ?2 AND g.deleted_at IS NULL
	ORDER BY g.display_name_fold, g.display_name, g.id`

// GroupsContaining is the what-if version of store.EngineStore's.
func (w *whatIfStore) GroupsContaining(ctx context.Context, tenant string, memberIDs []string) ([]store.GroupRef, error) {
	if w.reader == nil {
		return w.DB.GroupsContaining(ctx, tenant, memberIDs)
	}
	if len(memberIDs) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(memberIDs)
	if err != nil {
		return nil, err
	}
	rows, err := w.reader.QueryContext(ctx, groupsContainingSQL, string(list), tenant)
	if err != nil {
		return nil, fmt.Errorf("what-if groups containing: %w", err)
	}
	defer rows.Close()
	var out []store.GroupRef
	for rows.Next() {
		var g store.GroupRef
		var fold string
		if err := rows.Scan(&g.ID, &g.DisplayName, &fold); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func linkKey(target, tenant, id string) string {
	return strings.Join([]string{target, tenant, id}, "\x00")
}

// GetLink remembers what it returned, for PutLink.
func (w *whatIfStore) GetLink(ctx context.Context, target, tenant, id string) (store.Link, error) {
	l, err := w.DB.GetLink(ctx, target, tenant, id)
	if err == nil && w.skipLinks {
		w.mu.Lock()
		w.seen[linkKey(target, tenant, id)] = cloneLink(l)
		w.mu.Unlock()
	}
	return l, err
}

// PutLink skips a write that would store the link unchanged.
func (w *whatIfStore) PutLink(ctx context.Context, l store.Link) error {
	if w.skipLinks {
		w.mu.Lock()
		prev, ok := w.seen[linkKey(l.Target, l.Tenant, l.ResourceID)]
		same := ok && reflect.DeepEqual(prev, l)
		if same {
			w.skipped++
		}
		w.mu.Unlock()
		if same {
			return nil
		}
	}
	return w.DB.PutLink(ctx, l)
}

// skippedLinks returns and resets the count of skipped PutLink calls.
func (w *whatIfStore) skippedLinks() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.skipped
	w.skipped = 0
	clear(w.seen)
	return n
}

func cloneLink(l store.Link) store.Link {
	l.Desired = slices.Clone(l.Desired)
	l.Applied = slices.Clone(l.Applied)
	return l
}
