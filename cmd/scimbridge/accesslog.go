package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/config"
	"github.com/scimbridge/scimbridge/internal/jsonenc"
	"github.com/scimbridge/scimbridge/scim"
)

// Request-scoped logging: every request gets an id (the caller's
// X-Request-Id when it is sane, else a new one, echoed in the response),
// and every line logged with the request's context carries that id and the
// tenant. One access line is written per request; with trace on, one more
// line holds the redacted request and response.

// requestIDHeader is read from the request and set on the response.
const requestIDHeader = "X-Request-Id"

// maxRequestIDLen bounds a caller's request id; longer ones are replaced.
const maxRequestIDLen = 128

// traceCaptureLimit is the most of a body the trace buffers to redact it.
// A longer body is not logged at all: redaction needs the whole document,
// and a cut-off document could end inside a secret.
const traceCaptureLimit = 1 << 20

// requestInfo is what every log line of a request carries.
type requestInfo struct {
	id     string
	tenant string
}

type requestInfoKey struct{}

func withRequestInfo(ctx context.Context, info requestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, info)
}

func requestInfoFrom(ctx context.Context) (requestInfo, bool) {
	info, ok := ctx.Value(requestInfoKey{}).(requestInfo)
	return info, ok
}

// contextHandler adds the request id and tenant of the request a record
// was logged for to the record, unless the logger or the record already
// has them (the scim package adds the tenant itself).
type contextHandler struct {
	next      slog.Handler
	hasID     bool
	hasTenant bool
}

func newContextHandler(next slog.Handler) slog.Handler { return contextHandler{next: next} }

// Enabled defers to the wrapped handler.
func (h contextHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle adds request_id and tenant from ctx.
func (h contextHandler) Handle(ctx context.Context, r slog.Record) error {
	if info, ok := requestInfoFrom(ctx); ok {
		hasID, hasTenant := h.hasID, h.hasTenant
		r.Attrs(func(a slog.Attr) bool {
			hasID = hasID || a.Key == "request_id"
			hasTenant = hasTenant || a.Key == "tenant"
			return !hasID || !hasTenant
		})
		if !hasID {
			r.AddAttrs(slog.String("request_id", info.id))
		}
		if !hasTenant && info.tenant != "" {
			r.AddAttrs(slog.String("tenant", info.tenant))
		}
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs notes whether the logger now carries the id or the tenant.
func (h contextHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := contextHandler{next: h.next.WithAttrs(attrs), hasID: h.hasID, hasTenant: h.hasTenant}
	for _, a := range attrs {
		c.hasID = c.hasID || a.Key == "request_id"
		c.hasTenant = c.hasTenant || a.Key == "tenant"
	}
	return c
}

// WithGroup wraps the grouped handler; attributes added later land in the
// group, which keeps them findable.
func (h contextHandler) WithGroup(name string) slog.Handler {
	return contextHandler{next: h.next.WithGroup(name), hasID: h.hasID, hasTenant: h.hasTenant}
}

// requestLogOptions configure requestLog.
type requestLogOptions struct {
	// Tenants are the configured tenant names; only these are logged as the
	// tenant of a request, so a path cannot put arbitrary text there.
	Tenants []string
	// Trace logs each request's method, path, query, headers and bodies,
	// redacted, with its status and latency.
	Trace bool
	// MaxBodyBytes cuts each traced body's redacted form (0: bodies are
	// not logged).
	MaxBodyBytes int
	// Access, if set, receives the access lines directly, built by hand
	// in the JSON handler's format (the same keys, values and order as
	// the slog line, request_id and tenant last), instead of through the
	// logger: slog's record, attribute walk and generic JSON appending
	// cost about 4% of the server's CPU per lookup. It must be the writer
	// the logger's JSON handler writes to, safe for concurrent use
	// (lockedWriter), so lines never interleave. Other lines still go
	// through the logger.
	Access io.Writer
	// AccessLevel is the logger's minimum level, used with Access.
	AccessLevel slog.Leveler
}

// lockedWriter serialises writes to w: the logger's handler and the
// access lines share it. Access lines are collected (WriteDeferred) and
// written together at most accessFlushDelay later, or at once when
// accessFlushBytes are waiting, or before the next other line: a write
// system call per request was ~3.5% of a lookup's CPU. Other lines are
// written at once, after any access lines before them, so the order holds.
// A crash can lose the last accessFlushDelay of access lines, never
// another line; serve flushes them when it stops.
type lockedWriter struct {
	mu      sync.Mutex
	w       io.Writer
	pending []byte // access lines not written yet
	armed   bool   // a flush of pending is scheduled
	delay   time.Duration
}

const (
	accessFlushDelay = 50 * time.Millisecond
	accessFlushBytes = 32 << 10
)

// Write writes any pending access lines and then p, under the lock.
func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) > 0 {
		l.pending = append(l.pending, p...)
		err := l.flushLocked()
		if err != nil {
			return 0, err
		}
		return len(p), nil
	}
	return l.w.Write(p)
}

// WriteDeferred queues p (an access line) to be written within the flush
// delay.
func (l *lockedWriter) WriteDeferred(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, p...)
	if len(l.pending) >= accessFlushBytes {
		return len(p), l.flushLocked()
	}
	if !l.armed {
		l.armed = true
		d := l.delay
		if d == 0 {
			d = accessFlushDelay
		}
		time.AfterFunc(d, func() { _ = l.Flush() })
	}
	return len(p), nil
}

// Flush writes the pending access lines.
func (l *lockedWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.armed = false
	return l.flushLocked()
}

func (l *lockedWriter) flushLocked() error {
	if len(l.pending) == 0 {
		return nil
	}
	_, err := l.w.Write(l.pending)
	if cap(l.pending) > 4*accessFlushBytes {
		l.pending = nil // a burst's buffer is not kept
	} else {
		l.pending = l.pending[:0]
	}
	return err
}

// requestLog wraps next with request ids, request-scoped log attributes, an
// access line per request and the optional trace.
func requestLog(log *slog.Logger, next http.Handler, opts requestLogOptions) http.Handler {
	var access *accessWriter
	if opts.Access != nil {
		access = newAccessWriter(opts.Access, opts.AccessLevel)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := requestInfo{id: requestID(r.Header.Get(requestIDHeader)), tenant: tenantOf(r.URL.Path, opts.Tenants)}
		w.Header().Set(requestIDHeader, info.id)
		ctx := withRequestInfo(r.Context(), info)
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		var reqBody *capture
		if opts.Trace {
			rec.body = &capture{limit: traceCaptureLimit}
			if r.Body != nil && r.Body != http.NoBody {
				reqBody = &capture{limit: traceCaptureLimit}
				r.Body = &teeBody{ReadCloser: r.Body, c: reqBody}
			}
		}
		next.ServeHTTP(rec, r.WithContext(ctx))
		elapsed := time.Since(start)

		level := slog.LevelInfo
		switch {
		case isProbePath(r.URL.Path):
			level = slog.LevelDebug // polled every few seconds: noise at info
		case rec.status >= 500:
			level = slog.LevelWarn
		}
		if access != nil {
			access.write(level, r, rec, elapsed, info)
		} else {
			log.LogAttrs(ctx, level, "http request",
				slog.String("method", r.Method),
				slog.String("path", clip(r.URL.Path, 512)),
				slog.Int("status", rec.status),
				slog.Int64("bytes", rec.written),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.String("remote", r.RemoteAddr),
				slog.String("user_agent", clip(r.UserAgent(), 256)),
			)
		}
		if opts.Trace {
			log.LogAttrs(ctx, min(level, slog.LevelInfo), "http trace",
				slog.String("method", r.Method),
				slog.String("path", clip(r.URL.Path, 512)),
				slog.String("query", redactQuery(r.URL.RawQuery)),
				slog.Int("status", rec.status),
				slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
				slog.Any("request_headers", redactHeaders(r.Header)),
				slog.String("request_body", traceBody(reqBody, opts.MaxBodyBytes)),
				slog.String("response_body", traceBody(rec.body, opts.MaxBodyBytes)),
			)
		}
	})
}

// accessWriter writes access lines by hand (requestLogOptions.Access).
type accessWriter struct {
	w     io.Writer
	level slog.Leveler
	bufs  sync.Pool // of *[]byte
}

// deferredWriter takes a line that may be written a little later
// (lockedWriter).
type deferredWriter interface {
	WriteDeferred(p []byte) (int, error)
}

func newAccessWriter(w io.Writer, level slog.Leveler) *accessWriter {
	if level == nil {
		level = slog.LevelInfo
	}
	return &accessWriter{w: w, level: level, bufs: sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}}
}

// write writes the access line as slog.JSONHandler (with
// contextHandler) writes it: {"time":…,"level":…,"msg":"http request",
// "method":…,"path":…,"status":…,"bytes":…,"duration_ms":…,"remote":…,
// "user_agent":…,"request_id":…,"tenant":…} and a newline, in one Write.
func (a *accessWriter) write(level slog.Level, r *http.Request, rec *recorder, elapsed time.Duration, info requestInfo) {
	if level < a.level.Level() {
		return
	}
	bp := a.bufs.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, `{"time":"`...)
	b = time.Now().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"`...)
	b = append(b, level.String()...)
	b = append(b, `","msg":"http request","method":`...)
	b = jsonenc.AppendString(b, r.Method, false) // as slog does: not HTML-safe
	b = append(b, `,"path":`...)
	b = jsonenc.AppendString(b, clip(r.URL.Path, 512), false)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(rec.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, rec.written, 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(elapsed.Microseconds())/1000, 'f', -1, 64)
	b = append(b, `,"remote":`...)
	b = jsonenc.AppendString(b, r.RemoteAddr, false)
	b = append(b, `,"user_agent":`...)
	b = jsonenc.AppendString(b, clip(r.UserAgent(), 256), false)
	b = append(b, `,"request_id":`...)
	b = jsonenc.AppendString(b, info.id, false)
	if info.tenant != "" {
		b = append(b, `,"tenant":`...)
		b = jsonenc.AppendString(b, info.tenant, false)
	}
	b = append(b, "}\n"...)
	if d, ok := a.w.(deferredWriter); ok {
		_, _ = d.WriteDeferred(b)
	} else {
		_, _ = a.w.Write(b)
	}
	if cap(b) <= 4096 {
		*bp = b
		a.bufs.Put(bp)
	}
}

// requestID returns the caller's id when it is 1..maxRequestIDLen
// characters of [A-Za-z0-9._:=/+-] (UUIDs, trace ids, base64), else a new random one:
// an id is written into every log line, so odd bytes stay out.
func requestID(given string) string {
	if given != "" && len(given) <= maxRequestIDLen && !strings.ContainsFunc(given, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._:=/+-", c))
	}) {
		return given
	}
	return rand.Text()
}

// tenantOf returns the configured tenant a path belongs to, or "".
func tenantOf(path string, tenants []string) string {
	for _, prefix := range []string{scim.Prefix, "/api/v1/users/"} {
		if rest, ok := strings.CutPrefix(path, prefix); ok {
			name, _, _ := strings.Cut(rest, "/")
			if slices.Contains(tenants, name) {
				return name
			}
		}
	}
	return ""
}

func isProbePath(p string) bool { return p == "/healthz" || p == "/readyz" || p == "/metrics" }

// clip cuts s to at most n bytes without splitting a character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// recorder notes the status and size of the response and, with trace on,
// captures its body.
type recorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
	written     int64
	body        *capture
}

// WriteHeader records the status.
func (r *recorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status, r.wroteHeader = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

// Write counts and, with trace on, captures.
func (r *recorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	n, err := r.ResponseWriter.Write(p)
	r.written += int64(n)
	if r.body != nil {
		r.body.add(p[:n])
	}
	return n, err
}

// Flush lets streamed downloads through the wrapper.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack passes connection takeover through (nothing uses it today).
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := r.ResponseWriter.(http.Hijacker); ok {
		return h.Hijack()
	}
	return nil, nil, errors.New("hijack not supported")
}

// Unwrap gives http.ResponseController the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// capture keeps the first limit bytes written to it and counts the rest.
type capture struct {
	limit int
	buf   bytes.Buffer
	total int64
}

func (c *capture) add(p []byte) {
	c.total += int64(len(p))
	if room := c.limit - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
}

func (c *capture) complete() bool { return c.total == int64(c.buf.Len()) }

// teeBody captures a request body as the handler reads it, so tracing
// changes nothing about how (or whether) the body is read.
type teeBody struct {
	io.ReadCloser
	c *capture
}

func (t *teeBody) Read(p []byte) (int, error) {
	n, err := t.ReadCloser.Read(p)
	t.c.add(p[:n])
	return n, err
}

// redacted replaces every secret value in traces.
const redacted = "[redacted]"

// secretWords mark a JSON key, query parameter or header as secret when its
// lower-cased name contains one of them.
var secretWords = []string{
	"password", "passwd", "pwd", "secret", "token", "authorization", "apikey", "api_key", "api-key",
	"credential", "private_key", "privatekey", "cookie", "signature", "assertion",
}

// isSecretName reports whether a key names a secret. A SCIM attribute
// path is judged by its last segment: "urn:...:User:password" and
// "name.password" are secrets.
func isSecretName(name string) bool {
	n := strings.ToLower(name)
	if i := strings.LastIndexAny(n, ":."); i >= 0 && i < len(n)-1 {
		n = n[i+1:]
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// traceBody renders a captured body for the trace: the JSON document with
// every secret replaced, cut to maxBytes. A body that is not one complete
// JSON document is not shown, only its size.
func traceBody(c *capture, maxBytes int) string {
	if c == nil || c.total == 0 {
		return ""
	}
	if maxBytes <= 0 {
		return fmt.Sprintf("[%d bytes, not logged: trace.max_body_bytes is 0]", c.total)
	}
	if !c.complete() {
		return fmt.Sprintf("[%d bytes, not logged: larger than %d bytes]", c.total, c.limit)
	}
	out, ok := redactJSON(c.buf.Bytes())
	if !ok {
		return fmt.Sprintf("[%d bytes, not logged: not JSON]", c.total)
	}
	if len(out) > maxBytes {
		return clip(string(out), maxBytes) + fmt.Sprintf(" [cut: %d bytes redacted]", len(out))
	}
	return string(out)
}

// redactJSON parses one JSON document and returns it with every secret
// value replaced, or false when data is not exactly one JSON document.
func redactJSON(data []byte) ([]byte, bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(redactValue(v)); err != nil {
		return nil, false
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), true
}

// redactValue replaces secret members of objects, recursively. A SCIM PATCH
// operation ({"op", "path", "value"}) whose path names a secret has its
// value replaced too.
func redactValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		secretPath := false
		for k, val := range x {
			if p, ok := val.(string); ok && strings.EqualFold(k, "path") && isSecretName(p) {
				secretPath = true
			}
		}
		out := make(map[string]any, len(x))
		for k, val := range x {
			if isSecretName(k) || secretPath && strings.EqualFold(k, "value") {
				out[k] = redacted
				continue
			}
			out[k] = redactValue(val)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = redactValue(e)
		}
		return out
	}
	return v
}

// redactQuery returns the query with the values of secret-named
// parameters replaced. An unparsable query is not shown.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "[unparsable query, not logged]"
	}
	for k, vs := range q {
		if isSecretName(k) {
			for i := range vs {
				vs[i] = redacted
			}
		}
	}
	return clip(q.Encode(), 2048)
}

// redactHeaders returns the request headers with the values of
// credentials (Authorization, cookies, signatures, anything secret-named)
// replaced.
func redactHeaders(h http.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, vs := range h {
		if isSecretName(k) {
			out[k] = redacted
			continue
		}
		out[k] = clip(strings.Join(vs, ", "), 512)
	}
	return out
}

// tenantNames lists the configured tenants' names.
func tenantNames(cfg *config.Config) []string {
	names := make([]string, 0, len(cfg.Tenants))
	for _, t := range cfg.Tenants {
		names = append(names, t.Name)
	}
	return names
}
