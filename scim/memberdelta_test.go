package scim_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/elimity-com/scim/schema"
	"github.com/google/go-cmp/cmp"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// readWholeStore hides the store's PatchGroupMembers, so a server on it
// applies membership PATCHes by UpdateGroup (read, apply, diff).
type readWholeStore struct{ scim.Store }

// deltaTwin is a server on one database: delta (the store as is) or not.
type deltaTwin struct {
	st  *sqlite.DB
	env *patchEnv
}

func newDeltaTwin(t *testing.T, tenant scim.Tenant, delta bool) deltaTwin {
	t.Helper()
	schema.SetAllowStringValues(true)
	at := time.Date(2026, 11, 28, 22, 0, 0, 0, time.UTC)
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"), sqlite.Options{Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	authn, err := auth.New([]auth.Tenant{{Name: tenant.Name, TokenHashes: [][32]byte{auth.HashToken("tok")}}}, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var s scim.Store = st
	if !delta {
		s = readWholeStore{st}
	}
	srv, err := scim.New(s, authn, []scim.Tenant{tenant}, scim.Options{BaseURL: "https://bridge.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return deltaTwin{st: st, env: &patchEnv{t: t, url: ts.URL + "/scim/v2/" + tenant.Name}}
}

// jobSeqs is every pending job's seq by resource: it moves on each enqueue.
func (d deltaTwin) jobSeqs(t *testing.T) map[string]int64 {
	t.Helper()
	jobs, err := d.st.PendingJobs(context.Background(), 10000)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]int64, len(jobs))
	for _, j := range jobs {
		out[string(j.Kind)+"/"+j.ResourceID] = j.Seq
	}
	return out
}

// Membership PATCHes applied as a delta (PatchGroupMembers) answer and
// store exactly what the read-apply-diff path (UpdateGroup) does: random
// sequences of the fast-path forms on twin databases holding the same
// users and groups (ids that differ only in case, and ids that fold onto
// ASCII ones: U+212A KELVIN SIGN is k), with renames of members, a deleted
// member and a PUT-like update in between (which the store's member list
// cache must notice), compared after every request:
// status, ETag, body bytes, the stored group, and the outbox (which
// resources were enqueued, how often).
func TestMemberDeltaMatchesReadWholePath(t *testing.T) {
	users := []string{"u-a", "U-A", "u-k", "u-\u212a", "u-s", "U-S", "u-b", "u-c"}
	pool := append(slices.Clone(users), "g-sub", "G-SUB", "g-main", "nope", "U-a", "u-K")
	for _, tenant := range []scim.Tenant{{Name: "okta"}, {Name: "entra", GroupPatchNoContent: true}} {
		t.Run(tenant.Name, func(t *testing.T) {
			twins := [2]deltaTwin{newDeltaTwin(t, tenant, true), newDeltaTwin(t, tenant, false)}
			ctx := context.Background()
			for _, d := range twins {
				for _, id := range users {
					if _, err := d.st.CreateUser(ctx, store.User{ID: id, Tenant: tenant.Name, UserName: "n" + fmt.Sprint([]byte(id)), Active: true}); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := d.st.CreateGroup(ctx, store.Group{ID: "g-sub", Tenant: tenant.Name, DisplayName: "sub",
					Members: []store.Member{{Value: "u-b"}, {Value: "u-c"}}}); err != nil {
					t.Fatal(err)
				}
				if _, err := d.st.CreateGroup(ctx, store.Group{ID: "g-main", Tenant: tenant.Name, DisplayName: "main",
					Members: []store.Member{{Value: "u-a"}, {Value: "u-k"}, {Value: "g-sub"}}}); err != nil {
					t.Fatal(err)
				}
			}
			rng := rand.New(rand.NewPCG(7, uint64(len(tenant.Name))))
			pick := func() string { return pool[rng.IntN(len(pool))] }
			values := func() string {
				var vs []string
				for range 1 + rng.IntN(3) {
					vs = append(vs, fmt.Sprintf(`{"value":%q}`, pick()))
				}
				return "[" + strings.Join(vs, ",") + "]"
			}
			changed, statuses := 0, map[int]int{}
			for step := range 300 {
				var ops []string
				for range 1 + rng.IntN(3) {
					switch rng.IntN(3) {
					case 0:
						ops = append(ops, `{"op":"add","path":"members","value":`+values()+`}`)
					case 1:
						ops = append(ops, `{"op":"remove","path":"members[value eq \"`+pick()+`\"]"}`)
					default:
						ops = append(ops, `{"op":"Remove","path":"members","value":`+values()+`}`)
					}
				}
				body := `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`
				// Other writes between the PATCHes, which change the
				// member list or its displays, the same on both.
				for _, d := range twins {
					var err error
					switch {
					case step%7 == 3:
						_, err = d.st.UpdateUser(ctx, tenant.Name, users[step%len(users)], func(u *store.User) error {
							u.Attributes = map[string]any{"displayName": fmt.Sprintf("user %d", step)}
							return nil
						})
					case step == 100:
						_, err = d.st.UpdateGroup(ctx, tenant.Name, "g-sub", func(g *store.Group) error { g.DisplayName = "sub2"; return nil })
					case step == 150:
						err = d.st.DeleteUser(ctx, tenant.Name, "u-s")
					case step == 200:
						_, err = d.st.UpdateGroup(ctx, tenant.Name, "g-main", func(g *store.Group) error {
							g.DisplayName = "main2"
							g.Members = append(g.Members, store.Member{Value: "u-b"})
							return nil
						})
					}
					if err != nil {
						t.Fatalf("step %d: %v", step, err)
					}
				}
				var header []string
				if step%17 == 0 {
					header = []string{"If-Match", `W/"3"`}
				}
				query := ""
				if step%5 == 0 {
					query = "?excludedAttributes=members"
				}
				ds, dh, _, draw := twins[0].env.doRaw(http.MethodPatch, "/Groups/g-main"+query, body, header...)
				ws, wh, _, wraw := twins[1].env.doRaw(http.MethodPatch, "/Groups/g-main"+query, body, header...)
				if ds != ws || dh.Get("Etag") != wh.Get("Etag") || string(draw) != string(wraw) {
					t.Fatalf("step %d %s: delta %d %q %s\nread-whole %d %q %s", step, body, ds, dh.Get("Etag"), draw, ws, wh.Get("Etag"), wraw)
				}
				dg, err := twins[0].st.GetGroup(ctx, tenant.Name, "g-main", true)
				if err != nil {
					t.Fatal(err)
				}
				wg, err := twins[1].st.GetGroup(ctx, tenant.Name, "g-main", true)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(wg, dg); diff != "" {
					t.Fatalf("step %d %s: stored group (-read-whole +delta):\n%s", step, body, diff)
				}
				if diff := cmp.Diff(twins[1].jobSeqs(t), twins[0].jobSeqs(t)); diff != "" {
					t.Fatalf("step %d %s: outbox (-read-whole +delta):\n%s", step, body, diff)
				}
				statuses[ds]++
				if ds == http.StatusOK || ds == http.StatusNoContent {
					changed++
				}
			}
			// The sequence must have exercised the answers that matter.
			g, err := twins[0].st.GetGroup(ctx, tenant.Name, "g-main", false)
			if err != nil {
				t.Fatal(err)
			}
			if g.Version < 20 || changed < 100 || statuses[http.StatusBadRequest] == 0 || statuses[http.StatusPreconditionFailed] == 0 {
				t.Errorf("statuses %v, version %d: the sequence exercised too little", statuses, g.Version)
			}
			t.Logf("statuses %v, version %d", statuses, g.Version)
			for _, tw := range twins {
				if s, _, doc := tw.env.do(http.MethodPatch, "/Groups/no-such-group", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"u-a"}]}]}`); s != http.StatusNotFound || doc["status"] != "404" {
					t.Errorf("unknown group: %d %v", s, doc)
				}
			}
		})
	}
}
