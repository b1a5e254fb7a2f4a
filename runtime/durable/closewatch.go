package durable

import (
	"context"
	"sync"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// runStatuser is implemented by stores that return those of many runs that
// are no longer running in one round trip (runtime/store/postgres). A
// client-only engine hears of no closing in process, so its Run.Get calls
// would each poll the store; with this, one watcher asks about every
// awaited run at once, remembers the outcomes of those that closed and
// wakes their Get calls, which then need no read of their own.
type runStatuser interface {
	SettledRuns(ctx context.Context, runIDs []string) ([]*store.Run, error)
}

// commitWatcher is implemented by stores that tell when other processes
// committed (runtime/store/sqlite, through PRAGMA data_version). A
// client-only engine's close watcher reads the awaited runs after each
// such commit instead of backing off to the poll interval, so Run.Get
// returns within milliseconds of the worker closing the run.
type commitWatcher interface {
	WatchCommits(ctx context.Context) (<-chan struct{}, error)
}

// Bounds of the close watcher's interval between two reads: it reads again
// after closeWatchMin while runs keep closing and backs off to the poll
// interval while none does.
const closeWatchMin = 5 * time.Millisecond

// closeWatch tracks the runs that Get calls of a client-only engine wait for.
type closeWatch struct {
	mu      sync.Mutex
	started bool
	kick    chan struct{}
	runs    map[string]*closeWaiter // by run ID
}

type closeWaiter struct {
	workflowID string
	n          int // Get calls waiting
}

// canWatchClose reports whether watchClose works on this engine.
func (e *Engine) canWatchClose() bool {
	_, ok := e.store.(runStatuser)
	return e.cfg.clientOnly && ok
}

// watchClose makes the close watcher wake Get calls on workflowID when
// runID closes, until stop is called. It returns nil when the engine works
// runs (it hears of closings in process) or the store cannot tell many
// statuses at once.
func (e *Engine) watchClose(runID, workflowID string) (stop func()) {
	if !e.cfg.clientOnly {
		return nil
	}
	st, ok := e.store.(runStatuser)
	if !ok {
		return nil
	}
	w := &e.closes
	w.mu.Lock()
	if !w.started {
		w.started = true
		w.kick = make(chan struct{}, 1)
		w.runs = map[string]*closeWaiter{}
		go e.closeWatchLoop(st)
		if cw, ok := e.store.(commitWatcher); ok {
			if ch, err := cw.WatchCommits(e.ctx); err == nil {
				kick := w.kick
				go func() {
					for range ch {
						select {
						case kick <- struct{}{}:
						default:
						}
					}
				}()
			}
		}
	}
	cw := w.runs[runID]
	if cw == nil {
		cw = &closeWaiter{workflowID: workflowID}
		w.runs[runID] = cw
	}
	cw.n++
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	return func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		if cw.n--; cw.n == 0 && w.runs[runID] == cw {
			delete(w.runs, runID)
		}
	}
}

// closeWatchLoop reads the statuses of the awaited runs until the engine
// closes, and tells the Get calls of those that closed (or got stuck).
func (e *Engine) closeWatchLoop(st runStatuser) {
	w := &e.closes
	interval := closeWatchMin
	for {
		w.mu.Lock()
		ids := make([]string, 0, len(w.runs))
		for id := range w.runs {
			ids = append(ids, id)
		}
		w.mu.Unlock()
		if len(ids) == 0 {
			select {
			case <-e.ctx.Done():
				return
			case <-w.kick:
				interval = closeWatchMin
				continue
			}
		}
		settled, err := st.SettledRuns(e.ctx, ids)
		closed := 0
		if err == nil {
			e.noteStore("read run statuses", nil)
			for _, r := range settled {
				w.mu.Lock()
				cw := w.runs[r.RunID]
				w.mu.Unlock()
				if cw != nil {
					closed++
					// A stuck run may resume: Get reads it again.
					if !r.Status.Open() {
						e.recordOutcome(r)
					}
					e.notifyChange(cw.workflowID)
				}
			}
		} else if e.noteStore("read run statuses", err) {
			e.cfg.logger.Warn("durable: read run statuses", "error", err)
		}
		if closed > 0 {
			interval = closeWatchMin
		} else {
			interval = min(2*interval, max(e.cfg.poll, closeWatchMin))
		}
		// A new waiter shortens the wait: its run may close soon.
		deadline := time.Now().Add(interval)
		for waiting := true; waiting; {
			t := time.NewTimer(time.Until(deadline))
			select {
			case <-e.ctx.Done():
				t.Stop()
				return
			case <-t.C:
				waiting = false
			case <-w.kick:
				t.Stop()
				interval = closeWatchMin
				if d := time.Now().Add(closeWatchMin); d.Before(deadline) {
					deadline = d
				}
			}
		}
	}
}
