package durable

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// CallOptions configure the activities called with a context, as
// Temporal's ActivityOptions do. Zero fields take defaults.
type CallOptions struct {
	// StartToCloseTimeout bounds one attempt. 0: no bound (a dead worker's
	// attempt still ends when its lease expires).
	StartToCloseTimeout time.Duration
	// ScheduleToCloseTimeout bounds all attempts together. 0: no bound.
	ScheduleToCloseTimeout time.Duration
	// ScheduleToStartTimeout bounds how long an attempt may wait for a
	// worker to start it: past it the call fails with a *TimeoutError of
	// Kind "ScheduleToStart", which is not retried. 0: no bound
	// (scheduletostart.go says where it is checked).
	ScheduleToStartTimeout time.Duration
	// HeartbeatTimeout fails an attempt that has not heartbeated for this long.
	HeartbeatTimeout time.Duration
	// RetryPolicy says how failed attempts are retried. nil: the defaults
	// (unlimited attempts, exponential backoff from 1s).
	RetryPolicy *RetryPolicy
	// Queue routes the activity to workers serving that queue. "": the
	// workflow's queue.
	Queue string
	// WaitForCancellation makes a cancelled call wait until its running
	// attempt has returned (its context is cancelled) before it returns
	// its *CanceledError, as Temporal's does. Without it, or when no
	// attempt is running in this process (waiting for a retry, or on
	// another worker), a cancelled call returns at once. Local activities
	// ignore it.
	WaitForCancellation bool
	// ActivityID is accepted for Temporal compatibility; IDs are derived
	// from the call's position in the journal.
	ActivityID string
}

// WithCallOptions returns a context whose activity calls use o.
func WithCallOptions(ctx context.Context, o CallOptions) context.Context {
	return context.WithValue(ctx, callOptionsKey, o)
}

func callOptionsOf(ctx context.Context) CallOptions {
	o, _ := ctx.Value(callOptionsKey).(CallOptions)
	return o
}

// Call runs an activity durably and returns its result: the yield point of
// `workflow.ExecuteActivity(ctx, A, args...).Get(ctx, &r)`. activity is a
// function, a method value (a nil struct pointer's method resolves by its
// name) or a registered name.
func Call[R any](ctx context.Context, activity any, args ...any) (R, error) {
	return Async[R](ctx, activity, args...).Get(ctx)
}

// Exec runs an activity durably and returns only its error.
func Exec(ctx context.Context, activity any, args ...any) error {
	_, err := Async[json.RawMessage](ctx, activity, args...).Get(ctx)
	return err
}

// Async starts an activity and returns a future of its result, for code
// that waits later or selects over several.
func Async[R any](ctx context.Context, activity any, args ...any) Future[R] {
	in := instanceOf(ctx, "Async")
	if in.icptOut != nil {
		return interceptedActivity[R](ctx, in, activity, args, false)
	}
	return scheduleActivity[R](ctx, in, activity, args, false)
}

// interceptedActivity checks an activity call and hands it to the run's
// outbound interceptors by name (interceptor.go).
func interceptedActivity[R any](ctx context.Context, in *instance, activity any, args []any, local bool) Future[R] {
	callName := "durable.Call"
	if local {
		callName = "durable.CallLocal"
	}
	name, _, err := checkActivityCall[R](in, callName, activity, args)
	if err != nil {
		return failedFuture[R](in, err)
	}
	if reflect.ValueOf(activity).Kind() == reflect.Func {
		if in.icptFuncs == nil {
			in.icptFuncs = map[string]any{}
		}
		in.icptFuncs[name] = activity
	}
	if local {
		return typedFuture[R](ctx, in, in.icptOut.ExecuteLocalActivity(ctx, name, args...), "local activity "+name)
	}
	return typedFuture[R](ctx, in, in.icptOut.ExecuteActivity(ctx, name, args...), "activity "+name)
}

// activityCall is an activity the run waits for.
type activityCall struct {
	id     int64
	taskID string
	name   string
	queue  string
	task   *activityTask // what an attempt needs, for dispatching it again
	p      *promise
	done   bool
	// mode is where the current attempt lives (attempt.go); local holds
	// a local activity's execution (mode attemptLocal).
	mode  attemptMode
	local *localCall
	// replayed: scheduled by a command matched against the journal, not
	// dispatched by this instance (see orphans).
	replayed bool
	// waitCancel: CallOptions.WaitForCancellation; cancelWaits: the call
	// was cancelled and waits for its attempt to end.
	waitCancel, cancelWaits bool
	// pending: the current attempt returned ErrResultPending (mode
	// attemptPending; async.go).
	pending *pendingAttempt
	// retriedFrom: a pending attempt of this number timed out and was
	// retried; an outcome by token for it (or earlier) is stale.
	retriedFrom int
	// watch checks the call's ScheduleToStartTimeout (scheduletostart.go).
	watch *startWatch
}

type activityTask struct {
	RunID       string          `json:"runId"`
	WorkflowID  string          `json:"workflowId"`
	Workflow    string          `json:"workflow"`
	ID          int64           `json:"id"`
	Activity    string          `json:"activity"`
	Args        json.RawMessage `json:"args"`
	Options     CallOptions     `json:"options"`
	ScheduledAt time.Time       `json:"scheduledAt"`
	Trace       string          `json:"trace,omitempty"`  // W3C traceparent of the step that scheduled it (telemetry.go)
	Header      Header          `json:"header,omitempty"` // context values for the attempt (propagate.go)
}

func taskID(runID string, id int64) string { return runID + "/" + strconv.FormatInt(id, 10) }

// taskCallID is the activity call ID a task ID ends with (see taskID); 0
// when it has none.
func taskCallID(taskID string) int64 {
	i := strings.LastIndexByte(taskID, '/')
	id, _ := strconv.ParseInt(taskID[i+1:], 10, 64)
	return id
}

// failedFuture is a future that holds an error from the call site.
func failedFuture[R any](in *instance, err error) Future[R] {
	p := newPromise(in)
	p.ready = true
	p.err = err
	return &future[R]{p: p}
}

// checkActivityCall checks what can be checked before an activity runs:
// its name, its arguments and its result type. It returns the name and the
// encoded arguments.
func checkActivityCall[R any](in *instance, call string, activity any, args []any) (string, json.RawMessage, error) {
	name, err := in.e.reg.activityName(activity)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", call, err)
	}
	def := in.e.reg.activity(name)
	if def == nil {
		if v := reflect.ValueOf(activity); v.Kind() == reflect.Func {
			if def, err = newFuncDef("activity", name, v, false); err != nil {
				return "", nil, fmt.Errorf("%s: %w", call, err)
			}
		}
	}
	if def != nil {
		if err := checkArgs(call+" "+name, def, args); err != nil {
			return "", nil, err
		}
		rt := reflect.TypeFor[R]()
		if def.result != nil && !def.dynamic && rt != reflect.TypeFor[json.RawMessage]() && rt.Kind() != reflect.Interface && !def.result.AssignableTo(rt) &&
			derefType(def.result) != derefType(rt) { // *T into T and back decode alike, as in Temporal
			return "", nil, fmt.Errorf("%s %s: the activity returns %s, not %s", call, name, def.result, rt)
		}
	}
	raw, err := encodeArgs(args)
	if err != nil {
		return "", nil, fmt.Errorf("%s %s: %w", call, name, err)
	}
	return name, raw, nil
}

func scheduleActivity[R any](ctx context.Context, in *instance, activity any, args []any, local bool) Future[R] {
	callName := "durable.Call"
	if local {
		callName = "durable.CallLocal"
	}
	name, raw, err := checkActivityCall[R](in, callName, activity, args)
	if err != nil {
		return failedFuture[R](in, err)
	}
	id := in.m.NewID()
	var opts CallOptions
	if local {
		opts = localCallOptionsOf(ctx).callOptions()
	} else {
		opts = callOptionsOf(ctx)
		if f := in.e.cfg.retryDefaults; f != nil {
			opts.RetryPolicy = f(opts.RetryPolicy.clone())
		}
	}
	queue := opts.Queue
	if queue == "" {
		queue = in.queue
	}
	if name != SessionCreationActivity && !local {
		// A call in a session runs on the session's worker; one in a
		// failed session fails at once, with nothing journaled, as in
		// Temporal (session.go).
		sq, err := sessionQueueOf(ctx)
		if err != nil {
			return failedFuture[R](in, err)
		}
		if sq != "" {
			queue = sq
		}
	}
	// The workflow's context values go with the attempt (propagate.go). An
	// Inject that fails fails the call before it is journaled, in replay as
	// it did live.
	header, err := in.e.inject(ctx, nil)
	if err != nil {
		return failedFuture[R](in, NewNonRetryableApplicationError(fmt.Sprintf("activity %s: %v", name, err), "ContextPropagationError", nil))
	}
	data := &journal.ActivityScheduledData{ID: id, Activity: name, ArgTypes: argTypes(args), Args: raw, Local: local, Queue: queue}
	live := in.command(journal.ActivityScheduled, data) == nil
	task := &activityTask{
		RunID: in.runID, WorkflowID: in.workflowID, Workflow: in.info.Workflow, ID: id,
		Activity: name, Args: raw, Options: opts, ScheduledAt: in.m.Now(), Trace: in.traceparent(),
	}
	task.Header = header
	ac := &activityCall{id: id, taskID: taskID(in.runID, id), name: name, queue: queue, task: task, p: newPromise(in),
		waitCancel: opts.WaitForCancellation && !local, replayed: !live}
	in.activities[id] = ac
	if local {
		ac.mode, ac.local = attemptLocal, &localCall{task: task}
		if in.e.reg.activity(name) == nil {
			if v := reflect.ValueOf(activity); v.Kind() == reflect.Func {
				ac.local.def, _ = newFuncDef("activity", name, v, false)
			}
		}
		in.startLocal(ac)
	} else if live {
		in.dispatchActivity(ac, false)
	}
	in.watchCancel(ctx, func() { in.cancelActivity(ac) })
	return &future[R]{p: ac.p, what: "result of activity " + name, holdOnCancel: ac.waitCancel}
}

// cancelActivity resolves a call whose context was cancelled and stops its
// attempt.
func (in *instance) cancelActivity(ac *activityCall) {
	if ac.done || ac.cancelWaits {
		return
	}
	// Whether the call waits depends on where its attempt is, which replay
	// cannot see: the journal keeps the decision.
	data := &journal.IDData{ID: ac.id, Wait: ac.waitCancel && in.e.isRunning(ac.taskID)}
	if got := in.command(journal.ActivityCancelRequested, data); got != nil {
		if d, err := journal.Decode(journal.ActivityCancelRequested, got); err == nil {
			data = d.(*journal.IDData)
		}
	}
	if data.Wait {
		// The attempt's result, whatever it is, resolves the call; the
		// task row stays until then, so the result has a way home.
		ac.cancelWaits = true
		taskID := ac.taskID
		in.afterCommit = append(in.afterCommit, func() { in.e.cancelRunning(taskID, errTaskCancelledWait) })
		return
	}
	ac.done = true
	ac.stopWatch()
	delete(in.activities, ac.id)
	if ac.mode == attemptLocal {
		ac.local.cancel()
	} else {
		if ac.mode.hasRow() {
			in.m.Step().DeleteTasks = append(in.m.Step().DeleteTasks, ac.rowID())
		}
		if p := ac.pending; p != nil && p.stop != nil {
			p.stop()
		}
		taskID := ac.taskID
		in.afterCommit = append(in.afterCommit, func() { in.e.cancelRunning(taskID, errTaskCancelled) })
	}
	in.resolve(ac.p, nil, &CanceledError{})
}

// onActivityResult journals an activity's outcome reported in-process.
func (in *instance) onActivityResult(m msgActivity) {
	ac := in.activities[m.id]
	if ac == nil || ac.done {
		// Cancelled meanwhile, or a duplicate of an at-least-once delivery.
		if m.mode.hasRow() && (ac == nil || ac.mode != attemptLocal) {
			in.m.Step().DeleteTasks = append(in.m.Step().DeleteTasks, m.taskID)
		}
		return
	}
	if ac.mode != attemptLocal && m.mode.hasRow() {
		in.m.Step().DeleteTasks = append(in.m.Step().DeleteTasks, m.taskID)
	}
	in.inbound(ac.outcome(&journal.ResultData{ID: m.id, Result: m.result, Error: m.failure, Attempt: m.attempt}))
}

// dispatchActivity has ac's attempts run once the commit that schedules
// them (or, after a take-over, the replay) is done. When this engine
// serves the activity's queue, the first attempt runs here without a task
// row: the run's lease covers it, and while it runs the run's WakeAt is in
// the past (see wakeAt), so that a worker that takes the run over after
// this one died dispatches it again (redispatchOrphans). That spares two
// row writes per activity. Attempts that must outlive this process's
// memory get a row: on other queues, with a heartbeat timeout (their
// heartbeat details are kept in the row), and retries after a failed
// attempt (onActivityRetry). abandoned says the previous attempt died with
// its worker.
func (in *instance) dispatchActivity(ac *activityCall, abandoned bool) {
	e := in.e
	if e.cfg.taskRows || !e.serves(ac.queue) || ac.task.Options.HeartbeatTimeout > 0 {
		ac.mode = attemptRow
		in.m.Step().Tasks = append(in.m.Step().Tasks, e.newActivityTask(ac.taskID, ac.queue, ac.task))
		in.afterCommit = append(in.afterCommit, func() {
			if !ac.done {
				in.watchScheduleToStart(ac)
			}
		})
		return
	}
	ac.mode = attemptInline
	in.afterCommit = append(in.afterCommit, func() {
		if ac.done || ac.mode != attemptInline {
			return // cancelled before the commit
		}
		e.execute(&store.Task{
			ID: ac.taskID, RunID: in.runID, Kind: taskActivity, Queue: ac.queue, DueAt: ac.task.ScheduledAt,
			Attempt: 1, Owner: e.workerID, Abandoned: abandoned,
		}, ac.task)
	})
}

// onActivityRetry gives an inline attempt's retry a task row: due after
// the backoff, with the attempt count and heartbeat details, claimed by
// any worker of the queue (this one, usually).
func (in *instance) onActivityRetry(m msgRetry) {
	ac := in.activities[m.id]
	if ac == nil || ac.done || ac.mode != attemptInline {
		return // cancelled meanwhile
	}
	ac.mode = attemptRow
	in.m.Step().Tasks = append(in.m.Step().Tasks, in.activityRow(ac, m.attempt, m.dueAt, m.details))
}

// activityRow is the task row of a call's attempt that leaves memory
// (onActivityRetry, onActivityPromote): free, due at due.
func (in *instance) activityRow(ac *activityCall, attempt int, due time.Time, details json.RawMessage) *store.Task {
	return &store.Task{
		ID: ac.taskID, RunID: in.runID, Kind: taskActivity, Queue: ac.queue, DueAt: due,
		Attempt: attempt, Data: encodeTask(ac.task), Details: details,
	}
}

// orphans returns, after a replay, the activities scheduled in the journal
// that the run waits for and that have no task: their attempt ran without
// a row in the memory of the run's previous owner, which died or lost the
// lease, unless its result waits in the inbox. taskIDs are the run's tasks
// as of items, its inbox, when the claim read both; when it did not (items
// is nil), the tasks are read here, before the caller reads the inbox: a
// task completed in between then shows as a task and a result, never as
// neither. ok is false when reading failed and the run was unloaded.
func (in *instance) orphans(items []store.InboxItem, taskIDs []string) (orphans []*activityCall, ok bool) {
	for _, ac := range in.activities {
		if ac.replayed && !ac.done && ac.mode != attemptLocal {
			orphans = append(orphans, ac)
		}
	}
	if len(orphans) == 0 {
		return nil, true
	}
	if items == nil {
		var tasks []*store.Task
		_, err := in.e.retryWorker("list tasks", func(ctx context.Context) (err error) {
			tasks, err = in.e.store.ListTasks(ctx, in.runID)
			return err
		})
		if err != nil {
			in.e.cfg.logger.Warn("durable: read tasks; unloading run", "run_id", in.runID, "error", err)
			_ = in.e.store.ReleaseRun(in.e.ctx, &store.ReleaseRunParams{RunID: in.runID, Owner: in.e.workerID, WakeAt: in.e.cfg.clock.Now()})
			in.teardown()
			return nil, false
		}
		for _, t := range tasks {
			taskIDs = append(taskIDs, t.ID)
		}
		taskIDs = append(taskIDs, in.restorePending(tasks)...)
	} else if hasPendingRows(taskIDs) {
		tasks, err := in.e.store.ListTasks(in.e.ctx, in.runID)
		if err != nil {
			in.e.cfg.logger.Warn("durable: read tasks; unloading run", "run_id", in.runID, "error", err)
			_ = in.e.store.ReleaseRun(in.e.ctx, &store.ReleaseRunParams{RunID: in.runID, Owner: in.e.workerID, WakeAt: in.e.cfg.clock.Now()})
			in.teardown()
			return nil, false
		}
		taskIDs = append(taskIDs, in.restorePending(tasks)...)
	}
	orphans = slices.DeleteFunc(orphans, func(ac *activityCall) bool { return slices.Contains(taskIDs, ac.taskID) })
	slices.SortFunc(orphans, func(a, b *activityCall) int { return cmp.Compare(a.id, b.id) })
	return orphans, true
}

// onActivityPromote writes a task row for an inline attempt that recorded
// heartbeat details (activityState.promote) and replies with it once the
// commit is done; nil when the call is no longer waiting for that attempt.
// A commit that fails tears the instance down, which replies nil.
func (in *instance) onActivityPromote(m msgPromote) {
	ac := in.activities[m.id]
	if ac == nil || ac.done || ac.mode != attemptInline {
		m.reply <- nil
		return
	}
	ac.mode = attemptRow
	t := in.activityRow(ac, m.attempt, ac.task.ScheduledAt, m.details)
	t.Owner, t.LeaseUntil = in.e.workerID, in.e.cfg.clock.Now().Add(in.e.cfg.lease)
	in.m.Step().Tasks = append(in.m.Step().Tasks, t)
	in.extra.promotions = append(in.extra.promotions, m.reply)
	in.afterCommit = append(in.afterCommit, func() {
		in.extra.promotions = slices.DeleteFunc(in.extra.promotions, func(c chan *store.Task) bool { return c == m.reply })
		m.reply <- t
	})
}

// redispatchOrphans dispatches again the orphans that the inbox did not
// resolve. As with an abandoned task, the lost attempt counts as timed
// out. A call that was cancelled and waited for that attempt's end ends
// now.
func (in *instance) redispatchOrphans(orphans []*activityCall) {
	for _, ac := range orphans {
		if in.m.Closing() != nil || in.halt != nil {
			return
		}
		if ac.done {
			continue // its result was in the inbox
		}
		if ac.cancelWaits {
			in.inbound(ac.outcome(&journal.ResultData{ID: ac.id}))
			continue
		}
		in.dispatchActivity(ac, true)
	}
}

// outcome is the event that journals an attempt's final result. A call
// cancelled while waiting for its attempt ends cancelled whatever the
// attempt returned, as in Temporal: the attempt's end only says when.
func (ac *activityCall) outcome(rd *journal.ResultData) (string, *journal.ResultData) {
	if ac.cancelWaits {
		return journal.ActivityFailed, &journal.ResultData{ID: rd.ID, Error: toFailure(&CanceledError{}), Attempt: rd.Attempt}
	}
	if rd.Error != nil {
		return journal.ActivityFailed, rd
	}
	return journal.ActivityCompleted, rd
}

// onResult applies a journaled activity or child outcome.
func (in *instance) onResult(ev store.Event, d *journal.ResultData) {
	switch ev.Kind {
	case journal.ActivityCompleted, journal.ActivityFailed:
		ac := in.activities[d.ID]
		if ac == nil || ac.done {
			in.nondeterminism(ev, "no such activity waiting")
			return
		}
		ac.done = true
		ac.stopWatch()
		delete(in.activities, d.ID)
		in.resolve(ac.p, d.Result, fromFailure(d.Error))
	case journal.ChildCompleted, journal.ChildFailed:
		in.onChildResult(ev, d)
	default:
		in.nondeterminism(ev, "a result")
	}
}

// derefType is t, or what it points to.
func derefType(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}
