package durable

import (
	"context"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/durable/internal/machine"
)

// timerCall is a durable timer the run waits for.
type timerCall struct {
	id       int64
	fireAt   time.Time
	p        *promise
	done     bool
	armed    bool
	stopFunc func() bool
}

func (t *timerCall) stop() {
	if t.stopFunc != nil {
		t.stopFunc()
		t.stopFunc = nil
	}
}

// Now returns the run's deterministic time: the time at which the event
// the code is reacting to was journaled. It does not move while the code
// runs, and replay sees the same value.
func Now(ctx context.Context) time.Time {
	in := instanceOf(ctx, "Now")
	if in.icptOut != nil {
		return in.icptOut.Now(ctx)
	}
	return in.m.Now()
}

// Sleep waits durably for d: a run sleeping an hour resumes on time after
// a restart. It returns an error that matches context.Canceled when ctx is
// cancelled first.
func Sleep(ctx context.Context, d time.Duration) error {
	if in := instanceOf(ctx, "Sleep"); in.icptOut != nil {
		return in.icptOut.Sleep(ctx, d)
	}
	_, err := NewTimer(ctx, d).Get(ctx)
	return err
}

// NewTimer starts a durable timer and returns a future that is ready when
// it fires. Cancelling ctx cancels the timer; the future then holds an
// error matching context.Canceled.
func NewTimer(ctx context.Context, d time.Duration) Future[struct{}] {
	in := instanceOf(ctx, "NewTimer")
	if in.icptOut != nil {
		return typedFuture[struct{}](ctx, in, in.icptOut.NewTimer(ctx, d), "timer")
	}
	return in.startTimer(ctx, d)
}

func (in *instance) startTimer(ctx context.Context, d time.Duration) *future[struct{}] {
	p := newPromise(in)
	f := &future[struct{}]{p: p, what: "timer"}
	if d <= 0 {
		p.ready = true
		return f
	}
	id := in.m.NewID()
	fireAt := in.m.Now().Add(d)
	if data := in.command(journal.TimerStarted, &journal.TimerData{ID: id, FireAt: fireAt}); data != nil {
		if td, err := journal.Decode(journal.TimerStarted, data); err == nil {
			fireAt = td.(*journal.TimerData).FireAt
		}
	}
	t := &timerCall{id: id, fireAt: fireAt, p: p}
	in.timers[id] = t
	in.watchCancel(ctx, func() {
		if t.done {
			return
		}
		t.done = true
		t.stop()
		delete(in.timers, id)
		in.command(journal.TimerCanceled, &journal.TimerData{ID: id})
		in.resolve(p, nil, &CanceledError{})
	})
	return f
}

// armTimers sets a wall-clock (or test-clock) alarm for each timer a
// committed step asked for that is still pending.
func (in *instance) armTimers(arms []machine.TimerArm) {
	if len(arms) == 0 || in.isGone() {
		return
	}
	for _, a := range arms {
		t := in.timers[a.ID]
		if t == nil || t.done || t.armed {
			continue
		}
		t.armed = true
		id := t.id
		t.stopFunc = in.e.cfg.clock.AfterFunc(t.fireAt.Sub(in.e.cfg.clock.Now()), func() { in.post(msgTimer{id: id}) })
	}
}

// deadlineTimer is the ID of a run's execution timeout among its timers.
// Command IDs are positive; this one is not journaled: Started carries the
// deadline, and the timeout, when it fires, is journaled as a Terminated
// event, as Temporal's history ends with WorkflowExecutionTimedOut.
const deadlineTimer int64 = -1

// setDeadline arms the run's execution timeout: the chain's deadline
// (StartOptions.ExecutionTimeout) or the run's own (RunTimeout), whichever
// comes first. Like any timer, it sets when an unloaded run wakes.
func (in *instance) setDeadline(d *journal.StartedData) {
	at := d.Deadline
	if d.RunTimeout > 0 {
		if r := in.m.Now().Add(d.RunTimeout); at.IsZero() || r.Before(at) {
			at = r
		}
	}
	if at.IsZero() {
		return
	}
	in.timers[deadlineTimer] = &timerCall{id: deadlineTimer, fireAt: at, p: newPromise(in)}
	in.m.Arm(deadlineTimer, at)
}

// onTimer journals a timer's firing.
func (in *instance) onTimer(id int64) {
	t := in.timers[id]
	if t == nil || t.done {
		return
	}
	if id == deadlineTimer {
		t.done = true
		delete(in.timers, id)
		in.inbound(journal.Terminated, &journal.CancelData{Reason: "execution timeout", Timeout: true})
		return
	}
	in.inbound(journal.TimerFired, &journal.TimerData{ID: id})
}
