package crowd_test

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
	"github.com/scimbridge/scimbridge/atlassian/crowd"
)

func startWith(t *testing.T, h func(e *atlassiantest.Emulator) http.Handler, mod func(*crowd.Options)) (*atlassiantest.Emulator, *crowd.Client) {
	t.Helper()
	e := atlassiantest.New(atlassiantest.Options{User: clienttest.User, Password: clienttest.Password})
	var handler http.Handler = e
	if h != nil {
		handler = h(e)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	opts := crowd.Options{TransportOptions: clienttest.TransportOptions(t, srv.URL, atlassian.BasicAuth(clienttest.User, clienttest.Password))}
	if mod != nil {
		mod(&opts)
	}
	c, err := crowd.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return e, c
}

// bodylessCreate strips the optional entity from 201 answers to POST /user (doc §3.4: RCC only
// "optionally receives" it).
type bodylessCreate struct{ next http.Handler }

type discardBody struct{ http.ResponseWriter }

func (d discardBody) Write(b []byte) (int, error) { return len(b), nil }

func (d discardBody) WriteHeader(code int) {
	d.Header().Set("Content-Length", "0")
	d.ResponseWriter.WriteHeader(code)
}

func (b bodylessCreate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/user") {
		b.next.ServeHTTP(discardBody{w}, r)
		return
	}
	b.next.ServeHTTP(w, r)
}

func TestCreateWithoutAnswerBodyReadsBack(t *testing.T) {
	e, c := startWith(t, func(e *atlassiantest.Emulator) http.Handler { return bodylessCreate{e} }, nil)
	u, err := c.CreateUser(t.Context(), atlassian.NewUser{Name: "Quiet", DisplayName: "Very Quiet", Email: "q@example.com", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	st := e.State().Users
	if len(st) != 1 || u.Name != "Quiet" || u.Key != st[0].Key || u.DisplayName != "Very Quiet" {
		t.Fatalf("created %+v, emulator has %+v", u, st)
	}
}

func TestCreateWithUnknownApplicationKeyChangesNothing(t *testing.T) {
	e, c := startWith(t, nil, nil)
	_, err := c.CreateUser(t.Context(), atlassian.NewUser{Name: "x", DisplayName: "X", Email: "x@example.com", ApplicationKeys: []string{"bitbucket"}})
	if !errors.Is(err, atlassian.Invalid) {
		t.Fatalf("err = %v, want Invalid", err)
	}
	if n := len(e.State().Users); n != 0 {
		t.Errorf("%d users created", n)
	}
	if n := len(e.Requests()); n != 0 {
		t.Errorf("%d requests sent for a locally invalid create", n)
	}
}

func TestApplicationGroupsOption(t *testing.T) {
	e, c := startWith(t, nil, func(o *crowd.Options) { o.ApplicationGroups = map[string]string{"conf": "confluence-users"} })
	if err := c.CreateGroup(t.Context(), "confluence-users"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUser(t.Context(), atlassian.NewUser{Name: "w", DisplayName: "W", Email: "w@example.com", ApplicationKeys: []string{"conf"}, Active: true}); err != nil {
		t.Fatal(err)
	}
	if g := e.State().Users[0].Groups; len(g) != 1 || g[0] != "confluence-users" {
		t.Errorf("groups = %v", g)
	}
}

func TestRenameOnOldCrowdIsUnsupported(t *testing.T) {
	// Crowd before 2.8.4 has no /user/rename: a plain 404 (RCC treats it as unsupported).
	old := func(e *atlassiantest.Emulator) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/user/rename") {
				w.WriteHeader(http.StatusNotFound)
				_, _ = io.WriteString(w, "<html>Not Found</html>")
				return
			}
			e.ServeHTTP(w, r)
		})
	}
	e, c := startWith(t, old, nil)
	if err := e.AddUser(atlassiantest.SeedUser{Name: "a"}); err != nil {
		t.Fatal(err)
	}
	_, err := c.RenameUser(t.Context(), "a", "b")
	if !errors.Is(err, atlassian.Unsupported) {
		t.Fatalf("err = %v, want Unsupported", err)
	}
	// On a current Crowd, renaming a missing user is NotFound, not Unsupported.
	_, c2 := startWith(t, nil, nil)
	if _, err := c2.RenameUser(t.Context(), "ghost", "b"); !errors.Is(err, atlassian.NotFound) {
		t.Fatalf("rename missing user = %v, want NotFound", err)
	}
}

func TestExistingMembershipIs409(t *testing.T) {
	e, c := startWith(t, nil, nil)
	if err := e.AddUser(atlassiantest.SeedUser{Name: "m", Groups: []string{"g"}}); err != nil {
		t.Fatal(err)
	}
	before := len(e.Requests())
	if err := c.AddMember(t.Context(), "g", "m"); err != nil {
		t.Fatalf("AddMember on an existing membership = %v, want success", err)
	}
	reqs := e.Requests()[before:]
	if len(reqs) != 1 || reqs[0].Status != http.StatusConflict || reqs[0].Path != "/rest/usermanagement/1/user/group/direct" {
		t.Errorf("requests = %+v, want one POST answered 409", reqs)
	}
}

func BenchmarkGetUser(b *testing.B) {
	e := atlassiantest.New(atlassiantest.Options{User: "app", Password: "pw"})
	if err := e.AddUser(atlassiantest.SeedUser{Name: "bench", EmailAddress: "bench@example.com"}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	c, err := crowd.New(crowd.Options{TransportOptions: atlassian.TransportOptions{BaseURL: srv.URL, Auth: atlassian.BasicAuth("app", "pw")}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetUser(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
	}
}
