package admin_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/admin"
	"github.com/scimbridge/scimbridge/store"
)

// seedLinks stores links on jira and confluence; several are named alice in
// some case, only some of them are ours to record a login on.
func (h *harness) seedLinks() {
	h.t.Helper()
	ctx := context.Background()
	deact := epoch.Add(-30 * 24 * time.Hour)
	links := []store.Link{
		{Target: "jira", Tenant: "okta", ResourceID: "u-alice", Kind: store.KindUser, DesiredName: "alice", AppliedName: "Alice", State: store.LinkActive},
		{Target: "jira", Tenant: "entra", ResourceID: "u-alice2", Kind: store.KindUser, DesiredName: "alice", AppliedName: "alice",
			State: store.LinkDeactivated, DeactivatedAt: &deact, DeactivatedReason: "inactivity"},
		{Target: "jira", Tenant: "okta", ResourceID: "u-bob", Kind: store.KindUser, DesiredName: "bob", AppliedName: "bob", State: store.LinkActive},
		// Not ours to touch: a group with the name, a deleted and a skipped
		// account, an account on another target, a pending one not applied.
		{Target: "jira", Tenant: "okta", ResourceID: "g-alice", Kind: store.KindGroup, DesiredName: "alice", AppliedName: "alice", State: store.LinkActive},
		{Target: "jira", Tenant: "google", ResourceID: "u-alice3", Kind: store.KindUser, DesiredName: "alice", AppliedName: "alice", State: store.LinkDeleted},
		{Target: "jira", Tenant: "onelogin", ResourceID: "u-alice4", Kind: store.KindUser, DesiredName: "alice", AppliedName: "ALICE", State: store.LinkSkipped},
		{Target: "jira", Tenant: "pingone", ResourceID: "u-alice5", Kind: store.KindUser, DesiredName: "alice", State: store.LinkPending},
		{Target: "confluence", Tenant: "okta", ResourceID: "u-alice", Kind: store.KindUser, DesiredName: "alice", AppliedName: "alice", State: store.LinkActive},
	}
	for _, l := range links {
		if err := h.db.PutLink(ctx, l); err != nil {
			h.t.Fatal(err)
		}
	}
}

// lastLogin reads a link's LastLoginAt (zero if none).
func (h *harness) lastLogin(target, tenant, id string) time.Time {
	h.t.Helper()
	l, err := h.db.GetLink(context.Background(), target, tenant, id)
	if err != nil {
		h.t.Fatal(err)
	}
	if l.LastLoginAt == nil {
		return time.Time{}
	}
	return *l.LastLoginAt
}

func TestLoginEvents(t *testing.T) {
	h := newHarness(t, nil)
	h.seedLinks()
	h.clock.Advance(time.Hour)
	now := epoch.Add(time.Hour)

	r := h.admin(http.MethodPost, "/api/v1/login-events", `{"target":"jira","username":"ALICE"}`)
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	m := r.json(t)
	if m["accounts"] != float64(2) || m["target"] != "jira" || m["username"] != "ALICE" || m["at"] != now.Format(time.RFC3339) {
		t.Errorf("response %v", m)
	}
	for _, id := range [][2]string{{"okta", "u-alice"}, {"entra", "u-alice2"}} {
		if got := h.lastLogin("jira", id[0], id[1]); !got.Equal(now) {
			t.Errorf("jira/%s/%s last login %v, want %v", id[0], id[1], got, now)
		}
	}
	untouched := [][3]string{{"jira", "okta", "u-bob"}, {"jira", "okta", "g-alice"}, {"jira", "google", "u-alice3"},
		{"jira", "onelogin", "u-alice4"}, {"jira", "pingone", "u-alice5"}, {"confluence", "okta", "u-alice"}}
	for _, k := range untouched {
		if got := h.lastLogin(k[0], k[1], k[2]); !got.IsZero() {
			t.Errorf("%v got a login at %v", k, got)
		}
	}
	// The rest of each link is kept.
	l, err := h.db.GetLink(context.Background(), "jira", "entra", "u-alice2")
	if err != nil || l.State != store.LinkDeactivated || l.DeactivatedReason != "inactivity" || l.AppliedName != "alice" {
		t.Errorf("link changed beyond its login: %+v (%v)", l, err)
	}

	evs := h.react.events()
	if len(evs) != 1 {
		t.Fatalf("reactivator called %d times, want 1", len(evs))
	}
	var ids []string
	for _, l := range evs[0].Links {
		ids = append(ids, l.Tenant+"/"+l.ResourceID)
		if l.LastLoginAt == nil || !l.LastLoginAt.Equal(now) {
			t.Errorf("link %s given to the reactivator without the login", l.ResourceID)
		}
	}
	slices.Sort(ids)
	if evs[0].Target != "jira" || evs[0].Username != "ALICE" || !evs[0].At.Equal(now) ||
		!slices.Equal(ids, []string{"entra/u-alice2", "okta/u-alice"}) {
		t.Errorf("reactivator event %+v (links %v)", evs[0], ids)
	}

	// A login older than what is known does not move the last login back.
	h.clock.Advance(-30 * time.Minute)
	if r := h.admin(http.MethodPost, "/api/v1/login-events", `{"target":"jira","username":"alice"}`); r.status != http.StatusAccepted {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	if got := h.lastLogin("jira", "okta", "u-alice"); !got.Equal(now) {
		t.Errorf("last login moved back to %v", got)
	}
	// The other target is separate.
	if r := h.admin(http.MethodPost, "/api/v1/login-events", `{"target":"confluence","username":"Alice"}`); r.status != http.StatusAccepted {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	if got := h.lastLogin("confluence", "okta", "u-alice"); !got.Equal(now.Add(-30 * time.Minute)) {
		t.Errorf("confluence last login %v", got)
	}
}

func TestLoginEventsBadInput(t *testing.T) {
	h := newHarness(t, nil)
	h.seedLinks()
	post := func(body string) resp { return h.admin(http.MethodPost, "/api/v1/login-events", body) }
	wantError(t, post(`{"target":"bamboo","username":"alice"}`), http.StatusBadRequest, "bad_request", `there is no target "bamboo"`)
	wantError(t, post(`{"username":"alice"}`), http.StatusBadRequest, "bad_request", `"target" is required`)
	wantError(t, post(`{"target":"jira"}`), http.StatusBadRequest, "bad_request", `"username" is required`)
	wantError(t, post(`{"target":"jira","username":"  "}`), http.StatusBadRequest, "bad_request", `"username" is required`)
	wantError(t, post(`{"target":"jira","username":"`+strings.Repeat("a", 256)+`"}`), http.StatusBadRequest, "bad_request", "at most 255 bytes")
	wantError(t, post(`{"target":"jira","username":"alice","at":"2020-01-01"}`), http.StatusBadRequest, "bad_request", `unknown field "at"`)
	wantError(t, post(`{"target":"jira","username":7}`), http.StatusBadRequest, "bad_request", `field "username" has the wrong type`)
	wantError(t, post(`{"target":"jira","username":"nobody"}`), http.StatusNotFound, "not_found", `no account named "nobody" on target "jira"`)
	// bob is on jira only.
	wantError(t, post(`{"target":"confluence","username":"bob"}`), http.StatusNotFound, "not_found", "no account named")
	for _, k := range [][3]string{{"jira", "okta", "u-alice"}, {"jira", "entra", "u-alice2"}, {"jira", "okta", "u-bob"}} {
		if got := h.lastLogin(k[0], k[1], k[2]); !got.IsZero() {
			t.Errorf("%v got a login from bad input", k)
		}
	}
	if n := len(h.react.events()); n != 0 {
		t.Errorf("reactivator called %d times for bad input", n)
	}
}

func TestLoginEventsReactivatorError(t *testing.T) {
	h := newHarness(t, nil)
	h.seedLinks()
	h.react.err = errBoom
	r := h.admin(http.MethodPost, "/api/v1/login-events", `{"target":"jira","username":"bob"}`)
	wantError(t, r, http.StatusInternalServerError, "internal", "reactivating the account failed")
	if strings.Contains(string(r.body), "disk on fire") {
		t.Errorf("internal text in the response: %s", r.body)
	}
	// The login itself is recorded; a retry is harmless.
	if got := h.lastLogin("jira", "okta", "u-bob"); !got.Equal(epoch) {
		t.Errorf("last login %v, want %v", got, epoch)
	}
}

func TestLoginEventsWithoutReactivator(t *testing.T) {
	h := newHarness(t, func(o *admin.Options) { o.Reactivator = nil })
	h.seedLinks()
	r := h.admin(http.MethodPost, "/api/v1/login-events", `{"target":"jira","username":"bob"}`)
	if r.status != http.StatusAccepted {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	if got := h.lastLogin("jira", "okta", "u-bob"); !got.Equal(epoch) {
		t.Errorf("last login %v, want %v", got, epoch)
	}
}

// A login recorded while the engine rewrites the link never puts back an
// old copy of what the engine wrote: only the last login changes.
func TestLoginEventsKeepConcurrentLinkWrites(t *testing.T) {
	h := newHarness(t, nil)
	h.seedLinks()
	ctx := context.Background()
	const n = 40
	done := make(chan error, 1)
	go func() {
		// The engine's way: read the link, change what it applied, write it.
		for i := range n {
			l, err := h.db.GetLink(ctx, "jira", "okta", "u-bob")
			if err != nil {
				done <- err
				return
			}
			l.Applied = []byte(fmt.Sprintf(`{"n":%d}`, i))
			if err := h.db.PutLink(ctx, l); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	for range n {
		h.clock.Advance(time.Second)
		if r := h.admin(http.MethodPost, "/api/v1/login-events", `{"target":"jira","username":"bob"}`); r.status != http.StatusAccepted {
			t.Fatalf("login event: %d %s", r.status, r.body)
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	l, err := h.db.GetLink(ctx, "jira", "okta", "u-bob")
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf(`{"n":%d}`, n-1); string(l.Applied) != want {
		t.Fatalf("applied = %s after concurrent logins, want the engine's last write %s", l.Applied, want)
	}
}

// A store that cannot record the login answers 500 without internals.
func TestLoginEventsStoreDown(t *testing.T) {
	h := newHarness(t, nil)
	h.seedLinks()
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	r := h.admin(http.MethodPost, "/api/v1/login-events", `{"target":"jira","username":"bob"}`)
	wantError(t, r, http.StatusInternalServerError, "internal", "recording the login failed")
	if strings.Contains(string(r.body), "sqlite") {
		t.Errorf("internal text in the response: %s", r.body)
	}
	if n := len(h.react.events()); n != 0 {
		t.Errorf("reactivator called %d times", n)
	}
}
