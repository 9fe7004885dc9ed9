package sqlite

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// stringTuples parses what SQLite renders for
// json_group_array(json_array(a, b, ...)) over text values: a JSON array
// of arrays of n strings (a JSON null reads as ""), calling fn for each
// tuple; fn must not keep the slice. It is written by hand because reading
// a 1000-member group this way is a hot path: strings without escapes are
// sliced out of s instead of being decoded, and nothing goes through
// reflection.
func stringTuples(s string, n int, fn func([]string)) error {
	p := tupleParser{s: s}
	tuple := make([]string, n)
	if err := p.expect('['); err != nil {
		return err
	}
	if p.peek() == ']' {
		p.i++
		return p.end()
	}
	for {
		if err := p.expect('['); err != nil {
			return err
		}
		for k := range n {
			if k > 0 {
				if err := p.expect(','); err != nil {
					return err
				}
			}
			v, err := p.str()
			if err != nil {
				return err
			}
			tuple[k] = v
		}
		if err := p.expect(']'); err != nil {
			return err
		}
		fn(tuple)
		switch p.peek() {
		case ',':
			p.i++
		case ']':
			p.i++
			return p.end()
		default:
			return p.fail("',' or ']'")
		}
	}
}

type tupleParser struct {
	s string
	i int
}

func (p *tupleParser) skipSpace() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

// peek returns the next byte after white space, 0 at the end.
func (p *tupleParser) peek() byte {
	p.skipSpace()
	if p.i == len(p.s) {
		return 0
	}
	return p.s[p.i]
}

func (p *tupleParser) expect(c byte) error {
	if p.peek() != c {
		return p.fail(fmt.Sprintf("%q", c))
	}
	p.i++
	return nil
}

func (p *tupleParser) end() error {
	if p.skipSpace(); p.i != len(p.s) {
		return p.fail("the end")
	}
	return nil
}

func (p *tupleParser) fail(want string) error {
	return fmt.Errorf("json tuples: want %s at offset %d", want, p.i)
}

// str reads a JSON string (or null, as "").
func (p *tupleParser) str() (string, error) {
	switch p.peek() {
	case '"':
	case 'n':
		if strings.HasPrefix(p.s[p.i:], "null") {
			p.i += len("null")
			return "", nil
		}
		return "", p.fail("a string")
	default:
		return "", p.fail("a string")
	}
	start := p.i
	escaped := false
	for j := start + 1; j < len(p.s); j++ {
		switch c := p.s[j]; {
		case c == '\\':
			escaped = true
			j++ // the escaped byte is never the closing quote
		case c < 0x20:
			return "", p.fail("no control character in a string")
		case c == '"':
			p.i = j + 1
			if !escaped {
				return p.s[start+1 : j], nil
			}
			var v string
			if err := json.Unmarshal([]byte(p.s[start:p.i]), &v); err != nil {
				return "", fmt.Errorf("json tuples: string at offset %d: %w", start, err)
			}
			return v, nil
		}
	}
	return "", errors.New("json tuples: unterminated string")
}
