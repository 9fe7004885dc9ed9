package sqlite_test

import (
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// clients is the number of concurrent callers the parallel benchmarks
// simulate: the SCIM server's target is 16 concurrent IdP requests.
const clients = 16

// parallel runs op from (at least) clients goroutines with b.RunParallel
// and reports the p50 and p99 latency of one op next to ns/op (which is
// the inverse of the throughput). op gets the goroutine's number and its
// own iteration count.
func parallel(b *testing.B, op func(g, i int) error) {
	b.Helper()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((clients + procs - 1) / procs)
	var (
		mu   sync.Mutex
		lats []time.Duration
		next atomic.Int64
	)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		g := int(next.Add(1)) - 1
		var mine []time.Duration
		for i := 0; pb.Next(); i++ {
			start := time.Now()
			if err := op(g, i); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		lats = append(lats, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	if len(lats) == 0 {
		return
	}
	slices.Sort(lats)
	pct := func(p float64) float64 {
		return float64(lats[int(float64(len(lats)-1)*p)].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

func BenchmarkCreateUserParallel16(b *testing.B) {
	db := openTest(b, nil)
	defer db.Close()
	ctx := b.Context()
	var n atomic.Int64
	parallel(b, func(_, _ int) error {
		i := int(n.Add(1))
		_, err := db.CreateUser(ctx, store.User{Tenant: "t", UserName: fmt.Sprintf("user%d", i),
			ExternalID: fmt.Sprintf("ext%d", i), Active: true, Attributes: benchAttributes(i)})
		return err
	})
}

// BenchmarkUpdateUserParallel16 is a PATCH-like read-modify-write; each
// client updates its own users (a disjoint share of 1024).
func BenchmarkUpdateUserParallel16(b *testing.B) {
	db := openTest(b, nil)
	defer db.Close()
	ctx := b.Context()
	const n = 1024
	if err := sqlite.Preload(ctx, db, "t", n); err != nil {
		b.Fatal(err)
	}
	parallel(b, func(g, i int) error {
		id := fmt.Sprintf("pre-%d", (i*clients+g)%n)
		title := fmt.Sprintf("title %d/%d", g, i)
		u, err := db.UpdateUser(ctx, "t", id, func(x *store.User) error { x.Attributes["title"] = title; return nil })
		if err == nil && u.Attributes["title"] != title {
			err = fmt.Errorf("update of %s returned title %v", id, u.Attributes["title"])
		}
		return err
	})
}

// BenchmarkGetByUserNameParallel16 is the lookup every IdP sends before a
// create (GET /Users?filter=userName eq "x") on 100k users.
func BenchmarkGetByUserNameParallel16(b *testing.B) {
	db := openTest(b, nil)
	defer db.Close()
	ctx := b.Context()
	const n = 100_000
	if err := sqlite.Preload(ctx, db, "t", n); err != nil {
		b.Fatal(err)
	}
	parallel(b, func(g, i int) error {
		k := (g*7919 + i*104729) % n
		f := store.Compare{Path: store.AttrPath{Name: "userName"}, Op: store.OpEq, Value: fmt.Sprintf("USER%d", k)}
		us, total, err := db.ListUsers(ctx, "t", store.Query{Filter: f, Limit: 10})
		if err == nil && (total != 1 || len(us) != 1) {
			err = fmt.Errorf("user%d: %d rows, total %d", k, len(us), total)
		}
		return err
	})
}

// BenchmarkGetUserParallel16 reads users by id (GET /Users/{id}) on 100k
// users.
func BenchmarkGetUserParallel16(b *testing.B) {
	db := openTest(b, nil)
	defer db.Close()
	ctx := b.Context()
	const n = 100_000
	if err := sqlite.Preload(ctx, db, "t", n); err != nil {
		b.Fatal(err)
	}
	parallel(b, func(g, i int) error {
		id := fmt.Sprintf("pre-%d", (g*7919+i*104729)%n)
		u, err := db.GetUser(ctx, "t", id)
		if err == nil && u.ID != id {
			err = fmt.Errorf("GetUser(%s) returned %s", id, u.ID)
		}
		return err
	})
}
