package sqlite_test

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// 64 clients create users at the same moment (so writes share
// transactions); every create that succeeded is in the file after a
// reopen, with its job.
func TestConcurrentCreatesAreDurable(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.db")
	db, err := sqlite.Open(t.Context(), p, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	created := make([]store.User, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			created[i], errs[i] = db.CreateUser(t.Context(), store.User{Tenant: "t", UserName: fmt.Sprintf("user%02d", i),
				Attributes: map[string]any{"i": int64(i)}})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = sqlite.Open(t.Context(), p, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for i, u := range created {
		got, err := db.GetUser(t.Context(), "t", u.ID)
		if err != nil || got.UserName != u.UserName || got.Attributes["i"] != int64(i) || got.Version != 1 {
			t.Errorf("user %d after reopen: %+v, %v", i, got, err)
		}
	}
	if _, total, err := db.ListUsers(t.Context(), "t", store.Query{}); err != nil || total != n {
		t.Errorf("%d users after reopen, %v; want %d", total, err, n)
	}
	if js, err := db.PendingJobs(t.Context(), 2*n); err != nil || len(js) != n {
		t.Errorf("%d jobs after reopen, %v; want %d", len(js), err, n)
	}
}
