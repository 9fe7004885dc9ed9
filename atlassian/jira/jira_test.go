package jira_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
	"github.com/scimbridge/scimbridge/atlassian/clienttest"
	"github.com/scimbridge/scimbridge/atlassian/jira"
)

type fixture struct {
	e *atlassiantest.Emulator
	c *jira.Client
}

// start serves an emulator of the given Jira version on 127.0.0.1 and returns a client using auth
// (nil: the PAT).
func start(t *testing.T, version string, auth *atlassian.Auth, mod func(*jira.Options)) fixture {
	t.Helper()
	e := atlassiantest.New(atlassiantest.Options{Token: clienttest.Token, User: clienttest.User, Password: clienttest.Password, JiraVersion: version})
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	a := atlassian.BearerToken(clienttest.Token)
	if auth != nil {
		a = *auth
	}
	opts := jira.Options{TransportOptions: clienttest.TransportOptions(t, srv.URL, a)}
	if mod != nil {
		mod(&opts)
	}
	c, err := jira.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return fixture{e: e, c: c}
}

func basic() *atlassian.Auth {
	a := atlassian.BasicAuth(clienttest.User, clienttest.Password)
	return &a
}

func seedN(t *testing.T, e *atlassiantest.Emulator, n int) {
	t.Helper()
	for i := range n {
		if err := e.AddUser(atlassiantest.SeedUser{Name: fmt.Sprintf("user%03d", i), Inactive: i%7 == 0}); err != nil {
			t.Fatal(err)
		}
	}
}

func paths(e *atlassiantest.Emulator, from int) []string {
	var out []string
	for _, r := range e.Requests()[from:] {
		out = append(out, r.Path)
	}
	return out
}

func TestJiraBefore8_3CannotChangeActive(t *testing.T) {
	f := start(t, "8.2.0", basic(), nil)
	ctx := t.Context()
	if _, err := f.c.CreateUser(ctx, atlassian.NewUser{Name: "old", DisplayName: "Old Timer", Email: "old@example.com", Active: true}); err != nil {
		t.Fatal(err)
	}
	err := f.c.SetActive(ctx, "old", false)
	if !errors.Is(err, atlassian.Unsupported) || !strings.Contains(err.Error(), "error.no.value.found.to.be.changed") {
		t.Fatalf("SetActive on Jira 8.2 = %v, want Unsupported naming Jira's key", err)
	}
	if e, _ := errors.AsType[*atlassian.Error](err); e.Code != "error.no.value.found.to.be.changed" {
		t.Errorf("Code = %q", e.Code)
	}
	// Reported clearly: the bare i18n key is explained.
	if !strings.Contains(err.Error(), "Jira before 8.3 cannot (de)activate users") {
		t.Errorf("SetActive on Jira 8.2 does not explain the key: %v", err)
	}
	// Combined with another change, old Jira silently drops "active": still Unsupported.
	_, err = f.c.UpdateUser(ctx, "old", atlassian.UserUpdate{Active: new(bool), DisplayName: new("Renamed Display")})
	if !errors.Is(err, atlassian.Unsupported) {
		t.Fatalf("UpdateUser{Active,DisplayName} on 8.2 = %v, want Unsupported", err)
	}
	u, err := f.c.GetUser(ctx, "old")
	if err != nil || !u.Active {
		t.Fatalf("user after refused deactivation = %+v, %v", u, err)
	}
	// Asking for the state the user already has is not an error, even though Jira says "no change".
	if err := f.c.SetActive(ctx, "old", true); err != nil {
		t.Errorf("SetActive(true) on an active user: %v", err)
	}
	// Jira 8.2 creates the user active whatever "active" says; the client reports that it could not
	// deactivate it and still returns the created user.
	created, err := f.c.CreateUser(ctx, atlassian.NewUser{Name: "dormant", DisplayName: "Dormant", Email: "d@example.com", Active: false})
	if !errors.Is(err, atlassian.Unsupported) || created.Name != "dormant" || !created.Active {
		t.Fatalf("CreateUser(Active=false) on Jira 8.2 = %+v, %v; want the active user and Unsupported", created, err)
	}
	if u, err := f.c.GetUser(ctx, "dormant"); err != nil || !u.Active {
		t.Fatalf("dormant on Jira 8.2 = %+v, %v; want it created active", u, err)
	}
}

func TestJira10_0SearchCapIsReported(t *testing.T) {
	f := start(t, "10.0.0", nil, nil)
	seedN(t, f.e, 150)
	n := 0
	err := f.c.ListUsers(t.Context(), func(atlassian.User) error { n++; return nil })
	if !errors.Is(err, atlassian.Unsupported) || n != 100 {
		t.Fatalf("ListUsers on Jira 10.0 with 150 users = %v after %d users, want Unsupported after 100", err, n)
	}

	small := start(t, "10.0.0", nil, nil)
	seedN(t, small.e, 60)
	n = 0
	if err := small.c.ListUsers(t.Context(), func(atlassian.User) error { n++; return nil }); err != nil || n != 60 {
		t.Fatalf("ListUsers with 60 users = %v, %d users", err, n)
	}
}

func TestListingDetectionIsCached(t *testing.T) {
	f := start(t, "9.12.0", nil, nil)
	seedN(t, f.e, 3)
	noop := func(atlassian.User) error { return nil }
	if err := f.c.ListUsers(t.Context(), noop); err != nil {
		t.Fatal(err)
	}
	first := paths(f.e, 0)
	if first[0] != "/rest/api/2/user/list" || !slices.Contains(first, "/rest/api/2/user/search") {
		t.Fatalf("first listing requests = %v, want /user/list probe then /user/search", first)
	}
	mark := len(f.e.Requests())
	if err := f.c.ListUsers(t.Context(), noop); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(paths(f.e, mark), "/rest/api/2/user/list") {
		t.Error("second listing probed /user/list again")
	}

	cursor := start(t, "11.0.0", nil, func(o *jira.Options) { o.StreamPageSize = 2 })
	seedN(t, cursor.e, 5)
	n := 0
	if err := cursor.c.ListUsers(t.Context(), func(atlassian.User) error { n++; return nil }); err != nil || n != 5 {
		t.Fatalf("cursor listing = %v, %d users", err, n)
	}
	got := paths(cursor.e, 0)
	if len(got) != 3 || slices.Contains(got, "/rest/api/2/user/search") {
		t.Errorf("cursor listing requests = %v, want 3 pages of /user/list", got)
	}

	forced := start(t, "11.0.0", nil, func(o *jira.Options) { o.UserListing = jira.ListSearch })
	seedN(t, forced.e, 2)
	if err := forced.c.ListUsers(t.Context(), noop); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(paths(forced.e, 0), "/rest/api/2/user/list") {
		t.Error("ListSearch used /user/list")
	}
}

// Forcing the /user/list stream on a Jira without it (9.12) is reported as Unsupported, not as a
// missing user or group.
func TestForcedCursorListingOnOldJiraIsUnsupported(t *testing.T) {
	f := start(t, "9.12.0", nil, func(o *jira.Options) { o.UserListing = jira.ListCursor })
	seedN(t, f.e, 2)
	n := 0
	err := f.c.ListUsers(t.Context(), func(atlassian.User) error { n++; return nil })
	e, ok := errors.AsType[*atlassian.Error](err)
	if !ok || e.Kind != atlassian.Unsupported || e.Status != 404 || n != 0 || !strings.Contains(err.Error(), "10.3") {
		t.Fatalf("ListCursor on Jira 9.12 = %v after %d users, want Unsupported naming 10.3", err, n)
	}
}

func TestJira11BasicAuthDisabledIsForbidden(t *testing.T) {
	f := start(t, "11.0.0", basic(), nil)
	_, err := f.c.GetUser(t.Context(), "anyone")
	if !errors.Is(err, atlassian.Forbidden) || !strings.Contains(err.Error(), "Basic Authentication has been disabled") {
		t.Fatalf("err = %v, want Forbidden with Jira's message", err)
	}
	pat := start(t, "11.0.0", nil, nil)
	if _, err := pat.c.GetUser(t.Context(), "anyone"); !errors.Is(err, atlassian.NotFound) {
		t.Fatalf("PAT on Jira 11: %v, want NotFound (authenticated)", err)
	}
}

func TestFailedBasicAuthCarriesSeraphReason(t *testing.T) {
	bad := atlassian.BasicAuth(clienttest.User, "wrong-password")
	f := start(t, "9.12.0", &bad, nil)
	_, err := f.c.GetUser(t.Context(), "anyone")
	e, ok := errors.AsType[*atlassian.Error](err)
	if !ok || e.Kind != atlassian.Unauthorized || e.Code != "AUTHENTICATED_FAILED" || strings.Contains(err.Error(), "<html>") {
		t.Fatalf("err = %#v", err)
	}
	if strings.Contains(err.Error(), "wrong-password") {
		t.Error("password in error")
	}
}

func TestListGroupsReportsTruncation(t *testing.T) {
	f := start(t, "", nil, func(o *jira.Options) { o.GroupPickerLimit = 1 })
	groups, err := f.c.ListGroups(t.Context())
	if !errors.Is(err, atlassian.Unsupported) || len(groups) != 1 {
		t.Fatalf("ListGroups with limit 1 = %v, %v; want 1 group and Unsupported", groups, err)
	}
}

func TestServerInfo(t *testing.T) {
	f := start(t, "10.3.2", nil, nil)
	info, err := f.c.ServerInfo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.Version != "10.3.2" || !info.AtLeast(10, 3) || info.AtLeast(10, 4) || !info.AtLeast(9, 99) || info.AtLeast(11, 0) {
		t.Errorf("info = %+v", info)
	}
}

// recorder is a minimal Jira stand-in that records request bodies, for asserting wire shapes.
type recorder struct {
	mu     sync.Mutex
	bodies []map[string]any
	answer string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	r.mu.Lock()
	r.bodies = append(r.bodies, m)
	r.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, r.answer)
}

func TestCreateUserWireShape(t *testing.T) {
	rec := &recorder{answer: `{"name":"jdoe","key":"JIRAUSER10100","active":true,"lastLoginTime":"2026-01-02T03:04:05.000+0100"}`}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	c, err := jira.New(jira.Options{TransportOptions: atlassian.TransportOptions{BaseURL: srv.URL, Auth: atlassian.BearerToken("t")}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateUser(t.Context(), atlassian.NewUser{Name: "jdoe", DisplayName: "J", Email: "j@x.io", Active: true})
	if err != nil {
		t.Fatal(err)
	}
	if u.LastLogin == nil || u.LastLogin.Format("2006-01-02T15:04:05Z07:00") != "2026-01-02T02:04:05Z" {
		t.Errorf("LastLogin = %v", u.LastLogin)
	}
	if _, err := c.CreateUser(t.Context(), atlassian.NewUser{Name: "jdoe", DisplayName: "J", Email: "j@x.io", Password: "p", ApplicationKeys: []string{}, Active: true}); err != nil {
		t.Fatal(err)
	}
	first, second := rec.bodies[0], rec.bodies[1]
	if _, ok := first["password"]; ok {
		t.Error("empty password was sent; Jira should generate one")
	}
	if _, ok := first["applicationKeys"]; ok {
		t.Error("nil ApplicationKeys was sent")
	}
	if keys, ok := second["applicationKeys"].([]any); !ok || len(keys) != 0 {
		t.Errorf("empty ApplicationKeys sent as %#v, want []", second["applicationKeys"])
	}
	if first["name"] != "jdoe" || first["emailAddress"] != "j@x.io" || first["displayName"] != "J" || first["active"] != true || second["password"] != "p" {
		t.Errorf("bodies = %v", rec.bodies)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	for _, o := range []jira.Options{
		{},
		{TransportOptions: atlassian.TransportOptions{BaseURL: "http://x", Auth: atlassian.BearerToken("t")}, PageSize: -1},
		{TransportOptions: atlassian.TransportOptions{BaseURL: "http://x", Auth: atlassian.BearerToken("t")}, UserListing: 9},
	} {
		if c, err := jira.New(o); err == nil || c != nil {
			t.Errorf("New(%+v) = %v, %v; want error", o.PageSize, c, err)
		}
	}
}

func BenchmarkGetUser(b *testing.B) {
	e := atlassiantest.New(atlassiantest.Options{Token: clienttest.Token})
	if err := e.AddUser(atlassiantest.SeedUser{Name: "bench", EmailAddress: "bench@example.com"}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(e)
	defer srv.Close()
	c, err := jira.New(jira.Options{TransportOptions: atlassian.TransportOptions{BaseURL: srv.URL, Auth: atlassian.BearerToken(clienttest.Token)}})
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

// cannedUser answers every request with one user, without a network: what is left is the
// client's own cost per call (request building, auth, limiter, JSON decoding, logging).
type cannedUser struct{ body []byte }

func (c cannedUser) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(string(c.body))), ContentLength: int64(len(c.body)), Request: r}, nil
}

func BenchmarkGetUserClientOnly(b *testing.B) {
	body := []byte(`{"self":"http://jira/rest/api/2/user?username=bench","key":"JIRAUSER10100","name":"bench",` +
		`"emailAddress":"bench@example.com","displayName":"Bench Mark","active":true,"deleted":false,"timeZone":"UTC",` +
		`"locale":"en_US","groups":{"size":0,"items":[]},"applicationRoles":{"size":0,"items":[]},"expand":"groups,applicationRoles"}`)
	c, err := jira.New(jira.Options{TransportOptions: atlassian.TransportOptions{BaseURL: "http://jira.invalid",
		Auth: atlassian.BearerToken("t"), HTTPClient: &http.Client{Transport: cannedUser{body}}, RatePerSecond: 1e9, Burst: 1 << 30}})
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

func TestKindsSurfaceWhenRetriesAreOff(t *testing.T) {
	f := start(t, "", nil, func(o *jira.Options) { o.MaxRetries = -1 })
	seedN(t, f.e, 1)
	ctx := t.Context()

	_, err := f.c.CreateUser(ctx, atlassian.NewUser{Name: "bad", DisplayName: "Bad", Email: "not-an-email", Active: true})
	if e, ok := errors.AsType[*atlassian.Error](err); !ok || e.Kind != atlassian.Invalid || e.Fields["email"] == "" {
		t.Fatalf("invalid email = %v, want Invalid with a field message", err)
	}

	f.e.SetFaults(atlassiantest.Faults{RateLimitPerSecond: 1, Burst: 1})
	if _, err := f.c.GetUser(ctx, "user000"); err != nil {
		t.Fatal(err)
	}
	_, err = f.c.GetUser(ctx, "user000")
	e, ok := errors.AsType[*atlassian.Error](err)
	if !ok || e.Kind != atlassian.RateLimited || e.RetryAfter != time.Second || e.Status != 429 {
		t.Fatalf("over the rate limit = %#v, want RateLimited with RetryAfter 1s", err)
	}

	f.e.SetFaults(atlassiantest.Faults{ErrorRate: 1, ErrorStatus: 503})
	if _, err := f.c.GetUser(ctx, "user000"); !errors.Is(err, atlassian.Transient) {
		t.Fatalf("503 = %v, want Transient", err)
	}
	f.e.SetFaults(atlassiantest.Faults{DropRate: 1})
	_, err = f.c.GetUser(ctx, "user000")
	if e, ok := errors.AsType[*atlassian.Error](err); !ok || e.Kind != atlassian.Transient || e.Status != 0 || e.Err == nil {
		t.Fatalf("dropped connection = %#v, want Transient without status", err)
	}
}

// A page size above the server's cap (Jira: 50 per member page) still lists every member once:
// the next page starts after the values received, not after the size asked for.
func TestListMembersPageSizeAboveServerCap(t *testing.T) {
	f := start(t, "", nil, func(o *jira.Options) { o.PageSize = 100 })
	for i := range 120 {
		if err := f.e.AddUser(atlassiantest.SeedUser{Name: fmt.Sprintf("m%03d", i), Inactive: i%5 == 0, Groups: []string{"crew"}}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	err := f.c.ListMembers(t.Context(), "crew", func(u atlassian.User) error {
		if seen[u.Name] {
			return fmt.Errorf("%s listed twice", u.Name)
		}
		seen[u.Name] = true
		return nil
	})
	if err != nil || len(seen) != 120 {
		t.Fatalf("ListMembers with PageSize 100 = %v, %d members; want all 120", err, len(seen))
	}
	if got := paths(f.e, 0); len(got) != 3 {
		t.Errorf("%d requests (%v), want 3 pages of 50", len(got), got)
	}
}
