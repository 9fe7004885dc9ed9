package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/elimity-com/scim/schema"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/auth"
	"github.com/scimbridge/scimbridge/store/sqlite"
)

// The raw client reads every body shape net/http's server sends, on one
// connection, and dials again after the server closes it.
func TestRawConnResponses(t *testing.T) {
	big := strings.Repeat("x", 100_000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/small":
			_, _ = w.Write([]byte(`{"totalResults":1}`))
		case "/chunked":
			_, _ = w.Write([]byte(big[:10]))
			w.(http.Flusher).Flush()
			_, _ = w.Write([]byte(big))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/close":
			w.Header().Set("Connection", "close")
			_, _ = w.Write([]byte("bye"))
		case "/post":
			var b bytes.Buffer
			_, _ = b.ReadFrom(r.Body)
			w.WriteHeader(http.StatusCreated)
			_, _ = w.Write(b.Bytes())
		}
	}))
	t.Cleanup(srv.Close)
	c := newRawConn(strings.TrimPrefix(srv.URL, "http://"))
	c.setDeadline(time.Now().Add(30 * time.Second))
	defer c.close()
	l := &loader{path: "", head: "Host: x\r\n"}
	for _, tc := range []struct {
		method, path, body string
		status             int
		want               string
	}{
		{"GET", "/small", "", 200, `{"totalResults":1}`},
		{"GET", "/chunked", "", 200, big[:10] + big},
		{"GET", "/empty", "", 204, ""},
		{"GET", "/close", "", 200, "bye"},
		{"POST", "/post", `{"a":"b"}`, 201, `{"a":"b"}`},
		{"GET", "/small", "", 200, `{"totalResults":1}`},
	} {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		status, got, err := c.roundTrip(l.request(nil, tc.method, tc.path, body))
		if err != nil || status != tc.status || string(got) != tc.want {
			t.Errorf("%s %s: status %d, body %.40q, err %v; want %d %.40q", tc.method, tc.path, status, got, err, tc.status, tc.want)
		}
		if tc.path == "/close" && c.nc != nil {
			t.Error("the connection was kept after Connection: close")
		}
	}
}

// A response that is not HTTP is an error, not a hang or a panic.
func TestRawConnMalformed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	replies := []string{"garbage\r\n\r\n", "HTTP/1.1 2x0 OK\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}
	go func() {
		for _, reply := range replies {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_, _ = bufio.NewReader(conn).ReadString('\n')
			_, _ = conn.Write([]byte(reply))
			conn.Close()
		}
	}()
	for _, reply := range replies {
		c := newRawConn(ln.Addr().String())
		c.setDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := c.roundTrip([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n")); err == nil {
			t.Errorf("reply %q: no error", reply)
		}
		c.close()
	}
}

func TestTotalResults(t *testing.T) {
	for body, want := range map[string]int{`{"Resources":[],"totalResults":0}`: 0, `{"totalResults":12,"x":1}`: 12, `{"x":"totalResults"}`: -1, `{"totalResults":x}`: -1} {
		n, ok := totalResults([]byte(body))
		if !ok {
			n = -1
		}
		if n != want {
			t.Errorf("totalResults(%s) = %d, want %d", body, n, want)
		}
	}
}

// The whole tool against the real SCIM stack (SQLite file, auth, router)
// on loopback: every phase runs without a single error, and the checks on
// the bodies hold for the server's real answers.
func TestRunAgainstScimbridge(t *testing.T) {
	schema.SetAllowStringValues(true)
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "s.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	authn, err := auth.New([]auth.Tenant{{Name: "okta", TokenHashes: [][32]byte{auth.HashToken("tok")}}}, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := scim.New(st, authn, []scim.Tenant{{Name: "okta"}}, scim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)

	var out bytes.Buffer
	lookupsFile := filepath.Join(t.TempDir(), "lookups.txt")
	membersFile := filepath.Join(t.TempDir(), "members.txt")
	err = run(ctx, []string{"--url", ts.URL + "/scim/v2/okta", "--token", "tok", "--users", "60", "--clients", "1,3",
		"--duration", "300ms", "--group-members", "10", "--lookups-out", lookupsFile, "--members-out", membersFile}, &out)
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	// --members-out names the PATCHed group and users that exist.
	written, err := os.ReadFile(membersFile)
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(written), "\n"), "\n") {
		group, user, ok := strings.Cut(line, "\t")
		if !ok || !strings.HasPrefix(group, "/scim/v2/okta/Groups/") {
			t.Fatalf("--members-out line %q", line)
		}
		if i > 2 {
			continue
		}
		for _, target := range []string{group, "/scim/v2/okta/Users/" + user} {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+target, nil)
			req.Header.Set("Authorization", "Bearer tok")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s (from --members-out): %d", target, resp.StatusCode)
			}
		}
	}
	// Each line of --lookups-out is a lookup the server answers with the
	// user it names.
	written, err = os.ReadFile(lookupsFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(written), "\n"), "\n")
	if len(lines) != 60 { // every user: the table holds fewer than 2 x --lookup-users
		t.Errorf("--lookups-out wrote %d lines, want 60", len(lines))
	}
	for _, line := range lines[:3] {
		target, want, ok := strings.Cut(line, "\t")
		if !ok || !strings.HasPrefix(target, "/scim/v2/okta/Users?filter=") {
			t.Fatalf("--lookups-out line %q", line)
		}
		req, _ := http.NewRequest(http.MethodGet, ts.URL+target, nil)
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) || !strings.Contains(string(body), `"totalResults":1`) {
			t.Errorf("GET %s: %d %s; want one user with %s", target, resp.StatusCode, body, want)
		}
	}
	rows := 0
	for _, line := range strings.Split(out.String(), "\n") {
		f := strings.Fields(line)
		if len(f) < 9 || !strings.Contains("create get-by-filter patch-user patch-group-members", f[0]) || f[0] == "operation" {
			continue
		}
		rows++
		if f[2] == "0" || f[6] != "0" {
			t.Errorf("phase %s at %s clients: %s requests, %s errors", f[0], f[1], f[2], f[6])
		}
	}
	if rows != 8 {
		t.Errorf("%d result rows, want 8:\n%s", rows, out.String())
	}
	if strings.Contains(out.String(), "first error") {
		t.Errorf("errors reported:\n%s", out.String())
	}

	// A wrong token makes every request fail, and the tool says so.
	out.Reset()
	err = run(ctx, []string{"--url", ts.URL + "/scim/v2/okta", "--token", "wrong", "--users", "1", "--duration", "100ms"}, &out)
	if err == nil || !strings.Contains(fmt.Sprint(err), "401") {
		t.Errorf("wrong token: err %v", err)
	}
}
