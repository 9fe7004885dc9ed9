// Package clienttest is the conformance suite every Atlassian user-directory client in this tree
// (jira, crowd) must pass. It runs the client against the atlassiantest emulator served over a
// real HTTP server on 127.0.0.1 and checks the outcome both through the client and through the
// emulator's own state, so that a client and the emulator cannot agree on a mistake unnoticed.
//
// A product's test file is a few lines:
//
//	func TestConformance(t *testing.T) {
//		clienttest.Run(t, func(t *testing.T, e *atlassiantest.Emulator, baseURL string) clienttest.Client {
//			c, err := jira.New(jira.Options{TransportOptions: clienttest.TransportOptions(t, baseURL,
//				atlassian.BearerToken(clienttest.Token))})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return c
//		})
//	}
package clienttest

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
	"github.com/scimbridge/scimbridge/atlassian/atlassiantest"
)

// Credentials every emulator of the suite accepts; the client under test must use them (a PAT for
// the Jira face, basic user/password for Jira basic auth and for the Crowd application).
const (
	Token    = "clienttest-personal-access-token"
	User     = "clienttest-admin"
	Password = "clienttest-app-password"
)

// Client is the method set both product clients share; the suite exercises exactly this.
type Client interface {
	GetUser(ctx context.Context, username string) (atlassian.User, error)
	CreateUser(ctx context.Context, n atlassian.NewUser) (atlassian.User, error)
	UpdateUser(ctx context.Context, username string, upd atlassian.UserUpdate) (atlassian.User, error)
	RenameUser(ctx context.Context, oldName, newName string) (atlassian.User, error)
	SetActive(ctx context.Context, username string, active bool) error
	DeleteUser(ctx context.Context, username string) error
	ListUsers(ctx context.Context, fn func(atlassian.User) error) error
	ListGroups(ctx context.Context) ([]atlassian.Group, error)
	CreateGroup(ctx context.Context, name string) error
	DeleteGroup(ctx context.Context, name string) error
	AddMember(ctx context.Context, group, username string) error
	RemoveMember(ctx context.Context, group, username string) error
	ListMembers(ctx context.Context, group string, fn func(atlassian.User) error) error
}

// NewClient builds the client under test for the emulator e served at baseURL.
type NewClient func(t *testing.T, e *atlassiantest.Emulator, baseURL string) Client

// Config varies the emulated server.
type Config struct {
	// JiraVersion is passed to atlassiantest.Options; empty is the emulator's default.
	JiraVersion string
}

// TransportOptions returns transport settings for tests: many retries with millisecond backoff
// (so fault runs stay fast), and retry warnings written to the test's output.
func TransportOptions(t *testing.T, baseURL string, auth atlassian.Auth) atlassian.TransportOptions {
	return atlassian.TransportOptions{
		BaseURL:    baseURL,
		Auth:       auth,
		Timeout:    10 * time.Second,
		MaxRetries: 10,
		MinBackoff: time.Millisecond,
		MaxBackoff: 10 * time.Millisecond,
		Logger:     slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// env is one emulator, its server and the client under test.
type env struct {
	e   *atlassiantest.Emulator
	url string
	c   Client
}

func newEnv(t *testing.T, cfg Config, newClient NewClient, opts atlassiantest.Options) *env {
	t.Helper()
	if opts.Token == "" && opts.User == "" {
		opts.Token, opts.User, opts.Password = Token, User, Password
	}
	opts.JiraVersion = cfg.JiraVersion
	opts.Seed = 42
	e := atlassiantest.New(opts)
	srv := httptest.NewServer(e) // listens on 127.0.0.1
	t.Cleanup(srv.Close)
	return &env{e: e, url: srv.URL, c: newClient(t, e, srv.URL)}
}

// Run runs the whole suite against the emulator's default version.
func Run(t *testing.T, newClient NewClient) { RunConfig(t, Config{}, newClient) }

// RunConfig runs the whole suite against the server described by cfg.
func RunConfig(t *testing.T, cfg Config, newClient NewClient) {
	tests := []struct {
		name string
		fn   func(t *testing.T, cfg Config, newClient NewClient)
	}{
		{"CreateAndGet", testCreateAndGet},
		{"Update", testUpdate},
		{"Rename", testRename},
		{"DeactivateReactivate", testActive},
		{"Delete", testDelete},
		{"LicenceLimit", testLicence},
		{"Groups", testGroups},
		{"Membership", testMembership},
		{"MemberPaging", testMemberPaging},
		{"ListUsers", testListUsers},
		{"LastLogin", testLastLogin},
		{"ReadOnlyDirectory", testReadOnly},
		{"Unauthorized", testUnauthorized},
		{"RateLimit", testRateLimit},
		{"Faults", testFaults},
		{"Latency", testLatency},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, cfg, newClient) })
	}
}
