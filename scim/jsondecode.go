package scim

import (
	"encoding/json"

	"github.com/scimbridge/scimbridge/internal/jsondec"
)

// decodeObject decodes a request body that is a JSON object into what
// encoding/json's Decoder with UseNumber gives for a map[string]any
// (numbers as json.Number), without its reflection: decoding a create's
// body was 6% of a create's CPU. It reports false for what it leaves to
// encoding/json (jsondec.Object's limits, and anything but an object).
// TestDecodeObjectAsEncodingJSON and FuzzDecodeObject hold the two to the
// same result. The strings share one copy of raw.
func decodeObject(raw []byte) (map[string]any, bool) {
	return jsondec.Object(string(raw), func(lit string) (any, bool) { return json.Number(lit), true })
}
