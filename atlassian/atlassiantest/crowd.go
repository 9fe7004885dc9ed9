package atlassiantest

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// crowdErrorBody is Crowd's error body (atlassian-api.md 3.2).
type crowdErrorBody struct {
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

func (e *Emulator) crowdError(c *call, status int, reason, msg string) {
	e.writeJSON(c.w, status, crowdErrorBody{Reason: reason, Message: msg})
}

// Crowd messages: "User <x> does not exist" is verified (atlassian-api.md 3.2, 8); the others
// are Guesses in the same style.
func crowdUserNotFound(name string) string  { return "User <" + name + "> does not exist" }
func crowdGroupNotFound(name string) string { return "Group <" + name + "> does not exist" }

// serveCrowd dispatches the Crowd usermanagement paths (atlassian-api.md 3.4).
func (e *Emulator) serveCrowd(c *call) {
	switch c.sub {
	case "user":
		handlers{get: e.crowdGetUser, post: e.crowdCreateUser, put: e.crowdUpdateUser, del: e.crowdDeleteUser}.serve(c)
	case "user/rename":
		handlers{post: e.crowdRenameUser}.serve(c)
	case "user/password":
		handlers{put: e.crowdPassword, del: e.crowdPassword}.serve(c)
	case "user/attribute":
		handlers{get: e.crowdUserAttributes}.serve(c)
	case "user/group/direct", "user/group/nested":
		e.crowdMemberships(c, e.crowdUserGroups)
	case "group":
		handlers{get: e.crowdGetGroup, post: e.crowdCreateGroup, put: e.crowdUpdateGroup, del: e.crowdDeleteGroup}.serve(c)
	case "group/user/direct", "group/user/nested":
		e.crowdMemberships(c, e.crowdGroupUsers)
	case "group/child-group/direct", "group/child-group/nested", "group/parent-group/direct", "group/parent-group/nested":
		handlers{get: e.crowdNestedGroups}.serve(c)
	case "group/membership":
		handlers{get: e.crowdAllMemberships}.serve(c)
	case "search":
		handlers{get: e.crowdSearch, post: e.crowdSearch}.serve(c)
	default:
		// Guess (3.2): Crowd's answer to an unknown resource.
		e.crowdError(c, http.StatusNotFound, "OPERATION_FAILED", "No resource at "+c.r.URL.Path)
	}
}

// crowdMemberships serves a user's groups or a group's users: GET lists on /direct and /nested
// alike, POST and DELETE change direct memberships only. Guess (3.4): the 405 names the /direct
// methods on both paths.
func (e *Emulator) crowdMemberships(c *call, list func(*call)) {
	direct := strings.HasSuffix(c.sub, "/direct")
	switch m := c.r.Method; {
	case m == http.MethodGet:
		list(c)
	case m == http.MethodPost && direct:
		e.crowdAddMembership(c)
	case m == http.MethodDelete && direct:
		e.crowdRemoveMembership(c)
	default:
		methodNotAllowed(c.w, "GET, POST, DELETE")
	}
}

// --- JSON shapes (atlassian-api.md 3.3, 3.4) ---

type crowdLink struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

type crowdAttribute struct {
	Name   string   `json:"name"`
	Values []string `json:"values"`
}

type crowdAttributes struct {
	Attributes []crowdAttribute `json:"attributes"`
	Link       crowdLink        `json:"link"`
}

// crowdRef is the minimal {"link","name"} entry of unexpanded lists.
type crowdRef struct {
	Link crowdLink `json:"link"`
	Name string    `json:"name"`
}

type crowdGroupJSON struct {
	Expand      string          `json:"expand"`
	Link        crowdLink       `json:"link"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Type        string          `json:"type"`
	Active      bool            `json:"active"`
	Attributes  crowdAttributes `json:"attributes"`
}

func (c *call) crowdURL(path, param, value string) string {
	return c.origin + c.root + path + "?" + param + "=" + url.QueryEscape(value)
}

// sendCrowdUser answers with the user entity; call with e.mu held, it unlocks.
func (e *Emulator) sendCrowdUser(c *call, status int, u *user, expandAttributes bool, unlock func()) {
	j := e.getBuf()
	j.crowdUser(c, u, expandAttributes)
	loc := ""
	if status == http.StatusCreated {
		loc = c.crowdURL("/user", "username", u.name)
	}
	unlock()
	if loc != "" {
		c.w.Header()["Location"] = []string{loc}
	}
	e.send(c.w, status, j)
}

func (e *Emulator) crowdGroup(c *call, g *group) crowdGroupJSON {
	return crowdGroupJSON{
		Expand: "attributes", Link: crowdLink{c.crowdURL("/group", "groupname", g.name), "self"},
		Name: g.name, Description: g.description, Type: "GROUP", Active: g.active,
		Attributes: crowdAttributes{
			Attributes: []crowdAttribute{},
			Link:       crowdLink{c.crowdURL("/group/attribute", "groupname", g.name), "self"},
		},
	}
}

func expands(raw, what string) bool {
	v, _ := query(raw, "expand")
	for v != "" {
		var p string
		p, v, _ = strings.Cut(v, ",")
		if strings.TrimSpace(p) == what {
			return true
		}
	}
	return false
}

// --- users ---

// crowdParam reads the required query parameter ("username" or "groupname"), answering 400 itself
// when it is missing or empty.
func (e *Emulator) crowdParam(c *call, param string) (string, bool) {
	name, _ := query(c.r.URL.RawQuery, param)
	if name == "" {
		e.crowdError(c, http.StatusBadRequest, "ILLEGAL_ARGUMENT", param+" query parameter must be given")
		return "", false
	}
	return name, true
}

// crowdFindUser returns the named user, or answers 404 USER_NOT_FOUND and calls unlock. Call it
// with e.mu held; unlock releases it.
func (e *Emulator) crowdFindUser(c *call, name string, unlock func()) *user {
	u := e.dir.user(name)
	if u == nil {
		unlock()
		e.crowdError(c, http.StatusNotFound, "USER_NOT_FOUND", crowdUserNotFound(name))
	}
	return u
}

// crowdFindGroup is crowdFindUser for groups (404 GROUP_NOT_FOUND).
func (e *Emulator) crowdFindGroup(c *call, name string, unlock func()) *group {
	g := e.dir.group(name)
	if g == nil {
		unlock()
		e.crowdError(c, http.StatusNotFound, "GROUP_NOT_FOUND", crowdGroupNotFound(name))
	}
	return g
}

// crowdDecode reads the JSON body into v, answering 400 ILLEGAL_ARGUMENT itself when it cannot.
func (e *Emulator) crowdDecode(c *call, v any) bool {
	if err := decodeJSON(c.r, v); err != nil {
		e.crowdError(c, http.StatusBadRequest, "ILLEGAL_ARGUMENT", err.Error())
		return false
	}
	return true
}

func (e *Emulator) crowdGetUser(c *call) {
	raw := c.r.URL.RawQuery
	username, _ := query(raw, "username")
	key, _ := query(raw, "key")
	if username == "" && key == "" {
		e.crowdError(c, http.StatusBadRequest, "ILLEGAL_ARGUMENT", "username query parameter must be given")
		return
	}
	attrs := expands(raw, "attributes")
	e.mu.RLock()
	u := e.lookup(username, key)
	if u == nil {
		e.mu.RUnlock()
		e.crowdError(c, http.StatusNotFound, "USER_NOT_FOUND", crowdUserNotFound(username+key))
		return
	}
	e.sendCrowdUser(c, http.StatusOK, u, attrs, e.mu.RUnlock)
}

// crowdUserIn is the user entity a client sends (atlassian-api.md 3.3).
type crowdUserIn struct {
	Name        *string         `json:"name"`
	Password    *crowdPassword  `json:"password"`
	Active      json.RawMessage `json:"active"`
	FirstName   *string         `json:"first-name"`
	LastName    *string         `json:"last-name"`
	DisplayName *string         `json:"display-name"`
	Email       *string         `json:"email"`
}

type crowdPassword struct {
	Value *string `json:"value"`
}

// display returns the display name, built from first and last name when absent.
func (in *crowdUserIn) display() string {
	if d := deref(in.DisplayName); d != "" {
		return d
	}
	return strings.TrimSpace(deref(in.FirstName) + " " + deref(in.LastName))
}

func (e *Emulator) crowdCreateUser(c *call) {
	var in crowdUserIn
	if !e.crowdDecode(c, &in) {
		return
	}
	name := deref(in.Name)
	if strings.TrimSpace(name) == "" || len(name) > 255 {
		e.crowdError(c, http.StatusBadRequest, "INVALID_USER", "User name must be given")
		return
	}
	if e.crowdReadOnly(c, "user", name) {
		return
	}
	// Guess (3.3): a create without "active" makes an active user.
	active, err := activeOr(in.Active, true)
	if err != nil {
		e.crowdError(c, http.StatusBadRequest, "INVALID_USER", "active: "+err.Error())
		return
	}
	// Guess (3.3): a user created without a password gets an unusable one rather than a refusal.
	password := ""
	if in.Password != nil {
		password = deref(in.Password.Value)
	}
	first, last := deref(in.FirstName), deref(in.LastName)
	display := in.display()
	if first == "" && last == "" {
		first, last = splitName(display)
	}
	now := e.now()
	e.mu.Lock()
	u, err := e.dir.createUser(newUser{
		name: name, displayName: display, firstName: first, lastName: last,
		email: deref(in.Email), password: password, active: active,
	}, now, true)
	if err != nil {
		e.mu.Unlock()
		// 400 INVALID_USER for an existing user (atlassian-api.md 3.4). Guess: the text.
		e.crowdError(c, http.StatusBadRequest, "INVALID_USER", "User <"+name+"> already exists")
		return
	}
	e.sendCrowdUser(c, http.StatusCreated, u, false, e.mu.Unlock)
}

// crowdUpdateUser: PUT /user is a full replace; omitted first-name, last-name, display-name and
// email are blanked (atlassian-api.md 3.4). The body's name must equal the username parameter.
// Guess (3.4): an omitted "active" keeps the current value; names compare case-insensitively.
func (e *Emulator) crowdUpdateUser(c *call) {
	username, ok := e.crowdParam(c, "username")
	if !ok {
		return
	}
	var in crowdUserIn
	if !e.crowdDecode(c, &in) {
		return
	}
	if !strings.EqualFold(deref(in.Name), username) {
		e.crowdError(c, http.StatusBadRequest, "INVALID_USER",
			"User name in the body <"+deref(in.Name)+"> does not match the username parameter <"+username+">")
		return
	}
	if e.crowdReadOnly(c, "user", username) {
		return
	}
	now := e.now()
	e.mu.Lock()
	u := e.crowdFindUser(c, username, e.mu.Unlock)
	if u == nil {
		return
	}
	active, err := activeOr(in.Active, u.active)
	if err != nil {
		e.mu.Unlock()
		e.crowdError(c, http.StatusBadRequest, "INVALID_USER", "active: "+err.Error())
		return
	}
	if err := e.dir.setActive(u, active, now); err != nil {
		e.mu.Unlock()
		e.crowdLicence(c)
		return
	}
	u.firstName, u.lastName = deref(in.FirstName), deref(in.LastName)
	u.displayName = deref(in.DisplayName)
	u.email = deref(in.Email)
	if in.Password != nil && in.Password.Value != nil {
		u.password = *in.Password.Value
	}
	u.updated = now
	e.mu.Unlock()
	c.w.WriteHeader(http.StatusNoContent)
}

// readOnlyDirectoryName is the directory named in read-only refusals. Guess (7.4): an LDAP
// directory under Crowd's default name for one.
const readOnlyDirectoryName = "LDAP server"

// crowdReadOnly answers a change the read-only directory refuses and reports true; with a writable
// directory it does nothing and reports false. Call it before taking e.mu.
// atlassian-api.md 7.4 [V KB]: "Cannot update group '<g>' because directory '<d>' does not allow
// updates."; 3.1, 3.4: the refusal is APPLICATION_PERMISSION_DENIED. Guess (3.4 [U]): status 403
// (3.1's permission denial), the same sentence for users, and that the directory is checked before
// the entity is looked up.
func (e *Emulator) crowdReadOnly(c *call, entity, name string) bool {
	if !e.readOnly() {
		return false
	}
	e.crowdError(c, http.StatusForbidden, "APPLICATION_PERMISSION_DENIED",
		"Cannot update "+entity+" '"+name+"' because directory '"+readOnlyDirectoryName+"' does not allow updates.")
	return true
}

// crowdLicence answers a change that would exceed the Jira licence through the Crowd face.
// Guess (1.9, 3.2): Jira-as-user-server refuses it like any failed operation.
func (e *Emulator) crowdLicence(c *call) {
	e.crowdError(c, http.StatusBadRequest, "OPERATION_FAILED", msgLicence)
}

// crowdRenameUser: POST /user/rename?username=old {"new-name":"new"} → 200 + user
// (atlassian-api.md 3.4). Guess (3.4 [U]): the RenameEntity field name "new-name".
func (e *Emulator) crowdRenameUser(c *call) {
	username, ok := e.crowdParam(c, "username")
	if !ok {
		return
	}
	var in struct {
		NewName *string `json:"new-name"`
	}
	if !e.crowdDecode(c, &in) {
		return
	}
	newName := deref(in.NewName)
	if strings.TrimSpace(newName) == "" || len(newName) > 255 {
		e.crowdError(c, http.StatusBadRequest, "INVALID_USER", "new-name must be given")
		return
	}
	if e.crowdReadOnly(c, "user", username) {
		return
	}
	now := e.now()
	e.mu.Lock()
	u := e.crowdFindUser(c, username, e.mu.Unlock)
	if u == nil {
		return
	}
	if err := e.dir.renameUser(u, newName, now); err != nil {
		e.mu.Unlock()
		e.crowdError(c, http.StatusBadRequest, "INVALID_USER", "User <"+newName+"> already exists")
		return
	}
	e.sendCrowdUser(c, http.StatusOK, u, false, e.mu.Unlock)
}

// crowdDeleteUser: 204 (atlassian-api.md 3.4). Guess (1.6, 3.2): Jira-as-user-server keeps its
// delete veto for users who own content and reports it as OPERATION_FAILED.
func (e *Emulator) crowdDeleteUser(c *call) {
	username, ok := e.crowdParam(c, "username")
	if !ok {
		return
	}
	if e.crowdReadOnly(c, "user", username) {
		return
	}
	e.mu.Lock()
	u := e.crowdFindUser(c, username, e.mu.Unlock)
	if u == nil {
		return
	}
	name := u.name
	err := e.dir.deleteUser(u)
	e.mu.Unlock()
	if err != nil {
		e.crowdError(c, http.StatusBadRequest, "OPERATION_FAILED", "Cannot delete user <"+name+"> because they own content")
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// crowdPassword: PUT {"value":"…"} sets, DELETE clears; 204 (atlassian-api.md 3.4).
func (e *Emulator) crowdPassword(c *call) {
	set := c.r.Method == http.MethodPut
	username, ok := e.crowdParam(c, "username")
	if !ok {
		return
	}
	var value string
	if set {
		var in crowdPassword
		if !e.crowdDecode(c, &in) {
			return
		}
		if deref(in.Value) == "" {
			e.crowdError(c, http.StatusBadRequest, "INVALID_CREDENTIAL", "Password must be given")
			return
		}
		value = *in.Value
	}
	if e.crowdReadOnly(c, "user", username) {
		return
	}
	e.mu.Lock()
	u := e.crowdFindUser(c, username, e.mu.Unlock)
	if u == nil {
		return
	}
	u.password = value
	u.updated = e.now()
	e.mu.Unlock()
	c.w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) crowdUserAttributes(c *call) {
	username, ok := e.crowdParam(c, "username")
	if !ok {
		return
	}
	e.mu.RLock()
	u := e.crowdFindUser(c, username, e.mu.RUnlock)
	if u == nil {
		return
	}
	j := e.getBuf()
	j.crowdAttributes(c, u, true)
	e.mu.RUnlock()
	e.send(c.w, http.StatusOK, j)
}

// --- paging ---

// crowdPaging reads start-index and max-results (atlassian-api.md 3.4: no total, no isLast).
// Guess (3.4): max-results defaults to 1000 and -1 means all results (Crowd's ALL_RESULTS).
func (e *Emulator) crowdPaging(c *call) (start, maxResults int, ok bool) {
	raw := c.r.URL.RawQuery
	start, ok1 := intParam(raw, "start-index", 0)
	maxResults = 1000
	ok2 := true
	if v, present := query(raw, "max-results"); present && v != "" {
		n, err := strconv.Atoi(v)
		switch {
		case err != nil || n < -1:
			ok2 = false
		case n == -1:
			maxResults = int(^uint(0) >> 1)
		default:
			maxResults = n
		}
	}
	if !ok1 || !ok2 {
		e.crowdError(c, http.StatusBadRequest, "ILLEGAL_ARGUMENT", "start-index and max-results must be integers")
		return 0, 0, false
	}
	return start, maxResults, true
}

// crowdListQuery is what a membership listing asks for.
type crowdListQuery struct {
	name              string // the entity whose memberships are listed
	other             string // with check: the entity whose membership is asked about
	check             bool   // other was given: answer 200 or 404 instead of listing
	start, maxResults int
	expand            bool // list full entities, not {"link","name"} references
	attributes        bool // with expand: each entity's attribute list filled (expand=…,attributes)
}

// crowdListQuery reads a membership listing's query, answering 400 itself: param names the listed
// entity, otherParam the one of a membership check, expand the expansion that fills the entries.
func (e *Emulator) crowdListQuery(c *call, param, otherParam, expand string) (q crowdListQuery, ok bool) {
	if q.name, ok = e.crowdParam(c, param); !ok {
		return q, false
	}
	if q.start, q.maxResults, ok = e.crowdPaging(c); !ok {
		return q, false
	}
	raw := c.r.URL.RawQuery
	q.other, q.check = query(raw, otherParam)
	q.expand = expands(raw, expand)
	q.attributes = expands(raw, "attributes")
	return q, true
}

// window returns the [start, start+max) bounds clipped to n.
func window(n, start, maxResults int) (int, int) {
	if start >= n {
		return n, n
	}
	return start, start + min(maxResults, n-start)
}

// crowdUserList appends {"expand":"user","users":[…]}: {"link","name"} references, or with
// expandUser full entities whose attribute lists are filled when expandAttributes is set too
// (expand=user,attributes, atlassian-api.md 3.4). Call with e.mu held.
func crowdUserList(j *jsonBuf, c *call, users []*user, expandUser, expandAttributes bool) {
	if !expandUser || !expandAttributes {
		j.crowdUsers(c, users, expandUser)
		return
	}
	j.raw(`{"expand":"user","users":[`)
	for i, u := range users {
		if i > 0 {
			j.raw(",")
		}
		j.crowdUser(c, u, true)
	}
	j.raw("]}")
}

// --- memberships ---

type crowdGroupList struct {
	Expand string `json:"expand"`
	Groups any    `json:"groups"`
}

// crowdUserGroups: GET /user/group/direct?username=u lists the user's groups; with &groupname=g it
// answers 200 if u is a member and 404 if not (atlassian-api.md 3.4). Without nested groups,
// /nested equals /direct.
func (e *Emulator) crowdUserGroups(c *call) {
	q, ok := e.crowdListQuery(c, "username", "groupname", "group")
	if !ok {
		return
	}
	groupname := q.other
	e.mu.RLock()
	u := e.crowdFindUser(c, q.name, e.mu.RUnlock)
	if u == nil {
		return
	}
	if q.check {
		g := e.dir.group(groupname)
		if g == nil || !isMember(g, u) {
			uname := u.name // read under the lock
			e.mu.RUnlock()
			e.crowdError(c, http.StatusNotFound, "MEMBERSHIP_NOT_FOUND", "User <"+uname+"> is not a member of <"+groupname+">")
			return
		}
		out := crowdRef{Link: crowdLink{c.crowdURL("/group", "groupname", g.name), "self"}, Name: g.name}
		e.mu.RUnlock()
		e.writeJSON(c.w, http.StatusOK, &out)
		return
	}
	from, to := window(len(u.groups), q.start, q.maxResults)
	out := crowdGroupList{Expand: "group"}
	if q.expand {
		list := make([]crowdGroupJSON, 0, to-from)
		for _, g := range u.groups[from:to] {
			list = append(list, e.crowdGroup(c, g))
		}
		out.Groups = list
	} else {
		list := make([]crowdRef, 0, to-from)
		for _, g := range u.groups[from:to] {
			list = append(list, crowdRef{Link: crowdLink{c.crowdURL("/group", "groupname", g.name), "self"}, Name: g.name})
		}
		out.Groups = list
	}
	e.mu.RUnlock()
	e.writeJSON(c.w, http.StatusOK, &out)
}

// crowdGroupUsers: GET /group/user/direct?groupname=g lists members; with &username=u it is the
// membership check (200 member, 404 not) (atlassian-api.md 3.4).
func (e *Emulator) crowdGroupUsers(c *call) {
	q, ok := e.crowdListQuery(c, "groupname", "username", "user")
	if !ok {
		return
	}
	username := q.other
	e.mu.RLock()
	g := e.crowdFindGroup(c, q.name, e.mu.RUnlock)
	if g == nil {
		return
	}
	if q.check {
		u := e.dir.user(username)
		if u == nil || !isMember(g, u) {
			e.mu.RUnlock()
			e.crowdError(c, http.StatusNotFound, "MEMBERSHIP_NOT_FOUND", "User <"+username+"> is not a member of <"+g.name+">")
			return
		}
		j := e.getBuf()
		j.crowdRef(c, "/user", "username", u.name)
		e.mu.RUnlock()
		e.send(c.w, http.StatusOK, j)
		return
	}
	from, to := window(len(g.members), q.start, q.maxResults)
	j := e.getBuf()
	crowdUserList(j, c, g.members[from:to], q.expand, q.attributes)
	e.mu.RUnlock()
	e.send(c.w, http.StatusOK, j)
}

// crowdAddMembership: POST /user/group/direct?username=u {"name":"g"} or POST
// /group/user/direct?groupname=g {"name":"u"} → 201. The entity named in the query is 404 when
// missing, the one in the body 400; an existing membership is 409 MEMBERSHIP_ALREADY_EXISTS
// (atlassian-api.md 3.4 [V GOCROWD], mirror form [I]).
func (e *Emulator) crowdAddMembership(c *call) {
	groupInQuery := strings.HasPrefix(c.sub, "group/")
	var qname string
	var ok bool
	if groupInQuery {
		qname, ok = e.crowdParam(c, "groupname")
	} else {
		qname, ok = e.crowdParam(c, "username")
	}
	if !ok {
		return
	}
	var in struct {
		Name *string `json:"name"`
	}
	if !e.crowdDecode(c, &in) {
		return
	}
	username, groupname := qname, deref(in.Name)
	if groupInQuery {
		username, groupname = groupname, username
	}
	if e.crowdReadOnly(c, "group", groupname) {
		return
	}
	now := e.now()
	e.mu.Lock()
	u, g := e.dir.user(username), e.dir.group(groupname)
	userStatus, groupStatus := http.StatusNotFound, http.StatusBadRequest
	if groupInQuery {
		userStatus, groupStatus = http.StatusBadRequest, http.StatusNotFound
	}
	var err error
	switch {
	case groupInQuery && g == nil:
		err = errGroupNotFound
	case u == nil:
		err = ErrUserNotFound
	case g == nil:
		err = errGroupNotFound
	default:
		err = e.dir.addMember(g, u, now)
		username, groupname = u.name, g.name // display case, read under the lock
	}
	e.mu.Unlock()
	switch {
	case err == nil:
		// Guess (3.4): 201 with a Location header and no body.
		c.w.Header()["Location"] = []string{c.crowdURL("/group/user/direct", "groupname", groupname) + "&username=" + url.QueryEscape(username)}
		c.w.WriteHeader(http.StatusCreated)
	case errors.Is(err, ErrUserNotFound):
		e.crowdError(c, userStatus, "USER_NOT_FOUND", crowdUserNotFound(username))
	case errors.Is(err, errGroupNotFound):
		e.crowdError(c, groupStatus, "GROUP_NOT_FOUND", crowdGroupNotFound(groupname))
	case errors.Is(err, errAlreadyMember):
		// Guess (8 [U message]).
		e.crowdError(c, http.StatusConflict, "MEMBERSHIP_ALREADY_EXISTS",
			"User <"+username+"> is already a direct member of <"+groupname+">")
	case errors.Is(err, errLicenceExceeded):
		e.crowdLicence(c)
	default:
		e.crowdError(c, http.StatusBadRequest, "OPERATION_FAILED", err.Error())
	}
}

// crowdRemoveMembership: DELETE /user/group/direct?username=u&groupname=g or
// /group/user/direct?groupname=g&username=u → 204; 404 with USER_NOT_FOUND, GROUP_NOT_FOUND or
// MEMBERSHIP_NOT_FOUND (atlassian-api.md 3.4).
func (e *Emulator) crowdRemoveMembership(c *call) {
	raw := c.r.URL.RawQuery
	username, _ := query(raw, "username")
	groupname, _ := query(raw, "groupname")
	if username == "" || groupname == "" {
		e.crowdError(c, http.StatusBadRequest, "ILLEGAL_ARGUMENT", "username and groupname query parameters must be given")
		return
	}
	if e.crowdReadOnly(c, "group", groupname) {
		return
	}
	now := e.now()
	e.mu.Lock()
	u, g := e.dir.user(username), e.dir.group(groupname)
	var err error
	switch {
	case u == nil:
		err = ErrUserNotFound
	case g == nil:
		err = errGroupNotFound
	default:
		err = e.dir.removeMember(g, u, now)
	}
	e.mu.Unlock()
	switch {
	case err == nil:
		c.w.WriteHeader(http.StatusNoContent)
	case errors.Is(err, ErrUserNotFound):
		e.crowdError(c, http.StatusNotFound, "USER_NOT_FOUND", crowdUserNotFound(username))
	case errors.Is(err, errGroupNotFound):
		e.crowdError(c, http.StatusNotFound, "GROUP_NOT_FOUND", crowdGroupNotFound(groupname))
	default:
		e.crowdError(c, http.StatusNotFound, "MEMBERSHIP_NOT_FOUND", "User <"+username+"> is not a direct member of <"+groupname+">")
	}
}

// --- groups ---

func (e *Emulator) crowdGetGroup(c *call) {
	name, ok := e.crowdParam(c, "groupname")
	if !ok {
		return
	}
	e.mu.RLock()
	g := e.crowdFindGroup(c, name, e.mu.RUnlock)
	if g == nil {
		return
	}
	out := e.crowdGroup(c, g)
	e.mu.RUnlock()
	e.writeJSON(c.w, http.StatusOK, &out)
}

type crowdGroupIn struct {
	Name        *string         `json:"name"`
	Description *string         `json:"description"`
	Type        *string         `json:"type"`
	Active      json.RawMessage `json:"active"`
}

// crowdCreateGroup: POST /group → 201; an existing or invalid group is 400 INVALID_GROUP
// (atlassian-api.md 3.4).
func (e *Emulator) crowdCreateGroup(c *call) {
	var in crowdGroupIn
	if !e.crowdDecode(c, &in) {
		return
	}
	if t := deref(in.Type); t != "" && t != "GROUP" {
		e.crowdError(c, http.StatusBadRequest, "INVALID_GROUP", "Group type must be GROUP")
		return
	}
	active, err := activeOr(in.Active, true)
	if err != nil {
		e.crowdError(c, http.StatusBadRequest, "INVALID_GROUP", "active: "+err.Error())
		return
	}
	name := deref(in.Name)
	if e.crowdReadOnly(c, "group", name) {
		return
	}
	e.mu.Lock()
	g, err := e.dir.createGroup(name, deref(in.Description))
	if err != nil {
		e.mu.Unlock()
		msg := "Group <" + name + "> already exists" // Guess (3.4): the text
		if errors.Is(err, errGroupNameInvalid) {
			msg = "Group name must be given"
		}
		e.crowdError(c, http.StatusBadRequest, "INVALID_GROUP", msg)
		return
	}
	g.active = active
	out := e.crowdGroup(c, g)
	e.mu.Unlock()
	c.w.Header()["Location"] = []string{out.Link.Href}
	e.writeJSON(c.w, http.StatusCreated, &out)
}

// crowdUpdateGroup: PUT /group?groupname=g with the full entity → 204 (atlassian-api.md 3.4).
func (e *Emulator) crowdUpdateGroup(c *call) {
	name, ok := e.crowdParam(c, "groupname")
	if !ok {
		return
	}
	var in crowdGroupIn
	if !e.crowdDecode(c, &in) {
		return
	}
	if !strings.EqualFold(deref(in.Name), name) {
		e.crowdError(c, http.StatusBadRequest, "INVALID_GROUP", "Group name in the body does not match the groupname parameter")
		return
	}
	active, err := activeOr(in.Active, true)
	if err != nil {
		e.crowdError(c, http.StatusBadRequest, "INVALID_GROUP", "active: "+err.Error())
		return
	}
	if e.crowdReadOnly(c, "group", name) {
		return
	}
	e.mu.Lock()
	g := e.crowdFindGroup(c, name, e.mu.Unlock)
	if g == nil {
		return
	}
	g.description, g.active = deref(in.Description), active
	e.mu.Unlock()
	c.w.WriteHeader(http.StatusNoContent)
}

func (e *Emulator) crowdDeleteGroup(c *call) {
	name, ok := e.crowdParam(c, "groupname")
	if !ok {
		return
	}
	if e.crowdReadOnly(c, "group", name) {
		return
	}
	e.mu.Lock()
	g := e.crowdFindGroup(c, name, e.mu.Unlock)
	if g == nil {
		return
	}
	e.dir.deleteGroup(g)
	e.mu.Unlock()
	c.w.WriteHeader(http.StatusNoContent)
}

// crowdNestedGroups: the emulator has no nested groups, so child and parent lists are empty.
func (e *Emulator) crowdNestedGroups(c *call) {
	name, ok := e.crowdParam(c, "groupname")
	if !ok {
		return
	}
	e.mu.RLock()
	if e.crowdFindGroup(c, name, e.mu.RUnlock) == nil {
		return
	}
	e.mu.RUnlock()
	e.writeJSON(c.w, http.StatusOK, crowdGroupList{Expand: "group", Groups: []crowdRef{}})
}

// crowdAllMemberships: GET /group/membership answers XML (atlassian-api.md 3.4).
func (e *Emulator) crowdAllMemberships(c *call) {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?><memberships>`)
	e.mu.RLock()
	for _, g := range e.dir.groupList {
		b.WriteString(`<membership group="`)
		b.WriteString(xmlAttr(g.name))
		b.WriteString(`"><users>`)
		for _, u := range g.members {
			b.WriteString(`<user name="`)
			b.WriteString(xmlAttr(u.name))
			b.WriteString(`"/>`)
		}
		b.WriteString(`</users><groups></groups></membership>`)
	}
	e.mu.RUnlock()
	b.WriteString("</memberships>\n")
	writeRaw(c.w, http.StatusOK, "application/xml", b.String())
}

func xmlAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(s)
}
