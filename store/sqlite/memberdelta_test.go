package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// PatchGroupMembers: a rejected change (unknown group, invalid member,
// check's error) changes nothing; a change bumps the version once and
// enqueues the group and the users whose flattened membership changed
// (through a nested group too); a change that changes nothing keeps the
// version and enqueues nothing.
func TestPatchGroupMembers(t *testing.T) {
	db := openTest(t, tickingClock())
	defer db.Close()
	ctx := t.Context()
	if err := sqlite.Preload(ctx, db, "t", 6); err != nil {
		t.Fatal(err)
	}
	sub, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "sub", Members: []store.Member{{Value: "pre-4"}, {Value: "pre-5"}}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "g", Members: []store.Member{{Value: "pre-0"}, {Value: "pre-1"}}})
	if err != nil {
		t.Fatal(err)
	}
	drain := func() map[string]bool {
		t.Helper()
		jobs, err := db.PendingJobs(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, j := range jobs {
			out[j.ResourceID] = true
			if err := db.CompleteJob(ctx, j); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	drain()
	stored := func() store.Group {
		t.Helper()
		got, err := db.GetGroup(ctx, "t", g.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	before := stored()
	errCheck := errors.New("precondition")
	for name, call := range map[string]func() error{
		"unknown group": func() error {
			_, err := db.PatchGroupMembers(ctx, "t", "no-such-group", nil, []string{"pre-2"}, nil, nil, true)
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("got %v, want ErrNotFound", err)
			}
			return nil
		},
		"other tenant": func() error {
			_, err := db.PatchGroupMembers(ctx, "u", g.ID, nil, []string{"pre-2"}, nil, nil, true)
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("got %v, want ErrNotFound", err)
			}
			return nil
		},
		"invalid member after a valid one": func() error {
			_, err := db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{"pre-2", "nope"}, []string{"pre-0"}, nil, true)
			if !errors.Is(err, store.ErrInvalidMember) {
				return fmt.Errorf("got %v, want ErrInvalidMember", err)
			}
			return nil
		},
		"itself": func() error {
			_, err := db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{g.ID}, nil, nil, true)
			if !errors.Is(err, store.ErrInvalidMember) {
				return fmt.Errorf("got %v, want ErrInvalidMember", err)
			}
			return nil
		},
		"check": func() error {
			_, err := db.PatchGroupMembers(ctx, "t", g.ID, func(x store.Group) error {
				if x.Version != before.Version || x.Members != nil {
					return fmt.Errorf("check got version %d, %d members", x.Version, len(x.Members))
				}
				return errCheck
			}, []string{"pre-2"}, nil, nil, true)
			if !errors.Is(err, errCheck) {
				return fmt.Errorf("got %v, want check's error", err)
			}
			return nil
		},
		"nothing to change": func() error {
			got, err := db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{"pre-0"}, []string{"pre-3"}, []string{"PRE-3"}, true)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(before, got); diff != "" {
				return fmt.Errorf("returned (-stored +got):\n%s", diff)
			}
			return nil
		},
	} {
		if err := call(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if diff := cmp.Diff(before, stored()); diff != "" {
			t.Errorf("%s: changed the group (-before +after):\n%s", name, diff)
		}
		if jobs := drain(); len(jobs) != 0 {
			t.Errorf("%s: enqueued %v", name, jobs)
		}
	}
	// pre-0 goes by a case-insensitive match, pre-1 is named in add too (so
	// stays), sub and pre-2 come in.
	got, err := db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{"pre-1", sub.ID, "pre-2"}, nil, []string{"PRE-0", "Pre-1"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(stored(), got); diff != "" {
		t.Errorf("returned group is not what is stored (-stored +returned):\n%s", diff)
	}
	var ids []string
	for _, m := range got.Members {
		ids = append(ids, m.Value)
	}
	if want := []string{"pre-1", "pre-2", sub.ID}; got.Version != before.Version+1 || !cmp.Equal(ids, slices.Sorted(slices.Values(want))) {
		t.Errorf("version %d, members %v; want %d, %v", got.Version, ids, before.Version+1, slices.Sorted(slices.Values(want)))
	}
	if jobs, want := drain(), map[string]bool{g.ID: true, "pre-0": true, "pre-2": true, "pre-4": true, "pre-5": true}; !cmp.Equal(jobs, want) {
		t.Errorf("enqueued %v, want %v (the group, pre-0 and pre-2, and the users under sub)", jobs, want)
	}
	// Without members: none read.
	got, err = db.PatchGroupMembers(ctx, "t", g.ID, nil, nil, []string{"pre-2"}, nil, false)
	if err != nil || got.Members != nil || got.Version != before.Version+2 || got.DisplayName != "g" {
		t.Errorf("without members: %+v, %v", got, err)
	}
}

// BenchmarkMemberPatch1000 adds and removes one member of a 1000-member
// group (two writes per op, as scimload's patch-group-members phase does),
// by UpdateGroup (the whole member list read, diffed and returned) and by
// PatchGroupMembers with and without the member list returned; one client,
// so the figure is the writer's time plus the commit.
func BenchmarkMemberPatch1000(b *testing.B) {
	db := openTest(b, nil)
	defer db.Close()
	ctx := b.Context()
	if err := sqlite.Preload(ctx, db, "t", 1001); err != nil {
		b.Fatal(err)
	}
	var ms []store.Member
	for i := range 1000 {
		ms = append(ms, store.Member{Value: fmt.Sprintf("pre-%d", i)})
	}
	g, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "g", Members: ms})
	if err != nil {
		b.Fatal(err)
	}
	const extra = "pre-1000"
	run := func(b *testing.B, patch func(ctx context.Context, add bool) (store.Group, error), want int) {
		b.ReportAllocs()
		for b.Loop() {
			for _, add := range []bool{true, false} {
				got, err := patch(ctx, add)
				if err != nil {
					b.Fatal(err)
				}
				if n := len(got.Members); want > 0 && n != want+map[bool]int{true: 1}[add] {
					b.Fatalf("%d members", n)
				}
			}
		}
	}
	b.Run("read-whole", func(b *testing.B) {
		run(b, func(ctx context.Context, add bool) (store.Group, error) {
			return db.UpdateGroup(ctx, "t", g.ID, func(x *store.Group) error {
				if add {
					x.Members = append(x.Members, store.Member{Value: extra})
				} else {
					x.Members = x.Members[:0:0]
					for _, m := range ms {
						x.Members = append(x.Members, store.Member{Value: m.Value})
					}
				}
				return nil
			})
		}, 1000)
	})
	for _, withMembers := range []bool{true, false} {
		b.Run(fmt.Sprintf("delta/members=%v", withMembers), func(b *testing.B) {
			want := 0
			if withMembers {
				want = 1000
			}
			run(b, func(ctx context.Context, add bool) (store.Group, error) {
				if add {
					return db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{extra}, nil, nil, withMembers)
				}
				return db.PatchGroupMembers(ctx, "t", g.ID, nil, nil, nil, []string{extra}, withMembers)
			}, want)
		})
	}
}

// Concurrent PatchGroupMembers calls (batched together by the writer, some
// of them failing and rolled back, with renames of a member in between)
// return member lists that agree with their versions: every answer for a
// version is the same list, each caller's own change is in it, a rename
// that finished before a call started shows in its answer, and a call that
// changes nothing after a rename answers what a fresh read returns. (The writer caches member lists
// between requests of a batch; this is what that must not break.)
func TestPatchGroupMembersConcurrent(t *testing.T) {
	db := openTest(t, nil)
	defer db.Close()
	ctx := t.Context()
	const clients, rounds = 8, 40
	if err := sqlite.Preload(ctx, db, "t", 200+clients); err != nil {
		t.Fatal(err)
	}
	var ms []store.Member
	for i := range 200 {
		ms = append(ms, store.Member{Value: fmt.Sprintf("pre-%d", i)})
	}
	g, err := db.CreateGroup(ctx, store.Group{Tenant: "t", DisplayName: "g", Members: ms})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		version int64
		members []store.Member
	}
	var renamed atomic.Int64 // the last "renamed N" of pre-3 committed
	renamed.Store(-1)
	renameOf := func(members []store.Member) int64 {
		i, _ := slices.BinarySearchFunc(members, "pre-3", func(m store.Member, id string) int { return strings.Compare(m.Value, id) })
		var n int64 = -1
		_, _ = fmt.Sscanf(members[i].Display, "renamed %d", &n)
		return n
	}
	answers := make(chan answer, clients*rounds)
	errs := make(chan error, clients)
	for c := range clients {
		go func() {
			errs <- func() error {
				own, present := fmt.Sprintf("pre-%d", 200+c), false
				for i := range rounds {
					switch {
					case i%5 == 4: // fails: rolled back inside the batch
						_, err := db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{"nope"}, nil, nil, true)
						if !errors.Is(err, store.ErrInvalidMember) {
							return fmt.Errorf("invalid member: %v", err)
						}
						continue
					case i%3 == 2 && c == 0:
						if _, err := db.UpdateUser(ctx, "t", "pre-3", func(u *store.User) error {
							u.Attributes = map[string]any{"displayName": fmt.Sprintf("renamed %d", i)}
							return nil
						}); err != nil {
							return err
						}
						renamed.Store(int64(i))
						continue
					}
					before := renamed.Load()
					var got store.Group
					var err error
					if present = !present; present {
						got, err = db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{own}, nil, nil, true)
					} else {
						got, err = db.PatchGroupMembers(ctx, "t", g.ID, nil, nil, nil, []string{own}, true)
					}
					if err != nil {
						return err
					}
					if has := slices.ContainsFunc(got.Members, func(m store.Member) bool { return m.Value == own }); has != present {
						return fmt.Errorf("after add=%v of %s, version %d has it: %v", present, own, got.Version, has)
					}
					if n := renameOf(got.Members); n < before {
						return fmt.Errorf("version %d shows rename %d of pre-3, but rename %d was done before the call", got.Version, n, before)
					}
					answers <- answer{got.Version, got.Members}
				}
				return nil
			}()
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(answers)
	byVersion := map[int64][]store.Member{}
	var last int64
	for a := range answers {
		if prev, ok := byVersion[a.version]; ok {
			t.Errorf("two answers for version %d (every call changed the group):\n%s", a.version, cmp.Diff(prev, a.members))
		}
		byVersion[a.version] = a.members
		last = max(last, a.version)
	}
	// A change, a rename, and a call that changes nothing: the same as a read.
	if _, err := db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{"pre-200"}, nil, nil, true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateUser(ctx, "t", "pre-3", func(u *store.User) error {
		u.Attributes = map[string]any{"displayName": "renamed last"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	final, err := db.GetGroup(ctx, "t", g.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.PatchGroupMembers(ctx, "t", g.ID, nil, []string{"pre-0"}, nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(final, got); diff != "" {
		t.Errorf("a no-op after the run (last answer version %d) differs from a read (-read +answer):\n%s", last, diff)
	}
	if renamed.Load() < 0 || len(byVersion) < clients*rounds/2 {
		t.Errorf("%d answers, last rename %d: the run exercised too little", len(byVersion), renamed.Load())
	}
}
