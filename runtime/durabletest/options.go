package durabletest

import (
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// Option configures NewEnv and NewActivityEnv.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// Defaults of an Env.
const (
	// TestTimeoutDefault bounds, in real time, how long ExecuteWorkflow and
	// ExecuteActivity may take (Temporal's default is 3s; ours leaves room
	// for a loaded CI machine).
	TestTimeoutDefault = 10 * time.Second
	// WorkflowIDDefault is the workflow ID ExecuteWorkflow uses unless
	// SetStartWorkflowOptions says otherwise, as in Temporal.
	WorkflowIDDefault = "default-test-workflow-id"
)

type config struct {
	engineOpts  []durable.Option
	verify      bool
	testTimeout time.Duration
	startTime   time.Time
}

func newConfig(opts []Option) config {
	c := config{verify: true, testTimeout: TestTimeoutDefault, startTime: time.Now()}
	for _, o := range opts {
		o.apply(&c)
	}
	return c
}

// WithEngineOptions passes options to the engine under test, after the ones
// the Env needs (its clock, no eviction, no periodic polling). Use it for
// durable.WithQueues when workflows or activities run on other queues.
func WithEngineOptions(opts ...durable.Option) Option {
	return optionFunc(func(c *config) { c.engineOpts = append(c.engineOpts, opts...) })
}

// WithReplayCheck turns the replay check off (or on again): by default,
// once a workflow has closed, ExecuteWorkflow replays each run's journal
// with the registered code (durable.Engine.Verify) and fails the test on a
// divergence, which catches non-deterministic workflow code that Temporal's
// test environment would let pass.
func WithReplayCheck(on bool) Option { return optionFunc(func(c *config) { c.verify = on }) }

// WithTestTimeout sets the real-time bound of ExecuteWorkflow and
// ExecuteActivity (SetTestTimeout does the same later).
func WithTestTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.testTimeout = d })
}

// WithStartTime sets the test clock's time before anything runs
// (SetStartTime does the same later). Defaults to the wall clock's.
func WithStartTime(t time.Time) Option { return optionFunc(func(c *config) { c.startTime = t }) }
