package sqlite

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// Store implements store.Notifier. Subscribers hear of two things:
//
//   - Work this Store's own calls make claimable (a run created without an
//     owner or given inbox items, a task created without an owner or
//     released, ...), with its queue, once the call's transaction commits,
//     as PostgreSQL's NOTIFY does.
//   - Commits of other processes on the same file (client-only stores:
//     starters, API servers, a CLI), as {Kind: "run", Queue: ""}. The
//     writer learns of them from PRAGMA data_version on its own connection:
//     SQLite changes that number when another connection, in any process,
//     has committed since the connection last looked, and never for the
//     connection's own commits. So the writer's group commits, most of the
//     traffic, wake nobody, and every foreign commit does within
//     watchMin to watchMax (2 to 32 ms).

// The writer reads PRAGMA data_version watchMin after it saw a change or
// ran calls of its own, and backs off to watchMax while nothing happens:
// a worker hears of a client's commit within about 2 ms while busy, and
// within watchMax when idle, at about 30 wake-ups a second (each costs
// what waking a goroutine costs, ~0.1-0.3 ms of CPU on a small VM; a
// read every 2 ms would cost 5-7% of a core).
const (
	watchMin = 2 * time.Millisecond
	watchMax = 32 * time.Millisecond
)

// watcher fans "another process committed" out to the subscribers of
// Store.Subscribe. The writer goroutine does the watching (watching is
// enabled while there are subscribers) and calls fire.
type watcher struct {
	enabled bool          // file stores; a memory store has no other process
	kick    chan struct{} // wakes the writer when the first subscriber arrives

	mu      sync.Mutex
	closed  bool
	subs    map[chan store.Notification]struct{}
	commits map[chan struct{}]struct{} // WatchCommits
	fired   int64
}

func newWatcher(enabled bool) *watcher {
	return &watcher{enabled: enabled, kick: make(chan struct{}, 1),
		subs: map[chan store.Notification]struct{}{}, commits: map[chan struct{}]struct{}{}}
}

// active reports whether anybody listens for other processes' commits.
func (w *watcher) active() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.subs) > 0 || len(w.commits) > 0
}

// notified reports whether anybody listens for notifications.
func (w *watcher) notified() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.subs) > 0
}

// fire tells every subscriber that other processes may have made work: a
// run created, a signal, cancellation or update delivered, a stuck run
// resumed. Clients make runs and inbox items, never tasks, so the
// notification is of kind "run". A subscriber whose buffer is full has a
// wake-up pending already.
func (w *watcher) fire() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.fired++
	for ch := range w.subs {
		select {
		case ch <- store.Notification{Kind: "run"}:
		default:
		}
	}
	for ch := range w.commits {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

func (w *watcher) subscribe(ctx context.Context) (<-chan store.Notification, error) {
	ch := make(chan store.Notification, 8)
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, ErrClosed
	}
	w.subs[ch] = struct{}{}
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	go func() {
		<-ctx.Done()
		w.unsubscribe(ch)
	}()
	return ch, nil
}

func (w *watcher) unsubscribe(ch chan store.Notification) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.subs[ch]; ok {
		delete(w.subs, ch)
		close(ch)
	}
}

// close ends every subscription.
func (w *watcher) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	for ch := range w.subs {
		delete(w.subs, ch)
		close(ch)
	}
	for ch := range w.commits {
		delete(w.commits, ch)
		close(ch)
	}
}

// watchCommits subscribes to other processes' commits only.
func (w *watcher) watchCommits(ctx context.Context) (<-chan struct{}, error) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, ErrClosed
	}
	w.commits[ch] = struct{}{}
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	go func() {
		<-ctx.Done()
		w.mu.Lock()
		defer w.mu.Unlock()
		if _, ok := w.commits[ch]; ok {
			delete(w.commits, ch)
			close(ch)
		}
	}()
	return ch, nil
}

// Subscribe implements store.Notifier: the channel hears of the work this
// store's calls make claimable, with its queue, and, within watchMax
// (32 ms) at most, of every commit another process (a client-only store, or
// any other program writing the file) makes, as a "run" notification with
// an empty queue: poll every queue. It is closed when ctx is done or the
// store closes. Notifications are hints: when the channel is full, more
// are dropped.
func (s *Store) Subscribe(ctx context.Context) (<-chan store.Notification, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if s.watch == nil {
		return nil, errors.New("sqlite: subscribe: store not open")
	}
	return s.watch.subscribe(ctx)
}

// WatchCommits returns a channel that receives a value within watchMax
// (32 ms) of commits other processes make to the file (never for this
// store's own), until ctx is done or the store closes. A client-only
// engine's Run.Get calls use it to read the runs they wait for as soon as
// the worker may have closed them, rather than at their poll interval.
// A memory store's channel stays silent.
func (s *Store) WatchCommits(ctx context.Context) (<-chan struct{}, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	return s.watch.watchCommits(ctx)
}

// Wakeups returns how many times the store has told its subscribers of
// another process's commits since Open.
func (s *Store) Wakeups() int64 {
	s.watch.mu.Lock()
	defer s.watch.mu.Unlock()
	return s.watch.fired
}

// versionWatch is the writer's side: it reads PRAGMA data_version while
// the watcher is active, every watchMin to watchMax.
type versionWatch struct {
	w        *watcher
	timer    *time.Timer
	interval time.Duration
	last     int64
	known    bool
}

// tick returns the channel to wait on: nil (never ready) while nobody
// listens, so that an idle store without subscribers does no work.
func (v *versionWatch) tick() <-chan time.Time {
	if v.w == nil || !v.w.enabled {
		return nil
	}
	if !v.w.active() {
		if v.timer != nil {
			v.timer.Stop()
			v.timer = nil
			v.known = false
		}
		return nil
	}
	if v.timer == nil {
		v.interval = watchMin
		v.timer = time.NewTimer(v.interval)
	}
	return v.timer.C
}

// kick is ready when a subscriber arrived: the writer starts watching.
func (v *versionWatch) kick() <-chan struct{} {
	if v.w == nil || !v.w.enabled {
		return nil
	}
	return v.w.kick
}

// check runs when the timer fired: it reads data_version, fires on a
// change and sets the timer again. The first read after watching starts
// only sets the baseline: a subscriber polls once when it starts anyway.
func (v *versionWatch) check(st *stmts) {
	var n int64
	err := st.dataVersion.queryRow(nil, &n)
	switch {
	case err != nil:
		// Busy (recovery of the WAL index): read again soon.
		v.interval = watchMin
	case v.known && n != v.last:
		v.w.fire()
		v.interval = watchMin
	default:
		v.interval = min(2*v.interval, watchMax)
	}
	if err == nil {
		v.last, v.known = n, true
	}
	v.timer.Reset(v.interval)
}

// hurry shortens the wait after the writer ran calls: work comes in bursts,
// and clients write while the worker is busy with theirs.
func (v *versionWatch) hurry() {
	if v.timer != nil && v.interval > watchMin {
		v.interval = watchMin
		v.timer.Reset(watchMin) // a tick pending already only checks early
	}
}

func (v *versionWatch) stop() {
	if v.timer != nil {
		v.timer.Stop()
	}
}

// listened reports whether calls should collect notes: somebody is
// subscribed.
func (v *versionWatch) listened() bool { return v.w != nil && v.w.notified() }

// announce tells every subscriber of work this store's own calls made
// claimable, once their transaction committed.
func (w *watcher) announce(notes []store.Notification) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.subs {
		for _, n := range notes {
			select {
			case ch <- n:
			default:
			}
		}
	}
}

// announce records that the call made work of kind ("run" or "task") in
// queue claimable: a run created without an owner or given inbox items, a
// task created without an owner or released. Work created already leased
// is not announced: nobody else could claim it.
func (tx *wtx) announce(kind, queue string) {
	if !tx.listened {
		return
	}
	n := store.Notification{Kind: kind, Queue: queue}
	for _, m := range tx.notes {
		if m == n {
			return
		}
	}
	tx.notes = append(tx.notes, n)
}

// announceRun announces run work in the queue of run runID.
func (tx *wtx) announceRun(runID string) {
	if !tx.listened {
		return
	}
	var queue string
	_ = tx.runQueue.queryRow([]any{runID}, &queue) // unknown: "" (any queue)
	tx.announce("run", queue)
}

// announceTask announces task work in the queue of task id.
func (tx *wtx) announceTask(id string) {
	if !tx.listened {
		return
	}
	var queue string
	_ = tx.taskQueue.queryRow([]any{id}, &queue)
	tx.announce("task", queue)
}
