// Package jsonenc appends JSON strings byte for byte as encoding/json
// writes them, without its reflection: for the hand-built SCIM responses
// and access log lines, which are written on every request.
package jsonenc

import (
	"slices"
	"unicode/utf8"
)

// plain marks the ASCII bytes copied as they are when HTML-safe escaping is
// off; htmlPlain the same with <, > and & escaped too. Read only.
var plain, htmlPlain = func() (p, h [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		p[c] = c != '"' && c != '\\'
		h[c] = p[c] && c != '<' && c != '>' && c != '&'
	}
	return p, h
}()

// AppendString appends s to b as a quoted JSON string, the bytes
// encoding/json writes: ", \ and control characters escaped (\b \f \n \r \t
// in short form), invalid UTF-8 as \ufffd, U+2028 and U+2029 escaped, and
// with htmlSafe <, > and & as \u003c, \u003e, \u0026 (json.Marshal; without
// it, an Encoder with SetEscapeHTML(false)).
func AppendString(b []byte, s string, htmlSafe bool) []byte {
	const hex = "0123456789abcdef"
	tab := &plain
	if htmlSafe {
		tab = &htmlPlain
	}
	b = append(b, '"')
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf && tab[s[i]] {
		i++
	}
	if i == len(s) { // the common case: nothing to escape
		b = append(b, s...)
		return append(b, '"')
	}
	start := 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if tab[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// SortedKeys appends the keys of m to buf in the order encoding/json writes
// a map's members (byte order) and returns it; pass a stack array's slice
// as buf to spare the allocation for small maps.
func SortedKeys(buf []string, m map[string]any) []string {
	for k := range m {
		buf = append(buf, k)
	}
	slices.Sort(buf)
	return buf
}

// AppendKey appends the member name key of an object's i-th member
// (0-based): the comma before every member but the first, key as a quoted
// string (htmlSafe as for AppendString) and the colon.
func AppendKey(b []byte, i int, key string, htmlSafe bool) []byte {
	if i > 0 {
		b = append(b, ',')
	}
	b = AppendString(b, key, htmlSafe)
	return append(b, ':')
}
