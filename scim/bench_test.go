package scim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"

	"github.com/elimity-com/scim/schema"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// BenchmarkGetByUserNameFilter measures the IdPs' lookup-before-create
// through the whole SCIM stack (HTTP, auth, filter, SQLite, JSON).
func BenchmarkGetByUserNameFilter(b *testing.B) {
	schema.SetAllowStringValues(true)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "b.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	const n = 2000
	for i := range n {
		if _, err := st.CreateUser(ctx, store.User{Tenant: "t", UserName: fmt.Sprintf("user%d@example.com", i), Active: true,
			Attributes: map[string]any{"displayName": "User", "emails": []any{map[string]any{"value": "x@example.com"}}}}); err != nil {
			b.Fatal(err)
		}
	}
	authn, _ := auth.New([]auth.Tenant{{Name: "t", TokenHashes: [][32]byte{auth.HashToken("tok")}}}, auth.Options{})
	srv, err := scim.New(st, authn, []scim.Tenant{{Name: "t"}}, scim.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			req, _ := http.NewRequest(http.MethodGet, ts.URL+"/scim/v2/t/Users?filter="+
				url.QueryEscape(fmt.Sprintf(`userName eq "user%d@example.com"`, i%n)), nil)
			req.Header.Set("Authorization", "Bearer tok")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatal(resp.Status)
			}
		}
	})
}
