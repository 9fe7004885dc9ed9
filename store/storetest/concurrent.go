package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/store"
)

// Concurrency rules every backend keeps, however it schedules writes
// (one transaction per write, or several writes sharing one): each write
// gets its own outcome, a failed write changes nothing, and concurrent
// read-modify-writes of one record lose nothing.

// testConcurrentCreates creates 64 users at once, pairs of them with the
// same userName in different case: exactly one of each pair wins, the other
// gets ErrConflict, and every winner is stored with one job.
func testConcurrentCreates(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 64
	type result struct {
		u   store.User
		err error
	}
	results := make([]result, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			name := fmt.Sprintf("user%02d", i/2)
			if i%2 == 1 {
				name = strings.ToUpper(name)
			}
			<-start
			u, err := s.CreateUser(ctx, store.User{Tenant: "t1", UserName: name, ExternalID: fmt.Sprintf("ext%02d", i),
				Attributes: map[string]any{"i": int64(i)}})
			results[i] = result{u, err}
		})
	}
	close(start)
	wg.Wait()
	won := map[string]store.User{}
	for i := 0; i < n; i += 2 {
		a, b := results[i], results[i+1]
		switch {
		case a.err == nil && errors.Is(b.err, store.ErrConflict):
			won[a.u.ID] = a.u
		case b.err == nil && errors.Is(a.err, store.ErrConflict):
			won[b.u.ID] = b.u
		default:
			t.Errorf("pair %d: errors %v and %v, want one success and one ErrConflict", i/2, a.err, b.err)
		}
	}
	us := allUsers(t, s, "t1", nil)
	if len(us) != n/2 || len(won) != n/2 {
		t.Fatalf("%d users stored, %d creates succeeded, want %d", len(us), len(won), n/2)
	}
	for _, u := range us {
		w, ok := won[u.ID]
		if !ok {
			t.Errorf("stored user %q (%s) was not reported created", u.UserName, u.ID)
			continue
		}
		if u.UserName != w.UserName || u.ExternalID != w.ExternalID || u.Version != 1 || u.Attributes["i"] != w.Attributes["i"] {
			t.Errorf("stored %+v, create returned %+v", u, w)
		}
	}
	idx := jobIndex(t, jobs(t, s))
	if len(idx) != n/2 {
		t.Errorf("%d jobs, want %d", len(idx), n/2)
	}
	for id := range won {
		if _, ok := idx[jobKey{"t1", store.KindUser, id}]; !ok {
			t.Errorf("no job for created user %s", id)
		}
	}
}

// testConcurrentMixedOutcomes runs successful and failing writes of every
// kind at the same time: each caller gets its own outcome and the failures
// leave no trace.
func testConcurrentMixedOutcomes(t *testing.T, s store.Store) {
	ctx := t.Context()
	alice := createUser(t, s, store.User{Tenant: "t1", UserName: "alice"})
	g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "G", Members: refs(alice.ID)})
	base := getUser(t, s, "t1", alice.ID).Version // joining G was a change of hers
	jobsBefore := jobIndex(t, jobs(t, s))
	const rounds = 8
	type op struct {
		name  string
		run   func(i int) error
		check func(err error) bool
	}
	ok := func(err error) bool { return err == nil }
	is := func(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }
	ops := []op{
		{"create", func(i int) error {
			_, err := s.CreateUser(ctx, store.User{Tenant: "t1", UserName: fmt.Sprintf("new%d", i)})
			return err
		}, ok},
		{"create taken userName", func(int) error {
			_, err := s.CreateUser(ctx, store.User{Tenant: "t1", UserName: "ALICE"})
			return err
		}, is(store.ErrConflict)},
		{"rename group and add unknown member", func(i int) error {
			_, err := s.UpdateGroup(ctx, "t1", g.ID, func(x *store.Group) error {
				x.DisplayName = fmt.Sprintf("renamed%d", i)
				x.Members = append(x.Members, store.Member{Value: "no-such-id"})
				return nil
			})
			return err
		}, is(store.ErrInvalidMember)},
		{"update refused by callback", func(int) error {
			_, err := s.UpdateUser(ctx, "t1", alice.ID, func(x *store.User) error {
				x.Active = true
				return errSentinel
			})
			return err
		}, is(errSentinel)},
		{"delete missing", func(i int) error { return s.DeleteUser(ctx, "t1", fmt.Sprintf("missing%d", i)) }, is(store.ErrNotFound)},
		{"update", func(i int) error {
			_, err := s.UpdateUser(ctx, "t1", alice.ID, func(x *store.User) error {
				n, _ := asInt(x.Attributes["n"])
				x.Attributes["n"] = n + 1
				return nil
			})
			return err
		}, ok},
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, rounds*len(ops))
	for i := range rounds {
		for _, o := range ops {
			wg.Go(func() {
				<-start
				if err := o.run(i); !o.check(err) {
					errs <- fmt.Errorf("%s #%d: unexpected outcome %v", o.name, i, err)
				}
			})
		}
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := getUser(t, s, "t1", alice.ID)
	if n, _ := asInt(got.Attributes["n"]); n != rounds || got.Version != base+rounds || got.Active {
		t.Errorf("alice after the writes: n=%v version %d active %v, want n=%d version %d inactive",
			got.Attributes["n"], got.Version, got.Active, rounds, base+rounds)
	}
	gg := getGroup(t, s, "t1", g.ID)
	if gg.DisplayName != "G" || gg.Version != 1 || !slices.Equal(memberIDs(gg.Members), []string{alice.ID}) {
		t.Errorf("failed group updates changed the group: %+v", gg)
	}
	if us := allUsers(t, s, "t1", nil); len(us) != rounds+1 {
		t.Errorf("%d users, want %d: %v", len(us), rounds+1, userNames(us))
	}
	after := jobIndex(t, jobs(t, s))
	if len(after) != len(jobsBefore)+rounds {
		t.Errorf("%d jobs, want %d (one per created user)", len(after), len(jobsBefore)+rounds)
	}
	if before, now := jobsBefore[jobKey{"t1", store.KindGroup, g.ID}], after[jobKey{"t1", store.KindGroup, g.ID}]; before != now {
		t.Errorf("failed group updates touched its job: %+v -> %+v", before, now)
	}
}

// testConcurrentGroupUpdates adds 16 members to one group concurrently,
// each by its own read-modify-write: none is lost.
func testConcurrentGroupUpdates(t *testing.T, s store.Store) {
	ctx := t.Context()
	const n = 16
	ids := make([]string, n)
	for i := range n {
		ids[i] = createUser(t, s, store.User{Tenant: "t1", UserName: fmt.Sprintf("m%d", i)}).ID
	}
	g := createGroup(t, s, store.Group{Tenant: "t1", DisplayName: "G"})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for _, id := range ids {
		wg.Go(func() {
			_, err := s.UpdateGroup(ctx, "t1", g.ID, func(x *store.Group) error {
				x.Members = append(x.Members, store.Member{Value: id})
				return nil
			})
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := getGroup(t, s, "t1", g.ID)
	if want := sorted(ids...); !slices.Equal(memberIDs(got.Members), want) || got.Version != n+1 {
		t.Errorf("group after %d concurrent adds: version %d, members %v, want version %d, members %v",
			n, got.Version, memberIDs(got.Members), n+1, want)
	}
}
