package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// The writer owns the only connection that writes. Every write call (Commit,
// CreateRun, ClaimRuns, Deliver, ...) becomes a request; a committer
// goroutine takes all requests waiting at that moment, runs them in one
// transaction, each inside its own SAVEPOINT so that one failing call rolls
// back alone, and commits once. Under load the batch grows with the queue, so
// one fsync (or, with synchronous=NORMAL, one WAL append) serves hundreds of
// calls. That is group commit.

// request states.
const (
	reqPending int32 = iota
	reqRunning
	reqCanceled
)

type request struct {
	fn    func(tx *wtx) error
	state atomic.Int32
	err   error
	done  chan struct{}
}

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

// wtx is what a request's function gets: the writer's prepared statements
// and the time of the batch's start (the store's clock for this call).
type wtx struct {
	*stmts
	now int64 // unix ns
}

type writer struct {
	conn        *sql.Conn
	st          *stmts
	reqs        chan *request
	maxBatch    int
	busyTimeout time.Duration

	mu     sync.RWMutex // held for reading while sending on reqs
	closed bool
	quit   chan struct{}
	exited chan struct{}

	// Counters for benchmarks and tests.
	batches atomic.Int64
	calls   atomic.Int64
}

func newWriter(conn *sql.Conn, st *stmts, maxBatch int, busyTimeout time.Duration) *writer {
	w := &writer{
		conn:        conn,
		st:          st,
		reqs:        make(chan *request, maxBatch),
		maxBatch:    maxBatch,
		busyTimeout: busyTimeout,
		quit:        make(chan struct{}),
		exited:      make(chan struct{}),
	}
	go w.loop()
	return w
}

// do runs fn in the next group transaction and returns its error, or the
// transaction's if the group failed to commit. When ctx ends before the
// committer picks the call up, the call is dropped and ctx's error returned;
// once picked up, the call runs to the end so that its outcome is known.
func (w *writer) do(ctx context.Context, fn func(tx *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := requestPool.Get().(*request)
	r.fn = fn
	r.err = nil
	r.state.Store(reqPending)

	w.mu.RLock()
	if w.closed {
		w.mu.RUnlock()
		requestPool.Put(r)
		return ErrClosed
	}
	select {
	case w.reqs <- r:
	case <-ctx.Done():
		w.mu.RUnlock()
		requestPool.Put(r)
		return ctx.Err()
	}
	w.mu.RUnlock()

	select {
	case <-r.done:
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqPending, reqCanceled) {
			// The committer will skip it and signal done; the request
			// is not reused.
			return ctx.Err()
		}
		<-r.done
	}
	err := r.err
	r.fn = nil
	requestPool.Put(r)
	return err
}

// close stops accepting calls, lets the committer finish those queued and
// waits for it to exit.
func (w *writer) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.exited
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.quit)
	<-w.exited
}

func (w *writer) loop() {
	defer close(w.exited)
	batch := make([]*request, 0, w.maxBatch)
	for {
		var first *request
		select {
		case first = <-w.reqs:
		case <-w.quit:
			// No sender is left (close holds the lock); run what is queued.
			for {
				select {
				case r := <-w.reqs:
					w.run(append(batch[:0], r))
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
	gather:
		for len(batch) < w.maxBatch {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			default:
				break gather
			}
		}
		w.run(batch)
		clear(batch)
	}
}

// run executes one group transaction.
func (w *writer) run(batch []*request) {
	live := batch[:0:0]
	for _, r := range batch {
		if r.state.CompareAndSwap(reqPending, reqRunning) {
			live = append(live, r)
		} else {
			r.done <- struct{}{} // canceled: its caller is gone
		}
	}
	if len(live) == 0 {
		return
	}
	finish := func(err error) {
		for _, r := range live {
			if err != nil && r.err == nil {
				r.err = err
			}
			r.done <- struct{}{}
		}
	}

	if err := w.retryBusy(w.st.begin); err != nil {
		finish(fmt.Errorf("sqlite: begin: %w", translate(err)))
		return
	}
	tx := &wtx{stmts: w.st, now: time.Now().UnixNano()}
	single := len(live) == 1
	for _, r := range live {
		tx.now = time.Now().UnixNano()
		if single {
			r.err = call(r.fn, tx)
			if r.err != nil {
				w.rollback()
				finish(nil)
				return
			}
			continue
		}
		if _, err := w.st.savepoint.Exec(); err != nil {
			w.rollback()
			finish(fmt.Errorf("sqlite: savepoint: %w", translate(err)))
			return
		}
		r.err = call(r.fn, tx)
		if r.err != nil {
			if _, err := w.st.rollbackTo.Exec(); err != nil {
				w.rollback()
				finish(fmt.Errorf("sqlite: rollback to savepoint: %w", translate(err)))
				return
			}
		}
		if _, err := w.st.release.Exec(); err != nil {
			w.rollback()
			finish(fmt.Errorf("sqlite: release savepoint: %w", translate(err)))
			return
		}
	}
	if err := w.retryBusy(w.st.commit); err != nil {
		w.rollback()
		finish(fmt.Errorf("sqlite: commit: %w", translate(err)))
		return
	}
	w.batches.Add(1)
	w.calls.Add(int64(len(live)))
	finish(nil)
}

// call runs fn, turning a panic into an error so that one bad call cannot
// take the committer (and with it every caller) down.
func call(fn func(tx *wtx) error, tx *wtx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqlite: panic in store call: %v", p)
		}
	}()
	return fn(tx)
}

func (w *writer) rollback() {
	_, _ = w.st.rollback.Exec()
}

// busyRetriesMax bounds how often a busy database is retried after
// busy_timeout ran out, each time after a growing pause.
const busyRetriesMax = 10

// retryBusy runs stmt (BEGIN or COMMIT) and retries while another
// connection (a backup tool, the sqlite3 shell) holds the database lock.
func (w *writer) retryBusy(stmt *sql.Stmt) error {
	pause := 10 * time.Millisecond
	for i := 0; ; i++ {
		_, err := stmt.Exec()
		if err == nil || !isBusy(err) || i == busyRetriesMax {
			return err
		}
		select {
		case <-time.After(pause):
		case <-w.quit:
			return err
		}
		pause = min(2*pause, time.Second)
	}
}
