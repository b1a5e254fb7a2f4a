package durable

import "sync"

// mailbox is a loaded run's queue of messages (activity outcomes, timer
// firings, inbox notices, queries, updates), posted from any goroutine and
// worked off by one drainer at a time. Whoever posts to an idle mailbox
// becomes responsible for starting its drainer; a gone mailbox (the run
// was unloaded) takes nothing.
type mailbox struct {
	mu       sync.Mutex
	items    []any
	draining bool
	gone     bool
}

// put queues m. It reports whether the mailbox took it, and whether the
// caller must start a drainer (nobody drains it now).
func (b *mailbox) put(m any) (taken, startDrain bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.gone {
		return false, false
	}
	b.items = append(b.items, m)
	if b.draining {
		return true, false
	}
	b.draining = true
	return true, true
}

// hold makes the caller the drainer before anything is posted.
func (b *mailbox) hold() {
	b.mu.Lock()
	b.draining = true
	b.mu.Unlock()
}

// next takes every queued message for the drainer. When the mailbox is
// gone it ends the drain and returns the messages left, for the drainer to
// hand elsewhere.
func (b *mailbox) next() (msgs []any, gone bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	msgs, b.items = b.items, nil
	if b.gone {
		b.draining = false
	}
	return msgs, b.gone
}

// release ends the drain if nothing is queued (or the mailbox is gone);
// it reports false when messages came in meanwhile and the drain goes on.
func (b *mailbox) release() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.items) > 0 && !b.gone {
		return false
	}
	b.draining = false
	return true
}

// close marks the mailbox gone. It reports whether it was open before,
// and whether a drainer is running (which sees it gone and stops).
func (b *mailbox) close() (wasOpen, draining bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	wasOpen, draining = !b.gone, b.draining
	b.gone = true
	return wasOpen, draining
}

// isGone reports whether the mailbox is closed.
func (b *mailbox) isGone() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.gone
}

// state reports whether the mailbox is open, and whether a drainer works it.
func (b *mailbox) state() (open, draining bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return !b.gone, b.draining
}
