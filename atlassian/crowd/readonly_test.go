package crowd_test

import (
	"testing"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

// A read-only directory (atlassian-api.md 7.4) is reported as ReadOnlyDirectory by every write.
func TestReadOnlyDirectory(t *testing.T) {
	e, c := startWith(t, nil, nil)
	if err := e.AddUser(atlassiantest.SeedUser{Name: "ro", Groups: []string{"g"}}); err != nil {
		t.Fatal(err)
	}
	e.SetFaults(atlassiantest.Faults{ReadOnlyDirectory: true})
	ctx := t.Context()
	_, errCreate := c.CreateUser(ctx, atlassian.NewUser{Name: "new", DisplayName: "N", Email: "n@example.com", Active: true})
	_, errRename := c.RenameUser(ctx, "ro", "ro2")
	for name, err := range map[string]error{
		"CreateUser":   errCreate,
		"RenameUser":   errRename,
		"SetActive":    c.SetActive(ctx, "ro", false),
		"DeleteUser":   c.DeleteUser(ctx, "ro"),
		"CreateGroup":  c.CreateGroup(ctx, "h"),
		"DeleteGroup":  c.DeleteGroup(ctx, "g"),
		"AddMember":    c.AddMember(ctx, "jira-software-users", "ro"),
		"RemoveMember": c.RemoveMember(ctx, "g", "ro"),
	} {
		if atlassian.KindOf(err) != atlassian.ReadOnlyDirectory {
			t.Errorf("%s = %v, want ReadOnlyDirectory", name, err)
		}
	}
	if u, err := c.GetUser(ctx, "ro"); err != nil || !u.Active {
		t.Errorf("GetUser on a read-only directory = %+v, %v", u, err)
	}
}
