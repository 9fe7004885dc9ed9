package main

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// The stub answers a lookup with exactly the user asked for (scimload
// checks the userName and totalResults 1), the count with the claimed
// total, and a page with at most 500 users.
func TestStubAnswersLikeSCIM(t *testing.T) {
	srv := httptest.NewServer(handler(42))
	defer srv.Close()
	get := func(q string) string {
		t.Helper()
		resp, err := http.Get(srv.URL + "/scim/v2/okta/Users?" + q)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 64<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", q, resp.StatusCode)
		}
		return b.String()
	}
	body := get("filter=" + url.QueryEscape(`userName eq "ada@example.com"`))
	if !strings.Contains(body, `"userName":"ada@example.com"`) || !strings.Contains(body, `"totalResults":1`) {
		t.Errorf("lookup: %s", body)
	}
	if body := get("count=0"); !strings.Contains(body, `"totalResults":42`) {
		t.Errorf("count: %s", body)
	}
	if body := get("startIndex=1&count=100000"); strings.Count(body, `"userName"`) != 500 {
		t.Errorf("page: %d users", strings.Count(body, `"userName"`))
	}
}
