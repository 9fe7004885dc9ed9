package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// meter sits in front of the emulator: it counts every API call by kind and
// status (the emulator's own request log keeps only the last 100,000), and
// timestamps the moment a created user became visible: when the emulator's
// handler for POST /rest/api/2/user returned 201 (the directory is changed
// under the emulator's lock before the answer is written).
type meter struct {
	next http.Handler

	mu     sync.Mutex
	counts map[callKey]int
	// created, if set, is told the username and time of each 201 create.
	created func(name string, at time.Time)

	lastWrite atomic.Int64 // UnixNano of the last successful mutating call

	// Gaps between consecutive call arrivals longer than idleGap: time in
	// which the bridge sent nothing (waiting on a Retry-After pause, on its
	// store, or on the IdP's pushes).
	lastArrival atomic.Int64
	idleNanos   atomic.Int64
	idleGaps    atomic.Int64
}

// idleGap is the shortest silence counted as idle: 100 calls' worth at
// 1000/s.
const idleGap = 100 * time.Millisecond

type callKey struct {
	kind   string
	status int
}

func newMeter(next http.Handler) *meter {
	return &meter{next: next, counts: map[callKey]int{}}
}

const userPath = "/rest/api/2/user"

func (m *meter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_emulator") {
		m.next.ServeHTTP(w, r)
		return
	}
	arrived := time.Now().UnixNano()
	if prev := m.lastArrival.Swap(arrived); prev != 0 && arrived-prev > int64(idleGap) {
		m.idleNanos.Add(arrived - prev)
		m.idleGaps.Add(1)
	}
	var name string
	if r.Method == http.MethodPost && r.URL.Path == userPath && r.Body != nil {
		// The body is small (one user); read it to learn the username and
		// hand the emulator an identical copy.
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err == nil {
			var u struct{ Name string }
			_ = json.Unmarshal(b, &u)
			name = u.Name
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
	}
	sw := &statusWriter{ResponseWriter: w}
	m.next.ServeHTTP(sw, r)
	now := time.Now()
	status := sw.status
	if status == 0 {
		status = http.StatusOK
	}
	if status < 300 && r.Method != http.MethodGet {
		m.lastWrite.Store(now.UnixNano())
	}
	m.mu.Lock()
	m.counts[callKey{kind: kindOf(r), status: status}]++
	created := m.created
	m.mu.Unlock()
	if created != nil && name != "" && status == http.StatusCreated {
		created(name, now)
	}
}

// onCreated sets (or, with nil, clears) the create hook.
func (m *meter) onCreated(fn func(name string, at time.Time)) {
	m.mu.Lock()
	m.created = fn
	m.mu.Unlock()
}

// kindOf names the Atlassian call.
func kindOf(r *http.Request) string {
	p := strings.TrimSuffix(r.URL.Path, "/")
	switch {
	case p == userPath && r.Method == http.MethodPost:
		return "user create"
	case p == userPath && r.Method == http.MethodPut:
		return "user update"
	case p == userPath && r.Method == http.MethodGet:
		return "user lookup"
	case p == "/rest/api/2/group" && r.Method == http.MethodPost:
		return "group create"
	case p == "/rest/api/2/group/user" && r.Method == http.MethodPost:
		return "member add"
	case p == "/rest/api/2/group/user" && r.Method == http.MethodDelete:
		return "member remove"
	}
	return r.Method + " " + p
}

// snapshot is the call counts so far.
func (m *meter) snapshot() callCounts {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := callCounts{}
	for k, n := range m.counts {
		c[k] = n
	}
	return c
}

func (m *meter) reset() {
	m.mu.Lock()
	m.counts = map[callKey]int{}
	m.mu.Unlock()
	m.lastArrival.Store(time.Now().UnixNano())
	m.idleNanos.Store(0)
	m.idleGaps.Store(0)
}

// idle is the silence so far: how many gaps longer than idleGap, and their total.
func (m *meter) idle() (int, time.Duration) {
	return int(m.idleGaps.Load()), time.Duration(m.idleNanos.Load())
}

// callCounts are calls by kind and status.
type callCounts map[callKey]int

func (c callCounts) total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// count is the calls of one status class: "2xx", "429" or "other".
func (c callCounts) count(class string) int {
	n := 0
	for k, v := range c {
		if statusClass(k.status) == class {
			n += v
		}
	}
	return n
}

func statusClass(s int) string {
	switch {
	case s >= 200 && s < 300:
		return "2xx"
	case s == http.StatusTooManyRequests:
		return "429"
	}
	return "other"
}

// rows lists "kind status: n", most frequent first.
func (c callCounts) rows() []string {
	type row struct {
		k callKey
		n int
	}
	var rs []row
	for k, n := range c {
		rs = append(rs, row{k, n})
	}
	sort.Slice(rs, func(i, j int) bool {
		if rs[i].n != rs[j].n {
			return rs[i].n > rs[j].n
		}
		return rs[i].k.kind < rs[j].k.kind
	})
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.k.kind + " " + itoa(r.k.status) + ": " + itoa(r.n)
	}
	return out
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets the emulator's dropped-connection fault reach the connection.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
