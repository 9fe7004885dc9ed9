package atlassiantest

import (
	"errors"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

func groupSelf(origin, name string) string {
	return origin + "/rest/api/2/group?groupname=" + url.QueryEscape(name)
}

// sendJiraGroup answers with the Group representation (atlassian-api.md 1.8); call with e.mu held,
// it unlocks.
func (e *Emulator) sendJiraGroup(c *call, status int, g *group, expand bool, from, to int, unlock func()) {
	j := e.getBuf()
	j.jiraGroup(c.origin, g, expand, from, to)
	unlock()
	e.send(c.w, status, j)
}

// parseUsersExpand reads expand=users[a:b] (atlassian-api.md 1.8). "users" alone means [0:49].
// Guess (1.8): a window is capped at 50 users, like the member page.
func parseUsersExpand(expand string) (ok bool, from, to int) {
	for _, part := range strings.Split(expand, ",") {
		part = strings.TrimSpace(part)
		if part == "users" {
			return true, 0, 49
		}
		rest, found := strings.CutPrefix(part, "users[")
		if !found || !strings.HasSuffix(rest, "]") {
			continue
		}
		a, b, _ := strings.Cut(strings.TrimSuffix(rest, "]"), ":")
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || x < 0 || y < x {
			return true, 0, 49
		}
		return true, x, min(y, x+49)
	}
	return false, 0, 0
}

func (e *Emulator) groupnameParam(c *call) (string, bool) {
	name, _ := query(c.r.URL.RawQuery, "groupname")
	if name == "" {
		// Guess (1.8): the text when groupname is missing.
		e.jiraError(c, http.StatusBadRequest, "You must specify a group name.")
		return "", false
	}
	return name, true
}

// jiraFindGroup returns the named group, or answers 404 and calls unlock. Call it with e.mu held;
// unlock releases it.
func (e *Emulator) jiraFindGroup(c *call, name string, unlock func()) *group {
	g := e.dir.group(name)
	if g == nil {
		unlock()
		e.jiraError(c, http.StatusNotFound, msgGroupNotFound(name))
	}
	return g
}

func (e *Emulator) jiraGetGroup(c *call) {
	name, ok := e.groupnameParam(c)
	if !ok {
		return
	}
	expand, _ := query(c.r.URL.RawQuery, "expand")
	exp, from, to := parseUsersExpand(expand)
	e.mu.RLock()
	g := e.jiraFindGroup(c, name, e.mu.RUnlock)
	if g == nil {
		return
	}
	e.sendJiraGroup(c, http.StatusOK, g, exp, from, to, e.mu.RUnlock)
}

func (e *Emulator) jiraCreateGroup(c *call) {
	var in struct {
		Name *string `json:"name"`
	}
	if !e.jiraDecode(c, &in) {
		return
	}
	name := deref(in.Name)
	if e.readOnly() {
		e.jiraError(c, statusGroupReadOnly, msgCreateGroupReadOnly)
		return
	}
	e.mu.Lock()
	g, err := e.dir.createGroup(name, "")
	if err != nil {
		e.mu.Unlock()
		if errors.Is(err, errGroupExists) {
			// Guess (1.8 [U text]).
			e.jiraError(c, http.StatusBadRequest, "A group or user with this name already exists.")
			return
		}
		e.jiraDirError(c, err, "", name)
		return
	}
	c.w.Header()["Location"] = []string{groupSelf(c.origin, g.name)}
	e.sendJiraGroup(c, http.StatusCreated, g, false, 0, 0, e.mu.Unlock)
}

// jiraDeleteGroup: DELETE /group?groupname=g[&swapGroup=g2]. Guess (1.8 [U]): 200 with an empty
// body; swapGroup only moves visibility restrictions, which the emulator does not have, but an
// unknown swap group is refused like an unknown group.
func (e *Emulator) jiraDeleteGroup(c *call) {
	name, ok := e.groupnameParam(c)
	if !ok {
		return
	}
	swap, hasSwap := query(c.r.URL.RawQuery, "swapGroup")
	e.mu.Lock()
	g := e.jiraFindGroup(c, name, e.mu.Unlock)
	if g == nil {
		return
	}
	if hasSwap && swap != "" && e.jiraFindGroup(c, swap, e.mu.Unlock) == nil {
		return
	}
	if e.readOnly() {
		gname := g.name // read under the lock
		e.mu.Unlock()
		e.jiraError(c, statusGroupReadOnly, msgDeleteGroupReadOnly(gname))
		return
	}
	e.dir.deleteGroup(g)
	e.mu.Unlock()
	c.w.WriteHeader(http.StatusOK)
}

// jiraGroupMembers pages through a group's members ordered by username; nextPage is omitted on the
// last page (atlassian-api.md 1.8). Guess (1.8 [U]): maxResults is capped at 50.
func (e *Emulator) jiraGroupMembers(c *call) {
	name, ok := e.groupnameParam(c)
	if !ok {
		return
	}
	startAt, maxResults, ok := e.jiraPaging(c, 50)
	if !ok {
		return
	}
	maxResults = min(maxResults, 50)
	inactive := boolParam(c.r.URL.RawQuery, "includeInactiveUsers", false)
	pageURL := func(start int) string {
		return c.origin + "/rest/api/2/group/member?groupname=" + url.QueryEscape(name) +
			"&includeInactiveUsers=" + strconv.FormatBool(inactive) +
			"&maxResults=" + strconv.Itoa(maxResults) + "&startAt=" + strconv.Itoa(start)
	}

	e.mu.RLock()
	g := e.jiraFindGroup(c, name, e.mu.RUnlock)
	if g == nil {
		return
	}
	// The page is written straight into the response buffer, without copying the member list.
	total := g.activeCount
	if inactive {
		total = len(g.members)
	}
	n := max(0, min(maxResults, total-startAt))
	j := e.getBuf()
	j.raw(`{"self":`)
	j.str(pageURL(startAt))
	if startAt+n < total {
		j.raw(`,"nextPage":`)
		j.str(pageURL(startAt + maxResults))
	}
	j.raw(`,"maxResults":`)
	j.int(maxResults)
	j.raw(`,"startAt":`)
	j.int(startAt)
	j.raw(`,"total":`)
	j.int(total)
	j.raw(`,"isLast":`)
	j.bool(startAt+n >= total)
	j.raw(`,"values":[`)
	members, skip := g.members, startAt
	if total == len(g.members) {
		// Every member is listed (all active, or inactive ones included): index directly.
		members, skip = g.members[min(startAt, len(g.members)):], 0
	}
	seen, written := 0, 0
	for _, u := range members {
		if written == n {
			break
		}
		if !u.active && !inactive {
			continue
		}
		if seen++; seen <= skip {
			continue
		}
		if written > 0 {
			j.raw(",")
		}
		j.jiraUserLite(c.origin, u)
		written++
	}
	e.mu.RUnlock()
	j.raw("]}")
	e.send(c.w, http.StatusOK, j)
}

// jiraFindMembers returns the group and the user a membership change names. A missing group is
// answered 404, a missing user userStatus; either way e.mu, which the caller holds, is released.
func (e *Emulator) jiraFindMembers(c *call, groupname, username string, userStatus int) (*group, *user) {
	g := e.jiraFindGroup(c, groupname, e.mu.Unlock)
	if g == nil {
		return nil, nil
	}
	u := e.dir.user(username)
	if u == nil {
		e.mu.Unlock()
		e.jiraError(c, userStatus, msgUserNotFound(username))
		return nil, nil
	}
	return g, u
}

func (e *Emulator) jiraAddMember(c *call) {
	name, ok := e.groupnameParam(c)
	if !ok {
		return
	}
	var in struct {
		Name *string `json:"name"`
	}
	if !e.jiraDecode(c, &in) {
		return
	}
	username := deref(in.Name)
	now := e.now()
	e.mu.Lock()
	// 400 for a missing user (atlassian-api.md 1.8). Guess: the text.
	g, u := e.jiraFindMembers(c, name, username, http.StatusBadRequest)
	if u == nil {
		return
	}
	// Guess (1.8 [U]): the directory is checked once both exist and before "already a member".
	if e.readOnly() {
		uname, gname := u.name, g.name // read under the lock
		e.mu.Unlock()
		e.jiraError(c, statusGroupReadOnly, msgAddMemberReadOnly(uname, gname))
		return
	}
	if err := e.dir.addMember(g, u, now); err != nil {
		uname := u.name // read under the lock: a concurrent rename may change it
		e.mu.Unlock()
		if errors.Is(err, errAlreadyMember) {
			// Already a member: 400 (atlassian-api.md 1.8, 7.7). Guess (9 [U text]).
			e.jiraError(c, http.StatusBadRequest, "Cannot add user. '"+uname+"' is already a member of '"+g.name+"'")
			return
		}
		e.jiraDirError(c, err, username, name)
		return
	}
	e.sendJiraGroup(c, http.StatusCreated, g, false, 0, 0, e.mu.Unlock)
}

// jiraRemoveMember: 200 on success (atlassian-api.md 1.8). Guess (9 [U]): not a member is a 400
// from the group service's validation; an unknown user a 404.
func (e *Emulator) jiraRemoveMember(c *call) {
	name, ok := e.groupnameParam(c)
	if !ok {
		return
	}
	username, _ := query(c.r.URL.RawQuery, "username")
	now := e.now()
	e.mu.Lock()
	g, u := e.jiraFindMembers(c, name, username, http.StatusNotFound)
	if u == nil {
		return
	}
	// Guess (1.8 [U]): as for adding, before "not a member".
	if e.readOnly() {
		uname, gname := u.name, g.name // read under the lock
		e.mu.Unlock()
		e.jiraError(c, statusGroupReadOnly, msgRemoveMemberReadOnly(uname, gname))
		return
	}
	if err := e.dir.removeMember(g, u, now); err != nil {
		uname := u.name // read under the lock
		e.mu.Unlock()
		e.jiraError(c, http.StatusBadRequest, "Cannot remove user '"+uname+"' from group '"+g.name+"' since user is not a member of '"+g.name+"'")
		return
	}
	e.mu.Unlock()
	c.w.WriteHeader(http.StatusOK)
}

type jiraGroupSuggestion struct {
	Name   string           `json:"name"`
	HTML   string           `json:"html"`
	Labels []jiraGroupLabel `json:"labels"`
}

type jiraGroupLabel struct {
	Text  string `json:"text"`
	Title string `json:"title"`
	Type  string `json:"type"`
}

type jiraGroupSuggestions struct {
	Header string                `json:"header"`
	Total  int                   `json:"total"`
	Groups []jiraGroupSuggestion `json:"groups"`
}

// jiraGroupsPicker: GET /groups/picker (atlassian-api.md 1.8). Guess (1.8): a case-insensitive
// substring match ordered by name, maxResults defaulting to 20 (jira.ajax.autocomplete.limit) with
// no upper cap, no labels.
func (e *Emulator) jiraGroupsPicker(c *call) {
	raw := c.r.URL.RawQuery
	q, _ := query(raw, "query")
	maxResults, ok := intParam(raw, "maxResults", 20)
	if !ok {
		e.jiraError(c, http.StatusBadRequest, "maxResults must be a non-negative integer.")
		return
	}
	exclude := map[string]bool{}
	if v, err := url.ParseQuery(raw); err == nil {
		for _, x := range v["exclude"] {
			exclude[strings.ToLower(x)] = true
		}
	}
	lowerQ := strings.ToLower(q)
	out := jiraGroupSuggestions{Groups: []jiraGroupSuggestion{}}
	e.mu.RLock()
	for _, g := range e.dir.groupList {
		if exclude[g.lower] || !strings.Contains(g.lower, lowerQ) {
			continue
		}
		out.Total++
		if len(out.Groups) < maxResults {
			out.Groups = append(out.Groups, jiraGroupSuggestion{Name: g.name, HTML: highlight(g.name, lowerQ), Labels: []jiraGroupLabel{}})
		}
	}
	e.mu.RUnlock()
	out.Header = "Showing " + strconv.Itoa(len(out.Groups)) + " of " + strconv.Itoa(out.Total) + " matching groups"
	e.writeJSON(c.w, http.StatusOK, &out)
}

// highlight HTML-escapes name and bolds the first match of lowerQ, as the picker's "html" does.
func highlight(name, lowerQ string) string {
	lower := strings.ToLower(name)
	i := strings.Index(lower, lowerQ)
	if lowerQ == "" || i < 0 || len(lower) != len(name) {
		return html.EscapeString(name)
	}
	j := i + len(lowerQ)
	return html.EscapeString(name[:i]) + "<b>" + html.EscapeString(name[i:j]) + "</b>" + html.EscapeString(name[j:])
}
