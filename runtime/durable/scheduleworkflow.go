package durable

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"
)

// The scheduler workflow: one run per schedule (schedule.go), whose journal
// holds the schedule. Each step takes the schedule times that came due
// (processDue), applies the overlap policy to the starts waiting
// (processBuffer), then waits for the next time, a change (an update) or
// the close of a workflow it started. Its activities are local: they run in
// the worker that runs the scheduler, and one that was cut short by a
// crash runs again on replay, which the start makes harmless (a start that
// finds its workflow ID taken takes that run).

// Names of the scheduler's query and updates.
const (
	scheduleQueryDescribe = "__durable_schedule_describe"
	scheduleUpdatePatch   = "__durable_schedule_patch"
	scheduleUpdateReplace = "__durable_schedule_update"
)

// scheduleStepsPerRun is how many steps a scheduler run takes before it
// continues as new, which keeps its journal short.
const scheduleStepsPerRun = 500

// scheduleWatchTimeout bounds one wait for a started workflow to close.
const scheduleWatchTimeout = time.Minute

// scheduleIdleWake is how long a scheduler with no next time sleeps before
// it looks again.
const scheduleIdleWake = 24 * time.Hour

// errScheduleConflict rejects an Update based on a description the
// schedule has changed since.
var errScheduleConflict = errors.New("schedule changed since it was described")

// errScheduleDeleted rejects changes to a schedule being deleted.
var errScheduleDeleted = errors.New("schedule is deleted")

// schedulerState is the scheduler's whole state: its argument, carried
// from run to run by continue-as-new.
type schedulerState struct {
	ID       string       `json:"id"`
	Schedule Schedule     `json:"schedule"`
	Info     ScheduleInfo `json:"info"`
	// LastProcessed is the last schedule time taken (or skipped); the
	// times after it are still to come.
	LastProcessed time.Time       `json:"lastProcessed,omitzero"`
	Buffer        []bufferedStart `json:"buffer,omitempty"`
	// Pending are the triggers and backfills Create asked for.
	Pending       []schedulePending `json:"pending,omitempty"`
	ConflictToken int64             `json:"conflictToken"`
	// CancelSent records that the running workflows were asked to cancel
	// (or terminated) for a buffered start.
	CancelSent bool `json:"cancelSent,omitempty"`
}

// bufferedStart is a start waiting for the overlap policy.
type bufferedStart struct {
	Nominal time.Time             `json:"nominal"`
	Actual  time.Time             `json:"actual"`
	Overlap ScheduleOverlapPolicy `json:"overlap,omitempty"`
	Manual  bool                  `json:"manual,omitempty"`
}

// schedulePending is a trigger or backfill given to Create.
type schedulePending struct {
	Trigger  bool                  `json:"trigger,omitempty"`
	Overlap  ScheduleOverlapPolicy `json:"overlap,omitempty"`
	Backfill *ScheduleBackfill     `json:"backfill,omitempty"`
}

// schedulePatch is the argument of the patch update: Trigger, Pause,
// Unpause, Backfill or Delete.
type schedulePatch struct {
	Trigger  bool                  `json:"trigger,omitempty"`
	Overlap  ScheduleOverlapPolicy `json:"overlap,omitempty"`
	Pause    string                `json:"pause,omitempty"`
	Unpause  string                `json:"unpause,omitempty"`
	Backfill []ScheduleBackfill    `json:"backfill,omitempty"`
	Delete   bool                  `json:"delete,omitempty"`
}

// scheduleReplace is the argument of the update that replaces the
// schedule (ScheduleHandle.Update).
type scheduleReplace struct {
	Schedule      Schedule `json:"schedule"`
	ConflictToken int64    `json:"conflictToken"`
}

// scheduleDescribeResult is the describe query's answer.
type scheduleDescribeResult struct {
	Description   ScheduleDescription `json:"description"`
	ConflictToken int64               `json:"conflictToken"`
}

// scheduleStartRequest asks scheduleStart to start an action's workflow.
type scheduleStartRequest struct {
	ScheduleID string                 `json:"scheduleId"`
	Action     ScheduleWorkflowAction `json:"action"`
	Nominal    time.Time              `json:"nominal"`
}

// scheduleRunState is a started workflow as the scheduler last saw it.
type scheduleRunState struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	Status     string `json:"status"`
}

// scheduleRun is a scheduler run's live state.
type scheduleRun struct {
	st      *schedulerState
	spec    *compiledSpec
	changed bool
	deleted bool
}

// schedulerWorkflow is the workflow of a schedule.
func schedulerWorkflow(ctx context.Context, st *schedulerState) error {
	s := &scheduleRun{st: st}
	spec, err := st.Schedule.Spec.compile()
	if err != nil {
		return NewNonRetryableApplicationError(fmt.Sprintf("schedule %q: %v", st.ID, err), "ScheduleSpecError", nil)
	}
	s.spec = spec
	now := Now(ctx)
	if st.Info.CreatedAt.IsZero() {
		st.Info.CreatedAt = now
	}
	if st.LastProcessed.IsZero() {
		st.LastProcessed = now
	}
	if err := s.handlers(ctx); err != nil {
		return err
	}
	for _, p := range st.Pending {
		s.apply(now, schedulePatch{Trigger: p.Trigger, Overlap: p.Overlap, Backfill: backfills(p.Backfill)})
	}
	st.Pending = nil
	ctx = WithLocalCallOptions(ctx, LocalCallOptions{
		StartToCloseTimeout: 2 * scheduleWatchTimeout,
		RetryPolicy:         &RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
	for step := 0; ; step++ {
		now = Now(ctx)
		s.processDue(now)
		if len(st.Buffer) > 0 && len(st.Info.RunningWorkflows) > 0 {
			states, err := CallLocal[[]scheduleRunState](ctx, scheduleWatch, st.Info.RunningWorkflows, time.Duration(0))
			if err != nil {
				return err
			}
			s.observe(states)
		}
		if err := s.processBuffer(ctx, now); err != nil {
			return err
		}
		if s.deleted {
			return nil
		}
		wake := s.nextWake()
		st.Info.NextActionTimes = s.nextActionTimes()
		st.Info.BufferedActions = len(st.Buffer)
		if step >= scheduleStepsPerRun || GetInfo(ctx).ContinueAsNewSuggested {
			if err := Await(ctx, func() bool { return AllHandlersFinished(ctx) }); err != nil {
				return err
			}
			if !s.changed {
				return ContinueAsNew(ctx, schedulerWorkflowName, st)
			}
		}
		if s.changed {
			s.changed = false
			continue
		}
		d := scheduleIdleWake
		if !wake.IsZero() {
			d = wake.Sub(now)
		}
		if d <= 0 {
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		var watch Future[[]scheduleRunState]
		if len(st.Info.RunningWorkflows) > 0 {
			watch = AsyncLocal[[]scheduleRunState](wctx, scheduleWatch, st.Info.RunningWorkflows, scheduleWatchTimeout)
		}
		_, err := AwaitWithTimeout(ctx, d, func() bool { return s.changed || watch != nil && watch.Ready() })
		if err != nil {
			cancel()
			return err
		}
		if watch != nil && watch.Ready() {
			if states, err := watch.Get(ctx); err == nil {
				s.observe(states)
			}
		}
		cancel()
	}
}

func backfills(b *ScheduleBackfill) []ScheduleBackfill {
	if b == nil {
		return nil
	}
	return []ScheduleBackfill{*b}
}

// handlers registers the describe query and the updates.
func (s *scheduleRun) handlers(ctx context.Context) error {
	st := s.st
	if err := SetQueryHandler(ctx, scheduleQueryDescribe, func() (scheduleDescribeResult, error) {
		info := st.Info
		info.NextActionTimes = s.nextActionTimes() // as the state stands, also between steps
		info.BufferedActions = len(st.Buffer)
		return scheduleDescribeResult{Description: ScheduleDescription{Schedule: st.Schedule, Info: info}, ConflictToken: st.ConflictToken}, nil
	}); err != nil {
		return err
	}
	notDeleted := func() error {
		if s.deleted {
			return errScheduleDeleted
		}
		return nil
	}
	if err := SetUpdateHandler(ctx, scheduleUpdatePatch, func(ctx context.Context, p schedulePatch) error {
		s.apply(Now(ctx), p)
		return nil
	}, UpdateOptions{Validator: func(p schedulePatch) error { return notDeleted() }}); err != nil {
		return err
	}
	return SetUpdateHandler(ctx, scheduleUpdateReplace, func(ctx context.Context, r scheduleReplace) error {
		spec, err := r.Schedule.Spec.compile()
		if err != nil {
			return err
		}
		now := Now(ctx)
		st.Schedule, s.spec = r.Schedule, spec
		st.Info.LastUpdateAt = now
		if st.LastProcessed.Before(now) {
			st.LastProcessed = now // a new spec does not make up past times
		}
		st.ConflictToken++
		s.changed = true
		return nil
	}, UpdateOptions{Validator: func(r scheduleReplace) error {
		if err := notDeleted(); err != nil {
			return err
		}
		if r.ConflictToken != st.ConflictToken {
			return errScheduleConflict
		}
		_, err := r.Schedule.Spec.compile()
		return err
	}})
}

// apply makes a patch's change at time now.
func (s *scheduleRun) apply(now time.Time, p schedulePatch) {
	st := s.st
	s.changed = true
	if p.Trigger {
		s.buffer(bufferedStart{Nominal: now, Actual: now, Overlap: p.Overlap, Manual: true})
	}
	if p.Pause != "" {
		st.Schedule.State.Paused, st.Schedule.State.Note = true, p.Pause
	}
	if p.Unpause != "" {
		st.Schedule.State.Paused, st.Schedule.State.Note = false, p.Unpause
		if st.LastProcessed.Before(now) {
			st.LastProcessed = now // the times passed while paused are not made up
		}
	}
	for _, b := range p.Backfill {
		t := b.Start
		for range ScheduleBufferMax {
			nominal, _ := s.spec.next(st.ID, t)
			if nominal.IsZero() || nominal.After(b.End) {
				break
			}
			s.buffer(bufferedStart{Nominal: nominal, Actual: now, Overlap: b.Overlap, Manual: true})
			t = nominal
		}
	}
	if p.Delete {
		s.deleted = true
	}
}

// canTakeScheduled reports whether the schedule may take a scheduled
// action, and counts it against the remaining actions.
func (s *scheduleRun) canTakeScheduled() bool {
	state := &s.st.Schedule.State
	if state.Paused {
		return false
	}
	if !state.LimitedActions {
		return true
	}
	if state.RemainingActions > 0 {
		state.RemainingActions--
		return true
	}
	return false
}

// catchupWindow is the schedule's catch-up window.
func (s *scheduleRun) catchupWindow() time.Duration {
	cw := s.st.Schedule.Policy.CatchupWindow
	if cw == 0 {
		return ScheduleCatchupWindowDefault
	}
	return max(cw, ScheduleCatchupWindowMin)
}

// processDue takes the schedule times whose action is due by now.
func (s *scheduleRun) processDue(now time.Time) {
	st := s.st
	cw := s.catchupWindow()
	if st.LastProcessed.Before(now.Add(-cw)) {
		// Everything before the catch-up window is missed: count it a
		// bounded number of times, then jump.
		for range ScheduleBufferMax {
			nominal, actual := s.spec.next(st.ID, st.LastProcessed)
			if nominal.IsZero() || !actual.Before(now.Add(-cw)) {
				break
			}
			st.LastProcessed = nominal
			if !st.Schedule.State.Paused {
				st.Info.NumActionsMissedCatchupWindow++
			}
		}
		if st.LastProcessed.Before(now.Add(-cw)) {
			st.LastProcessed = now.Add(-cw)
		}
	}
	for {
		nominal, actual := s.spec.next(st.ID, st.LastProcessed)
		if nominal.IsZero() || actual.After(now) {
			return
		}
		st.LastProcessed = nominal
		if !st.Schedule.State.Paused && now.Sub(actual) > cw {
			st.Info.NumActionsMissedCatchupWindow++
			continue
		}
		if !s.canTakeScheduled() {
			continue
		}
		s.buffer(bufferedStart{Nominal: nominal, Actual: actual})
	}
}

// buffer adds a start, or drops it when the buffer is full.
func (s *scheduleRun) buffer(b bufferedStart) {
	if len(s.st.Buffer) >= ScheduleBufferMax {
		s.st.Info.NumActionsSkippedOverlap++
		return
	}
	s.st.Buffer = append(s.st.Buffer, b)
}

// resolve returns the overlap policy of a start.
func (s *scheduleRun) resolve(p ScheduleOverlapPolicy) ScheduleOverlapPolicy {
	if p == ScheduleOverlapUnspecified {
		p = s.st.Schedule.Policy.Overlap
	}
	if p == ScheduleOverlapUnspecified {
		p = ScheduleOverlapSkip
	}
	return p
}

// bufferDecision is what the overlap policies make of the buffer.
type bufferDecision struct {
	start     []bufferedStart
	keep      []bufferedStart
	skipped   int64
	cancel    bool
	terminate bool
}

// decideBuffer applies the overlap policies to the buffered starts, given
// whether a started workflow is running.
func decideBuffer(buffer []bufferedStart, running bool, resolve func(ScheduleOverlapPolicy) ScheduleOverlapPolicy) bufferDecision {
	var d bufferDecision
	for _, b := range buffer {
		p := resolve(b.Overlap)
		if p == ScheduleOverlapAllowAll {
			d.start = append(d.start, b)
			continue
		}
		if !running && len(d.keep) == 0 {
			d.start = append(d.start, b)
			running = true
			continue
		}
		switch p {
		case ScheduleOverlapSkip:
			d.skipped++
		case ScheduleOverlapBufferOne:
			if len(d.keep) == 0 {
				d.keep = append(d.keep, b)
			} else {
				d.skipped++
			}
		case ScheduleOverlapBufferAll:
			d.keep = append(d.keep, b)
		case ScheduleOverlapCancelOther:
			d.skipped += int64(len(d.keep))
			d.keep, d.cancel = []bufferedStart{b}, true
		case ScheduleOverlapTerminateOther:
			d.skipped += int64(len(d.keep))
			d.keep, d.terminate = []bufferedStart{b}, true
		}
	}
	return d
}

// processBuffer starts what the overlap policies allow, and cancels or
// terminates what they ask to.
func (s *scheduleRun) processBuffer(ctx context.Context, now time.Time) error {
	st := s.st
	if len(st.Buffer) == 0 {
		return nil
	}
	d := decideBuffer(st.Buffer, len(st.Info.RunningWorkflows) > 0, s.resolve)
	st.Buffer = d.keep
	st.Info.NumActionsSkippedOverlap += d.skipped
	if (d.cancel || d.terminate) && !st.CancelSent && len(st.Info.RunningWorkflows) > 0 {
		if err := ExecLocal(ctx, scheduleStop, st.Info.RunningWorkflows, d.terminate); err != nil {
			Logger(ctx).Warn("durable: schedule could not stop its running workflows", "schedule", st.ID, "error", err)
		} else {
			st.CancelSent = true
		}
	}
	for _, b := range d.start {
		r, err := CallLocal[scheduleRunState](ctx, scheduleStart, scheduleStartRequest{ScheduleID: st.ID, Action: st.Schedule.Action, Nominal: b.Nominal})
		if err != nil {
			Logger(ctx).Warn("durable: schedule could not start its workflow", "schedule", st.ID, "time", b.Nominal, "error", err)
			continue
		}
		exec := ScheduleWorkflowExecution{WorkflowID: r.WorkflowID, FirstRunID: r.RunID}
		st.Info.NumActions++
		st.Info.RecentActions = append(st.Info.RecentActions, ScheduleActionResult{
			ScheduleTime: b.Nominal, ActualTime: Now(ctx), StartWorkflowResult: &exec, StartWorkflowStatus: r.Status,
		})
		if n := len(st.Info.RecentActions); n > ScheduleRecentActionsMax {
			st.Info.RecentActions = st.Info.RecentActions[n-ScheduleRecentActionsMax:]
		}
		if r.Status == "running" || r.Status == "stuck" {
			st.Info.RunningWorkflows = append(st.Info.RunningWorkflows, exec)
		}
	}
	return nil
}

// observe takes in what a watch saw of the running workflows.
func (s *scheduleRun) observe(states []scheduleRunState) {
	st := s.st
	var still []ScheduleWorkflowExecution
	for _, r := range st.Info.RunningWorkflows {
		status := "running"
		for _, x := range states {
			if x.WorkflowID == r.WorkflowID {
				status = x.Status
			}
		}
		for i := range st.Info.RecentActions {
			if a := &st.Info.RecentActions[i]; a.StartWorkflowResult != nil && a.StartWorkflowResult.WorkflowID == r.WorkflowID {
				a.StartWorkflowStatus = status
			}
		}
		if status == "running" || status == "stuck" {
			still = append(still, r)
			continue
		}
		if status == "failed" && st.Schedule.Policy.PauseOnFailure && !st.Schedule.State.Paused {
			st.Schedule.State.Paused = true
			st.Schedule.State.Note = fmt.Sprintf("paused because workflow %s failed", r.WorkflowID)
		}
	}
	st.Info.RunningWorkflows = still
	if len(still) == 0 {
		st.CancelSent = false
	}
}

// nextWake is when the next scheduled action is due; zero when none is.
func (s *scheduleRun) nextWake() time.Time {
	_, actual := s.spec.next(s.st.ID, s.st.LastProcessed)
	return actual
}

// nextActionTimes lists the next times the schedule will act.
func (s *scheduleRun) nextActionTimes() []time.Time {
	state := s.st.Schedule.State
	if state.Paused {
		return nil
	}
	n := ScheduleNextActionTimesMax
	if state.LimitedActions {
		n = min(n, state.RemainingActions)
	}
	var out []time.Time
	t := s.st.LastProcessed
	for range n {
		nominal, actual := s.spec.next(s.st.ID, t)
		if nominal.IsZero() {
			break
		}
		out = append(out, actual)
		t = nominal
	}
	return out
}

// scheduledWorkflowID is the workflow ID of the action taken for schedule
// time nominal: the action's ID and the time, as Temporal names it.
func scheduledWorkflowID(actionID string, nominal time.Time) string {
	return actionID + "-" + nominal.UTC().Truncate(time.Second).Format(time.RFC3339)
}

// scheduleStart starts an action's workflow (a local activity). A start
// that finds the workflow ID taken (this start ran before a crash) returns
// the run it finds, so a schedule time never starts two workflows.
func scheduleStart(ctx context.Context, r scheduleStartRequest) (scheduleRunState, error) {
	e := ActivityClient(ctx)
	a := r.Action
	id := scheduledWorkflowID(a.ID, r.Nominal)
	sa := maps.Clone(a.SearchAttributes)
	if sa == nil {
		sa = map[string]any{}
	}
	sa["TemporalScheduledById"] = r.ScheduleID
	sa["TemporalScheduledStartTime"] = r.Nominal.UTC()
	name, _ := a.Workflow.(string)
	run, err := e.Start(ctx, StartOptions{
		ID: id, Queue: a.Queue, ExecutionTimeout: a.ExecutionTimeout, RunTimeout: a.RunTimeout,
		RetryPolicy: a.RetryPolicy, Memo: a.Memo, SearchAttributes: sa,
		WorkflowIDReusePolicy: IDReuseRejectDuplicate,
	}, name, a.Args...)
	if errors.Is(err, ErrAlreadyStarted) {
		info, derr := e.Describe(ctx, id)
		if derr != nil {
			return scheduleRunState{}, derr
		}
		return scheduleRunState{WorkflowID: id, RunID: info.RunID, Status: info.Status}, nil
	}
	var nr *NotRegisteredError
	var ae *ArgumentError
	if errors.As(err, &nr) || errors.As(err, &ae) {
		return scheduleRunState{}, NewNonRetryableApplicationError(err.Error(), "ScheduleStartError", err)
	}
	if err != nil {
		return scheduleRunState{}, err
	}
	return scheduleRunState{WorkflowID: id, RunID: run.RunID(), Status: "running"}, nil
}

// scheduleWatch returns the status of the given workflows once one of
// them has closed, or after timeout (a local activity; timeout 0: at
// once).
func scheduleWatch(ctx context.Context, runs []ScheduleWorkflowExecution, timeout time.Duration) ([]scheduleRunState, error) {
	e := ActivityClient(ctx)
	done := make(chan struct{})
	stop := e.cfg.clock.AfterFunc(timeout, func() { close(done) })
	defer stop()
	for {
		var changed []<-chan struct{}
		for _, r := range runs {
			changed = append(changed, e.watch(r.WorkflowID))
		}
		states := make([]scheduleRunState, 0, len(runs))
		closed := false
		for _, r := range runs {
			info, err := e.Describe(ctx, r.WorkflowID)
			if errors.Is(err, ErrNotFound) {
				states = append(states, scheduleRunState{WorkflowID: r.WorkflowID, Status: "terminated"})
				closed = true
				continue
			}
			if err != nil {
				return nil, err
			}
			states = append(states, scheduleRunState{WorkflowID: r.WorkflowID, RunID: info.RunID, Status: info.Status})
			closed = closed || info.Status != "running" && info.Status != "stuck"
		}
		if closed || timeout <= 0 {
			return states, nil
		}
		poll := time.NewTimer(e.cfg.poll)
		select {
		case <-ctx.Done():
			poll.Stop()
			return nil, ctx.Err()
		case <-done:
			poll.Stop()
			return states, nil
		case <-poll.C:
		case <-changed[0]:
			poll.Stop()
		}
	}
}

// scheduleStop asks the given workflows to cancel, or terminates them (a
// local activity).
func scheduleStop(ctx context.Context, runs []ScheduleWorkflowExecution, terminate bool) error {
	e := ActivityClient(ctx)
	for _, r := range runs {
		var err error
		if terminate {
			err = e.Terminate(ctx, r.WorkflowID, "terminated by its schedule (overlap policy TerminateOther)")
		} else {
			err = e.Cancel(ctx, r.WorkflowID)
		}
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
	}
	return nil
}

// registerScheduler registers the scheduler workflow and its activities.
func (e *Engine) registerScheduler() error {
	if err := e.reg.registerWorkflow(schedulerWorkflow, []RegisterOption{WithName(schedulerWorkflowName)}); err != nil {
		return err
	}
	for name, fn := range map[string]any{
		"durable.scheduleStart": scheduleStart,
		"durable.scheduleWatch": scheduleWatch,
		"durable.scheduleStop":  scheduleStop,
	} {
		if err := e.reg.registerActivity(fn, []RegisterOption{WithName(name)}); err != nil {
			return err
		}
	}
	return nil
}
