package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
)

// errorBody is every error response: a stable code and a sentence for a
// human. Neither ever holds a secret or an internal error's text.
type errorBody struct {
	Error  string `json:"error"`
	Detail string `json:"detail"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The status is sent; an encoding error can only be a gone client.
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, errorBody{Error: code, Detail: detail})
}

func badRequest(w http.ResponseWriter, detail string) {
	writeError(w, http.StatusBadRequest, "bad_request", detail)
}

// internalError logs err and answers 500 without its text.
func (a *API) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	a.log.ErrorContext(r.Context(), "admin api: "+what, "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, "internal", what+" failed; see the server log")
}

// readBody reads the whole body, at most a.maxBody bytes. On failure it has
// answered (413 or 400) and returns false.
func (a *API) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "payload_too_large",
				fmt.Sprintf("the body is larger than %d bytes", a.maxBody))
			return nil, false
		}
		badRequest(w, "the body could not be read")
		return nil, false
	}
	return b, true
}

// decodeBody reads a JSON body into v, refusing unknown fields, trailing
// data and a Content-Type other than JSON (absent is accepted: SSO plugins
// and curl users often send none). On failure it has answered and returns
// false.
func (a *API) decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && mt != "application/scim+json") {
			writeError(w, http.StatusUnsupportedMediaType, "unsupported_media_type",
				"the body must be JSON (Content-Type: application/json)")
			return false
		}
	}
	b, ok := a.readBody(w, r)
	if !ok {
		return false
	}
	if err := decodeStrict(b, v); err != nil {
		badRequest(w, err.Error())
		return false
	}
	return true
}

// decodeStrict decodes exactly one JSON value with no unknown fields. Its
// errors describe the input, never anything internal.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("the body is empty; a JSON object is expected")
		}
		return fmt.Errorf("invalid JSON body: %s", jsonProblem(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("invalid JSON body: data after the JSON object")
	}
	return nil
}

// jsonProblem renders a decoding error for the caller: encoding/json's
// messages name Go types, which mean nothing to an API user.
func jsonProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error at byte " + strconv.FormatInt(syn.Offset, 10) + ": " + syn.Error()
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return "the body must be a JSON object"
		}
		return fmt.Sprintf("field %q has the wrong type (got a JSON %s)", field, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the JSON is cut short"
	}
	// DisallowUnknownFields: `json: unknown field "x"`; the text names only
	// the caller's own field.
	return err.Error()
}
