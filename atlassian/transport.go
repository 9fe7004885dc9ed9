package atlassian

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Defaults applied by NewTransport to zero-valued options.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultMaxRetries    = 4
	DefaultMinBackoff    = 250 * time.Millisecond
	DefaultMaxBackoff    = 30 * time.Second
	DefaultMaxRetryAfter = 5 * time.Minute
	DefaultUserAgent     = "scimbridge-atlassian-client"
)

// maxResponseBody bounds how much of an answer is read; a /user/list page of 2000 users is
// well under 2 MiB.
const maxResponseBody = 32 << 20

// ErrorDecoder turns a non-2xx answer into an *Error. Product clients install one that reads
// their error body (Jira errorMessages/errors, Crowd reason/message). It may return nil to fall
// back to KindForStatus. The transport fills in Op, Status, RequestID and RetryAfter afterwards.
type ErrorDecoder func(status int, header http.Header, body []byte) *Error

// TransportOptions configures NewTransport. Zero values pick the defaults above.
type TransportOptions struct {
	// BaseURL is the product's base URL including any context path, e.g.
	// "https://jira.example.com/jira". It must not carry credentials.
	BaseURL string
	// Auth is required: BearerToken (Jira/Confluence PAT) or BasicAuth (user or Crowd application).
	Auth Auth
	// RatePerSecond limits requests sent by this transport; 0 means no client-side limit
	// (a limit the server advertises in X-RateLimit-* headers is still honoured).
	RatePerSecond float64
	// Burst is the limiter's bucket size; 0 means 1 when RatePerSecond is set.
	Burst int
	// Timeout bounds one attempt (connect, send, read the whole answer).
	Timeout time.Duration
	// MaxRetries is the number of retries after the first attempt; negative disables retries.
	MaxRetries int
	// MinBackoff is the ceiling of the first retry's jittered wait; it doubles per retry.
	MinBackoff time.Duration
	// MaxBackoff caps the backoff ceiling.
	MaxBackoff time.Duration
	// MaxRetryAfter is the longest server-requested wait the transport sits out itself; a longer
	// Retry-After is returned to the caller as a RateLimited/Transient *Error with RetryAfter set.
	MaxRetryAfter time.Duration
	// Logger receives one debug line per attempt and a warning per retry; nil discards.
	Logger *slog.Logger
	// UserAgent is sent on every request.
	UserAgent string
	// HTTPClient sends the requests; nil uses a client with its own http.Transport.
	// Its Timeout should be zero: Timeout above applies per attempt. Redirects are not followed
	// (a 3xx is returned as an *Error) unless the client sets its own CheckRedirect.
	HTTPClient *http.Client
	// Jitter picks the actual wait in [0, ceiling]; nil means uniformly random ("full jitter").
	// Tests set it to make the backoff sequence deterministic.
	Jitter func(ceiling time.Duration) time.Duration
	// DecodeError reads product error bodies; set by the product clients.
	DecodeError ErrorDecoder
}

// Request is one logical API call; Do may send it several times.
type Request struct {
	Method string
	// Path is relative to the base URL, e.g. "/rest/api/2/user".
	Path  string
	Query url.Values
	// Body, when non-nil, is sent as JSON.
	Body any
	// RetrySafe marks a POST whose repetition is harmless (the caller treats the "already
	// done" answer as success). GET, HEAD, PUT and DELETE are always retry-safe.
	RetrySafe bool
	// Secrets are values in Body the server must not be able to echo into an *Error (a new user's
	// password): they are redacted from the answer's messages like the transport's credentials.
	Secrets []string
}

func (r Request) retrySafe() bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodDelete, http.MethodOptions:
		return true
	}
	return r.RetrySafe
}

// Response is a successful (2xx) answer.
type Response struct {
	Status    int
	Header    http.Header
	Body      []byte
	RequestID string
	// Attempts is how many times the request was sent.
	Attempts int
}

// Transport sends requests to one Atlassian server: client-side rate limit, retries with
// exponential backoff and full jitter, Retry-After and X-RateLimit-* honoured, per-attempt
// timeout, a request id in every log line. It is safe for concurrent use.
type Transport struct {
	base          *url.URL
	auth          Auth
	client        *http.Client
	timeout       time.Duration
	maxRetries    int
	minBackoff    time.Duration
	maxBackoff    time.Duration
	maxRetryAfter time.Duration
	userAgent     string
	jitter        func(time.Duration) time.Duration
	decode        ErrorDecoder
	log           *slog.Logger

	cfgLimit rate.Limit
	cfgBurst int

	mu         sync.Mutex
	limiter    *rate.Limiter
	pauseUntil time.Time // set by 429 / exhausted X-RateLimit-Remaining; shared by all calls
}

// NewTransport validates opts and returns a Transport.
func NewTransport(opts TransportOptions) (*Transport, error) {
	if opts.BaseURL == "" {
		return nil, errors.New("atlassian transport: BaseURL is required")
	}
	base, err := url.Parse(opts.BaseURL)
	if err != nil {
		// url.Parse's error quotes the input, which could hold a password: do not wrap it.
		return nil, errors.New("atlassian transport: BaseURL is not a valid URL")
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, errors.New("atlassian transport: BaseURL must be an absolute http(s) URL")
	}
	if base.User != nil {
		return nil, errors.New("atlassian transport: BaseURL must not contain credentials; use Auth")
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, errors.New("atlassian transport: BaseURL must not have a query or fragment")
	}
	if err := opts.Auth.validate(); err != nil {
		return nil, fmt.Errorf("atlassian transport: %w", err)
	}
	if opts.RatePerSecond < 0 || opts.Burst < 0 || opts.Timeout < 0 || opts.MinBackoff < 0 ||
		opts.MaxBackoff < 0 || opts.MaxRetryAfter < 0 {
		return nil, errors.New("atlassian transport: rate, burst, timeout and backoff options must not be negative")
	}
	t := &Transport{
		base:          base,
		auth:          opts.Auth,
		client:        opts.HTTPClient,
		timeout:       cmpOr(opts.Timeout, DefaultTimeout),
		maxRetries:    opts.MaxRetries,
		minBackoff:    cmpOr(opts.MinBackoff, DefaultMinBackoff),
		maxBackoff:    cmpOr(opts.MaxBackoff, DefaultMaxBackoff),
		maxRetryAfter: cmpOr(opts.MaxRetryAfter, DefaultMaxRetryAfter),
		userAgent:     cmpOr(opts.UserAgent, DefaultUserAgent),
		jitter:        opts.Jitter,
		decode:        opts.DecodeError,
		log:           opts.Logger,
		cfgLimit:      rate.Inf,
	}
	if t.client == nil {
		t.client = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone(), CheckRedirect: noRedirects}
	} else if t.client.CheckRedirect == nil {
		// A copy, so the caller's client keeps its own policy elsewhere.
		c := *t.client
		c.CheckRedirect = noRedirects
		t.client = &c
	}
	switch {
	case opts.MaxRetries == 0:
		t.maxRetries = DefaultMaxRetries
	case opts.MaxRetries < 0:
		t.maxRetries = 0
	}
	if t.minBackoff > t.maxBackoff {
		t.minBackoff = t.maxBackoff
	}
	if t.jitter == nil {
		t.jitter = fullJitter
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if opts.RatePerSecond > 0 {
		t.cfgLimit = rate.Limit(opts.RatePerSecond)
		t.cfgBurst = max(opts.Burst, 1)
	}
	t.limiter = rate.NewLimiter(t.cfgLimit, t.cfgBurst)
	return t, nil
}

// noRedirects makes the client hand a 3xx back instead of following it. net/http turns a redirected
// PUT, POST or DELETE into a GET, so a write redirected to a login page (an SSO filter, a proxy,
// http->https) would come back as 200 and read as success with nothing changed.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func fullJitter(ceiling time.Duration) time.Duration {
	if ceiling <= 0 {
		return 0
	}
	return mrand.N(ceiling + 1)
}

// Do sends req, retrying as described on Transport, and returns the 2xx answer or an error:
// an *Error for an HTTP failure or a given-up retry, or the context's error (wrapped) when ctx
// ends first.
func (t *Transport) Do(ctx context.Context, req Request) (*Response, error) {
	op := req.Method + " " + req.Path
	id := newRequestID()
	var payload []byte
	if req.Body != nil {
		b, err := json.Marshal(req.Body)
		if err != nil {
			return nil, &Error{Kind: Invalid, Op: op, RequestID: id, Err: fmt.Errorf("encode request body: %w", err)}
		}
		payload = b
	}
	target := t.url(req)
	log := t.log.With("request_id", id, "method", req.Method, "path", req.Path)
	for attempt := 1; ; attempt++ {
		if err := t.waitTurn(ctx); err != nil {
			return nil, fmt.Errorf("atlassian: %s: %w", op, err)
		}
		start := time.Now()
		resp, err := t.send(ctx, req.Method, target, payload, id)
		if err != nil && ctx.Err() != nil {
			return nil, fmt.Errorf("atlassian: %s: %w", op, ctx.Err())
		}
		var e *Error
		dialFailed := false
		if err != nil {
			dialFailed = isDialError(err)
			e = &Error{Kind: Transient, Op: op, RequestID: id, Err: err}
			log.Debug("atlassian request", "attempt", attempt, "error", err.Error(), "duration", time.Since(start))
		} else {
			t.observe(resp.Header, resp.Status)
			log.Debug("atlassian request", "attempt", attempt, "status", resp.Status,
				"duration", time.Since(start), "server_request_id", resp.Header.Get("X-AREQUESTID"))
			if resp.Status >= 200 && resp.Status < 300 {
				resp.RequestID = id
				resp.Attempts = attempt
				return resp, nil
			}
			e = t.httpError(op, id, resp, req.Secrets)
		}
		wait, retry := t.retryWait(e, attempt-1, req.retrySafe() || dialFailed)
		if !retry {
			return nil, e
		}
		cause := e.Kind.String()
		if e.Status != 0 {
			cause = fmt.Sprintf("HTTP %d", e.Status)
		}
		log.Warn("atlassian request retry", "attempt", attempt, "cause", cause, "wait", wait)
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("atlassian: %s: %w", op, err)
		}
	}
}

// DoJSON is Do followed by decoding a non-empty answer body into out (when out is non-nil).
func (t *Transport) DoJSON(ctx context.Context, req Request, out any) (*Response, error) {
	resp, err := t.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if out != nil && len(bytes.TrimSpace(resp.Body)) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return resp, &Error{Kind: Other, Op: req.Method + " " + req.Path, Status: resp.Status,
				RequestID: resp.RequestID, Err: fmt.Errorf("decode answer: %w", err)}
		}
	}
	return resp, nil
}

func (t *Transport) url(req Request) string {
	u := *t.base
	u.Path = strings.TrimSuffix(u.Path, "/") + req.Path
	u.RawPath = ""
	u.RawQuery = req.Query.Encode()
	return u.String()
}

// send makes one attempt. The error is a transport failure (no complete answer).
func (t *Transport) send(ctx context.Context, method, target string, payload []byte, id string) (*Response, error) {
	actx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	hreq, err := http.NewRequestWithContext(actx, method, target, body)
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Accept", "application/json")
	if payload != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	hreq.Header.Set("User-Agent", t.userAgent)
	hreq.Header.Set("X-Request-Id", id)
	t.auth.apply(hreq)
	hresp, err := t.client.Do(hreq)
	if err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("no answer within %s: %w", t.timeout, err)
		}
		return nil, err
	}
	defer hresp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBody+1))
	if err != nil {
		return nil, fmt.Errorf("read answer (HTTP %d): %w", hresp.StatusCode, err)
	}
	if len(b) > maxResponseBody {
		return nil, fmt.Errorf("answer larger than %d bytes", maxResponseBody)
	}
	return &Response{Status: hresp.StatusCode, Header: hresp.Header, Body: b}, nil
}

func (t *Transport) httpError(op, id string, resp *Response, secrets []string) *Error {
	var e *Error
	if t.decode != nil {
		e = t.decode(resp.Status, resp.Header, resp.Body)
	}
	if e == nil {
		e = &Error{Kind: KindForStatus(resp.Status)}
	}
	e.Op, e.Status, e.RequestID = op, resp.Status, id
	if resp.Status >= 300 && resp.Status < 400 {
		e.Messages = append([]string{redirectMessage(resp.Header.Get("Location"))}, e.Messages...)
	}
	// Whatever the server wrote is quoted in the error: a proxy may have echoed our credentials.
	redact := func(s string) string {
		s = t.auth.redact(s)
		for _, secret := range secrets {
			if secret != "" {
				s = strings.ReplaceAll(s, secret, redactedSecret)
			}
		}
		return s
	}
	e.Code = redact(e.Code)
	for i, m := range e.Messages {
		e.Messages[i] = redact(m)
	}
	for k, v := range e.Fields {
		e.Fields[k] = redact(v)
	}
	if resp.Status == http.StatusTooManyRequests || resp.Status >= 500 {
		e.RetryAfter = rateLimitWait(resp.Header, resp.Status, time.Now())
	}
	return e
}

// redirectMessage names where a 3xx pointed, without query or user info (a login redirect may carry
// a ticket), so that a wrong BaseURL or an SSO filter in front of REST is easy to spot.
func redirectMessage(location string) string {
	const msg = "the server answered with a redirect, which is not followed (check BaseURL, or a login filter in front of REST)"
	u, err := url.Parse(location)
	if err != nil || location == "" {
		return msg
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return msg + ": " + u.String()
}

// retryWait decides whether to retry after e (retry is 0 for the first retry) and how long to wait.
//
// 429 is retried for every method. Guess (§6.1 [I]): Jira and Confluence answer 429 from their
// rate-limit filter (a token bucket in front of REST) before the request runs, so repeating it
// cannot apply a change twice.
// 502/503/504 and connection failures are retried only for retry-safe requests, except a failed
// dial, which never reached the server.
func (t *Transport) retryWait(e *Error, retry int, retrySafe bool) (time.Duration, bool) {
	if retry >= t.maxRetries {
		return 0, false
	}
	switch e.Status {
	case http.StatusTooManyRequests:
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		if !retrySafe {
			return 0, false
		}
	case 0:
		if e.Kind != Transient || !retrySafe {
			return 0, false
		}
	default:
		return 0, false
	}
	if e.RetryAfter > 0 {
		if e.RetryAfter > t.maxRetryAfter {
			return 0, false
		}
		return e.RetryAfter, true
	}
	return t.backoff(retry), true
}

// backoff is full jitter over an exponentially growing ceiling: min(MaxBackoff, MinBackoff*2^retry).
func (t *Transport) backoff(retry int) time.Duration {
	ceiling := t.minBackoff
	for i := 0; i < retry && ceiling < t.maxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, t.maxBackoff)
	return min(max(t.jitter(ceiling), 0), ceiling)
}

// Below the server's advertised limits (doc §6.1), so that timing jitter cannot provoke 429s.
const (
	// serverRateShare is the share of X-RateLimit-FillRate the client sends at. A client sending at
	// exactly the server's rate drains the server's bucket and keeps it empty: every request that
	// arrives a little early (a scheduler stall, two answers bunched on the network) is refused.
	// 5% less refills the server's bucket between such bunches.
	serverRateShare = 0.95
	// serverBurstShare bounds the client's burst to this share of X-RateLimit-Limit, so requests
	// released together after a stall still find tokens in the server's bucket.
	serverBurstShare = 4
)

// observe applies the server's rate-limit headers (doc §6.1): the advertised fill rate and bucket
// size cap the client-side limiter (kept below both, see serverRateShare), and an exhausted bucket
// pauses every call until the server has a token again.
func (t *Transport) observe(h http.Header, status int) {
	fill, okFill := headerFloat(h, "X-RateLimit-FillRate")
	interval, okInterval := headerFloat(h, "X-RateLimit-Interval-Seconds")
	if okFill && okInterval && fill > 0 && interval > 0 {
		burst := t.cfgBurst
		if size, ok := headerFloat(h, "X-RateLimit-Limit"); ok && size >= 1 {
			if most := max(int(math.Min(size, math.MaxInt32))/serverBurstShare, 1); burst == 0 || most < burst {
				burst = most
			}
		}
		t.adapt(min(t.cfgLimit, rate.Limit(serverRateShare*fill/interval)), max(burst, 1))
	}
	remaining, okRemaining := headerFloat(h, "X-RateLimit-Remaining")
	exhausted := okRemaining && remaining < 1
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable || exhausted {
		if wait := rateLimitWait(h, status, time.Now()); wait > 0 {
			t.pause(min(wait, t.maxRetryAfter))
		}
	}
}

// rateLimitWait is serverWait, shortened for a 429 from a token bucket that advertises its fill
// rate. Retry-After counts whole seconds ("seconds until new tokens", doc §6.1), so Jira DC and
// the emulator answer at least 1 while the next token may be a millisecond away; at 1000
// requests/s, sitting out that second costs a thousand calls for every 429. The bucket refills one
// token in X-RateLimit-Interval-Seconds / X-RateLimit-FillRate, which bounds the wait for the
// token the refused request lacked.
//
// Guess (doc §6.1 [V] headers, [U] semantics of an early retry on DC): a request sent after that
// refill time finds a token; if it does not (another client took it), it is refused again and
// waits again, without any penalty on Data Center. Jira Cloud, where "retrying early extends it",
// does not send X-RateLimit-FillRate, so its Retry-After is kept as is.
func rateLimitWait(h http.Header, status int, now time.Time) time.Duration {
	wait := serverWait(h, status, now)
	if status != http.StatusTooManyRequests || wait <= 0 {
		return wait
	}
	fill, okFill := headerFloat(h, "X-RateLimit-FillRate")
	interval, okInterval := headerFloat(h, "X-RateLimit-Interval-Seconds")
	if !okFill || !okInterval || fill <= 0 || interval <= 0 {
		return wait
	}
	return min(wait, secondsToDuration(interval/fill))
}

func (t *Transport) adapt(limit rate.Limit, burst int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	cur := t.limiter.Limit()
	if cur == limit && t.limiter.Burst() == burst {
		return
	}
	if cur == rate.Inf {
		// An unlimited limiter's token count is meaningless; start a full bucket instead.
		t.limiter = rate.NewLimiter(limit, burst)
		return
	}
	t.limiter.SetBurst(burst)
	t.limiter.SetLimit(limit)
}

func (t *Transport) pause(d time.Duration) {
	until := time.Now().Add(d)
	t.mu.Lock()
	if until.After(t.pauseUntil) {
		t.pauseUntil = until
	}
	t.mu.Unlock()
}

// waitTurn blocks until a server-requested pause is over and the limiter grants a token.
func (t *Transport) waitTurn(ctx context.Context) error {
	t.mu.Lock()
	until, lim := t.pauseUntil, t.limiter
	t.mu.Unlock()
	if d := time.Until(until); d > 0 {
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
	if err := lim.Wait(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, ok := ctx.Deadline(); ok {
			// rate.Limiter refuses at once when the token would come after ctx's deadline; its
			// error does not wrap context.DeadlineExceeded, which is what callers test for.
			return fmt.Errorf("client rate limit: %v: %w", err, context.DeadlineExceeded)
		}
		return fmt.Errorf("client rate limit: %w", err)
	}
	return nil
}

// sleep waits d or until ctx ends, whichever is first.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func isDialError(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}
