package test

// The replay harness: reads IdP transcripts (test/testdata/idp/<idp>/*.json,
// format in test/testdata/idp/README.md), sends each step to a running
// scimbridge over real HTTP and checks the response.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// step is one request of a transcript and what its response must look like.
type step struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	// Path is relative to the tenant's base URL (/scim/v2/{tenant}) unless
	// it starts with /scim/, then it is relative to the server root.
	Path string `json:"path"`
	// Headers replace the defaults; a null value removes the header.
	Headers map[string]*string `json:"headers"`
	// Body is sent as JSON text, or verbatim if it is a JSON string.
	Body json.RawMessage `json:"body"`
	// PadTo grows an object Body with a "padding" string attribute until
	// the encoded body is at least PadTo bytes (413 tests).
	PadTo  int                        `json:"padTo"`
	Status int                        `json:"status"`
	Expect map[string]json.RawMessage `json:"expect"`
	Save   map[string]string          `json:"save"`
	// KnownIssue marks a step that fails because of a reported server bug:
	// its failures are logged, not reported, and the step fails once it
	// passes, so the mark is removed together with the bug.
	KnownIssue string `json:"knownIssue"`
}

// transcript is one file of steps.
type transcript struct {
	IdP   string // directory name: the tenant the transcript runs on
	Name  string // file name without .json
	Steps []step
}

// loadTranscripts reads every transcript under dir (dir/<idp>/<name>.json),
// strictly: unknown fields and missing required fields are errors, so a
// typo in a transcript cannot silently weaken it.
func loadTranscripts(t testing.TB, dir string) []transcript {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var out []transcript
	for _, f := range files {
		tr, err := readTranscript(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, tr)
	}
	if len(out) == 0 {
		t.Fatalf("no transcripts under %s", dir)
	}
	return out
}

func readTranscript(file string) (transcript, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return transcript{}, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var steps []step
	if err := dec.Decode(&steps); err != nil {
		return transcript{}, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return transcript{}, fmt.Errorf("trailing data after the list of steps")
	}
	seen := map[string]bool{}
	for i, s := range steps {
		switch {
		case s.Name == "":
			return transcript{}, fmt.Errorf("step %d: name is required", i)
		case seen[s.Name]:
			return transcript{}, fmt.Errorf("step %d: duplicate name %q", i, s.Name)
		case s.Method == "" || s.Path == "":
			return transcript{}, fmt.Errorf("step %q: method and path are required", s.Name)
		case s.Status < 100 || s.Status > 599:
			return transcript{}, fmt.Errorf("step %q: status %d is not an HTTP status", s.Name, s.Status)
		case s.PadTo > 0 && (len(s.Body) == 0 || s.Body[0] != '{'):
			return transcript{}, fmt.Errorf("step %q: padTo needs an object body", s.Name)
		}
		for k, v := range s.Expect {
			kind, _, err := parseAssertionKey(k)
			if err != nil {
				return transcript{}, fmt.Errorf("step %q: expect %q: %w", s.Name, k, err)
			}
			if (kind == kindAbsent || kind == kindPresent || kind == kindNoHeader || kind == kindHasHeader) && string(v) != "true" {
				return transcript{}, fmt.Errorf("step %q: expect %q: the value of a presence check must be true", s.Name, k)
			}
		}
		seen[s.Name] = true
	}
	return transcript{
		IdP:   filepath.Base(filepath.Dir(file)),
		Name:  strings.TrimSuffix(filepath.Base(file), ".json"),
		Steps: steps,
	}, nil
}

// replayer sends transcript steps to one server.
type replayer struct {
	root   string // http://127.0.0.1:PORT
	client *http.Client
	tenant string
	// tokens are the bearer credentials per tenant; tokens[tenant] is the
	// default Authorization.
	tokens map[string]string
	vars   map[string]string
	// snapshot, if set, renders the stored state; it is taken before and
	// after every rejected write, which must change nothing.
	snapshot func(ctx context.Context) (string, error)
}

func newReplayer(root string, client *http.Client, tenant string, tokens map[string]string) *replayer {
	vars := map[string]string{
		"tenant": tenant,
		"root":   root,
		"base":   root + "/scim/v2/" + tenant,
	}
	for name, tok := range tokens {
		vars["token:"+name] = tok
	}
	vars["token"] = tokens[tenant]
	return &replayer{root: root, client: client, tenant: tenant, tokens: tokens, vars: vars}
}

// run replays the steps in order, one subtest per step. A failed step does
// not stop the transcript; a step that needs a variable an earlier failed
// step should have saved fails on its own.
func (r *replayer) run(t *testing.T, steps []step) {
	for i, s := range steps {
		t.Run(fmt.Sprintf("%02d_%s", i+1, s.Name), func(t *testing.T) { r.runStep(t, s) })
	}
}

func (r *replayer) runStep(t *testing.T, s step) {
	t.Helper()
	ctx := t.Context()
	var failures []string
	errorf := func(format string, args ...any) {
		t.Helper()
		if s.KnownIssue == "" {
			t.Errorf(format, args...)
			return
		}
		failures = append(failures, fmt.Sprintf(format, args...))
	}
	defer func() {
		if s.KnownIssue == "" || t.Failed() {
			return
		}
		if len(failures) == 0 {
			t.Errorf("step passes now: remove its knownIssue mark (%s)", s.KnownIssue)
			return
		}
		t.Logf("KNOWN ISSUE, step fails as expected: %s", s.KnownIssue)
		for _, f := range failures {
			t.Logf("  %s", f)
		}
	}()
	req, err := r.request(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	rejectedWrite := s.Status >= 400 && isWrite(s.Method) && r.snapshot != nil
	var before string
	if rejectedWrite {
		if before, err = r.snapshot(ctx); err != nil {
			t.Fatalf("snapshot before: %v", err)
		}
	}
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", s.Method, req.URL, err)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	resp.Body.Close()
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	desc := fmt.Sprintf("%s %s", s.Method, clipN([]byte(req.URL.RequestURI()), 300))
	if resp.StatusCode != s.Status {
		errorf("%s: status %d, want %d; body: %s", desc, resp.StatusCode, s.Status, clip(body))
	}
	var doc any
	if len(body) > 0 {
		if err := json.Unmarshal(body, &doc); err != nil {
			errorf("%s: response body is not JSON (%v): %s", desc, err, clip(body))
			doc = nil
		}
	}
	for _, p := range invariants(resp, body, doc) {
		errorf("%s: %s", desc, p)
	}
	// Saves come first, so expectations may refer to values of this very
	// response (the Location of a create names the new id).
	for name, path := range s.Save {
		v, err := extract(path, resp.Header, doc)
		if err != nil {
			errorf("save %s from %q: %v", name, path, err)
			continue
		}
		r.vars[name] = v
	}
	keys := make([]string, 0, len(s.Expect))
	for k := range s.Expect {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		raw, err := r.substituteJSON(string(s.Expect[k]))
		if err != nil {
			errorf("expect %q: %v", k, err)
			continue
		}
		var want any
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			errorf("expect %q: %v", k, err)
			continue
		}
		key, err := r.substitute(k)
		if err != nil {
			errorf("expect %q: %v", k, err)
			continue
		}
		if msg := check(key, want, resp.Header, body, doc); msg != "" {
			errorf("%s: %s; body: %s", desc, msg, clip(body))
		}
	}
	if rejectedWrite {
		after, err := r.snapshot(ctx)
		if err != nil {
			t.Fatalf("snapshot after: %v", err)
		}
		if d := cmp.Diff(before, after); d != "" {
			errorf("%s was rejected with %d but changed stored state (-before +after):\n%s", desc, resp.StatusCode, d)
		}
	}
}

func isWrite(method string) bool {
	switch strings.ToUpper(method) {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// request builds the HTTP request of a step.
func (r *replayer) request(ctx context.Context, s step) (*http.Request, error) {
	path, err := r.substitute(s.Path)
	if err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	target := r.root + "/scim/v2/" + r.tenant + path
	if strings.HasPrefix(path, "/scim/") {
		target = r.root + path
	}
	var body io.Reader
	var bodyBytes []byte
	if len(s.Body) > 0 {
		if bodyBytes, err = r.bodyBytes(s); err != nil {
			return nil, err
		}
		body = bytes.NewReader(bodyBytes)
	}
	req, err := http.NewRequestWithContext(ctx, s.Method, encodeURL(target), body)
	if err != nil {
		return nil, err
	}
	if tok := r.tokens[r.tenant]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for k, v := range s.Headers {
		if v == nil {
			req.Header.Del(k)
			continue
		}
		val, err := r.substitute(*v)
		if err != nil {
			return nil, fmt.Errorf("header %s: %w", k, err)
		}
		req.Header.Set(k, val)
	}
	return req, nil
}

func (r *replayer) bodyBytes(s step) ([]byte, error) {
	var text string
	var err error
	if s.Body[0] == '"' {
		if err := json.Unmarshal(s.Body, &text); err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		text, err = r.substitute(text)
	} else {
		text, err = r.substituteJSON(string(s.Body))
	}
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	if s.PadTo <= 0 {
		return []byte(text), nil
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		return nil, fmt.Errorf("body to pad: %w", err)
	}
	obj["padding"] = ""
	base, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	if n := s.PadTo - len(base); n > 0 {
		obj["padding"] = strings.Repeat("x", n)
	}
	return json.Marshal(obj)
}

var varRE = regexp.MustCompile(`\{\{([^{}]+)\}\}`)

// substitute replaces {{name}} with the variable's value; an undefined
// variable is an error (usually: the step that saves it failed).
func (r *replayer) substitute(s string) (string, error) {
	var missing []string
	out := varRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-2]
		v, ok := r.vars[name]
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("undefined variable(s) %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// substituteJSON replaces {{name}} inside the strings of JSON text with the
// value escaped for a JSON string (an ETag W/"3" contains quotes), keeping
// the text otherwise as written (key order, spacing).
func (r *replayer) substituteJSON(s string) (string, error) {
	var missing []string
	out := varRE.ReplaceAllStringFunc(s, func(m string) string {
		name := m[2 : len(m)-2]
		v, ok := r.vars[name]
		if !ok {
			missing = append(missing, name)
			return ""
		}
		b, _ := json.Marshal(v)
		return string(b[1 : len(b)-1])
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("undefined variable(s) %s", strings.Join(missing, ", "))
	}
	return out, nil
}

// encodeURL percent-encodes what an HTTP client library or browser would
// (spaces, quotes, brackets) and keeps everything else, including existing
// %XX escapes and '+', as written in the transcript.
func encodeURL(u string) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		c := u[i]
		if c < 0x80 && (isAlnum(c) || strings.IndexByte("-._~!$&'()*+,;=:@/?%#", c) >= 0) {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// invariants are checked on every response, whatever the transcript says:
// no 5xx but 501, SCIM media type on every body, RFC 7644 section 3.12 error
// bodies (schemas, status as a string) on every error, and a detail on every
// 4xx (the Okta SPEC test checks detail and status on 401/404).
func invariants(resp *http.Response, body []byte, doc any) []string {
	var out []string
	if resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented {
		out = append(out, fmt.Sprintf("server error %d", resp.StatusCode))
	}
	if len(body) > 0 {
		mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if mt != "application/scim+json" {
			out = append(out, fmt.Sprintf("Content-Type %q, want application/scim+json", resp.Header.Get("Content-Type")))
		}
	}
	if resp.StatusCode >= 400 {
		m, _ := doc.(map[string]any)
		schemas, _ := m["schemas"].([]any)
		if !slices.Contains(schemas, any("urn:ietf:params:scim:api:messages:2.0:Error")) {
			out = append(out, "error response without the SCIM Error schema")
		}
		if m["status"] != strconv.Itoa(resp.StatusCode) {
			out = append(out, fmt.Sprintf("error body status %#v, want the string %q", m["status"], strconv.Itoa(resp.StatusCode)))
		}
		if d, _ := m["detail"].(string); strings.TrimSpace(d) == "" && resp.StatusCode < 500 {
			out = append(out, "error body without detail")
		}
	}
	return out
}

// Assertion kinds, chosen by the key's prefix (see README.md).
const (
	kindEqual     = "equal"
	kindAbsent    = "absent"
	kindPresent   = "present"
	kindType      = "type"
	kindContains  = "contains"
	kindLen       = "len"
	kindHeader    = "header"
	kindNoHeader  = "no-header"
	kindHasHeader = "has-header"
	kindRaw       = "raw"
	kindRawHas    = "raw-contains"
	kindRawLacks  = "raw-lacks"
)

func parseAssertionKey(k string) (kind, path string, err error) {
	switch {
	case k == "raw":
		return kindRaw, "", nil
	case k == "raw~":
		return kindRawHas, "", nil
	case k == "raw!~":
		return kindRawLacks, "", nil
	case strings.HasPrefix(k, "!header:"):
		return kindNoHeader, k[len("!header:"):], nil
	case strings.HasPrefix(k, "?header:"):
		return kindHasHeader, k[len("?header:"):], nil
	case strings.HasPrefix(k, "header:"):
		return kindHeader, k[len("header:"):], nil
	case strings.HasPrefix(k, "len:"):
		kind, path = kindLen, k[len("len:"):]
	case strings.HasPrefix(k, "!"):
		kind, path = kindAbsent, k[1:]
	case strings.HasPrefix(k, "?"):
		kind, path = kindPresent, k[1:]
	case strings.HasPrefix(k, "#"):
		kind, path = kindType, k[1:]
	case strings.HasPrefix(k, "~"):
		kind, path = kindContains, k[1:]
	default:
		kind, path = kindEqual, k
	}
	if _, err := parsePath(path); err != nil {
		return "", "", err
	}
	return kind, path, nil
}

// check evaluates one assertion; it returns "" when it holds.
func check(key string, want any, h http.Header, body []byte, doc any) string {
	kind, path, err := parseAssertionKey(key)
	if err != nil {
		return err.Error()
	}
	switch kind {
	case kindRaw, kindRawHas, kindRawLacks:
		s, ok := want.(string)
		if !ok {
			return fmt.Sprintf("%s: want a string", key)
		}
		text := string(body)
		switch {
		case kind == kindRaw && text != s:
			return fmt.Sprintf("body %q, want %q", clip(body), s)
		case kind == kindRawHas && !strings.Contains(text, s):
			return fmt.Sprintf("body does not contain %q", s)
		case kind == kindRawLacks && strings.Contains(text, s):
			return fmt.Sprintf("body contains %q", s)
		}
		return ""
	case kindHeader:
		s, ok := want.(string)
		if !ok {
			return fmt.Sprintf("%s: want a string", key)
		}
		got := h.Get(path)
		if got == "" && len(h.Values(path)) == 0 {
			return fmt.Sprintf("header %s missing, want %q", path, s)
		}
		if strings.EqualFold(path, "Content-Type") && !strings.Contains(s, ";") {
			got, _, _ = mime.ParseMediaType(got)
		}
		if got != s {
			return fmt.Sprintf("header %s = %q, want %q", path, got, s)
		}
		return ""
	case kindNoHeader:
		if v := h.Values(path); len(v) > 0 {
			return fmt.Sprintf("header %s = %q, want none", path, v)
		}
		return ""
	case kindHasHeader:
		if strings.TrimSpace(h.Get(path)) == "" {
			return fmt.Sprintf("header %s missing or empty", path)
		}
		return ""
	}

	got, found, err := lookupPath(doc, path)
	if err != nil {
		return err.Error()
	}
	switch kind {
	case kindAbsent:
		if found {
			return fmt.Sprintf("%s = %s, want it absent", path, show(got))
		}
	case kindPresent:
		if !found || isEmpty(got) {
			return fmt.Sprintf("%s is missing or empty", path)
		}
	case kindType:
		ty, _ := want.(string)
		if !found {
			return fmt.Sprintf("%s is missing, want a %s", path, ty)
		}
		if !hasType(got, ty) {
			return fmt.Sprintf("%s = %s, want a %s", path, show(got), ty)
		}
	case kindLen:
		n, ok := want.(float64)
		if !ok {
			return fmt.Sprintf("%s: want a number", key)
		}
		l := -1
		switch g := got.(type) {
		case []any:
			l = len(g)
		case map[string]any:
			l = len(g)
		case string:
			l = len(g)
		}
		if !found || l != int(n) {
			return fmt.Sprintf("len(%s) = %d (value %s), want %d", path, l, show(got), int(n))
		}
	case kindContains:
		if !found || !contains(got, want) {
			return fmt.Sprintf("%s = %s does not contain %s", path, show(got), show(want))
		}
	case kindEqual:
		if !found {
			return fmt.Sprintf("%s is missing, want %s", path, show(want))
		}
		if !cmp.Equal(got, want) {
			return fmt.Sprintf("%s = %s, want %s", path, show(got), show(want))
		}
	}
	return ""
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == ""
	case []any:
		return len(t) == 0
	case map[string]any:
		return len(t) == 0
	}
	return false
}

func hasType(v any, ty string) bool {
	switch ty {
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "null":
		return v == nil
	}
	return false
}

// contains: an array holds an element matching want (objects match when
// every key of want matches), or a string holds want as a substring.
func contains(got, want any) bool {
	switch g := got.(type) {
	case []any:
		for _, e := range g {
			if matches(e, want) {
				return true
			}
		}
	case string:
		s, ok := want.(string)
		return ok && strings.Contains(g, s)
	}
	return false
}

func matches(got, want any) bool {
	w, ok := want.(map[string]any)
	if !ok {
		return cmp.Equal(got, want)
	}
	g, ok := got.(map[string]any)
	if !ok {
		return false
	}
	for k, wv := range w {
		gv, ok := g[k]
		if !ok || !matches(gv, wv) {
			return false
		}
	}
	return true
}

// extract reads a value to save: "header:Name" or a JSON path whose value
// is a string, number or boolean.
func extract(path string, h http.Header, doc any) (string, error) {
	if name, ok := strings.CutPrefix(path, "header:"); ok {
		if v := h.Get(name); v != "" {
			return v, nil
		}
		return "", fmt.Errorf("no header %s", name)
	}
	v, found, err := lookupPath(doc, path)
	if err != nil {
		return "", err
	}
	if !found {
		return "", fmt.Errorf("%s not in the response", path)
	}
	switch t := v.(type) {
	case string:
		return t, nil
	case float64, bool:
		return fmt.Sprint(t), nil
	}
	return "", fmt.Errorf("%s = %s is not a scalar", path, show(v))
}

// segment is one step of a JSON path.
type segment struct {
	key      string
	index    int // >= 0: array index
	selKey   string
	selValue string
	isSelect bool
}

// parsePath parses a.b[0].c, a[type=work].value and ['any key'].x. A dot
// between two digits belongs to the name, so
// urn:ietf:params:scim:schemas:extension:enterprise:2.0:User.manager.value
// needs no quoting. The empty path is the whole document.
func parsePath(p string) ([]segment, error) {
	var segs []segment
	i := 0
	for i < len(p) {
		switch c := p[i]; {
		case c == '.':
			i++
		case c == '[':
			end := strings.IndexByte(p[i:], ']')
			if q := p[i+1:]; len(q) > 0 && (q[0] == '\'' || q[0] == '"') {
				close := strings.Index(q[1:], string(q[0])+"]")
				if close < 0 {
					return nil, fmt.Errorf("path %q: unterminated quoted key", p)
				}
				segs = append(segs, segment{key: q[1 : 1+close], index: -1})
				i += 1 + 1 + close + 2
				continue
			}
			if end < 0 {
				return nil, fmt.Errorf("path %q: missing ]", p)
			}
			inner := p[i+1 : i+end]
			if n, err := strconv.Atoi(inner); err == nil && n >= 0 {
				segs = append(segs, segment{index: n})
			} else if k, v, ok := strings.Cut(inner, "="); ok && k != "" {
				segs = append(segs, segment{index: -1, isSelect: true, selKey: k, selValue: v})
			} else {
				return nil, fmt.Errorf("path %q: bad selector [%s]", p, inner)
			}
			i += end + 1
		default:
			j := i
			for j < len(p) && p[j] != '[' {
				if p[j] == '.' && !(j > 0 && j+1 < len(p) && isDigit(p[j-1]) && isDigit(p[j+1])) {
					break
				}
				j++
			}
			segs = append(segs, segment{key: p[i:j], index: -1})
			i = j
		}
	}
	return segs, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// lookupPath walks doc; found is false when a key or element is missing.
// A null value counts as found (it is there, and null).
func lookupPath(doc any, path string) (any, bool, error) {
	segs, err := parsePath(path)
	if err != nil {
		return nil, false, err
	}
	cur := doc
	for _, s := range segs {
		switch {
		case s.isSelect:
			list, ok := cur.([]any)
			if !ok {
				return nil, false, nil
			}
			var next any
			found := false
			for _, e := range list {
				if m, ok := e.(map[string]any); ok && scalarString(m[s.selKey]) == s.selValue {
					next, found = e, true
					break
				}
			}
			if !found {
				return nil, false, nil
			}
			cur = next
		case s.index >= 0:
			list, ok := cur.([]any)
			if !ok || s.index >= len(list) {
				return nil, false, nil
			}
			cur = list[s.index]
		default:
			m, ok := cur.(map[string]any)
			if !ok {
				return nil, false, nil
			}
			v, ok := m[s.key]
			if !ok {
				return nil, false, nil
			}
			cur = v
		}
	}
	return cur, true, nil
}

func scalarString(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case nil:
		return "null"
	case map[string]any, []any:
		return ""
	}
	return fmt.Sprint(v)
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return clip(b)
}

func clip(b []byte) string { return clipN(b, 1500) }

func clipN(b []byte, max int) string {
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
