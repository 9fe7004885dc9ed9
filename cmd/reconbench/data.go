package main

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"

	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/presets"
	"github.com/scimbridge/scimbridge/reconcile"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
	"github.com/scimbridge/scimbridge/transform"
)

// dataset is the synthetic directory both sides are seeded with: users
// u0000000.., each in perUser of the groups jira-team-0000.., and every
// user in the default group. It is a pure function of its three numbers, so
// the emulator process and the bridge side agree without talking.
type dataset struct {
	users, groups, perUser int
}

func (d dataset) validate() error {
	switch {
	case d.users < 1 || d.users > 10_000_000:
		return fmt.Errorf("users %d: want 1 to 10,000,000", d.users)
	case d.groups < 1 || d.groups > 100_000:
		return fmt.Errorf("groups %d: want 1 to 100,000", d.groups)
	case d.perUser < 0 || d.perUser > d.groups:
		return fmt.Errorf("groups per user %d: want 0 to the number of groups (%d)", d.perUser, d.groups)
	}
	return nil
}

// defaultGroup is the Atlassian group every provisioned user gets.
const defaultGroup = "jira-software-users"

// userName is user i's Atlassian username; the IdP's userName is it
// @example.com. Names sort in index order, so the emulator appends.
func userName(i int) string { return fmt.Sprintf("u%07d", i) }

func displayName(i int) string { return fmt.Sprintf("User %07d", i) }

func email(i int) string { return userName(i) + "@example.com" }

func groupName(g int) string { return fmt.Sprintf("jira-team-%04d", g) }

// groupsOf returns the indexes of user i's groups: perUser consecutive
// ones, so every group gets users/groups*perUser members.
func (d dataset) groupsOf(i int) []int {
	out := make([]int, d.perUser)
	for k := range out {
		out[k] = (i*d.perUser + k) % d.groups
	}
	return out
}

// seedEmulator adds every user to the emulator as already provisioned: the
// account, active, in its groups and the default group.
func (d dataset) seedEmulator(emu *atlassiantest.Emulator) error {
	for i := range d.users {
		groups := []string{defaultGroup}
		for _, g := range d.groupsOf(i) {
			groups = append(groups, groupName(g))
		}
		if err := emu.AddUser(atlassiantest.SeedUser{
			Name: userName(i), DisplayName: displayName(i), EmailAddress: email(i), Groups: groups,
		}); err != nil {
			return fmt.Errorf("seed emulator: %w", err)
		}
	}
	return nil
}

// seedStore writes every user and group straight into the store as an IdP
// would have pushed them, with workers concurrent writers (the store's
// writer commits concurrent requests together).
func (d dataset) seedStore(ctx context.Context, st *sqlite.DB, tenant string, workers int) error {
	ids := make([]string, d.users)
	for i := range ids {
		ids[i] = uuid.NewString()
	}
	err := parallel(ctx, d.users, workers, func(i int) error {
		_, err := st.CreateUser(ctx, store.User{
			ID: ids[i], Tenant: tenant, UserName: email(i), ExternalID: fmt.Sprintf("00u%07d", i), Active: true,
			Attributes: map[string]any{
				"displayName": displayName(i),
				"name":        map[string]any{"givenName": "User", "familyName": fmt.Sprintf("%07d", i)},
				"emails":      []any{map[string]any{"value": email(i), "type": "work", "primary": true}},
			},
		})
		if err != nil {
			return fmt.Errorf("create user %d: %w", i, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	members := make([][]store.Member, d.groups)
	for i := range d.users {
		for _, g := range d.groupsOf(i) {
			members[g] = append(members[g], store.Member{Value: ids[i]})
		}
	}
	return parallel(ctx, d.groups, workers, func(g int) error {
		if _, err := st.CreateGroup(ctx, store.Group{Tenant: tenant, DisplayName: groupName(g), Members: members[g]}); err != nil {
			return fmt.Errorf("create group %d: %w", g, err)
		}
		return nil
	})
}

// parallel calls fn(0..n-1) on workers goroutines and returns the first error.
func parallel(ctx context.Context, n, workers int, fn func(int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, workers) {
		wg.Go(func() {
			for i := range next {
				if err := fn(i); err != nil {
					cancel(err)
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	return context.Cause(ctx)
}

// tenant is the okta tenant the dataset belongs to, mapped the way the
// README's example maps it: username without the domain, every jira-*
// IdP group, the default group, jira-* groups managed.
func tenant(name string) (reconcile.Tenant, error) {
	p, err := presets.Get("okta")
	if err != nil {
		return reconcile.Tenant{}, err
	}
	replace := "$1"
	c, err := transform.Compile(transform.Merge(p.Spec(), transform.Spec{
		Mapping: transform.Mapping{
			Username:    transform.Field{From: transform.Sources{"userName"}, Rules: []transform.Rule{{Regex: `^(.*)@example\.com$`, Replace: &replace}}},
			DisplayName: transform.Field{From: transform.Sources{"displayName"}},
			Email:       transform.Field{From: transform.Sources{"emails[primary eq true].value"}},
		},
		Groups: transform.Groups{Include: []string{"^jira-"}, Default: []string{defaultGroup}, Managed: []string{"^jira-"}},
	}))
	if err != nil {
		return reconcile.Tenant{}, fmt.Errorf("compile mapping: %w", err)
	}
	return reconcile.Tenant{Name: name, Targets: []string{"jira"}, Mapping: c,
		Lifecycle: reconcile.Lifecycle{OnDeactivate: reconcile.ActionDisable, OnDelete: reconcile.ActionDisable}}, nil
}
