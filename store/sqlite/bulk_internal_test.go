package sqlite

import (
	"strings"
	"testing"
)

// A full reconcile's bulk reads seek their indexes and do not sort their
// rows: each runs once per page, batch or tenant over every user, link or
// membership.
func TestBulkQueriesUseIndexes(t *testing.T) {
	db, _ := open(t)
	for _, c := range []struct {
		sql  string
		args []any
		want []string // every one must be in the plan
	}{
		{eachUserOnlySQL, []any{"t", 0, userPage}, []string{"users_tenant_seq (tenant=? AND seq>?)"}},
		{eachUserGroupsSQL, []any{"t", 0, userPage}, []string{"users_tenant_seq (tenant=? AND seq>?)", "members_member"}},
		{groupMembersSQL, []any{"t"}, []string{"groups_display_name (tenant=?)", "PRIMARY KEY (group_id=?)"}},
		{getLinksSQL, []any{"jira", "t", `["a","b"]`}, []string{"PRIMARY KEY (target=? AND tenant=? AND resource_id=?)"}},
		{strandedLinksSQL, []any{"jira"}, []string{"PRIMARY KEY (target=?)", "sqlite_autoindex_users_1 (id=?)"}},
	} {
		plan := explain(t, db, c.sql, c.args)
		for _, w := range c.want {
			if !strings.Contains(plan, w) {
				t.Errorf("plan lacks %q:\n%s\nSQL: %s", w, plan, c.sql)
			}
		}
		// (The groups of a user are sorted by their subquery, as GetUser's.)
		if strings.Contains(plan, "TEMP B-TREE FOR ORDER BY") {
			t.Errorf("plan sorts the rows:\n%s\nSQL: %s", plan, c.sql)
		}
	}
}
