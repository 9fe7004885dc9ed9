package metrics

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
)

// Directory is the Atlassian directory the engine calls (the method set of
// reconcile.Directory, which *jira.Client and *crowd.Client satisfy).
type Directory interface {
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

// operations are the operation label values, one per Directory method.
var operations = []string{
	"get_user", "create_user", "update_user", "rename_user", "set_active", "delete_user", "list_users",
	"list_groups", "create_group", "delete_group", "add_member", "remove_member", "list_members",
}

// InstrumentedDirectory is a Directory that counts and times every call to
// the one it wraps. The duration is the whole logical call: the transport's
// retries and rate-limit waits, and for listings every page and the
// caller's callback.
type InstrumentedDirectory struct {
	m      *Metrics
	target string
	next   Directory
}

// Directory wraps d, the client of the named target.
func (m *Metrics) Directory(target string, d Directory) *InstrumentedDirectory {
	return &InstrumentedDirectory{m: m, target: m.targetLabel(target), next: d}
}

// observe records one finished call that started at start.
func (d *InstrumentedDirectory) observe(op string, start time.Time, err error) {
	d.m.atlDuration.WithLabelValues(d.target, op).Observe(time.Since(start).Seconds())
	d.m.atlRequests.WithLabelValues(d.target, op, callStatus(err)).Inc()
}

// GetUser calls the wrapped directory's GetUser.
func (d *InstrumentedDirectory) GetUser(ctx context.Context, username string) (atlassian.User, error) {
	start := time.Now()
	u, err := d.next.GetUser(ctx, username)
	d.observe("get_user", start, err)
	return u, err
}

// CreateUser calls the wrapped directory's CreateUser.
func (d *InstrumentedDirectory) CreateUser(ctx context.Context, n atlassian.NewUser) (atlassian.User, error) {
	start := time.Now()
	u, err := d.next.CreateUser(ctx, n)
	d.observe("create_user", start, err)
	return u, err
}

// UpdateUser calls the wrapped directory's UpdateUser.
func (d *InstrumentedDirectory) UpdateUser(ctx context.Context, username string, upd atlassian.UserUpdate) (atlassian.User, error) {
	start := time.Now()
	u, err := d.next.UpdateUser(ctx, username, upd)
	d.observe("update_user", start, err)
	return u, err
}

// RenameUser calls the wrapped directory's RenameUser.
func (d *InstrumentedDirectory) RenameUser(ctx context.Context, oldName, newName string) (atlassian.User, error) {
	start := time.Now()
	u, err := d.next.RenameUser(ctx, oldName, newName)
	d.observe("rename_user", start, err)
	return u, err
}

// SetActive calls the wrapped directory's SetActive.
func (d *InstrumentedDirectory) SetActive(ctx context.Context, username string, active bool) error {
	start := time.Now()
	err := d.next.SetActive(ctx, username, active)
	d.observe("set_active", start, err)
	return err
}

// DeleteUser calls the wrapped directory's DeleteUser.
func (d *InstrumentedDirectory) DeleteUser(ctx context.Context, username string) error {
	start := time.Now()
	err := d.next.DeleteUser(ctx, username)
	d.observe("delete_user", start, err)
	return err
}

// ListUsers calls the wrapped directory's ListUsers.
func (d *InstrumentedDirectory) ListUsers(ctx context.Context, fn func(atlassian.User) error) error {
	start := time.Now()
	err := d.next.ListUsers(ctx, fn)
	d.observe("list_users", start, err)
	return err
}

// ListGroups calls the wrapped directory's ListGroups.
func (d *InstrumentedDirectory) ListGroups(ctx context.Context) ([]atlassian.Group, error) {
	start := time.Now()
	gs, err := d.next.ListGroups(ctx)
	d.observe("list_groups", start, err)
	return gs, err
}

// CreateGroup calls the wrapped directory's CreateGroup.
func (d *InstrumentedDirectory) CreateGroup(ctx context.Context, name string) error {
	start := time.Now()
	err := d.next.CreateGroup(ctx, name)
	d.observe("create_group", start, err)
	return err
}

// DeleteGroup calls the wrapped directory's DeleteGroup.
func (d *InstrumentedDirectory) DeleteGroup(ctx context.Context, name string) error {
	start := time.Now()
	err := d.next.DeleteGroup(ctx, name)
	d.observe("delete_group", start, err)
	return err
}

// AddMember calls the wrapped directory's AddMember.
func (d *InstrumentedDirectory) AddMember(ctx context.Context, group, username string) error {
	start := time.Now()
	err := d.next.AddMember(ctx, group, username)
	d.observe("add_member", start, err)
	return err
}

// RemoveMember calls the wrapped directory's RemoveMember.
func (d *InstrumentedDirectory) RemoveMember(ctx context.Context, group, username string) error {
	start := time.Now()
	err := d.next.RemoveMember(ctx, group, username)
	d.observe("remove_member", start, err)
	return err
}

// ListMembers calls the wrapped directory's ListMembers.
func (d *InstrumentedDirectory) ListMembers(ctx context.Context, group string, fn func(atlassian.User) error) error {
	start := time.Now()
	err := d.next.ListMembers(ctx, group, fn)
	d.observe("list_members", start, err)
	return err
}

// callStatus is the status label of a finished call: ok, the kind of the
// *atlassian.Error in err's chain, canceled or timeout for a context that
// ended, else error (a transport failure without an answer).
func callStatus(err error) string {
	if err == nil {
		return "ok"
	}
	if e, ok := errors.AsType[*atlassian.Error](err); ok {
		return kindLabel(e.Kind)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}

func kindLabel(k atlassian.ErrorKind) string {
	switch k {
	case atlassian.NotFound:
		return "not_found"
	case atlassian.AlreadyExists:
		return "already_exists"
	case atlassian.AlreadyMember:
		return "already_member"
	case atlassian.NotMember:
		return "not_member"
	case atlassian.Forbidden:
		return "forbidden"
	case atlassian.Unauthorized:
		return "unauthorized"
	case atlassian.LicenseLimit:
		return "license_limit"
	case atlassian.DeleteRefused:
		return "delete_refused"
	case atlassian.ReadOnlyDirectory:
		return "read_only_directory"
	case atlassian.RateLimited:
		return "rate_limited"
	case atlassian.Unsupported:
		return "unsupported"
	case atlassian.Transient:
		return "transient"
	case atlassian.Invalid:
		return "invalid"
	}
	return "other"
}

// RoundTripper counts every HTTP attempt the target's transport sends
// through it (the transport retries inside one Directory call, so this is
// where each 429 is seen) and the waits the target asks for. next nil means
// a clone of http.DefaultTransport. Plug it in as
// TransportOptions.HTTPClient = &http.Client{Transport: m.RoundTripper(name, nil)}.
func (m *Metrics) RoundTripper(target string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport.(*http.Transport).Clone()
	}
	return &countingTransport{m: m, target: m.targetLabel(target), next: next, now: time.Now}
}

type countingTransport struct {
	m      *Metrics
	target string
	next   http.RoundTripper
	now    func() time.Time
}

func (t *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		t.m.atlAttempts.WithLabelValues(t.target, "error").Inc()
		return resp, err
	}
	t.m.atlAttempts.WithLabelValues(t.target, strconv.Itoa(resp.StatusCode)).Inc()
	if resp.StatusCode == http.StatusTooManyRequests {
		t.m.atlRateLimited.WithLabelValues(t.target).Inc()
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		if d, ok := atlassian.ParseRetryAfter(resp.Header.Get("Retry-After"), t.now()); ok && d > 0 {
			// A server's absurd value must not swamp the sum.
			t.m.atlRetryAfter.WithLabelValues(t.target).Add(min(d, time.Hour).Seconds())
		}
	}
	return resp, nil
}
