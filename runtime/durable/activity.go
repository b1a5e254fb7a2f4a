package durable

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
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
	// ScheduleToStartTimeout is accepted for Temporal compatibility and not
	// enforced: attempts wait in the store until a worker takes them.
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
	return scheduleActivity[R](ctx, in, activity, args, false)
}

// activityCall is an activity the run waits for.
type activityCall struct {
	id     int64
	taskID string
	name   string
	p      *promise
	done   bool
	local  *localCall
	// waitCancel: CallOptions.WaitForCancellation; cancelWaits: the call
	// was cancelled and waits for its attempt to end.
	waitCancel, cancelWaits bool
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
}

func taskID(runID string, id int64) string { return runID + "/" + strconv.FormatInt(id, 10) }

// failedFuture is a future that holds an error from the call site.
func failedFuture[R any](in *instance, err error) Future[R] {
	p := newPromise(in)
	p.ready = true
	p.err = err
	return &future[R]{p: p}
}

// checkActivityCall checks what can be checked before an activity runs:
// its name, its arguments and its result type.
func checkActivityCall[R any](in *instance, call string, activity any, args []any) (string, error) {
	name, err := in.e.reg.activityName(activity)
	if err != nil {
		return "", fmt.Errorf("%s: %w", call, err)
	}
	def := in.e.reg.activity(name)
	if def == nil {
		if v := reflect.ValueOf(activity); v.Kind() == reflect.Func {
			if def, err = newFuncDef("activity", name, v, false); err != nil {
				return "", fmt.Errorf("%s: %w", call, err)
			}
		}
	}
	if def != nil {
		if err := checkArgs(call+" "+name, def, args); err != nil {
			return "", err
		}
		rt := reflect.TypeFor[R]()
		if def.result != nil && rt != reflect.TypeFor[json.RawMessage]() && rt.Kind() != reflect.Interface && !def.result.AssignableTo(rt) {
			return "", fmt.Errorf("%s %s: the activity returns %s, not %s", call, name, def.result, rt)
		}
	}
	if _, err := encodeArgs(args); err != nil {
		return "", fmt.Errorf("%s %s: %w", call, name, err)
	}
	return name, nil
}

func scheduleActivity[R any](ctx context.Context, in *instance, activity any, args []any, local bool) Future[R] {
	callName := "durable.Call"
	if local {
		callName = "durable.CallLocal"
	}
	name, err := checkActivityCall[R](in, callName, activity, args)
	if err != nil {
		return failedFuture[R](in, err)
	}
	raw, _ := encodeArgs(args)
	id := in.newID()
	var opts CallOptions
	if local {
		opts = localCallOptionsOf(ctx).callOptions()
	} else {
		opts = callOptionsOf(ctx)
	}
	queue := opts.Queue
	if queue == "" {
		queue = in.queue
	}
	data := &journal.ActivityScheduledData{ID: id, Activity: name, ArgTypes: argTypes(args), Args: raw, Local: local, Queue: queue}
	live := in.command(journal.ActivityScheduled, data, callDesc(name, args)) == nil
	ac := &activityCall{id: id, taskID: taskID(in.runID, id), name: name, p: newPromise(in), waitCancel: opts.WaitForCancellation && !local}
	in.activities[id] = ac
	task := &activityTask{
		RunID: in.runID, WorkflowID: in.workflowID, Workflow: in.info.Workflow, ID: id,
		Activity: name, Args: raw, Options: opts, ScheduledAt: in.now,
	}
	if local {
		ac.local = &localCall{task: task}
		if in.e.reg.activity(name) == nil {
			if v := reflect.ValueOf(activity); v.Kind() == reflect.Func {
				ac.local.def, _ = newFuncDef("activity", name, v, false)
			}
		}
		in.startLocal(ac)
	} else if live {
		in.newTasks = append(in.newTasks, in.e.newActivityTask(ac.taskID, queue, task))
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
	if got := in.command(journal.ActivityCancelRequested, data, "cancel activity "+ac.name); got != nil {
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
	delete(in.activities, ac.id)
	if ac.local != nil {
		ac.local.cancel()
	} else {
		in.deleteTasks = append(in.deleteTasks, ac.taskID)
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
		if ac == nil || ac.local == nil {
			in.deleteTasks = append(in.deleteTasks, m.taskID)
		}
		return
	}
	if ac.local == nil {
		in.deleteTasks = append(in.deleteTasks, m.taskID)
	}
	in.inbound(ac.outcome(&journal.ResultData{ID: m.id, Result: m.result, Error: m.failure}))
}

// outcome is the event that journals an attempt's final result. A call
// cancelled while waiting for its attempt ends cancelled whatever the
// attempt returned, as in Temporal: the attempt's end only says when.
func (ac *activityCall) outcome(rd *journal.ResultData) (string, *journal.ResultData) {
	if ac.cancelWaits {
		return journal.ActivityFailed, &journal.ResultData{ID: rd.ID, Error: toFailure(&CanceledError{})}
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
		delete(in.activities, d.ID)
		in.resolve(ac.p, d.Result, fromFailure(d.Error))
	case journal.ChildCompleted, journal.ChildFailed:
		in.onChildResult(ev, d)
	default:
		in.nondeterminism(ev, "a result")
	}
}
