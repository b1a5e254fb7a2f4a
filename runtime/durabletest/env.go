package durabletest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/store"
	"github.com/durablego/toolkit/runtime/store/sqlite"
)

// Durations the engine under test is configured with. The engine polls its
// store and renews leases on its clock; an Env never lets those timers move
// time: poll timers are fired in place, once before each time skip, and
// lease timers never (leases outlast any test).
const (
	pollInterval = 50*365*24*time.Hour + time.Nanosecond
	leaseTimeout = 3*pollInterval + 3*time.Nanosecond
	closeTimeout = 10 * time.Second
)

// ErrBlocked is GetWorkflowError's answer when ExecuteWorkflow found the
// workflow waiting with nothing left that could wake it.
var ErrBlocked = errors.New("durabletest: workflow blocked: every coroutine waits and no timer is due")

// ErrTestTimeout is GetWorkflowError's answer when the workflow did not
// finish within the test timeout (real time).
var ErrTestTimeout = errors.New("durabletest: test timeout")

// Env runs workflows on a real durable engine (in-memory SQLite store,
// journal and all) under a test clock that skips ahead whenever the engine
// is idle, with activities that can be mocked. It is the counterpart of
// Temporal's testsuite.TestWorkflowEnvironment: the methods have the same
// names and meanings. An Env runs one workflow (ExecuteWorkflow), as
// Temporal's does.
type Env struct {
	tb  testing.TB
	cfg config
	clk *Clock
	st  store.Store // the in-memory store, beneath the codec
	eng *durable.Engine
	ctx context.Context
	// codec encodes what the engine stores; SetPayloadCodec sets it.
	codec envCodec
	// propagators are SetContextPropagators's (propagate.go).
	propagators envPropagators
	// versions are OnGetVersion's expectations (version.go).
	versions versionMocks
	// heartbeatSeed holds the details new activity tasks start with
	// (ActivityEnv.SetHeartbeatDetails); nil: none.
	heartbeatSeed atomic.Pointer[json.RawMessage]

	mu           sync.Mutex
	closed       bool
	activities   map[string]*activityDef // by registered name
	aliases      map[string]string       // a function's own name -> its registered name
	workflows    map[string]bool         // own names of registered workflow functions
	mocked       map[string]bool         // activity names with OnActivity expectations
	wfMocked     map[string]bool         // workflow names with OnWorkflow expectations
	wfAliases    map[string]string       // a workflow function's own name -> its registered name
	signalMocked bool                    // OnSignalExternalWorkflow was called
	callbacks    []*delayedCallback
	listener     func(info *durable.ActivityInfo, ctx context.Context, args Values)
	heartbeats   func(info *durable.ActivityInfo, details Values)
	childStarted func(info *durable.Info, ctx context.Context, args Values)
	running      map[string]durable.ActivityInfo // attempts under way, by task ID
	background   context.Context                 // WorkerOptions.BackgroundActivityContext
	runTimeout   time.Duration                   // default RunTimeout of ExecuteWorkflow
	startOpts    durable.StartOptions
	executed     bool
	workflowID   string
	completed    bool
	result       json.RawMessage
	err          error

	mock mocker

	interceptors envInterceptors // WorkerOptions.Interceptors

	// Updates sent with UpdateWorkflow (update.go). updCtx ends when the
	// Env closes, releasing those still waiting for an outcome.
	updMu     sync.Mutex
	updSeq    int // IDs made for updates sent with none
	updSent   int
	updByID   map[string]*sentUpdate  // every update sent, by ID (duplicates)
	updFlight []*sentUpdate           // those whose outcome is still due, in sending order
	updViews  map[string]*journalView // by run ID
	updCtx    context.Context
	updCancel context.CancelFunc

	// held is the number of bursts of delayed callbacks under way, during
	// which activities wait at released before they start.
	held     int
	released chan struct{}

	activeActs   atomic.Int64 // activity invocations in progress (mocked or real)
	waitingMocks atomic.Int64 // of those, mocks waiting on the test clock (After)
	pending      atomic.Int64 // host calls under way that will make work

	// pendingSeen, when set (ActivityEnv), is told of an invocation that
	// returned durable.ErrResultPending (async.go).
	pendingSeen func()
}

type delayedCallback struct {
	fn    func()
	delay time.Duration
	due   time.Time // zero until the workflow starts
	seq   uint64
}

// NewEnv returns an Env for one test. The engine is closed when the test
// ends (tb.Cleanup).
func NewEnv(tb testing.TB, opts ...Option) *Env {
	tb.Helper()
	e := &Env{
		tb:         tb,
		cfg:        newConfig(opts),
		ctx:        context.Background(),
		activities: map[string]*activityDef{},
		aliases:    map[string]string{},
		workflows:  map[string]bool{},
		mocked:     map[string]bool{},
		wfMocked:   map[string]bool{},
		wfAliases:  map[string]string{},
		startOpts:  durable.StartOptions{ID: WorkflowIDDefault},
		running:    map[string]durable.ActivityInfo{},
		runTimeout: WorkflowRunTimeoutDefault,
		updByID:    map[string]*sentUpdate{},
		updViews:   map[string]*journalView{},
	}
	e.updCtx, e.updCancel = context.WithCancel(e.ctx)
	e.clk = NewClock(e.cfg.startTime)
	e.clk.poll = pollInterval
	e.clk.lease = leaseTimeout / 3
	// The store reads the test clock, so that it sees as due what the
	// engine, on the same clock, made due.
	mem, err := sqlite.OpenMemory(e.ctx, sqlite.WithClock(e.clk.Now))
	if err != nil {
		tb.Fatalf("durabletest: open in-memory store: %v", err)
	}
	e.st = mem
	engineOpts := []durable.Option{
		durable.WithClock(e.clk),
		durable.WithPollInterval(pollInterval),
		durable.WithLeaseTimeout(leaseTimeout),
		// Runs stay parked in memory. The store reads the test clock, so an
		// evicted run would wake on test time too; eviction stays off until
		// the Env is checked with it (docs/durabletest.md).
		durable.WithEvictAfter(0),
		durable.WithMaxCachedRuns(0),
		durable.WithWorkerID("durabletest"),
		// Temporal's test environment ignores task queues.
		durable.WithAllQueues(),
		// Every attempt gets a task row, which the hooks seed with
		// heartbeat details (ActivityEnv.SetHeartbeatDetails); recorded
		// details go to the heartbeat listener.
		durable.WithActivityTaskRows(true),
		durable.WithActivityTestHooks(durable.ActivityTestHooks{
			HeartbeatDetails: e.seededHeartbeat,
			OnHeartbeat:      e.heartbeat,
		}),
		durable.WithActivityRetryDefaults(testRetryDefaults),
		// As in Temporal's test environment, an activity that returned
		// ErrResultPending waits for CompleteActivity whatever its
		// timeouts, and an error CompleteActivity reports is final.
		durable.WithPendingActivityTimeouts(false),
		durable.WithAsyncFailureRetries(false),
		durable.WithLogger(slog.New(slog.NewTextHandler(tbWriter{e}, &slog.HandlerOptions{Level: slog.LevelInfo}))),
		// Signals to workflows that do not run here go to the mocks
		// (OnSignalExternalWorkflow).
		durable.WithUnknownSignalTarget(e.signalUnknown),
		// Upserts are checked against OnUpsertMemo and
		// OnUpsertSearchAttributes expectations.
		durable.WithUpsertObserver(e.upserted),
		// Context values go through the propagators a test sets.
		durable.WithContextPropagators(&e.propagators),
		// Interceptors go through the ones a test sets (interceptor.go).
		durable.WithInterceptors(&e.interceptors),
		// Versions a test sets with OnGetVersion (version.go).
		durable.WithVersionChooser(e.versions.choose),
	}
	eng, err := durable.New(e.ctx, durable.NewCodecStore(mem, &e.codec), append(engineOpts, e.cfg.engineOpts...)...)
	if err != nil {
		mem.Close()
		tb.Fatalf("durabletest: open engine: %v", err)
	}
	e.eng = eng
	tb.Cleanup(e.close)
	return e
}

// close stops the engine, bounded in case an activity ignores its context.
func (e *Env) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	e.updCancel()
	done := make(chan error, 1)
	go func() { done <- e.eng.Close() }()
	select {
	case <-done:
	case <-time.After(closeTimeout):
		e.tb.Errorf("durabletest: the engine did not stop within %v: an activity (or mock) ignores its context's cancellation", closeTimeout)
		return
	}
	_ = e.st.Close()
}

// tbWriter sends the engine's log lines to the test's log while the test
// runs (shown with -v or when the test fails).
type tbWriter struct{ e *Env }

func (w tbWriter) Write(p []byte) (int, error) {
	w.e.mu.Lock()
	closed := w.e.closed
	w.e.mu.Unlock()
	if !closed {
		w.e.tb.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}

var _ io.Writer = tbWriter{}

// Engine returns the engine under test, for what the Env does not wrap
// (Describe, Terminate, SignalWithStart, ...). Activities must still be
// registered through the Env so that they can be mocked.
func (e *Env) Engine() *durable.Engine { return e.eng }

// SetStartTime sets the test clock, and so the workflow's start time
// (durable.Now in its first step). Call it before ExecuteWorkflow.
func (e *Env) SetStartTime(t time.Time) {
	e.tb.Helper()
	e.mu.Lock()
	executed := e.executed
	e.mu.Unlock()
	if executed {
		e.tb.Fatalf("durabletest: SetStartTime after ExecuteWorkflow")
	}
	e.clk.set(t)
}

// Now returns the test clock's time: the workflow's durable.Now while it
// waits.
func (e *Env) Now() time.Time { return e.clk.Now() }

// SetTestTimeout bounds, in real time, how long ExecuteWorkflow may take
// (TestTimeoutDefault unless set). Temporal's bounds idle time instead; here
// a workflow that waits forever fails at once (ErrBlocked).
func (e *Env) SetTestTimeout(d time.Duration) *Env {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.cfg.testTimeout = d
	return e
}

// SetStartWorkflowOptions sets the options ExecuteWorkflow starts the
// workflow with (its ID defaults to WorkflowIDDefault).
func (e *Env) SetStartWorkflowOptions(o durable.StartOptions) *Env {
	e.mu.Lock()
	defer e.mu.Unlock()
	if o.ID == "" {
		o.ID = WorkflowIDDefault
	}
	if o.Header == nil {
		o.Header = e.startOpts.Header // SetHeader's stays
	}
	e.startOpts = o
	return e
}

// SetWorkflowRunTimeout sets the RunTimeout ExecuteWorkflow starts the
// workflow with when SetStartWorkflowOptions sets none
// (WorkflowRunTimeoutDefault unless set; 0: none), as Temporal's does.
func (e *Env) SetWorkflowRunTimeout(d time.Duration) *Env {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.runTimeout = d
	return e
}

// WorkerOptions are the worker options that mean something to an Env
// (Temporal's worker.Options; the others have no counterpart).
type WorkerOptions struct {
	// BackgroundActivityContext is the context activities' contexts are
	// made from: its values are seen through them, and cancelling it
	// cancels running activities.
	BackgroundActivityContext context.Context
	// Interceptors wrap the workflows and activities the Env runs, as
	// durable.WithInterceptors does on an engine (Temporal's
	// worker.Options.Interceptors). Set them before the workflow starts.
	Interceptors []durable.WorkerInterceptor
}

// SetWorkerOptions sets the options of the worker running the workflow's
// activities.
func (e *Env) SetWorkerOptions(o WorkerOptions) *Env {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.background = o.BackgroundActivityContext
	e.interceptors.set(o.Interceptors)
	return e
}

// RegisterWorkflow registers a workflow with the engine (child workflows,
// continue-as-new targets; ExecuteWorkflow registers its own workflow if
// needed), so that OnWorkflow can mock it. durable.WithName names it.
func (e *Env) RegisterWorkflow(wf any, opts ...durable.RegisterOption) {
	e.tb.Helper()
	if err := e.registerWorkflow(wf, opts); err != nil {
		e.tb.Fatalf("durabletest: %v", err)
	}
}

// RegisterDelayedCallback calls fn when the test clock reaches delay after
// the workflow's start (or after now, once the workflow runs). fn runs while
// the workflow waits, as in Temporal; it typically signals, queries or
// cancels the workflow. Callbacks still pending when the workflow closes
// never run.
func (e *Env) RegisterDelayedCallback(fn func(), delay time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	cb := &delayedCallback{fn: fn, delay: delay, seq: e.clk.newSeq()}
	if e.executed {
		cb.due = e.clk.Now().Add(delay)
	}
	e.callbacks = append(e.callbacks, cb)
}

// ExecuteWorkflow starts wf with args and runs it until it closes, skipping
// time whenever the engine is idle. When the workflow waits with nothing
// left that could wake it (no timer, no delayed callback, no activity), or
// the test timeout passes, the test fails and GetWorkflowError says why.
// Results are read with GetWorkflowResult and GetWorkflowError.
func (e *Env) ExecuteWorkflow(wf any, args ...any) {
	e.tb.Helper()
	e.mu.Lock()
	if e.executed {
		e.mu.Unlock()
		e.tb.Fatalf("durabletest: ExecuteWorkflow was already called on this Env; use one Env per workflow run, as with Temporal's test environment")
		return
	}
	e.executed = true
	opts := e.startOpts
	defaultTimeout := opts.RunTimeout == 0 && e.runTimeout > 0
	if defaultTimeout {
		opts.RunTimeout = e.runTimeout
	}
	e.workflowID = opts.ID
	start := e.clk.Now()
	for _, cb := range e.callbacks {
		cb.due = start.Add(cb.delay)
	}
	register := false
	if v := reflect.ValueOf(wf); v.Kind() == reflect.Func && !e.workflows[funcName(v)] {
		register = true
	}
	e.mu.Unlock()
	if register {
		e.RegisterWorkflow(wf)
	}
	run, err := e.eng.Start(e.ctx, opts, wf, args...)
	if err != nil {
		e.tb.Fatalf("durabletest: ExecuteWorkflow: %v", err)
		return
	}
	raw, err, completed := e.runToEnd(run, opts.ID, true)
	if completed && err != nil {
		var te *durable.TimeoutError
		if defaultTimeout && errors.As(err, &te) && e.clk.Now().Sub(start) >= opts.RunTimeout {
			e.tb.Logf("durabletest: workflow %s timed out after the default run timeout of %v (SetWorkflowRunTimeout), "+
				"as with Temporal's test environment: it waited with nothing left that could wake it", opts.ID, opts.RunTimeout)
		}
		var ce *durable.CanceledError
		if errors.As(err, &ce) && err == error(ce) && ce.Message == "" {
			// Temporal's CanceledError says "canceled".
			err = &canceledError{ce}
		}
		err = &WorkflowExecutionError{WorkflowID: opts.ID, RunID: run.RunID(), WorkflowType: workflowType(wf), Err: err}
	}
	e.mu.Lock()
	e.completed, e.result, e.err = completed, raw, err
	e.mu.Unlock()
	if completed && e.cfg.verify {
		e.verify(opts.ID)
	}
}

// WorkflowRunTimeoutDefault is the RunTimeout of ExecuteWorkflow's run
// unless SetStartWorkflowOptions or SetWorkflowRunTimeout sets one: ten
// years, as in Temporal's test environment, where a workflow that waits
// for nothing that can come fails with a timeout once that much test time
// has been skipped.
const WorkflowRunTimeoutDefault = 10 * 365 * 24 * time.Hour

// WorkflowExecutionError is GetWorkflowError's answer when the workflow
// failed, as Temporal's test environment wraps it: Unwrap (errors.As,
// errors.Is) gives the run's error (*durable.ApplicationError,
// *durable.CanceledError, *durable.TimeoutError, ...).
type WorkflowExecutionError struct {
	WorkflowID, RunID, WorkflowType string
	Err                             error
}

func (e *WorkflowExecutionError) Error() string {
	return fmt.Sprintf("workflow execution error (type: %s, workflowID: %s, runID: %s): %v", e.WorkflowType, e.WorkflowID, e.RunID, e.Err)
}

func (e *WorkflowExecutionError) Unwrap() error { return e.Err }

// canceledError is a run's *durable.CanceledError with the message of
// Temporal's ("canceled"), which tests compare with EqualError.
type canceledError struct{ *durable.CanceledError }

func (e *canceledError) Error() string { return "canceled" }

func (e *canceledError) Unwrap() error { return e.CanceledError }

// workflowType names a workflow function or name as the engine does.
func workflowType(wf any) string {
	if s, ok := wf.(string); ok {
		return s
	}
	if v := reflect.ValueOf(wf); v.Kind() == reflect.Func {
		return funcName(v)
	}
	return fmt.Sprintf("%T", wf)
}

// verify replays every closed run of a workflow ID with the registered code.
func (e *Env) verify(workflowID string) {
	e.tb.Helper()
	runs, err := e.eng.Store().ListRuns(e.ctx, &store.ListRunsParams{WorkflowID: workflowID})
	if err != nil {
		e.tb.Errorf("durabletest: replay check: list runs of %s: %v", workflowID, err)
		return
	}
	for _, r := range runs {
		if r.Status.Open() || r.Status == store.StatusTerminated {
			continue
		}
		if err := e.eng.Verify(e.ctx, r.RunID); err != nil {
			e.tb.Errorf("durabletest: replay check: the workflow code does not replay its own journal (is it deterministic?): %v\n"+
				"(durabletest.WithReplayCheck(false) turns this check off)", err)
		}
	}
}

// IsWorkflowCompleted reports whether the workflow closed (with a result
// or an error) during ExecuteWorkflow.
func (e *Env) IsWorkflowCompleted() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.completed
}

// GetWorkflowResult decodes the workflow's result into valuePtr (which may
// be nil) and returns the workflow's error. It returns an error when the
// workflow has not completed.
func (e *Env) GetWorkflowResult(valuePtr any) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.completed {
		if e.err != nil {
			return fmt.Errorf("durabletest: workflow is not completed: %w", e.err)
		}
		return errors.New("durabletest: workflow is not completed")
	}
	if e.err != nil || valuePtr == nil {
		return e.err
	}
	return decodeRaw(e.result, valuePtr)
}

// GetWorkflowError returns the workflow's error: nil when it completed,
// its failure in a *WorkflowExecutionError (as Temporal's), or ErrBlocked
// / ErrTestTimeout (wrapped) when it did not complete.
func (e *Env) GetWorkflowError() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.err
}

// SignalWorkflow sends a signal to the workflow under test; the test fails
// if it cannot be delivered.
func (e *Env) SignalWorkflow(name string, arg any) {
	e.tb.Helper()
	if err := e.SignalWorkflowByID(e.currentID(), name, arg); err != nil {
		e.tb.Errorf("durabletest: SignalWorkflow %q: %v", name, err)
	}
}

// SignalWorkflowByID sends a signal to the open run of a workflow ID (a
// child's, for instance).
func (e *Env) SignalWorkflowByID(workflowID, name string, arg any) error {
	e.pending.Add(1)
	defer e.pending.Add(-1)
	return e.eng.Signal(e.ctx, workflowID, name, arg)
}

// QueryWorkflow asks the workflow under test a query.
func (e *Env) QueryWorkflow(name string, args ...any) (durable.Value, error) {
	return e.QueryWorkflowByID(e.currentID(), name, args...)
}

// QueryWorkflowByID asks the run of a workflow ID a query.
// As with Temporal, a handler gets the zero value for the parameters the
// query leaves out.
func (e *Env) QueryWorkflowByID(workflowID, name string, args ...any) (durable.Value, error) {
	v, err := e.eng.Query(e.ctx, workflowID, name, args...)
	if err != nil {
		// The engine wants every argument; pad with nulls (zero values).
		var ae *durable.ArgumentError
		if errors.As(err, &ae) {
			if got, want, ok := ae.Counts(); ok && got == len(args) && want > len(args) {
				padded := append(append([]any(nil), args...), make([]any, want-len(args))...)
				return e.eng.Query(e.ctx, workflowID, name, padded...)
			}
		}
	}
	return v, err
}

// CancelWorkflow asks the workflow under test to cancel: its context is
// cancelled and the workflow decides what to do.
func (e *Env) CancelWorkflow() {
	e.tb.Helper()
	if err := e.CancelWorkflowByID(e.currentID(), ""); err != nil {
		e.tb.Errorf("durabletest: CancelWorkflow: %v", err)
	}
}

// CancelWorkflowByID asks the open run of a workflow ID to cancel. runID is
// accepted for Temporal compatibility and ignored: the open run is the one
// cancelled.
func (e *Env) CancelWorkflowByID(workflowID, runID string) error {
	e.pending.Add(1)
	defer e.pending.Add(-1)
	return e.eng.Cancel(e.ctx, workflowID)
}

func (e *Env) currentID() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.workflowID != "" {
		return e.workflowID
	}
	return e.startOpts.ID
}

// runToEnd drives the test clock until the run closes, blocks or times out.
// It reports the run's result and error and whether it closed.
func (e *Env) runToEnd(run durable.Run, workflowID string, isWorkflow bool) (json.RawMessage, error, bool) {
	e.tb.Helper()
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	var (
		raw    json.RawMessage
		runErr error
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runErr = run.Get(ctx, &raw)
	}()
	what := "workflow " + workflowID
	if !isWorkflow {
		what = "activity"
	}
	if err := e.drive(what, workflowID, done); err != nil {
		return nil, err, false
	}
	e.finishUpdates()
	return raw, runErr, true
}

// finishUpdates hands over the outcomes of updates that arrive as the
// run closes (the one that let the workflow return, say), bounded in real
// time in case one never comes.
func (e *Env) finishUpdates() {
	deadline := time.Now().Add(time.Second)
	for !e.settleUpdates() && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
}

// drive moves the test clock until done is closed, failing the test when
// nothing is left that could close it (ErrBlocked) or the test timeout
// passes (ErrTestTimeout). Before time moves, the outcomes of updates are
// handed to their callbacks (settleUpdates).
func (e *Env) drive(what, workflowID string, done <-chan struct{}) error {
	e.tb.Helper()
	e.mu.Lock()
	timeout := e.cfg.testTimeout
	e.mu.Unlock()
	deadline := time.Now().Add(timeout)
	polled := false
	var stallSince, stallDue time.Time
	pause := time.NewTimer(0)
	defer pause.Stop()
	wait := 20 * time.Microsecond
	for {
		select {
		case <-done:
			return nil
		default:
		}
		if time.Now().After(deadline) {
			e.tb.Errorf("durabletest: test timeout: %s did not finish within %v of real time (test clock at %s); SetTestTimeout raises the bound",
				what, timeout, e.clk.Now().Format(time.RFC3339))
			return fmt.Errorf("%w: %s did not finish within %v", ErrTestTimeout, what, timeout)
		}
		if e.settleUpdates() && e.idle() {
			stallSince = time.Time{}
			if e.runClosed(workflowID) {
				// The run closed; what we wait for is on its way.
				select {
				case <-done:
					return nil
				case <-time.After(time.Until(deadline)):
					continue
				}
			}
			if !polled {
				// Let the engine look for work only a poll would find
				// before time moves.
				polled = true
				if e.clk.firePolls() > 0 {
					continue
				}
			}
			if e.step() {
				polled = false
				wait = 20 * time.Microsecond
				continue
			}
			e.tb.Errorf("durabletest: %s blocked: every coroutine waits and no timer is due (test clock at %s)",
				what, e.clk.Now().Format(time.RFC3339))
			return fmt.Errorf("%w (%s)", ErrBlocked, what)
		}
		// Only activities are running: let the next timer (an activity
		// timeout, say) fire once as much real time has passed, as
		// Temporal's test environment does.
		if e.onlyActivities() {
			if due, ok := e.nextDue(); ok {
				switch {
				case stallSince.IsZero() || !due.Equal(stallDue):
					stallSince, stallDue = time.Now(), due
				case time.Since(stallSince) >= due.Sub(e.clk.Now()):
					stallSince = time.Time{}
					e.step()
					polled = false
					continue
				}
			}
		} else {
			stallSince = time.Time{}
		}
		pause.Reset(wait)
		select {
		case <-done:
			return nil
		case <-pause.C:
		}
		wait = min(wait*2, 2*time.Millisecond)
	}
}

// quiet reports whether nothing is under way: no engine work (mocks waiting
// on the test clock aside), no clock callback and no host call beyond
// base.
func (e *Env) quiet(base int64) bool {
	return e.clk.inflight.Load() == 0 && e.pending.Load() == base && e.eng.Busy() == e.waitingMocks.Load()
}

// idle reports whether the engine stays quiet across a few yields, so that
// work handed from one goroutine to another is not mistaken for idleness.
func (e *Env) idle() bool { return stays(func() bool { return e.quiet(0) }) }

// stays reports whether cond holds across a few yields and a short sleep.
func stays(cond func() bool) bool {
	for range 3 {
		if !cond() {
			return false
		}
		runtime.Gosched()
	}
	time.Sleep(10 * time.Microsecond)
	return cond()
}

// onlyActivities reports whether all the engine's work is activity code
// running (not waiting on the test clock).
func (e *Env) onlyActivities() bool {
	acts := e.activeActs.Load()
	return acts > e.waitingMocks.Load() && e.clk.inflight.Load() == 0 && e.pending.Load() == 0 && e.eng.Busy() == acts
}

// runClosed reports whether the newest run of a workflow ID has closed.
func (e *Env) runClosed(workflowID string) bool {
	r, err := e.eng.Store().CurrentRun(e.ctx, workflowID)
	return err == nil && !r.Status.Open()
}

// nextCallback returns the earliest pending delayed callback. e.mu is held.
func (e *Env) nextCallback() *delayedCallback {
	var best *delayedCallback
	for _, cb := range e.callbacks {
		if cb.due.IsZero() {
			continue
		}
		if best == nil || cb.due.Before(best.due) || cb.due.Equal(best.due) && cb.seq < best.seq {
			best = cb
		}
	}
	return best
}

// nextDue returns when the next timer or delayed callback is due.
func (e *Env) nextDue() (time.Time, bool) {
	e.mu.Lock()
	cb := e.nextCallback()
	e.mu.Unlock()
	due, _, ok := e.clk.peek()
	if cb != nil && (!ok || cb.due.Before(due)) {
		return cb.due, true
	}
	return due, ok
}

// step moves the test clock to the next timer or delayed callback and fires
// it. It reports false when nothing is due.
func (e *Env) step() bool {
	e.mu.Lock()
	cb := e.nextCallback()
	due, seq, ok := e.clk.peek()
	if cb != nil && (!ok || cb.due.Before(due) || cb.due.Equal(due) && cb.seq < seq) {
		// The callbacks due at this instant, before any timer due at it.
		var burst []*delayedCallback
		rest := e.callbacks[:0]
		for _, c := range e.callbacks {
			if !c.due.IsZero() && c.due.Equal(cb.due) && (!ok || !due.Equal(cb.due) || c.seq < seq) {
				burst = append(burst, c)
			} else {
				rest = append(rest, c)
			}
		}
		e.callbacks = rest
		e.mu.Unlock()
		sort.Slice(burst, func(i, j int) bool { return burst[i].seq < burst[j].seq })
		e.clk.advanceTo(cb.due)
		e.runBurst(burst)
		return true
	}
	e.mu.Unlock()
	return ok && e.clk.fireNext()
}

// runBurst calls delayed callbacks due at one instant, one after the
// other. Temporal's test environment calls them all before the workflow
// sees what they sent, so that a burst of updates is validated while the
// handlers of the first ones still wait for their activities. Here each
// callback's signals and updates reach the workflow before the next
// callback runs (so that the order stays the order they were sent in), and
// the activities they lead to start only once the burst is over.
func (e *Env) runBurst(burst []*delayedCallback) {
	e.pending.Add(1)
	defer e.pending.Add(-1)
	e.holdActivities()
	defer e.releaseActivities()
	e.mu.Lock()
	deadline := time.Now().Add(e.cfg.testTimeout)
	e.mu.Unlock()
	for _, cb := range burst {
		cb.fn()
		// Wait until nothing but activities is under way and the updates
		// sent have their verdicts: a rejection leaves no trace in the
		// journal, so its place among the other updates' events is
		// noted now.
		wait := 20 * time.Microsecond
		for !(stays(e.onlyActivitiesOrNothing) && e.updatesDecided()) && time.Now().Before(deadline) {
			time.Sleep(wait)
			wait = min(2*wait, 2*time.Millisecond)
		}
	}
}

// updatesDecided reports whether every update sent has its verdict
// (observeUpdates).
func (e *Env) updatesDecided() bool {
	e.updMu.Lock()
	flight := append([]*sentUpdate(nil), e.updFlight...)
	e.updMu.Unlock()
	if len(flight) == 0 {
		return true
	}
	_, settled := e.observeUpdates(flight)
	return settled
}

// onlyActivitiesOrNothing reports whether the engine's only work, if any,
// is activity code (waiting to start, running or waiting on the test
// clock), while a burst of delayed callbacks runs.
func (e *Env) onlyActivitiesOrNothing() bool {
	return e.clk.inflight.Load() == 0 && e.pending.Load() == 1 && e.eng.Busy() == e.activeActs.Load()
}

// holdActivities makes activities wait before they start, until
// releaseActivities.
func (e *Env) holdActivities() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.held == 0 {
		e.released = make(chan struct{})
	}
	e.held++
}

func (e *Env) releaseActivities() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.held--
	if e.held == 0 {
		close(e.released)
		e.released = nil
	}
}

// awaitRelease waits while activities are held (or until ctx ends).
func (e *Env) awaitRelease(ctx context.Context) {
	e.mu.Lock()
	released := e.released
	e.mu.Unlock()
	if released == nil {
		return
	}
	select {
	case <-released:
	case <-ctx.Done():
	}
}

// catch runs f and returns its panic as an error.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if re, ok := r.(error); ok {
				err = re
			} else {
				err = fmt.Errorf("%v", r)
			}
		}
	}()
	f()
	return nil
}

// value is a durable.Value over JSON.
type value struct{ raw json.RawMessage }

func (v value) Get(ptr any) error { return decodeRaw(v.raw, ptr) }

func decodeRaw(raw json.RawMessage, ptr any) error {
	if ptr == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, ptr); err != nil {
		return fmt.Errorf("durabletest: decode %s into %T: %w", raw, ptr, err)
	}
	return nil
}
