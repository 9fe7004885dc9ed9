package atlassiantest

import (
	"cmp"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Errors returned by the direct state-access methods (AddUser, RecordLogin, SetHasContent). The HTTP
// faces translate the same conditions into each product's own error body.
var (
	// ErrUserNotFound means no user has that username (compared case-insensitively).
	ErrUserNotFound = errors.New("user not found")
	// ErrUserExists means a user with that username (case-insensitively) or key already exists.
	ErrUserExists = errors.New("user already exists")
	// ErrUserInactive means the user is deactivated, so it cannot log in.
	ErrUserInactive = errors.New("user is inactive")
	// ErrInvalid means the input is malformed (for example an empty username).
	ErrInvalid = errors.New("invalid input")

	errGroupNotFound    = errors.New("group not found")
	errGroupExists      = errors.New("group already exists")
	errAlreadyMember    = errors.New("already a member")
	errNotMember        = errors.New("not a member")
	errLicenceExceeded  = errors.New("licence exceeded")
	errHasContent       = errors.New("user has content")
	errKeyTaken         = errors.New("key taken")
	errGroupNameInvalid = errors.New("invalid group name")
)

// application is a Jira application and its default group (atlassian-api.md 1.3, 1.9).
type application struct{ key, name, defaultGroup string }

// applications lists the application keys accepted in applicationKeys and /user/application.
// Guess (1.3, 7.6 [U]): the JSM default group name; Jira's real default is jira-servicedesk-users.
func applications() [3]application {
	return [3]application{
		{"jira-software", "Jira Software", "jira-software-users"},
		{"jira-core", "Jira Core", "jira-core-users"},
		{"jira-servicedesk", "Jira Service Management", "jira-servicedesk-users"},
	}
}

func applicationByKey(key string) (application, bool) {
	for _, a := range applications() {
		if a.key == key {
			return a, true
		}
	}
	return application{}, false
}

// accessApplication reports which application a group grants access to. Admin groups also grant
// access and count against the licence (atlassian-api.md 1.9).
// Guess (1.9): jira-administrators grants Jira Software access, as in a default install.
func accessApplication(lowerGroup string) (application, bool) {
	if lowerGroup == "jira-administrators" {
		a, _ := applicationByKey("jira-software")
		return a, true
	}
	for _, a := range applications() {
		if a.defaultGroup == lowerGroup {
			return a, true
		}
	}
	return application{}, false
}

// user is one account of the shared directory. Fields are guarded by Emulator.mu.
type user struct {
	id          int64
	key         string
	name        string // display case, as created or last renamed
	lower       string
	displayName string
	firstName   string
	lastName    string
	email       string
	password    string
	active      bool
	hasContent  bool
	lastLogin   time.Time // zero: never logged in
	created     time.Time
	updated     time.Time
	groups      []*group // sorted by lower name
	access      int      // how many of groups grant application access
}

// seated reports whether the user consumes a licence seat: active and in an access group
// (atlassian-api.md 1.9: inactive users don't count; several access groups count once).
func (u *user) seated() bool { return u.active && u.access > 0 }

type group struct {
	name        string
	lower       string
	description string
	active      bool
	access      bool
	members     []*user // sorted by lower name
	activeCount int     // members that are active, so member pages need not scan
}

// directory is the one in-memory directory behind both faces. Every method must be called with
// Emulator.mu held (read lock for reads, write lock for changes).
type directory struct {
	users     map[string]*user // by lower-case username
	byKey     map[string]*user
	byName    []*user // sorted by lower-case username
	byID      []*user // sorted by id (the /user/list stream order)
	groups    map[string]*group
	groupList []*group // sorted by lower-case name
	nextID    int64
	seatsUsed int
	seatLimit int  // 0 = unlimited
	dbKeys    bool // JIRAUSER<id> keys (Jira 8.4+)
}

// firstUserID: the fixtures in atlassian-api.md 1.2/8 show JIRAUSER10100 for the first created user.
const firstUserID = 10100

func newDirectory(seatLimit int, dbKeys bool) *directory {
	d := &directory{
		users:     make(map[string]*user),
		byKey:     make(map[string]*user),
		groups:    make(map[string]*group),
		nextID:    firstUserID,
		seatLimit: seatLimit,
		dbKeys:    dbKeys,
	}
	// Guess (1.8, 1.9): a fresh Jira has these two groups; other application groups are created the
	// first time a user is given that application.
	d.mustCreateGroup("jira-administrators")
	d.mustCreateGroup("jira-software-users")
	return d
}

func (d *directory) mustCreateGroup(name string) {
	if _, err := d.createGroup(name, ""); err != nil {
		panic("atlassiantest: seed group " + name + ": " + err.Error()) // unreachable: fresh directory
	}
}

func byLowerName(a, b *user) int { return strings.Compare(a.lower, b.lower) }

func byLowerGroup(a, b *group) int { return strings.Compare(a.lower, b.lower) }

func (d *directory) user(name string) *user { return d.users[strings.ToLower(name)] }

func (d *directory) userByKey(key string) *user { return d.byKey[key] }

func (d *directory) group(name string) *group { return d.groups[strings.ToLower(name)] }

// newUser is what a create operation supplies.
type newUser struct {
	name, key                        string
	displayName, firstName, lastName string
	email, password                  string
	active                           bool
	groups                           []string // joined after creation; created when missing
	lastLogin                        time.Time
	hasContent                       bool
}

// createUser adds a user. With checkLicence it refuses (errLicenceExceeded) when the new user would
// take a seat beyond the limit, and changes nothing.
func (d *directory) createUser(nu newUser, now time.Time, checkLicence bool) (*user, error) {
	if nu.name == "" {
		return nil, ErrInvalid
	}
	lower := strings.ToLower(nu.name)
	if d.users[lower] != nil {
		return nil, ErrUserExists
	}
	if nu.key != "" && d.byKey[nu.key] != nil {
		return nil, errKeyTaken
	}
	access := false
	for _, g := range nu.groups {
		if g == "" {
			return nil, errGroupNameInvalid
		}
		if _, ok := accessApplication(strings.ToLower(g)); ok {
			access = true
		}
	}
	if checkLicence && nu.active && access && d.seatLimit > 0 && d.seatsUsed+1 > d.seatLimit {
		return nil, errLicenceExceeded
	}
	id := d.nextID
	d.nextID++
	key := nu.key
	if key == "" {
		key = d.generateKey(id, lower)
	}
	u := &user{
		id: id, key: key, name: nu.name, lower: lower,
		displayName: nu.displayName, firstName: nu.firstName, lastName: nu.lastName,
		email: nu.email, password: nu.password, active: nu.active, hasContent: nu.hasContent,
		lastLogin: nu.lastLogin, created: now, updated: now,
	}
	d.users[lower] = u
	d.byKey[key] = u
	i, _ := slices.BinarySearchFunc(d.byName, u, byLowerName)
	d.byName = slices.Insert(d.byName, i, u)
	d.byID = append(d.byID, u) // ids only grow, so byID stays sorted
	for _, gn := range nu.groups {
		g := d.group(gn)
		if g == nil {
			var err error
			if g, err = d.createGroup(gn, ""); err != nil {
				return nil, err // unreachable: the name was checked above
			}
		}
		d.link(g, u)
	}
	return u, nil
}

// generateKey: JIRAUSER<id> since 8.4, the lower-case first username before (atlassian-api.md 1.2).
// Guess (1.2): before 8.4, when that name is already some renamed user's key, Jira falls back to an
// id-based key; we use ID<id>.
func (d *directory) generateKey(id int64, lower string) string {
	if d.dbKeys {
		return "JIRAUSER" + strconv.FormatInt(id, 10)
	}
	if d.byKey[lower] == nil {
		return lower
	}
	return "ID" + strconv.FormatInt(id, 10)
}

// link adds a membership without checks; it keeps the seat count right.
func (d *directory) link(g *group, u *user) {
	was := u.seated()
	i, _ := slices.BinarySearchFunc(g.members, u, byLowerName)
	g.members = slices.Insert(g.members, i, u)
	j, _ := slices.BinarySearchFunc(u.groups, g, byLowerGroup)
	u.groups = slices.Insert(u.groups, j, g)
	if g.access {
		u.access++
	}
	if u.active {
		g.activeCount++
	}
	d.seatDelta(was, u)
}

func (d *directory) unlink(g *group, u *user) {
	was := u.seated()
	if i, ok := slices.BinarySearchFunc(g.members, u, byLowerName); ok {
		g.members = slices.Delete(g.members, i, i+1)
		if u.active {
			g.activeCount--
		}
	}
	if j, ok := slices.BinarySearchFunc(u.groups, g, byLowerGroup); ok {
		u.groups = slices.Delete(u.groups, j, j+1)
		if g.access {
			u.access--
		}
	}
	d.seatDelta(was, u)
}

func (d *directory) seatDelta(was bool, u *user) {
	switch now := u.seated(); {
	case now && !was:
		d.seatsUsed++
	case !now && was:
		d.seatsUsed--
	}
}

// wouldExceed reports whether making u seated would go past the licence limit.
func (d *directory) wouldExceed(u *user) bool {
	return d.seatLimit > 0 && !u.seated() && d.seatsUsed+1 > d.seatLimit
}

func isMember(g *group, u *user) bool {
	_, ok := slices.BinarySearchFunc(g.members, u, byLowerName)
	return ok
}

// addMember adds u to g. It refuses errAlreadyMember, and errLicenceExceeded when the membership
// would give an active user a seat beyond the limit.
func (d *directory) addMember(g *group, u *user, now time.Time) error {
	if isMember(g, u) {
		return errAlreadyMember
	}
	if g.access && u.active && d.wouldExceed(u) {
		return errLicenceExceeded
	}
	d.link(g, u)
	u.updated = now
	return nil
}

func (d *directory) removeMember(g *group, u *user, now time.Time) error {
	if !isMember(g, u) {
		return errNotMember
	}
	d.unlink(g, u)
	u.updated = now
	return nil
}

// setActive changes the active flag; reactivating a user in an access group needs a free seat.
func (d *directory) setActive(u *user, active bool, now time.Time) error {
	if u.active == active {
		return nil
	}
	if active && u.access > 0 && d.wouldExceed(u) {
		return errLicenceExceeded
	}
	was := u.seated()
	u.active = active
	u.updated = now
	d.seatDelta(was, u)
	for _, g := range u.groups {
		if active {
			g.activeCount++
		} else {
			g.activeCount--
		}
	}
	return nil
}

// renameUser gives u a new username; the key never changes (atlassian-api.md 1.2, 1.5). A new name
// that differs only in case is not a rename (JDUS equalsInLowerCase) and changes nothing.
func (d *directory) renameUser(u *user, newName string, now time.Time) error {
	if newName == "" {
		return ErrInvalid
	}
	lower := strings.ToLower(newName)
	if lower == u.lower {
		return nil
	}
	if d.users[lower] != nil {
		return ErrUserExists
	}
	d.removeSorted(u)
	for _, g := range u.groups {
		if i, ok := slices.BinarySearchFunc(g.members, u, byLowerName); ok {
			g.members = slices.Delete(g.members, i, i+1)
		}
	}
	delete(d.users, u.lower)
	u.name, u.lower, u.updated = newName, lower, now
	d.users[lower] = u
	i, _ := slices.BinarySearchFunc(d.byName, u, byLowerName)
	d.byName = slices.Insert(d.byName, i, u)
	for _, g := range u.groups {
		i, _ := slices.BinarySearchFunc(g.members, u, byLowerName)
		g.members = slices.Insert(g.members, i, u)
	}
	return nil
}

func (d *directory) removeSorted(u *user) {
	if i, ok := slices.BinarySearchFunc(d.byName, u, byLowerName); ok {
		d.byName = slices.Delete(d.byName, i, i+1)
	}
}

// deleteUser removes u and its memberships. A user who owns content is refused (errHasContent),
// as Jira vetoes deleting users with issues or comments (atlassian-api.md 1.6).
func (d *directory) deleteUser(u *user) error {
	if u.hasContent {
		return errHasContent
	}
	for len(u.groups) > 0 {
		d.unlink(u.groups[0], u)
	}
	d.removeSorted(u)
	if i, ok := slices.BinarySearchFunc(d.byID, u.id, func(x *user, id int64) int { return cmp.Compare(x.id, id) }); ok {
		d.byID = slices.Delete(d.byID, i, i+1)
	}
	delete(d.users, u.lower)
	delete(d.byKey, u.key)
	return nil
}

func (d *directory) createGroup(name, description string) (*group, error) {
	if name == "" || len(name) > 255 {
		return nil, errGroupNameInvalid
	}
	lower := strings.ToLower(name)
	if d.groups[lower] != nil {
		return nil, errGroupExists
	}
	_, access := accessApplication(lower)
	g := &group{name: name, lower: lower, description: description, active: true, access: access}
	d.groups[lower] = g
	i, _ := slices.BinarySearchFunc(d.groupList, g, byLowerGroup)
	d.groupList = slices.Insert(d.groupList, i, g)
	return g, nil
}

func (d *directory) deleteGroup(g *group) {
	for len(g.members) > 0 {
		d.unlink(g, g.members[0])
	}
	if i, ok := slices.BinarySearchFunc(d.groupList, g, byLowerGroup); ok {
		d.groupList = slices.Delete(d.groupList, i, i+1)
	}
	delete(d.groups, g.lower)
}

// idFrom returns the index in byID of the first user with id > after.
func (d *directory) idFrom(after int64) int {
	i, ok := slices.BinarySearchFunc(d.byID, after, func(u *user, id int64) int { return cmp.Compare(u.id, id) })
	if ok {
		i++
	}
	return i
}

// splitName derives Crowd's first/last name from a display name when only that is known.
// Guess (3.3): the last word is the last name, everything before it the first name.
func splitName(display string) (first, last string) {
	display = strings.TrimSpace(display)
	i := strings.LastIndexByte(display, ' ')
	if i < 0 {
		return "", display
	}
	return strings.TrimSpace(display[:i]), display[i+1:]
}
