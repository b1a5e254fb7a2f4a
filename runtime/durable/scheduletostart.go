package durable

import (
	"errors"
	"sync"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// An activity attempt that no worker starts within its call's
// ScheduleToStartTimeout fails with a *TimeoutError of Kind
// "ScheduleToStart", which is not retried (as in Temporal). Two checks
// enforce it:
//
//   - A worker that claims an attempt later than that (counted from the
//     attempt's due time) reports the timeout instead of running it
//     (runAttempt).
//   - A run whose activity waits in a task row for workers of a queue its
//     worker does not serve watches the row (startWatch): once the
//     attempt has waited that long unclaimed, Store.ExpireTask deletes
//     the row and delivers the timeout to the run's inbox in one
//     transaction, so no worker can start the attempt after the run gave
//     up on it, even when no worker of that queue is running.

// startWatch checks a call's task row until the call is done.
type startWatch struct {
	mu      sync.Mutex
	stopped bool
	timer   func() bool
}

// stopWatch ends the watch of ac's row, if any.
func (ac *activityCall) stopWatch() {
	w := ac.watch
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	if w.timer != nil {
		w.timer()
	}
}

// watchScheduleToStart starts the watch of ac's task row when its call has
// a ScheduleToStartTimeout and its attempts wait for workers of a queue
// this engine does not serve (see above).
func (in *instance) watchScheduleToStart(ac *activityCall) {
	e := in.e
	d := ac.task.Options.ScheduleToStartTimeout
	if d <= 0 || ac.watch != nil || ac.mode != attemptRow || e.serves(ac.queue) {
		return
	}
	w := &startWatch{}
	ac.watch = w
	taskID := ac.taskID
	result := &store.DeliverParams{Kind: inboxActivity, Data: journal.Encode(&journal.ResultData{
		ID: ac.id, Error: toFailure(&TimeoutError{Kind: "ScheduleToStart"}), Attempt: 1,
	})}
	var check func()
	arm := func(at time.Time) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if !w.stopped {
			w.timer = e.cfg.clock.AfterFunc(max(at.Sub(e.cfg.clock.Now()), 0), check)
		}
	}
	check = func() {
		w.mu.Lock()
		stopped := w.stopped
		w.mu.Unlock()
		if stopped || e.ctx.Err() != nil {
			return
		}
		e.busy.Add(1)
		defer e.busy.Add(-1)
		expired, t, err := e.store.ExpireTask(e.ctx, &store.ExpireTaskParams{ID: taskID, After: d, Result: result})
		switch {
		case err == nil && expired:
			e.pokePoller() // the timeout waits in the run's inbox
		case errors.Is(err, store.ErrNotFound):
			// The attempt ended, or the call was cancelled.
		case err != nil:
			if e.ctx.Err() == nil {
				e.cfg.logger.Warn("durable: check an activity's ScheduleToStart timeout", "task", taskID, "error", err)
				arm(e.cfg.clock.Now().Add(min(d, time.Minute)))
			}
		default:
			// Not due for long enough, or taken: check again when it
			// could be due for long enough (a taken attempt comes back
			// unclaimed only when released for a retry, due later).
			next := t.DueAt
			if t.Owner != "" && t.LeaseUntil.After(next) {
				next = t.LeaseUntil
			}
			arm(next.Add(d))
		}
	}
	arm(ac.task.ScheduledAt.Add(d))
}
