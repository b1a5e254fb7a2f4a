package durable

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// Riding through store outages.
//
// A store call can fail for a passing reason: the PostgreSQL server
// restarts or fails over, a connection drops, a transaction loses a
// serialization conflict. The store reports those as store.ErrUnavailable
// and says whether the call may have been applied (store.MaybeApplied).
//
// Workers make such calls again with backoff until the store answers, for
// as long as the engine is open: a run whose commit failed commits again
// from memory as soon as the server is back, without waiting for its lease
// to expire. A commit is fenced by the journal length it expects, so
// making it again after an unknown outcome is safe: if the first one
// landed, the second fails as a conflict and the run is replayed from what
// the store holds.
//
// Client calls (Start, SignalWithStart, Signal, Cancel, Terminate, Query,
// Update, Run.Get) make them again within the caller's context, or within
// UnavailableRetryDefault (WithUnavailableRetry) when the context has no
// deadline, and then give up with an *UnavailableError. Each is made so
// that a second attempt after an unknown outcome does no harm: Start uses
// the same run ID on every attempt and recognizes its own run; only the
// delivery of a signal or update whose outcome is unknown is not made
// again, since it could arrive twice.
//
// The engine logs one line when the store becomes unavailable and one when
// it answers again, rather than an error per run.

// ErrUnavailable is matched (errors.Is) by the errors of calls that gave
// up because the store stayed unavailable: a database server down or
// restarting, connections dropped, serialization failures. The call may
// succeed later; the error is an *UnavailableError that says for how long
// it was tried and whether it may have been applied.
var ErrUnavailable = errors.New("durable: store unavailable")

// UnavailableRetryDefault is how long a client call (Start, Signal, ...)
// whose context has no deadline retries while the store is unavailable,
// unless WithUnavailableRetry sets another bound.
const UnavailableRetryDefault = time.Minute

// Backoff between attempts while the store is unavailable: short at first,
// so that a call goes through right after a brief outage, and capped, so
// that the engine notices the store's return within about a second.
const (
	unavailableBackoffMin = 20 * time.Millisecond
	unavailableBackoffMax = time.Second
)

// UnavailableError reports a call that gave up because the store stayed
// unavailable. errors.Is(err, ErrUnavailable) holds, and so does
// errors.Is(err, store.ErrUnavailable) (the last store error is its cause).
type UnavailableError struct {
	Op       string        // the call, e.g. `Start OrderWorkflow` or `Signal order-1 "paid"`
	Attempts int           // how many times it was tried
	Elapsed  time.Duration // from the first attempt to giving up
	// MaybeApplied is set when the last attempt failed after it reached
	// the store: it may have taken effect (a signal may have been
	// delivered, a run started: Run(id) finds it then).
	MaybeApplied bool
	Err          error // the last store error
}

func (e *UnavailableError) Error() string {
	s := fmt.Sprintf("durable: %s: store unavailable (gave up after %d attempts in %s)", e.Op, e.Attempts, e.Elapsed.Round(time.Millisecond))
	if e.MaybeApplied {
		s += "; it may or may not have taken effect"
	}
	return s + ": " + e.Err.Error()
}

// Is makes errors.Is(err, ErrUnavailable) true.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// Unwrap returns the last store error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// WithUnavailableRetry bounds how long client calls whose context has no
// deadline retry while the store is unavailable (UnavailableRetryDefault).
// A context deadline bounds them instead when it has one. Zero or less:
// no retries; the first failure returns an *UnavailableError.
func WithUnavailableRetry(d time.Duration) Option {
	return optionFunc(func(c *config) { c.unavailableRetry = d })
}

// startRetrying is Start: it makes attempts while the store is
// unavailable. Every attempt uses the same workflow ID and run ID, so an
// attempt whose outcome was unknown is recognized by the next one, which
// neither starts a second run nor reports ErrAlreadyStarted.
func (e *Engine) startRetrying(ctx context.Context, opts StartOptions, workflow any, args []any) (Run, error) {
	if opts.ID == "" {
		opts.ID = newID()
	}
	runID := newID()
	var run Run
	err := e.retryClient(ctx, "Start "+opts.ID, func(ctx context.Context, attempt int) error {
		if attempt > 1 {
			r, err := e.startLanded(ctx, opts.ID, runID)
			if r != nil || err != nil {
				run = r
				return err
			}
		}
		r, err := e.startRun(ctx, opts, workflow, args, nil, runID)
		run = r
		return err
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}

// startLanded returns a handle on run runID when an earlier attempt of
// Start created it, and (nil, nil) when none did. A run created to be
// worked here is leased to this engine but was never loaded: it is handed
// back, so that a worker claims it at once rather than when the lease
// expires.
func (e *Engine) startLanded(ctx context.Context, id, runID string) (Run, error) {
	r, err := e.store.GetRun(ctx, runID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("durable: Start %s: %w", id, err)
	}
	if r.Owner == e.workerID && r.Status.Open() && e.instance(runID) == nil {
		wake := r.WakeAt
		if wake.IsZero() {
			wake = e.cfg.clock.Now()
		}
		err := e.store.ReleaseRun(ctx, &store.ReleaseRunParams{RunID: runID, Owner: e.workerID, WakeAt: wake})
		if err != nil && !errors.Is(err, store.ErrLeaseLost) && !errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("durable: Start %s: hand over run %s: %w", id, runID, err)
		}
		e.pokePoller()
	}
	return &runHandle{e: e, workflowID: id, runID: runID}, nil
}

// findOpenRun reads run runID of workflow ID id (its newest run when runID is
// ""), trying again while the store is unavailable. A missing or closed run
// is ErrNotFound; op names the call in errors.
func (e *Engine) findOpenRun(ctx context.Context, id, runID, op string) (*store.Run, error) {
	var run *store.Run
	err := e.retryClient(ctx, op, func(ctx context.Context, _ int) (err error) {
		run, err = e.runOf(ctx, id, runID)
		return err
	})
	switch {
	case errors.Is(err, ErrUnavailable):
		return nil, err
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("durable: %s: %w", op, err)
	case err != nil || !run.Status.Open():
		return nil, fmt.Errorf("durable: %s: %w", op, noOpenRun(id, runID))
	}
	return run, nil
}

// deliverOnce delivers an item that must not arrive twice (an update),
// trying again while the store is unavailable, but not after an attempt
// whose outcome is unknown.
func (e *Engine) deliverOnce(ctx context.Context, p *store.DeliverParams, op string) (*store.InboxItem, error) {
	var item *store.InboxItem
	err := e.retryClient(ctx, op, func(ctx context.Context, _ int) (err error) {
		item, err = e.store.Deliver(ctx, p)
		return noRetryIfMaybeApplied(err)
	})
	return item, err
}

// noRetryIfMaybeApplied stops the retries of a call that must not be made
// twice (a signal's delivery) when its outcome is unknown.
func noRetryIfMaybeApplied(err error) error {
	if store.MaybeApplied(err) {
		return errNoRetry{err}
	}
	return err
}

// deliverOp names a delivery for errors: `Signal order-1 "paid"`.
func deliverOp(op string, p *store.DeliverParams) string {
	target := p.WorkflowID
	if target == "" {
		target = "run " + p.RunID
	}
	if p.Name != "" {
		return fmt.Sprintf("%s %s %q", op, target, p.Name)
	}
	return op + " " + target
}

// errNoRetry marks an error that ends a retry loop as it is.
type errNoRetry struct{ err error }

func (e errNoRetry) Error() string { return e.err.Error() }
func (e errNoRetry) Unwrap() error { return e.err }

// retryClient calls fn until it returns nil or an error that is not
// store.ErrUnavailable, within ctx and the engine's retry bound. fn gets
// the attempt's number (1, 2, ...) and a context for its store calls; it
// may return errNoRetry to stop at once. Giving up returns an
// *UnavailableError naming op.
func (e *Engine) retryClient(ctx context.Context, op string, fn func(ctx context.Context, attempt int) error) error {
	began := time.Now()
	// Without a deadline, the bound applies to the retries only: fn gets
	// the caller's context as it is, so a call that does not fail is not
	// cut short.
	limit := e.cfg.unavailableRetry
	stopAt := began.Add(limit)
	if d, ok := ctx.Deadline(); ok {
		stopAt = d
	}
	backoff := unavailableBackoffMin
	var last error
	giveUp := func(attempt int, err error) error {
		u := &UnavailableError{Op: op, Attempts: attempt, Elapsed: time.Since(began), MaybeApplied: store.MaybeApplied(err), Err: err}
		var su *store.UnavailableError
		if errors.As(err, &su) {
			u.Err = su // the store's own words, without our wrapping
		}
		return u
	}
	for attempt := 1; ; attempt++ {
		err := fn(ctx, attempt)
		var stop errNoRetry
		if errors.As(err, &stop) {
			err = stop.err
			if errors.Is(err, store.ErrUnavailable) {
				e.health.failed(e, op, err)
				return giveUp(attempt, err)
			}
			return err
		}
		if !errors.Is(err, store.ErrUnavailable) {
			if last != nil && err != nil && ctx.Err() != nil {
				// The deadline passed during an attempt while the store
				// was unavailable: that is why the call failed.
				return giveUp(attempt, last)
			}
			if err == nil && last != nil {
				e.health.ok(e, false)
			}
			return err
		}
		last = err
		e.health.failed(e, op, err)
		remaining := time.Until(stopAt)
		if limit <= 0 || remaining <= 0 || !sleepCtx(ctx, min(jitter(backoff), remaining)) {
			return giveUp(attempt, err)
		}
		backoff = min(2*backoff, unavailableBackoffMax)
	}
}

// waitable reports whether a worker's store call failed for a reason that
// passes: the store is unavailable, or refuses writes until an operator
// frees space or makes it writable again. Nothing was lost, and the same
// call succeeds later.
func waitable(err error) bool {
	return errors.Is(err, store.ErrUnavailable) || errors.Is(err, store.ErrStorageFull) || errors.Is(err, store.ErrReadOnly)
}

// retryWorker calls fn until it returns anything but a waitable error or
// the engine closes; it is how a worker rides through an outage, a full
// disk or a read-only file. It reports whether some attempt failed (so a
// later ErrConflict may be its own earlier attempt that landed).
func (e *Engine) retryWorker(op string, fn func(ctx context.Context) error) (retried bool, err error) {
	backoff := unavailableBackoffMin
	for {
		err = fn(e.ctx)
		if !waitable(err) {
			if retried && err == nil {
				e.health.ok(e, true)
			}
			return retried, err
		}
		retried = true
		e.health.failed(e, op, err)
		if !sleepCtx(e.ctx, jitter(backoff)) {
			return retried, err
		}
		backoff = min(2*backoff, unavailableBackoffMax)
	}
}

// noteStore records the outcome of a background store call (claims, lease
// renewals) that its loop makes again anyway. It reports whether err is
// left for the caller to log: unavailability is logged once per outage.
func (e *Engine) noteStore(op string, err error) bool {
	switch {
	case err == nil:
		e.health.ok(e, false)
		return false
	case waitable(err):
		e.health.failed(e, op, err)
		return false
	}
	return e.ctx.Err() == nil
}

// storeHealth tracks whether the store answers and takes writes, so that
// an outage (or a full disk) is logged once when it begins and once when it
// ends, not once per run.
type storeHealth struct {
	down atomic.Bool

	mu       sync.Mutex
	since    time.Time
	failures int
	// refusesWrites: the store answers but cannot write (a full disk, a
	// read-only file); only a write that succeeds ends that.
	refusesWrites bool
}

// failed records a call that found the store unavailable.
func (h *storeHealth) failed(e *Engine, op string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures++
	if h.down.Load() {
		return
	}
	h.down.Store(true)
	h.since = time.Now()
	h.failures = 1
	h.refusesWrites = true
	msg := "durable: store unavailable; retrying until it answers"
	switch {
	case errors.Is(err, store.ErrStorageFull):
		msg = "durable: storage full; commits wait until space is freed"
	case errors.Is(err, store.ErrReadOnly):
		msg = "durable: store is read-only; commits wait until it is writable"
	default:
		h.refusesWrites = false
	}
	e.cfg.logger.Warn(msg, "op", op, "error", err)
}

// ok records a call that the store answered; wrote says that it wrote.
func (h *storeHealth) ok(e *Engine, wrote bool) {
	if !h.down.Load() {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.down.Load() || h.refusesWrites && !wrote {
		return
	}
	h.down.Store(false)
	e.cfg.logger.Info("durable: store available again", "after", time.Since(h.since).Round(time.Millisecond), "failed_calls", h.failures)
}

// sleepCtx waits d or until ctx is done; it reports whether d passed.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// jitter spreads d by ±20%, so that the workers of a restarted server do
// not all come back in the same instant.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}
