package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime/debug"
	"slices"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/durable/internal/machine"
	"github.com/durablego/toolkit/runtime/store"
)

// instance is a run loaded in memory: its coroutines parked at their yield
// points, the futures and queues they wait on, and the journal position.
//
// Inputs (activity results, timer firings, inbox notifications, queries)
// are posted to the mailbox from any goroutine; one drainer at a time works
// them off, so the state below the mutex needs no locking. Each inbound
// event is committed before the code sees it; the commands the code then
// issues are committed before anything acts on them (tasks are dispatched,
// timers armed, waiters told) and at the latest with the next inbound event.
type instance struct {
	e          *Engine
	def        *funcDef
	runID      string
	workflowID string
	queue      string
	// m is the run's deterministic state: replay's position, time, command
	// IDs and the step since the last commit (internal/machine). A replica
	// (Config.ReadOnly) is rebuilt to be looked at: it never writes.
	m *machine.Machine
	// icptIn and icptOut are the run's interceptor chains (interceptor.go;
	// nil without interceptors), built when the run starts or replays.
	icptIn  WorkflowInboundInterceptor
	icptOut WorkflowOutboundInterceptor
	// icptFuncs are the activity functions the run called, by name.
	icptFuncs map[string]any

	box mailbox // messages to the run; its drainer owns what follows

	// Owned by the drainer.
	created     bool
	sched       *scheduler
	journal     []store.Event // the loaded journal, until begin replays it
	afterCommit []func()
	lastInbox   int64
	timedOut    bool              // closing because the execution timeout passed
	inboxAhead  []store.InboxItem // read with the claim, for begin (nil: read the store)
	// noCode is set for a run terminated before its first step: Started
	// runs no code (see terminatedBeforeStart).
	noCode       bool
	tasksAhead   []string // the run's task IDs, read with inboxAhead
	rootCtx      context.Context
	cancelRoot   context.CancelFunc
	activities   map[int64]*activityCall
	timers       map[int64]*timerCall
	signals      map[string]*signalQueue
	queries      map[string]*handlerFunc
	updates      map[string]*updateHandler
	versions     map[string]int
	watches      []*cancelWatch
	halt         error // stuck: replay diverged or the code panicked
	mainDone     bool
	mainResult   json.RawMessage
	mainErr      error
	closing      *store.RunUpdate // terminal state, once decided
	createErr    error
	info         Info
	logger       *slog.Logger // made by log on first use
	workflow     string       // the run's workflow name, for the logger
	lastActivity time.Time
	started      journal.StartedData
	extra        instanceExtra
}

// instanceExtra holds state of less common features.
type instanceExtra struct {
	children       []*childCall
	runningUpdates int
	updateReplies  map[string]chan updateReply
	promotions     []chan *store.Task // onActivityPromote replies not sent yet
	attrs          *attributes        // memo and search attributes (attributes.go)
	tel            stepTelemetry      // the current step's span (telemetry.go)
}

type cancelWatch struct {
	ctx  context.Context
	fn   func()
	done bool
}

// Messages posted to an instance.
type (
	msgStart    struct{}
	msgActivity struct {
		taskID  string
		id      int64
		result  json.RawMessage
		failure *journal.Failure
		mode    attemptMode // where the attempt ran
		attempt int         // the attempt that produced the outcome (journaled for readers)
	}
	// msgPromote: an inline attempt recorded heartbeat details and wants a
	// task row for them (reply: the row once committed, or nil).
	msgPromote struct {
		id      int64
		attempt int
		details json.RawMessage
		reply   chan *store.Task
	}
	// msgRetry: an inline attempt failed and is to be retried.
	msgRetry struct {
		id      int64
		attempt int
		dueAt   time.Time
		details json.RawMessage
	}
	msgTimer struct{ id int64 }
	// msgInbox says the run's inbox has new items: items, when the claim
	// read them already, else the instance reads the store.
	msgInbox struct{ items []store.InboxItem }
	msgQuery struct {
		name  string
		args  []any
		reply chan queryReply
	}
	msgEvict struct{}
)

type queryReply struct {
	value json.RawMessage
	err   error
}

type ctxKey int

const (
	instanceKey ctxKey = iota
	callOptionsKey
	sessionKey
	localCallOptionsKey
	childOptionsKey
	activityKey
)

// newInstance returns the instance of run, whose state is m: a machine
// loaded from its journal (machine.Load) or a new run's (machine.Start).
func newInstance(e *Engine, run *store.Run, def *funcDef, m *machine.Machine) *instance {
	in := &instance{
		e:          e,
		m:          m,
		def:        def,
		runID:      run.RunID,
		workflowID: run.WorkflowID,
		queue:      run.Queue,
		activities: map[int64]*activityCall{},
		timers:     map[int64]*timerCall{},
		signals:    map[string]*signalQueue{},
		queries:    map[string]*handlerFunc{},
		updates:    map[string]*updateHandler{},
		versions:   map[string]int{},
	}
	in.extra.updateReplies = map[string]chan updateReply{}
	in.sched = newScheduler(in)
	in.workflow = run.Workflow
	base := context.WithValue(e.ctx, instanceKey, in)
	base = context.WithoutCancel(base)
	in.rootCtx, in.cancelRoot = context.WithCancel(base)
	return in
}

// log returns the run's logger (see Logger). It is made on first use:
// most runs never log, and With formats its attributes at once.
func (in *instance) log() *slog.Logger {
	if in.logger == nil {
		in.logger = slog.New(&replayHandler{in: in, h: in.e.cfg.logger.Handler()}).With(
			"workflow", in.workflow, "workflow_id", in.workflowID, "run_id", in.runID)
	}
	return in.logger
}

// instanceOf returns the instance a workflow context belongs to; it panics
// with a clear message when ctx is not a workflow's.
func instanceOf(ctx context.Context, call string) *instance {
	in, _ := ctx.Value(instanceKey).(*instance)
	if in == nil {
		panic(fmt.Sprintf("durable.%s: ctx is not a workflow context (call it from workflow code, with the ctx the workflow was given)", call))
	}
	if in.sched.current == nil && !in.sched.exiting {
		panic(fmt.Sprintf("durable.%s: called outside the workflow's coroutines (use durable.Go, not the go statement)", call))
	}
	return in
}

// post queues a message and makes sure someone drains the mailbox. It
// reports false when the instance is gone.
func (in *instance) post(m any) bool {
	taken, startDrain := in.box.put(m)
	if startDrain {
		in.e.busy.Add(1)
		go in.drain()
	}
	return taken
}

func (in *instance) drain() {
	defer in.e.busy.Add(-1)
	evictChecked := false
	for {
		msgs, gone := in.box.next()
		if gone {
			in.reject(msgs)
			if in.e.ctx.Err() != nil {
				in.unwind() // the engine closed while this drain ran
			}
			return
		}
		if len(msgs) == 0 {
			if !evictChecked {
				// Still the drainer: decide on eviction with the state to ourselves.
				in.maybeEvict()
				evictChecked = true
				continue
			}
			if in.box.release() {
				return
			}
			continue
		}
		evictChecked = false
		in.e.tel.stepStart(in, msgs) // telemetry.go
		for i, m := range msgs {
			if in.isGone() {
				in.reject(msgs[i:])
				break
			}
			if _, ok := m.(msgQuery); ok && in.m.Step().Dirty() {
				in.settle() // queries see committed state only
				if in.isGone() {
					in.reject(msgs[i:])
					break
				}
			}
			in.handle(m)
		}
		if !in.isGone() {
			in.settle()
		}
		in.e.tel.stepEnd(in)
	}
}

func (in *instance) isGone() bool { return in.box.isGone() }

// reject hands messages of a torn-down instance to where they are safe.
func (in *instance) reject(msgs []any) {
	for _, m := range msgs {
		switch m := m.(type) {
		case msgActivity:
			in.e.completeRemotely(m)
		case msgQuery:
			m.reply <- queryReply{err: errRunMoved}
		case *updateRequest:
			m.reply <- updateReply{err: errRunMoved}
		case msgPromote:
			m.reply <- nil
		case msgPending:
			if m.n.Row {
				in.e.parkRemotely(taskID(in.runID, m.n.ID), in.runID, m.n)
			}
		}
	}
}

var errRunMoved = errors.New("durable: run was unloaded; retry")

func (in *instance) handle(m any) {
	if in.m.Closing() != nil || in.halt != nil {
		// The run is ending: only queries still make sense.
		switch m := m.(type) {
		case msgQuery:
			v, err := in.runQuery(m.name, m.args)
			m.reply <- queryReply{value: v, err: err}
		case *updateRequest:
			m.reply <- updateReply{err: fmt.Errorf("durable: run %s is closing; update %q not accepted", in.runID, m.name)}
		case msgPromote:
			m.reply <- nil
		}
		return
	}
	switch m := m.(type) {
	case msgStart:
		in.begin()
	case msgActivity:
		in.onActivityResult(m)
	case msgRetry:
		in.onActivityRetry(m)
	case msgPromote:
		in.onActivityPromote(m)
	case msgPending:
		in.onPending(m.n)
	case msgPendingTimeout:
		in.onPendingTimeout(m)
	case msgTimer:
		in.onTimer(m.id)
	case msgInbox:
		in.readInbox(m.items)
	case msgQuery:
		v, err := in.runQuery(m.name, m.args)
		m.reply <- queryReply{value: v, err: err}
	case *updateRequest:
		in.onUpdateRequest(m)
	case msgEvict:
		in.evict()
	default:
		panic(fmt.Sprintf("durable: unknown message %T", m))
	}
}

// begin replays the loaded journal (for a new run: just Started) and then
// takes in whatever waits in the inbox.
func (in *instance) begin() {
	if len(in.journal) == 0 || in.journal[0].Kind != journal.Started {
		in.stuck(fmt.Errorf("durable: run %s: journal does not start with a Started event", in.runID))
		return
	}
	replica := in.m.ReadOnly()
	in.noCode = len(in.journal) > 1 && in.journal[1].Kind == journal.Terminated
	if len(in.journal) == 1 && in.created && !replica {
		in.noCode = in.terminatedBeforeStart()
	}
	in.journal = nil
	for in.m.Replaying() && in.halt == nil && in.m.Closing() == nil {
		ev, data, err := in.m.Next()
		if err != nil {
			in.stopOn(err)
			break
		}
		in.applyDecoded(ev, data)
		in.m.Applied()
	}
	if in.halt != nil {
		in.settleStuck()
		return
	}
	in.m.EndReplay() // the code's commands are new from here
	if in.created && !replica && in.m.Closing() == nil {
		items, taskIDs := in.inboxAhead, in.tasksAhead
		in.inboxAhead, in.tasksAhead = nil, nil
		orphans, ok := in.orphans(items, taskIDs)
		if !ok {
			return
		}
		in.readInbox(items)
		in.redispatchOrphans(orphans)
		for _, ac := range in.activities {
			if !ac.done && !slices.Contains(orphans, ac) {
				in.watchScheduleToStart(ac) // attempts waiting in rows
			}
		}
	}
}

// replaying reports whether the code's next command is matched against
// the journal rather than recorded.
func (in *instance) replaying() bool { return in.m.Replaying() }

// reexecuting reports whether the code is re-executing history: matching
// the journal, or reacting to an event it already reacted to before.
func (in *instance) reexecuting() bool { return in.m.Reexecuting() }

// inbound journals an event that reached the run and lets the code react.
// The event and the commands the code issues in reaction are committed
// together (by settle) before any of them takes effect: no task is
// dispatched, timer armed, waiter told or query answered from that state
// before the commit, so a crash before it is as if the event never arrived.
func (in *instance) inbound(kind string, data any) {
	ev, div := in.m.Inbound(kind, data)
	if div != nil {
		in.diverged(div)
		return
	}
	in.applyDecoded(ev, data)
}

// apply delivers a new run's Started event to the code.
func (in *instance) apply(ev store.Event) {
	data, err := journal.Decode(ev.Kind, ev.Data)
	if err != nil {
		in.stuck(fmt.Errorf("durable: run %s: journal event %d: %w", in.runID, ev.Seq, err))
		return
	}
	in.applyDecoded(ev, data)
}

// applyDecoded lets the code react to an inbound event the machine took
// (Inbound live, Next in replay) and runs the coroutines until every one
// of them waits again.
func (in *instance) applyDecoded(ev store.Event, data any) {
	if ev.Kind == journal.UpdateRejected {
		return // the update never ran; its sender reads the event
	}
	in.sched.progress++ // outside input: awaited conditions may hold now
	switch d := data.(type) {
	case *journal.StartedData:
		in.onStarted(d)
		if !in.reexecuting() && !in.noCode {
			defer in.markFirstStep()
			in.e.tel.runStarted(in)
		}
	case *journal.ResultData:
		in.onResult(ev, d)
	case *journal.TimerData:
		t := in.timers[d.ID]
		if t == nil {
			in.nondeterminism(ev, "no such timer waiting")
			return
		}
		t.done = true
		t.stop()
		in.resolve(t.p, nil, nil)
		delete(in.timers, d.ID)
	case *journal.SignalData:
		if in.icptIn != nil {
			// The interceptors see the signal in a coroutine of the run,
			// which may call workflow code (interceptor.go).
			name, arg := d.Name, d.Arg
			in.sched.spawn("signal "+name, func() {
				if err := in.icptIn.HandleSignal(in.rootCtx, &HandleSignalInput{SignalName: name, Arg: arg}); err != nil {
					in.log().Warn("durable: a signal interceptor failed", "signal", name, "error", err)
				}
			})
			break
		}
		in.deliverSignal(d.Name, d.Arg)
	case *journal.CancelData:
		if ev.Kind == journal.Terminated {
			in.terminate(d)
			return
		}
		in.cancelRoot()
	case *journal.UpdateData:
		in.onUpdateAccepted(d)
	default:
		in.nondeterminism(ev, "an inbound event")
		return
	}
	in.sched.runUntilBlocked()
	in.afterRun()
}

func (in *instance) onStarted(d *journal.StartedData) {
	in.started = *d
	in.info = Info{
		WorkflowID:       in.workflowID,
		RunID:            in.runID,
		Workflow:         d.Workflow,
		Queue:            in.queue,
		Attempt:          max(d.Attempt, 1),
		StartTime:        in.m.Now(),
		ParentWorkflowID: d.ParentID,
		ParentRunID:      d.ParentRun,
		ContinuedRunID:   d.Continued,
	}
	in.setDeadline(d)
	args, err := decodeArgs(in.def, d.Args)
	if err != nil {
		in.mainDone = true
		in.mainErr = NewNonRetryableApplicationError(err.Error(), "ArgumentError", nil)
		return
	}
	if in.noCode {
		return // terminated before its first step (see terminatedBeforeStart)
	}
	if len(in.e.cfg.propagators) > 0 {
		ctx, err := in.e.extract(in.rootCtx, d.Header) // propagate.go
		if err != nil {
			in.mainDone = true
			in.mainErr = NewNonRetryableApplicationError(err.Error(), "ContextPropagationError", nil)
			return
		}
		in.rootCtx = ctx
	}
	in.sched.spawn("main", func() {
		// The interceptors are asked first, in the run's coroutine, so
		// that they may call workflow code (GetInfo); this runs before
		// any later event of the run (a signal, a query) is handled.
		if len(in.e.cfg.interceptors) > 0 {
			if err := in.intercept(in.rootCtx); err != nil { // interceptor.go
				in.mainDone = true
				in.mainErr = NewNonRetryableApplicationError(err.Error(), "InterceptorError", nil)
				return
			}
		}
		var res any
		if in.icptIn != nil {
			vals := make([]any, len(args))
			for i, a := range args {
				vals[i] = a.Interface()
			}
			var err error
			res, err = in.icptIn.ExecuteWorkflow(in.rootCtx, &ExecuteWorkflowInput{Args: vals})
			in.mainDone = true
			if err != nil {
				in.mainErr = err
				return
			}
		} else {
			call := append(make([]reflect.Value, 0, len(args)+1), reflect.ValueOf(in.rootCtx))
			out := in.def.fn.Call(append(call, args...))
			in.mainDone = true
			if errV := out[len(out)-1].Interface(); errV != nil {
				in.mainErr = errV.(error)
				return
			}
			if in.def.result != nil {
				res = out[0].Interface()
			}
		}
		raw, err := encodeValue(res)
		if err != nil {
			in.mainErr = NewNonRetryableApplicationError(fmt.Sprintf("encode result of %s: %v", in.def.name, err), "EncodingError", nil)
			return
		}
		in.mainResult = raw
	})
}

// deliverSignal puts a signal's value in its channel.
func (in *instance) deliverSignal(name string, arg json.RawMessage) {
	q := in.signalQueue(name)
	q.items = append(q.items, arg)
	in.sched.notify(&q.q)
}

// markFirstStep records that a run's first step issued no command.
func (in *instance) markFirstStep() {
	for _, ev := range in.m.Step().Events {
		if !journal.Inbound(ev.Kind) {
			return
		}
	}
	st := in.m.Step()
	st.Events = append(st.Events, store.Event{Kind: journal.FirstStep, Data: journal.Encode(&journal.IDData{}), At: eventTime(in.e.cfg.clock.Now())})
}

// afterRun closes the run when its main coroutine has returned.
func (in *instance) afterRun() {
	if !in.mainDone || in.m.Closing() != nil || in.halt != nil {
		return
	}
	err := in.mainErr
	var can *ContinueAsNewError
	switch {
	case err == nil:
		in.command(journal.Completed, &journal.CompletedData{Result: in.mainResult})
		in.closeWith(&store.RunUpdate{Status: store.StatusCompleted, Result: in.mainResult})
		// closeWith ignores a close that replay found to diverge (in.halt).
	case errors.As(err, &can):
		in.continueAsNew(can)
	case errors.Is(err, context.Canceled) && in.rootCtx.Err() != nil:
		f := toFailure(&CanceledError{})
		in.command(journal.Canceled, &journal.FailedData{Error: f})
		in.closeWith(&store.RunUpdate{Status: store.StatusCanceled, Error: journal.Encode(f)})
	default:
		in.fail(err)
	}
}

// fail closes the run as failed. When the run's retry policy retries the
// failure, the same commit creates the next attempt's run, due after the
// policy's backoff, and Run.Get follows it (Temporal's workflow retry).
func (in *instance) fail(err error) {
	f := toFailure(err)
	data := &journal.FailedData{Error: f}
	if in.replaying() {
		got := in.command(journal.Failed, data)
		if d, err := journal.Decode(journal.Failed, got); err == nil {
			data = d.(*journal.FailedData)
		}
	} else {
		if p := in.retryPolicy(); p != nil {
			if wait, ok := p.backoff(f, in.info.Attempt); ok {
				data.NextRunID, data.RetryAt = newID(), in.m.Now().Add(wait)
			}
		}
		in.command(journal.Failed, data)
	}
	if in.halt != nil {
		return
	}
	in.closeWith(&store.RunUpdate{Status: store.StatusFailed, Error: journal.Encode(f), NextRunID: data.NextRunID})
	if data.NextRunID == "" || in.m.ReadOnly() {
		return
	}
	started := in.started
	started.Attempt = in.info.Attempt + 1
	started.Continued = ""
	p := &store.CreateRunParams{
		Run: &store.Run{
			RunID: data.NextRunID, WorkflowID: in.workflowID, Workflow: started.Workflow, Queue: in.queue,
			Status: store.StatusRunning, Input: started.Args, ParentRunID: started.ParentRun, PrevRunID: in.runID,
			WakeAt: data.RetryAt,
		},
		Events: []store.Event{{Kind: journal.Started, Data: journal.Encode(&started), At: eventTime(data.RetryAt)}},
	}
	// Like a continued run, the next attempt stays with this engine when it
	// can work it; the engine loads it when the backoff has passed.
	if in.e.serves(in.queue) && in.e.reg.workflow(started.Workflow) != nil {
		p.Owner, p.Lease = in.e.workerID, in.e.cfg.lease
	}
	in.m.Step().Runs = append(in.m.Step().Runs, p)
}

func (in *instance) closeWith(u *store.RunUpdate) {
	if in.halt != nil {
		return
	}
	in.m.Close(u)
	in.notifyParent(u)
}

// command records what the code did. Replaying, it matches the journal's
// next event and returns its data; live, it appends a new event and returns
// nil. A mismatch stops the run as stuck (and never returns).
func (in *instance) command(kind string, data any) []byte {
	if in.halt != nil {
		in.parkForever()
		return nil
	}
	if in.m.PastEnd() && in.m.Closing() == nil {
		// A replica replays up to the journal's end and must not go further.
		in.parkForever()
	}
	got, div := in.m.Command(kind, data)
	if div != nil {
		in.diverged(div)
		in.parkForever()
		return nil
	}
	return got
}

// nondeterminism stops the run as stuck: the journal delivers ev, which
// the code has nothing waiting for (reason says what is missing).
func (in *instance) nondeterminism(ev store.Event, reason string) {
	in.diverged(in.m.Unexpected(ev, reason))
}

// diverged stops the run as stuck with a typed NonDeterminismError.
func (in *instance) diverged(d *machine.Divergence) {
	in.stuck(newNonDeterminismError(in.runID, d))
}

// stopOn stops the run as stuck on an error of the machine's replay: a
// divergence, or an event it cannot read.
func (in *instance) stopOn(err error) {
	var div *machine.Divergence
	if errors.As(err, &div) {
		in.diverged(div)
		return
	}
	in.stuck(fmt.Errorf("durable: run %s: %w", in.runID, err))
}

// stuck stops the scheduler; the drainer then records the status.
func (in *instance) stuck(err error) {
	if in.halt == nil {
		in.halt = err
	}
}

func (in *instance) halted() bool {
	return in.halt != nil || in.m.Closing() != nil && (in.m.Closing().Status == store.StatusTerminated || in.timedOut)
}

// parkForever blocks the current coroutine until the instance is torn
// down. Outside a coroutine (the drainer closing the run) it returns, and
// the caller sees in.halt.
func (in *instance) parkForever() {
	if in.sched.current == nil {
		return
	}
	in.sched.park(nil)
	// Woken only to exit; park never returns then.
	panic("durable: halted coroutine resumed")
}

// coroutinePanicked stops the run as stuck when workflow code panics.
// (Halted coroutines end with runtime.Goexit, which is no panic.)
func (in *instance) coroutinePanicked(c *coroutine, r any) {
	in.stuck(&PanicError{Value: fmt.Sprint(r), Stack: string(debug.Stack())})
}

// settleStuck records a stuck run and unloads it.
func (in *instance) settleStuck() {
	if in.m.ReadOnly() {
		return
	}
	f := toFailure(in.halt)
	in.e.cfg.logger.Error("durable: run is stuck", "workflow_id", in.workflowID, "run_id", in.runID, "error", in.halt)
	in.e.tel.runStuck(in)
	if !in.created {
		in.teardown()
		return
	}
	in.m.Drop() // what the diverging step produced is dropped
	err := in.e.store.Commit(in.e.ctx, in.stepCommit(&store.RunUpdate{Status: store.StatusStuck, Error: journal.Encode(f)}))
	if err != nil {
		in.e.cfg.logger.Warn("durable: record stuck run", "run_id", in.runID, "error", err)
	}
	in.e.notifyChange(in.workflowID)
	in.teardown()
}

// settle commits what the last messages produced and acts on it.
func (in *instance) settle() {
	if in.halt != nil {
		in.settleStuck()
		return
	}
	in.flush()
	if in.m.Closing() != nil && !in.isGone() {
		in.teardown()
	}
}

// wakeAt is the earliest time a pending timer fires, zero when none. While
// an attempt runs in this process's memory only (an inline or local
// activity), it is no later than the end of the run's lease instead, so
// that a worker takes the run over and runs the attempt again if this one
// dies (see inMemoryWake).
func (in *instance) wakeAt() time.Time {
	for _, ac := range in.activities {
		if !ac.done && !ac.mode.hasRow() {
			return in.inMemoryWake()
		}
	}
	at := in.pendingWake() // async.go
	for _, t := range in.timers {
		if !t.done && (at.IsZero() || t.fireAt.Before(at)) {
			at = t.fireAt
		}
	}
	return at
}

// inMemoryWake is the WakeAt of a run while an attempt runs in this
// process's memory only. No other worker may take the run before its lease
// expires, so any time up to then will do; the choice is about what the
// store writes and reads:
//   - during the run's first lease period, its start: the WakeAt it was
//     created with, so the commits of a short run leave WakeAt as it is
//     and PostgreSQL updates the run in place (no index changes). Claims,
//     which read due runs, pass over it while it is leased.
//   - later, the end of the current lease window since the start (start +
//     k*lease, the first after now): the same for every commit within a
//     window, and in the future, so that claims do not read long runs
//     while they are worked. It may be later than the lease's expiry by
//     the lease's renewal margin at most.
func (in *instance) inMemoryWake() time.Time {
	now := in.e.cfg.clock.Now()
	start := in.info.StartTime
	lease := in.e.cfg.lease
	if start.IsZero() || start.After(now) || lease <= 0 {
		return now
	}
	if age := now.Sub(start); age >= lease {
		return start.Add((age/lease + 1) * lease)
	}
	return start
}

// flush commits pending changes, then acts on them. It reports false, and
// unloads the instance, when the commit failed.
func (in *instance) flush() bool {
	if in.m.ReadOnly() {
		in.m.Drop()
		return true
	}
	if in.created && !in.m.Step().Dirty() {
		in.carryOut(in.m.Committed())
		return true
	}
	update := in.m.Step().Close
	if update == nil {
		update = &store.RunUpdate{Status: store.StatusRunning, WakeAt: in.wakeAt()}
	}
	ctx := in.e.ctx
	var err error
	commitStart := in.e.tel.commitStart()
	if !in.created {
		err = in.create(ctx, update) // Start retries it (unavailable.go)
	} else {
		p := in.stepCommit(update)
		// While the store is unavailable the commit is made again until it
		// answers; the fence makes that safe (unavailable.go).
		_, err = in.e.retryWorker("commit", func(ctx context.Context) error { return in.e.store.Commit(ctx, p) })
	}
	in.e.tel.commitDone(commitStart, err)
	if err != nil {
		in.commitFailed(err)
		return false
	}
	in.carryOut(in.m.Committed())
	if update.Status != store.StatusRunning {
		if !update.Status.Open() { // closed runs never change again
			in.e.recordClose(in.runID, update)
			in.e.tel.runClosed(in, update.Status)
		}
		in.e.notifyChange(in.workflowID)
	}
	return true
}

// carryOut acts on a committed step: dispatches its attempts and the runs
// it started, nudges the runs it delivered to, arms its timers and runs
// what waited for the commit (answers to waiters, attempts to cancel).
func (in *instance) carryOut(s machine.Step) {
	in.e.dispatchCreated(s.Tasks, s.Runs)
	in.e.nudgeDeliveries(s.Deliveries)
	fns := in.afterCommit
	in.afterCommit = nil
	for _, f := range fns {
		f()
	}
	in.armTimers(s.Timers)
}

// stepCommit is the one commit of the step the machine has buffered, with
// update as the run's new state: every commit of a run (a step, the rest of
// a new run's first step, a stuck run) is made from it.
func (in *instance) stepCommit(update *store.RunUpdate) *store.CommitParams {
	return in.m.Step().CommitParams(in.runID, in.e.workerID, in.m.CommittedLen(), update)
}

// create inserts a new run with its first step in one transaction.
func (in *instance) create(ctx context.Context, update *store.RunUpdate) error {
	run := in.e.newRunRecord(in, update)
	st := in.m.Step()
	p := &store.CreateRunParams{Run: run, Events: st.Events, Tasks: st.Tasks, Owner: in.e.workerID, Lease: in.e.cfg.lease}
	if len(st.Runs) > 0 || len(st.Deliveries) > 0 || len(st.DeleteTasks) > 0 || len(st.Consume) > 0 {
		// Children started (or signals sent) in the very first step: create
		// the run with its Started event, then commit the rest.
		first := in.m.SplitFirst()
		run.Status = store.StatusRunning
		run.Result, run.Error = nil, nil
		run.WakeAt = in.e.cfg.clock.Now()
		if err := in.e.store.CreateRun(ctx, &store.CreateRunParams{Run: run, Events: []store.Event{first}, Owner: in.e.workerID, Lease: in.e.cfg.lease}); err != nil {
			return err
		}
		in.created = true
		return in.e.store.Commit(ctx, in.stepCommit(update))
	}
	if err := in.e.store.CreateRun(ctx, p); err != nil {
		return err
	}
	in.created = true
	return nil
}

// commitFailed unloads the instance: another worker owns the run now, or
// the store failed and the run must be replayed from what is committed.
func (in *instance) commitFailed(err error) {
	in.e.mu.Lock()
	for _, t := range in.m.Step().Tasks {
		delete(in.e.decoded, t.ID)
	}
	in.e.mu.Unlock()
	if !in.created {
		in.createErr = err
		in.teardown()
		return
	}
	switch {
	case in.e.ctx.Err() != nil:
		// The engine closed while the commit waited for the store.
	case errors.Is(err, store.ErrLeaseLost):
		in.e.cfg.logger.Warn("durable: run moved to another worker", "run_id", in.runID, "error", err)
	case errors.Is(err, store.ErrConflict):
		// Another worker committed, or an attempt of ours whose outcome
		// the store could not tell (unavailable.go) landed after all. In
		// the second case the lease is still ours: hand the run back so
		// that it is replayed from the store at once.
		in.e.cfg.logger.Warn("durable: run's journal moved on; reloading it", "run_id", in.runID, "error", err)
		_ = in.e.store.ReleaseRun(in.e.ctx, &store.ReleaseRunParams{RunID: in.runID, Owner: in.e.workerID, WakeAt: eventTime(in.e.cfg.clock.Now())})
		defer in.e.pokePoller()
	default:
		in.e.cfg.logger.Error("durable: commit failed; unloading run", "run_id", in.runID, "error", err)
		_ = in.e.store.ReleaseRun(in.e.ctx, &store.ReleaseRunParams{RunID: in.runID, Owner: in.e.workerID, WakeAt: eventTime(in.e.cfg.clock.Now())})
		defer in.e.pokePoller()
	}
	in.teardown()
}

// teardown unloads the instance: coroutines unwind, timers stop, and the
// engine forgets it. Nothing is written.
func (in *instance) teardown() {
	if wasOpen, _ := in.box.close(); !wasOpen {
		return
	}
	for _, reply := range in.extra.promotions {
		reply <- nil // their rows were not committed
	}
	in.extra.promotions = nil
	in.unwind()
	if !in.m.ReadOnly() {
		in.e.forget(in)
	}
}

// engineClosed marks the instance gone as its engine closes. Its coroutines
// unwind here unless a drain is running, which unwinds when it sees gone.
func (in *instance) engineClosed() {
	if wasOpen, draining := in.box.close(); wasOpen && !draining {
		in.unwind()
	}
}

// unwind stops the instance's timers and ends its coroutines. Only the
// drainer (or Close, when no drain runs) calls it.
func (in *instance) unwind() {
	for _, t := range in.timers {
		t.stop()
	}
	for _, ac := range in.activities {
		ac.stopWatch()
	}
	in.sched.shutdown()
	in.cancelRoot()
}

// watchCancel calls fn at the first point where every coroutine waits and
// ctx is done.
func (in *instance) watchCancel(ctx context.Context, fn func()) {
	if ctx.Done() == nil {
		return
	}
	in.watches = append(in.watches, &cancelWatch{ctx: ctx, fn: fn})
}

// checkCancellations runs due cancellation watches and wakes coroutines
// whose context is done. It reports whether anything happened.
func (in *instance) checkCancellations() bool {
	progressed := false
	for i := 0; i < len(in.watches); i++ {
		w := in.watches[i]
		if !w.done && w.ctx.Err() != nil {
			w.done = true
			w.fn()
			progressed = true
			in.sched.progress++
		}
	}
	n := 0
	for _, w := range in.watches {
		if !w.done {
			in.watches[n] = w
			n++
		}
	}
	clear(in.watches[n:])
	in.watches = in.watches[:n]
	if in.sched.wakeCancelled() {
		progressed = true
	}
	return progressed
}

// await parks the current coroutine until cond holds or ctx is done.
func (in *instance) await(ctx context.Context, cond func() bool, qs ...*waitQueue) error {
	for !cond() {
		if err := ctx.Err(); err != nil {
			return &CanceledError{}
		}
		in.sched.park(ctx, qs...)
		if in.halt != nil {
			in.parkForever()
		}
	}
	return nil
}

// terminate ends the run at once, whatever its code is doing: terminated,
// or failed with a *TimeoutError when its execution timeout passed.
func (in *instance) terminate(d *journal.CancelData) {
	if d.Timeout {
		in.timedOut = true
		f := toFailure(&TimeoutError{Kind: "Execution"})
		in.m.Close(&store.RunUpdate{Status: store.StatusFailed, Error: journal.Encode(f)})
	} else {
		f := toFailure(&TerminatedError{Reason: d.Reason})
		in.m.Close(&store.RunUpdate{Status: store.StatusTerminated, Error: journal.Encode(f)})
	}
	in.notifyParent(in.m.Closing())
}
