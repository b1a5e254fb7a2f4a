package durable

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// LocalCallOptions configure local activities, as Temporal's
// LocalActivityOptions do.
type LocalCallOptions struct {
	StartToCloseTimeout    time.Duration
	ScheduleToCloseTimeout time.Duration
	RetryPolicy            *RetryPolicy
}

func (o LocalCallOptions) callOptions() CallOptions {
	return CallOptions{StartToCloseTimeout: o.StartToCloseTimeout, ScheduleToCloseTimeout: o.ScheduleToCloseTimeout, RetryPolicy: o.RetryPolicy}
}

// WithLocalCallOptions returns a context whose local activity calls use o.
func WithLocalCallOptions(ctx context.Context, o LocalCallOptions) context.Context {
	return context.WithValue(ctx, localCallOptionsKey, o)
}

func localCallOptionsOf(ctx context.Context) LocalCallOptions {
	o, _ := ctx.Value(localCallOptionsKey).(LocalCallOptions)
	return o
}

// CallLocal runs an activity in the worker that runs the workflow, with
// retries, and journals its result like Call. It suits short activities:
// no task is stored, and if the worker dies first the call runs again when
// the run is replayed.
func CallLocal[R any](ctx context.Context, activity any, args ...any) (R, error) {
	return AsyncLocal[R](ctx, activity, args...).Get(ctx)
}

// ExecLocal is CallLocal for activities whose result is not needed.
func ExecLocal(ctx context.Context, activity any, args ...any) error {
	_, err := AsyncLocal[json.RawMessage](ctx, activity, args...).Get(ctx)
	return err
}

// AsyncLocal starts a local activity and returns a future of its result.
func AsyncLocal[R any](ctx context.Context, activity any, args ...any) Future[R] {
	in := instanceOf(ctx, "AsyncLocal")
	if in.icptOut != nil {
		return interceptedActivity[R](ctx, in, activity, args, true)
	}
	return scheduleActivity[R](ctx, in, activity, args, true)
}

// localCall is the in-process execution of a local activity.
type localCall struct {
	task     *activityTask
	def      *funcDef // the function passed, when it is not registered (Temporal runs it anyway)
	mu       sync.Mutex
	started  bool
	canceled bool
	stop     context.CancelCauseFunc
}

func (l *localCall) cancel() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.canceled = true
	if l.stop != nil {
		l.stop(errTaskCancelled)
	}
}

// startLocal runs the local activity once its ActivityScheduled event is
// committed (or, replaying, if the journal holds no result for it).
func (in *instance) startLocal(ac *activityCall) {
	in.afterCommit = append(in.afterCommit, func() {
		if ac.done || in.m.ReadOnly() {
			return
		}
		ac.local.mu.Lock()
		if ac.local.started {
			ac.local.mu.Unlock()
			return
		}
		ac.local.started = true
		ac.local.mu.Unlock()
		in.e.runLocal(in, ac)
	})
}

// runLocal runs a local activity's attempts in this process.
func (e *Engine) runLocal(in *instance, ac *activityCall) {
	l := ac.local
	at := l.task
	t := &store.Task{ID: ac.taskID, RunID: in.runID, Attempt: 1}
	e.wg.Add(1)
	e.busy.Add(1)
	go func() {
		defer e.wg.Done()
		defer e.busy.Add(-1)
		for attempt := 1; ; attempt++ {
			ctx, cancel := e.attemptContext(in.queue)
			l.mu.Lock()
			if l.canceled {
				l.mu.Unlock()
				cancel(nil)
				return
			}
			l.stop = cancel
			l.mu.Unlock()
			st := newActivityState(e, at, nil, attempt, nil)
			st.task, st.mode = nil, attemptLocal
			result, err := e.invoke(ctx, cancel, at, st, l.def)
			cancel(nil)
			if e.ctx.Err() != nil {
				return
			}
			l.mu.Lock()
			canceled := l.canceled
			l.mu.Unlock()
			if canceled {
				return
			}
			if err == nil {
				in.post(msgActivity{taskID: t.ID, id: at.ID, result: result, mode: attemptLocal, attempt: attempt})
				return
			}
			if errors.Is(err, ErrResultPending) {
				// Temporal refuses it too: nothing outside the worker
				// knows a local activity.
				err = NewNonRetryableApplicationError("local activity "+at.Activity+" returned ErrResultPending: only activities complete asynchronously", "ResultPending", nil)
			}
			f := toFailure(err)
			wait, ok := at.Options.RetryPolicy.backoff(f, attempt)
			if ok {
				if d := at.Options.ScheduleToCloseTimeout; d > 0 && e.cfg.clock.Now().Add(wait).After(at.ScheduledAt.Add(d)) {
					f, ok = toFailure(&TimeoutError{Kind: "ScheduleToClose", Cause: err}), false
				}
			}
			if !ok {
				in.post(msgActivity{taskID: t.ID, id: at.ID, failure: f, mode: attemptLocal, attempt: attempt})
				return
			}
			done := make(chan struct{})
			e.cfg.clock.AfterFunc(wait, func() { e.busy.Add(1); close(done) })
			e.busy.Add(-1) // waiting for the retry timer is not work
			select {
			case <-done:
			case <-e.ctx.Done():
				e.busy.Add(1)
				return
			}
		}
	}()
}
