package atlassiantest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// jiraErrorBody is Jira's error envelope (atlassian-api.md 1.1). Both fields are always present.
type jiraErrorBody struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

func jiraErrors(msgs ...string) jiraErrorBody {
	if msgs == nil {
		msgs = []string{}
	}
	return jiraErrorBody{ErrorMessages: msgs, Errors: map[string]string{}}
}

func jiraFieldErrors(fields map[string]string) jiraErrorBody {
	return jiraErrorBody{ErrorMessages: []string{}, Errors: fields}
}

func (e *Emulator) jiraError(c *call, status int, msgs ...string) {
	e.writeJSON(c.w, status, jiraErrors(msgs...))
}

// Jira messages. The duplicate-username text is verified (atlassian-api.md 1.3); the others are
// Guesses with the section that describes the condition.
const (
	msgUserExists = "A user with that username already exists."
	// Guess (1.9 [U]): Jira's REST answer on seat exhaustion is undocumented; this is the KB text.
	msgLicence = "You have exceeded the number of users allowed to use JIRA applications under your license"
	// Verified key (1.1, 1.5): what Jira before 8.3 answers when a PUT changes nothing it knows.
	msgNoValueChanged = "error.no.value.found.to.be.changed"
)

// Guess (1.4 [U exact text]).
func msgUserNotFound(name string) string { return "The user named '" + name + "' does not exist" }

// Guess (1.4): the text for a lookup by key.
func msgUserKeyNotFound(key string) string {
	return "The user with the key '" + key + "' does not exist"
}

// Guess (1.8 [U]).
func msgGroupNotFound(name string) string {
	return "The group with name '" + name + "' does not exist."
}

// Read-only directory refusals (atlassian-api.md 1.3, 1.5, 1.6, 1.8, 7.4), answered while
// Faults.ReadOnlyDirectory is on. Jira puts the translated text of its i18n key in errorMessages.
const (
	// admin.errors.cannot.add.user.all.directories.read.only [key V JDUS]. The doc has the English
	// as [U]; Jira's own DefaultUserService unit test (TestDefaultUserService, public code) asserts
	// exactly this text.
	msgCreateUserReadOnly = "Cannot add user, all the user directories are read-only."
	// admin.errors.cannot.edit.user.directory.read.only [key V JDUS]. Guess (1.5 [U text]): worded
	// like the delete text below, which is known.
	msgEditUserReadOnly = "Cannot edit user, the user directory is read-only."
	// admin.errors.users.cannot.delete.user.read.only [key V JDUS]; the English is asserted by
	// TestDefaultUserService and was seen over REST (400) on Jira 8.x for an AD-synced user
	// (gldog/anonymize_jira_users doc/todo.md).
	msgDeleteUserReadOnly = "Cannot delete user, the user directory is read-only."
	// Guess (1.8 [U]): creating a group needs a writable directory as creating a user does; the
	// text follows the user one.
	msgCreateGroupReadOnly = "Cannot add group, all the user directories are read-only."
)

// msgAddMemberReadOnly is the Jira KB text for a membership the read-only directory refuses
// (atlassian-api.md 1.8 [V KB]).
func msgAddMemberReadOnly(username, group string) string {
	return "You cannot add user '" + username + "' to group '" + group + "'. The user's directory is read only."
}

// msgRemoveMemberReadOnly refuses a removal. Guess (1.8 [U]): in the words of the addition.
func msgRemoveMemberReadOnly(username, group string) string {
	return "You cannot remove user '" + username + "' from group '" + group + "'. The user's directory is read only."
}

// msgDeleteGroupReadOnly is the Crowd layer's refusal Jira surfaces for a group it cannot change
// (atlassian-api.md 1.8, 7.4 [V KB]), with the directory name the Crowd face uses.
func msgDeleteGroupReadOnly(group string) string {
	return "Cannot update group '" + group + "' because directory '" + readOnlyDirectoryName + "' does not allow updates."
}

// Statuses of the read-only refusals. User changes are refused by JDUS validation, which Jira
// REST answers with 400 (the delete refusal was seen as 400, see msgDeleteUserReadOnly); a
// membership change is 403 ("403 read-only dir", atlassian-api.md 1.8 table). Guess (1.8 [U]):
// removing a member and creating or deleting a group answer 403 like adding a member.
const (
	statusUserReadOnly  = http.StatusBadRequest
	statusGroupReadOnly = http.StatusForbidden
)

// serveJira dispatches the Jira REST v2 paths the emulator knows.
func (e *Emulator) serveJira(c *call) {
	switch c.sub {
	case "user":
		handlers{get: e.jiraGetUser, post: e.jiraCreateUser, put: e.jiraUpdateUser, del: e.jiraDeleteUser}.serve(c)
	case "user/search":
		handlers{get: e.jiraSearchUsers}.serve(c)
	case "user/list":
		if !e.version.userList() {
			e.jiraNotFoundPath(c)
			return
		}
		handlers{get: e.jiraListUsers}.serve(c)
	case "user/password":
		handlers{put: e.jiraSetPassword}.serve(c)
	case "user/application":
		handlers{post: e.jiraUserApplication, del: e.jiraUserApplication}.serve(c)
	case "group":
		handlers{get: e.jiraGetGroup, post: e.jiraCreateGroup, del: e.jiraDeleteGroup}.serve(c)
	case "group/member":
		handlers{get: e.jiraGroupMembers}.serve(c)
	case "group/user":
		handlers{post: e.jiraAddMember, del: e.jiraRemoveMember}.serve(c)
	case "groups/picker":
		handlers{get: e.jiraGroupsPicker}.serve(c)
	case "serverInfo":
		handlers{get: e.jiraServerInfo}.serve(c)
	case "myself":
		handlers{get: e.jiraMyself}.serve(c)
	default:
		e.jiraNotFoundPath(c)
	}
}

// jiraNotFoundPath answers a path the emulator does not serve (and /user/list before 10.3) with
// 404. Unverified: the body, which is known to differ from real Jira's. Real Jira's REST layer (Jersey with Atlassian's REST module) answers
// such a path with its Status entity, {"message":"null for uri: <full URL with query>",
// "status-code":404}, not with the errorMessages/errors envelope of atlassian-api.md 1.1 (public
// captures from Jira Server: solidify/jira-azuredevops-migrator#13 for /rest/api/2/…,
// qoomon/Jira-Issue-Card-Printer#48 for /rest/agile/1.0/…). The emulator keeps the envelope
// because TestJiraUnknownPaths pins it; the Jira client treats both shapes as "no such API", never
// as "no such user".
func (e *Emulator) jiraNotFoundPath(c *call) {
	e.jiraError(c, http.StatusNotFound, "null for uri: "+c.origin+c.r.URL.RequestURI())
}

// handlers are the methods one path answers; a nil handler means the method is not allowed.
type handlers struct{ get, post, put, del func(*call) }

// serve runs the handler for the request's method, or answers 405 with an Allow header that names
// the methods with a handler in the order GET, POST, PUT, DELETE.
func (h handlers) serve(c *call) {
	var run func(*call)
	switch c.r.Method {
	case http.MethodGet:
		run = h.get
	case http.MethodPost:
		run = h.post
	case http.MethodPut:
		run = h.put
	case http.MethodDelete:
		run = h.del
	}
	if run == nil {
		methodNotAllowed(c.w, h.allow())
		return
	}
	run(c)
}

func (h handlers) allow() string {
	var b strings.Builder
	for _, m := range [...]struct {
		name string
		h    func(*call)
	}{{http.MethodGet, h.get}, {http.MethodPost, h.post}, {http.MethodPut, h.put}, {http.MethodDelete, h.del}} {
		if m.h == nil {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.name)
	}
	return b.String()
}

// methodNotAllowed: Guess (1.1): JAX-RS answers 405 with an empty body.
func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header()["Allow"] = []string{allow}
	w.WriteHeader(http.StatusMethodNotAllowed)
}

// Guess (1.2, 8): every user has the fixture's default time zone and locale.
const (
	jiraTimeZone = "UTC"
	jiraLocale   = "en_US"
	// Guess (1.2 [U format]): Jira's REST date format.
	jiraTimeFormat = "2006-01-02T15:04:05.000-0700"
)

// sendJiraUser answers with one full User representation; call with e.mu held, it unlocks.
func (e *Emulator) sendJiraUser(c *call, status int, u *user, expandGroups, expandRoles bool, unlock func()) {
	j := e.getBuf()
	j.jiraUser(c.origin, u, expandGroups, expandRoles)
	self := ""
	if status == http.StatusCreated {
		self = c.origin + "/rest/api/2/user?username=" + url.QueryEscape(u.name)
	}
	unlock()
	if self != "" {
		// Guess (1.3): Location names the new user, as REST 201s usually do.
		c.w.Header()["Location"] = []string{self}
	}
	e.send(c.w, status, j)
}

// --- users ---

// jiraUserTarget reads ?username= or ?key= (atlassian-api.md 1.4: one of them, not both).
func (e *Emulator) jiraUserTarget(c *call) (username, key string, ok bool) {
	raw := c.r.URL.RawQuery
	username, hasName := query(raw, "username")
	key, hasKey := query(raw, "key")
	switch {
	case hasName && hasKey:
		// Guess (1.4): the text when both are given.
		e.jiraError(c, http.StatusBadRequest, "You must specify either a username or a key, not both.")
		return "", "", false
	case !hasName && !hasKey:
		// Guess (1.4): the text when neither is given.
		e.jiraError(c, http.StatusBadRequest, "You must specify a username or a key.")
		return "", "", false
	}
	return username, key, true
}

// lookup finds the target user; call with e.mu held.
func (e *Emulator) lookup(username, key string) *user {
	if key != "" {
		return e.dir.userByKey(key)
	}
	return e.dir.user(username)
}

// jiraFindUser returns the target user, or answers 404 and calls unlock. Call it with e.mu held;
// unlock releases it.
func (e *Emulator) jiraFindUser(c *call, username, key string, unlock func()) *user {
	u := e.lookup(username, key)
	if u != nil {
		return u
	}
	unlock()
	if key != "" {
		e.jiraError(c, http.StatusNotFound, msgUserKeyNotFound(key))
	} else {
		e.jiraError(c, http.StatusNotFound, msgUserNotFound(username))
	}
	return nil
}

// jiraDecode reads the JSON body into v, answering 400 itself when it cannot.
func (e *Emulator) jiraDecode(c *call, v any) bool {
	if err := decodeJSON(c.r, v); err != nil {
		e.jiraError(c, http.StatusBadRequest, err.Error())
		return false
	}
	return true
}

func expandFlags(raw string) (groups, roles bool) {
	expand, _ := query(raw, "expand")
	for expand != "" {
		var part string
		part, expand, _ = strings.Cut(expand, ",")
		switch strings.TrimSpace(part) {
		case "groups":
			groups = true
		case "applicationRoles":
			roles = true
		}
	}
	return groups, roles
}

func (e *Emulator) jiraGetUser(c *call) {
	username, key, ok := e.jiraUserTarget(c)
	if !ok {
		return
	}
	eg, er := expandFlags(c.r.URL.RawQuery)
	e.mu.RLock()
	u := e.jiraFindUser(c, username, key, e.mu.RUnlock)
	if u == nil {
		return
	}
	e.sendJiraUser(c, http.StatusOK, u, eg, er, e.mu.RUnlock)
}

// jiraUserWrite is the UserWrite request body (atlassian-api.md 1.3, 1.5). Unknown fields are
// ignored, as Jira's JSON binding does.
type jiraUserWrite struct {
	Name            *string         `json:"name"`
	Password        *string         `json:"password"`
	EmailAddress    *string         `json:"emailAddress"`
	DisplayName     *string         `json:"displayName"`
	Notification    json.RawMessage `json:"notification"`
	ApplicationKeys *[]string       `json:"applicationKeys"`
	Active          json.RawMessage `json:"active"`
}

// validateUsername applies JDUS validateUsername (atlassian-api.md 1.3): required, at most 255
// characters, no '<', '>' or '&'. Guess (1.3 [U text]): the English messages.
func validateUsername(name string) string {
	switch {
	case strings.TrimSpace(name) == "":
		return "You must specify a username."
	case len([]rune(name)) > 255:
		return "The username must not exceed 255 characters in length."
	case strings.ContainsAny(name, "<>&"):
		return "The username must not contain '<', '>' or '&'."
	}
	return ""
}

// validEmail is a deliberately simple check. Guess (1.3 [U]): Jira's exact email rule.
func validEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, " \t\r\n<>") &&
		!strings.Contains(domain, "@") && len(s) <= 255
}

// Guess (1.3 [U]): field keys other than "username" and their texts.
const (
	fieldEmail       = "email"
	fieldDisplayName = "displayName"
	fieldPassword    = "password"
	msgEmail         = "You must specify a valid email address."
	msgDisplayName   = "You must specify a full name."
)

func (e *Emulator) jiraCreateUser(c *call) {
	var in jiraUserWrite
	if !e.jiraDecode(c, &in) {
		return
	}
	// JDUS validateCreateUser checks for a writable directory before any field (atlassian-api.md 1.3).
	if e.readOnly() {
		e.jiraError(c, statusUserReadOnly, msgCreateUserReadOnly)
		return
	}
	errs := map[string]string{}
	name := deref(in.Name)
	if msg := validateUsername(name); msg != "" {
		errs["username"] = msg
	}
	email := deref(in.EmailAddress)
	if !validEmail(email) {
		errs[fieldEmail] = msgEmail
	}
	display := deref(in.DisplayName)
	if strings.TrimSpace(display) == "" || len([]rune(display)) > 255 {
		errs[fieldDisplayName] = msgDisplayName
	}
	// Guess (1.1, 1.5 [I]): `active` joined UserWrite in Jira 8.3; older Jira ignores it on create
	// as on update, so the user is created active.
	active := true
	if e.version.activeOnPUT() {
		var err error
		if active, err = activeOr(in.Active, true); err != nil {
			errs["active"] = err.Error()
		}
	}
	// applicationKeys put the user in each application's default group (atlassian-api.md 1.3).
	// Guess (1.3 [U]): when omitted, the user gets no application access (and no seat).
	var groups []string
	if in.ApplicationKeys != nil {
		for _, k := range *in.ApplicationKeys {
			a, ok := applicationByKey(k)
			if !ok {
				// Guess (1.3): an unknown application key is a global error.
				e.jiraError(c, http.StatusBadRequest, "Application with key '"+k+"' does not exist.")
				return
			}
			groups = append(groups, a.defaultGroup)
		}
	}
	password := deref(in.Password)
	if in.Password == nil {
		password = "generated" // "If password field is not set then password will be randomly generated."
	}
	first, last := splitName(display)
	now := e.now()

	e.mu.Lock()
	if errs["username"] == "" && e.dir.user(name) != nil {
		errs["username"] = msgUserExists
	}
	if len(errs) > 0 {
		e.mu.Unlock()
		e.writeJSON(c.w, http.StatusBadRequest, jiraFieldErrors(errs))
		return
	}
	u, err := e.dir.createUser(newUser{
		name: name, displayName: display, firstName: first, lastName: last,
		email: email, password: password, active: active, groups: groups,
	}, now, true)
	if err != nil {
		e.mu.Unlock()
		e.jiraDirError(c, err, name, "")
		return
	}
	e.sendJiraUser(c, http.StatusCreated, u, false, false, e.mu.Unlock)
}

// jiraDirError maps directory errors that can surface from several operations.
func (e *Emulator) jiraDirError(c *call, err error, username, group string) {
	switch {
	case errors.Is(err, errLicenceExceeded):
		e.jiraError(c, http.StatusBadRequest, msgLicence)
	case errors.Is(err, ErrUserExists):
		e.writeJSON(c.w, http.StatusBadRequest, jiraFieldErrors(map[string]string{"username": msgUserExists}))
	case errors.Is(err, errGroupNameInvalid):
		e.jiraError(c, http.StatusBadRequest, "You must specify a valid group name.")
	case errors.Is(err, ErrUserNotFound):
		e.jiraError(c, http.StatusNotFound, msgUserNotFound(username))
	case errors.Is(err, errGroupNotFound):
		e.jiraError(c, http.StatusNotFound, msgGroupNotFound(group))
	default:
		e.jiraError(c, http.StatusBadRequest, err.Error())
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (e *Emulator) jiraUpdateUser(c *call) {
	username, key, ok := e.jiraUserTarget(c)
	if !ok {
		return
	}
	var in jiraUserWrite
	if !e.jiraDecode(c, &in) {
		return
	}
	errs := map[string]string{}
	if in.Name != nil {
		if msg := validateUsername(*in.Name); msg != "" {
			errs["username"] = msg
		}
	}
	if in.EmailAddress != nil && !validEmail(*in.EmailAddress) {
		errs[fieldEmail] = msgEmail
	}
	if in.DisplayName != nil && (strings.TrimSpace(*in.DisplayName) == "" || len([]rune(*in.DisplayName)) > 255) {
		errs[fieldDisplayName] = msgDisplayName
	}
	if in.Password != nil && *in.Password == "" {
		errs[fieldPassword] = "You must specify a password." // Guess (1.5)
	}
	// Guess (1.5): applicationKeys on an update are ignored; access changes go through groups or
	// /user/application.
	var active *bool
	// Before Jira 8.3 `active` is not part of the update (atlassian-api.md 1.5, 7.3).
	if in.Active != nil && e.version.activeOnPUT() {
		b, err := parseBool(in.Active)
		if err != nil {
			errs["active"] = err.Error()
		}
		active = &b
	}
	if len(errs) > 0 {
		e.writeJSON(c.w, http.StatusBadRequest, jiraFieldErrors(errs))
		return
	}
	now := e.now()

	e.mu.Lock()
	u := e.jiraFindUser(c, username, key, e.mu.Unlock)
	if u == nil {
		return
	}
	// JDUS validateUpdateUser: the user must exist, then its directory must be writable
	// (atlassian-api.md 1.5); this covers renames and (de)activation too. Guess: the field checks
	// above come first, as they always have in the emulator.
	if e.readOnly() {
		e.mu.Unlock()
		e.jiraError(c, statusUserReadOnly, msgEditUserReadOnly)
		return
	}
	rename := in.Name != nil && !strings.EqualFold(*in.Name, u.name)
	if rename && e.dir.user(*in.Name) != nil {
		e.mu.Unlock()
		e.writeJSON(c.w, http.StatusBadRequest, jiraFieldErrors(map[string]string{"username": msgUserExists}))
		return
	}
	changed := rename ||
		(in.EmailAddress != nil && *in.EmailAddress != u.email) ||
		(in.DisplayName != nil && *in.DisplayName != u.displayName) ||
		in.Password != nil ||
		(active != nil && *active != u.active)
	if !changed && !e.version.activeOnPUT() {
		e.mu.Unlock()
		e.jiraError(c, http.StatusBadRequest, msgNoValueChanged)
		return
	}
	if active != nil && !*active && u.active && strings.EqualFold(u.name, c.principal) {
		e.mu.Unlock()
		// JDUS admin.errors.users.cannot.deactivate.currently.logged.in (atlassian-api.md 1.5).
		// Guess: the English text.
		e.jiraError(c, http.StatusBadRequest, "You cannot deactivate the currently logged in user.")
		return
	}
	// The only refusable change is the licence check on reactivation, so test it first and
	// apply everything after: a refused request changes nothing.
	if active != nil && *active && !u.active && u.access > 0 && e.dir.wouldExceed(u) {
		e.mu.Unlock()
		e.jiraError(c, http.StatusBadRequest, msgLicence)
		return
	}
	if active != nil {
		_ = e.dir.setActive(u, *active, now) // cannot fail: checked above
	}
	if rename {
		_ = e.dir.renameUser(u, *in.Name, now) // cannot fail: checked above
	}
	if in.EmailAddress != nil {
		u.email = *in.EmailAddress
	}
	if in.DisplayName != nil {
		u.displayName = *in.DisplayName
		u.firstName, u.lastName = splitName(u.displayName)
	}
	if in.Password != nil {
		u.password = *in.Password
	}
	u.updated = now
	e.sendJiraUser(c, http.StatusOK, u, false, false, e.mu.Unlock)
}

func (e *Emulator) jiraDeleteUser(c *call) {
	username, key, ok := e.jiraUserTarget(c)
	if !ok {
		return
	}
	e.mu.Lock()
	u := e.jiraFindUser(c, username, key, e.mu.Unlock)
	if u == nil {
		return
	}
	if strings.EqualFold(u.name, c.principal) {
		e.mu.Unlock()
		// JDUS …cannot.delete.currently.logged.in (atlassian-api.md 1.6). Guess: the English text.
		e.jiraError(c, http.StatusBadRequest, "You cannot delete the currently logged in user.")
		return
	}
	// JDUS validateDeleteUser: self, existence, then a writable directory, before any veto.
	if e.readOnly() {
		e.mu.Unlock()
		e.jiraError(c, statusUserReadOnly, msgDeleteUserReadOnly)
		return
	}
	name := u.name
	err := e.dir.deleteUser(u)
	e.mu.Unlock()
	if errors.Is(err, errHasContent) {
		// Delete vetoes: 400 with one errorMessages entry per reason (atlassian-api.md 1.6).
		// Guess (1.6 [U text]): the emulator's content flag stands for one reported issue.
		e.jiraError(c, http.StatusBadRequest, "Cannot delete user '"+name+"' because they have reported 1 issues.")
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// intParam parses an optional non-negative integer query parameter.
func intParam(raw, key string, def int) (int, bool) {
	v, ok := query(raw, key)
	if !ok || v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// boolParam parses an optional boolean query parameter the JAX-RS way: "true" (any case) is true,
// anything else false.
func boolParam(raw, key string, def bool) bool {
	v, ok := query(raw, key)
	if !ok {
		return def
	}
	return strings.EqualFold(v, "true")
}

// jiraPaging reads startAt/maxResults, answering 400 itself for malformed values.
// Guess (1.7, 1.8): a malformed or negative number is a 400, 0 means the default.
func (e *Emulator) jiraPaging(c *call, defMax int) (startAt, maxResults int, ok bool) {
	raw := c.r.URL.RawQuery
	startAt, ok1 := intParam(raw, "startAt", 0)
	maxResults, ok2 := intParam(raw, "maxResults", defMax)
	if !ok1 || !ok2 {
		e.jiraError(c, http.StatusBadRequest, "startAt and maxResults must be non-negative integers.")
		return 0, 0, false
	}
	if maxResults == 0 {
		maxResults = defMax
	}
	return startAt, maxResults, true
}

// matchUser implements the /user/search match: "A query string used to search username, name or
// e-mail address" (atlassian-api.md 1.7). Guess (1.7): case-insensitive prefix of the username, the
// email, the display name or any word of it; "." matches everyone.
func matchUser(u *user, lowerQ string) bool {
	if lowerQ == "." {
		return true
	}
	if strings.HasPrefix(u.lower, lowerQ) || hasPrefixFold(u.email, lowerQ) || hasPrefixFold(u.displayName, lowerQ) {
		return true
	}
	for _, w := range strings.Fields(u.displayName) {
		if hasPrefixFold(w, lowerQ) {
			return true
		}
	}
	return false
}

func hasPrefixFold(s, lowerPrefix string) bool {
	return strings.HasPrefix(strings.ToLower(s), lowerPrefix)
}

func (e *Emulator) jiraSearchUsers(c *call) {
	raw := c.r.URL.RawQuery
	q, _ := query(raw, "username")
	if q == "" {
		// "username" is required on Server (atlassian-api.md 1.7). Guess: the text.
		e.jiraError(c, http.StatusBadRequest, "The username query parameter was not provided")
		return
	}
	startAt, maxResults, ok := e.jiraPaging(c, 50)
	if !ok {
		return
	}
	includeActive := boolParam(raw, "includeActive", true)
	includeInactive := boolParam(raw, "includeInactive", false)
	// DC 10.x: at most 100 per page and only the first 100 results overall, so startAt=98 with
	// maxResults=20 returns 2 users (atlassian-api.md 1.7). Guess (1.7 [U]): older Jira caps a page
	// at 1000.
	end := -1 // exclusive index limit among matches; -1 = none
	if e.version.searchCap100() {
		maxResults = min(maxResults, 100)
		end = 100
	} else {
		maxResults = min(maxResults, 1000)
	}
	lowerQ := strings.ToLower(q)

	e.mu.RLock()
	j := e.getBuf()
	j.raw("[")
	seen, n := 0, 0
	for _, u := range e.dir.byName {
		if (u.active && !includeActive) || (!u.active && !includeInactive) || !matchUser(u, lowerQ) {
			continue
		}
		if end >= 0 && seen >= end {
			break
		}
		seen++
		if seen <= startAt {
			continue
		}
		if n > 0 {
			j.raw(",")
		}
		j.jiraUser(c.origin, u, false, false)
		if n++; n == maxResults {
			break
		}
	}
	e.mu.RUnlock()
	j.raw("]")
	// A bare JSON array, no paging wrapper (atlassian-api.md 1.7).
	e.send(c.w, http.StatusOK, j)
}

// jiraListUsers streams every user, inactive included, in id order. The cursor is the id of the
// last user returned; any number is accepted, so it never answers 404 (atlassian-api.md 1.7).
func (e *Emulator) jiraListUsers(c *call) {
	raw := c.r.URL.RawQuery
	var after int64
	if v, ok := query(raw, "cursor"); ok && v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			// Guess (1.7): the cursor is numeric; anything else is a bad request.
			e.jiraError(c, http.StatusBadRequest, "The cursor must be a number.")
			return
		}
		after = n
	}
	maxResults, ok := intParam(raw, "maxResults", 2000)
	if !ok {
		e.jiraError(c, http.StatusBadRequest, "maxResults must be a non-negative integer.")
		return
	}
	if maxResults == 0 {
		maxResults = 2000
	}
	maxResults = min(maxResults, 10000) // Guess (1.7): no documented maximum; bound the page size

	e.mu.RLock()
	i := e.dir.idFrom(after)
	rest := e.dir.byID[i:]
	n := min(maxResults, len(rest))
	// StreamPage: {"self","maxResults","values","isLast","nextCursor","nextPage"}. Guess (1.7):
	// the cursor fields are left out on the last page, as nextPage is on /group/member (1.8).
	j := e.getBuf()
	j.raw(`{"self":`)
	j.str(c.origin + c.r.URL.RequestURI())
	j.raw(`,"maxResults":`)
	j.int(maxResults)
	j.raw(`,"values":[`)
	for k, u := range rest[:n] {
		if k > 0 {
			j.raw(",")
		}
		j.jiraUser(c.origin, u, false, false)
	}
	j.raw(`],"isLast":`)
	j.bool(n == len(rest))
	if n < len(rest) {
		cursor := strconv.FormatInt(rest[n-1].id, 10)
		j.raw(`,"nextCursor":`)
		j.str(cursor)
		j.raw(`,"nextPage":`)
		j.str(c.origin + c.root + "/user/list?cursor=" + cursor + "&maxResults=" + strconv.Itoa(maxResults))
	}
	e.mu.RUnlock()
	j.raw("}")
	e.send(c.w, http.StatusOK, j)
}

// jiraSetPassword: PUT /user/password (atlassian-api.md 1.5). Guess: 204 on success.
func (e *Emulator) jiraSetPassword(c *call) {
	username, key, ok := e.jiraUserTarget(c)
	if !ok {
		return
	}
	var in struct {
		Password        *string `json:"password"`
		CurrentPassword *string `json:"currentPassword"`
	}
	if !e.jiraDecode(c, &in) {
		return
	}
	if deref(in.Password) == "" {
		e.writeJSON(c.w, http.StatusBadRequest, jiraFieldErrors(map[string]string{fieldPassword: "You must specify a password."}))
		return
	}
	e.mu.Lock()
	u := e.jiraFindUser(c, username, key, e.mu.Unlock)
	if u == nil {
		return
	}
	// Guess (1.5): a password change is an edit of the user, refused like one.
	if e.readOnly() {
		e.mu.Unlock()
		e.jiraError(c, statusUserReadOnly, msgEditUserReadOnly)
		return
	}
	u.password = *in.Password
	u.updated = e.now()
	e.mu.Unlock()
	c.w.WriteHeader(http.StatusNoContent)
}

// jiraUserApplication adds or removes application access = membership of the application's
// default group (atlassian-api.md 1.7). Guess (1.7 [U]): 200 with an empty body, idempotent.
func (e *Emulator) jiraUserApplication(c *call) {
	add := c.r.Method == http.MethodPost
	raw := c.r.URL.RawQuery
	username, _ := query(raw, "username")
	appKey, _ := query(raw, "applicationKey")
	a, ok := applicationByKey(appKey)
	if !ok {
		e.jiraError(c, http.StatusBadRequest, "Application with key '"+appKey+"' does not exist.")
		return
	}
	now := e.now()
	e.mu.Lock()
	u := e.jiraFindUser(c, username, "", e.mu.Unlock)
	if u == nil {
		return
	}
	if e.readOnly() {
		// Guess (1.7, 1.8 [U]): application access is membership of the default group, so it is
		// refused like adding or removing that membership.
		uname := u.name
		e.mu.Unlock()
		msg := msgRemoveMemberReadOnly(uname, a.defaultGroup)
		if add {
			msg = msgAddMemberReadOnly(uname, a.defaultGroup)
		}
		e.jiraError(c, statusGroupReadOnly, msg)
		return
	}
	g := e.dir.group(a.defaultGroup)
	var err error
	switch {
	case add && g == nil && u.active && e.dir.wouldExceed(u):
		// Refuse before creating the default group: a refused request changes nothing.
		err = errLicenceExceeded
	case add && g == nil:
		if g, err = e.dir.createGroup(a.defaultGroup, ""); err == nil {
			err = e.dir.addMember(g, u, now)
		}
	case add && !isMember(g, u):
		err = e.dir.addMember(g, u, now)
	case !add && g != nil && isMember(g, u):
		err = e.dir.removeMember(g, u, now)
	}
	e.mu.Unlock()
	if err != nil {
		e.jiraDirError(c, err, username, a.defaultGroup)
		return
	}
	c.w.WriteHeader(http.StatusOK)
}

// jiraServerInfo is GET /serverInfo. Guess (7.3 [U field names]): the shape of Jira's ServerInfo.
type jiraServerInfo struct {
	BaseURL        string `json:"baseUrl"`
	Version        string `json:"version"`
	VersionNumbers [3]int `json:"versionNumbers"`
	DeploymentType string `json:"deploymentType"`
	BuildNumber    int    `json:"buildNumber"`
	ServerTime     string `json:"serverTime"`
	ScmInfo        string `json:"scmInfo"`
	ServerTitle    string `json:"serverTitle"`
}

func (e *Emulator) jiraServerInfo(c *call) {
	v := e.version
	e.writeJSON(c.w, http.StatusOK, &jiraServerInfo{
		BaseURL:        c.origin,
		Version:        e.versionString,
		VersionNumbers: [3]int{v.major, v.minor, v.patch},
		DeploymentType: "Server",
		BuildNumber:    v.major*100000 + v.minor*1000 + v.patch,
		ServerTime:     e.now().Format(jiraTimeFormat),
		ScmInfo:        "atlassiantest",
		ServerTitle:    "Jira (atlassiantest emulator)",
	})
}

// jiraMyself: GET /myself returns the caller. Guess (1.10): the emulator's admin is not part of the
// directory unless seeded, so it gets a synthetic representation.
func (e *Emulator) jiraMyself(c *call) {
	e.mu.RLock()
	if u := e.dir.user(c.principal); u != nil {
		e.sendJiraUser(c, http.StatusOK, u, false, false, e.mu.RUnlock)
		return
	}
	e.mu.RUnlock()
	me := &user{key: c.principal, name: c.principal, displayName: c.principal, active: true}
	e.sendJiraUser(c, http.StatusOK, me, false, false, func() {})
}

// formatTime renders t for the state document (RFC 3339) or nil.
func formatTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}
