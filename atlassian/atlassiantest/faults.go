package atlassiantest

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults configures fault injection on the Jira and Crowd faces (never on /_emulator/). A field
// left out or zero is off.
type Faults struct {
	// ErrorRate is the probability (0..1) that a request is answered with ErrorStatus instead.
	ErrorRate float64 `json:"error_rate"`
	// ErrorStatus is the status of injected errors, 400..599; 0 means 503.
	ErrorStatus int `json:"error_status"`
	// LatencyMS delays every request by this many milliseconds, before any lock is taken.
	LatencyMS int `json:"latency_ms"`
	// RateLimitPerSecond switches on a token bucket refilled at this rate that answers 429 with
	// Retry-After and the X-RateLimit-* headers of Jira DC (atlassian-api.md 6.1). As on Jira DC,
	// only authenticated requests draw tokens: refused logins and anonymous calls do not.
	RateLimitPerSecond float64 `json:"rate_limit_per_second"`
	// Burst is the bucket size (X-RateLimit-Limit); 0 means max(1, ceil(RateLimitPerSecond)).
	Burst int `json:"burst"`
	// DropRate is the probability (0..1) that the connection is closed without an answer.
	DropRate float64 `json:"drop_rate"`
	// StartEmpty starts the rate-limit bucket with no tokens, as after another client's burst, so
	// the first call is refused whatever the client's own pacing: a deterministic 429.
	StartEmpty bool `json:"start_empty"`
	// ReadOnlyDirectory makes the user directory read-only, like an LDAP directory in "Read only"
	// mode (atlassian-api.md 7.4): every change to users, groups and memberships is refused, reads
	// still work.
	ReadOnlyDirectory bool `json:"read_only_directory"`
}

// maxLatencyMS caps injected latency so a typo cannot hang a test run.
const maxLatencyMS = 60_000

// validate reports a configuration that the control surface refuses with 400.
func (f Faults) validate() error {
	switch {
	case math.IsNaN(f.ErrorRate) || f.ErrorRate < 0 || f.ErrorRate > 1:
		return fmt.Errorf("error_rate %v: must be between 0 and 1", f.ErrorRate)
	case math.IsNaN(f.DropRate) || f.DropRate < 0 || f.DropRate > 1:
		return fmt.Errorf("drop_rate %v: must be between 0 and 1", f.DropRate)
	case f.ErrorStatus != 0 && (f.ErrorStatus < 400 || f.ErrorStatus > 599):
		return fmt.Errorf("error_status %d: must be 0 (503) or 400..599", f.ErrorStatus)
	case f.LatencyMS < 0 || f.LatencyMS > maxLatencyMS:
		return fmt.Errorf("latency_ms %d: must be between 0 and %d", f.LatencyMS, maxLatencyMS)
	case math.IsNaN(f.RateLimitPerSecond) || math.IsInf(f.RateLimitPerSecond, 0) || f.RateLimitPerSecond < 0:
		return fmt.Errorf("rate_limit_per_second %v: must be 0 (off) or more", f.RateLimitPerSecond)
	case f.Burst < 0:
		return fmt.Errorf("burst %d: must be 0 (default) or more", f.Burst)
	}
	return nil
}

// normalize clamps out-of-range values the way SetFaults documents.
func (f Faults) normalize() Faults {
	clamp := func(x float64) float64 {
		if math.IsNaN(x) || x < 0 {
			return 0
		}
		return math.Min(x, 1)
	}
	f.ErrorRate = clamp(f.ErrorRate)
	f.DropRate = clamp(f.DropRate)
	if f.ErrorStatus < 400 || f.ErrorStatus > 599 {
		f.ErrorStatus = 0
	}
	f.LatencyMS = min(max(f.LatencyMS, 0), maxLatencyMS)
	if math.IsNaN(f.RateLimitPerSecond) || math.IsInf(f.RateLimitPerSecond, 0) || f.RateLimitPerSecond < 0 {
		f.RateLimitPerSecond = 0
	}
	f.Burst = max(f.Burst, 0)
	return f
}

// SetFaults replaces the fault configuration. Out-of-range values are clamped (rates to 0..1,
// latency to 0..60000 ms, a status outside 400..599 to 503); the zero Faults switches everything
// off. The rate-limit bucket starts full unless StartEmpty is set.
func (e *Emulator) SetFaults(f Faults) {
	f = f.normalize()
	if f == (Faults{}) {
		e.faults.Store(nil)
		return
	}
	fs := &faultState{cfg: f}
	if f.RateLimitPerSecond > 0 {
		fs.bucket = newBucket(f.RateLimitPerSecond, f.Burst, e.now())
		if f.StartEmpty {
			fs.bucket.tokens = 0
		}
	}
	e.faults.Store(fs)
}

// currentFaults returns the configuration in force.
func (e *Emulator) currentFaults() Faults {
	if fs := e.faults.Load(); fs != nil {
		return fs.cfg
	}
	return Faults{}
}

// readOnly reports whether the directory refuses changes (Faults.ReadOnlyDirectory).
func (e *Emulator) readOnly() bool {
	fs := e.faults.Load()
	return fs != nil && fs.cfg.ReadOnlyDirectory
}

type faultState struct {
	cfg    Faults
	bucket *bucket
}

// roll reports whether an event with probability p happens.
func (e *Emulator) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	if p >= 1 {
		return true
	}
	e.rngMu.Lock()
	x := e.rng.Float64()
	e.rngMu.Unlock()
	return x < p
}

// before applies latency, dropped connections and injected errors. It returns false when the
// request has been answered (or dropped) and must not be served.
func (fs *faultState) before(e *Emulator, w http.ResponseWriter, r *http.Request, f face) bool {
	if fs.cfg.LatencyMS > 0 {
		t := time.NewTimer(time.Duration(fs.cfg.LatencyMS) * time.Millisecond)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return false
		}
	}
	if e.roll(fs.cfg.DropRate) {
		drop(w)
		return false
	}
	if e.roll(fs.cfg.ErrorRate) {
		status := fs.cfg.ErrorStatus
		if status == 0 {
			status = http.StatusServiceUnavailable
		}
		msg := "emulator: injected fault (" + strconv.Itoa(status) + ")"
		// Guess (1.1, 3.2): injected errors carry the product's own error body; real proxies
		// in front of Jira may answer HTML instead.
		if f == faceCrowd {
			e.writeJSON(w, status, crowdErrorBody{Reason: "OPERATION_FAILED", Message: msg})
		} else {
			e.writeJSON(w, status, jiraErrors(msg))
		}
		return false
	}
	return true
}

// drop closes the connection without an answer. Without a hijackable connection (HTTP/2, a
// recorder) it aborts the handler the way net/http documents for that purpose.
func drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// bucket is the Jira DC rate limiter: a token bucket of `size` tokens refilled at `rate` tokens per
// second (atlassian-api.md 6.1). Guess (6.1 [U]): one bucket for all callers, as with one node and
// one integration user.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	size   float64
	tokens float64
	last   time.Time

	// Header values, computed once.
	limit, interval, fill string
}

func newBucket(rate float64, burst int, now time.Time) *bucket {
	size := float64(burst)
	if burst == 0 {
		size = math.Max(1, math.Ceil(rate))
	}
	// X-RateLimit-FillRate is "tokens added per interval" with a whole-second interval. Guess (6.1):
	// for rates below 1/s the interval grows and one token is added per interval.
	interval, fill := 1.0, math.Round(rate)
	if rate < 1 {
		interval, fill = math.Round(1/rate), 1
	}
	return &bucket{
		rate: rate, size: size, tokens: size, last: now,
		limit:    strconv.FormatFloat(size, 'f', 0, 64),
		interval: strconv.FormatFloat(interval, 'f', 0, 64),
		fill:     strconv.FormatFloat(math.Max(fill, 1), 'f', 0, 64),
	}
}

// admit takes a token if one is available and sets the rate-limit headers either way.
func (b *bucket) admit(h http.Header, now time.Time) bool {
	b.mu.Lock()
	if dt := now.Sub(b.last).Seconds(); dt > 0 {
		b.tokens = math.Min(b.size, b.tokens+dt*b.rate)
		b.last = now
	}
	ok := b.tokens >= 1
	retry := 0
	if ok {
		b.tokens--
	} else {
		retry = max(1, int(math.Ceil((1-b.tokens)/b.rate)))
	}
	remaining := int(b.tokens)
	b.mu.Unlock()

	h["X-Ratelimit-Limit"] = []string{b.limit}
	h["X-Ratelimit-Remaining"] = []string{strconv.Itoa(remaining)}
	h["X-Ratelimit-Interval-Seconds"] = []string{b.interval}
	h["X-Ratelimit-Fillrate"] = []string{b.fill}
	// "retry-after — seconds until new tokens; 0 when tokens remain" (atlassian-api.md 6.1).
	h["Retry-After"] = []string{strconv.Itoa(retry)}
	return ok
}

// writeRateLimited answers 429. Guess (6.1 [U]): the body of a DC 429 is not documented.
func writeRateLimited(w http.ResponseWriter) {
	body := `{"message":"Rate limit exceeded"}` + "\n"
	h := w.Header()
	h["Content-Type"] = []string{"application/json;charset=UTF-8"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusTooManyRequests)
	_, _ = w.Write([]byte(body))
}
