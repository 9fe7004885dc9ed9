package atlassiantest

import (
	"net/http"
	"net/url"
	"strconv"
	"unicode/utf8"
)

// jsonBuf appends JSON without reflection. The user shapes are the hot path of every list and
// lookup, so they are written field by field straight from the directory (under the read lock,
// which costs about a microsecond per user) instead of being copied into structs and reflected.
type jsonBuf struct{ b []byte }

// Write lets encoding/json encode into the same pooled buffer.
func (j *jsonBuf) Write(p []byte) (int, error) {
	j.b = append(j.b, p...)
	return len(p), nil
}

func (j *jsonBuf) raw(s string) { j.b = append(j.b, s...) }

func (j *jsonBuf) str(s string) {
	j.b = append(j.b, '"')
	j.esc(s)
	j.b = append(j.b, '"')
}

func (j *jsonBuf) bool(v bool) { j.b = strconv.AppendBool(j.b, v) }

func (j *jsonBuf) int(n int) { j.b = strconv.AppendInt(j.b, int64(n), 10) }

const hexDigits = "0123456789abcdef"

// esc appends s escaped for the inside of a JSON string, byte-for-byte as encoding/json does with
// HTML escaping off: quotes, backslashes and control characters escaped, invalid UTF-8 replaced by
// U+FFFD, U+2028 and U+2029 escaped.
func (j *jsonBuf) esc(s string) {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			j.b = append(j.b, s[start:i]...)
			switch c {
			case '"', '\\':
				j.b = append(j.b, '\\', c)
			case '\n':
				j.b = append(j.b, '\\', 'n')
			case '\r':
				j.b = append(j.b, '\\', 'r')
			case '\t':
				j.b = append(j.b, '\\', 't')
			case '\b':
				j.b = append(j.b, '\\', 'b')
			case '\f':
				j.b = append(j.b, '\\', 'f')
			default:
				j.b = append(j.b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			j.b = append(j.b, s[start:i]...)
			j.b = append(j.b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			j.b = append(j.b, s[start:i]...)
			j.b = append(j.b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	j.b = append(j.b, s[start:]...)
}

// url appends "<origin><path><param>=<query-escaped value>" as a JSON string.
func (j *jsonBuf) url(origin, path, param, value string) {
	j.b = append(j.b, '"')
	j.esc(origin)
	j.esc(path)
	j.b = append(j.b, '?')
	j.esc(param)
	j.b = append(j.b, '=')
	j.esc(url.QueryEscape(value))
	j.b = append(j.b, '"')
}

func (e *Emulator) getBuf() *jsonBuf {
	j := e.bufs.Get().(*jsonBuf)
	j.b = j.b[:0]
	return j
}

func (e *Emulator) putBuf(j *jsonBuf) {
	if cap(j.b) <= 1<<20 {
		e.bufs.Put(j)
	}
}

// send writes j as the JSON response body and returns j to the pool.
func (e *Emulator) send(w http.ResponseWriter, status int, j *jsonBuf) {
	j.b = append(j.b, '\n')
	h := w.Header()
	h["Content-Type"] = e.jsonCT
	h["Content-Length"] = []string{strconv.Itoa(len(j.b))}
	w.WriteHeader(status)
	_, _ = w.Write(j.b)
	e.putBuf(j)
}

// --- Jira shapes (atlassian-api.md 1.2, 1.8) ---

func (j *jsonBuf) jiraAvatars(origin, key string) {
	k := url.QueryEscape(key)
	for i, size := range [...]struct{ label, name string }{{"48x48", "large"}, {"24x24", "small"}, {"16x16", "xsmall"}, {"32x32", "medium"}} {
		if i == 0 {
			j.raw(`{"`)
		} else {
			j.raw(`,"`)
		}
		j.raw(size.label)
		j.raw(`":"`)
		j.esc(origin)
		j.raw("/secure/useravatar?ownerId=")
		j.esc(k)
		j.raw("&size=")
		j.raw(size.name)
		j.raw(`"`)
	}
	j.raw("}")
}

// jiraUser appends the full User representation; call with e.mu held. groups/applicationRoles
// items are only filled with ?expand=groups,applicationRoles (atlassian-api.md 1.2).
func (j *jsonBuf) jiraUser(origin string, u *user, expandGroups, expandRoles bool) {
	j.raw(`{"self":`)
	j.url(origin, "/rest/api/2/user", "username", u.name)
	j.raw(`,"key":`)
	j.str(u.key)
	j.raw(`,"name":`)
	j.str(u.name)
	j.jiraUserCommon(origin, u)
	j.raw(`,"deleted":false,"timeZone":"` + jiraTimeZone + `","locale":"` + jiraLocale + `","groups":{"size":`)
	j.int(len(u.groups))
	j.raw(`,"items":[`)
	if expandGroups {
		for i, g := range u.groups {
			if i > 0 {
				j.raw(",")
			}
			j.raw(`{"name":`)
			j.str(g.name)
			j.raw(`,"self":`)
			j.url(origin, "/rest/api/2/group", "groupname", g.name)
			j.raw("}")
		}
	}
	mask := appMask(u)
	j.raw(`]},"applicationRoles":{"size":`)
	j.int(popcount(mask))
	j.raw(`,"items":[`)
	if expandRoles {
		n := 0
		for i, a := range applications() {
			if mask&(1<<i) == 0 {
				continue
			}
			if n > 0 {
				j.raw(",")
			}
			n++
			j.raw(`{"key":`)
			j.str(a.key)
			j.raw(`,"name":`)
			j.str(a.name)
			j.raw("}")
		}
	}
	j.raw(`]},"expand":"groups,applicationRoles"`)
	if !u.lastLogin.IsZero() {
		j.raw(`,"lastLoginTime":"`)
		j.b = u.lastLogin.AppendFormat(j.b, jiraTimeFormat)
		j.raw(`"`)
	}
	j.raw("}")
}

// jiraUserCommon appends the fields from emailAddress to active, which the full and the lite user
// representations write alike.
func (j *jsonBuf) jiraUserCommon(origin string, u *user) {
	j.raw(`,"emailAddress":`)
	j.str(u.email)
	j.raw(`,"avatarUrls":`)
	j.jiraAvatars(origin, u.key)
	j.raw(`,"displayName":`)
	j.str(u.displayName)
	j.raw(`,"active":`)
	j.bool(u.active)
}

// jiraUserLite appends the lighter UserJson of member lists (atlassian-api.md 1.2, 1.8).
func (j *jsonBuf) jiraUserLite(origin string, u *user) {
	j.raw(`{"self":`)
	j.url(origin, "/rest/api/2/user", "username", u.name)
	j.raw(`,"name":`)
	j.str(u.name)
	j.raw(`,"key":`)
	j.str(u.key)
	j.jiraUserCommon(origin, u)
	j.raw(`,"timeZone":"` + jiraTimeZone + `"}`)
}

// jiraGroup appends the Group representation with the members window [from, to] (inclusive) when
// expand is true (atlassian-api.md 1.8); call with e.mu held.
func (j *jsonBuf) jiraGroup(origin string, g *group, expand bool, from, to int) {
	j.raw(`{"name":`)
	j.str(g.name)
	j.raw(`,"self":`)
	j.url(origin, "/rest/api/2/group", "groupname", g.name)
	j.raw(`,"users":{"size":`)
	j.int(len(g.members))
	j.raw(`,"items":[`)
	maxResults, start, end := 50, 0, 0
	if expand {
		maxResults, start, end = to-from+1, from, from
		for i := from; i <= to && i < len(g.members); i++ {
			if i > from {
				j.raw(",")
			}
			j.jiraUserLite(origin, g.members[i])
			end = i
		}
	}
	j.raw(`],"max-results":`)
	j.int(maxResults)
	j.raw(`,"start-index":`)
	j.int(start)
	j.raw(`,"end-index":`)
	j.int(end)
	j.raw(`},"expand":"users"}`)
}

// --- Crowd shapes (atlassian-api.md 3.3, 3.4) ---

func (j *jsonBuf) crowdLink(c *call, path, param, value, rel string) {
	j.raw(`{"href":`)
	j.url(c.origin, c.root+path, param, value)
	j.raw(`,"rel":"`)
	j.raw(rel)
	j.raw(`"}`)
}

// crowdUser appends the user entity; call with e.mu held. With expandAttributes the attribute
// list carries lastAuthenticated. Guess (3.3 [U]): Crowd keeps the last login as the
// lastAuthenticated attribute (milliseconds since the epoch); the Crowd face shares Jira's key.
func (j *jsonBuf) crowdUser(c *call, u *user, expandAttributes bool) {
	j.raw(`{"expand":"attributes","link":`)
	j.crowdLink(c, "/user", "username", u.name, "self")
	j.raw(`,"name":`)
	j.str(u.name)
	j.raw(`,"key":`)
	j.str(u.key)
	j.raw(`,"first-name":`)
	j.str(u.firstName)
	j.raw(`,"last-name":`)
	j.str(u.lastName)
	j.raw(`,"display-name":`)
	j.str(u.displayName)
	j.raw(`,"email":`)
	j.str(u.email)
	j.raw(`,"password":{"link":`)
	j.crowdLink(c, "/user/password", "username", u.name, "edit")
	j.raw(`},"active":`)
	j.bool(u.active)
	j.raw(`,"attributes":`)
	j.crowdAttributes(c, u, expandAttributes)
	j.raw("}")
}

func (j *jsonBuf) crowdAttributes(c *call, u *user, expand bool) {
	j.raw(`{"attributes":[`)
	if expand && !u.lastLogin.IsZero() {
		j.raw(`{"name":"lastAuthenticated","values":["`)
		j.b = strconv.AppendInt(j.b, u.lastLogin.UnixMilli(), 10)
		j.raw(`"]}`)
	}
	j.raw(`],"link":`)
	j.crowdLink(c, "/user/attribute", "username", u.name, "self")
	j.raw("}")
}

// crowdRef appends the minimal {"link","name"} entry of unexpanded lists.
func (j *jsonBuf) crowdRef(c *call, path, param, name string) {
	j.raw(`{"link":`)
	j.crowdLink(c, path, param, name, "self")
	j.raw(`,"name":`)
	j.str(name)
	j.raw("}")
}

// crowdUsers appends {"expand":"user","users":[…]}; call with e.mu held.
func (j *jsonBuf) crowdUsers(c *call, users []*user, expand bool) {
	j.raw(`{"expand":"user","users":[`)
	for i, u := range users {
		if i > 0 {
			j.raw(",")
		}
		if expand {
			j.crowdUser(c, u, false)
		} else {
			j.crowdRef(c, "/user", "username", u.name)
		}
	}
	j.raw("]}")
}

// appMask is the set of applications (bit i = applications()[i]) u can use through its groups.
func appMask(u *user) uint8 {
	var m uint8
	if u.access == 0 {
		return 0
	}
	for _, g := range u.groups {
		if !g.access {
			continue
		}
		a, _ := accessApplication(g.lower)
		for i, b := range applications() {
			if b.key == a.key {
				m |= 1 << i
			}
		}
	}
	return m
}

func popcount(m uint8) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}
