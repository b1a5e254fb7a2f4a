package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// runningActivity is an attempt executing in this process.
type runningActivity struct {
	cancel context.CancelCauseFunc
	state  *activityState
	mode   attemptMode // attemptRow, or attemptInline until promoted
}

func (e *Engine) newActivityTask(id, queue string, at *activityTask) *store.Task {
	t := &store.Task{
		ID:      id,
		RunID:   at.RunID,
		Kind:    taskActivity,
		Queue:   queue,
		DueAt:   at.ScheduledAt,
		Attempt: 1,
		Data:    encodeTask(at),
	}
	if e.serves(queue) {
		t.Owner = e.workerID
		t.LeaseUntil = e.cfg.clock.Now().Add(e.cfg.lease)
		e.mu.Lock()
		e.decoded[t.ID] = at // runAttempt needs not decode what we just encoded
		e.mu.Unlock()
	}
	return t
}

// execute runs an attempt of a task this engine holds the lease of. at,
// when not nil, is the decoded task of an inline attempt: one without a
// row, covered by the lease of its run, which this engine works.
func (e *Engine) execute(t *store.Task, at *activityTask) {
	e.wg.Add(1)
	e.busy.Add(1)
	go func() {
		defer e.wg.Done()
		defer e.busy.Add(-1)
		select {
		case e.slots <- struct{}{}:
		case <-e.ctx.Done():
			return
		}
		defer func() { <-e.slots }()
		e.runAttempt(t, at)
	}()
}

func (e *Engine) runAttempt(t *store.Task, inlineTask *activityTask) {
	var at activityTask
	mode := attemptRow
	if inlineTask != nil {
		mode = attemptInline
	}
	known := inlineTask
	if mode.hasRow() {
		e.mu.Lock()
		known = e.decoded[t.ID]
		delete(e.decoded, t.ID)
		e.mu.Unlock()
	}
	if known != nil {
		at = *known
	} else if decoded, err := decodeTask(t.Data); err == nil {
		at = decoded
	} else {
		// The row still says which call it is for: fail that call.
		at.RunID, at.ID = t.RunID, taskCallID(t.ID)
		e.deliverResult(t, &at, attemptRow, nil, toFailure(NewNonRetryableApplicationError(fmt.Sprintf("decode activity task %s: %v", t.ID, err), "DecodeError", nil)))
		return
	}
	attempt := max(t.Attempt, 1)
	policy := at.Options.RetryPolicy
	if t.Abandoned {
		// The attempt died with its worker: a StartToClose timeout, as Temporal sees it.
		f := toFailure(&TimeoutError{Kind: "StartToClose"})
		if !e.retryOrFail(t, &at, mode, attempt, f, policy, t.Details) {
			return
		}
		attempt++
	}
	t.Attempt = attempt // deliverResult journals it
	if d := at.Options.ScheduleToStartTimeout; d > 0 && !t.Abandoned && mode.hasRow() && e.cfg.clock.Now().After(t.DueAt.Add(d)) {
		// Claimed too late: the attempt's ScheduleToStart timeout
		// (scheduletostart.go), which is not retried.
		e.deliverResult(t, &at, mode, nil, toFailure(&TimeoutError{Kind: "ScheduleToStart"}))
		return
	}
	if d := at.Options.ScheduleToCloseTimeout; d > 0 && !e.cfg.clock.Now().Before(at.ScheduledAt.Add(d)) {
		e.deliverResult(t, &at, mode, nil, toFailure(&TimeoutError{Kind: "ScheduleToClose"}))
		return
	}
	ctx, cancel := e.attemptContext(t.Queue)
	st := newActivityState(e, &at, t, attempt, t.Details)
	st.mode = mode
	if !mode.hasRow() {
		st.task = nil // no row until heartbeat details make one (promote)
	}
	e.mu.Lock()
	e.running[t.ID] = &runningActivity{cancel: cancel, state: st, mode: mode}
	e.mu.Unlock()
	result, err := e.invoke(ctx, cancel, &at, st, nil)
	e.mu.Lock()
	mode = e.running[t.ID].mode // promote may have given it a row
	delete(e.running, t.ID)
	e.mu.Unlock()
	cancel(nil)
	if errors.Is(context.Cause(ctx), errTaskCancelled) {
		return // the run no longer waits for it; the task is gone
	}
	if errors.Is(context.Cause(ctx), errTaskCancelledWait) {
		// The run waits for this attempt's end (and ends the call
		// cancelled): report it, no retry.
		e.deliverResult(t, &at, mode, nil, toFailure(&CanceledError{}))
		return
	}
	if err == nil {
		e.deliverResult(t, &at, mode, result, nil)
		return
	}
	if errors.Is(err, ErrResultPending) {
		e.parkPending(t, &at, mode, st) // async.go
		return
	}
	if e.ctx.Err() != nil {
		return // the engine closed: the attempt is as abandoned as if it had died
	}
	e.retryOrFail(t, &at, mode, attempt, toFailure(err), policy, st.latestDetails())
}

var (
	errTaskCancelled     = errors.New("durable: activity cancelled by its run")
	errTaskCancelledWait = errors.New("durable: activity cancelled by its run, which waits for it")
)

// retryOrFail schedules the next attempt after a failed one, or reports the
// failure to the run. It reports true when the caller should go on with the
// next attempt right away (only for abandoned attempts). The retry of an
// inline attempt gets a task row, written by its run (onActivityRetry).
func (e *Engine) retryOrFail(t *store.Task, at *activityTask, mode attemptMode, attempt int, f *journal.Failure, policy *RetryPolicy, details json.RawMessage) bool {
	wait, ok := policy.backoff(f, attempt)
	now := e.cfg.clock.Now()
	if ok {
		if d := at.Options.ScheduleToCloseTimeout; d > 0 && now.Add(wait).After(at.ScheduledAt.Add(d)) {
			e.deliverResult(t, at, mode, nil, toFailure(&TimeoutError{Kind: "ScheduleToClose", Cause: fromFailure(f)}))
			return false
		}
	}
	if !ok {
		e.deliverResult(t, at, mode, nil, f)
		return false
	}
	if t.Abandoned && wait == 0 {
		return true
	}
	if mode == attemptInline {
		// Gone run: whoever works it now dispatches the activity again.
		if in := e.instance(at.RunID); in != nil && in.post(msgRetry{id: at.ID, attempt: attempt + 1, dueAt: now.Add(wait), details: details}) {
			e.cfg.clock.AfterFunc(wait, e.pokePoller)
		}
		return false
	}
	_, err := e.retryWorker("reschedule activity", func(ctx context.Context) error {
		return e.store.UpdateTask(ctx, &store.UpdateTaskParams{
			ID: t.ID, Owner: e.workerID, Details: details, Release: true, DueAt: now.Add(wait), Attempt: attempt + 1,
		})
	})
	if err != nil {
		e.cfg.logger.Warn("durable: reschedule activity", "task", t.ID, "error", err)
		return false
	}
	e.cfg.clock.AfterFunc(wait, e.pokePoller)
	return false
}

// invoke calls the activity function with the attempt's context.
func (e *Engine) invoke(ctx context.Context, cancel context.CancelCauseFunc, at *activityTask, st *activityState, fallback *funcDef) (result json.RawMessage, err error) {
	def := e.reg.activity(at.Activity)
	if def == nil {
		def = fallback
	}
	if def == nil && at.Activity == SessionCreationActivity {
		def = e.sessionCreationDef() // session.go
	}
	if def == nil {
		return nil, NewApplicationError(fmt.Sprintf("activity %q is not registered on worker %s", at.Activity, e.workerID), "ActivityNotRegistered")
	}
	ctx, span := e.tel.attemptStart(ctx, at, st) // telemetry.go
	defer func() { e.tel.attemptEnd(span, at, err) }()
	args, err := decodeArgs(def, at.Args)
	if err != nil {
		return nil, NewNonRetryableApplicationError(err.Error(), "ArgumentError", nil)
	}
	var stops []func() bool
	deadline := time.Time{}
	if d := at.Options.StartToCloseTimeout; d > 0 {
		deadline = st.info.StartedTime.Add(d)
	}
	if d := at.Options.ScheduleToCloseTimeout; d > 0 {
		if s2c := at.ScheduledAt.Add(d); deadline.IsZero() || s2c.Before(deadline) {
			deadline = s2c
		}
	}
	if !deadline.IsZero() {
		st.info.Deadline = deadline
		kind := "StartToClose"
		if d := at.Options.ScheduleToCloseTimeout; d > 0 && deadline.Equal(at.ScheduledAt.Add(d)) {
			kind = "ScheduleToClose"
		}
		stops = append(stops, e.cfg.clock.AfterFunc(deadline.Sub(e.cfg.clock.Now()), func() {
			cancel(&TimeoutError{Kind: kind})
		}))
	}
	if hb := at.Options.HeartbeatTimeout; hb > 0 {
		st.startWatchdog(hb, func() { cancel(&TimeoutError{Kind: "Heartbeat"}) })
		defer st.stopWatchdog()
	}
	defer func() {
		for _, s := range stops {
			s()
		}
	}()
	actx := context.WithValue(ctx, activityKey, st)
	if len(e.cfg.propagators) > 0 {
		if actx, err = e.extract(actx, at.Header); err != nil { // propagate.go
			return nil, NewNonRetryableApplicationError(err.Error(), "ContextPropagationError", nil)
		}
	}
	var res any
	handled := false
	if len(e.cfg.interceptors) > 0 {
		res, handled, err = e.interceptActivity(actx, st, def, args) // interceptor.go
	}
	if !handled {
		call := make([]reflect.Value, 0, len(args)+1)
		if def.hasCtx {
			call = append(call, reflect.ValueOf(actx))
		}
		call = append(call, args...)
		out, perr := callRecover(def.fn, call)
		if perr != nil {
			return nil, perr
		}
		if errV := out[len(out)-1].Interface(); errV != nil {
			err = errV.(error)
		} else if def.result != nil {
			res = out[0].Interface()
		}
	}
	if err != nil {
		var pe *PanicError
		if errors.As(err, &pe) && err == error(pe) {
			return nil, err
		}
		var te *TimeoutError
		if errors.As(context.Cause(ctx), &te) {
			return nil, te
		}
		return nil, err
	}
	raw, encErr := encodeValue(res)
	if encErr != nil {
		return nil, NewNonRetryableApplicationError(fmt.Sprintf("encode result of activity %s: %v", at.Activity, encErr), "EncodingError", nil)
	}
	return raw, nil
}

func callRecover(fn reflect.Value, args []reflect.Value) (out []reflect.Value, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: fmt.Sprint(r), Stack: string(debug.Stack())}
		}
	}()
	return fn.Call(args), nil
}

// deliverResult hands an activity's final outcome to its run: straight to
// the instance when it is loaded here, else through the store's inbox.
func (e *Engine) deliverResult(t *store.Task, at *activityTask, mode attemptMode, result json.RawMessage, f *journal.Failure) {
	m := msgActivity{taskID: t.ID, id: at.ID, result: result, failure: f, mode: mode, attempt: t.Attempt}
	if in := e.instance(at.RunID); in != nil && in.post(m) {
		return
	}
	e.completeRemotely(m)
}

// completeRemotely completes a task through the store: the result lands in
// the run's inbox in the same transaction that deletes the task. An inline
// attempt has no task: its result goes to the inbox alone, for whichever
// worker has the run now (a duplicate of a result is ignored).
func (e *Engine) completeRemotely(m msgActivity) {
	if e.ctx.Err() != nil {
		return // closing: the attempt counts as abandoned
	}
	runID := runIDOfTask(m.taskID)
	result := &store.DeliverParams{RunID: runID, Kind: inboxActivity, Data: journal.Encode(&journal.ResultData{ID: m.id, Result: m.result, Error: m.failure, Attempt: m.attempt})}
	// Made again while the store is unavailable: a result delivered twice
	// is ignored, and a completion that landed leaves no task to complete.
	_, err := e.retryWorker("complete activity", func(ctx context.Context) error {
		if !m.mode.hasRow() {
			_, err := e.store.Deliver(ctx, result)
			return err
		}
		return e.store.CompleteTask(ctx, &store.CompleteTaskParams{ID: m.taskID, Owner: e.workerID, Result: result})
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) && e.ctx.Err() == nil {
		e.cfg.logger.Warn("durable: complete activity", "task", m.taskID, "error", err)
		return
	}
	e.pokePoller()
}

func runIDOfTask(id string) string {
	for i := len(id) - 1; i >= 0; i-- {
		if id[i] == '/' {
			return id[:i]
		}
	}
	return id
}

// isRunning reports whether an attempt of the task runs in this process.
func (e *Engine) isRunning(taskID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.running[taskID] != nil
}

// cancelRunning cancels an attempt running here whose run gave up on it
// (errTaskCancelled: the attempt reports nothing) or waits for its end
// (errTaskCancelledWait: it reports that it ended; see runAttempt).
func (e *Engine) cancelRunning(taskID string, cause error) {
	e.mu.Lock()
	r := e.running[taskID]
	e.mu.Unlock()
	if r != nil {
		r.cancel(cause)
	}
}

// activityState is what an attempt's context knows about it.
type activityState struct {
	e        *Engine
	task     *store.Task // its row; nil for local and inline attempts
	id       int64       // the call's ID in its run
	mode     attemptMode // attemptInline: promote gives it a row
	info     ActivityInfo
	previous json.RawMessage // heartbeat details of earlier attempts
	// outbound is the interceptors' outbound chain (interceptor.go).
	outbound ActivityOutboundInterceptor

	mu        sync.Mutex
	promoted  bool // promote was tried
	latest    json.RawMessage
	lastWrite time.Time
	hbTimeout time.Duration
	watchdog  func() bool
	onMissed  func()
	stopped   bool
}

func newActivityState(e *Engine, at *activityTask, t *store.Task, attempt int, details json.RawMessage) *activityState {
	queue := ""
	if t != nil {
		queue = t.Queue
	}
	return &activityState{
		e:        e,
		task:     t,
		id:       at.ID,
		previous: details,
		info: ActivityInfo{
			ActivityID:       fmt.Sprint(at.ID),
			Activity:         at.Activity,
			Attempt:          attempt,
			WorkflowID:       at.WorkflowID,
			RunID:            at.RunID,
			Workflow:         at.Workflow,
			ScheduledTime:    at.ScheduledAt,
			StartedTime:      e.cfg.clock.Now(),
			HeartbeatTimeout: at.Options.HeartbeatTimeout,
			Queue:            queue,
			TaskToken:        taskToken{RunID: at.RunID, WorkflowID: at.WorkflowID, ActivityID: at.ID, Attempt: attempt}.encode(),
		},
	}
}

func (s *activityState) latestDetails() json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.latest != nil {
		return s.latest
	}
	return s.previous
}

func (s *activityState) startWatchdog(d time.Duration, onMissed func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hbTimeout = d
	s.onMissed = onMissed
	s.watchdog = s.e.cfg.clock.AfterFunc(d, onMissed)
}

func (s *activityState) stopWatchdog() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopped = true
	if s.watchdog != nil {
		s.watchdog()
	}
}

// promote gives an inline attempt that recorded heartbeat details a task
// row, owned by this engine, so that the details outlive this process: if
// it dies, the row's lease expires and the next attempt, wherever it runs,
// starts from them. The row is written by the run's next commit, which
// this waits for (once per attempt); after it the attempt is like any
// attempt with a row (heartbeats write the row, a retry releases it).
func (s *activityState) promote(details json.RawMessage) {
	e := s.e
	in := e.instance(s.info.RunID)
	if in == nil {
		return
	}
	reply := make(chan *store.Task, 1)
	if !in.post(msgPromote{id: s.id, attempt: s.info.Attempt, details: details, reply: reply}) {
		return
	}
	var t *store.Task
	select {
	case t = <-reply:
	case <-e.ctx.Done():
	}
	if t == nil {
		return // the call ended, or the run left this engine
	}
	s.mu.Lock()
	s.task = t
	s.mu.Unlock()
	e.mu.Lock()
	if r := e.running[t.ID]; r != nil {
		r.mode = attemptRow
	}
	e.mu.Unlock()
}

// heartbeat records details and resets the heartbeat timeout. Details are
// written to the store at most about once a second (or twice per timeout).
func (s *activityState) heartbeat(details json.RawMessage) {
	s.mu.Lock()
	if details != nil {
		s.latest = details
	}
	if s.watchdog != nil && !s.stopped {
		s.watchdog()
		s.watchdog = s.e.cfg.clock.AfterFunc(s.hbTimeout, s.onMissed)
	}
	throttle := time.Second
	if s.hbTimeout > 0 && s.hbTimeout/2 < throttle {
		throttle = s.hbTimeout / 2
	}
	now := s.e.cfg.clock.Now()
	write := s.task != nil && now.Sub(s.lastWrite) >= throttle
	promote := s.task == nil && s.mode == attemptInline && !s.promoted && s.latest != nil
	if write || promote {
		s.lastWrite = now
	}
	s.promoted = s.promoted || promote
	latest := s.latest
	s.mu.Unlock()
	if promote {
		s.promote(latest)
		return
	}
	if write {
		err := s.e.store.UpdateTask(s.e.ctx, &store.UpdateTaskParams{ID: s.task.ID, Owner: s.e.workerID, Details: latest, Lease: s.e.cfg.lease})
		if err != nil {
			s.e.cfg.logger.Debug("durable: record heartbeat", "task", s.task.ID, "error", err)
		}
	}
}
