package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// engineStore is the SQLite store as the engine sees it, counting the
// engine's writes by method: each is one write request to the store's
// writer, most of them a commit (an fsync) the engine waits for. The
// counts do not depend on the machine's load, unlike the timings.
type engineStore struct {
	*sqlite.DB
	mu     sync.Mutex
	writes map[string]int
	jobs   int // jobs settled (SettleJobs outcomes, CompleteJob/RetryJob/ParkJob calls)
}

func newEngineStore(db *sqlite.DB) *engineStore {
	return &engineStore{DB: db, writes: map[string]int{}}
}

func (s *engineStore) count(method string, jobs int) {
	s.mu.Lock()
	s.writes[method]++
	s.jobs += jobs
	s.mu.Unlock()
}

// reset forgets the counts so far.
func (s *engineStore) reset() {
	s.mu.Lock()
	s.writes, s.jobs = map[string]int{}, 0
	s.mu.Unlock()
}

// summary is "N writes for J jobs (w per job): method n, ...".
func (s *engineStore) summary() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	total := 0
	var rows []string
	for m, n := range s.writes {
		total += n
		rows = append(rows, fmt.Sprintf("%s %d", m, n))
	}
	sort.Strings(rows)
	per := 0.0
	if s.jobs > 0 {
		per = float64(total) / float64(s.jobs)
	}
	return fmt.Sprintf("%d writes for %d jobs (%.2f per job): %s", total, s.jobs, per, strings.Join(rows, ", "))
}

// SettleJobs counts one write for all its outcomes.
func (s *engineStore) SettleJobs(ctx context.Context, outs []store.JobOutcome) error {
	s.count("SettleJobs", len(outs))
	return s.DB.SettleJobs(ctx, outs)
}

// CompleteJob counts one write.
func (s *engineStore) CompleteJob(ctx context.Context, j store.Job) error {
	s.count("CompleteJob", 1)
	return s.DB.CompleteJob(ctx, j)
}

// RetryJob counts one write.
func (s *engineStore) RetryJob(ctx context.Context, j store.Job, next time.Time, errText string) error {
	s.count("RetryJob", 1)
	return s.DB.RetryJob(ctx, j, next, errText)
}

// ParkJob counts one write.
func (s *engineStore) ParkJob(ctx context.Context, j store.Job, errText string) error {
	s.count("ParkJob", 1)
	return s.DB.ParkJob(ctx, j, errText)
}

// PutLink counts one write.
func (s *engineStore) PutLink(ctx context.Context, l store.Link) error {
	s.count("PutLink", 0)
	return s.DB.PutLink(ctx, l)
}

// EnqueueJob counts one write.
func (s *engineStore) EnqueueJob(ctx context.Context, tenant string, kind store.ResourceKind, id string) error {
	s.count("EnqueueJob", 0)
	return s.DB.EnqueueJob(ctx, tenant, kind, id)
}

// CreateRun counts one write.
func (s *engineStore) CreateRun(ctx context.Context, r store.Run) (store.Run, error) {
	s.count("CreateRun", 0)
	return s.DB.CreateRun(ctx, r)
}

// UpdateRun counts one write.
func (s *engineStore) UpdateRun(ctx context.Context, r store.Run) error {
	s.count("UpdateRun", 0)
	return s.DB.UpdateRun(ctx, r)
}

// AddResults counts one write.
func (s *engineStore) AddResults(ctx context.Context, rs []store.Result) error {
	s.count("AddResults", 0)
	return s.DB.AddResults(ctx, rs)
}
