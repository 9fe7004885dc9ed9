package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/store"
)

// settler is the backend as the provisioning engine needs it.
func settler(t *testing.T, s EngineStore) store.JobSettler {
	t.Helper()
	js, ok := s.(store.JobSettler)
	if !ok {
		t.Fatalf("%T does not implement store.JobSettler, which the engine needs", s)
	}
	return js
}

// testSettleJobs checks store.JobSettler: links saved and jobs settled in
// one call, each job exactly as CompleteJob, RetryJob or ParkJob would.
func testSettleJobs(t *testing.T, s EngineStore, c *clock) {
	ctx := t.Context()
	js := settler(t, s)
	if err := js.SettleJobs(ctx, nil); err != nil {
		t.Fatalf("SettleJobs(nil): %v", err)
	}
	a := createUser(t, s, store.User{Tenant: "t1", UserName: "a"})
	b := createUser(t, s, store.User{Tenant: "t1", UserName: "b"})
	cc := createUser(t, s, store.User{Tenant: "t1", UserName: "c"})
	d := createUser(t, s, store.User{Tenant: "t1", UserName: "d"})
	ja, jb, jc, jd := mustJob(t, s, store.KindUser, a.ID), mustJob(t, s, store.KindUser, b.ID),
		mustJob(t, s, store.KindUser, cc.ID), mustJob(t, s, store.KindUser, d.ID)
	// d changes again while it is applied: its completion must leave the newer change due.
	c.Advance(time.Second)
	touchUser(t, s, "t1", d.ID)
	c.Advance(time.Second)

	zone := time.FixedZone("X", -5*3600)
	linkA := store.Link{Target: "jira", Tenant: "t1", ResourceID: a.ID, Kind: store.KindUser, DesiredName: "a",
		Desired: []byte(`{"present":true}`), Applied: []byte(`{"present":true}`), AppliedName: "a", Key: "JIRAUSER1",
		State: store.LinkActive, LastLoginAt: ptrTime(time.Date(2026, 3, 1, 8, 0, 0, 7, zone))}
	linkA2 := linkA
	linkA2.Target, linkA2.State, linkA2.Key = "confluence", store.LinkDeactivated, ""
	linkA2.DeactivatedAt, linkA2.DeactivatedReason = ptrTime(time.Date(2026, 4, 1, 8, 0, 0, 5, zone)), "idp"
	linkB := store.Link{Target: "jira", Tenant: "t1", ResourceID: b.ID, Kind: store.KindUser, DesiredName: "b", State: store.LinkPending}
	retryAt := c.Now().Add(time.Minute)
	err := js.SettleJobs(ctx, []store.JobOutcome{
		{Job: ja, Links: []store.Link{linkA, linkA2}},
		{Job: jb, Links: []store.Link{linkB}, Error: "HTTP 503", NotBefore: retryAt},
		{Job: jc, Error: "licence exhausted", Park: true},
		{Job: jd},
	})
	if err != nil {
		t.Fatalf("SettleJobs: %v", err)
	}
	for _, want := range []store.Link{linkA, linkA2, linkB} {
		want.UpdatedAt = c.Now()
		got := getLink(t, s, want.Target, want.Tenant, want.ResourceID)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("link saved by SettleJobs (-want +got):\n%s", diff)
		}
	}
	if _, ok := jobOf(t, s, store.KindUser, a.ID); ok {
		t.Error("a's job is still there after a successful outcome")
	}
	if got := mustJob(t, s, store.KindUser, b.ID); got.Attempts != 1 || got.LastError != "HTTP 503" ||
		!got.NotBefore.Equal(retryAt) || got.State != store.JobPending {
		t.Errorf("b's job after a retry outcome = %+v, want attempt 1, due %v", got, retryAt)
	}
	if got := mustJob(t, s, store.KindUser, cc.ID); got.State != store.JobParked || got.Attempts != 1 || got.LastError != "licence exhausted" {
		t.Errorf("c's job after a park outcome = %+v, want parked", got)
	}
	if got := mustJob(t, s, store.KindUser, d.ID); got.Seq == jd.Seq || got.State != store.JobPending {
		t.Errorf("d's job, changed while applied, = %+v after its stale completion; want the newer change due", got)
	}

	// Settling a job that is gone is not an error; its link is still saved.
	c.Advance(time.Second)
	linkA.AppliedName = "a2"
	if err := js.SettleJobs(ctx, []store.JobOutcome{{Job: ja, Links: []store.Link{linkA}}}); err != nil {
		t.Fatalf("SettleJobs of a job that is gone: %v", err)
	}
	if got := getLink(t, s, "jira", "t1", a.ID); got.AppliedName != "a2" || !got.UpdatedAt.Equal(c.Now()) {
		t.Errorf("link after settling a gone job = %+v", got)
	}

	// All or nothing: an invalid link fails the call and writes nothing.
	jb = mustJob(t, s, store.KindUser, b.ID)
	bad := store.Link{Target: "jira", Tenant: "t1", ResourceID: "x", Kind: store.KindUser, State: "frozen"}
	linkB.State = store.LinkActive
	err = js.SettleJobs(ctx, []store.JobOutcome{{Job: jb, Links: []store.Link{linkB}}, {Job: jd, Links: []store.Link{bad}}})
	if err == nil {
		t.Fatal("SettleJobs with an invalid link state succeeded")
	}
	if got := getLink(t, s, "jira", "t1", b.ID); got.State != store.LinkPending {
		t.Errorf("a failed SettleJobs saved b's link: %+v", got)
	}
	if _, ok := jobOf(t, s, store.KindUser, b.ID); !ok {
		t.Error("a failed SettleJobs completed b's job")
	}
	if _, err := s.GetLink(ctx, "jira", "t1", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetLink of the invalid link = %v, want ErrNotFound", err)
	}
}
