package atlassiantest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// predicate is a compiled Crowd search restriction, from CQL (GET /search?restriction=) or from a
// SearchRestriction entity (POST /search) (atlassian-api.md 3.4).
type predicate struct {
	op    predOp
	kids  []*predicate
	prop  string // canonical lower-case property name
	mode  matchMode
	value string // lower-case
}

type predOp int

const (
	opAll predOp = iota
	opAnd
	opOr
	opTerm
)

type matchMode int

const (
	matchExact matchMode = iota
	matchPrefix
	matchSuffix
	matchContains
)

// maxPredicateDepth bounds nesting so hostile input cannot exhaust the stack.
const maxPredicateDepth = 32

func (p *predicate) eval(get func(prop string) string) bool {
	switch p.op {
	case opAll:
		return true
	case opAnd:
		for _, k := range p.kids {
			if !k.eval(get) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range p.kids {
			if k.eval(get) {
				return true
			}
		}
		return false
	}
	v := strings.ToLower(get(p.prop))
	switch p.mode {
	case matchPrefix:
		return strings.HasPrefix(v, p.value)
	case matchSuffix:
		return strings.HasSuffix(v, p.value)
	case matchContains:
		return strings.Contains(v, p.value)
	default:
		return v == p.value
	}
}

// Guess (3.4): the searchable properties; CQL spells them in camel case, case-insensitively.
var userProps = []string{"name", "email", "firstname", "lastname", "displayname", "active"}
var groupProps = []string{"name", "description", "active"}

func knownProp(props []string, name string) (string, bool) {
	lower := strings.ToLower(name)
	for _, p := range props {
		if p == lower {
			return p, true
		}
	}
	return "", false
}

// newTerm builds a term from a CQL value with optional leading/trailing '*' wildcards.
func newTerm(prop, value string) *predicate {
	p := &predicate{op: opTerm, prop: prop}
	lead, trail := strings.HasPrefix(value, "*"), len(value) > 1 && strings.HasSuffix(value, "*")
	value = strings.TrimPrefix(value, "*")
	if trail {
		value = strings.TrimSuffix(value, "*")
	}
	switch {
	case lead && trail:
		p.mode = matchContains
	case lead:
		p.mode = matchSuffix
	case trail:
		p.mode = matchPrefix
	}
	p.value = strings.ToLower(value)
	return p
}

// parseCQL parses the subset of the Crowd Query Language the emulator supports:
// `prop = value` terms (value bare or double-quoted, '*' wildcards at either end) combined with
// `and`, `or` and parentheses. Guess (3.4): other operators (dates, !=, <, >) are refused.
func parseCQL(s string, props []string) (*predicate, error) {
	if strings.TrimSpace(s) == "" {
		return &predicate{op: opAll}, nil
	}
	p := &cqlParser{src: s, props: props}
	if err := p.lex(); err != nil {
		return nil, err
	}
	pred, err := p.parseOr(0)
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos].text)
	}
	return pred, nil
}

type cqlToken struct {
	text   string
	quoted bool
}

type cqlParser struct {
	src   string
	props []string
	toks  []cqlToken
	pos   int
}

func (p *cqlParser) lex() error {
	s := p.src
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')' || c == '=':
			p.toks = append(p.toks, cqlToken{text: s[i : i+1]})
			i++
		case c == '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return fmt.Errorf("unterminated quoted value")
			}
			p.toks = append(p.toks, cqlToken{text: b.String(), quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()=\"", rune(s[j])) {
				j++
			}
			p.toks = append(p.toks, cqlToken{text: s[i:j]})
			i = j
		}
		if len(p.toks) > 1000 {
			return fmt.Errorf("restriction too long")
		}
	}
	return nil
}

func (p *cqlParser) peekKeyword(kw string) bool {
	return p.pos < len(p.toks) && !p.toks[p.pos].quoted && strings.EqualFold(p.toks[p.pos].text, kw)
}

func (p *cqlParser) parseOr(depth int) (*predicate, error) {
	left, err := p.parseAnd(depth)
	if err != nil {
		return nil, err
	}
	if !p.peekKeyword("or") {
		return left, nil
	}
	or := &predicate{op: opOr, kids: []*predicate{left}}
	for p.peekKeyword("or") {
		p.pos++
		right, err := p.parseAnd(depth)
		if err != nil {
			return nil, err
		}
		or.kids = append(or.kids, right)
	}
	return or, nil
}

func (p *cqlParser) parseAnd(depth int) (*predicate, error) {
	left, err := p.parseTerm(depth)
	if err != nil {
		return nil, err
	}
	if !p.peekKeyword("and") {
		return left, nil
	}
	and := &predicate{op: opAnd, kids: []*predicate{left}}
	for p.peekKeyword("and") {
		p.pos++
		right, err := p.parseTerm(depth)
		if err != nil {
			return nil, err
		}
		and.kids = append(and.kids, right)
	}
	return and, nil
}

func (p *cqlParser) parseTerm(depth int) (*predicate, error) {
	if depth > maxPredicateDepth {
		return nil, fmt.Errorf("restriction nested too deeply")
	}
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("unexpected end of restriction")
	}
	t := p.toks[p.pos]
	if !t.quoted && t.text == "(" {
		p.pos++
		inner, err := p.parseOr(depth + 1)
		if err != nil {
			return nil, err
		}
		if p.pos >= len(p.toks) || p.toks[p.pos].quoted || p.toks[p.pos].text != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return inner, nil
	}
	if t.quoted || t.text == ")" || t.text == "=" {
		return nil, fmt.Errorf("expected a property name, got %q", t.text)
	}
	prop, ok := knownProp(p.props, t.text)
	if !ok {
		return nil, fmt.Errorf("unsupported property %q", t.text)
	}
	p.pos++
	if p.pos >= len(p.toks) || p.toks[p.pos].quoted || p.toks[p.pos].text != "=" {
		return nil, fmt.Errorf("expected = after %q", t.text)
	}
	p.pos++
	if p.pos >= len(p.toks) {
		return nil, fmt.Errorf("missing value for %q", t.text)
	}
	v := p.toks[p.pos]
	if !v.quoted && (v.text == "(" || v.text == ")" || v.text == "=") {
		return nil, fmt.Errorf("missing value for %q", t.text)
	}
	p.pos++
	return newTerm(prop, v.text), nil
}

// restrictionJSON is Crowd's SearchRestriction entity (atlassian-api.md 3.4): property-, boolean-
// and null-search-restriction, discriminated by "restriction-type".
type restrictionJSON struct {
	Type     string `json:"restriction-type"`
	Property *struct {
		Name string `json:"name"`
		Type string `json:"type"`
	} `json:"property"`
	MatchMode    string            `json:"match-mode"`
	Value        json.RawMessage   `json:"value"`
	BooleanLogic string            `json:"boolean-logic"`
	Restrictions []restrictionJSON `json:"restrictions"`
}

func compileRestriction(r *restrictionJSON, props []string, depth int) (*predicate, error) {
	if depth > maxPredicateDepth {
		return nil, fmt.Errorf("restriction nested too deeply")
	}
	switch r.Type {
	case "null-search-restriction", "":
		return &predicate{op: opAll}, nil
	case "boolean-search-restriction":
		p := &predicate{}
		switch strings.ToLower(r.BooleanLogic) {
		case "and":
			p.op = opAnd
		case "or":
			p.op = opOr
		default:
			return nil, fmt.Errorf("boolean-logic %q: want and or or", r.BooleanLogic)
		}
		for i := range r.Restrictions {
			k, err := compileRestriction(&r.Restrictions[i], props, depth+1)
			if err != nil {
				return nil, err
			}
			p.kids = append(p.kids, k)
		}
		return p, nil
	case "property-search-restriction":
		if r.Property == nil {
			return nil, fmt.Errorf("property-search-restriction without property")
		}
		prop, ok := knownProp(props, r.Property.Name)
		if !ok {
			return nil, fmt.Errorf("unsupported property %q", r.Property.Name)
		}
		var value string
		if err := json.Unmarshal(r.Value, &value); err != nil {
			var b bool
			if err := json.Unmarshal(r.Value, &b); err != nil {
				return nil, fmt.Errorf("value of %q must be a string", r.Property.Name)
			}
			value = fmt.Sprint(b)
		}
		p := &predicate{op: opTerm, prop: prop, value: strings.ToLower(value)}
		switch r.MatchMode {
		case "EXACTLY_MATCHES", "":
			p.mode = matchExact
		case "STARTS_WITH":
			p.mode = matchPrefix
		case "ENDS_WITH":
			p.mode = matchSuffix
		case "CONTAINS":
			p.mode = matchContains
		default:
			return nil, fmt.Errorf("unsupported match-mode %q", r.MatchMode)
		}
		return p, nil
	}
	return nil, fmt.Errorf("unsupported restriction-type %q", r.Type)
}

func userProp(u *user) func(string) string {
	return func(prop string) string {
		switch prop {
		case "name":
			return u.name
		case "email":
			return u.email
		case "firstname":
			return u.firstName
		case "lastname":
			return u.lastName
		case "displayname":
			return u.displayName
		case "active":
			if u.active {
				return "true"
			}
			return "false"
		}
		return ""
	}
}

func groupProp(g *group) func(string) string {
	return func(prop string) string {
		switch prop {
		case "name":
			return g.name
		case "description":
			return g.description
		case "active":
			if g.active {
				return "true"
			}
			return "false"
		}
		return ""
	}
}

// crowdSearch: GET /search?entity-type=user|group&restriction=<CQL> or POST /search with a
// SearchRestriction body; start-index/max-results paging, results ordered by name, expand=user or
// expand=group for full entities, expand=user,attributes for users with their attributes
// (atlassian-api.md 3.4). Guess (3.4 [U]): a bad restriction is
// 400 ILLEGAL_ARGUMENT.
func (e *Emulator) crowdSearch(c *call) {
	raw := c.r.URL.RawQuery
	entity, _ := query(raw, "entity-type")
	var props []string
	switch entity {
	case "user":
		props = userProps
	case "group":
		props = groupProps
	default:
		e.crowdError(c, http.StatusBadRequest, "ILLEGAL_ARGUMENT", "entity-type must be user or group")
		return
	}
	start, maxResults, ok := e.crowdPaging(c)
	if !ok {
		return
	}
	var pred *predicate
	var err error
	if c.r.Method == http.MethodGet {
		restriction, _ := query(raw, "restriction")
		pred, err = parseCQL(restriction, props)
	} else {
		pred, err = readRestriction(c.r, props)
	}
	if err != nil {
		e.crowdError(c, http.StatusBadRequest, "ILLEGAL_ARGUMENT", "restriction: "+err.Error())
		return
	}

	e.mu.RLock()
	if entity == "user" {
		var hits []*user
		seen := 0
		for _, u := range e.dir.byName {
			if len(hits) >= maxResults {
				break
			}
			if pred.eval(userProp(u)) {
				if seen >= start {
					hits = append(hits, u)
				}
				seen++
			}
		}
		j := e.getBuf()
		crowdUserList(j, c, hits, expands(raw, "user"), expands(raw, "attributes"))
		e.mu.RUnlock()
		e.send(c.w, http.StatusOK, j)
		return
	}
	expand := expands(raw, "group")
	var groups []crowdGroupJSON
	var refs []crowdRef
	seen, n := 0, 0
	for _, g := range e.dir.groupList {
		if n >= maxResults {
			break
		}
		if !pred.eval(groupProp(g)) {
			continue
		}
		if seen >= start {
			n++
			if expand {
				groups = append(groups, e.crowdGroup(c, g))
			} else {
				refs = append(refs, crowdRef{Link: crowdLink{c.crowdURL("/group", "groupname", g.name), "self"}, Name: g.name})
			}
		}
		seen++
	}
	e.mu.RUnlock()
	out := crowdGroupList{Expand: "group"}
	if expand {
		out.Groups = nonNil(groups)
	} else {
		out.Groups = nonNil(refs)
	}
	e.writeJSON(c.w, http.StatusOK, &out)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func readRestriction(r *http.Request, props []string) (*predicate, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, fmt.Errorf("read body: %v", err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return &predicate{op: opAll}, nil
	}
	var rj restrictionJSON
	if err := json.Unmarshal(body, &rj); err != nil {
		return nil, fmt.Errorf("unparseable JSON body: %v", err)
	}
	return compileRestriction(&rj, props, 0)
}
