// Package jsondec decodes JSON objects that need no unquoting into
// map[string]any without encoding/json's reflection: for the stored
// attributes of every user read and the body of every create, where the
// reflective decoder cost more than the rest of the work. It gives up
// (false) on anything encoding/json should decide: string escapes, invalid
// UTF-8, control characters, nesting deeper than 64, bad syntax; callers
// then use encoding/json. Each caller's twin tests hold its result to
// encoding/json's.
package jsondec

import (
	"strings"
	"unicode/utf8"
)

// MaxDepth is the deepest nesting decoded by hand.
const MaxDepth = 64

// Object decodes s, a JSON object with optional white space around it, as
// encoding/json decodes it into a map[string]any: objects as map[string]any
// (the last of duplicate names winning), arrays as []any, strings (which
// share s's memory), booleans and nil; number gets each number's literal
// (checked against the JSON grammar) and returns its value.
func Object(s string, number func(lit string) (any, bool)) (map[string]any, bool) {
	d := decoder{s: s, number: number}
	d.space()
	if d.i >= len(d.s) || d.s[d.i] != '{' {
		return nil, false
	}
	v, ok := d.value(0)
	if !ok {
		return nil, false
	}
	d.space()
	return v.(map[string]any), d.i == len(d.s)
}

type decoder struct {
	s      string
	i      int
	number func(string) (any, bool)
}

func (d *decoder) space() {
	for d.i < len(d.s) && (d.s[d.i] == ' ' || d.s[d.i] == '\t' || d.s[d.i] == '\n' || d.s[d.i] == '\r') {
		d.i++
	}
}

// next reads what follows a member or element: a comma (more: true) or
// the closing byte (more: false); ok is false for anything else.
func (d *decoder) next(closing byte) (more, ok bool) {
	d.space()
	if d.i >= len(d.s) {
		return false, false
	}
	d.i++
	switch d.s[d.i-1] {
	case ',':
		return true, true
	case closing:
		return false, true
	}
	return false, false
}

func (d *decoder) value(depth int) (any, bool) {
	if depth > MaxDepth || d.i >= len(d.s) {
		return nil, false
	}
	switch c := d.s[d.i]; {
	case c == '{':
		d.i++
		m := map[string]any{}
		d.space()
		if d.i < len(d.s) && d.s[d.i] == '}' {
			d.i++
			return m, true
		}
		for {
			d.space()
			k, ok := d.str()
			if !ok {
				return nil, false
			}
			d.space()
			if d.i >= len(d.s) || d.s[d.i] != ':' {
				return nil, false
			}
			d.i++
			d.space()
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			m[k] = v
			if more, ok := d.next('}'); !ok {
				return nil, false
			} else if !more {
				return m, true
			}
		}
	case c == '[':
		d.i++
		l := []any{}
		d.space()
		if d.i < len(d.s) && d.s[d.i] == ']' {
			d.i++
			return l, true
		}
		for {
			d.space()
			v, ok := d.value(depth + 1)
			if !ok {
				return nil, false
			}
			l = append(l, v)
			if more, ok := d.next(']'); !ok {
				return nil, false
			} else if !more {
				return l, true
			}
		}
	case c == '"':
		return d.str()
	case c == 't' && strings.HasPrefix(d.s[d.i:], "true"):
		d.i += 4
		return true, true
	case c == 'f' && strings.HasPrefix(d.s[d.i:], "false"):
		d.i += 5
		return false, true
	case c == 'n' && strings.HasPrefix(d.s[d.i:], "null"):
		d.i += 4
		return nil, true
	case c == '-' || c >= '0' && c <= '9':
		start := d.i
		if !d.skipNumber() {
			return nil, false
		}
		return d.number(d.s[start:d.i])
	}
	return nil, false
}

// str reads a string without escapes, of valid UTF-8 and no control
// characters (what needs no unquoting).
func (d *decoder) str() (string, bool) {
	if d.i >= len(d.s) || d.s[d.i] != '"' {
		return "", false
	}
	start := d.i + 1
	ascii := true
	for j := start; j < len(d.s); j++ {
		switch c := d.s[j]; {
		case c == '"':
			v := d.s[start:j]
			if !ascii && !utf8.ValidString(v) {
				return "", false
			}
			d.i = j + 1
			return v, true
		case c == '\\' || c < 0x20:
			return "", false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return "", false
}

// skipNumber reads a number by the JSON grammar (RFC 8259 section 6).
func (d *decoder) skipNumber() bool {
	digits := func() int {
		k := d.i
		for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
			d.i++
		}
		return d.i - k
	}
	if d.s[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.s) && d.s[d.i] == '0':
		d.i++
	case digits() == 0:
		return false
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if digits() == 0 {
			return false
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if digits() == 0 {
			return false
		}
	}
	return true
}
