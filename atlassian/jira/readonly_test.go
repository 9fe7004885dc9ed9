package jira_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

// A read-only directory (doc §7.4) is reported as ReadOnlyDirectory by every write, on Jira
// versions with and without "active" on PUT: not as DeleteRefused (every other 400 on delete is a
// veto), not as Unsupported (Jira 8.2's "no value changed"), not as NotFound or success.
func TestReadOnlyDirectory(t *testing.T) {
	for _, version := range []string{"8.2.0", "9.12.0", "11.0.0"} {
		t.Run(version, func(t *testing.T) {
			f := start(t, version, basicIfOld(version), nil)
			for _, su := range []atlassiantest.SeedUser{
				{Name: "ro", DisplayName: "Read Only", Groups: []string{"g"}},
				{Name: "author", HasContent: true},
			} {
				if err := f.e.AddUser(su); err != nil {
					t.Fatal(err)
				}
			}
			before := f.e.State()
			f.e.SetFaults(atlassiantest.Faults{ReadOnlyDirectory: true})
			ctx := t.Context()
			_, errCreate := f.c.CreateUser(ctx, atlassian.NewUser{Name: "new", DisplayName: "N", Email: "n@example.com", Active: true,
				ApplicationKeys: []string{"jira-software"}})
			_, errUpdate := f.c.UpdateUser(ctx, "ro", atlassian.UserUpdate{Email: ptr("x@example.com")})
			_, errRename := f.c.RenameUser(ctx, "ro", "ro2")
			for _, tc := range []struct {
				op  string
				err error
			}{
				{"CreateUser", errCreate},
				{"UpdateUser", errUpdate},
				{"RenameUser", errRename},
				{"SetActive", f.c.SetActive(ctx, "ro", false)},
				{"DeleteUser", f.c.DeleteUser(ctx, "ro")},
				{"DeleteUser with content", f.c.DeleteUser(ctx, "author")},
				{"CreateGroup", f.c.CreateGroup(ctx, "h")},
				{"DeleteGroup", f.c.DeleteGroup(ctx, "g")},
				{"AddMember", f.c.AddMember(ctx, "jira-software-users", "ro")},
				{"AddMember, already a member", f.c.AddMember(ctx, "g", "ro")},
				{"RemoveMember", f.c.RemoveMember(ctx, "g", "ro")},
			} {
				var e *atlassian.Error
				if !errors.As(tc.err, &e) || e.Kind != atlassian.ReadOnlyDirectory || atlassian.KindOf(tc.err) != atlassian.ReadOnlyDirectory || len(e.Messages) == 0 {
					t.Errorf("%s = %v, want ReadOnlyDirectory with Jira's message", tc.op, tc.err)
				}
			}
			if u, err := f.c.GetUser(ctx, "ro"); err != nil || !u.Active || u.DisplayName != "Read Only" {
				t.Errorf("GetUser on a read-only directory = %+v, %v", u, err)
			}
			if after := f.e.State(); !reflect.DeepEqual(before, after) {
				t.Errorf("refused writes changed the directory:\nbefore %+v\nafter  %+v", before, after)
			}
		})
	}
}

// basicIfOld picks basic auth for Jira before 8.14 (no personal access tokens).
func basicIfOld(version string) *atlassian.Auth {
	if version == "8.2.0" {
		return basic()
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
