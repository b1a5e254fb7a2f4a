package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// Cron schedules (StartOptions.CronSchedule, ChildOptions.CronSchedule)
// give a workflow ID Temporal's cron meaning:
//
//   - the first run starts at the schedule's first time after Start (a
//     delayed start, as StartDelay's: the run exists, its code waits);
//   - when a run completes or fails, the commit that closes it creates the
//     next run of the workflow ID (same workflow and arguments, a new run
//     ID, Attempt 1), due at the schedule's next time after the close, so
//     the schedule is journaled and survives restarts;
//   - the next run reads the previous successful run's result with
//     GetLastCompletionResult, and the previous run's failure, if it
//     failed, with GetLastError;
//   - a run that is cancelled (or was asked to cancel) or terminated ends
//     the schedule, as does the chain's ExecutionTimeout (a run that passes
//     its RunTimeout fails, and the schedule goes on);
//   - a run's RetryPolicy retries its failures first; the schedule goes on
//     when the retries are spent;
//   - Run.Get follows the runs of the schedule, so it returns only when the
//     schedule has ended; a parent's future of a cron child likewise.
//
// The spec is a standard 5-field cron spec (minute hour day-of-month month
// day-of-week), or a descriptor such as "@hourly" or "@every 1h", in UTC
// unless it starts with "CRON_TZ=Zone ", as Temporal accepts.

// ErrNoLastCompletionResult is what GetLastCompletionResult returns when the
// run has no previous successful run of a cron schedule to read.
var ErrNoLastCompletionResult = errors.New("durable: no last completion result")

// cronParser parses the specs Temporal accepts.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// parseCron parses a cron schedule.
func parseCron(spec string) (cron.Schedule, error) {
	s, err := cronParser.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("invalid CronSchedule %q: %w", spec, err)
	}
	return s, nil
}

// nextCronTime is when the run after one that started at start and closed
// at closed is due: the first schedule time after closed, counting from
// start (as Temporal does, so "@every" schedules keep their phase).
func nextCronTime(s cron.Schedule, start, closed time.Time) time.Time {
	next := s.Next(start.UTC())
	for !next.IsZero() && next.Before(closed) {
		next = s.Next(next)
	}
	return next
}

// cronOptions are the cron state a run keeps in its Started event's
// options (journal.StartedData.Options), next to attributeOptions.
type cronOptions struct {
	CronSchedule string           `json:"cronSchedule,omitempty"`
	LastResult   json.RawMessage  `json:"lastCompletionResult,omitempty"`
	LastFailure  *journal.Failure `json:"lastFailure,omitempty"`
}

// withCron returns options with the cron keys replaced by o's.
func withCron(options json.RawMessage, o cronOptions) json.RawMessage {
	var m map[string]json.RawMessage
	if len(options) > 0 && json.Unmarshal(options, &m) != nil {
		return options
	}
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	delete(m, "cronSchedule")
	delete(m, "lastCompletionResult")
	delete(m, "lastFailure")
	if o.CronSchedule != "" {
		m["cronSchedule"], _ = json.Marshal(o.CronSchedule)
	}
	if len(o.LastResult) > 0 {
		m["lastCompletionResult"] = o.LastResult
	}
	if o.LastFailure != nil {
		m["lastFailure"] = journal.Encode(o.LastFailure)
	}
	if len(m) == 0 {
		return nil
	}
	raw, _ := json.Marshal(m)
	return raw
}

// cronOptions returns the run's cron state.
func (in *instance) cronOptions() cronOptions {
	var o cronOptions
	if len(in.started.Options) > 0 {
		_ = json.Unmarshal(in.started.Options, &o)
	}
	return o
}

// temporalTestCron is implemented by a Clock (runtime/durabletest's) that
// asks for the cron meaning of Temporal's test environment: a cron run
// starts at once instead of at its first schedule time, and a workflow
// started by Start runs once (its schedule is recorded, not followed); a
// cron child workflow's later runs follow its schedule on the test clock.
type temporalTestCron interface{ TemporalTestCron() bool }

func (e *Engine) testCron() bool {
	t, ok := e.cfg.clock.(temporalTestCron)
	return ok && t.TemporalTestCron()
}

// cronFirstDelay checks a cron schedule given at start and returns how
// long the first run waits for its first schedule time after now.
func (e *Engine) cronFirstDelay(spec string, startDelay time.Duration, now time.Time) (time.Duration, error) {
	s, err := parseCron(spec)
	if err != nil {
		return 0, err
	}
	if startDelay > 0 {
		return 0, errors.New("CronSchedule and StartDelay cannot both be set")
	}
	if e.testCron() {
		return 0, nil
	}
	next := nextCronTime(s, now, now)
	if next.IsZero() {
		return 0, fmt.Errorf("CronSchedule %q has no next time", spec)
	}
	return max(next.Sub(now), 0), nil
}

// scheduleCron makes a closing run of a cron schedule create the
// schedule's next run in the same commit, and reports whether it did. The
// caller (notifyParent) then leaves the parent waiting.
func (in *instance) scheduleCron(u *store.RunUpdate) bool {
	if in.m.ReadOnly() || u.NextRunID != "" || u.Status != store.StatusCompleted && u.Status != store.StatusFailed {
		return false
	}
	o := in.cronOptions()
	if o.CronSchedule == "" {
		return false
	}
	if in.rootCtx != nil && in.rootCtx.Err() != nil {
		return false // asked to cancel: the schedule ends
	}
	// A cancel or terminate the run did not read (delivered as it closed,
	// or to the previous run as that one closed) ends the schedule.
	for _, runID := range []string{in.runID, in.started.Continued} {
		if runID == "" {
			continue
		}
		if items, err := in.e.store.ListInbox(in.e.ctx, runID); err == nil {
			for _, it := range items {
				if (runID != in.runID || it.ID > in.lastInbox) && (it.Kind == inboxCancel || it.Kind == inboxTerminate) {
					return false
				}
			}
		}
	}
	if in.started.ParentRun == "" && in.e.testCron() {
		return false // Temporal's test environment runs a workflow once
	}
	var f *journal.Failure
	if u.Status == store.StatusFailed {
		f = &journal.Failure{}
		if jsonUnmarshal(u.Error, f) != nil {
			f = &journal.Failure{Kind: "application", Message: "workflow failed"}
		}
	}
	s, err := parseCron(o.CronSchedule)
	if err != nil {
		in.log().Warn("durable: cron schedule ends", "error", err)
		return false
	}
	now := in.e.cfg.clock.Now()
	next := nextCronTime(s, in.info.StartTime, now)
	if next.IsZero() || !in.started.Deadline.IsZero() && !next.Before(in.started.Deadline) {
		return false
	}
	if f == nil {
		o.LastResult, o.LastFailure = u.Result, nil
		if len(o.LastResult) == 0 {
			o.LastResult = json.RawMessage("null")
		}
	} else {
		o.LastFailure = f
	}
	u.NextRunID = newID()
	started := in.started
	started.Attempt = 0
	started.Continued = in.runID
	started.Chain = in.started.Chain + 1
	started.Options = withCron(in.started.Options, o)
	next = eventTime(next)
	p := &store.CreateRunParams{
		Run: &store.Run{
			RunID: u.NextRunID, WorkflowID: in.workflowID, Workflow: started.Workflow, Queue: in.queue,
			Status: store.StatusRunning, Input: started.Args, ParentRunID: started.ParentRun, PrevRunID: in.runID,
			WakeAt: next,
		},
		Events: []store.Event{{Kind: journal.Started, Data: journal.Encode(&started), At: next}},
	}
	// Like a continued run, the next run stays with this engine when it can
	// work it; the engine loads it when its time comes.
	if in.e.serves(in.queue) && in.e.reg.workflow(started.Workflow) != nil {
		p.Owner, p.Lease = in.e.workerID, in.e.cfg.lease
	}
	in.m.Step().Runs = append(in.m.Step().Runs, p)
	return true
}

// HasLastCompletionResult reports whether a run of a cron schedule has a
// previous run that completed successfully, whose result
// GetLastCompletionResult reads (Temporal's
// workflow.HasLastCompletionResult).
func HasLastCompletionResult(ctx context.Context) bool {
	in := instanceOf(ctx, "HasLastCompletionResult")
	return len(in.cronOptions().LastResult) > 0
}

// GetLastCompletionResult decodes the result of the cron schedule's last
// successful run into ptr (Temporal's workflow.GetLastCompletionResult).
// It returns ErrNoLastCompletionResult when there is none.
func GetLastCompletionResult(ctx context.Context, ptr ...any) error {
	in := instanceOf(ctx, "GetLastCompletionResult")
	raw := in.cronOptions().LastResult
	if len(raw) == 0 {
		return ErrNoLastCompletionResult
	}
	if len(ptr) == 0 {
		return nil
	}
	return decodeInto("last completion result", raw, ptr[0])
}

// GetLastError returns the failure of the cron schedule's previous run when
// it failed, or nil (Temporal's workflow.GetLastError).
func GetLastError(ctx context.Context) error {
	in := instanceOf(ctx, "GetLastError")
	if f := in.cronOptions().LastFailure; f != nil {
		return fromFailure(f)
	}
	return nil
}
