package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"time"
)

// Sessions pin a series of activities to one worker (Temporal's
// workflow.CreateSession): typically a step that downloads a file and the
// steps that read it. They are built as Temporal builds them, from
// ordinary activities, signals and queues, so that they survive restarts
// and fail over like any other run state:
//
//   - CreateSession schedules the session's creation activity on the
//     session creation queue of the call's queue (SessionCreationQueue).
//     Every session worker (an engine that did not opt out with
//     WithoutSessionWorker) serves the creation queue of each queue it
//     serves. The worker that takes the task holds one of its session
//     slots (WithSessionWorker) while the session lasts, signals the run
//     the name of its own session queue, and holds the task (renewing its
//     lease) until the session completes.
//   - Activities called with the session's context go to that queue,
//     which only that worker serves.
//   - When the worker dies, its lease on the creation task expires and
//     another session worker takes the task over as abandoned: the
//     attempt fails with a StartToClose timeout, which the creation
//     activity does not retry. The run marks the session failed and
//     cancels the session's context, which cancels its pending
//     activities; later calls in the session return ErrSessionFailed.
//   - CompleteSession cancels the creation activity, which frees the
//     worker's slot.

// ErrSessionFailed is returned by an activity called in a session whose
// worker went away (workflow.ErrSessionFailed).
var ErrSessionFailed = errors.New("session has failed")

// errSessionOpen is CreateSession's error for a context whose session is
// still open.
var errSessionOpen = errors.New("durable: CreateSession: the context already holds an open session")

// SessionState is what a workflow knows of its session
// (workflow.SessionState). It may lag the worker's by up to the lease
// timeout of the worker that failed.
type SessionState int

const (
	// SessionStateOpen: the session runs on its worker.
	SessionStateOpen SessionState = iota
	// SessionStateFailed: the session's worker went away; activities
	// called in it return ErrSessionFailed.
	SessionStateFailed
	// SessionStateClosed: CompleteSession ended the session.
	SessionStateClosed
)

// String names the state.
func (s SessionState) String() string {
	switch s {
	case SessionStateOpen:
		return "open"
	case SessionStateFailed:
		return "failed"
	case SessionStateClosed:
		return "closed"
	}
	return fmt.Sprintf("SessionState(%d)", int(s))
}

// SessionOptions configure a session (workflow.SessionOptions).
type SessionOptions struct {
	// ExecutionTimeout bounds the session's life: past it the session
	// fails. 0: no bound.
	ExecutionTimeout time.Duration
	// CreationTimeout bounds the wait for a session worker with a free
	// slot: past it CreateSession returns a *TimeoutError of Kind
	// "ScheduleToStart". 0: no bound.
	CreationTimeout time.Duration
	// HeartbeatTimeout is accepted for Temporal compatibility. Temporal
	// detects a dead session worker by the heartbeats of the session's
	// creation activity; the durable runtime detects it by the worker's
	// lease on that activity's task, which expires WithLeaseTimeout after
	// the worker's last renewal.
	HeartbeatTimeout time.Duration
}

// SessionInfo describes a session (workflow.SessionInfo). GetSessionInfo
// returns the session's one SessionInfo, whose SessionState changes when
// the session fails or completes.
type SessionInfo struct {
	// SessionID identifies the session.
	SessionID string
	// HostName is the host name of the session's worker.
	HostName string
	// SessionState is the session's state as the workflow knows it.
	SessionState SessionState

	queue  string             // the worker's session queue
	cancel context.CancelFunc // cancels the session's context
}

// GetRecreateToken returns what RecreateSession needs to create a session
// on the same worker (for the next run of a continue-as-new chain).
func (s *SessionInfo) GetRecreateToken() []byte {
	b, _ := json.Marshal(recreateToken{Taskqueue: s.queue})
	return b
}

// recreateToken is RecreateSession's token; its field is named as in
// Temporal's, whose tokens are the same JSON.
type recreateToken struct {
	Taskqueue string
}

// sessionCreated is what the creation activity signals to its run; the
// JSON names are Temporal's sessionCreationResponse's.
type sessionCreated struct {
	Taskqueue  string
	HostName   string
	ResourceID string
}

// SessionCreationActivity is the name of the activity that holds a
// session on its worker, as in Temporal's histories.
const SessionCreationActivity = "internalSessionCreationActivity"

// sessionCreationSuffix names a queue's session creation queue, as
// Temporal's does.
const sessionCreationSuffix = "__internal_session_creation"

// SessionCreationQueue is the queue of the creation tasks of sessions
// created for activities of queue: session workers serving queue serve it.
func SessionCreationQueue(queue string) string { return queue + sessionCreationSuffix }

// errTooManySessions is the creation activity's (retryable) error on a
// worker whose session slots are all taken, Temporal's message.
const errTooManySessions = "too many outstanding sessions"

// CreateSession creates a session for the activities of ctx's queue
// (CallOptions.Queue, or the workflow's) and returns a context whose
// activity calls run on the session's worker. It waits for a session
// worker with a free slot, at most opts.CreationTimeout. The context is
// cancelled when the session fails or completes. It fails when ctx holds
// an open session already.
func CreateSession(ctx context.Context, opts *SessionOptions) (context.Context, error) {
	instanceOf(ctx, "CreateSession")
	queue := callOptionsOf(ctx).Queue
	if queue == "" {
		queue = instanceOf(ctx, "CreateSession").queue
	}
	return createSession(ctx, SessionCreationQueue(queue), opts)
}

// RecreateSession creates a session on the worker of the session whose
// SessionInfo.GetRecreateToken gave token, as CreateSession does.
func RecreateSession(ctx context.Context, token []byte, opts *SessionOptions) (context.Context, error) {
	instanceOf(ctx, "RecreateSession")
	var t recreateToken
	if err := json.Unmarshal(token, &t); err != nil || t.Taskqueue == "" {
		if err == nil {
			err = errors.New("no session queue")
		}
		return nil, fmt.Errorf("durable: RecreateSession: bad recreate token: %w", err)
	}
	return createSession(ctx, t.Taskqueue, opts)
}

func createSession(ctx context.Context, creationQueue string, opts *SessionOptions) (context.Context, error) {
	if prev := sessionOf(ctx); prev != nil && prev.SessionState == SessionStateOpen {
		return nil, errSessionOpen
	}
	var o SessionOptions
	if opts != nil {
		o = *opts
	}
	id := SideEffect(ctx, newID)
	info := &SessionInfo{SessionID: id, SessionState: SessionStateOpen}
	sessionCtx, cancel := WithCancel(context.WithValue(ctx, sessionKey, info))
	creationCtx := WithCallOptions(sessionCtx, CallOptions{
		Queue:               creationQueue,
		StartToCloseTimeout: o.ExecutionTimeout,
		// Retry only while workers are full (errTooManySessions): an
		// attempt that timed out, or died with its worker, is a failed
		// session.
		RetryPolicy: &RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     1.1,
			MaximumInterval:        10 * time.Second,
			NonRetryableErrorTypes: []string{"TemporalTimeout:StartToClose", "TemporalTimeout:Heartbeat"},
		},
	})
	creation := Async[struct{}](creationCtx, SessionCreationActivity, id)
	created := SignalChannel[sessionCreated](ctx, id)
	cases := []Case{OnReceive(created), OnFuture(creation)}
	var timer Future[struct{}]
	timerCtx, stopTimer := WithCancel(ctx)
	if o.CreationTimeout > 0 {
		timer = NewTimer(timerCtx, o.CreationTimeout)
		cases = append(cases, OnFuture(timer))
	}
	chosen := Select(ctx, cases...)
	stopTimer()
	switch chosen {
	case 1:
		_, err := creation.Get(ctx)
		cancel()
		if err == nil {
			err = errors.New("durable: session creation activity ended before the session opened")
		}
		return nil, err
	case 2:
		cancel()
		return nil, &TimeoutError{Kind: "ScheduleToStart"}
	}
	resp, _ := created.ReceiveAsync()
	info.queue, info.HostName, info.cancel = resp.Taskqueue, resp.HostName, cancel
	Go(creationCtx, func(ctx context.Context) {
		_, err := creation.Get(ctx)
		var canceled *CanceledError
		if err == nil || errors.As(err, &canceled) || errors.Is(err, context.Canceled) {
			return
		}
		Logger(ctx).Debug("session failed", "session_id", id, "error", err)
		info.SessionState = SessionStateFailed
		cancel()
	})
	return sessionCtx, nil
}

// CompleteSession ends ctx's session and frees its worker's slot
// (workflow.CompleteSession); its context is cancelled. It does nothing
// when ctx holds no open session. Activities called with ctx afterwards
// run on the queue's workers, outside the session.
func CompleteSession(ctx context.Context) {
	info := sessionOf(ctx)
	if info == nil || info.SessionState != SessionStateOpen {
		return
	}
	info.cancel()
	info.SessionState = SessionStateClosed
}

// GetSessionInfo returns ctx's session, the latest one created on ctx;
// nil when it holds none (workflow.GetSessionInfo).
func GetSessionInfo(ctx context.Context) *SessionInfo {
	return sessionOf(ctx)
}

func sessionOf(ctx context.Context) *SessionInfo {
	info, _ := ctx.Value(sessionKey).(*SessionInfo)
	return info
}

// sessionQueueOf returns the queue that an activity called with ctx runs
// on when ctx holds a session ("" when it holds none or a closed one), and
// ErrSessionFailed when the session failed.
func sessionQueueOf(ctx context.Context) (string, error) {
	info := sessionOf(ctx)
	if info == nil {
		return "", nil
	}
	switch info.SessionState {
	case SessionStateFailed:
		return "", ErrSessionFailed
	case SessionStateOpen:
		return info.queue, nil
	}
	return "", nil
}

// sessionWorker is an engine's side of sessions: its slots, its session
// queue and its host name.
type sessionWorker struct {
	slots chan struct{}
	queue string
	host  string
}

// full reports whether every slot is taken: the engine then neither
// claims nor runs session creation tasks, so that they go to a worker
// with room, as a Temporal session worker stops polling its creation
// queue when it is full.
func (sw *sessionWorker) full() bool { return len(sw.slots) == cap(sw.slots) }

func newSessionWorker(workerID string, max int) *sessionWorker {
	host, err := os.Hostname()
	if err != nil {
		host = "unknown"
	}
	return &sessionWorker{slots: make(chan struct{}, max), queue: "session@" + workerID + "@" + host, host: host}
}

// runSessionCreation is the creation activity's body on this engine: it
// takes a slot, tells the run which queue is the session's, and holds the
// slot until the run completes the session (its context is cancelled) or
// the session's ExecutionTimeout ends it. Its task's lease, which the
// engine renews while it lives, is what tells other workers that the
// session's worker went away.
func (e *Engine) runSessionCreation(ctx context.Context, sessionID string) error {
	sw := e.sessions
	if sw == nil {
		return NewApplicationError("worker "+e.workerID+" is not a session worker", "SessionWorkerDisabled")
	}
	select {
	case sw.slots <- struct{}{}:
	default:
		return NewApplicationError(errTooManySessions, "")
	}
	defer func() {
		<-sw.slots
		e.pokePoller() // room again: claim creation tasks that wait
	}()
	info := GetActivityInfo(ctx)
	resp := sessionCreated{Taskqueue: sw.queue, HostName: sw.host, ResourceID: e.workerID}
	if err := e.Signal(ctx, info.WorkflowID, sessionID, resp); err != nil {
		return fmt.Errorf("signal session %s to workflow %s: %w", sessionID, info.WorkflowID, err)
	}
	// The attempt holds the session until its context ends: the run
	// completed the session, or ExecutionTimeout passed. It waits for
	// that as a parked run waits, so it does not count as work under way
	// (Busy), which lets test environments skip time during a session.
	e.busy.Add(-1)
	defer e.busy.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// sessionCreationDef is the creation activity of this engine's sessions.
func (e *Engine) sessionCreationDef() *funcDef {
	def, err := newFuncDef("activity", SessionCreationActivity, reflect.ValueOf(e.runSessionCreation), true)
	if err != nil {
		panic(fmt.Sprintf("durable: session creation activity: %v", err)) // a wrong signature above
	}
	return def
}
