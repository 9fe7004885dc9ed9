package query

import (
	"strings"

	"github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/store"
)

// Parse is filter.ParseFilter + Translate for callers that hold a raw string
// (admin API, tests, POST .search). It runs Prepare first, so it accepts the
// same IdP quirks; numbers are parsed exactly (filter.ParseFilterNumber).
func Parse(raw string, s Schema) (store.Filter, error) {
	if len(raw) <= MaxFilterBytes {
		// A comparison already in the simple form is what Prepare would
		// return it as (trimmed, nothing to rewrite), so its tokenising and
		// rebuilding are skipped: the lookup of every IdP takes this path.
		// FuzzParseSkipsPrepare holds it to the long way.
		if expr, ok := simpleComparison(strings.TrimSpace(raw)); ok {
			return Translate(expr, s)
		}
	}
	return parsePrepared(raw, s)
}

// parsePrepared is Parse without the shortcut.
func parsePrepared(raw string, s Schema) (store.Filter, error) {
	text, err := Prepare(raw)
	if err != nil {
		return nil, err
	}
	if expr, ok := simpleComparison(text); ok {
		return Translate(expr, s)
	}
	expr, err := filter.ParseFilterNumber([]byte(text))
	if err != nil && strings.Contains(text, "[") {
		if e, ok := parseValueFilters(text); ok {
			expr, err = e, nil
		}
	}
	if err != nil {
		// The parser's messages ("parse conflict [00:001]: expected op.Or
		// ...") help nobody; its positions are mostly 1 after backtracking.
		return nil, invalidFilter("invalid filter syntax (RFC 7644 section 3.4.2.2)")
	}
	return Translate(expr, s)
}

// Prepare checks a raw filter against the size and nesting limits and
// rewrites the non-RFC forms IdPs send into RFC 7644 syntax that
// scim2/filter-parser accepts. Valid RFC filters come back unchanged apart
// from trimmed surrounding white space. The scim layer should run it on the
// filter query parameter before elimity parses it (elimity rejects these
// forms with 400 before the handler runs, and parses filters of any length).
//
// Rewrites:
//   - Entra's `emails[type eq "work"].value eq "x"` becomes
//     `emails[type eq "work" and value eq "x"]` (one element satisfies
//     both, which is what Entra means). Only a single comparison inside the
//     brackets is combined so; anything else stays as written, and Parse
//     reads it through parseValueFilters.
//   - Guess: a bare word after a comparison operator is quoted:
//     `userName sw O` becomes `userName sw "O"`. Microsoft's
//     SCIMReferenceCode Postman suite and an old Entra doc
//     (`externalId eq jyoung`) send such values.
//   - Lower-case hex in \u escapes is upper-cased: the parser accepts only
//     \u00E9, JSON (and the RFC) also \u00e9.
//
// Errors are 400 invalidFilter ScimError values.
func Prepare(raw string) (string, error) {
	if len(raw) > MaxFilterBytes {
		return "", invalidFilter("filter is longer than %d bytes", MaxFilterBytes)
	}
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", invalidFilter("empty filter")
	}
	toks, err := lex(raw)
	if err != nil {
		return "", err
	}
	// Quote first: the rewrite then moves finished comparisons only, which
	// keeps Prepare idempotent.
	quoteBareValues(toks)
	toks = rewriteEntra(toks)
	var b strings.Builder
	b.Grow(len(raw) + 16)
	for _, t := range toks {
		b.WriteString(t.text)
	}
	return b.String(), nil
}

// token kinds.
const (
	tokWord   = 'w' // a run of anything but space, quote, parentheses, brackets
	tokString = 's' // a quoted string, quotes included
	tokSpace  = ' '
	tokOpen   = '('
	tokClose  = ')'
	tokLBrack = '['
	tokRBrack = ']'
)

type token struct {
	kind byte
	text string
}

// lex splits a filter into tokens, enough to see comparisons, strings and
// nesting without parsing. It also enforces MaxDepth on brackets and
// parentheses, before the (recursive, backtracking) parser sees the text.
func lex(s string) ([]token, error) {
	var toks []token
	depth := 0
	for i := 0; i < len(s); {
		switch c := s[i]; c {
		case ' ':
			j := i
			for j < len(s) && s[j] == ' ' {
				j++
			}
			toks = append(toks, token{tokSpace, s[i:j]})
			i = j
		case '(', '[':
			depth++
			if depth > MaxDepth {
				return nil, invalidFilter("filter nests deeper than %d levels", MaxDepth)
			}
			toks = append(toks, token{c, s[i : i+1]})
			i++
		case ')', ']':
			depth--
			toks = append(toks, token{c, s[i : i+1]})
			i++
		case '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, invalidFilter("filter has an unterminated string")
			}
			toks = append(toks, token{tokString, upperHexEscapes(s[i : j+1])})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(` ()[]"`, rune(s[j])) {
				j++
			}
			toks = append(toks, token{tokWord, s[i:j]})
			i = j
		}
	}
	return toks, nil
}

// upperHexEscapes upper-cases the hex digits of \uXXXX escapes in a quoted
// string token.
func upperHexEscapes(s string) string {
	if !strings.Contains(s, `\u`) {
		return s
	}
	b := []byte(s)
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] == 'u' && i+5 < len(b) {
			for k := i + 2; k < i+6; k++ {
				if b[k] >= 'a' && b[k] <= 'f' {
					b[k] -= 'a' - 'A'
				}
			}
		}
		i++ // skip the escaped character
	}
	return string(b)
}

func isCompareOp(w string) bool {
	switch strings.ToLower(w) {
	case "eq", "ne", "co", "sw", "ew", "gt", "lt", "ge", "le":
		return true
	}
	return false
}

// rewriteEntra turns `attr[filter].sub op value` into
// `attr[filter and sub op value]` (and `.sub pr` likewise). Only a bracket
// that closes an open one is moved; the moved bracket is looked at again, so
// `a[f].b eq "x".c eq "y"` ends as a fixpoint and Prepare stays idempotent.
func rewriteEntra(toks []token) []token {
	open := 0
	for i := 0; i < len(toks); i++ {
		switch toks[i].kind {
		case tokLBrack:
			open++
			continue
		case tokRBrack:
		default:
			continue
		}
		end, ok := entraTail(toks, i+1)
		if open == 0 || !ok || !endsWithComparison(toks[:i]) {
			open--
			continue
		}
		sub := toks[i+1].text[1:]
		out := make([]token, 0, len(toks)+4)
		out = append(out, toks[:i]...)
		out = append(out, token{tokSpace, " "}, token{tokWord, "and"}, token{tokSpace, " "}, token{tokWord, sub})
		out = append(out, toks[i+2:end]...)
		next := len(out)
		out = append(out, toks[i]) // the closing bracket, now after the comparison
		out = append(out, toks[end:]...)
		toks = out
		i = next - 1 // visit the moved bracket next
	}
	return toks
}

// endsWithComparison reports whether toks ends with `attr SP op SP value`
// or `attr SP pr`: the one comparison Entra puts in its brackets.
func endsWithComparison(toks []token) bool {
	n := len(toks)
	at := func(k int, kind byte) bool { return k >= 0 && toks[k].kind == kind }
	if at(n-1, tokWord) && strings.EqualFold(toks[n-1].text, "pr") {
		return at(n-2, tokSpace) && at(n-3, tokWord)
	}
	valueOK := at(n-1, tokString) || (at(n-1, tokWord) && isLiteral(toks[n-1].text))
	return valueOK && at(n-2, tokSpace) && at(n-3, tokWord) && isCompareOp(toks[n-3].text) &&
		at(n-4, tokSpace) && at(n-5, tokWord)
}

// entraTail matches `.sub SP op SP value` or `.sub SP pr` starting at
// toks[i] and returns the index just past it.
func entraTail(toks []token, i int) (int, bool) {
	at := func(k int, kind byte) bool { return k < len(toks) && toks[k].kind == kind }
	if !at(i, tokWord) || len(toks[i].text) < 2 || toks[i].text[0] != '.' || strings.Contains(toks[i].text[1:], ".") {
		return 0, false
	}
	if !at(i+1, tokSpace) || !at(i+2, tokWord) {
		return 0, false
	}
	op := toks[i+2].text
	if strings.EqualFold(op, "pr") {
		return i + 3, true
	}
	if !isCompareOp(op) || !at(i+3, tokSpace) {
		return 0, false
	}
	if at(i+4, tokString) || at(i+4, tokWord) {
		return i + 5, true
	}
	return 0, false
}

// quoteBareValues quotes a word that follows `attrPath SP op SP` when it is
// not a JSON literal the grammar knows (true, false, null, a number).
func quoteBareValues(toks []token) {
	for i := 4; i < len(toks); i++ {
		if toks[i].kind != tokWord || toks[i-1].kind != tokSpace || toks[i-2].kind != tokWord ||
			toks[i-3].kind != tokSpace || toks[i-4].kind != tokWord {
			continue
		}
		if !isCompareOp(toks[i-2].text) || isKeyword(toks[i-4].text) ||
			isLiteral(toks[i].text) || strings.Contains(toks[i].text, `\`) {
			continue
		}
		toks[i].text = `"` + toks[i].text + `"`
		toks[i].kind = tokString
	}
}

// isKeyword reports the logical keywords, which cannot be the attribute
// path in front of an operator: `a pr and eq pr` tests an attribute named eq.
func isKeyword(w string) bool {
	return strings.EqualFold(w, "and") || strings.EqualFold(w, "or") || strings.EqualFold(w, "not")
}

func isLiteral(w string) bool {
	if strings.EqualFold(w, "true") || strings.EqualFold(w, "false") || strings.EqualFold(w, "null") {
		return true
	}
	return isNumber(w)
}

// isNumber matches the JSON number grammar the parser uses:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isNumber(w string) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(w) && w[i] >= '0' && w[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(w) && w[i] == '-' {
		i++
	}
	switch {
	case i < len(w) && w[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(w) && w[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(w) && (w[i] == 'e' || w[i] == 'E') {
		i++
		if i < len(w) && (w[i] == '+' || w[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(w)
}

// simpleForm is the filter every IdP sends to look a resource up:
// `attr[.sub] op "value"`, as a regular expression (the definition;
// matchSimple implements it by hand, and a test holds the two together).
const simpleForm = `^([A-Za-z][A-Za-z0-9_$-]*)(?:\.([A-Za-z][A-Za-z0-9_$-]*))?[ ]+([A-Za-z]{2})[ ]+"((?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9A-F]{4})*)"$`

// matchSimple matches text against simpleForm and returns the submatches
// as regexp's FindStringSubmatch would (m[0] the whole text), or nil. By
// hand, because the regexp engine cost more than the rest of a lookup's
// filter handling.
func matchSimple(text string) []string {
	i := 0
	name := func() (string, bool) {
		start := i
		if i >= len(text) || !isLetter(text[i]) {
			return "", false
		}
		i++
		for i < len(text) && (isLetter(text[i]) || text[i] >= '0' && text[i] <= '9' || text[i] == '_' || text[i] == '$' || text[i] == '-') {
			i++
		}
		return text[start:i], true
	}
	spaces := func() bool {
		start := i
		for i < len(text) && text[i] == ' ' {
			i++
		}
		return i > start
	}
	attr, ok := name()
	if !ok {
		return nil
	}
	var sub string
	if i < len(text) && text[i] == '.' {
		i++
		if sub, ok = name(); !ok {
			return nil
		}
	}
	if !spaces() || i+2 > len(text) || !isLetter(text[i]) || !isLetter(text[i+1]) {
		return nil
	}
	op := text[i : i+2]
	i += 2
	if !spaces() || i >= len(text) || text[i] != '"' {
		return nil
	}
	i++
	start := i
	for i < len(text) && text[i] != '"' {
		switch c := text[i]; {
		case c < 0x20:
			return nil
		case c != '\\':
			i++
		case i+1 < len(text) && strings.IndexByte(`"\/bfnrt`, text[i+1]) >= 0:
			i += 2
		case i+5 < len(text) && text[i+1] == 'u' && isUpperHex(text[i+2]) && isUpperHex(text[i+3]) && isUpperHex(text[i+4]) && isUpperHex(text[i+5]):
			i += 6
		default:
			return nil
		}
	}
	if i != len(text)-1 {
		return nil // no closing quote, or text after it
	}
	return []string{text, attr, sub, op, text[start:i]}
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isUpperHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'A' && c <= 'F' }

// simpleComparison builds the AST of a filter in simpleForm without the
// general parser, which costs about 200 µs and 2,000 allocations per
// filter: lookups by userName, externalId and displayName are the hot path
// of every IdP. It reports false for anything else.
func simpleComparison(text string) (filter.Expression, bool) {
	m := matchSimple(text)
	if m == nil {
		return nil, false
	}
	op := filter.CompareOperator(strings.ToLower(m[3]))
	switch op {
	case filter.EQ, filter.NE, filter.CO, filter.SW, filter.EW, filter.GT, filter.GE, filter.LT, filter.LE:
	default:
		return nil, false
	}
	ap := filter.AttributePath{AttributeName: m[1]}
	if m[2] != "" {
		sub := m[2]
		ap.SubAttribute = &sub
	}
	return &filter.AttributeExpression{AttributePath: ap, Operator: op, CompareValue: m[4]}, true
}
