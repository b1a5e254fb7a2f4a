package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/durablego/toolkit/runtime/store"
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
	fn      func(tx *wtx) error
	isolate bool                 // may fail after writing: run inside a SAVEPOINT
	notes   []store.Notification // work the call made, announced once committed
	state   atomic.Int32
	err     error
	done    chan struct{}
}

var requestPool = sync.Pool{New: func() any { return &request{done: make(chan struct{}, 1)} }}

// wtx is what a request's function gets: the writer's prepared statements,
// the store's clock for this call, and what the call has done so far.
type wtx struct {
	*stmts
	clock  func() time.Time
	now    int64 // unix ns, read from clock for each call
	dirty  bool  // a write of this call succeeded
	broken bool  // SQLite failed in a way that may have ended the transaction
	// listened: somebody subscribed, so calls collect in notes the work
	// they make claimable (notify.go).
	listened bool
	notes    []store.Notification
}

func (tx *wtx) reset() {
	tx.now = tx.clock().UnixNano()
	tx.dirty, tx.broken = false, false
	tx.notes = tx.notes[:0]
}

// keep hands the call's notes to its request, to be announced if the
// transaction commits.
func (tx *wtx) keep(r *request) {
	r.notes = append(r.notes[:0], tx.notes...)
}

// note records the outcome of a statement of the call. A constraint
// violation rolls back only its statement, and no row is no error; any
// other SQLite error may have ended the transaction.
func (tx *wtx) note(err error, write bool) {
	switch {
	case err == nil:
		tx.dirty = tx.dirty || write
	case errors.Is(err, sql.ErrNoRows):
	case sqliteCode(err)&0xff == sqlite3.SQLITE_CONSTRAINT:
	default:
		tx.broken = true
	}
}

// exec runs a write statement.
func (tx *wtx) exec(st *wstmt, args ...any) (sql.Result, error) {
	res, err := st.Exec(args...)
	tx.note(err, true)
	return res, err
}

// scanRow runs a statement returning at most one row (a read, or a write
// with RETURNING) and scans it.
func (tx *wtx) scanRow(st *wstmt, write bool, args []any, dest ...any) error {
	err := st.queryRow(args, dest...)
	tx.note(err, write)
	return err
}

// scanRows runs a statement returning rows (a write with RETURNING) and
// calls scan for each.
func (tx *wtx) scanRows(st *wstmt, args []any, scan func(scanner) error) error {
	err := func() error {
		rows, err := st.Query(args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}()
	tx.note(err, true)
	return err
}

type writer struct {
	st          *stmts
	now         func() time.Time // the store's clock (WithClock)
	reqs        chan *request
	maxBatch    int
	busyTimeout time.Duration

	watch versionWatch // PRAGMA data_version while subscribed (notify.go)

	mu     sync.RWMutex // held for reading while sending on reqs
	closed bool
	quit   chan struct{}
	exited chan struct{}

	// Counters for benchmarks and tests.
	batches atomic.Int64
	calls   atomic.Int64
}

// newWriter starts the committer on conn. The committer holds conn's driver
// connection for its whole life (sql.Conn.Raw) and prepares st on it.
func newWriter(ctx context.Context, conn *sql.Conn, st *stmts, maxBatch int, busyTimeout time.Duration, watch *watcher, now func() time.Time) (*writer, error) {
	w := &writer{
		st:          st,
		now:         now,
		watch:       versionWatch{w: watch},
		reqs:        make(chan *request, maxBatch),
		maxBatch:    maxBatch,
		busyTimeout: busyTimeout,
		quit:        make(chan struct{}),
		exited:      make(chan struct{}),
	}
	ready := make(chan error, 1)
	go func() {
		defer close(w.exited)
		err := conn.Raw(func(dc any) error {
			if err := prepareWriter(ctx, dc, st.defs()); err != nil {
				closeWriterStmts(st.defs())
				return err
			}
			ready <- nil
			w.loop()
			return closeWriterStmts(st.defs())
		})
		select {
		case ready <- err: // prepare failed
		default:
		}
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return w, nil
}

// do runs fn in the next group transaction and returns its error, or the
// transaction's if the group failed to commit. When ctx ends before the
// committer picks the call up, the call is dropped and ctx's error returned;
// once picked up, the call runs to the end so that its outcome is known.
func (w *writer) do(ctx context.Context, isolate bool, fn func(tx *wtx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	r := requestPool.Get().(*request)
	r.fn, r.isolate = fn, isolate
	r.err = nil
	r.notes = r.notes[:0]
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
	batch := make([]*request, 0, w.maxBatch)
	defer w.watch.stop()
	for {
		var first *request
		select {
		case first = <-w.reqs:
		case <-w.watch.kick():
			continue // a subscriber: tick() starts the watch
		case <-w.watch.tick():
			w.watch.check(w.st)
			continue
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
		w.watch.hurry()
	}
}

// run executes one batch: as one group transaction when it can, else call
// by call.
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
	if !w.runGroup(live) {
		w.runSolo(live)
	}
	for _, r := range live {
		if r.err == nil && len(r.notes) > 0 {
			w.watch.w.announce(r.notes)
		}
		r.done <- struct{}{}
	}
}

// runGroup runs live in one transaction. A call that may fail after it has
// written (request.isolate) runs inside its own SAVEPOINT, so that its
// failure rolls back only its own changes. Every other call writes nothing
// before the statement that may reject it (the fenced UPDATE of a commit,
// the INSERT of a new run, ...), so its failure leaves nothing to undo and
// it needs no savepoint; savepoints cost about a third of the throughput,
// because SQLite copies every page a call touches into the sub-journal. If
// such a call fails after all, or SQLite reports an error that may have
// ended the transaction (I/O, disk full), runGroup rolls the whole group
// back and returns false: the caller reruns the calls one by one.
func (w *writer) runGroup(live []*request) bool {
	if err := w.retryBusy(w.st.begin); err != nil {
		for _, r := range live {
			r.err = fmt.Errorf("sqlite: begin: %w", translate(err))
		}
		return true
	}
	single := len(live) == 1
	tx := &wtx{stmts: w.st, clock: w.now, listened: w.watch.listened()}
	for _, r := range live {
		tx.reset()
		sp := r.isolate && !single
		if sp {
			if _, err := w.st.savepoint.Exec(); err != nil {
				w.rollback()
				return false
			}
		}
		r.err = call(r.fn, tx)
		tx.keep(r)
		switch {
		case tx.broken:
			w.rollback()
			return false
		case r.err == nil:
			if sp {
				if _, err := w.st.release.Exec(); err != nil {
					w.rollback()
					return false
				}
			}
		case sp:
			_, err1 := w.st.rollbackTo.Exec()
			_, err2 := w.st.release.Exec()
			if err1 != nil || err2 != nil {
				w.rollback()
				return false
			}
		case single:
			w.rollback()
			return true
		case tx.dirty:
			w.rollback()
			return false
		}
	}
	if err := w.retryBusy(w.st.commit); err != nil {
		w.rollback()
		for _, r := range live {
			if r.err == nil {
				r.err = fmt.Errorf("sqlite: commit: %w", translate(err))
			}
		}
		return true
	}
	w.batches.Add(1)
	w.calls.Add(int64(len(live)))
	return true
}

// runSolo runs each call in a transaction of its own: the slow path after a
// group failed.
func (w *writer) runSolo(live []*request) {
	tx := &wtx{stmts: w.st, clock: w.now, listened: w.watch.listened()}
	for _, r := range live {
		if err := w.retryBusy(w.st.begin); err != nil {
			r.err = fmt.Errorf("sqlite: begin: %w", translate(err))
			continue
		}
		tx.reset()
		r.err = call(r.fn, tx)
		tx.keep(r)
		if r.err != nil || tx.broken {
			if r.err == nil {
				r.err = errors.New("sqlite: transaction failed")
			}
			w.rollback()
			continue
		}
		if err := w.retryBusy(w.st.commit); err != nil {
			w.rollback()
			r.err = fmt.Errorf("sqlite: commit: %w", translate(err))
			continue
		}
		w.batches.Add(1)
		w.calls.Add(1)
	}
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
func (w *writer) retryBusy(stmt *wstmt) error {
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
