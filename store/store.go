// Package store owns the domain records of scimbridge (the desired state the
// IdPs pushed, the outbox, and later runs and results), the Store contract
// every backend implements, and the sentinel errors callers branch on.
//
// All methods are tenant-scoped: a resource of tenant A is never visible,
// matched or conflicting in tenant B.
package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap them with context; callers use errors.Is.
var (
	// ErrNotFound means the resource does not exist in this tenant (or was deleted).
	ErrNotFound = errors.New("not found")
	// ErrConflict means a uniqueness rule would be broken: userName and group
	// displayName are unique per tenant, case-insensitively. externalId is not
	// unique (RFC 7643 section 3.1 gives it uniqueness "none"; Microsoft's
	// reference tests post several users with one externalId).
	ErrConflict = errors.New("conflict")
	// ErrInvalidMember means a group member refers to no user or group of the tenant.
	ErrInvalidMember = errors.New("invalid member")
)

// ResourceKind names the SCIM resource type of a record.
type ResourceKind string

// Resource kinds.
const (
	KindUser  ResourceKind = "User"
	KindGroup ResourceKind = "Group"
)

// User is a SCIM User as the IdP wrote it.
type User struct {
	ID         string // ours, a UUID; assigned by CreateUser when empty
	Tenant     string
	ExternalID string // "" when absent; matched case-exactly
	UserName   string // unique per tenant, case-insensitively; stored as sent
	Active     bool
	// Attributes is the SCIM resource as stored: every attribute the IdP sent
	// with canonical names, extensions nested under their schema URN, without
	// id, meta, groups, externalId, userName and active (those live in the
	// fields above) and without write-only password.
	Attributes map[string]any
	// RawAttributes is set instead of Attributes by ListUsers when the
	// query asks for it: Attributes as the store keeps them, a JSON object
	// that decodes to Attributes (numbers as int64 when integral and in
	// range, else float64). Its form is otherwise the store's: a reader
	// must check what it relies on. Ignored by writes.
	RawAttributes string
	// Groups is computed by reads (GetUser, ListUsers): the groups the user is
	// a direct member of, ordered by display name. Ignored by writes.
	Groups []GroupRef
	// Version starts at 1 and grows with every change of what a read
	// returns: the user's own fields, and its Groups (it joined or left a
	// group, or one of its groups was renamed or deleted); UpdatedAt moves
	// with it. The ETag is W/"<Version>".
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
	// Memo, set by some reads of some backends, is shared by every read of
	// this user that returns the same data, until the user or its groups
	// change (see Memo). Nil when the backend keeps none. Ignored by
	// writes.
	Memo *Memo
}

// GroupRef is a reference from a user to a group it belongs to.
type GroupRef struct {
	ID          string
	DisplayName string
}

// Group is a SCIM Group as the IdP wrote it.
type Group struct {
	ID          string // ours, a UUID; assigned by CreateGroup when empty
	Tenant      string
	ExternalID  string
	DisplayName string // unique per tenant, case-insensitively
	// Attributes holds any other attributes (extensions), without id, meta,
	// displayName, externalId and members.
	Attributes map[string]any
	// Members is loaded by GetGroup/ListGroups only when asked for
	// (WithMembers); on writes it is the complete desired member list.
	Members []Member
	// Version starts at 1 and grows with every change of what a read
	// returns: the group's own fields, its member list, and a member's
	// display (a member user or group renamed); UpdatedAt moves with it.
	Version   int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Member is one member of a group.
type Member struct {
	Value string       // the member's id (a User or Group of the same tenant)
	Kind  ResourceKind // KindUser or KindGroup; filled in by the store on read and write
	// Display is the member's current userName/displayName... precisely: the
	// user's displayName attribute if set, else its userName; a group's
	// displayName. Filled in by the store on read; ignored on write.
	Display string
}

// Query selects a page of resources.
type Query struct {
	Filter Filter // nil: all
	Offset int    // 0-based (SCIM startIndex-1)
	Limit  int    // page size; 0 means "count only": no rows, just the total
	// WithMembers loads Group.Members (ignored for users).
	WithMembers bool
	// RawAttributes asks ListUsers for User.RawAttributes instead of
	// User.Attributes (left nil), for callers that render them as JSON.
	RawAttributes bool
}

// Job is an outbox row: "resource X of tenant T changed". It never says what
// to do; the engine computes that from the store (level-triggered).
type Job struct {
	ID int64
	// Seq changes every time the resource is enqueued again, so the engine
	// can tell "done" from "changed while I was applying".
	Seq        int64
	State      JobState
	Tenant     string
	Kind       ResourceKind
	ResourceID string
	NotBefore  time.Time
	Attempts   int
	LastError  string
	CreatedAt  time.Time
}

// Store is the contract every backend implements. Every method honours ctx.
//
// Writes that change a user or group (create, update that changed something,
// delete, and membership changes) enqueue a Job for that resource in the same
// transaction, so an accepted change is never lost. There is at most one
// pending job per (tenant, kind, resource): enqueueing again makes it due now
// (not_before = now), bumps its Seq, unparks it (Attempts 0) and keeps its
// CreatedAt.
//
// Because the engine works user by user, a change to a group also enqueues a
// job for every user whose (flattened, nested) membership it changes: users
// added or removed by UpdateGroup (directly or through a nested group), every
// user member of a group that is renamed or deleted, and the group itself.
type Store interface {
	// CreateUser stores a new user and returns it with ID, Version 1 and times
	// set. Returns ErrConflict if userName (case-insensitively) is taken in
	// the tenant.
	CreateUser(ctx context.Context, u User) (User, error)
	// GetUser returns ErrNotFound if the user does not exist or was deleted.
	GetUser(ctx context.Context, tenant, id string) (User, error)
	// ListUsers returns one page in a stable order (creation order) and the
	// total number of matches. Returns an error wrapping ErrUnsupportedFilter
	// for a filter the backend cannot translate.
	ListUsers(ctx context.Context, tenant string, q Query) ([]User, int, error)
	// UpdateUser reads the user, calls fn on a copy inside one write
	// transaction, and saves the result; fn's error aborts and is returned
	// unwrapped-compatible (errors.Is works). ID, Tenant, CreatedAt, Groups and
	// Version set by fn are ignored. If fn changed nothing, nothing is written,
	// the version is kept and no job is enqueued. Returns ErrNotFound,
	// ErrConflict.
	UpdateUser(ctx context.Context, tenant, id string, fn func(*User) error) (User, error)
	// DeleteUser deletes the user (a tombstone kept for the engine; userName
	// and externalId become free) and removes it from every group. Returns
	// ErrNotFound.
	DeleteUser(ctx context.Context, tenant, id string) error

	// CreateGroup stores a new group with its members. Returns ErrConflict
	// (displayName taken), ErrInvalidMember.
	CreateGroup(ctx context.Context, g Group) (Group, error)
	// GetGroup returns ErrNotFound; members are loaded only if withMembers.
	GetGroup(ctx context.Context, tenant, id string, withMembers bool) (Group, error)
	// ListGroups is ListUsers for groups.
	ListGroups(ctx context.Context, tenant string, q Query) ([]Group, int, error)
	// UpdateGroup is UpdateUser for groups. fn receives the group with all its
	// members loaded; the store applies only the difference of the member
	// list. Returns ErrNotFound, ErrConflict, ErrInvalidMember.
	UpdateGroup(ctx context.Context, tenant, id string, fn func(*Group) error) (Group, error)
	// DeleteGroup deletes the group (tombstone) and its memberships, both as
	// container and as member of other groups. Returns ErrNotFound.
	DeleteGroup(ctx context.Context, tenant, id string) error

	// PendingJobs returns up to limit pending outbox jobs, oldest first,
	// whatever their NotBefore. (The engine's claim/complete/park methods come
	// with the engine.)
	PendingJobs(ctx context.Context, limit int) ([]Job, error)

	// Close releases the backend.
	Close() error
}

// ErrUnsupportedFilter means a filter names an attribute or operator the
// backend cannot evaluate.
var ErrUnsupportedFilter = errors.New("unsupported filter")
