package atlassiantest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// Throughput target (issue 3 item 7): at least 20,000 simple GET requests/s on 2 cores, so the
// emulator is never the bottleneck of our own benchmarks. Each benchmark reports req/s.

func benchEmulator(b *testing.B, users int) *Emulator {
	b.Helper()
	e := New(Options{Token: testToken})
	for i := range users {
		name := fmt.Sprintf("user%05d", i)
		if err := e.AddUser(SeedUser{Name: name, EmailAddress: name + "@example.com", Groups: []string{"jira-software-users"}}); err != nil {
			b.Fatal(err)
		}
	}
	return e
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// startRate resets the timer and returns a function that reports wall-clock req/s and the CPU
// time per request. On a shared machine the wall-clock rate depends on what else runs; CPU per
// request does not, and 2 cores / (CPU per request) is the rate two idle cores would reach.
// For loopback benchmarks the CPU includes the client, so that figure is conservative.
func startRate(b *testing.B) func() {
	b.ReportAllocs()
	start := cpuTime(b)
	b.ResetTimer()
	return func() {
		b.StopTimer()
		cpu := cpuTime(b) - start
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		perReq := float64(cpu.Microseconds()) / float64(b.N)
		b.ReportMetric(perReq, "cpu-µs/req")
		b.ReportMetric(2e6/perReq, "req/s@2cores")
	}
}

// BenchmarkHandlerDirect drives ServeHTTP with httptest.NewRecorder: GET one user by name.
func BenchmarkHandlerDirect(b *testing.B) {
	e := benchEmulator(b, 10_000)
	done := startRate(b)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req := httptest.NewRequest("GET", fmt.Sprintf("/rest/api/2/user?username=USER%05d", i%10_000), nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			i += 7
		}
	})
	done()
}

// BenchmarkHandlerDirectMemberPage: one 50-user /group/member page out of 10,000 members.
func BenchmarkHandlerDirectMemberPage(b *testing.B) {
	e := benchEmulator(b, 10_000)
	done := startRate(b)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			req := httptest.NewRequest("GET", fmt.Sprintf("/rest/api/2/group/member?groupname=jira-software-users&startAt=%d", (i*50)%9950), nil)
			req.Header.Set("Authorization", "Bearer "+testToken)
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
			i++
		}
	})
	done()
}

// BenchmarkLoopbackBaseline is the floor: the same loopback harness against a handler that only
// writes a constant, to separate net/http and kernel cost from the emulator's own.
func BenchmarkLoopbackBaseline(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	loopback(b, srv.URL+"/", "")
}

func loopback(b *testing.B, url, auth string) {
	tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.SetParallelism(8)
	done := startRate(b)
	b.RunParallel(func(pb *testing.PB) {
		req, err := http.NewRequest("GET", url, nil)
		if err != nil {
			b.Error(err)
			return
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		for pb.Next() {
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	done()
}

// BenchmarkLoopbackHTTP drives the emulator over real loopback HTTP with keep-alive and parallel
// clients (client and server share the machine's cores).
func BenchmarkLoopbackHTTP(b *testing.B) {
	for _, tc := range []struct {
		name, path string
		crowd      bool
	}{
		{"JiraGetUser", "/rest/api/2/user?username=user00042", false},
		{"CrowdGetUser", "/rest/usermanagement/1/user?username=user00042", true},
		{"JiraServerInfo", "/rest/api/2/serverInfo", false},
	} {
		b.Run(tc.name, func(b *testing.B) {
			e := benchEmulator(b, 1000)
			srv := httptest.NewServer(e)
			defer srv.Close()
			auth := "Bearer " + testToken
			if tc.crowd {
				auth = "" // no application credentials configured in benchEmulator
			}
			loopback(b, srv.URL+tc.path, auth)
		})
	}
}
