package durable

import "github.com/durablego/toolkit/runtime/store"

// step is what a run's code produced since the last commit: the inbound
// events it took in and the commands it issued in reaction, with the store
// changes they make. The engine commits a step as one store.CommitParams
// and only then acts on it (instance.flush): dispatches the attempts,
// arms the timers, nudges the runs that received deliveries, answers
// waiters. A step that is never committed (a crash, a lost lease) leaves no
// trace, which is what makes "committed before anything acts on it" hold.
type step struct {
	events      []store.Event            // journal events to append
	newTasks    []*store.Task            // activity attempts to create
	deleteTasks []string                 // tasks the run no longer wants
	consume     []int64                  // inbox items taken in
	createRuns  []*store.CreateRunParams // children, continued, retried and cron runs
	deliveries  []*store.DeliverParams   // signals, cancellations and results to other runs
}

// dirty reports whether the step has anything to commit.
func (s *step) dirty() bool {
	return len(s.events) > 0 || len(s.newTasks) > 0 || len(s.deleteTasks) > 0 || len(s.consume) > 0 ||
		len(s.createRuns) > 0 || len(s.deliveries) > 0
}

// reset empties the step after its commit (or when it is dropped).
func (s *step) reset() { *s = step{} }

// commitParams is the commit of the step for run runID, owned by owner,
// whose journal has expectLen events, with update as the run's new state.
func (s *step) commitParams(runID, owner string, expectLen int64, update *store.RunUpdate) *store.CommitParams {
	return &store.CommitParams{
		RunID:        runID,
		Owner:        owner,
		ExpectLen:    expectLen,
		Events:       s.events,
		ConsumeInbox: s.consume,
		CreateTasks:  s.newTasks,
		DeleteTasks:  s.deleteTasks,
		Update:       update,
		CreateRuns:   s.createRuns,
		Deliver:      s.deliveries,
	}
}
