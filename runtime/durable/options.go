package durable

import (
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Option configures Open.
type Option interface{ applyOption(*config) }

type optionFunc func(*config)

func (f optionFunc) applyOption(c *config) { f(c) }

// Defaults for Open's options.
const (
	QueueDefault                   = "default"
	LeaseTimeoutDefault            = 30 * time.Second
	PollIntervalDefault            = 500 * time.Millisecond
	MaxCachedRunsDefault           = 10_000
	EvictAfterDefault              = 10 * time.Second
	MaxConcurrentActivitiesMin     = 1
	MaxConcurrentActivitiesDefault = 1_000
	// MaxConcurrentSessionsDefault bounds the sessions a session worker
	// holds at once (WithSessionWorker), as Temporal's
	// MaxConcurrentSessionExecutionSize does by default.
	MaxConcurrentSessionsDefault = 1_000
)

type config struct {
	propagators   []ContextPropagator // WithContextPropagators
	interceptors  []WorkerInterceptor // WithInterceptors
	fsync         bool                // deprecated WithFsync, for the store Open opens
	ownStore      bool                // Close closes the store (Open, WithStoreOwnership)
	logger        *slog.Logger
	workerID      string
	queues        []string
	allQueues     bool
	clientOnly    bool
	lease         time.Duration
	poll          time.Duration
	maxCached     int
	evictAfter    time.Duration
	maxActivities int
	clock         Clock
	taskRows      bool
	unknownSignal UnknownSignalTarget
	// upsertObserver is told of upserts (WithUpsertObserver).
	upsertObserver UpsertObserver
	// versionChooser picks live versions (WithVersionChooser).
	versionChooser VersionChooser
	// unavailableRetry bounds client calls' retries (unavailable.go).
	unavailableRetry time.Duration
	// codec encodes stored values (WithPayloadCodec); nil: stored as they are.
	codec PayloadCodec
	// meter and tracer report metrics and spans; nil: none (telemetry.go).
	meter  metric.Meter
	tracer trace.Tracer
	// retryDefaults fills in activity calls' retry policies
	// (WithActivityRetryDefaults).
	retryDefaults func(*RetryPolicy) *RetryPolicy
	// testHooks serve test environments (WithActivityTestHooks); nil: none.
	testHooks *ActivityTestHooks
	// noPendingTimeouts: WithPendingActivityTimeouts(false) (async.go).
	noPendingTimeouts bool
	// noAsyncRetries: WithAsyncFailureRetries(false) (async.go).
	noAsyncRetries bool
	// sessionMax bounds the sessions this engine holds; 0:
	// MaxConcurrentSessionsDefault, -1: not a session worker (session.go).
	sessionMax int
}

func defaultConfig() config {
	return config{
		logger:        slog.Default(),
		queues:        []string{QueueDefault},
		lease:         LeaseTimeoutDefault,
		poll:          PollIntervalDefault,
		maxCached:     MaxCachedRunsDefault,
		evictAfter:    EvictAfterDefault,
		maxActivities: MaxConcurrentActivitiesDefault,
		clock:         realClock{},

		unavailableRetry: UnavailableRetryDefault,
	}
}

// WithActivityTaskRows makes every activity attempt a task row in the
// store, also the attempts this engine runs for its own runs, which by
// default run without one (the run's lease covers them, and a worker that
// takes the run over dispatches them again). Rows let every attempt be
// seen in the tasks table, and let engines of earlier versions, which
// expect a row for every attempt, work the same store during an upgrade.
// Each costs two writes (insert and delete) per activity.
//
// It is an engine option, not a backend's: it decides which of this
// engine's attempts it hands to the store, which keeps every task row
// alike on every backend, and its reason (the versions of the engines that
// share a store) is the workers', like WithQueues (docs/runtime.md,
// Activities).
func WithActivityTaskRows(on bool) Option { return optionFunc(func(c *config) { c.taskRows = on }) }

// WithActivityRetryDefaults fills in the retry policy of each activity
// call (not local ones) before it is scheduled: f gets the call's policy
// (nil when it has none) and returns the one to use. runtime/durabletest
// gives activities Temporal's test-environment limits this way.
func WithActivityRetryDefaults(f func(*RetryPolicy) *RetryPolicy) Option {
	return optionFunc(func(c *config) { c.retryDefaults = f })
}

// WithFsync makes every commit of the SQLite store Open opens survive
// power loss (SQLite synchronous=FULL), not only a crash of the process.
// New refuses it rather than ignore it: the store given to New was opened
// with its backend's options already.
//
// Deprecated: fsync is the SQLite backend's setting. Open the store with
// sqlite.Open(ctx, path, sqlite.WithFsync(true)) and pass it to New with
// WithStoreOwnership. Open keeps honouring this option for "sqlite:" DSNs.
func WithFsync(on bool) Option { return optionFunc(func(c *config) { c.fsync = on }) }

// WithStoreOwnership hands the store given to New to the engine: Close
// closes it after the engine stopped, and New closes it when it fails. A
// program that opens its store only to run one engine on it (as Open
// does for a DSN) then needs no Close of its own, in the right order,
// and no clean-up when New fails:
//
//	st, err := sqlite.Open(ctx, "app.db")
//	if err != nil { ... }
//	e, err := durable.New(ctx, st, durable.WithStoreOwnership())
//	if err != nil { ... }
//	defer e.Close() // closes st too
//
// Without it the caller keeps the store, which outlives the engine (a
// store shared with tools, or several engines in turn). Open's engines
// always own theirs.
func WithStoreOwnership() Option { return optionFunc(func(c *config) { c.ownStore = true }) }

// WithLogger sets the logger of the engine and of workflow and activity
// code (durable.Logger). Defaults to slog.Default().
func WithLogger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.logger = l }) }

// WithWorkerID names this engine in leases and logs. Defaults to a random ID.
func WithWorkerID(id string) Option { return optionFunc(func(c *config) { c.workerID = id }) }

// WithQueues sets the queues whose runs and activities this engine works.
// Defaults to QueueDefault.
func WithQueues(names ...string) Option {
	return optionFunc(func(c *config) { c.queues = append([]string(nil), names...) })
}

// WithAllQueues makes the engine work runs and activities of every queue,
// as Temporal's test environment does. runtime/durabletest uses it.
func WithAllQueues() Option { return optionFunc(func(c *config) { c.allQueues = true }) }

// WithClientOnly makes an engine that starts, signals, queries, updates and
// cancels runs but works none: other processes on the same store do. On
// SQLite it is how a starter, an API server or a CLI opens the file beside
// the one process that works it (docs/store-sqlite.md); it must register
// the workflows it queries or updates, whose state it rebuilds by replay.
func WithClientOnly() Option { return optionFunc(func(c *config) { c.clientOnly = true }) }

// WithLeaseTimeout sets how long a worker holds a run or activity attempt
// without renewing it; when it dies, others take over after this long.
// Defaults to LeaseTimeoutDefault.
func WithLeaseTimeout(d time.Duration) Option { return optionFunc(func(c *config) { c.lease = d }) }

// WithPollInterval sets how often the engine looks for due work that no
// notification announced. Defaults to PollIntervalDefault.
func WithPollInterval(d time.Duration) Option { return optionFunc(func(c *config) { c.poll = d }) }

// WithMaxCachedRuns bounds the runs kept parked in memory; beyond it, idle
// runs are evicted and replayed from their journal when they wake.
// Defaults to MaxCachedRunsDefault.
func WithMaxCachedRuns(n int) Option { return optionFunc(func(c *config) { c.maxCached = n }) }

// WithEvictAfter evicts a parked run whose next timer is further away than
// d, so that sleeping runs cost disk, not memory. 0 keeps them (up to the
// cache bound). Defaults to EvictAfterDefault.
func WithEvictAfter(d time.Duration) Option { return optionFunc(func(c *config) { c.evictAfter = d }) }

// WithMaxConcurrentActivities bounds the activity attempts this engine runs
// at once. Defaults to MaxConcurrentActivitiesDefault.
func WithMaxConcurrentActivities(n int) Option {
	return optionFunc(func(c *config) { c.maxActivities = max(n, MaxConcurrentActivitiesMin) })
}

// WithClock replaces the engine's clock. It exists for runtime/durabletest.
func WithClock(clk Clock) Option { return optionFunc(func(c *config) { c.clock = clk }) }

// WithSessionWorker bounds the sessions (CreateSession) this engine holds
// at once to max, as Temporal's worker.Options
// MaxConcurrentSessionExecutionSize does; max <= 0 means
// MaxConcurrentSessionsDefault. Every engine that works queues is a
// session worker unless WithoutSessionWorker says otherwise: it serves the
// session creation queue of each queue it serves, and a queue of its own
// for the activities of the sessions it holds.
func WithSessionWorker(n int) Option {
	return optionFunc(func(c *config) { c.sessionMax = max(n, 0) })
}

// WithoutSessionWorker makes this engine take no sessions, as a Temporal
// worker without EnableSessionWorker: sessions go to other workers of the
// queue. Use it on workers that lack what sessions need (the disk, the
// device).
func WithoutSessionWorker() Option { return optionFunc(func(c *config) { c.sessionMax = -1 }) }
