package compat

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"

	"github.com/durablego/toolkit/runtime/durable"
)

// Bounds of a long poll's wait between two reads of the store: it reads
// again soon after the history grew and backs off while it does not.
const (
	historyPollMin = 10 * time.Millisecond
	historyPollMax = time.Second
)

// HistoryEventIterator is Temporal's iterator of history events, which
// GetWorkflowHistory returns: HasNext, then Next.
type HistoryEventIterator = client.HistoryEventIterator

// GetWorkflowHistory reads the history of run runID of workflow ID
// workflowID ("": the newest run) on the durable side, in the shape of
// Temporal's client.GetWorkflowHistory: an iterator of Temporal history
// events (see HistoryFromDurable for how the journal becomes them).
// Converted code calls it where it called the Temporal client's method.
//
// filterType HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT gives the close event
// alone (none while the run is open); any other value gives every event.
// isLongPoll makes HasNext wait, as Temporal's iterator does, until the
// run has more events or closes: with every event, the iterator streams
// the history as it grows and ends after the close event; with the close
// event, it waits for the close. Without it, the iterator gives what the
// history holds now, including what reached an open run and its code has
// not taken yet (signals, as Temporal records them on arrival). The wait
// ends with ctx: Next then returns ctx's error.
//
// Errors (an unknown workflow ID, a store failure) come from Next, as
// Temporal's do: HasNext is true while one is waiting to be returned.
// c must be a *durable.Engine, or another client with its History method.
func GetWorkflowHistory(ctx context.Context, c durable.Client, workflowID, runID string, isLongPoll bool, filterType enumspb.HistoryEventFilterType) HistoryEventIterator {
	it := &historyIterator{
		ctx: ctx, workflowID: workflowID, runID: runID, longPoll: isLongPoll,
		closeOnly: filterType == enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT, codec: engineCodec(c),
	}
	r, ok := c.(historyReader)
	if !ok {
		it.err = fmt.Errorf("compat: GetWorkflowHistory %s: %T cannot read histories (a *durable.Engine can)", workflowID, c)
		return it
	}
	it.r = r
	return it
}

// historyIterator is GetWorkflowHistory's iterator.
type historyIterator struct {
	ctx        context.Context
	r          historyReader
	codec      durable.PayloadCodec
	workflowID string
	runID      string // "" until the first read fixes the newest run
	longPoll   bool
	closeOnly  bool

	buf  []*historypb.HistoryEvent // read, not yet returned
	sent int                       // events returned or buffered so far
	done bool                      // nothing more will come
	err  error                     // returned by the next Next
}

// HasNext reports whether Next has an event (or an error) to return. With
// a long poll it waits for the run's next event.
func (it *historyIterator) HasNext() bool {
	if it.err != nil || len(it.buf) > 0 {
		return true
	}
	if it.done {
		return false
	}
	it.fill()
	return it.err != nil || len(it.buf) > 0
}

// Next returns the next event.
func (it *historyIterator) Next() (*historypb.HistoryEvent, error) {
	if !it.HasNext() {
		return nil, fmt.Errorf("compat: GetWorkflowHistory %s: no more events", it.workflowID)
	}
	if it.err != nil {
		err := it.err
		it.err, it.done = nil, true
		return nil, err
	}
	ev := it.buf[0]
	it.buf = it.buf[1:]
	return ev, nil
}

// fill reads the history until it has events to return, the run is
// closed, or (without a long poll) once.
func (it *historyIterator) fill() {
	wait := historyPollMin
	for {
		h, err := it.r.History(it.ctx, it.workflowID, it.runID)
		if err != nil {
			it.err = err
			return
		}
		it.runID = h.Run.RunID // later reads stay on this run
		// A long poll streams the journal, which only grows; a single
		// read also shows the inbox.
		th, err := HistoryFromDurable(h, HistoryOptions{Codec: it.codec, Inbox: !it.longPoll})
		if err != nil {
			it.err = err
			return
		}
		events := th.GetEvents()
		closed := len(events) > 0 && isCloseEvent(events[len(events)-1].GetEventType())
		switch {
		case it.closeOnly && closed:
			it.buf = events[len(events)-1:]
		case !it.closeOnly && len(events) > it.sent:
			it.buf = events[it.sent:]
			it.sent = len(events)
		}
		if closed || !it.longPoll {
			it.done = true
		}
		if len(it.buf) > 0 || it.done {
			return
		}
		t := time.NewTimer(wait)
		select {
		case <-it.ctx.Done():
			t.Stop()
			it.err = fmt.Errorf("compat: GetWorkflowHistory %s: %w", it.workflowID, it.ctx.Err())
			return
		case <-t.C:
		}
		wait = min(2*wait, historyPollMax)
	}
}

// isCloseEvent reports whether t closes a run.
func isCloseEvent(t enumspb.EventType) bool {
	switch t {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		return true
	}
	return false
}

// GetWorkflowHistory reads an execution's history where it runs: on the
// durable side, see the function GetWorkflowHistory.
func (c *Client) GetWorkflowHistory(ctx context.Context, workflowID string, runID string, isLongPoll bool, filterType enumspb.HistoryEventFilterType) client.HistoryEventIterator {
	if c.sideOf(ctx, workflowID) == Durable {
		return GetWorkflowHistory(ctx, c.engine, workflowID, runID, isLongPoll, filterType)
	}
	return c.Client.GetWorkflowHistory(ctx, workflowID, runID, isLongPoll, filterType)
}
