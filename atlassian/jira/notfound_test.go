package jira_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/atlassian/clienttest"
	"github.com/scimbridge/scimbridge/atlassian/jira"
)

// client returns a Jira client for baseURL with the suite's PAT.
func client(t *testing.T, baseURL string) *jira.Client {
	t.Helper()
	c, err := jira.New(jira.Options{TransportOptions: clienttest.TransportOptions(t, baseURL, atlassian.BearerToken(clienttest.Token))})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serve404 answers every request with 404, contentType and body, as a server that is not Jira's
// REST API does.
func serve404(t *testing.T, contentType, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// A 404 that is not in Jira's JSON envelope (doc §1.1, §1.4) is no answer about a user or group:
// the HTML page of Tomcat or a proxy under a wrong BaseURL or context path, or an empty body. Read
// as NotFound it would make the engine create users that exist and think groups are gone, and the
// health probe (which counts NotFound as "the target answers") call the target healthy.
func TestNotFoundWithoutEnvelopeIsUnsupported(t *testing.T) {
	for name, srv := range map[string]*httptest.Server{
		"html":  serve404(t, "text/html;charset=utf-8", "<!doctype html><html><body><h1>HTTP Status 404 – Not Found</h1></body></html>"),
		"empty": serve404(t, "", ""),
		// Jira's REST layer for a path it does not serve, here because BaseURL points at another
		// application's REST API under the same host.
		"jersey": serve404(t, "application/json", `{"message":"null for uri: http://127.0.0.1/rest/api/2/user?username=jdoe","status-code":404}`),
	} {
		t.Run(name, func(t *testing.T) {
			c := client(t, srv.URL)
			ctx := t.Context()
			_, errGet := c.GetUser(ctx, "jdoe")
			for op, err := range map[string]error{
				"GetUser":      errGet,
				"ListMembers":  c.ListMembers(ctx, "devs", func(atlassian.User) error { return nil }),
				"RemoveMember": c.RemoveMember(ctx, "devs", "jdoe"),
				"DeleteUser":   c.DeleteUser(ctx, "jdoe"),
				"DeleteGroup":  c.DeleteGroup(ctx, "devs"),
				"SetActive":    c.SetActive(ctx, "jdoe", false),
				"ListUsers":    c.ListUsers(ctx, func(atlassian.User) error { return nil }),
			} {
				e, ok := errors.AsType[*atlassian.Error](err)
				if !ok || e.Kind != atlassian.Unsupported || e.Status != http.StatusNotFound ||
					errors.Is(err, atlassian.NotFound) || errors.Is(err, atlassian.NotMember) {
					t.Errorf("%s = %v, want Unsupported (HTTP 404)", op, err)
					continue
				}
				// The error says what is wrong and names the path, without the query.
				msg := err.Error()
				if !strings.Contains(msg, " /rest/api/2/") || strings.Contains(msg, "username=") || strings.Contains(msg, "groupname=") {
					t.Errorf("%s: %q does not name the path without its query", op, msg)
				}
				if !strings.Contains(msg, "does not look like Jira's REST API") && !strings.Contains(msg, "no resource at this path") {
					t.Errorf("%s: %q does not explain the 404", op, msg)
				}
			}
		})
	}
}

// A BaseURL with a context path the server does not have (…/jira on a root deployment) reaches the
// emulator's plain-text 404 page: GetUser must not report "no such user".
func TestWrongContextPathIsUnsupported(t *testing.T) {
	f := start(t, "", nil, nil)
	seedN(t, f.e, 1)
	srv := httptest.NewServer(f.e)
	t.Cleanup(srv.Close)
	wrong := client(t, srv.URL+"/jira")
	if _, err := wrong.GetUser(t.Context(), "user000"); !errors.Is(err, atlassian.Unsupported) {
		t.Fatalf("GetUser under a wrong context path = %v, want Unsupported", err)
	}
	// Jira's own 404s stay NotFound through the same client code.
	if _, err := f.c.GetUser(t.Context(), "ghost"); !errors.Is(err, atlassian.NotFound) {
		t.Fatalf("GetUser of a missing user = %v, want NotFound", err)
	}
	if err := f.c.ListMembers(t.Context(), "ghosts", func(atlassian.User) error { return nil }); !errors.Is(err, atlassian.NotFound) {
		t.Fatalf("ListMembers of a missing group = %v, want NotFound", err)
	}
}

// jerseyUserList answers /user/list the way Jira before 10.3 does (Jersey's 404 for a path no
// resource serves, not the errorMessages envelope) and passes everything else to the emulator.
func jerseyUserList(e *atlassiantest.Emulator) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/user/list") {
			w.Header().Set("Content-Type", "application/json;charset=UTF-8")
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"message":"null for uri: http://`+r.Host+r.URL.RequestURI()+`","status-code":404}`)
			return
		}
		e.ServeHTTP(w, r)
	})
}

// On a real Jira before 10.3, ListUsers still falls back from /user/list to /user/search, and a
// forced cursor listing says what is missing.
func TestUserListJersey404FallsBack(t *testing.T) {
	e := atlassiantest.New(atlassiantest.Options{Token: clienttest.Token, JiraVersion: "9.12.0"})
	for _, name := range []string{"amy", "bob", "cat"} {
		if err := e.AddUser(atlassiantest.SeedUser{Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(jerseyUserList(e))
	t.Cleanup(srv.Close)
	n := 0
	if err := client(t, srv.URL).ListUsers(t.Context(), func(atlassian.User) error { n++; return nil }); err != nil || n != 3 {
		t.Fatalf("ListUsers = %v after %d users, want 3 users through /user/search", err, n)
	}
	forced, err := jira.New(jira.Options{TransportOptions: clienttest.TransportOptions(t, srv.URL, atlassian.BearerToken(clienttest.Token)), UserListing: jira.ListCursor})
	if err != nil {
		t.Fatal(err)
	}
	err = forced.ListUsers(t.Context(), func(atlassian.User) error { return nil })
	if !errors.Is(err, atlassian.Unsupported) || !strings.Contains(err.Error(), "10.3") {
		t.Fatalf("ListCursor on Jira 9.12 = %v, want Unsupported naming 10.3", err)
	}
}
