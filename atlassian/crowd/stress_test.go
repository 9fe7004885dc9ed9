package crowd_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/atlassian/clienttest"
	"github.com/scimbridge/scimbridge/atlassian/crowd"
)

// Faults and the rate limit at once, with concurrent callers sharing one client, the way the
// engine's workers use it: every idempotent operation ends as asked, and the emulator's state is
// exactly what was asked for.
func TestConcurrentCallersUnderFaultsAndRateLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("paced by the emulator's rate limit")
	}
	e := atlassiantest.New(atlassiantest.Options{User: clienttest.User, Password: clienttest.Password, Seed: 7})
	const workers, perWorker = 6, 8
	for w := range workers {
		for i := range perWorker {
			if err := e.AddUser(atlassiantest.SeedUser{Name: fmt.Sprintf("w%d-u%d", w, i), Groups: []string{"old"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	c, err := crowd.New(crowd.Options{PageSize: 7, TransportOptions: clienttest.TransportOptions(t, srv.URL, atlassian.BasicAuth(clienttest.User, clienttest.Password))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := c.CreateGroup(ctx, "new"); err != nil {
		t.Fatal(err)
	}
	e.SetFaults(atlassiantest.Faults{ErrorRate: 0.15, ErrorStatus: 502, DropRate: 0.05, RateLimitPerSecond: 300, Burst: 10, StartEmpty: true})
	before := len(e.Requests())
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker*4)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				name := fmt.Sprintf("w%d-u%d", w, i)
				if err := c.SetActive(ctx, name, i%2 == 0); err != nil {
					errs <- fmt.Errorf("SetActive %s: %w", name, err)
				}
				if err := c.AddMember(ctx, "new", name); err != nil {
					errs <- fmt.Errorf("AddMember %s: %w", name, err)
				}
				if err := c.RemoveMember(ctx, "old", name); err != nil {
					errs <- fmt.Errorf("RemoveMember %s: %w", name, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var members []string
	if err := c.ListMembers(ctx, "new", func(u atlassian.User) error { members = append(members, u.Name); return nil }); err != nil {
		t.Fatalf("ListMembers under faults: %v", err)
	}
	statuses := map[int]int{}
	for _, r := range e.Requests()[before:] {
		statuses[r.Status]++
	}
	e.SetFaults(atlassiantest.Faults{})
	if statuses[http.StatusBadGateway] == 0 || statuses[0] == 0 || statuses[http.StatusTooManyRequests] == 0 {
		t.Errorf("statuses %v: no injected 502, dropped connection or 429; the test proved nothing", statuses)
	}
	t.Logf("statuses: %v", statuses)
	if len(members) != workers*perWorker {
		t.Errorf("ListMembers found %d members of new, want %d", len(members), workers*perWorker)
	}
	for _, u := range e.State().Users {
		var i, w int
		if _, err := fmt.Sscanf(u.Name, "w%d-u%d", &w, &i); err != nil {
			t.Fatalf("unexpected user %q", u.Name)
		}
		if u.Active != (i%2 == 0) || !slices.Equal(u.Groups, []string{"new"}) {
			t.Errorf("%s: active=%t groups=%v", u.Name, u.Active, u.Groups)
		}
	}
}
