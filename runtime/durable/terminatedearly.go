package durable

import "github.com/durablego/toolkit/runtime/store"

// terminatedBeforeStart reports whether a run about to take its first
// step already has a termination waiting in its inbox (a delayed or cron
// start ended by Terminate, or a parent's close). Such a run runs no code,
// as in Temporal, where a terminated execution gets no workflow task: its
// inbox is narrowed to the termination (the other items are consumed with
// it) and its journal becomes Started, Terminated, which a replay reads
// the same way.
func (in *instance) terminatedBeforeStart() bool {
	items := in.inboxAhead
	if items == nil {
		var err error
		if items, err = in.e.store.ListInbox(in.e.ctx, in.runID); err != nil {
			return false // begin reads the inbox again and reports the error
		}
	}
	for _, it := range items {
		if it.Kind != inboxTerminate {
			continue
		}
		for _, other := range items {
			if other.ID != it.ID && other.ID > in.lastInbox {
				in.m.Step().Consume = append(in.m.Step().Consume, other.ID)
			}
		}
		in.inboxAhead = []store.InboxItem{it}
		return true
	}
	return false
}
