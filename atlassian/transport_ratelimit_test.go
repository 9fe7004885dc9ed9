package atlassian_test

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
)

// tokenBucket answers like Jira DC's rate limiter (atlassian-api.md 6.1) and the emulator: a
// bucket of size tokens refilled at rate per second, 429 with a whole-second Retry-After when it
// is empty, the X-RateLimit-* headers on every answer. Every delayEvery-th request waits delay
// before it reaches the bucket, the way a scheduler stall or a slow network bunches requests the
// client sent evenly.
type tokenBucket struct {
	rate, size float64
	delayEvery int
	delay      time.Duration

	mu       sync.Mutex
	tokens   float64
	last     time.Time
	arrivals int
	ok, r429 atomic.Int64
}

func newTokenBucket(rate float64, size int) *tokenBucket {
	return &tokenBucket{rate: rate, size: float64(size), tokens: float64(size), last: time.Now()}
}

func (b *tokenBucket) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	b.arrivals++
	var delay time.Duration
	if b.delayEvery > 0 && b.arrivals%b.delayEvery == 0 {
		// 1x to 4x delay, varying, so delayed requests overtake each other too.
		delay = b.delay * time.Duration(1+b.arrivals/b.delayEvery%4)
	}
	b.mu.Unlock()
	time.Sleep(delay)
	b.mu.Lock()
	now := time.Now()
	b.tokens = math.Min(b.size, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	admitted := b.tokens >= 1
	retry := 0
	if admitted {
		b.tokens--
	} else {
		retry = max(1, int(math.Ceil((1-b.tokens)/b.rate)))
	}
	remaining := int(b.tokens)
	b.mu.Unlock()
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(int(b.size)))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Interval-Seconds", "1")
	h.Set("X-RateLimit-FillRate", strconv.Itoa(int(b.rate)))
	h.Set("Retry-After", strconv.Itoa(retry))
	if !admitted {
		b.r429.Add(1)
		w.WriteHeader(http.StatusTooManyRequests)
		return
	}
	b.ok.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

// A client configured with exactly the server's rate and bucket size (what an admin copying
// Jira's "Requests allowed" and "Max requests" does) must not run into a 429 storm when requests
// arrive bunched: it keeps under the advertised rate and well under the advertised bucket.
func TestClientWithServersRateAndBurstMakesNo429Storm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := newTokenBucket(100, 10)
		b.delayEvery, b.delay = 5, 10*time.Millisecond
		p, stop := startPipeNet(t, b)
		defer stop()
		tr, err := atlassian.NewTransport(atlassian.TransportOptions{BaseURL: "http://jira.test",
			Auth: atlassian.BearerToken(testToken), HTTPClient: p.client, RatePerSecond: 100, Burst: 10})
		if err != nil {
			t.Fatal(err)
		}
		const calls, workers = 400, 16
		var next atomic.Int64
		var wg sync.WaitGroup
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for next.Add(1) <= calls {
					if _, err := tr.Do(t.Context(), getUser); err != nil {
						t.Error(err)
						return
					}
					if k := next.Load(); k%13 == 0 {
						time.Sleep(time.Duration(k%40) * time.Millisecond)
					}
				}
			})
		}
		wg.Wait()
		took := time.Since(start)
		if n := b.r429.Load(); n > 0 {
			t.Errorf("%d answers were 429, want none", n)
		}
		// 400 calls at 95 per second, plus the last delayed arrival.
		rate := 95.0
		if most := time.Duration(calls/rate*float64(time.Second)) + 100*time.Millisecond; took > most {
			t.Errorf("%d calls took %v, want at most %v", calls, took, most)
		}
		if b.ok.Load() != calls {
			t.Errorf("%d calls admitted, want %d", b.ok.Load(), calls)
		}
	})
}

// Retry-After is in whole seconds; the refill time of one token is what a refused request lacks.
func TestTooManyRequestsWaitsForOneTokenNotAWholeSecond(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"fill rate advertised", map[string]string{"Retry-After": "1", "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0",
			"X-RateLimit-FillRate": "1000", "X-RateLimit-Interval-Seconds": "1"}, time.Millisecond},
		{"slow bucket: Retry-After is shorter", map[string]string{"Retry-After": "2", "X-RateLimit-Limit": "10",
			"X-RateLimit-Remaining": "0", "X-RateLimit-FillRate": "1", "X-RateLimit-Interval-Seconds": "5"}, 2 * time.Second},
		{"interval of 10 s", map[string]string{"Retry-After": "1", "X-RateLimit-Remaining": "0",
			"X-RateLimit-FillRate": "100", "X-RateLimit-Interval-Seconds": "10"}, 100 * time.Millisecond},
		{"no fill rate: Retry-After as sent", map[string]string{"Retry-After": "1", "X-RateLimit-Remaining": "0"}, time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			steps := []step{{status: 429, header: tc.header}, {status: 200}}
			withServer(t, steps, atlassian.TransportOptions{}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
				if _, err := tr.Do(t.Context(), getUser); err != nil {
					t.Fatal(err)
				}
				if g := s.gaps(); len(g) != 1 || g[0] != tc.want {
					t.Errorf("gaps = %v, want [%v]", g, tc.want)
				}
			})
		})
	}
}

// A 429 pauses the other calls of the target only until the refused token is back, not for
// the whole second of Retry-After.
func TestTooManyRequestsPausesOtherCallsBriefly(t *testing.T) {
	steps := []step{
		{status: 429, header: map[string]string{"Retry-After": "1", "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0",
			"X-RateLimit-FillRate": "500", "X-RateLimit-Interval-Seconds": "1"}},
		{status: 200},
	}
	withServer(t, steps, atlassian.TransportOptions{MaxRetries: -1}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
		if _, err := tr.Do(t.Context(), getUser); atlassian.KindOf(err) != atlassian.RateLimited {
			t.Fatalf("err = %v, want RateLimited", err)
		}
		start := time.Now()
		if _, err := tr.Do(t.Context(), getUser); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d != 2*time.Millisecond {
			t.Errorf("the next call waited %v, want 2ms (one token at 500/s)", d)
		}
	})
}

// The limiter follows the advertised bucket: at most a quarter of X-RateLimit-Limit (at least
// 1) as burst, 95% of the fill rate.
func TestAdvertisedBucketBoundsClientBurst(t *testing.T) {
	tests := []struct {
		limit     string
		cfgBurst  int
		wantBurst int
	}{
		{"8", 10, 2},
		{"100", 10, 10}, // the configured burst is already below a quarter
		{"3", 10, 1},
		{"8", 1, 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("limit %s burst %d", tc.limit, tc.cfgBurst), func(t *testing.T) {
			steps := []step{{status: 200, header: map[string]string{"X-RateLimit-Limit": tc.limit, "X-RateLimit-Remaining": "5",
				"X-RateLimit-FillRate": "100", "X-RateLimit-Interval-Seconds": "1", "Retry-After": "0"}}}
			withServer(t, steps, atlassian.TransportOptions{RatePerSecond: 100, Burst: tc.cfgBurst}, func(t *testing.T, tr *atlassian.Transport, s *script, _ *pipeNet) {
				// The first call teaches the limits; wait until its bucket is full again.
				if _, err := tr.Do(t.Context(), getUser); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Second)
				var wg sync.WaitGroup
				for range 20 {
					wg.Go(func() {
						if _, err := tr.Do(t.Context(), getUser); err != nil {
							t.Error(err)
						}
					})
				}
				wg.Wait()
				h := s.arrivals()[1:]
				at := h[0].at
				together := 0
				for _, x := range h {
					if x.at.Equal(at) {
						together++
					}
				}
				if together != tc.wantBurst {
					t.Errorf("%d calls went at once, want %d", together, tc.wantBurst)
				}
				last := h[len(h)-1].at.Sub(at)
				want := time.Duration(float64(20-tc.wantBurst) / 95 * float64(time.Second))
				if d := last - want; d < -time.Millisecond || d > time.Millisecond {
					t.Errorf("20 calls spread over %v, want %v (95/s)", last, want)
				}
			})
		})
	}
}
