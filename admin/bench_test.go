package admin_test

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/scimbridge/scimbridge/store"
)

// BenchmarkRunResultsDownload downloads a run of 10,000 results over a real
// server; B/op shows what one download allocates (reading from SQLite and
// encoding), which must stay near one copy of the results.
func BenchmarkRunResultsDownload(b *testing.B) {
	h := newHarness(b, nil)
	const n = 10_000
	rs := make([]store.Result, n)
	for i := range rs {
		rs[i] = store.Result{Tenant: "okta", ResourceID: fmt.Sprintf("u%05d", i), UserName: fmt.Sprintf("user%05d", i),
			Target: "jira", Action: "updated", Changes: map[string]store.Change{"email": {Before: "a@example.com", After: "b@example.com"}}}
	}
	run := h.seedRun("reconcile", "cron", epoch, rs...)
	url := fmt.Sprintf("%s/api/v1/runs/%d/results", h.srv.URL, run.ID)
	b.ReportAllocs()
	var size int64
	for b.Loop() {
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, err := h.srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		size, err = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if err != nil || res.StatusCode != http.StatusOK {
			b.Fatalf("%d, %v", res.StatusCode, err)
		}
	}
	b.ReportMetric(float64(size), "bytes/download")
}
