package sqlite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// encodeAttrs renders attributes as canonical JSON (encoding/json sorts map
// keys), so equal attributes give equal text: that is how updates detect
// "nothing changed". A float64 with an integral value is written with a
// trailing ".0" so that it decodes as a float64 again, while integers decode
// as int64 (what elimity's schema validation produces for integer and
// decimal attributes); everything then round-trips with its Go type.
func encodeAttrs(m map[string]any) (string, error) {
	if m == nil {
		return "{}", nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(markFloats(m)); err != nil {
		return "", fmt.Errorf("encode attributes: %w", err)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// markFloats returns a copy of v in which every integral float is a
// json.Number with a fractional part.
func markFloats(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = markFloats(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = markFloats(e)
		}
		return out
	case []map[string]any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = markFloats(e)
		}
		return out
	case float32:
		return markFloats(float64(t))
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return t // json reports the error
		}
		s := strconv.FormatFloat(t, 'g', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return json.Number(s)
	default:
		return v
	}
}

// decodeAttrs is the inverse of encodeAttrs: integers become int64 (float64
// when they overflow), other numbers float64.
func decodeAttrs(s string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode attributes: %w", err)
	}
	if m == nil {
		m = map[string]any{}
	}
	return unmarkNumbers(m).(map[string]any), nil
}

func unmarkNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = unmarkNumbers(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = unmarkNumbers(e)
		}
		return t
	case json.Number:
		s := string(t)
		if !strings.ContainsAny(s, ".eE") {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				return i
			}
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return s // cannot happen for valid JSON; keep the text
		}
		return f
	default:
		return v
	}
}
