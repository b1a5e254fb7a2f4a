package shaped

import (
	"fmt"

	"github.com/durablego/toolkit/runtime/durable"
)

// Worker is an engine's work on one queue in the shape of Temporal's
// worker.Worker, for code that keeps a worker behind its own interface
// (say interface{ RegisterActivity(interface{}); Start() error; Stop() },
// so that tests can pass a fake). Code that holds the worker as such
// converts to the engine itself (c.Serve(queue)) instead.
//
// Registrations go to the engine, which knows every workflow and activity
// whatever the queue; Start makes the engine serve the queue and Stop makes
// it stop claiming the queue's work.
type Worker struct {
	engine *durable.Engine
	client durable.Client
	queue  string
}

// NewWorker returns a worker for queue on the engine c. When c is not an
// *durable.Engine (a test's fake client), registrations are dropped and
// Start returns an error.
func NewWorker(c durable.Client, queue string) *Worker {
	e, _ := c.(*durable.Engine)
	return &Worker{engine: e, client: c, queue: queue}
}

// RegisterWorkflow registers a workflow function with the engine.
func (w *Worker) RegisterWorkflow(workflow any) {
	if w.engine != nil {
		w.engine.RegisterWorkflow(workflow)
	}
}

// RegisterWorkflowWithOptions registers a workflow function under options
// (durable.WithName).
func (w *Worker) RegisterWorkflowWithOptions(workflow any, opts ...durable.RegisterOption) {
	if w.engine != nil {
		w.engine.RegisterWorkflow(workflow, opts...)
	}
}

// RegisterActivity registers an activity function, or the methods of a
// struct pointer, with the engine.
func (w *Worker) RegisterActivity(activity any) {
	if w.engine != nil {
		w.engine.RegisterActivity(activity)
	}
}

// RegisterActivityWithOptions registers an activity under options
// (durable.WithName).
func (w *Worker) RegisterActivityWithOptions(activity any, opts ...durable.RegisterOption) {
	if w.engine != nil {
		w.engine.RegisterActivity(activity, opts...)
	}
}

// Start makes the engine serve the worker's queue.
func (w *Worker) Start() error {
	if w.engine == nil {
		return fmt.Errorf("shaped: worker for queue %q: %T is not a *durable.Engine", w.queue, w.client)
	}
	w.engine.Serve(w.queue)
	return nil
}

// Run starts the worker, waits for interruptCh to deliver or close, and
// stops the worker.
func (w *Worker) Run(interruptCh <-chan any) error {
	if err := w.Start(); err != nil {
		return err
	}
	<-interruptCh
	w.Stop()
	return nil
}

// Stop makes the engine stop claiming the queue's work; the engine itself
// (and the client it is) stays open.
func (w *Worker) Stop() {
	if w.engine != nil {
		w.engine.StopServing(w.queue)
	}
}
