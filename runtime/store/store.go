// Package store defines the durable state behind a durable.Engine: runs, their
// journals, due tasks (activity attempts) and each run's inbox of signals and
// results. Backends (runtime/store/sqlite, runtime/store/postgres) implement
// Store and prove it with the conformance suite in runtime/store/storetest.
//
// The store never interprets journal events, task data or inbox payloads: they
// are opaque bytes owned by the engine. What the store guarantees is the
// bookkeeping that makes replay and fail-over safe:
//
//   - A run's journal is a gap-free sequence 1, 2, 3, ... and a commit names
//     the length it expects, so no position ever holds two entries.
//   - Only the holder of a run's lease may append to its journal (fencing); a
//     worker whose lease expired gets ErrLeaseLost and must drop the run.
//   - A commit is atomic: its events, task changes, inbox consumption and run
//     update all land, or none does.
//   - At most one run per workflow ID is open (running or stuck).
//
// Implementations must be safe for concurrent use. Methods take a context
// and, where there are more than two inputs, a *Params struct so that a new
// field does not touch every backend.
package store

import (
	"context"
	"errors"
	"slices"
	"time"
)

// Sentinel errors returned by every backend. Backends translate their
// driver's errors to these in one place, so callers only ever see these.
var (
	// ErrNotFound: no run, task or inbox item with that identity.
	ErrNotFound = errors.New("store: not found")
	// ErrAlreadyExists: an open run already has that workflow ID.
	ErrAlreadyExists = errors.New("store: already exists")
	// ErrLeaseLost: the caller does not (or no longer) hold the lease it
	// claims to hold on a run or task.
	ErrLeaseLost = errors.New("store: lease lost")
	// ErrConflict: the journal does not have the length the commit expected.
	ErrConflict = errors.New("store: journal conflict")
	// ErrIncompatible: the database is not a store of ours (foreign or
	// corrupt file) or has a newer schema than this binary knows.
	ErrIncompatible = errors.New("store: incompatible database")
	// ErrUnavailable: the call failed for a passing reason (the server is
	// restarting or unreachable, the connection dropped, a serialization
	// failure) and may succeed if made again. Backends return it as an
	// *UnavailableError, which says whether the call may have been applied.
	ErrUnavailable = errors.New("store: unavailable")
	// ErrStorageFull: the database could not grow (disk or quota full). The
	// call was not applied and nothing committed before is lost; calls
	// succeed again once space is freed.
	ErrStorageFull = errors.New("store: storage full")
	// ErrReadOnly: the database cannot be written (a read-only file or
	// directory, or a server in read-only mode). Nothing was applied.
	ErrReadOnly = errors.New("store: read-only database")
)

// UnavailableError is the error of a call that failed for a passing
// reason; errors.Is(err, ErrUnavailable) holds for it. Backends keep the
// driver's message, not its type.
type UnavailableError struct {
	Op    string // what the store was doing, e.g. "postgres: commit"
	Cause string // the driver's message
	// MaybeApplied is set when the connection failed after the call was
	// sent: a write may have been applied or not. It is false when the call
	// certainly was not applied (no connection, or the server refused it),
	// so that it may be made again as it was.
	MaybeApplied bool
}

func (e *UnavailableError) Error() string {
	s := e.Op + ": unavailable: " + e.Cause
	if e.MaybeApplied {
		s += " (outcome unknown)"
	}
	return s
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// MaybeApplied reports whether err is an *UnavailableError whose call may
// have been applied.
func MaybeApplied(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u) && u.MaybeApplied
}

// RunStatus is the lifecycle state of a run.
type RunStatus string

const (
	StatusRunning    RunStatus = "running"
	StatusStuck      RunStatus = "stuck" // replay diverged; waits for fixed code
	StatusCompleted  RunStatus = "completed"
	StatusFailed     RunStatus = "failed"
	StatusCanceled   RunStatus = "canceled"
	StatusTerminated RunStatus = "terminated"
	StatusContinued  RunStatus = "continued" // closed by continue-as-new
)

// Open reports whether a run in this status may still make progress.
func (s RunStatus) Open() bool { return s == StatusRunning || s == StatusStuck }

// RunStatuses returns every run status: the one list backends check
// statuses against and tools offer as filters.
func RunStatuses() []RunStatus {
	return []RunStatus{StatusRunning, StatusStuck, StatusCompleted, StatusFailed, StatusCanceled, StatusTerminated, StatusContinued}
}

// Valid reports whether s is one of RunStatuses.
func (s RunStatus) Valid() bool { return slices.Contains(RunStatuses(), s) }

// Run is one execution of a workflow. A workflow ID names a chain of runs
// linked by continue-as-new; RunID names one of them.
type Run struct {
	RunID      string
	WorkflowID string
	Workflow   string // registered workflow name
	Queue      string // queue whose workers may work the run ("" = default)
	Status     RunStatus
	Input      []byte // engine-encoded arguments
	Result     []byte // engine-encoded result, once completed
	Error      []byte // engine-encoded error, once failed, canceled or stuck
	Meta       []byte // engine-encoded options (timeouts, retry policy, ...)

	ParentRunID string // run that started this one as a child, if any
	PrevRunID   string // run this one continues (continue-as-new)
	NextRunID   string // run that continues this one

	JournalLen int64     // number of events in the journal
	WakeAt     time.Time // the run wants attention at this time; zero: only on inbox
	Owner      string    // lease holder; "" when unowned
	LeaseUntil time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Event is one journal entry of a run. Seq starts at 1 and has no gaps.
type Event struct {
	Seq  int64
	Kind string
	Data []byte
	At   time.Time
}

// Task kinds (Task.Kind, ClaimTasksParams.Kinds). The engine names what
// it stores; the kinds are here so that every package that tells tasks
// apart (the engine, test environments, the conformance suite, operators'
// tools) uses one name instead of a literal. They are stored: never rename
// one.
const (
	// TaskKindActivity is an activity attempt; its Data is the engine's
	// encoding of the call.
	TaskKindActivity = "activity"
)

// Task is work due at a time: today, one activity attempt.
type Task struct {
	ID         string
	RunID      string
	Kind       string // TaskKindActivity
	Queue      string
	DueAt      time.Time
	Attempt    int
	Data       []byte // engine-encoded (activity name, arguments, options)
	Details    []byte // last heartbeat details; survive a retry
	Owner      string
	LeaseUntil time.Time
	CreatedAt  time.Time
	// Abandoned is set by ClaimTasks when the task was leased by another
	// owner whose lease expired: that attempt died with its worker.
	Abandoned bool
}

// InboxItem is input for a run that arrived from outside it: a signal, a
// cancellation request, an update, an activity result from another worker.
// The run's owner moves items into the journal in ID order and consumes them
// in the same commit.
type InboxItem struct {
	ID    int64
	RunID string
	Kind  string
	Name  string
	Data  []byte
	At    time.Time
}

// Store is the durable state of an Engine. DO NOT embed or call it from
// workflow code; it is the engine's.
type Store interface {
	// CreateRun inserts p.Run with its first events and tasks. It returns
	// ErrAlreadyExists when an open run has the same WorkflowID.
	CreateRun(ctx context.Context, p *CreateRunParams) error
	// GetRun returns the run with that RunID, or ErrNotFound.
	GetRun(ctx context.Context, runID string) (*Run, error)
	// CurrentRun returns the newest run of a workflow ID, or ErrNotFound.
	CurrentRun(ctx context.Context, workflowID string) (*Run, error)
	// ListRuns returns runs matching p, oldest first.
	ListRuns(ctx context.Context, p *ListRunsParams) ([]*Run, error)

	// LoadJournal returns the events of a run with Seq > afterSeq, in order.
	LoadJournal(ctx context.Context, runID string, afterSeq int64) ([]Event, error)
	// Commit atomically appends events and applies the other changes in p.
	// It returns ErrLeaseLost unless p.Owner holds an unexpired lease on the
	// run, and ErrConflict unless the journal has exactly p.ExpectLen events.
	Commit(ctx context.Context, p *CommitParams) error

	// ClaimRuns leases up to p.Limit open runs in status running whose lease
	// is free or expired and that want attention: WakeAt has passed or the
	// inbox is not empty. It also returns runs p.Owner already leases
	// (unexpired) whose inbox is not empty, extending their lease: that is
	// how a worker that has a run loaded learns of a signal, cancellation or
	// result that another process delivered through the store.
	ClaimRuns(ctx context.Context, p *ClaimRunsParams) ([]*Run, error)
	// ReleaseRun gives up p.Owner's lease on a run and sets its WakeAt, so
	// that another worker (or this one, later) picks it up when due.
	ReleaseRun(ctx context.Context, p *ReleaseRunParams) error
	// RenewLeases extends the leases p.Owner holds and reports those it lost.
	RenewLeases(ctx context.Context, p *RenewLeasesParams) (*RenewLeasesResult, error)
	// ReleaseLeases clears every lease held by owner, or every lease at all
	// when owner is "" (recovery of a single-process store at start-up).
	ReleaseLeases(ctx context.Context, owner string) error
	// SetRunStatus changes an open run's status (to resume a stuck run, or to
	// terminate one) without an owner, and clears its lease.
	SetRunStatus(ctx context.Context, p *SetRunStatusParams) error

	// Deliver persists an inbox item for the open run of p.WorkflowID (or
	// p.RunID when set). It returns ErrNotFound when there is no open run.
	Deliver(ctx context.Context, p *DeliverParams) (*InboxItem, error)
	// ListInbox returns a run's unconsumed inbox items in ID order.
	ListInbox(ctx context.Context, runID string) ([]InboxItem, error)

	// ClaimTasks leases up to p.Limit due tasks of the given kinds and queues
	// whose lease is free or expired.
	ClaimTasks(ctx context.Context, p *ClaimTasksParams) ([]*Task, error)
	// ListTasks returns a run's tasks (attempts waiting, running or waiting
	// for a retry), in ID order. A worker that loads a run reads them to
	// tell which of the run's pending activities have no task: their
	// attempt ran in the memory of the run's previous owner.
	ListTasks(ctx context.Context, runID string) ([]*Task, error)
	// UpdateTask records a heartbeat, extends the lease or reschedules the
	// task (retry), if p.Owner holds it; else ErrLeaseLost (ErrNotFound when
	// the task is gone).
	UpdateTask(ctx context.Context, p *UpdateTaskParams) error
	// CompleteTask deletes a task p.Owner holds and, in the same
	// transaction, delivers p.Result to the task's run (when still open).
	CompleteTask(ctx context.Context, p *CompleteTaskParams) error
	// ExpireTask deletes a task that no worker holds (Owner "": never
	// claimed since it was created or released) and that has been due for
	// at least p.After by the store's clock, and in the same transaction
	// delivers p.Result to the task's run (when still open): an activity
	// attempt's ScheduleToStart timeout. It reports whether it expired the
	// task; when it did not, it returns the task as it is, so that the
	// caller can tell when to check again. ErrNotFound: no such task.
	ExpireTask(ctx context.Context, p *ExpireTaskParams) (expired bool, t *Task, err error)

	// Close releases the store's resources.
	Close() error
}

// CreateRunParams are the inputs of Store.CreateRun.
type CreateRunParams struct {
	Run    *Run // RunID, WorkflowID, Workflow, Input, ... ; Status defaults to running
	Events []Event
	Tasks  []*Task
	// Owner, when set, takes the run's lease for Lease at creation, so that
	// the creating worker works it without a claim round-trip.
	Owner string
	Lease time.Duration
}

// ListRunsParams filter Store.ListRuns. Zero fields do not filter.
type ListRunsParams struct {
	WorkflowID string
	Statuses   []RunStatus
	Limit      int // 0: no limit

	// The fields below serve operators' tools (the durable CLI and web
	// UI), which look for runs rather than work them.

	// WorkflowIDPrefix keeps runs whose workflow ID starts with it.
	WorkflowIDPrefix string
	// Workflows keeps runs of these workflow names, Queues runs of these
	// queues.
	Workflows, Queues []string
	// CreatedAfter and CreatedBefore keep runs created at or after, and
	// before, these times.
	CreatedAfter, CreatedBefore time.Time
	// Newest lists newest first instead of oldest first.
	Newest bool
	// AfterRunID pages: only runs that come after this run in the
	// listing's order (oldest or newest first). A run ID the store does
	// not know lists nothing.
	AfterRunID string
}

// RunCounter is implemented by stores that count runs by status in one
// query (both backends do). Operators' tools type-assert for it and count
// by listing without it.
type RunCounter interface {
	// CountRuns counts the runs that p's filters keep, by status. Statuses,
	// Limit, Newest and AfterRunID are ignored.
	CountRuns(ctx context.Context, p *ListRunsParams) (map[RunStatus]int64, error)
}

// QueueDescriber is implemented by stores that describe a queue: the work
// waiting on it and the workers holding its work (both backends do).
// Engine.DescribeQueue type-asserts for it.
type QueueDescriber interface {
	// DescribeQueue reads, in the store's clock, what ClaimRuns and
	// ClaimTasks would hand out now on p.Queue, and the owners of live
	// leases on the queue's open runs and pending tasks.
	DescribeQueue(ctx context.Context, p *DescribeQueueParams) (*QueueDescription, error)
}

// DescribeQueueParams names the queue DescribeQueue describes.
type DescribeQueueParams struct {
	Queue string
}

// QueueDescription is a queue's state at one instant.
type QueueDescription struct {
	// Runs are the queue's runs a ClaimRuns would take now: running, not
	// leased, and due (WakeAt reached) or with something in their inbox.
	Runs Backlog
	// Tasks are the queue's tasks a ClaimTasks would take now: due and
	// not leased.
	Tasks Backlog
	// Owners are the workers that hold a live lease on an open run or a
	// pending task of the queue, in Owner order.
	Owners []QueueOwner
}

// Backlog is work that waits for a worker.
type Backlog struct {
	// Count is how many items wait.
	Count int64
	// Oldest is when the item that has waited longest came due (its
	// WakeAt, the arrival of its oldest inbox item, or a task's DueAt);
	// zero when Count is zero.
	Oldest time.Time
}

// QueueOwner is a worker holding leases on a queue's work.
type QueueOwner struct {
	Owner string
	// Runs and Tasks count the queue's runs and tasks it holds.
	Runs, Tasks int64
	// LeaseUntil is when the last of its leases on the queue ends.
	LeaseUntil time.Time
}

// RunUpdate is the state of a run after a commit; it replaces the previous.
type RunUpdate struct {
	Status    RunStatus
	Result    []byte
	Error     []byte
	WakeAt    time.Time
	NextRunID string
}

// CommitParams are the inputs of Store.Commit.
type CommitParams struct {
	RunID     string
	Owner     string
	ExpectLen int64   // journal length before the commit
	Events    []Event // appended with Seq = ExpectLen+1, ...
	// ConsumeInbox deletes these inbox items of the run.
	ConsumeInbox []int64
	CreateTasks  []*Task
	// DeleteTasks deletes these tasks whatever their lease (cancellation,
	// results that arrived in-process).
	DeleteTasks []string
	// Update, when not nil, sets the run's status, result, error and WakeAt.
	// A closed status also releases the lease.
	Update *RunUpdate
	// CreateRuns creates runs in the same transaction (children, the next
	// run of a continue-as-new), after Update is applied.
	CreateRuns []*CreateRunParams
	// Deliver delivers inbox items to other runs (external signals and
	// cancellations). A target with no open run is skipped, not an error.
	Deliver []*DeliverParams
}

// ClaimRunsParams are the inputs of Store.ClaimRuns.
type ClaimRunsParams struct {
	Owner  string
	Queues []string // claim only runs of these queues; empty: any queue
	Limit  int
	Lease  time.Duration
}

// ReleaseRunParams are the inputs of Store.ReleaseRun.
type ReleaseRunParams struct {
	RunID  string
	Owner  string
	WakeAt time.Time
}

// RenewLeasesParams are the inputs of Store.RenewLeases.
type RenewLeasesParams struct {
	Owner   string
	RunIDs  []string
	TaskIDs []string
	Lease   time.Duration
}

// RenewLeasesResult lists the leases that could not be renewed.
type RenewLeasesResult struct {
	LostRuns  []string
	LostTasks []string
}

// SetRunStatusParams are the inputs of Store.SetRunStatus.
type SetRunStatusParams struct {
	RunID  string
	Status RunStatus
	Error  []byte
	WakeAt time.Time
}

// DeliverParams are the inputs of Store.Deliver.
type DeliverParams struct {
	WorkflowID string // the open run of this workflow ID ...
	RunID      string // ... or exactly this run, when set
	Kind       string
	Name       string
	Data       []byte
}

// ClaimTasksParams are the inputs of Store.ClaimTasks.
type ClaimTasksParams struct {
	Owner  string
	Kinds  []string
	Queues []string
	Limit  int
	Lease  time.Duration
}

// UpdateTaskParams are the inputs of Store.UpdateTask.
type UpdateTaskParams struct {
	ID      string
	Owner   string
	Lease   time.Duration // extend the lease by this much from now (0: keep)
	Details []byte        // heartbeat details; nil leaves them unchanged
	// Release gives the task up: it becomes claimable at DueAt with Attempt.
	Release bool
	DueAt   time.Time
	Attempt int
}

// CompleteTaskParams are the inputs of Store.CompleteTask.
type CompleteTaskParams struct {
	ID     string
	Owner  string
	Result *DeliverParams // delivered to the task's run; RunID is filled in
}

// ExpireTaskParams are the inputs of Store.ExpireTask.
type ExpireTaskParams struct {
	ID     string
	After  time.Duration  // how long past its DueAt the task may wait unclaimed
	Result *DeliverParams // delivered to the task's run; RunID is filled in
}

// Notification says that work may be waiting: a run got inbox items or was
// created without an owner, or a task without an owner was created or
// released. Work created already leased (a run its creator works, an
// activity attempt its run's worker runs) is not announced: nobody else
// could claim it.
type Notification struct {
	Kind  string // "run" or "task"
	Queue string
}

// Notifier is implemented by stores that push wake-ups to other processes
// (PostgreSQL LISTEN/NOTIFY). Engines type-assert for it and fall back to
// polling without it.
type Notifier interface {
	// Subscribe delivers notifications until ctx is done.
	Subscribe(ctx context.Context) (<-chan Notification, error)
}

// LoadedRun is a run claimed together with what its worker reads next: its
// journal, its unconsumed inbox items and the IDs of its tasks, as of the
// claim.
type LoadedRun struct {
	Run     *Run
	Journal []Event     // every event, in order; fewer than Run.JournalLen if the read raced a commit
	Inbox   []InboxItem // unconsumed items in ID order
	TaskIDs []string    // the run's tasks (see Store.ListTasks), in ID order
}

// RunLoader is implemented by stores that claim runs with their journals
// and inboxes in one round trip (PostgreSQL). A worker loads both for every
// run it claims; on a networked store that is two round trips per run, more
// than the claim itself. Engines type-assert for it and fall back to
// ClaimRuns, LoadJournal and ListInbox without it.
type RunLoader interface {
	// ClaimAndLoadRuns claims like ClaimRuns and returns each run's journal,
	// inbox and task IDs, read in one snapshot. A journal shorter than Run.JournalLen is incomplete (the
	// read missed a concurrent commit): read it again with LoadJournal.
	ClaimAndLoadRuns(ctx context.Context, p *ClaimRunsParams) ([]*LoadedRun, error)
}

// Exclusive is implemented by stores that only one process can open at a
// time (an SQLite file). Their engine may release every lease at start-up
// instead of waiting for the leases of its dead predecessor to expire.
type Exclusive interface {
	Exclusive() bool
}
