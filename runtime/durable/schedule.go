package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Schedules start a workflow on a time spec, as Temporal's schedules do
// (they replaced cron workflows). Each schedule is one durable workflow, the
// scheduler, that the engine registers by itself on every engine: it sleeps
// until the spec's next time, starts the action's workflow, and takes
// Trigger, Pause, Unpause, Update, Backfill and Delete as updates and
// Describe as a query. Its state (the schedule, its counters, the starts it
// buffers) is its journal, so a schedule survives crashes and restarts as
// any run does, and a schedule never starts a workflow twice for one time:
// the started workflow's ID is the action's ID suffixed with the schedule
// time, and a start that finds that ID taken takes the run it finds.
//
// The scheduler runs on the action's queue, so the workers that run the
// action's workflow run its schedule too; no other process is needed.

// ScheduleWorkflowIDPrefix starts the workflow ID of a schedule's scheduler
// run: the schedule "nightly" is the workflow ID
// "durable-scheduler:nightly".
const ScheduleWorkflowIDPrefix = "durable-scheduler:"

// schedulerWorkflowName is the registered name of the scheduler workflow.
const schedulerWorkflowName = "durable.Scheduler"

// ScheduleCatchupWindowDefault is how late an action may start after its
// schedule time (when workers were down) when SchedulePolicies gives no
// CatchupWindow; ScheduleCatchupWindowMin is the least a policy may give.
const (
	ScheduleCatchupWindowDefault = 365 * 24 * time.Hour
	ScheduleCatchupWindowMin     = 10 * time.Second
)

// ScheduleRecentActionsMax is how many recent actions Describe lists.
const ScheduleRecentActionsMax = 10

// ScheduleNextActionTimesMax is how many next action times Describe lists.
const ScheduleNextActionTimesMax = 10

// ScheduleBufferMax bounds the starts a schedule buffers (BufferAll, or
// catch-up after an outage); further starts are dropped and counted as
// skipped.
const ScheduleBufferMax = 1000

// ErrScheduleAlreadyRunning is returned by Create for a schedule ID that is
// in use (Temporal's temporal.ErrScheduleAlreadyRunning).
var ErrScheduleAlreadyRunning = errors.New("durable: schedule with this ID is already registered")

// ErrSkipScheduleUpdate, returned by a DoUpdate callback, makes Update
// change nothing (Temporal's temporal.ErrSkipScheduleUpdate).
var ErrSkipScheduleUpdate = errors.New("durable: skip schedule update")

// ScheduleOverlapPolicy says what a schedule does when an action is due
// while a workflow it started still runs. The values are those of
// Temporal's enums.ScheduleOverlapPolicy.
type ScheduleOverlapPolicy int

const (
	// ScheduleOverlapUnspecified is the schedule's own policy (in a
	// Trigger or Backfill), or ScheduleOverlapSkip.
	ScheduleOverlapUnspecified ScheduleOverlapPolicy = iota
	// ScheduleOverlapSkip starts nothing; the next schedule time after the
	// running workflow closes starts the next (the default).
	ScheduleOverlapSkip
	// ScheduleOverlapBufferOne starts the action once the running workflow
	// closes, buffering at most one start.
	ScheduleOverlapBufferOne
	// ScheduleOverlapBufferAll buffers every start (up to
	// ScheduleBufferMax) and runs them one after another.
	ScheduleOverlapBufferAll
	// ScheduleOverlapCancelOther asks the running workflow to cancel and
	// starts the action once it has closed.
	ScheduleOverlapCancelOther
	// ScheduleOverlapTerminateOther terminates the running workflow and
	// starts the action.
	ScheduleOverlapTerminateOther
	// ScheduleOverlapAllowAll starts the action whatever runs.
	ScheduleOverlapAllowAll
)

var overlapNames = [...]string{"Unspecified", "Skip", "BufferOne", "BufferAll", "CancelOther", "TerminateOther", "AllowAll"}

// String returns the policy's name ("BufferOne").
func (p ScheduleOverlapPolicy) String() string {
	if p >= 0 && int(p) < len(overlapNames) {
		return overlapNames[p]
	}
	return fmt.Sprintf("ScheduleOverlapPolicy(%d)", int(p))
}

// ScheduleWorkflowAction is the workflow a schedule starts, as Temporal's
// client.ScheduleWorkflowAction. Each start's workflow ID is ID suffixed
// with the schedule time: "<ID>-2026-01-02T15:04:05Z".
type ScheduleWorkflowAction struct {
	// ID is the workflow ID the schedule's workflow IDs start with.
	// Required.
	ID string `json:"id"`
	// Workflow is a workflow function or a registered name. Describe
	// returns the name.
	Workflow any `json:"workflow"`
	// Args are the workflow's arguments. Describe returns each as its JSON
	// (a json.RawMessage), which Update sends on as it is.
	Args []any `json:"args,omitempty"`
	// Queue is the queue of the started workflows and of the schedule's
	// own scheduler run. "": QueueDefault.
	Queue string `json:"queue,omitempty"`
	// ExecutionTimeout, RunTimeout and RetryPolicy are the started
	// workflows' (StartOptions).
	ExecutionTimeout time.Duration `json:"executionTimeout,omitempty"`
	RunTimeout       time.Duration `json:"runTimeout,omitempty"`
	RetryPolicy      *RetryPolicy  `json:"retryPolicy,omitempty"`
	// Memo and SearchAttributes are the started workflows'. The schedule
	// adds the search attributes TemporalScheduledById (the schedule ID)
	// and TemporalScheduledStartTime (the schedule time), as Temporal does.
	Memo             map[string]any `json:"memo,omitempty"`
	SearchAttributes map[string]any `json:"searchAttributes,omitempty"`
}

// UnmarshalJSON keeps each argument as its JSON, so that it is sent on
// exactly as it was given.
func (a *ScheduleWorkflowAction) UnmarshalJSON(b []byte) error {
	type plain ScheduleWorkflowAction
	var w struct {
		plain
		Args []json.RawMessage `json:"args,omitempty"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = ScheduleWorkflowAction(w.plain)
	a.Args = nil
	for _, raw := range w.Args {
		a.Args = append(a.Args, raw)
	}
	return nil
}

// SchedulePolicies are a schedule's policies (Temporal's
// client.SchedulePolicies, spelled out in ScheduleOptions).
type SchedulePolicies struct {
	// Overlap is the overlap policy; Unspecified: Skip.
	Overlap ScheduleOverlapPolicy `json:"overlap,omitempty"`
	// CatchupWindow is how late an action may still start after its
	// schedule time; 0: ScheduleCatchupWindowDefault. Less than
	// ScheduleCatchupWindowMin is taken as that.
	CatchupWindow time.Duration `json:"catchupWindow,omitempty"`
	// PauseOnFailure pauses the schedule when a workflow it started fails
	// or times out.
	PauseOnFailure bool `json:"pauseOnFailure,omitempty"`
}

// ScheduleState is a schedule's state (Temporal's client.ScheduleState).
type ScheduleState struct {
	// Note says why the schedule was last paused or unpaused.
	Note string `json:"note,omitempty"`
	// Paused stops the schedule's scheduled actions; Trigger and Backfill
	// still start workflows.
	Paused bool `json:"paused,omitempty"`
	// LimitedActions limits the scheduled actions to RemainingActions;
	// each one decrements it. Trigger and Backfill are not limited.
	LimitedActions   bool `json:"limitedActions,omitempty"`
	RemainingActions int  `json:"remainingActions,omitempty"`
}

// Schedule is a schedule's definition as Describe returns it and Update
// changes it (Temporal's client.Schedule).
type Schedule struct {
	Action ScheduleWorkflowAction `json:"action"`
	Spec   ScheduleSpec           `json:"spec"`
	Policy SchedulePolicies       `json:"policy"`
	State  ScheduleState          `json:"state"`
}

// ScheduleBackfill is a time range whose schedule times a schedule runs
// now, as if they were due (Temporal's client.ScheduleBackfill): the times
// after Start up to End.
type ScheduleBackfill struct {
	Start, End time.Time
	// Overlap overrides the schedule's overlap policy for these starts.
	Overlap ScheduleOverlapPolicy
}

// ScheduleOptions configure ScheduleClient.Create (Temporal's
// client.ScheduleOptions).
type ScheduleOptions struct {
	// ID names the schedule. Required.
	ID     string
	Spec   ScheduleSpec
	Action ScheduleWorkflowAction
	// Overlap, CatchupWindow and PauseOnFailure are the policies
	// (SchedulePolicies).
	Overlap        ScheduleOverlapPolicy
	CatchupWindow  time.Duration
	PauseOnFailure bool
	// Note and Paused are the initial state.
	Note   string
	Paused bool
	// RemainingActions, when above 0, limits the scheduled actions to that
	// many.
	RemainingActions int
	// TriggerImmediately takes one action at once when the schedule is
	// created.
	TriggerImmediately bool
	// ScheduleBackfill runs these ranges when the schedule is created.
	ScheduleBackfill []ScheduleBackfill
	// Memo is the schedule's memo (kept on its scheduler run).
	Memo map[string]any
}

// ScheduleWorkflowExecution names a workflow a schedule started.
type ScheduleWorkflowExecution struct {
	WorkflowID string `json:"workflowId"`
	FirstRunID string `json:"firstRunId"`
}

// ScheduleActionResult is one action a schedule took.
type ScheduleActionResult struct {
	// ScheduleTime is the schedule time (for a Trigger, the time of the
	// trigger); ActualTime when the workflow was started.
	ScheduleTime time.Time `json:"scheduleTime"`
	ActualTime   time.Time `json:"actualTime"`
	// StartWorkflowResult is the started workflow.
	StartWorkflowResult *ScheduleWorkflowExecution `json:"startWorkflowResult,omitempty"`
	// StartWorkflowStatus is its status as the schedule last saw it
	// (running, completed, failed, canceled, terminated).
	StartWorkflowStatus string `json:"startWorkflowStatus,omitempty"`
}

// ScheduleInfo is what a schedule has done (Temporal's
// client.ScheduleInfo).
type ScheduleInfo struct {
	// NumActions counts the workflows started.
	NumActions int64 `json:"numActions"`
	// NumActionsMissedCatchupWindow counts the scheduled actions that were
	// due longer ago than the catch-up window when the schedule could take
	// them.
	NumActionsMissedCatchupWindow int64 `json:"numActionsMissedCatchupWindow"`
	// NumActionsSkippedOverlap counts the actions the overlap policy
	// skipped.
	NumActionsSkippedOverlap int64 `json:"numActionsSkippedOverlap"`
	// RunningWorkflows are the started workflows that have not closed.
	RunningWorkflows []ScheduleWorkflowExecution `json:"runningWorkflows,omitempty"`
	// RecentActions are the last ScheduleRecentActionsMax actions, oldest
	// first.
	RecentActions []ScheduleActionResult `json:"recentActions,omitempty"`
	// NextActionTimes are the next ScheduleNextActionTimesMax times the
	// schedule will act (jitter included), empty while it is paused or
	// out of actions.
	NextActionTimes []time.Time `json:"nextActionTimes,omitempty"`
	// BufferedActions counts the starts waiting for the overlap policy.
	BufferedActions int `json:"bufferedActions,omitempty"`
	// CreatedAt is when the schedule was created, LastUpdateAt when Update
	// last changed it (zero: never).
	CreatedAt    time.Time `json:"createdAt"`
	LastUpdateAt time.Time `json:"lastUpdateAt,omitzero"`
}

// ScheduleDescription is what Describe returns (Temporal's
// client.ScheduleDescription).
type ScheduleDescription struct {
	Schedule Schedule     `json:"schedule"`
	Info     ScheduleInfo `json:"info"`
	// Memo is the schedule's memo (JSON values).
	Memo map[string]json.RawMessage `json:"memo,omitempty"`
}

// ScheduleUpdateInput is what a DoUpdate callback receives.
type ScheduleUpdateInput struct {
	Description ScheduleDescription
}

// ScheduleUpdate is what a DoUpdate callback returns: the schedule that
// replaces the current one. A nil Schedule changes nothing.
type ScheduleUpdate struct {
	Schedule *Schedule
}

// ScheduleUpdateOptions configure ScheduleHandle.Update.
type ScheduleUpdateOptions struct {
	// DoUpdate receives the schedule's current description and returns
	// the new schedule. It may be called again if the schedule changed
	// meanwhile. Return ErrSkipScheduleUpdate to change nothing.
	DoUpdate func(ScheduleUpdateInput) (*ScheduleUpdate, error)
}

// ScheduleTriggerOptions configure ScheduleHandle.Trigger.
type ScheduleTriggerOptions struct {
	// Overlap overrides the schedule's overlap policy for this start.
	Overlap ScheduleOverlapPolicy
}

// SchedulePauseOptions and ScheduleUnpauseOptions carry the note the
// schedule keeps; "": "Paused via durable" / "Unpaused via durable".
type SchedulePauseOptions struct{ Note string }

// ScheduleUnpauseOptions: see SchedulePauseOptions.
type ScheduleUnpauseOptions struct{ Note string }

// ScheduleBackfillOptions configure ScheduleHandle.Backfill.
type ScheduleBackfillOptions struct {
	Backfill []ScheduleBackfill
}

// ScheduleListOptions configure ScheduleClient.List.
type ScheduleListOptions struct {
	// PageSize is the most schedules a page holds; 0: ListPageSizeDefault.
	PageSize int
	// PageToken continues a listing (SchedulePage.NextPageToken).
	PageToken string
}

// ScheduleListEntry is one schedule of a List page.
type ScheduleListEntry struct {
	ID string `json:"id"`
	// Spec, WorkflowType, Paused and Note are the schedule's; RecentActions
	// and NextActionTimes as in ScheduleInfo.
	Spec            ScheduleSpec           `json:"spec"`
	WorkflowType    string                 `json:"workflowType"`
	Paused          bool                   `json:"paused,omitempty"`
	Note            string                 `json:"note,omitempty"`
	RecentActions   []ScheduleActionResult `json:"recentActions,omitempty"`
	NextActionTimes []time.Time            `json:"nextActionTimes,omitempty"`
	CreatedAt       time.Time              `json:"createdAt"`
}

// SchedulePage is one page of ScheduleClient.List.
type SchedulePage struct {
	Schedules     []*ScheduleListEntry
	NextPageToken string
}

// ScheduleClient creates, finds and lists the schedules of an engine's
// store (Temporal's client.ScheduleClient). Any engine may use it, client
// only ones too; the workers of the action's queue run the schedules.
type ScheduleClient struct{ e *Engine }

// ScheduleClient returns the engine's schedule client.
func (e *Engine) ScheduleClient() *ScheduleClient { return &ScheduleClient{e: e} }

// ScheduleHandle acts on one schedule (Temporal's client.ScheduleHandle).
type ScheduleHandle struct {
	e  *Engine
	id string
}

// Create creates a schedule and returns its handle. It fails with
// ErrScheduleAlreadyRunning when the ID is in use, and names the field of
// options that is wrong.
func (c *ScheduleClient) Create(ctx context.Context, options ScheduleOptions) (*ScheduleHandle, error) {
	st, err := c.newState(options)
	if err != nil {
		return nil, fmt.Errorf("durable: create schedule %q: %w", options.ID, err)
	}
	_, err = c.e.Start(ctx, StartOptions{
		ID: ScheduleWorkflowIDPrefix + options.ID, Queue: st.Schedule.Action.Queue, Memo: options.Memo,
		WorkflowIDConflictPolicy: IDConflictFail,
	}, schedulerWorkflowName, st)
	if errors.Is(err, ErrAlreadyStarted) {
		return nil, fmt.Errorf("durable: create schedule %q: %w", options.ID, ErrScheduleAlreadyRunning)
	}
	if err != nil {
		return nil, fmt.Errorf("durable: create schedule %q: %w", options.ID, err)
	}
	return &ScheduleHandle{e: c.e, id: options.ID}, nil
}

// newState checks options and makes the scheduler's initial state.
func (c *ScheduleClient) newState(o ScheduleOptions) (*schedulerState, error) {
	if o.ID == "" {
		return nil, errors.New("ID is required")
	}
	if o.RemainingActions < 0 {
		return nil, fmt.Errorf("RemainingActions %d is negative", o.RemainingActions)
	}
	s := Schedule{
		Action: o.Action,
		Spec:   o.Spec,
		Policy: SchedulePolicies{Overlap: o.Overlap, CatchupWindow: o.CatchupWindow, PauseOnFailure: o.PauseOnFailure},
		State:  ScheduleState{Note: o.Note, Paused: o.Paused, LimitedActions: o.RemainingActions > 0, RemainingActions: o.RemainingActions},
	}
	if err := c.e.normalizeSchedule(&s); err != nil {
		return nil, err
	}
	// The schedule counts from now, the time of Create, not from when a
	// worker first runs its scheduler.
	now := eventTime(c.e.cfg.clock.Now()).UTC()
	st := &schedulerState{ID: o.ID, Schedule: s, LastProcessed: now, Info: ScheduleInfo{CreatedAt: now}}
	if o.TriggerImmediately {
		st.Pending = append(st.Pending, schedulePending{Trigger: true, Overlap: o.Overlap})
	}
	for i, b := range o.ScheduleBackfill {
		if err := checkBackfill(b); err != nil {
			return nil, fmt.Errorf("ScheduleBackfill[%d]: %w", i, err)
		}
		st.Pending = append(st.Pending, schedulePending{Backfill: &b})
	}
	return st, nil
}

// normalizeSchedule checks a schedule and puts it in the form the
// scheduler keeps: the workflow as its name, the arguments as JSON.
func (e *Engine) normalizeSchedule(s *Schedule) error {
	a := &s.Action
	if a.ID == "" {
		return errors.New("Action.ID is required")
	}
	if a.Workflow == nil {
		return errors.New("Action.Workflow is required")
	}
	name, _, raw, err := e.reg.workflowCall("Action.Workflow", a.Workflow, a.Args)
	if err != nil {
		return err
	}
	a.Workflow = name
	var args []json.RawMessage
	if err := json.Unmarshal(raw, &args); err != nil {
		return fmt.Errorf("Action.Args: %w", err)
	}
	a.Args = nil
	for _, r := range args {
		a.Args = append(a.Args, r)
	}
	if a.Queue == "" {
		a.Queue = QueueDefault
	}
	if s.Policy.Overlap < ScheduleOverlapUnspecified || s.Policy.Overlap > ScheduleOverlapAllowAll {
		return fmt.Errorf("Overlap %d is not a ScheduleOverlapPolicy", int(s.Policy.Overlap))
	}
	if s.Policy.CatchupWindow < 0 {
		return fmt.Errorf("CatchupWindow %v is negative", s.Policy.CatchupWindow)
	}
	if s.State.RemainingActions < 0 {
		return fmt.Errorf("State.RemainingActions %d is negative", s.State.RemainingActions)
	}
	if _, err := s.Spec.compile(); err != nil {
		return err
	}
	return nil
}

func checkBackfill(b ScheduleBackfill) error {
	if b.Start.IsZero() || b.End.IsZero() || !b.End.After(b.Start) {
		return fmt.Errorf("backfill range %v to %v is empty", b.Start, b.End)
	}
	if b.Overlap < ScheduleOverlapUnspecified || b.Overlap > ScheduleOverlapAllowAll {
		return fmt.Errorf("Overlap %d is not a ScheduleOverlapPolicy", int(b.Overlap))
	}
	return nil
}

// GetHandle returns the handle of schedule id; it does not check that the
// schedule exists (its calls do).
func (c *ScheduleClient) GetHandle(ctx context.Context, id string) *ScheduleHandle {
	return &ScheduleHandle{e: c.e, id: id}
}

// List lists the schedules, a page at a time, newest first. It reads each
// schedule's description, so a page costs a query per schedule.
func (c *ScheduleClient) List(ctx context.Context, o ScheduleListOptions) (*SchedulePage, error) {
	page, err := c.e.List(ctx, ListOptions{
		IDPrefix: ScheduleWorkflowIDPrefix, Workflows: []string{schedulerWorkflowName},
		Statuses: []string{"running", "stuck"}, PageSize: o.PageSize, PageToken: o.PageToken,
	})
	if err != nil {
		return nil, fmt.Errorf("durable: list schedules: %w", err)
	}
	out := &SchedulePage{NextPageToken: page.NextPageToken}
	for _, r := range page.Runs {
		id := strings.TrimPrefix(r.WorkflowID, ScheduleWorkflowIDPrefix)
		entry := &ScheduleListEntry{ID: id, CreatedAt: r.CreatedAt}
		if d, err := c.GetHandle(ctx, id).Describe(ctx); err == nil {
			entry.Spec = d.Schedule.Spec
			entry.WorkflowType, _ = d.Schedule.Action.Workflow.(string)
			entry.Paused, entry.Note = d.Schedule.State.Paused, d.Schedule.State.Note
			entry.RecentActions, entry.NextActionTimes = d.Info.RecentActions, d.Info.NextActionTimes
			entry.CreatedAt = d.Info.CreatedAt
		}
		out.Schedules = append(out.Schedules, entry)
	}
	return out, nil
}

// ID returns the schedule's ID (Temporal's GetID).
func (h *ScheduleHandle) ID() string { return h.id }

// GetID returns the schedule's ID, as Temporal's ScheduleHandle names it.
func (h *ScheduleHandle) GetID() string { return h.id }

func (h *ScheduleHandle) workflowID() string { return ScheduleWorkflowIDPrefix + h.id }

// open returns ErrNotFound unless the schedule exists.
func (h *ScheduleHandle) open(ctx context.Context, op string) error {
	info, err := h.e.Describe(ctx, h.workflowID())
	if err != nil {
		return fmt.Errorf("durable: %s schedule %q: %w", op, h.id, err)
	}
	if info.Status != "running" && info.Status != "stuck" {
		return fmt.Errorf("durable: %s schedule %q: %w", op, h.id, &NotFoundError{WorkflowID: h.workflowID(), why: "no such schedule (it was deleted)"})
	}
	return nil
}

// describe returns the description and the conflict token Update checks.
func (h *ScheduleHandle) describe(ctx context.Context) (*scheduleDescribeResult, error) {
	if err := h.open(ctx, "describe"); err != nil {
		return nil, err
	}
	v, err := h.e.Query(ctx, h.workflowID(), scheduleQueryDescribe)
	if err != nil {
		return nil, fmt.Errorf("durable: describe schedule %q: %w", h.id, err)
	}
	var r scheduleDescribeResult
	if err := v.Get(&r); err != nil {
		return nil, fmt.Errorf("durable: describe schedule %q: %w", h.id, err)
	}
	if info, err := h.e.DescribeRun(ctx, h.workflowID(), ""); err == nil {
		r.Description.Memo = info.Memo
	}
	return &r, nil
}

// Describe returns the schedule's definition and what it has done.
func (h *ScheduleHandle) Describe(ctx context.Context) (*ScheduleDescription, error) {
	r, err := h.describe(ctx)
	if err != nil {
		return nil, err
	}
	return &r.Description, nil
}

// Update changes the schedule to what options.DoUpdate returns for its
// current description. When the schedule changed between the two, Update
// reads it again and calls DoUpdate again (up to three times).
func (h *ScheduleHandle) Update(ctx context.Context, options ScheduleUpdateOptions) error {
	if options.DoUpdate == nil {
		return fmt.Errorf("durable: update schedule %q: DoUpdate is required", h.id)
	}
	var lastErr error
	for range 3 {
		cur, err := h.describe(ctx)
		if err != nil {
			return err
		}
		u, err := options.DoUpdate(ScheduleUpdateInput{Description: cur.Description})
		if errors.Is(err, ErrSkipScheduleUpdate) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("durable: update schedule %q: %w", h.id, err)
		}
		if u == nil || u.Schedule == nil {
			return nil
		}
		s := *u.Schedule
		if err := h.e.normalizeSchedule(&s); err != nil {
			return fmt.Errorf("durable: update schedule %q: %w", h.id, err)
		}
		_, err = h.e.Update(ctx, h.workflowID(), scheduleUpdateReplace, scheduleReplace{Schedule: s, ConflictToken: cur.ConflictToken})
		if err == nil {
			return nil
		}
		if !strings.Contains(err.Error(), errScheduleConflict.Error()) {
			return fmt.Errorf("durable: update schedule %q: %w", h.id, err)
		}
		lastErr = err
	}
	return fmt.Errorf("durable: update schedule %q: %w", h.id, lastErr)
}

// patch sends one change to the scheduler.
func (h *ScheduleHandle) patch(ctx context.Context, op string, p schedulePatch) error {
	if err := h.open(ctx, op); err != nil {
		return err
	}
	if _, err := h.e.Update(ctx, h.workflowID(), scheduleUpdatePatch, p); err != nil {
		return fmt.Errorf("durable: %s schedule %q: %w", op, h.id, err)
	}
	return nil
}

// Trigger takes the schedule's action now, with the overlap policy of
// options (Unspecified: the schedule's). A paused schedule, or one out of
// actions, starts it too.
func (h *ScheduleHandle) Trigger(ctx context.Context, options ScheduleTriggerOptions) error {
	if options.Overlap < ScheduleOverlapUnspecified || options.Overlap > ScheduleOverlapAllowAll {
		return fmt.Errorf("durable: trigger schedule %q: Overlap %d is not a ScheduleOverlapPolicy", h.id, int(options.Overlap))
	}
	return h.patch(ctx, "trigger", schedulePatch{Trigger: true, Overlap: options.Overlap})
}

// Pause pauses the schedule's scheduled actions, keeping options.Note.
func (h *ScheduleHandle) Pause(ctx context.Context, options SchedulePauseOptions) error {
	note := options.Note
	if note == "" {
		note = "Paused via durable"
	}
	return h.patch(ctx, "pause", schedulePatch{Pause: note})
}

// Unpause resumes the schedule's scheduled actions, keeping options.Note.
// The times that passed while it was paused are not made up.
func (h *ScheduleHandle) Unpause(ctx context.Context, options ScheduleUnpauseOptions) error {
	note := options.Note
	if note == "" {
		note = "Unpaused via durable"
	}
	return h.patch(ctx, "unpause", schedulePatch{Unpause: note})
}

// Backfill takes the schedule's action for each schedule time in the
// given ranges, now, with each range's overlap policy; pause and the
// action limit do not apply.
func (h *ScheduleHandle) Backfill(ctx context.Context, options ScheduleBackfillOptions) error {
	for i, b := range options.Backfill {
		if err := checkBackfill(b); err != nil {
			return fmt.Errorf("durable: backfill schedule %q: Backfill[%d]: %w", h.id, i, err)
		}
	}
	return h.patch(ctx, "backfill", schedulePatch{Backfill: options.Backfill})
}

// Delete deletes the schedule; the workflows it started go on. It returns
// once the schedule's scheduler run has closed, so the ID may be used
// again at once.
func (h *ScheduleHandle) Delete(ctx context.Context) error {
	if err := h.patch(ctx, "delete", schedulePatch{Delete: true}); err != nil {
		return err
	}
	if err := h.e.Run(h.workflowID()).Get(ctx, nil); err != nil {
		return fmt.Errorf("durable: delete schedule %q: %w", h.id, err)
	}
	return nil
}
