package machine

import (
	"time"

	"github.com/durablego/toolkit/runtime/store"
)

// Step is what a run's code produced since the last commit: the inbound
// events it took in and the commands it issued in reaction, as the store
// changes that journal them and the commands the engine carries out once
// they are committed (schedule attempts, arm timers, start runs, deliver
// to other runs). A step that is never committed (a crash, a lost lease)
// leaves no trace, which is what makes "committed before anything acts on
// it" hold.
type Step struct {
	Events      []store.Event            // journal events to append
	Tasks       []*store.Task            // activity attempts to schedule
	DeleteTasks []string                 // attempts the run no longer wants
	Consume     []int64                  // inbox items taken in
	Runs        []*store.CreateRunParams // children, continued, retried and cron runs to start
	Deliveries  []*store.DeliverParams   // signals, cancellations and results to other runs
	Timers      []TimerArm               // alarms to set; not stored (the run's WakeAt is)
	// Close is the run's final state when the step closes it.
	Close *store.RunUpdate
}

// TimerArm asks for an alarm for timer ID at At.
type TimerArm struct {
	ID int64
	At time.Time
}

// Dirty reports whether the step has anything to commit.
func (s *Step) Dirty() bool {
	return len(s.Events) > 0 || len(s.Tasks) > 0 || len(s.DeleteTasks) > 0 || len(s.Consume) > 0 ||
		len(s.Runs) > 0 || len(s.Deliveries) > 0 || s.Close != nil
}

// CommitParams is the commit of the step for run runID, owned by owner,
// whose journal has expectLen events, with update as the run's new state
// (the step's Close, when it has one).
func (s *Step) CommitParams(runID, owner string, expectLen int64, update *store.RunUpdate) *store.CommitParams {
	return &store.CommitParams{
		RunID:        runID,
		Owner:        owner,
		ExpectLen:    expectLen,
		Events:       s.Events,
		ConsumeInbox: s.Consume,
		CreateTasks:  s.Tasks,
		DeleteTasks:  s.DeleteTasks,
		Update:       update,
		CreateRuns:   s.Runs,
		Deliver:      s.Deliveries,
	}
}
