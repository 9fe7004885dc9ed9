package atlassian

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxServerWait bounds parsed waits so absurd header values cannot overflow a Duration.
const maxServerWait = 24 * time.Hour

// ParseRetryAfter reads a Retry-After value: delay seconds (RFC 9110; fractions accepted) or an
// HTTP date, relative to now. It reports false for a missing or malformed value. A date in the
// past gives 0.
func ParseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) {
			return 0, false
		}
		return secondsToDuration(secs), true
	}
	when, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return clampWait(when.Sub(now)), true
}

// serverWait is how long the server asked us to wait before the next request: Retry-After first,
// then Jira Cloud's X-RateLimit-Reset (doc §6.2), then — for a 429 without either — the time the
// advertised bucket needs to refill one token (X-RateLimit-Interval-Seconds / X-RateLimit-FillRate,
// doc §6.1).
func serverWait(h http.Header, status int, now time.Time) time.Duration {
	if d, ok := ParseRetryAfter(h.Get("Retry-After"), now); ok {
		return d
	}
	if reset := strings.TrimSpace(h.Get("X-RateLimit-Reset")); reset != "" {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00", "2006-01-02T15:04Z"} {
			if when, err := time.Parse(layout, reset); err == nil {
				return clampWait(when.Sub(now))
			}
		}
	}
	if status == http.StatusTooManyRequests {
		fill, okFill := headerFloat(h, "X-RateLimit-FillRate")
		interval, okInterval := headerFloat(h, "X-RateLimit-Interval-Seconds")
		if okFill && okInterval && fill > 0 && interval > 0 {
			return secondsToDuration(interval / fill)
		}
	}
	return 0
}

func headerFloat(h http.Header, name string) (float64, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func secondsToDuration(secs float64) time.Duration {
	if secs >= maxServerWait.Seconds() {
		return maxServerWait
	}
	return time.Duration(secs * float64(time.Second))
}

func clampWait(d time.Duration) time.Duration {
	return min(max(d, 0), maxServerWait)
}
