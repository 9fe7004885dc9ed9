package scim

import (
	"encoding/json"
	"strconv"

	"github.com/elimity-com/scim"

	"github.com/scimbridge/scimbridge/internal/jsonenc"
)

// appendValue appends v as encoding/json would encode it (map keys sorted,
// HTML-safe strings), for the values a resource is made of: decoded JSON
// (maps, lists, strings, bools, numbers), []string, []memberJSON and the
// meta map. Anything else is handed to encoding/json. A list response of
// one user spent more time in encoding/json's reflection and key sorting
// than in the SQLite lookup.
func appendValue(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return jsonenc.AppendString(b, x, true), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case map[string]any:
		return appendMap(b, x)
	case scim.ResourceAttributes:
		return appendMap(b, x)
	case []any:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendValue(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []string:
		if x == nil {
			return append(b, "null"...), nil
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonenc.AppendString(b, e, true)
		}
		return append(b, ']'), nil
	case elimityMeta:
		return x.appendJSON(b), nil
	case []memberJSON:
		if x == nil {
			return append(b, "null"...), nil
		}
		return appendMembers(b, x), nil
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, data...), nil
}

// appendMap appends m with its keys sorted, as encoding/json does.
func appendMap(b []byte, m map[string]any) ([]byte, error) {
	if m == nil {
		return append(b, "null"...), nil
	}
	var buf [16]string
	keys := jsonenc.SortedKeys(buf[:0], m)
	b = append(b, '{')
	for i, k := range keys {
		b = jsonenc.AppendKey(b, i, k, true)
		var err error
		if b, err = appendValue(b, m[k]); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}
