package atlassiantest

import (
	"fmt"
	"strings"
	"time"
)

// State is the /_emulator/state document: every user and group, ordered by lower-case name.
type State struct {
	Users  []StateUser  `json:"users"`
	Groups []StateGroup `json:"groups"`
}

// StateUser is one user in State. Groups are ordered by lower-case name.
type StateUser struct {
	Name          string     `json:"name"`
	Key           string     `json:"key"`
	DisplayName   string     `json:"displayName"`
	EmailAddress  string     `json:"emailAddress"`
	Active        bool       `json:"active"`
	Groups        []string   `json:"groups"`
	LastLoginTime *time.Time `json:"lastLoginTime"`
}

// StateGroup is one group in State; Members are usernames ordered by lower-case name.
type StateGroup struct {
	Name    string   `json:"name"`
	Members []string `json:"members"`
}

// State returns a snapshot of the directory.
func (e *Emulator) State() State {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st := State{
		Users:  make([]StateUser, 0, len(e.dir.byName)),
		Groups: make([]StateGroup, 0, len(e.dir.groupList)),
	}
	for _, u := range e.dir.byName {
		st.Users = append(st.Users, stateUser(u))
	}
	for _, g := range e.dir.groupList {
		sg := StateGroup{Name: g.name, Members: make([]string, 0, len(g.members))}
		for _, u := range g.members {
			sg.Members = append(sg.Members, u.name)
		}
		st.Groups = append(st.Groups, sg)
	}
	return st
}

func stateUser(u *user) StateUser {
	su := StateUser{
		Name: u.name, Key: u.key, DisplayName: u.displayName, EmailAddress: u.email, Active: u.active,
		Groups: make([]string, 0, len(u.groups)), LastLoginTime: formatTime(u.lastLogin),
	}
	for _, g := range u.groups {
		su.Groups = append(su.Groups, g.name)
	}
	return su
}

// SeedUser describes a pre-existing user for AddUser, as if created before the bridge arrived.
type SeedUser struct {
	// Name is the username, kept in this case. Required.
	Name string
	// Key is the user key; empty generates one as Jira would (JIRAUSER<n> on 8.4+).
	Key          string
	DisplayName  string
	EmailAddress string
	Password     string
	// Inactive seeds a deactivated user; the zero value is active, as Jira creates users.
	Inactive bool
	// Groups are joined directly; missing groups are created.
	Groups []string
	// HasContent marks the user as owning issues, so Jira refuses to delete it.
	HasContent bool
	// LastLoginTime is the last login; nil means never.
	LastLoginTime *time.Time
}

// AddUser seeds a user. Seeding ignores the licence limit (so tests can set up an over-licensed
// directory) but refuses an existing username (ErrUserExists, case-insensitively) or key, and an
// empty name or group name (ErrInvalid).
func (e *Emulator) AddUser(su SeedUser) error {
	if strings.TrimSpace(su.Name) == "" {
		return fmt.Errorf("add user: %w: empty name", ErrInvalid)
	}
	for _, g := range su.Groups {
		if g == "" || len(g) > 255 {
			return fmt.Errorf("add user %q: %w: group name %q", su.Name, ErrInvalid, g)
		}
	}
	display := su.DisplayName
	if display == "" {
		display = su.Name
	}
	first, last := splitName(display)
	var lastLogin time.Time
	if su.LastLoginTime != nil {
		lastLogin = *su.LastLoginTime
	}
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	_, err := e.dir.createUser(newUser{
		name: su.Name, key: su.Key, displayName: display, firstName: first, lastName: last,
		email: su.EmailAddress, password: su.Password, active: !su.Inactive, groups: su.Groups,
		lastLogin: lastLogin, hasContent: su.HasContent,
	}, now, false)
	switch err {
	case nil:
		return nil
	case errKeyTaken:
		return fmt.Errorf("add user %q: %w: key %q is taken", su.Name, ErrUserExists, su.Key)
	default:
		return fmt.Errorf("add user %q: %w", su.Name, err)
	}
}

// RecordLogin records a login by username now (Options.Now, to the millisecond). It refuses an unknown user
// (ErrUserNotFound) and an inactive one (ErrUserInactive), who cannot log in.
func (e *Emulator) RecordLogin(username string) error {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.dir.user(username)
	switch {
	case u == nil:
		return fmt.Errorf("record login %q: %w", username, ErrUserNotFound)
	case !u.active:
		return fmt.Errorf("record login %q: %w", username, ErrUserInactive)
	}
	// Jira and Crowd keep login times in milliseconds (Jira's REST date format, Crowd's
	// lastAuthenticated), so the state document shows the same instant both faces report.
	u.lastLogin = now.Truncate(time.Millisecond)
	return nil
}

// SetHasContent marks the user as owning issues, so the Jira face refuses to delete it (400, as
// Jira vetoes deleting users with reported issues). It refuses an unknown user (ErrUserNotFound).
func (e *Emulator) SetHasContent(username string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	u := e.dir.user(username)
	if u == nil {
		return fmt.Errorf("set has content %q: %w", username, ErrUserNotFound)
	}
	u.hasContent = true
	return nil
}
