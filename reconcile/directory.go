package reconcile

import (
	"context"
	"errors"
	"time"

	"github.com/scimbridge/scimbridge/atlassian"
)

// Directory is what the engine needs from an Atlassian user directory;
// *jira.Client and *crowd.Client satisfy it.
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

// transient reports whether err is worth retrying as is: rate limits, 5xx,
// connection trouble, timeouts. Everything else from Atlassian is a 4xx the
// bridge cannot resolve by itself (licence, permissions, invalid data) and
// is parked with its error visible until a reconcile or an admin retries.
func transient(err error) bool {
	if errors.Is(err, errPermanent) {
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	switch atlassian.KindOf(err) {
	case atlassian.Transient, atlassian.RateLimited:
		return true
	}
	var ae *atlassian.Error
	return !errors.As(err, &ae) // not an answer from Atlassian at all: network, our own bugs surfacing as errors
}

// backoff is the wait before retry n (1-based): 1 s doubling, capped at
// 30 s, never less than a Retry-After the target asked for.
func backoff(n int, err error) time.Duration {
	d := time.Second
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	var ae *atlassian.Error
	if errors.As(err, &ae) && ae.RetryAfter > d {
		d = min(ae.RetryAfter, 5*time.Minute)
	}
	return d
}

const maxBackoff = 30 * time.Second
