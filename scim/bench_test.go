package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/elimity-com/scim/schema"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// benchUsers is how many users the benchmarks store before measuring.
const benchUsers = 2000

// benchServer is the whole SCIM stack (HTTP, auth, elimity, filter, SQLite,
// JSON) on a real file with benchUsers users, served over loopback.
type benchServer struct {
	url   string
	ids   []string
	names []string
	st    *sqlite.DB
}

func newBenchServer(b *testing.B) *benchServer {
	b.Helper()
	schema.SetAllowStringValues(true)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	bs := &benchServer{st: st}
	for i := range benchUsers {
		name := fmt.Sprintf("user%d@example.com", i)
		u, err := st.CreateUser(ctx, store.User{Tenant: "t", UserName: name, Active: true,
			Attributes: map[string]any{
				"displayName": fmt.Sprintf("User %d", i),
				"name":        map[string]any{"givenName": "Load", "familyName": fmt.Sprint(i)},
				"emails":      []any{map[string]any{"value": name, "type": "work", "primary": true}},
			}})
		if err != nil {
			b.Fatal(err)
		}
		bs.ids, bs.names = append(bs.ids, u.ID), append(bs.names, name)
	}
	authn, err := auth.New([]auth.Tenant{{Name: "t", TokenHashes: [][32]byte{auth.HashToken("tok")}}}, auth.Options{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := scim.New(st, authn, []scim.Tenant{{Name: "t"}}, scim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	b.Cleanup(ts.Close)
	bs.url = ts.URL + "/scim/v2/t"
	return bs
}

// do sends one request and fails the benchmark on an unexpected status.
func (bs *benchServer) do(b *testing.B, method, path string, body any, want int) []byte {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			b.Error(err)
			return nil
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, bs.url+path, rd)
	if err != nil {
		b.Error(err)
		return nil
	}
	req.Header.Set("Authorization", "Bearer tok")
	if body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Error(err)
		return nil
	}
	data, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != want {
		b.Errorf("%s %s: %s: %.200s", method, path, resp.Status, data)
	}
	return data
}

// BenchmarkGetByUserNameFilter measures the IdPs' lookup-before-create
// through the whole SCIM stack (HTTP, auth, filter, SQLite, JSON).
func BenchmarkGetByUserNameFilter(b *testing.B) {
	bs := newBenchServer(b)
	var n atomic.Int64
	b.SetParallelism(8) // 16 clients on 2 cores, as in BENCHMARKS.md
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			bs.do(b, http.MethodGet, "/Users?filter="+
				url.QueryEscape(fmt.Sprintf(`userName eq %q`, bs.names[i%benchUsers])), nil, http.StatusOK)
		}
	})
}

// BenchmarkGetUserByID measures GET /Users/{id}.
func BenchmarkGetUserByID(b *testing.B) {
	bs := newBenchServer(b)
	var n atomic.Int64
	b.SetParallelism(8) // 16 clients on 2 cores, as in BENCHMARKS.md
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			bs.do(b, http.MethodGet, "/Users/"+bs.ids[i%benchUsers], nil, http.StatusOK)
		}
	})
}

// BenchmarkCreateUser measures POST /Users with a typical Okta body.
func BenchmarkCreateUser(b *testing.B) {
	bs := newBenchServer(b)
	var n atomic.Int64
	b.SetParallelism(8) // 16 clients on 2 cores, as in BENCHMARKS.md
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			name := fmt.Sprintf("new%d@example.com", n.Add(1))
			bs.do(b, http.MethodPost, "/Users", map[string]any{
				"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
				"userName": name, "displayName": name, "active": true,
				"name":   map[string]any{"givenName": "Load", "familyName": name},
				"emails": []any{map[string]any{"value": name, "type": "work", "primary": true}},
			}, http.StatusCreated)
		}
	})
}

// BenchmarkPatchUser measures a one-attribute PATCH of a user.
func BenchmarkPatchUser(b *testing.B) {
	bs := newBenchServer(b)
	var n atomic.Int64
	b.SetParallelism(8) // 16 clients on 2 cores, as in BENCHMARKS.md
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			bs.do(b, http.MethodPatch, "/Users/"+bs.ids[i%benchUsers], map[string]any{
				"schemas":    []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"},
				"Operations": []any{map[string]any{"op": "replace", "path": "title", "value": fmt.Sprint("title ", i)}},
			}, http.StatusOK)
		}
	})
}

// BenchmarkPatchGroupMembers adds and removes single users (Okta's Group
// Push) on a group that holds 1000 other members.
func BenchmarkPatchGroupMembers(b *testing.B) {
	bs := newBenchServer(b)
	const standing = 1000
	members := make([]any, 0, standing)
	for _, id := range bs.ids[:standing] {
		members = append(members, map[string]any{"value": id})
	}
	var g struct{ ID string }
	if err := json.Unmarshal(bs.do(b, http.MethodPost, "/Groups", map[string]any{
		"schemas":     []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
		"displayName": "big", "members": members,
	}, http.StatusCreated), &g); err != nil {
		b.Fatal(err)
	}
	free := bs.ids[standing:]
	var n atomic.Int64
	b.SetParallelism(8) // 16 clients on 2 cores, as in BENCHMARKS.md
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			id := free[(i/2)%int64(len(free))]
			op := map[string]any{"op": "add", "path": "members", "value": []any{map[string]any{"value": id}}}
			if i%2 == 1 {
				op = map[string]any{"op": "remove", "path": fmt.Sprintf("members[value eq %q]", id)}
			}
			bs.do(b, http.MethodPatch, "/Groups/"+g.ID, map[string]any{
				"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{op},
			}, http.StatusOK)
		}
	})
}
