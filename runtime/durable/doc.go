// Package durable runs plain Go functions durably: workflows whose every
// wait (an activity call, a sleep, a signal, a child) is a yield point
// journaled in a store, so that a run survives crashes, restarts and
// fail-over by replaying its journal, and activities that run at least
// once with retries and timeouts.
//
// # Host side
//
// An [Engine] runs workflows on a store. [Open] opens one from a DSN and
// links every backend:
//
//	e, err := durable.Open(ctx, "sqlite:orders.db") // or "memory:", "postgres://..."
//	if err != nil { ... }
//	defer e.Close()
//	e.RegisterWorkflow(ProcessOrder)
//	e.RegisterActivity(&Activities{})
//	run, err := e.Start(ctx, durable.StartOptions{ID: "order-1"}, ProcessOrder, order)
//	err = run.Get(ctx, &receipt)
//
// [New] takes a store the program opened itself, with the backend's own
// options (runtime/store/sqlite, runtime/store/postgres);
// [WithStoreOwnership] has the engine close it:
//
//	st, err := sqlite.Open(ctx, "orders.db", sqlite.WithFsync(true))
//	if err != nil { ... }
//	e, err := durable.New(ctx, st, durable.WithStoreOwnership())
//	if err != nil { ... }
//	defer e.Close() // closes st too
//
// # Backends
//
// Open takes the backend from its DSN, so this package imports both
// backends, and every program that imports it links PostgreSQL's driver
// and SQLite. A program on one backend opens its store with that backend
// and calls New, and is built with the tag that leaves the other out:
//
//	go build -tags durable_nopostgres   # SQLite only
//	go build -tags durable_nosqlite     # PostgreSQL only
//
// Open then refuses the DSNs of the backend left out. A tag is needed
// because Go links every package a program imports, used or not; the
// default build keeps Open working for every DSN.
//
// After Open (or New) and the Register calls, unfinished runs resume on
// their own. Signal, Cancel, Terminate, Query and Update reach a run by its
// workflow ID from any engine on the same store, including WithClientOnly
// ones.
//
// # Workflow side
//
// A workflow is a func(ctx context.Context, args...) (R, error) or
// func(ctx context.Context, args...) error. It waits only through this
// package's yield points ([Call], [Async], [Sleep], [Receive], [Child],
// [Go], channels, selectors, futures, [Await], ...) and does no I/O
// itself: that is what activities are for. This is Temporal's determinism
// contract, and Temporal code converted by `migrate convert` keeps it.
//
// # Determinism and replay
//
// Each inbound event (the start, an activity's result, a timer, a signal)
// is committed together with the commands the code issued in reaction to
// it, before any of them takes effect. Replay runs the function again from
// the top and matches each command against the journal. When the code no
// longer does what the journal says, the run stops as stuck with a
// [*NonDeterminismError] whose Kind, Expected and Found describe both
// sides as data; nothing is lost, and [Engine.Resume] replays it again
// once fixed code is registered. [Engine.Verify] replays any run's journal
// with the current code without writing anything.
//
// docs/runtime.md in the repository explains the model: the journal, the
// commit point, replay, coroutines, leases and fail-over.
package durable
