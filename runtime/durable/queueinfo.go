package durable

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// QueueInfo is what DescribeQueue reports about a queue at one instant:
// the work that waits for a worker and the workers that hold the queue's
// work. It is the counterpart of Temporal's DescribeTaskQueue: what a
// health or stats endpoint reads.
type QueueInfo struct {
	Queue string
	// Workflows are the queue's runs that wait for a worker: new, woken
	// by a timer or a retry, or with a signal, update or cancellation in
	// their inbox, and held by no live worker.
	Workflows QueueBacklog
	// Activities are the queue's activity attempts stored as task rows
	// (PostgreSQL with several workers, or WithActivityTaskRows) that are
	// due and held by no live worker. An engine that runs an attempt in
	// its own process without a row never makes it wait here.
	Activities QueueBacklog
	// Workers are the workers that hold a lease on a run or an activity
	// attempt of the queue, and this engine when it serves the queue, in
	// ID order. A worker that serves the queue and holds nothing of it
	// appears only when it is this engine: the store knows workers by
	// their leases.
	Workers []QueueWorker
}

// QueueBacklog is work that waits for a worker.
type QueueBacklog struct {
	// Count is how many items wait.
	Count int64
	// Oldest is when the item that has waited longest came due; zero
	// when Count is zero.
	Oldest time.Time
}

// Age is how long the oldest item has waited at now; zero when nothing
// waits.
func (b QueueBacklog) Age(now time.Time) time.Duration {
	if b.Count == 0 || b.Oldest.IsZero() || now.Before(b.Oldest) {
		return 0
	}
	return now.Sub(b.Oldest)
}

// QueueWorker is a worker of a queue.
type QueueWorker struct {
	// ID is the worker's ID (WithWorkerID; Engine.WorkerID).
	ID string
	// Workflows and Activities count the queue's runs and attempts the
	// worker holds.
	Workflows, Activities int64
	// LeaseUntil is when the last of its leases on the queue ends; the
	// worker renews its leases while it lives. Zero for this engine when
	// it holds nothing of the queue.
	LeaseUntil time.Time
	// Self is set for this engine.
	Self bool
}

// ErrQueueInfoUnsupported is returned by DescribeQueue on a store that
// does not implement store.QueueDescriber (both bundled backends do).
var ErrQueueInfoUnsupported = errors.New("durable: the store does not describe queues (store.QueueDescriber)")

// DescribeQueue reports the queue's backlog and workers, read from the
// store in one statement.
func (e *Engine) DescribeQueue(ctx context.Context, queue string) (*QueueInfo, error) {
	d, ok := e.store.(store.QueueDescriber)
	if !ok {
		return nil, fmt.Errorf("durable: DescribeQueue %q: %w", queue, ErrQueueInfoUnsupported)
	}
	got, err := d.DescribeQueue(ctx, &store.DescribeQueueParams{Queue: queue})
	if err != nil {
		return nil, fmt.Errorf("durable: DescribeQueue %q: %w", queue, err)
	}
	info := &QueueInfo{
		Queue:      queue,
		Workflows:  QueueBacklog{Count: got.Runs.Count, Oldest: got.Runs.Oldest},
		Activities: QueueBacklog{Count: got.Tasks.Count, Oldest: got.Tasks.Oldest},
	}
	self := false
	for _, o := range got.Owners {
		w := QueueWorker{ID: o.Owner, Workflows: o.Runs, Activities: o.Tasks, LeaseUntil: o.LeaseUntil, Self: o.Owner == e.workerID}
		self = self || w.Self
		info.Workers = append(info.Workers, w)
	}
	if !self && e.serves(queue) {
		info.Workers = append(info.Workers, QueueWorker{ID: e.workerID, Self: true})
		slices.SortFunc(info.Workers, func(a, b QueueWorker) int { return strings.Compare(a.ID, b.ID) })
	}
	return info, nil
}

// describeQueue is DescribeQueue of a store a wrapper holds.
func describeQueue(ctx context.Context, s store.Store, p *store.DescribeQueueParams) (*store.QueueDescription, error) {
	d, ok := s.(store.QueueDescriber)
	if !ok {
		return nil, ErrQueueInfoUnsupported
	}
	return d.DescribeQueue(ctx, p)
}
