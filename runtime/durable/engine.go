package durable

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/trace"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/durable/internal/machine"
	"github.com/durablego/toolkit/runtime/store"
)

// Engine runs workflows durably on a store. By default it also works the
// runs and activities of its queues in its own process (embedded mode);
// several engines on one PostgreSQL store share the work.
type Engine struct {
	cfg config
	// activityCtx holds, per queue, the background context of its
	// activities (ServeWithActivityContext): read by every attempt without
	// a lock, replaced whole under mu.
	activityCtx atomic.Pointer[map[string]context.Context]
	store       store.Store
	ownStore    bool
	reg         *registry
	workerID    string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	slots  chan struct{}
	start  sync.Once
	poke   chan struct{}
	// pollTasks asks the next poll to claim activity attempts too. Every
	// poke sets it but a store notification that only runs want work:
	// workers of a shared store hear of every run created, and claiming
	// attempts after each would cost a statement per notification.
	pollTasks atomic.Bool

	busy atomic.Int64 // drains, attempts and poller passes under way, and pending pokes

	mu        sync.Mutex
	instances map[string]*instance // by run ID
	running   map[string]*runningActivity
	decoded   map[string]*activityTask // tasks created here, by ID, until their first attempt
	waiters   map[string]chan struct{} // by workflow ID; closed on a change
	// outcomes of runs closed here, newest last (see recordOutcome)
	outcomes     map[string]*store.Run
	outcomeOrder []string
	closes       closeWatch // client-only: runs Get waits for
	// delayed are runs leased here at creation whose start lies ahead (a
	// workflow retry's backoff), by run ID: the alarm that loads them.
	delayed map[string]func() bool
	closed  bool

	// queues are the queues this engine works (cfg.queues, plus Serve's).
	queues atomic.Pointer[[]string]
	// queueSeen are queues a run started here was seen worked on;
	// queueWarned those reported unserved (see watchUnserved).
	queueSeen, queueWarned map[string]bool

	// sessions is this engine's session worker; nil when it takes no
	// sessions (session.go).
	sessions *sessionWorker

	health storeHealth // whether the store answers (unavailable.go)
	tel    *telemetry  // metrics and spans; nil: none (telemetry.go)
}

// Open opens the store named by dsn and returns an engine on it:
//
//	sqlite:PATH          an SQLite file (created if missing); one process
//	                     works it, any number open it WithClientOnly
//	memory:              a fresh in-memory store, for tests
//	postgres://...       PostgreSQL, shared by any number of processes
//
// After Open and the Register calls, unfinished runs resume on their own.
// Close closes the store Open opened.
//
// Open is the convenience that takes the backend from configuration, so a
// program that calls it links both backends (PostgreSQL's driver and
// SQLite's). A program that uses one backend opens the store with that
// backend's Open and its options and passes it to New with
// WithStoreOwnership; built with the tag durable_nopostgres (or
// durable_nosqlite), it leaves the other backend out of the binary, and
// Open then refuses that backend's DSNs (see the package documentation,
// Backends).
func Open(ctx context.Context, dsn string, opts ...Option) (*Engine, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.applyOption(&cfg)
	}
	var (
		st  store.Store
		err error
	)
	switch {
	case dsn == "memory:":
		st, err = openSQLite(ctx, "", cfg)
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, fmt.Errorf("durable: open %q: empty SQLite path", dsn)
		}
		st, err = openSQLite(ctx, path, cfg)
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		st, err = openPostgres(ctx, dsn)
	default:
		return nil, fmt.Errorf("durable: open %q: unknown store (want sqlite:PATH, memory: or postgres://...)", dsn)
	}
	if err != nil {
		return nil, fmt.Errorf("durable: open %s: %w", redact(dsn), err)
	}
	cfg.ownStore = true
	return newEngine(ctx, st, cfg)
}

// New returns an engine on a store the program opened with its backend's
// Open and options (sqlite.Open with sqlite.WithFsync, postgres.Open with
// postgres.WithSchema, ...): a program that calls New with a store of one
// backend configures and links only that one. The caller closes the store
// after the engine, unless WithStoreOwnership hands it to the engine.
func New(ctx context.Context, st store.Store, opts ...Option) (*Engine, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.applyOption(&cfg)
	}
	if cfg.fsync {
		if cfg.ownStore {
			st.Close()
		}
		return nil, errors.New("durable: New: WithFsync configures the store Open opens; open the store with its backend's option (sqlite.WithFsync)")
	}
	return newEngine(ctx, st, cfg)
}

// newEngine returns an engine on st. When cfg.ownStore is set, the engine
// owns st from here on, also when newEngine fails: it closes st then.
func newEngine(ctx context.Context, st store.Store, cfg config) (e *Engine, err error) {
	if cfg.ownStore {
		defer func() {
			if err != nil {
				st.Close()
			}
		}()
	}
	if cfg.workerID == "" {
		cfg.workerID = newID()
	}
	if cfg.codec != nil {
		st = NewCodecStore(st, cfg.codec)
	}
	if cfg.testHooks != nil {
		st = withTestHooks(st, cfg.testHooks) // above the codec: hooks see what the engine sees
	}
	e = &Engine{
		cfg:       cfg,
		store:     st,
		ownStore:  cfg.ownStore,
		reg:       newRegistry(),
		workerID:  cfg.workerID,
		slots:     make(chan struct{}, cfg.maxActivities),
		poke:      make(chan struct{}, 1),
		instances: map[string]*instance{},
		running:   map[string]*runningActivity{},
		decoded:   map[string]*activityTask{},
		waiters:   map[string]chan struct{}{},
		outcomes:  map[string]*store.Run{},
	}
	if err := e.registerScheduler(); err != nil { // scheduleworkflow.go: schedules run on every engine
		return nil, fmt.Errorf("durable: register the scheduler: %w", err)
	}
	queues := slices.Clone(cfg.queues)
	e.queues.Store(&queues)
	if cfg.sessionMax >= 0 && !cfg.clientOnly {
		e.sessions = newSessionWorker(e.workerID, cmp.Or(cfg.sessionMax, MaxConcurrentSessionsDefault))
	}
	e.ctx, e.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if e.tel, err = newTelemetry(e); err != nil { // telemetry.go
		e.cancel()
		return nil, err
	}
	if ex, ok := st.(store.Exclusive); ok && ex.Exclusive() && !cfg.clientOnly {
		// Only this process can have the store open: leases left by a
		// previous process died with it.
		if err := st.ReleaseLeases(ctx, ""); err != nil {
			e.cancel()
			return nil, fmt.Errorf("durable: recover leases: %w", err)
		}
	}
	return e, nil
}

func redact(dsn string) string {
	if i := strings.Index(dsn, "@"); i >= 0 {
		if j := strings.Index(dsn, "://"); j >= 0 && j < i {
			return dsn[:j+3] + "…" + dsn[i:]
		}
	}
	return dsn
}

// newID returns a new run (or workflow) ID: a UUIDv7, whose text sorts by
// creation time. Task IDs extend their run's ID, so rows created together
// sit side by side in every index keyed by these IDs, and a group commit
// dirties a few pages at the end of each B-tree instead of one random page
// per row.
func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

func jsonUnmarshal(b []byte, v any) error {
	if len(b) == 0 {
		return errors.New("empty")
	}
	return json.Unmarshal(b, v)
}

// Close stops working runs and activities, waits for attempts in flight to
// return, and closes the store if Open opened it (or New was given it
// WithStoreOwnership). Runs are not lost: they resume wherever the store
// is opened next.
func (e *Engine) Close() error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	for _, stop := range e.delayed {
		stop()
	}
	e.delayed = nil
	insts := make([]*instance, 0, len(e.instances))
	for _, in := range e.instances {
		insts = append(insts, in)
	}
	e.mu.Unlock()
	e.cancel()
	for _, in := range insts {
		in.engineClosed()
	}
	e.wg.Wait()
	e.tel.close()
	// Hand our leases over at once rather than at expiry.
	relCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if !e.cfg.clientOnly {
		_ = e.store.ReleaseLeases(relCtx, e.workerID)
	}
	if e.ownStore {
		return e.store.Close()
	}
	return nil
}

// Store returns the engine's store, behind its payload codec when it has
// one (WithPayloadCodec): values read through it are decoded.
func (e *Engine) Store() store.Store { return e.store }

// WorkerID returns the name this engine holds leases under.
func (e *Engine) WorkerID() string { return e.workerID }

// RegisterWorkflow registers a workflow function under its name (or
// WithName's). It panics, naming the problem, when fn is not a
// func(context.Context, args...) ([R,] error) or the name is taken, as
// Temporal's worker does.
func (e *Engine) RegisterWorkflow(fn any, opts ...RegisterOption) {
	if err := e.reg.registerWorkflow(fn, opts); err != nil {
		panic(err)
	}
	e.startWorking()
}

// RegisterActivity registers an activity function, or every exported
// method of a struct (pointer) as an activity named after the method. It
// panics, naming the problem, on a wrong shape or a taken name.
func (e *Engine) RegisterActivity(fnOrStructPtr any, opts ...RegisterOption) {
	if err := e.reg.registerActivity(fnOrStructPtr, opts); err != nil {
		panic(err)
	}
	e.startWorking()
}

// serves reports whether this engine works runs and activities of queue.
// A session worker also serves its session queue and the session
// creation queues of its queues (session.go).
func (e *Engine) serves(queue string) bool {
	if e.cfg.clientOnly {
		return false
	}
	if e.cfg.allQueues {
		return true
	}
	qs := *e.queues.Load()
	if slices.Contains(qs, queue) {
		return true
	}
	if e.sessions == nil {
		return false
	}
	if queue == e.sessions.queue {
		return true
	}
	base, ok := strings.CutSuffix(queue, sessionCreationSuffix)
	return ok && slices.Contains(qs, base) && !e.sessions.full()
}

// Serve makes the engine work the runs and activities of queues too, as
// well as those of WithQueues (QueueDefault by default). It returns e, so
// that a converted "w := worker.New(c, queue, ...)" reads
// "w := c.Serve(queue)". A client-only engine serves no queue.
func (e *Engine) Serve(queues ...string) *Engine {
	e.mu.Lock()
	cur := *e.queues.Load()
	next := slices.Clone(cur)
	for _, q := range queues {
		if q == "" {
			q = QueueDefault
		}
		if !slices.Contains(next, q) {
			next = append(next, q)
		}
	}
	e.queues.Store(&next)
	e.mu.Unlock()
	if len(next) != len(cur) {
		e.pokePoller()
	}
	return e
}

// Queues returns the queues the engine works; nil when it works every
// queue (WithAllQueues) or none (WithClientOnly).
func (e *Engine) Queues() []string {
	if e.cfg.allQueues || e.cfg.clientOnly {
		return nil
	}
	return slices.Clone(*e.queues.Load())
}

// claimQueues is the queue filter of claims: nil (any) when the engine
// serves every queue.
// A session worker also serves the session creation queue of each of its
// queues and its own session queue (session.go).
func (e *Engine) claimQueues() []string {
	if e.cfg.allQueues {
		return nil
	}
	qs := *e.queues.Load()
	if e.sessions == nil {
		return qs
	}
	all := make([]string, 0, 2*len(qs)+1)
	all = append(all, qs...)
	if !e.sessions.full() {
		for _, q := range qs {
			all = append(all, SessionCreationQueue(q))
		}
	}
	return append(all, e.sessions.queue)
}

// startWorking starts the background loops once.
func (e *Engine) startWorking() {
	if e.cfg.clientOnly {
		return
	}
	e.start.Do(func() {
		e.pollTasks.Store(true) // the first poll takes over what is due
		e.wg.Add(2)
		go e.pollLoop()
		go e.leaseLoop()
		if n, ok := e.store.(store.Notifier); ok {
			if ch, err := n.Subscribe(e.ctx); err == nil {
				e.wg.Add(1)
				go func() {
					defer e.wg.Done()
					for n := range ch {
						e.pokeFor(n.Kind != "run")
					}
				}()
			} else {
				e.cfg.logger.Warn("durable: store notifications unavailable; polling", "error", err)
			}
		}
	})
}

func (e *Engine) pokePoller() { e.pokeFor(true) }

// pokeFor wakes the poller; tasks says whether it should claim activity
// attempts as well as runs.
func (e *Engine) pokeFor(tasks bool) {
	if tasks {
		e.pollTasks.Store(true)
	}
	e.busy.Add(1)
	select {
	case e.poke <- struct{}{}:
	default:
		e.busy.Add(-1)
	}
}

// Busy reports how many runs, activity attempts and store polls this
// engine is working on right now; 0 means it waits for time or input.
// runtime/durabletest skips time when it is 0; it also suits monitoring.
func (e *Engine) Busy() int64 { return e.busy.Load() }

// pollLoop claims runs and activity attempts that want work.
func (e *Engine) pollLoop() {
	defer e.wg.Done()
	for {
		more := e.pollOnce()
		if more {
			continue
		}
		wait := e.cfg.clock.AfterFunc(e.cfg.poll, e.pokePoller)
		select {
		case <-e.ctx.Done():
			wait()
			return
		case <-e.poke:
			wait()
			e.busy.Add(-1)
		}
	}
}

const claimBatch = 64

// pollOnce claims one batch of each kind of work; it reports whether a
// batch came back full (more may be waiting).
func (e *Engine) pollOnce() bool {
	if e.ctx.Err() != nil {
		return false
	}
	e.busy.Add(1)
	defer e.busy.Add(-1)
	more := false
	claim := &store.ClaimRunsParams{Owner: e.workerID, Queues: e.claimQueues(), Limit: claimBatch, Lease: e.cfg.lease}
	var (
		loaded []*store.LoadedRun
		err    error
	)
	if l, ok := e.store.(store.RunLoader); ok {
		loaded, err = l.ClaimAndLoadRuns(e.ctx, claim)
	} else {
		var runs []*store.Run
		runs, err = e.store.ClaimRuns(e.ctx, claim)
		for _, r := range runs {
			loaded = append(loaded, &store.LoadedRun{Run: r})
		}
	}
	if err != nil {
		if e.noteStore("claim runs", err) {
			e.cfg.logger.Warn("durable: claim runs", "error", err)
		}
	} else {
		e.noteStore("claim runs", nil)
		// Loading may read each run's journal, a round trip per run: load
		// the batch in parallel rather than one run after the other.
		var loads sync.WaitGroup
		for _, l := range loaded {
			loads.Go(func() { e.load(l) })
		}
		loads.Wait()
		more = len(loaded) == claimBatch
	}
	free := cap(e.slots) - len(e.slots)
	if free <= 0 || !e.pollTasks.Swap(false) {
		return more
	}
	tasks, err := e.store.ClaimTasks(e.ctx, &store.ClaimTasksParams{Owner: e.workerID, Kinds: []string{taskActivity}, Queues: e.claimQueues(), Limit: min(free, claimBatch), Lease: e.cfg.lease})
	if err != nil {
		if e.noteStore("claim tasks", err) {
			e.cfg.logger.Warn("durable: claim tasks", "error", err)
		}
		return more
	}
	for _, t := range tasks {
		e.execute(t, nil)
	}
	if len(tasks) == claimBatch {
		e.pollTasks.Store(true) // more may be waiting
		return true
	}
	return more
}

// leaseLoop renews the leases of loaded runs and running attempts.
func (e *Engine) leaseLoop() {
	defer e.wg.Done()
	for {
		done := make(chan struct{})
		stop := e.cfg.clock.AfterFunc(e.cfg.lease/3, func() { close(done) })
		select {
		case <-e.ctx.Done():
			stop()
			return
		case <-done:
		}
		e.mu.Lock()
		runs := make([]string, 0, len(e.instances)+len(e.delayed))
		for id := range e.instances {
			runs = append(runs, id)
		}
		for id := range e.delayed {
			runs = append(runs, id)
		}
		tasks := make([]string, 0, len(e.running))
		for id, r := range e.running {
			if r.mode.hasRow() { // an inline attempt has no row: its run's lease covers it
				tasks = append(tasks, id)
			}
		}
		e.mu.Unlock()
		if len(runs) == 0 && len(tasks) == 0 {
			continue
		}
		res, err := e.store.RenewLeases(e.ctx, &store.RenewLeasesParams{Owner: e.workerID, RunIDs: runs, TaskIDs: tasks, Lease: e.cfg.lease})
		if err != nil {
			if e.noteStore("renew leases", err) {
				e.cfg.logger.Warn("durable: renew leases", "error", err)
			}
			continue
		}
		for _, id := range res.LostRuns {
			if e.takeDelayed(id) {
				continue // another worker has it now
			}
			if in := e.instance(id); in != nil {
				e.cfg.logger.Warn("durable: lost the lease of a run; unloading it", "run_id", id)
				in.post(msgEvict{})
			}
		}
		for _, id := range res.LostTasks {
			e.cancelRunning(id, errTaskCancelled)
		}
	}
}

func (e *Engine) instance(runID string) *instance {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.instances[runID]
}

func (e *Engine) forget(in *instance) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.instances[in.runID] == in {
		delete(e.instances, in.runID)
	}
}

// load makes a claimed run an instance and replays it. The journal and
// inbox come with l when the store read them with the claim (a journal
// shorter than the run's is read again).
func (e *Engine) load(l *store.LoadedRun) {
	r := l.Run
	// A run whose start was delayed here starts now when it was claimed
	// for its inbox (a signal ends StartDelay, as in Temporal).
	e.takeDelayed(r.RunID)
	if in := e.instance(r.RunID); in != nil {
		if !in.post(msgInbox{items: l.Inbox}) {
			// Unloading as we claimed it again: hand it back, so that it
			// is claimed afresh instead of waiting for the lease to expire.
			_ = e.store.ReleaseRun(e.ctx, &store.ReleaseRunParams{RunID: r.RunID, Owner: e.workerID, WakeAt: e.cfg.clock.Now()})
		}
		return
	}
	def := e.reg.workflow(r.Workflow)
	if def == nil {
		e.cfg.logger.Warn("durable: claimed a run of an unregistered workflow; releasing it", "workflow", r.Workflow, "run_id", r.RunID)
		_ = e.store.ReleaseRun(e.ctx, &store.ReleaseRunParams{RunID: r.RunID, Owner: e.workerID, WakeAt: e.cfg.clock.Now().Add(time.Second)})
		return
	}
	events, inbox, taskIDs := l.Journal, l.Inbox, l.TaskIDs
	if events == nil || int64(len(events)) < r.JournalLen {
		var err error
		_, err = e.retryWorker("load journal", func(ctx context.Context) error {
			events, err = e.store.LoadJournal(ctx, r.RunID, 0)
			return err
		})
		if err != nil {
			e.cfg.logger.Warn("durable: load journal", "run_id", r.RunID, "error", err)
			_ = e.store.ReleaseRun(e.ctx, &store.ReleaseRunParams{RunID: r.RunID, Owner: e.workerID, WakeAt: e.cfg.clock.Now().Add(time.Second)})
			return
		}
		inbox, taskIDs = nil, nil // read after the replay, as new as the journal
	}
	e.startInstance(r, def, events, inbox, taskIDs)
}

// startInstance loads a run from its journal. inbox and taskIDs, when the
// claim read them (inbox not nil), are the run's as of the journal.
func (e *Engine) startInstance(r *store.Run, def *funcDef, events []store.Event, inbox []store.InboxItem, taskIDs []string) {
	in := newInstance(e, r, def, machine.Load(events, e.machineConfig()))
	in.created = true
	in.inboxAhead = inbox
	in.tasksAhead = taskIDs
	in.journal = events
	e.mu.Lock()
	if e.closed || e.instances[r.RunID] != nil {
		e.mu.Unlock()
		in.cancelRoot()
		return
	}
	e.instances[r.RunID] = in
	e.mu.Unlock()
	in.post(msgStart{})
}

// startLater loads a run leased here at creation once wait has passed on
// the engine's clock (which durabletest skips), renewing its lease
// meanwhile. If the engine closes first, the lease is released and the run
// is claimed when due, by its WakeAt.
func (e *Engine) startLater(r *store.Run, def *funcDef, events []store.Event, wait time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return
	}
	if e.delayed == nil {
		e.delayed = map[string]func() bool{}
	}
	id := r.RunID
	e.delayed[id] = e.cfg.clock.AfterFunc(wait, func() {
		if e.takeDelayed(id) {
			e.startInstance(r, def, events, nil, nil)
		}
	})
}

// takeDelayed removes a delayed start and reports whether it was pending.
func (e *Engine) takeDelayed(runID string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.delayed[runID]
	delete(e.delayed, runID)
	return ok
}

// dispatchCreated acts on what a commit created: it runs the attempts and
// loads the runs this engine leased at creation.
func (e *Engine) dispatchCreated(tasks []*store.Task, runs []*store.CreateRunParams) {
	poke := false
	for _, t := range tasks {
		if t.Owner == e.workerID {
			if e.isRunning(t.ID) {
				continue // the row of an attempt running here (promote)
			}
			t.LeaseUntil = e.cfg.clock.Now().Add(e.cfg.lease)
			e.execute(t, nil)
		} else {
			poke = true
		}
	}
	for _, p := range runs {
		if p.Owner != e.workerID {
			poke = true
			continue
		}
		def := e.reg.workflow(p.Run.Workflow)
		if def == nil {
			continue
		}
		events := make([]store.Event, len(p.Events))
		copy(events, p.Events)
		for i := range events {
			events[i].Seq = int64(i + 1)
		}
		if wait := p.Run.WakeAt.Sub(e.cfg.clock.Now()); wait > 0 {
			e.startLater(p.Run, def, events, wait)
			continue
		}
		e.startInstance(p.Run, def, events, nil, nil)
	}
	if poke {
		e.pokePoller()
	}
}

// maybeEvict unloads the instance if it is idle and waits long (or too
// many runs are loaded). Only the drainer calls it.
func (in *instance) maybeEvict() {
	e := in.e
	if in.isGone() || e.cfg.evictAfter <= 0 && e.cfg.maxCached <= 0 {
		return
	}
	e.mu.Lock()
	over := e.cfg.maxCached > 0 && len(e.instances) > e.cfg.maxCached
	e.mu.Unlock()
	if over && in.idle() || in.evictable(e.cfg.clock.Now()) {
		in.evict()
	}
}

// outcomesMax bounds the outcomes of closed runs that the engine
// remembers (runs closed here, runs a client-only engine's close watcher
// saw close), so that Run.Get of such a run needs no store read.
const outcomesMax = 4096

// recordClose remembers how a run worked here ended.
func (e *Engine) recordClose(runID string, u *store.RunUpdate) {
	e.recordOutcome(&store.Run{RunID: runID, Status: u.Status, Result: u.Result, Error: u.Error, NextRunID: u.NextRunID})
}

// recordOutcome remembers a closed run's outcome (Status, Result, Error,
// NextRunID).
func (e *Engine) recordOutcome(r *store.Run) {
	runID := r.RunID
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.outcomes[runID]; !ok {
		e.outcomeOrder = append(e.outcomeOrder, runID)
	}
	e.outcomes[runID] = r
	if len(e.outcomeOrder) > outcomesMax {
		delete(e.outcomes, e.outcomeOrder[0])
		e.outcomeOrder = e.outcomeOrder[1:]
	}
}

// outcome returns a remembered outcome, or nil.
func (e *Engine) outcome(runID string) *store.Run {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.outcomes[runID]
}

// notifyChange wakes Get calls waiting on a workflow ID.
func (e *Engine) notifyChange(workflowID string) {
	e.mu.Lock()
	ch := e.waiters[workflowID]
	delete(e.waiters, workflowID)
	e.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// watch returns a channel closed at the next change of a workflow ID.
func (e *Engine) watch(workflowID string) <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	ch := e.waiters[workflowID]
	if ch == nil {
		ch = make(chan struct{})
		e.waiters[workflowID] = ch
	}
	return ch
}

// StartOptions configure Start, as Temporal's StartWorkflowOptions do.
type StartOptions struct {
	// ID is the workflow ID. "": a random one. An ID can be reused once
	// its previous run has closed.
	ID string
	// Queue routes the run to workers of that queue. "": QueueDefault.
	Queue string
	// ExecutionTimeout bounds the workflow ID's whole continue-as-new
	// chain, RunTimeout each run of it. When one passes, the run ends
	// whatever its code is doing: status failed, and Run.Get returns a
	// *TimeoutError of Kind "Execution" (Temporal's TimedOut). Zero: none.
	ExecutionTimeout, RunTimeout time.Duration
	// RetryPolicy retries a failed run: the run that failed stays failed,
	// and the commit that closes it creates the next attempt's run (same
	// workflow ID, GetInfo(ctx).Attempt one higher), due after the
	// policy's backoff. Run.Get follows the attempts to the last one. A run
	// that times out, is cancelled or terminated is not retried. nil: none.
	RetryPolicy *RetryPolicy
	// StartDelay delays the run's first step by this long: the run exists
	// (Describe, Signal, Cancel see it) but its code starts, and its clock
	// reads, start time + StartDelay. A signal delivered meanwhile starts
	// it at once, as in Temporal; SignalWithStart ignores StartDelay.
	// Zero: at once.
	StartDelay time.Duration
	// WorkflowIDReusePolicy says whether a workflow ID whose newest run
	// has closed may start again. Zero: IDReuseAllowDuplicate.
	WorkflowIDReusePolicy IDReusePolicy
	// WorkflowIDConflictPolicy says what Start does when the workflow ID
	// has an open run. Zero: IDConflictFail (ErrAlreadyStarted).
	WorkflowIDConflictPolicy IDConflictPolicy
	// Memo and SearchAttributes are the run's initial memo and search
	// attributes (JSON-encoded values; see attributes.go).
	Memo, SearchAttributes map[string]any
	// TypedSearchAttributes are initial search attributes too, made with
	// NewSearchAttributes (Temporal's StartWorkflowOptions field of that
	// name); they win over SearchAttributes of the same name.
	TypedSearchAttributes SearchAttributes
	// CronSchedule runs the workflow on a cron schedule, as Temporal's
	// CronSchedule: the first run starts at the schedule's first time, and
	// each run's close creates the next, due at the schedule's next time
	// (see cron.go). "": no schedule. Not with StartDelay.
	CronSchedule string
	// Header holds context values for the run, set as they are after the
	// engine's propagators wrote theirs from Start's ctx (see
	// WithContextPropagators): a header that came from elsewhere, or a
	// test's (Temporal's WorkflowTestSuite.SetHeader).
	Header Header
}

// Start starts a workflow and returns its run. workflow is a function or a
// registered name. The run's first step (up to its first yield point) is
// committed before Start returns. While the store is unavailable Start
// tries again within ctx, and gives up with an *UnavailableError
// (ErrUnavailable); it never starts two runs (see unavailable.go).
func (e *Engine) Start(ctx context.Context, opts StartOptions, workflow any, args ...any) (Run, error) {
	return e.startRetrying(ctx, opts, workflow, args) // unavailable.go
}

// startRun makes one attempt to start a run with ID runID ("": a new one).
func (e *Engine) startRun(ctx context.Context, opts StartOptions, workflow any, args []any, first *store.DeliverParams, runID string) (Run, error) {
	queue := opts.Queue
	if queue == "" {
		queue = QueueDefault
	}
	name, def, raw, err := e.reg.workflowCall("durable: Start", workflow, args)
	if err != nil {
		return nil, err
	}
	registered := e.reg.workflow(name)
	if registered == nil && e.serves(queue) {
		return nil, fmt.Errorf("durable: Start: %w", &NotRegisteredError{Kind: "workflow", Name: name})
	}
	local := registered != nil && e.serves(queue)
	def = registered
	id := opts.ID
	if id == "" {
		id = newID()
	} else if opts.WorkflowIDReusePolicy != IDReuseAllowDuplicate || opts.WorkflowIDConflictPolicy != IDConflictFail {
		if existing, err := e.applyIDPolicies(ctx, opts, name); existing != nil || err != nil {
			return existing, err
		}
	}
	if runID == "" {
		runID = newID()
	}
	now := e.cfg.clock.Now()
	delay := max(opts.StartDelay, 0)
	if opts.CronSchedule != "" {
		if delay, err = e.cronFirstDelay(opts.CronSchedule, delay, now); err != nil { // cron.go
			return nil, fmt.Errorf("durable: Start %s: %w", name, err)
		}
	}
	if first != nil {
		delay = 0 // SignalWithStart starts the run at once
	}
	if delay > 0 {
		now = now.Add(delay)
	}
	started := journal.StartedData{Workflow: name, Args: raw, Queue: queue, WorkflowID: id, RunTimeout: max(opts.RunTimeout, 0)}
	if opts.ExecutionTimeout > 0 {
		started.Deadline = eventTime(now.Add(opts.ExecutionTimeout))
	}
	if started.Header, err = e.inject(ctx, opts.Header); err != nil { // propagate.go
		return nil, fmt.Errorf("durable: Start %s: %w", name, err)
	}
	if started.Options, err = encodeStartOptions(opts); err != nil { // attributes.go
		return nil, fmt.Errorf("durable: Start %s: %w", name, err)
	}
	ctx, span := e.tel.startSpan(ctx, name, id) // telemetry.go
	defer span.End()
	started.Options = withTraceparent(started.Options, trace.SpanContextFromContext(ctx))
	if opts.CronSchedule != "" {
		started.Options = withCron(started.Options, cronOptions{CronSchedule: opts.CronSchedule})
	}
	startEv := store.Event{Seq: 1, Kind: journal.Started, Data: journal.Encode(&started), At: eventTime(now)}
	// WakeAt is the Started event's time, which inMemoryWake keeps while
	// the first activity runs.
	runRec := &store.Run{RunID: runID, WorkflowID: id, Workflow: name, Queue: queue, Status: store.StatusRunning, Input: raw, WakeAt: startEv.At}
	if !local || first != nil || delay > 0 {
		p := &store.CreateRunParams{Run: runRec, Events: []store.Event{startEv}}
		if local {
			p.Owner, p.Lease = e.workerID, e.cfg.lease
		}
		if err := e.store.CreateRun(ctx, p); err != nil {
			if errors.Is(err, store.ErrAlreadyExists) {
				if first == nil && opts.WorkflowIDConflictPolicy == IDConflictUseExisting {
					return e.existingRun(ctx, id)
				}
				return nil, alreadyStarted(id, "has an open run")
			}
			return nil, fmt.Errorf("durable: Start %s: %w", name, err)
		}
		if first != nil {
			first.RunID = runID
			if _, err := e.store.Deliver(ctx, first); err != nil {
				return nil, noRetryIfMaybeApplied(fmt.Errorf("durable: SignalWithStart %s: %w", name, err))
			}
		}
		switch {
		case local && delay > 0 && first == nil:
			e.startLater(runRec, def, []store.Event{startEv}, delay)
		case local:
			e.startInstance(runRec, def, []store.Event{startEv}, nil, nil)
		default:
			e.pokePoller()
			e.watchUnserved(runID, queue)
		}
		return &runHandle{e: e, workflowID: id, runID: runID, started: true}, nil
	}
	e.startWorking()
	in := newInstance(e, runRec, def, machine.Start(startEv, e.machineConfig()))
	in.holdDrain() // the first step runs here, in the caller's goroutine
	e.mu.Lock()
	e.instances[runID] = in
	e.mu.Unlock()
	e.tel.stepStart(in, nil)
	in.apply(startEv)
	if in.halt != nil {
		// The first step panicked: keep the run, stuck, for fixed code.
		in.m.Drop()
		in.m.Step().Events = []store.Event{startEv}
		in.m.Close(&store.RunUpdate{Status: store.StatusStuck, Error: journal.Encode(toFailure(in.halt))})
		in.halt = nil
		in.flush()
		in.teardown()
	} else {
		in.settle()
	}
	e.tel.stepEnd(in)
	if in.createErr != nil {
		e.forget(in)
		if errors.Is(in.createErr, store.ErrAlreadyExists) && opts.WorkflowIDConflictPolicy == IDConflictUseExisting {
			return e.existingRun(ctx, id)
		}
		if errors.Is(in.createErr, store.ErrAlreadyExists) {
			return nil, alreadyStarted(id, "has an open run")
		}
		return nil, fmt.Errorf("durable: Start %s: %w", name, in.createErr)
	}
	in.releaseDrain()
	return &runHandle{e: e, workflowID: id, runID: runID}, nil
}

// holdDrain makes the caller the instance's drainer before any message is
// posted: a new run's first step runs in Start's goroutine, and a replica
// is worked by whoever rebuilt it. Messages posted meanwhile wait in the
// mailbox; releaseDrain hands them on.
func (in *instance) holdDrain() {
	in.box.hold()
}

// machineConfig is the configuration of a live run's machine.
func (e *Engine) machineConfig() machine.Config {
	return machine.Config{Clock: e.cfg.clock.Now}
}

// releaseDrain ends a synchronous drain, handing queued messages on.
func (in *instance) releaseDrain() {
	in.maybeEvict()
	if in.box.release() {
		return
	}
	in.e.busy.Add(1)
	go in.drain()
}

// eventTime is the time stamped on a journal event: what every store keeps
// (microseconds, no monotonic reading), so that live code and its replay
// see the same Now.
func eventTime(t time.Time) time.Time { return t.Truncate(time.Microsecond) }

// newRunRecord is the store record of a run created by its first commit.
func (e *Engine) newRunRecord(in *instance, u *store.RunUpdate) *store.Run {
	return &store.Run{
		RunID: in.runID, WorkflowID: in.workflowID, Workflow: in.def.name, Queue: in.queue,
		Status: u.Status, Input: in.started.Args, Result: u.Result, Error: u.Error, WakeAt: u.WakeAt,
		NextRunID: u.NextRunID, ParentRunID: in.started.ParentRun, PrevRunID: in.started.Continued,
	}
}

// SignalWithStart delivers a signal to the open run of opts.ID, starting
// the workflow first when there is none.
func (e *Engine) SignalWithStart(ctx context.Context, opts StartOptions, workflow any, signal string, arg any, args ...any) (Run, error) {
	if opts.ID == "" {
		return nil, errors.New("durable: SignalWithStart: StartOptions.ID is required")
	}
	raw, err := encodeArg(arg)
	if err != nil {
		return nil, fmt.Errorf("durable: SignalWithStart %q: %w", signal, err)
	}
	item := &store.DeliverParams{WorkflowID: opts.ID, Kind: inboxSignal, Name: signal, Data: raw}
	// Every attempt (unavailable.go) starts the same run ID: one that an
	// earlier attempt created is open, and gets the signal by delivery.
	runID := newID()
	var run Run
	err = e.retryClient(ctx, fmt.Sprintf("SignalWithStart %s %q", opts.ID, signal), func(ctx context.Context, _ int) error {
		for range 3 {
			if got, err := e.store.Deliver(ctx, item); err == nil {
				e.nudge(got.RunID)
				run = &runHandle{e: e, workflowID: opts.ID, runID: got.RunID}
				return nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return noRetryIfMaybeApplied(fmt.Errorf("durable: SignalWithStart %q: %w", signal, err))
			}
			first := &store.DeliverParams{Kind: inboxSignal, Name: signal, Data: raw}
			r, err := e.startRun(ctx, opts, workflow, args, first, runID)
			if err == nil {
				e.nudge(r.(*runHandle).runID)
				run = r
				return nil
			}
			if !errors.Is(err, ErrAlreadyStarted) {
				return err
			}
		}
		return fmt.Errorf("durable: SignalWithStart %q: workflow ID %q keeps changing", signal, opts.ID)
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}

// nudgeDeliveries tells the recipients of a commit's deliveries (parents,
// signalled and cancelled runs) that their inbox has news.
func (e *Engine) nudgeDeliveries(ds []*store.DeliverParams) {
	for _, d := range ds {
		runID := d.RunID
		if runID == "" {
			r, err := e.store.CurrentRun(e.ctx, d.WorkflowID)
			if err != nil {
				e.pokePoller()
				continue
			}
			runID = r.RunID
		}
		e.nudge(runID)
	}
}

// nudge tells a loaded run to read its inbox, or the poller to claim it.
func (e *Engine) nudge(runID string) {
	if in := e.instance(runID); in != nil && in.post(msgInbox{}) {
		return
	}
	e.pokePoller()
}

// Signal delivers a signal to the open run of a workflow ID. It returns
// once the signal is persisted; ErrNotFound when no run is open.
func (e *Engine) Signal(ctx context.Context, id, name string, arg any) error {
	raw, err := encodeArg(arg)
	if err != nil {
		return fmt.Errorf("durable: Signal %s %q: %w", id, name, err)
	}
	return e.deliver(ctx, &store.DeliverParams{WorkflowID: id, Kind: inboxSignal, Name: name, Data: raw}, "Signal")
}

// Cancel asks the open run of a workflow ID to cancel: its root context is
// cancelled at a deterministic point and the workflow decides what to do
// (clean-up under context.WithoutCancel works).
func (e *Engine) Cancel(ctx context.Context, id string) error {
	return e.deliver(ctx, &store.DeliverParams{WorkflowID: id, Kind: inboxCancel}, "Cancel")
}

// Terminate ends the open run of a workflow ID at once; its code gets no
// chance to react.
func (e *Engine) Terminate(ctx context.Context, id, reason string) error {
	if r, err := e.store.CurrentRun(ctx, id); err == nil && r.Status == store.StatusStuck {
		// No worker works a stuck run: close it here (TerminateRun).
		return e.TerminateRun(ctx, id, r.RunID, reason)
	}
	raw, _ := json.Marshal(reason)
	return e.terminate(ctx, &store.DeliverParams{WorkflowID: id, Kind: inboxTerminate, Data: raw})
}

func (e *Engine) deliver(ctx context.Context, p *store.DeliverParams, op string) error {
	_, err := e.deliverItem(ctx, p, op)
	return err
}

// deliverItem delivers p and returns the inbox item, whose RunID is the
// run it reached.
func (e *Engine) deliverItem(ctx context.Context, p *store.DeliverParams, op string) (*store.InboxItem, error) {
	var item *store.InboxItem
	err := e.retryClient(ctx, deliverOp(op, p), func(ctx context.Context, _ int) (err error) {
		item, err = e.store.Deliver(ctx, p)
		if p.Kind == inboxSignal {
			// A signal delivered twice would be received twice; cancelling
			// or terminating twice does no harm.
			err = noRetryIfMaybeApplied(err)
		}
		return err
	})
	if err != nil {
		if errors.Is(err, ErrUnavailable) {
			return nil, err
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("durable: %s %s: %w", op, p.WorkflowID, noOpenRun(p.WorkflowID, p.RunID))
		}
		return nil, fmt.Errorf("durable: %s %s: %w", op, p.WorkflowID, err)
	}
	e.nudge(item.RunID)
	return item, nil
}

// readInbox turns unconsumed inbox items into inbound events, one by one,
// skipping those taken before. items are the run's unconsumed items in ID
// order when the caller read them already (with a claim); nil reads the
// store.
func (in *instance) readInbox(items []store.InboxItem) {
	if in.m.ReadOnly() || !in.created || in.m.Closing() != nil || in.halt != nil {
		return
	}
	if items == nil {
		var err error
		if items, err = in.e.store.ListInbox(in.e.ctx, in.runID); err != nil {
			if in.e.noteStore("read inbox", err) { // an outage is logged once (unavailable.go)
				in.e.cfg.logger.Warn("durable: read inbox", "run_id", in.runID, "error", err)
			}
			return
		}
	}
	for _, it := range items {
		if it.ID <= in.lastInbox {
			continue
		}
		if in.m.Closing() != nil || in.halt != nil || in.isGone() {
			return
		}
		in.lastInbox = it.ID
		in.m.Step().Consume = append(in.m.Step().Consume, it.ID)
		switch it.Kind {
		case inboxSignal:
			in.inbound(journal.SignalReceived, &journal.SignalData{Name: it.Name, Arg: it.Data})
		case inboxCancel:
			in.inbound(journal.CancelRequested, &journal.CancelData{})
		case inboxTerminate:
			var reason string
			_ = json.Unmarshal(it.Data, &reason)
			in.inbound(journal.Terminated, &journal.CancelData{Reason: reason})
		case inboxActivity:
			var rd journal.ResultData
			if json.Unmarshal(it.Data, &rd) != nil {
				continue
			}
			ac := in.activities[rd.ID]
			if ac == nil || ac.done {
				continue // consumed with the next commit
			}
			in.onActivityResultItem(ac, &rd) // async.go
		case inboxActivityPending:
			in.onPendingItem(it)
		case inboxActivityHeartbeat:
			in.onHeartbeatItem(it)
		case inboxActivityCompletion:
			in.onCompletionItem(it)
		case inboxChild:
			var rd journal.ResultData
			if json.Unmarshal(it.Data, &rd) != nil {
				continue
			}
			kind := journal.ChildCompleted
			if rd.Error != nil {
				kind = journal.ChildFailed
			}
			known := false
			for _, c := range in.extra.children {
				if c.id == rd.ID && !c.done {
					known = true
				}
			}
			if known {
				in.inbound(kind, &rd)
			}
		case inboxUpdate:
			var ud journal.UpdateData
			if json.Unmarshal(it.Data, &ud) != nil {
				continue
			}
			// The validator runs here, in the order the run takes its
			// input, as Temporal's worker runs it: the sender's check
			// against the journal may be stale.
			if err := in.validateRaw(ud.Name, ud.Args); err != nil {
				in.inbound(journal.UpdateRejected, &journal.ResultData{Update: ud.Update, Error: toFailure(err)})
				continue
			}
			in.inbound(journal.UpdateAccepted, &ud)
		default:
			in.e.cfg.logger.Warn("durable: unknown inbox item", "kind", it.Kind, "run_id", in.runID)
		}
	}
}

// idle reports whether the run waits for nothing that would be lost or
// slowed down by unloading it: no activity (but pending ones: async.go),
// child or update in flight.
func (in *instance) idle() bool {
	if in.m.ReadOnly() || in.m.Closing() != nil || in.halt != nil || in.activeCalls() || in.m.Step().Dirty() || in.extra.runningUpdates > 0 {
		return false
	}
	for _, c := range in.extra.children {
		if !c.done {
			return false
		}
	}
	return true
}

// evictable reports whether an idle run only waits for a timer far away.
func (in *instance) evictable(now time.Time) bool {
	if in.e.cfg.evictAfter <= 0 || !in.idle() {
		return false
	}
	at := in.wakeAt()
	return !at.IsZero() && at.Sub(now) > in.e.cfg.evictAfter
}

// evict unloads an idle run; it is replayed when it next wants work.
func (in *instance) evict() {
	if !in.idle() {
		return
	}
	err := in.e.store.ReleaseRun(in.e.ctx, &store.ReleaseRunParams{RunID: in.runID, Owner: in.e.workerID, WakeAt: in.wakeAt()})
	if err != nil && !errors.Is(err, store.ErrLeaseLost) && !errors.Is(err, store.ErrNotFound) {
		if in.e.noteStore("release run", err) { // an outage is logged once (unavailable.go)
			in.e.cfg.logger.Warn("durable: release run", "run_id", in.runID, "error", err)
		}
		return
	}
	in.teardown()
}
