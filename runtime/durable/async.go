package durable

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// ErrResultPending is returned by an activity that completes later, from
// elsewhere: the attempt ends without an outcome, and the call waits until
// someone reports one with Engine.CompleteActivity (given the attempt's
// ActivityInfo.TaskToken) or Engine.CompleteActivityByID, or until the
// attempt times out. It is Temporal's activity.ErrResultPending.
var ErrResultPending = errors.New("durable: activity result pending")

// ErrInvalidTaskToken is wrapped by the errors of CompleteActivity and
// RecordActivityHeartbeat for a token that is not one ActivityInfo.TaskToken
// gave out.
var ErrInvalidTaskToken = errors.New("durable: invalid task token")

// ErrActivityNotFound is wrapped by the errors of CompleteActivity,
// CompleteActivityByID and the heartbeats by token when the activity
// attempt they name no longer waits for an outcome: its run is gone or
// closed, the activity ended (completed, failed, timed out or cancelled), or
// a later attempt replaced the one the token names. The error's text says
// which. It is Temporal's serviceerror.NotFound for these calls.
var ErrActivityNotFound = errors.New("durable: activity not found")

// WithPendingActivityTimeouts(false) stops the engine from timing out
// attempts that returned ErrResultPending: they wait for their outcome
// however long it takes. It exists for runtime/durabletest, whose meaning is
// Temporal's test environment's: there a pending activity waits for
// CompleteActivity whatever its timeouts. Engines time pending attempts out
// by default, as Temporal's server does.
func WithPendingActivityTimeouts(on bool) Option {
	return optionFunc(func(c *config) { c.noPendingTimeouts = !on })
}

// WithAsyncFailureRetries(false) makes an error reported by
// CompleteActivity fail the call at once. It exists for
// runtime/durabletest, whose meaning is Temporal's test environment's: there
// such an error is final. Engines retry it per the call's RetryPolicy by
// default, as Temporal's server does.
func WithAsyncFailureRetries(on bool) Option {
	return optionFunc(func(c *config) { c.noAsyncRetries = !on })
}

// taskTokenPrefix starts every token; the digit is the format's version.
const taskTokenPrefix = "durable1."

// taskToken names one attempt of one activity call of one run.
type taskToken struct {
	RunID      string `json:"run"`
	WorkflowID string `json:"workflow"`
	ActivityID int64  `json:"activity"`
	Attempt    int    `json:"attempt"`
}

// encode renders the token as printable bytes (it travels in URLs and
// forms, as Temporal's do).
func (t taskToken) encode() []byte {
	return []byte(taskTokenPrefix + base64.RawURLEncoding.EncodeToString(journal.Encode(t)))
}

// IsTaskToken reports whether b has the form of a durable task token (as
// ActivityInfo.TaskToken gives), without checking what it names. A client
// that routes between Temporal and durable engines (package compat) sends
// a completion to the side whose token it holds.
func IsTaskToken(b []byte) bool { return strings.HasPrefix(string(b), taskTokenPrefix) }

// parseTaskToken reads a token that taskToken.encode made.
func parseTaskToken(b []byte) (taskToken, error) {
	var t taskToken
	s, ok := strings.CutPrefix(string(b), taskTokenPrefix)
	if !ok {
		if len(b) == 0 {
			return t, fmt.Errorf("empty task token: %w", ErrInvalidTaskToken)
		}
		return t, fmt.Errorf("task token %.40q does not start with %q: %w", b, taskTokenPrefix, ErrInvalidTaskToken)
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return t, fmt.Errorf("task token: %v: %w", err, ErrInvalidTaskToken)
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return t, fmt.Errorf("task token: %v: %w", err, ErrInvalidTaskToken)
	}
	if t.RunID == "" || t.ActivityID <= 0 || t.Attempt <= 0 {
		return t, fmt.Errorf("task token names no run, activity or attempt: %w", ErrInvalidTaskToken)
	}
	return t, nil
}

func (t taskToken) String() string {
	return fmt.Sprintf("activity %d (attempt %d) of run %s of workflow %s", t.ActivityID, t.Attempt, t.RunID, t.WorkflowID)
}

// pendingAttempt is an attempt that returned ErrResultPending. Its run
// keeps it in a task row of kind taskActivityPending, written by the run's
// commits, so that it survives a restart and any process can complete it:
// the row's ID says the attempt and a generation (a heartbeat writes a new
// row, replacing the old one in the same commit), its Data the times
// below, its Details the heartbeat details.
type pendingAttempt struct {
	Attempt int       `json:"attempt"`
	Started time.Time `json:"started"` // the attempt's start
	Beat    time.Time `json:"beat"`    // the last heartbeat, or when it went pending
	Gen     int       `json:"gen"`
	details json.RawMessage
	stop    func() bool // the deadline's timer
}

// pendingRowID is the ID of the pending row of a call's attempt.
func pendingRowID(taskID string, attempt, gen int) string {
	return taskID + ":pending:" + strconv.Itoa(attempt) + ":" + strconv.Itoa(gen)
}

// parsePendingRowID splits a pending row's ID into the call's task ID and
// the attempt; ok is false for other IDs.
func parsePendingRowID(id string) (taskID string, attempt int, ok bool) {
	taskID, rest, ok := strings.Cut(id, ":pending:")
	if !ok {
		return "", 0, false
	}
	a, _, _ := strings.Cut(rest, ":")
	attempt, err := strconv.Atoi(a)
	return taskID, attempt, err == nil
}

// deadline is when the pending attempt times out, and as what; zero when
// its options set no timeout (it then waits for ever, as in Temporal).
func (p *pendingAttempt) deadline(at *activityTask) (time.Time, string) {
	var dl time.Time
	kind := ""
	consider := func(t time.Time, k string) {
		if dl.IsZero() || t.Before(dl) {
			dl, kind = t, k
		}
	}
	o := at.Options
	if o.StartToCloseTimeout > 0 {
		consider(p.Started.Add(o.StartToCloseTimeout), "StartToClose")
	}
	if o.ScheduleToCloseTimeout > 0 {
		consider(at.ScheduledAt.Add(o.ScheduleToCloseTimeout), "ScheduleToClose")
	}
	if o.HeartbeatTimeout > 0 {
		consider(p.Beat.Add(o.HeartbeatTimeout), "Heartbeat")
	}
	return dl, kind
}

// pendingNotice tells a run that an attempt of one of its activities
// returned ErrResultPending: posted to its instance (msgPending) or, from a
// worker that does not work the run, delivered to its inbox
// (inboxActivityPending) in the transaction that completes the attempt's
// row.
type pendingNotice struct {
	ID      int64           `json:"id"`
	Attempt int             `json:"attempt"`
	Started time.Time       `json:"started"`
	Details json.RawMessage `json:"details,omitempty"`
	// Row: the attempt had a task row (taskID), which the commit that
	// writes the pending row deletes. A notice from the inbox had its row
	// deleted on delivery.
	Row bool `json:"-"`
}

// heartbeatNotice is a heartbeat by token for a pending attempt, delivered
// to its run's inbox (inboxActivityHeartbeat).
type heartbeatNotice struct {
	ID      int64           `json:"id"`
	Attempt int             `json:"attempt"` // 0: whichever attempt is pending
	Details json.RawMessage `json:"details,omitempty"`
}

// Messages for an instance about pending attempts.
type (
	msgPending        struct{ n pendingNotice }
	msgPendingTimeout struct {
		id  int64
		gen int
	}
)

// parkPending hands an attempt that returned ErrResultPending to its run,
// which keeps it in a pending row until its outcome arrives or it times
// out. An inline attempt whose run left this engine is dropped: the run's
// new owner dispatches the activity again.
func (e *Engine) parkPending(t *store.Task, at *activityTask, mode attemptMode, st *activityState) {
	n := pendingNotice{ID: at.ID, Attempt: st.info.Attempt, Started: st.info.StartedTime, Details: st.latestDetails(), Row: mode.hasRow()}
	if in := e.instance(at.RunID); in != nil && in.post(msgPending{n: n}) {
		return
	}
	if !mode.hasRow() {
		return
	}
	e.parkRemotely(t.ID, at.RunID, n)
}

// parkRemotely completes a pending attempt's row and, in the same
// transaction, tells its run through the inbox.
func (e *Engine) parkRemotely(taskID, runID string, n pendingNotice) {
	if e.ctx.Err() != nil {
		return
	}
	item := &store.DeliverParams{RunID: runID, Kind: inboxActivityPending, Data: journal.Encode(&n)}
	_, err := e.retryWorker("park pending activity", func(ctx context.Context) error {
		return e.store.CompleteTask(ctx, &store.CompleteTaskParams{ID: taskID, Owner: e.workerID, Result: item})
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) && e.ctx.Err() == nil {
		e.cfg.logger.Warn("durable: park pending activity", "task", taskID, "error", err)
		return
	}
	e.pokePoller()
}

// onPending writes the pending row of an attempt that returned
// ErrResultPending, unless the call no longer waits for it (an outcome by
// token came first, or it was cancelled).
func (in *instance) onPending(n pendingNotice) {
	ac := in.activities[n.ID]
	if ac == nil || ac.done || ac.mode == attemptLocal || ac.pending != nil {
		if n.Row && (ac == nil || ac.mode != attemptLocal) {
			in.m.Step().DeleteTasks = append(in.m.Step().DeleteTasks, taskID(in.runID, n.ID))
		}
		return
	}
	if n.Row {
		in.m.Step().DeleteTasks = append(in.m.Step().DeleteTasks, ac.taskID)
	}
	p := &pendingAttempt{Attempt: n.Attempt, Started: n.Started, Beat: in.e.cfg.clock.Now(), Gen: 1, details: n.Details}
	ac.mode, ac.pending = attemptPending, p
	in.m.Step().Tasks = append(in.m.Step().Tasks, in.pendingRow(ac))
	in.armPending(ac)
}

// rowID is the ID of the task row of the call's current attempt.
func (ac *activityCall) rowID() string {
	if p := ac.pending; p != nil {
		return pendingRowID(ac.taskID, p.Attempt, p.Gen)
	}
	return ac.taskID
}

// pendingRow is the task row that keeps ac's pending attempt. Nobody
// claims it (workers claim taskActivity rows); DueAt is its deadline, for
// people reading the store.
func (in *instance) pendingRow(ac *activityCall) *store.Task {
	p := ac.pending
	due, _ := p.deadline(ac.task)
	if due.IsZero() {
		due = p.Started
	}
	return &store.Task{
		ID: ac.rowID(), RunID: in.runID, Kind: taskActivityPending, Queue: ac.queue, DueAt: due,
		Attempt: p.Attempt, Data: journal.Encode(p), Details: p.details,
	}
}

// armPending sets the timer of ac's pending attempt's deadline.
func (in *instance) armPending(ac *activityCall) {
	p := ac.pending
	if p.stop != nil {
		p.stop()
		p.stop = nil
	}
	if in.e.cfg.noPendingTimeouts || in.m.ReadOnly() {
		return
	}
	dl, _ := p.deadline(ac.task)
	if dl.IsZero() {
		return
	}
	id, gen := ac.id, p.Gen
	p.stop = in.e.cfg.clock.AfterFunc(dl.Sub(in.e.cfg.clock.Now()), func() { in.post(msgPendingTimeout{id: id, gen: gen}) })
}

// pendingWake is the earliest deadline of the run's pending attempts, so
// that a worker takes the run up by then if this one dies.
func (in *instance) pendingWake() time.Time {
	var at time.Time
	if in.e.cfg.noPendingTimeouts {
		return at
	}
	for _, ac := range in.activities {
		if ac.done || ac.pending == nil {
			continue
		}
		if dl, _ := ac.pending.deadline(ac.task); !dl.IsZero() && (at.IsZero() || dl.Before(at)) {
			at = dl
		}
	}
	return at
}

// activeCalls reports whether the run has activity calls in flight other
// than pending attempts. A run that waits only for pending attempts (and
// timers) may be unloaded like a sleeping one: its pending rows and its
// WakeAt (pendingWake) bring it back.
func (in *instance) activeCalls() bool {
	for _, ac := range in.activities {
		if !ac.done && ac.pending == nil {
			return true
		}
	}
	return false
}

// onPendingTimeout times a pending attempt out: the call is retried per
// its RetryPolicy (a task row for the next attempt, after the backoff) or
// fails with a *TimeoutError.
func (in *instance) onPendingTimeout(m msgPendingTimeout) {
	ac := in.activities[m.id]
	if ac == nil || ac.done || ac.pending == nil || ac.pending.Gen != m.gen {
		return
	}
	p := ac.pending
	now := in.e.cfg.clock.Now()
	dl, kind := p.deadline(ac.task)
	if dl.IsZero() {
		return
	}
	if now.Before(dl) {
		in.armPending(ac)
		return
	}
	in.m.Step().DeleteTasks = append(in.m.Step().DeleteTasks, ac.rowID())
	ac.pending = nil
	f := toFailure(&TimeoutError{Kind: kind})
	wait, retry := ac.task.Options.RetryPolicy.backoff(f, p.Attempt)
	if retry {
		if d := ac.task.Options.ScheduleToCloseTimeout; d > 0 && now.Add(wait).After(ac.task.ScheduledAt.Add(d)) {
			f, retry = toFailure(&TimeoutError{Kind: "ScheduleToClose", Cause: fromFailure(f)}), false
		}
	}
	if !retry {
		ac.mode = attemptRow
		in.inbound(journal.ActivityFailed, &journal.ResultData{ID: ac.id, Error: f, Attempt: p.Attempt})
		return
	}
	ac.mode, ac.retriedFrom = attemptRow, p.Attempt
	in.m.Step().Tasks = append(in.m.Step().Tasks, in.activityRow(ac, p.Attempt+1, now.Add(wait), p.details))
	e := in.e
	in.afterCommit = append(in.afterCommit, func() { e.cfg.clock.AfterFunc(wait, e.pokePoller) })
}

// onHeartbeatItem applies a heartbeat by token to a pending attempt: new
// details, and the heartbeat timeout starts again. The pending row is
// replaced by one of the next generation.
func (in *instance) onHeartbeatItem(it store.InboxItem) {
	var n heartbeatNotice
	if json.Unmarshal(it.Data, &n) != nil {
		return
	}
	ac := in.activities[n.ID]
	if ac == nil || ac.done {
		return
	}
	if ac.pending == nil {
		// The attempt still runs (it may be about to return
		// ErrResultPending): when it runs here, it takes the heartbeat.
		in.e.mu.Lock()
		r := in.e.running[ac.taskID]
		in.e.mu.Unlock()
		if r != nil && (n.Attempt == 0 || r.state.info.Attempt == n.Attempt) {
			go r.state.heartbeat(n.Details)
		}
		return
	}
	if n.Attempt != 0 && n.Attempt != ac.pending.Attempt {
		return
	}
	in.m.Step().DeleteTasks = append(in.m.Step().DeleteTasks, ac.rowID())
	p := ac.pending
	p.Gen++
	p.Beat = in.e.cfg.clock.Now()
	if n.Details != nil {
		p.details = n.Details
	}
	in.m.Step().Tasks = append(in.m.Step().Tasks, in.pendingRow(ac))
	in.armPending(ac)
}

// onPendingItem applies a pending notice from the inbox.
func (in *instance) onPendingItem(it store.InboxItem) {
	var n pendingNotice
	if json.Unmarshal(it.Data, &n) != nil {
		return
	}
	in.onPending(n)
}

// onActivityResultItem journals an activity outcome that reached the run
// through its inbox: from an attempt of another worker, or from
// CompleteActivity. An outcome for a pending attempt deletes its row; one
// that names another attempt than the pending one is stale and dropped
// (the sender checked; this closes the race with a timeout), and so is one
// for an attempt that timed out and was retried. An outcome by
// token that comes while the attempt still runs ends the call, and the
// attempt is cancelled.
func (in *instance) onActivityResultItem(ac *activityCall, rd *journal.ResultData) {
	if rd.Attempt != 0 && rd.Attempt <= ac.retriedFrom {
		return
	}
	if p := ac.pending; p != nil {
		if rd.Attempt != 0 && rd.Attempt != p.Attempt {
			return
		}
		in.m.Step().DeleteTasks = append(in.m.Step().DeleteTasks, ac.rowID())
		if p.stop != nil {
			p.stop()
		}
		ac.pending = nil
		ac.mode = attemptRow
	} else if ac.mode != attemptLocal {
		if ac.mode.hasRow() {
			in.m.Step().DeleteTasks = append(in.m.Step().DeleteTasks, ac.taskID)
		}
		taskID := ac.taskID
		in.afterCommit = append(in.afterCommit, func() { in.e.cancelRunning(taskID, errTaskCancelled) })
	}
	in.inbound(ac.outcome(rd))
}

// onCompletionItem takes in an outcome CompleteActivity reported. An error
// for a pending attempt is retried per the call's RetryPolicy, as
// Temporal's server retries an activity failed by token: the next attempt
// gets a task row, due after the backoff, with the heartbeat details. An
// error that comes while the attempt still runs, or that the policy does
// not retry, ends the call.
func (in *instance) onCompletionItem(it store.InboxItem) {
	var rd journal.ResultData
	if json.Unmarshal(it.Data, &rd) != nil {
		return
	}
	ac := in.activities[rd.ID]
	if ac == nil || ac.done {
		return
	}
	p := ac.pending
	if rd.Error == nil || p == nil || in.e.cfg.noAsyncRetries || ac.cancelWaits || (rd.Attempt != 0 && rd.Attempt != p.Attempt) {
		in.onActivityResultItem(ac, &rd)
		return
	}
	now := in.e.cfg.clock.Now()
	wait, retry := ac.task.Options.RetryPolicy.backoff(rd.Error, p.Attempt)
	if d := ac.task.Options.ScheduleToCloseTimeout; retry && d > 0 && now.Add(wait).After(ac.task.ScheduledAt.Add(d)) {
		retry = false
	}
	if !retry {
		in.onActivityResultItem(ac, &rd)
		return
	}
	in.m.Step().DeleteTasks = append(in.m.Step().DeleteTasks, ac.rowID())
	if p.stop != nil {
		p.stop()
	}
	ac.pending, ac.mode, ac.retriedFrom = nil, attemptRow, p.Attempt
	in.m.Step().Tasks = append(in.m.Step().Tasks, in.activityRow(ac, p.Attempt+1, now.Add(wait), p.details))
	e := in.e
	in.afterCommit = append(in.afterCommit, func() { e.cfg.clock.AfterFunc(wait, e.pokePoller) })
}

// restorePending finds, after a replay, the calls whose attempt is pending
// (a pending row among tasks) and takes that state up again. It returns
// the task IDs of the calls it restored, for orphans to pass over.
func (in *instance) restorePending(tasks []*store.Task) []string {
	var restored []string
	for _, t := range tasks {
		if t.Kind != taskActivityPending {
			continue
		}
		tid, _, ok := parsePendingRowID(t.ID)
		if !ok {
			continue
		}
		ac := in.activities[taskCallID(tid)]
		if ac == nil || ac.done || ac.taskID != tid || ac.mode == attemptLocal {
			continue
		}
		var p pendingAttempt
		if json.Unmarshal(t.Data, &p) != nil {
			continue
		}
		p.details = t.Details
		if ac.pending != nil && ac.pending.Gen >= p.Gen {
			continue
		}
		ac.mode, ac.pending = attemptPending, &p
		in.armPending(ac)
		restored = append(restored, tid)
	}
	return restored
}

// hasPendingRows reports whether ids hold a pending row.
func hasPendingRows(ids []string) bool {
	for _, id := range ids {
		if _, _, ok := parsePendingRowID(id); ok {
			return true
		}
	}
	return false
}

// CompleteActivity reports the outcome of an activity attempt that
// returned ErrResultPending (or still runs), named by the TaskToken of its
// ActivityInfo: result when err is nil, else err as the activity's error
// (a *CanceledError cancels it). Any engine on the run's store may call
// it, client-only ones too, and the outcome survives restarts: it is
// persisted in the run's inbox before CompleteActivity returns, and the
// run's worker journals it. The error wraps ErrInvalidTaskToken for a
// token that is not one, and ErrActivityNotFound when the attempt no
// longer waits (the text says why). It is Temporal's
// client.CompleteActivity.
func (e *Engine) CompleteActivity(ctx context.Context, taskToken []byte, result any, err error) error {
	tok, perr := parseTaskToken(taskToken)
	if perr != nil {
		return fmt.Errorf("durable: CompleteActivity: %w", perr)
	}
	return e.completeActivity(ctx, "CompleteActivity", tok, result, err)
}

// CompleteActivityByID is CompleteActivity for the activity activityID
// (ActivityInfo.ActivityID) of run runID of workflow workflowID (runID
// "": the workflow's newest run), whichever attempt is current. namespace
// must be "" or Namespace: a store is one namespace. It is Temporal's
// client.CompleteActivityByID.
func (e *Engine) CompleteActivityByID(ctx context.Context, namespace, workflowID, runID, activityID string, result any, err error) error {
	tok, rerr := e.tokenByID(ctx, "CompleteActivityByID", namespace, workflowID, runID, activityID)
	if rerr != nil {
		return rerr
	}
	return e.completeActivity(ctx, "CompleteActivityByID", tok, result, err)
}

// RecordActivityHeartbeat records a heartbeat for the activity attempt a
// task token names, with details a later attempt reads with
// HeartbeatDetails: for a pending attempt, it starts its heartbeat
// timeout again. Its errors are CompleteActivity's; a cancelled activity
// gives one that matches *CanceledError, so that the code completing it
// learns to stop. It is Temporal's client.RecordActivityHeartbeat.
func (e *Engine) RecordActivityHeartbeat(ctx context.Context, taskToken []byte, details ...any) error {
	tok, err := parseTaskToken(taskToken)
	if err != nil {
		return fmt.Errorf("durable: RecordActivityHeartbeat: %w", err)
	}
	return e.heartbeatByToken(ctx, "RecordActivityHeartbeat", tok, details)
}

// RecordActivityHeartbeatByID is RecordActivityHeartbeat for an activity
// named as CompleteActivityByID names it.
func (e *Engine) RecordActivityHeartbeatByID(ctx context.Context, namespace, workflowID, runID, activityID string, details ...any) error {
	tok, err := e.tokenByID(ctx, "RecordActivityHeartbeatByID", namespace, workflowID, runID, activityID)
	if err != nil {
		return err
	}
	return e.heartbeatByToken(ctx, "RecordActivityHeartbeatByID", tok, details)
}

// tokenByID makes the token of the current attempt of an activity named by
// IDs (Attempt 0 until checkAttempt finds the current one).
func (e *Engine) tokenByID(ctx context.Context, op, namespace, workflowID, runID, activityID string) (taskToken, error) {
	if namespace != "" && namespace != Namespace {
		return taskToken{}, fmt.Errorf("durable: %s: namespace %q: a durable store has only namespace %q: %w", op, namespace, Namespace, ErrActivityNotFound)
	}
	id, err := strconv.ParseInt(activityID, 10, 64)
	if err != nil || id <= 0 {
		return taskToken{}, fmt.Errorf("durable: %s: activity ID %q of workflow %s is not one ActivityInfo.ActivityID gives: %w", op, activityID, workflowID, ErrActivityNotFound)
	}
	if runID == "" {
		r, err := e.store.CurrentRun(ctx, workflowID)
		if errors.Is(err, store.ErrNotFound) {
			return taskToken{}, fmt.Errorf("durable: %s: no run of workflow %s: %w", op, workflowID, ErrActivityNotFound)
		}
		if err != nil {
			return taskToken{}, fmt.Errorf("durable: %s: read workflow %s: %w", op, workflowID, err)
		}
		runID = r.RunID
	}
	return taskToken{RunID: runID, WorkflowID: workflowID, ActivityID: id}, nil
}

func (e *Engine) completeActivity(ctx context.Context, op string, tok taskToken, result any, err error) error {
	attempt, cerr := e.checkAttempt(ctx, op, &tok)
	if cerr != nil {
		return cerr
	}
	rd := &journal.ResultData{ID: tok.ActivityID, Attempt: attempt}
	if err != nil {
		rd.Error = toFailure(err)
	} else {
		raw, eerr := encodeValue(result)
		if eerr != nil {
			return fmt.Errorf("durable: %s: result of %s: %w", op, tok, eerr)
		}
		rd.Result = raw
	}
	return e.deliver(ctx, &store.DeliverParams{WorkflowID: tok.WorkflowID, RunID: tok.RunID, Kind: inboxActivityCompletion, Data: journal.Encode(rd)}, op)
}

func (e *Engine) heartbeatByToken(ctx context.Context, op string, tok taskToken, details []any) error {
	attempt, err := e.checkAttempt(ctx, op, &tok)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if len(details) > 0 {
		if raw, err = encodeArgs(details); err != nil {
			return fmt.Errorf("durable: %s: details of %s: %w", op, tok, err)
		}
	}
	// An attempt that still runs here takes the heartbeat as its own.
	e.mu.Lock()
	r := e.running[taskID(tok.RunID, tok.ActivityID)]
	e.mu.Unlock()
	if r != nil && (attempt == 0 || r.state.info.Attempt == attempt) {
		r.state.heartbeat(raw)
		return nil
	}
	return e.deliver(ctx, &store.DeliverParams{WorkflowID: tok.WorkflowID, RunID: tok.RunID, Kind: inboxActivityHeartbeat,
		Data: journal.Encode(&heartbeatNotice{ID: tok.ActivityID, Attempt: attempt, Details: raw})}, op)
}

// checkAttempt checks, from the store, that the attempt tok names may
// still report: its run is open, the activity was scheduled and has no
// outcome, and no later attempt replaced it. It returns the attempt (the
// current one when tok.Attempt is 0). The run's worker checks again when
// it takes the outcome in, so that one racing a timeout is dropped there.
func (e *Engine) checkAttempt(ctx context.Context, op string, tok *taskToken) (int, error) {
	notFound := func(format string, args ...any) error {
		return fmt.Errorf("durable: %s: %s: %s: %w", op, tok, fmt.Sprintf(format, args...), ErrActivityNotFound)
	}
	run, err := e.store.GetRun(ctx, tok.RunID)
	if errors.Is(err, store.ErrNotFound) {
		return 0, notFound("no such run")
	}
	if err != nil {
		return 0, fmt.Errorf("durable: %s: read run %s: %w", op, tok.RunID, err)
	}
	if tok.WorkflowID == "" {
		tok.WorkflowID = run.WorkflowID
	}
	if tok.WorkflowID != run.WorkflowID {
		return 0, notFound("the run belongs to workflow %s", run.WorkflowID)
	}
	if !run.Status.Open() {
		return 0, notFound("the run is %s", run.Status)
	}
	events, err := e.store.LoadJournal(ctx, tok.RunID, 0)
	if err != nil {
		return 0, fmt.Errorf("durable: %s: read journal of run %s: %w", op, tok.RunID, err)
	}
	scheduled := false
	for _, ev := range events {
		switch ev.Kind {
		case journal.ActivityScheduled:
			if d, err := journal.Decode(ev.Kind, ev.Data); err == nil && d.(*journal.ActivityScheduledData).ID == tok.ActivityID {
				if d.(*journal.ActivityScheduledData).Local {
					return 0, notFound("a local activity cannot complete asynchronously")
				}
				scheduled = true
			}
		case journal.ActivityCompleted, journal.ActivityFailed:
			if d, err := journal.Decode(ev.Kind, ev.Data); err == nil && d.(*journal.ResultData).ID == tok.ActivityID {
				if ev.Kind == journal.ActivityCompleted {
					return 0, notFound("the activity already completed")
				}
				return 0, notFound("the activity already failed")
			}
		case journal.ActivityCancelRequested:
			if d, err := journal.Decode(ev.Kind, ev.Data); err == nil && d.(*journal.IDData).ID == tok.ActivityID {
				return 0, fmt.Errorf("durable: %s: %s: the activity was cancelled: %w", op, tok, &CanceledError{})
			}
		}
	}
	if !scheduled {
		return 0, notFound("the run scheduled no such activity")
	}
	tasks, err := e.store.ListTasks(ctx, tok.RunID)
	if err != nil {
		return 0, fmt.Errorf("durable: %s: read tasks of run %s: %w", op, tok.RunID, err)
	}
	tid := taskID(tok.RunID, tok.ActivityID)
	current := 0
	for _, t := range tasks {
		if t.ID == tid {
			current = t.Attempt
		} else if ptid, a, ok := parsePendingRowID(t.ID); ok && ptid == tid {
			current = a
		}
	}
	switch {
	case tok.Attempt == 0:
		// 0 when no row says it (an attempt runs without one, or is on its
		// way to its pending row): the run takes the outcome for whichever
		// attempt waits.
		return current, nil
	case current > tok.Attempt:
		return 0, notFound("attempt %d replaced it", current)
	}
	return tok.Attempt, nil
}
