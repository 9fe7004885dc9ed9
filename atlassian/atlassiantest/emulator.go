package atlassiantest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configures an Emulator. The zero value is a Jira 9.12.0 that accepts every request
// without credentials and has no licence limit.
type Options struct {
	// Token is the personal access token accepted as "Authorization: Bearer <Token>" by the Jira
	// face (Jira 8.14+). Empty: no PAT authentication.
	Token string
	// User and Password are the basic-auth credentials of the Jira face and the Crowd application
	// name and password of the Crowd face. Empty User: no basic authentication.
	User, Password string
	// LicenseSeats is the number of Jira seats; 0 means unlimited.
	LicenseSeats int
	// JiraVersion is the emulated Jira version, "MAJOR.MINOR[.PATCH]"; empty means 9.12.0. It switches
	// version-dependent behaviour: `active` on PUT /user (8.3+), JIRAUSER keys (8.4+), PAT (8.14+),
	// the 100-result /user/search cap (10.0+), /user/list (10.3+) and basic auth off by default (11.0+).
	JiraVersion string
	// Now is the clock used for timestamps and the rate-limit bucket; nil means time.Now.
	Now func() time.Time
	// Seed seeds the fault-injection randomness so tests are repeatable; 0 uses a fixed default.
	Seed int64
}

// Validate reports options that New would otherwise silently replace with defaults.
func (o Options) Validate() error {
	if o.LicenseSeats < 0 {
		return fmt.Errorf("license seats %d: must be 0 (unlimited) or more", o.LicenseSeats)
	}
	if o.JiraVersion != "" {
		if _, err := parseVersion(o.JiraVersion); err != nil {
			return err
		}
	}
	if o.Password != "" && o.User == "" {
		return fmt.Errorf("password given without user")
	}
	return nil
}

// maxRequestRecords bounds the request log; older records are overwritten.
const maxRequestRecords = 100_000

// maxBody bounds every request body the emulator reads.
const maxBody = 1 << 20

// Emulator serves the Jira and Crowd faces and the control surface. It is safe for concurrent use.
type Emulator struct {
	opts          Options
	version       version
	versionString string
	now           func() time.Time

	// mu guards dir. Latency injection and JSON encoding happen outside it.
	mu  sync.RWMutex
	dir *directory

	faults atomic.Pointer[faultState]
	rngMu  sync.Mutex
	rng    *rand.Rand

	reqLog requestLog
	reqSeq atomic.Uint64
	bufs   sync.Pool // of *jsonBuf
	jsonCT []string  // the JSON Content-Type header value, shared read-only
	// principalHdr is the X-AUSERNAME value for PAT callers, shared read-only.
	principalHdr []string
	basicHdr     []string // X-AUSERNAME for basic-auth callers
	seraphOK     []string // X-Seraph-LoginReason: OK
	lastOrigin   atomic.Pointer[originCache]
}

// New returns an Emulator configured by opts. Invalid options (see Options.Validate) fall back to
// their defaults: an unparsable JiraVersion means 9.12.0, negative LicenseSeats means unlimited.
func New(opts Options) *Emulator {
	v, err := parseVersion(opts.JiraVersion)
	if err != nil {
		v, _ = parseVersion(defaultJiraVersion)
	}
	if opts.LicenseSeats < 0 {
		opts.LicenseSeats = 0
	}
	e := &Emulator{opts: opts, version: v, versionString: v.String(), now: opts.Now}
	if e.now == nil {
		e.now = time.Now
	}
	seed := uint64(opts.Seed)
	if seed == 0 {
		seed = 0x5eed
	}
	e.rng = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	e.bufs.New = func() any { return &jsonBuf{b: make([]byte, 0, 4096)} }
	e.jsonCT = []string{"application/json;charset=UTF-8"}
	e.principalHdr = []string{patOwner(opts)}
	e.basicHdr = []string{opts.User}
	e.seraphOK = []string{"OK"}
	e.dir = newDirectory(opts.LicenseSeats, v.dbKeys())
	return e
}

// Reset empties the directory (back to the two default groups), switches faults off and clears the
// request log. Options stay as given to New.
func (e *Emulator) Reset() {
	e.mu.Lock()
	e.dir = newDirectory(e.opts.LicenseSeats, e.version.dbKeys())
	e.mu.Unlock()
	e.faults.Store(nil)
	e.reqLog.reset()
}

// RequestRecord is one API request the emulator answered (the control surface is not recorded).
type RequestRecord struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Query  string `json:"query"`
	// Status is the HTTP status sent, or 0 when the connection was dropped by fault injection.
	Status int `json:"status"`
}

// Requests returns the recorded requests, oldest first (at most the last 100,000).
func (e *Emulator) Requests() []RequestRecord { return e.reqLog.snapshot() }

// ResetRequests clears the request log.
func (e *Emulator) ResetRequests() { e.reqLog.reset() }

type requestLog struct {
	mu   sync.Mutex
	buf  []RequestRecord
	next int // write position once buf is full
}

func (l *requestLog) add(r RequestRecord) {
	l.mu.Lock()
	if len(l.buf) < maxRequestRecords {
		l.buf = append(l.buf, r)
	} else {
		l.buf[l.next] = r
		l.next = (l.next + 1) % maxRequestRecords
	}
	l.mu.Unlock()
}

func (l *requestLog) snapshot() []RequestRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]RequestRecord, 0, len(l.buf))
	out = append(out, l.buf[l.next:]...)
	return append(out, l.buf[:l.next]...)
}

func (l *requestLog) reset() {
	l.mu.Lock()
	l.buf, l.next = nil, 0
	l.mu.Unlock()
}

// statusRecorder remembers the status for the request log. Unwrap lets http.ResponseController
// reach the connection for dropped-connection faults.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// face says which product a request is addressed to.
type face int

const (
	faceNone face = iota
	faceJira
	faceCrowd
)

// route splits an API path into its face, the path below the API root, and the API root itself
// (for self links).
func route(path string) (f face, sub, root string) {
	for _, p := range [...]struct {
		prefix string
		f      face
	}{
		{"/rest/api/2/", faceJira},
		{"/rest/api/latest/", faceJira},
		{"/rest/usermanagement/1/", faceCrowd},
		{"/rest/usermanagement/latest/", faceCrowd},
		// Crowd's own base URL has a /crowd context path (atlassian-api.md 3).
		{"/crowd/rest/usermanagement/1/", faceCrowd},
		{"/crowd/rest/usermanagement/latest/", faceCrowd},
	} {
		if strings.HasPrefix(path, p.prefix) {
			return p.f, path[len(p.prefix):], p.prefix[:len(p.prefix)-1]
		}
	}
	return faceNone, "", ""
}

// call is the per-request context handed to the face handlers.
type call struct {
	w         http.ResponseWriter
	r         *http.Request
	sub       string // path below the API root, e.g. "user/search"
	origin    string // scheme://host
	root      string // API root path, e.g. /rest/api/2
	principal string // authenticated name, for X-AUSERNAME and self-protection rules
}

// ServeHTTP answers the Jira face, the Crowd face and the control surface.
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_emulator" || strings.HasPrefix(r.URL.Path, "/_emulator/") {
		e.serveControl(w, r)
		return
	}
	// One allocation for the recorder and the call context.
	st := &struct {
		rec statusRecorder
		c   call
	}{rec: statusRecorder{ResponseWriter: w}}
	e.serveAPI(&st.rec, r, &st.c)
	e.reqLog.add(RequestRecord{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Status: st.rec.status})
}

func (e *Emulator) serveAPI(w http.ResponseWriter, r *http.Request, c *call) {
	f, sub, root := route(r.URL.Path)
	if f == faceNone {
		http.NotFound(w, r)
		return
	}
	fs := e.faults.Load()
	if fs != nil {
		if !fs.before(e, w, r, f) {
			return
		}
	}
	*c = call{w: w, r: r, sub: sub, root: root, origin: e.origin(r)}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	}
	// anonymous: a caller that sent no credentials to an instance that has some configured. Only
	// Jira's serverInfo answers such callers.
	anonymous := false
	if f == faceJira {
		e.setJiraHeaders(c)
		// serverInfo answers anonymous callers on real Jira.
		anonymous = sub == "serverInfo" && r.Header.Get("Authorization") == "" && (e.opts.Token != "" || e.opts.User != "")
		if !anonymous && !e.authJira(c) {
			return
		}
	} else if !e.authCrowd(c) {
		return
	}
	// Jira DC limits only authenticated external REST requests (atlassian-api.md 6.1), so neither
	// a refused login above nor an anonymous call uses a token or gets the X-RateLimit-* headers.
	// Guess (6.1 [U]: "none documented" for Crowd): the Crowd face draws on the same bucket, so
	// the Crowd client's 429 handling can be tested too.
	if fs != nil && fs.bucket != nil && !anonymous && !fs.bucket.admit(w.Header(), e.now()) {
		writeRateLimited(w)
		return
	}
	if f == faceJira {
		e.serveJira(c)
	} else {
		e.serveCrowd(c)
	}
}

// origin returns scheme://host for self links. The last answer is cached because clients send the
// same Host on every request, which saves an allocation per request.
func (e *Emulator) origin(r *http.Request) string {
	host := r.Host
	if host == "" {
		host = "localhost"
	}
	tls := r.TLS != nil
	if o := e.lastOrigin.Load(); o != nil && o.host == host && o.tls == tls {
		return o.origin
	}
	o := &originCache{host: host, tls: tls, origin: "http://" + host}
	if tls {
		o.origin = "https://" + host
	}
	e.lastOrigin.Store(o)
	return o.origin
}

type originCache struct {
	host   string
	tls    bool
	origin string
}

// setJiraHeaders adds the request id and user headers Jira DC sends (atlassian-api.md 1.1).
// Guess (1.1): the X-AREQUESTID format (minute-of-day x sequence x 1) follows what DC prints.
func (e *Emulator) setJiraHeaders(c *call) {
	t := e.now()
	var b [48]byte
	id := strconv.AppendInt(b[:0], int64(t.Hour()*60+t.Minute()), 10)
	id = append(id, 'x')
	id = strconv.AppendUint(id, e.reqSeq.Add(1), 10)
	id = append(id, 'x', '1')
	c.w.Header()["X-Arequestid"] = []string{string(id)}
}

// writeJSON encodes v with encoding/json into a pooled buffer and sends it with the given status.
// The hot user shapes use the jsonBuf appenders instead.
func (e *Emulator) writeJSON(w http.ResponseWriter, status int, v any) {
	j := e.getBuf()
	enc := json.NewEncoder(j)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		e.putBuf(j)
		http.Error(w, "emulator: encode response", http.StatusInternalServerError)
		return
	}
	j.b = j.b[:len(j.b)-1] // send adds the newline back
	e.send(w, status, j)
}

// decodeJSON reads a JSON body into v; the error text is safe to show to the caller.
func decodeJSON(r *http.Request, v any) error {
	if r.Body == nil {
		return fmt.Errorf("no content to map due to end-of-input")
	}
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("unparseable JSON body: %v", err)
	}
	if dec.More() {
		return fmt.Errorf("unparseable JSON body: trailing data after the JSON value")
	}
	return nil
}

// parseBool accepts a JSON boolean or the strings "true"/"false" in any case: Jira and Crowd's
// JSON binders coerce strings (atlassian-api.md 1.5 [I], 3.4 [I]).
func parseBool(raw json.RawMessage) (bool, error) {
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		switch strings.ToLower(s) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return false, fmt.Errorf("not a boolean: %s", truncate(string(raw), 40))
}

// activeOr parses an optional "active" field: def when it is absent.
func activeOr(raw json.RawMessage, def bool) (bool, error) {
	if raw == nil {
		return def, nil
	}
	return parseBool(raw)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// query returns the first value of key in a raw query string without building a url.Values map,
// and whether the key was present.
func query(raw, key string) (string, bool) {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		k, v, _ := strings.Cut(part, "=")
		if strings.ContainsAny(k, "%+") {
			k = unescape(k)
		}
		if k != key {
			continue
		}
		if strings.ContainsAny(v, "%+") {
			v = unescape(v)
		}
		return v, true
	}
	return "", false
}

// unescape decodes a query component; malformed escapes are kept literally, as lenient servers do.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b.WriteByte(' ')
		case c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]):
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}
