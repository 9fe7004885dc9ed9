package atlassiantest

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
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

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkHandlerDirect drives ServeHTTP with httptest.NewRecorder: GET one user by name.
func BenchmarkHandlerDirect(b *testing.B) {
	e := benchEmulator(b, 10_000)
	b.ReportAllocs()
	b.ResetTimer()
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
	reportRate(b)
}

// BenchmarkHandlerDirectMemberPage: one 50-user /group/member page out of 10,000 members.
func BenchmarkHandlerDirectMemberPage(b *testing.B) {
	e := benchEmulator(b, 10_000)
	b.ReportAllocs()
	b.ResetTimer()
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
	reportRate(b)
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
			tr := &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			auth := "Bearer " + testToken
			if tc.crowd {
				auth = "" // no application credentials configured in benchEmulator
			}
			url := srv.URL + tc.path
			b.SetParallelism(8)
			b.ReportAllocs()
			b.ResetTimer()
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
			reportRate(b)
		})
	}
}
