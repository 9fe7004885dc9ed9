package store

import (
	"context"
	"time"
)

// This file is the part of the contract the provisioning engine uses: the
// outbox worker's job handling, links (what was applied to each target),
// and the run history.

// LinkState is the state of an account in a target as the bridge left it.
type LinkState string

// Link states.
const (
	LinkPending     LinkState = "pending"     // desired state computed, nothing applied yet
	LinkActive      LinkState = "active"      // applied and active
	LinkDeactivated LinkState = "deactivated" // applied and deactivated
	LinkDeleted     LinkState = "deleted"     // deleted in the target
	LinkSkipped     LinkState = "skipped"     // out of scope, or lost a username conflict: nothing of ours in the target
)

// Link records, for one (target, tenant, resource), what the bridge wants
// and what it last applied there. It is the engine's memory: a push compares
// desired with Applied to issue the minimal calls.
type Link struct {
	Target     string
	Tenant     string
	ResourceID string
	Kind       ResourceKind
	// DesiredName is the Atlassian username (or group name) this resource
	// maps to now; used to find two tenants producing the same username
	// (matched case-insensitively, like Atlassian does).
	DesiredName string
	// Priority is the tenant's priority when Desired was computed.
	Priority int
	// Desired and Applied are the engine's own JSON documents (the account
	// and its groups); the store keeps them opaque.
	Desired []byte
	Applied []byte
	// AppliedName is the username the target knows the account by now ("" if none).
	AppliedName string
	// Key is the target's immutable user key (Jira JIRAUSER…), "" if unknown.
	Key   string
	State LinkState
	// DeactivatedAt is when the bridge deactivated the account, and
	// DeactivatedReason why ("idp", "inactivity", "out-of-scope", "orphan").
	DeactivatedAt     *time.Time
	DeactivatedReason string
	// LastLoginAt is the latest login known from login events or the target.
	LastLoginAt *time.Time
	UpdatedAt   time.Time
}

// JobState tells a pending job from a parked one.
type JobState string

// Job states.
const (
	JobPending JobState = "pending"
	JobParked  JobState = "parked" // a permanent failure: waits for a reconcile, a retry on demand or a new change
)

// JobStats summarises the outbox for metrics and health.
type JobStats struct {
	Pending int
	Parked  int
	// OldestPending is the creation time of the oldest pending job (zero if none).
	OldestPending time.Time
}

// Run is one sync run: a batch of pushes, a reconcile, a dry run or a
// lifecycle pass.
type Run struct {
	ID         int64
	Kind       string // push | reconcile | dry-run | lifecycle
	Trigger    string // scim | cron | webhook | manual | api | startup
	Status     string // queued | running | succeeded | failed | aborted
	StartedAt  time.Time
	FinishedAt *time.Time
	Counts     map[string]int // by action
	Error      string
}

// Change is one changed field of a result.
type Change struct {
	Before any `json:"before"`
	After  any `json:"after"`
}

// Result is what one run did (or planned) for one resource on one target.
type Result struct {
	RunID      int64
	Tenant     string
	ResourceID string
	UserName   string
	Target     string
	// Action: created, updated, renamed, deactivated, reactivated, deleted,
	// group-added, group-removed, group-created, group-deleted, unchanged,
	// skipped, conflict, failed, parked.
	Action  string
	Changes map[string]Change
	Error   string
	At      time.Time
}

// ResultQuery selects results of a run.
type ResultQuery struct {
	Action string // "" = any
	User   string // matches UserName case-insensitively, "" = any
	// All includes "unchanged" results, which are left out by default.
	All   bool
	Limit int // 0 = no limit
}

// EngineStore is what the provisioning engine needs besides Store.
type EngineStore interface {
	// DueJobs returns up to limit pending (not parked) jobs with NotBefore
	// <= now, oldest NotBefore first.
	DueJobs(ctx context.Context, now time.Time, limit int) ([]Job, error)
	// CompleteJob removes the job if it has not been enqueued again since it
	// was read (its Seq is unchanged); otherwise the newer change keeps it
	// due. Not an error if the job is gone.
	CompleteJob(ctx context.Context, j Job) error
	// RetryJob records a transient failure: Attempts+1, LastError, NotBefore
	// = next. If the job was enqueued again since it was read, it only
	// records the error and stays due now.
	RetryJob(ctx context.Context, j Job, next time.Time, errText string) error
	// ParkJob records a permanent failure: the job stops being due until a
	// new change to the resource (an enqueue makes it pending again with
	// Attempts 0) or UnparkJobs.
	ParkJob(ctx context.Context, j Job, errText string) error
	// UnparkJobs makes every parked job (of tenant, or of all tenants when
	// tenant is "") pending and due now; it returns how many.
	UnparkJobs(ctx context.Context, tenant string) (int, error)
	// EnqueueJob makes a job for the resource due now (used when one
	// change affects other resources, e.g. a username conflict).
	EnqueueJob(ctx context.Context, tenant string, kind ResourceKind, resourceID string) error
	// ParkedJobs lists parked jobs, oldest first.
	ParkedJobs(ctx context.Context, limit int) ([]Job, error)
	// JobStats counts pending and parked jobs.
	JobStats(ctx context.Context) (JobStats, error)

	// GetUserAny returns the user even if deleted (Deleted reports it), for
	// applying on_delete. Returns ErrNotFound if it never existed.
	GetUserAny(ctx context.Context, tenant, id string) (u User, deleted bool, err error)
	// GetGroupAny is GetUserAny for groups (members not loaded).
	GetGroupAny(ctx context.Context, tenant, id string) (g Group, deleted bool, err error)
	// GroupsContaining returns the live groups of the tenant that directly
	// contain any of the member ids (users or groups), for flattening
	// nested groups.
	GroupsContaining(ctx context.Context, tenant string, memberIDs []string) ([]GroupRef, error)
	// GetLink returns ErrNotFound if there is none.
	GetLink(ctx context.Context, target, tenant, resourceID string) (Link, error)
	// PutLink creates or replaces the link (UpdatedAt is set by the store),
	// except LastLoginAt, which keeps the later of the stored and the given
	// time (nil keeps the stored one): a login recorded while the engine
	// held an older copy of the link is never lost.
	PutLink(ctx context.Context, l Link) error
	// LinksByDesiredName returns every link on target whose DesiredName
	// equals name case-insensitively, of any tenant and state.
	LinksByDesiredName(ctx context.Context, target string, kind ResourceKind, name string) ([]Link, error)
	// ListLinks streams every link of target in a stable order.
	ListLinks(ctx context.Context, target string, fn func(Link) error) error

	// CreateRun stores a new run (ID assigned) and returns it.
	CreateRun(ctx context.Context, r Run) (Run, error)
	// UpdateRun replaces status, finish time, counts and error of run r.ID.
	UpdateRun(ctx context.Context, r Run) error
	// GetRun returns ErrNotFound.
	GetRun(ctx context.Context, id int64) (Run, error)
	// ListRuns returns runs newest first.
	ListRuns(ctx context.Context, limit int) ([]Run, error)
	// AddResults appends results (in one transaction).
	AddResults(ctx context.Context, rs []Result) error
	// ListResults returns the run's results in insertion order.
	ListResults(ctx context.Context, runID int64, q ResultQuery) ([]Result, error)
	// UserHistory returns the resource's results across runs, newest first.
	UserHistory(ctx context.Context, tenant, resourceID string, limit int) ([]Result, error)
	// PruneRuns deletes runs (and their results) that finished before
	// cutoff, in small batches so writers are never blocked for long; it
	// returns how many runs it deleted.
	PruneRuns(ctx context.Context, cutoff time.Time) (int, error)

	// Bulk reads and writes for a full reconcile, which visits every user
	// of every tenant: one call per page or per batch instead of one per user.

	// EachUser calls fn for every live user of tenant in creation order,
	// with its Groups as GetUser returns them if withGroups (else Groups is
	// nil: GroupMembers reads every membership at once, for much less), and
	// stops at fn's first error (returned as is). No read transaction stays
	// open while fn runs, so fn may write; a user created during the walk
	// may or may not be seen.
	EachUser(ctx context.Context, tenant string, withGroups bool, fn func(User) error) error
	// GroupMembers returns every live group of tenant with the ids of its
	// direct members, users and groups apart, each list sorted; the groups
	// are ordered by display name case-insensitively, then as is, then by
	// id (the order of User.Groups): what a caller needs to know every
	// user's groups, nested ones flattened, without a query per user.
	GroupMembers(ctx context.Context, tenant string) ([]GroupNode, error)
	// GetLinks returns the links on target of tenant's resources whose ids
	// are in ids (the ones that exist, each once), ordered by resource id.
	GetLinks(ctx context.Context, target, tenant string, ids []string) ([]Link, error)
	// PutLinks creates or replaces every link as PutLink does, in one
	// transaction: all or nothing. An invalid link fails the whole call
	// before anything is written.
	PutLinks(ctx context.Context, links []Link) error
	// StrandedLinks returns the user links on target that record an
	// applied account (AppliedName not empty) while their resource is not
	// a live user of their tenant (deleted, or never stored), ordered by
	// tenant and resource id: where a full reconcile finds users deleted
	// in the IdP, without looking up every user that has a link.
	StrandedLinks(ctx context.Context, target string) ([]Link, error)
}

// LoginRecorder records login events (POST /api/v1/login-events) on the
// links they concern, in one write, so a login never overwrites a link the
// engine wrote meanwhile.
type LoginRecorder interface {
	// RecordLogin sets LastLoginAt to at on every user link of target
	// whose AppliedName equals username case-insensitively (Unicode simple
	// folding), leaving out links in state deleted or skipped (nothing of
	// the bridge's is in the target) and links whose LastLoginAt is already
	// at or after at (a newer login is kept). It returns every matching
	// link, updated or not, as stored after the write, ordered by tenant
	// and resource id; no match is not an error. Only LastLoginAt changes
	// (UpdatedAt too is left alone).
	RecordLogin(ctx context.Context, target, username string, at time.Time) ([]Link, error)
}

// ReplayGuard remembers accepted webhook signatures durably, so a signed
// call is accepted once even across a restart.
type ReplayGuard interface {
	// RememberSignature records key until expires and reports true, or
	// reports false (and records nothing) when key is already recorded
	// with an expiry after now: a replay. Keys that expired by now are
	// forgotten along the way.
	RememberSignature(ctx context.Context, key string, expires, now time.Time) (bool, error)
}

// JobOutcome is how one attempt at a job ended, for JobSettler.SettleJobs.
type JobOutcome struct {
	Job Job
	// Links are saved as PutLink saves them, in the same transaction and
	// before the job is settled: a job is never completed without the link
	// that records what its apply did.
	Links []Link
	// Error is "" when the job was applied: it is completed as CompleteJob
	// completes it. Otherwise the job is parked as ParkJob parks it when
	// Park is set, or retried at NotBefore as RetryJob retries it.
	Error     string
	Park      bool
	NotBefore time.Time
}

// JobSettler settles many jobs in one write. The provisioning engine saves
// each job's last link together with its completion, and a pass's jobs in
// batches, so that a burst of changes costs a few commits (each an fsync),
// not two per job.
type JobSettler interface {
	// SettleJobs saves the links and settles the job of every outcome, in
	// order, in one transaction: all or nothing. An invalid link fails the
	// whole call before anything is written. Each job is settled exactly as
	// CompleteJob, RetryJob or ParkJob would (a job enqueued again since it
	// was read stays due; a job gone is not an error).
	SettleJobs(ctx context.Context, outcomes []JobOutcome) error
}

// GroupNode is a live group and its direct members (see
// EngineStore.GroupMembers).
type GroupNode struct {
	ID          string
	DisplayName string
	// Users and Groups are the ids of the group's direct members.
	Users  []string
	Groups []string
}
