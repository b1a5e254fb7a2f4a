package durable

// attemptMode says where an activity attempt lives. It decides how the
// attempt's outcome reaches its run and what happens when the process
// running it dies.
type attemptMode uint8

const (
	// attemptRow: the attempt has a task row. Any worker of its queue may
	// claim it; its lease is the row's, its outcome completes the row and
	// lands in the run's inbox, and its heartbeat details are kept in the
	// row.
	attemptRow attemptMode = iota
	// attemptInline: this engine runs the attempt for a run it works,
	// without a row (instance.dispatchActivity). The run's lease covers
	// it; a worker that takes the run over dispatches it again. A retry,
	// or heartbeat details to keep, moves it to a row (onActivityRetry,
	// onActivityPromote).
	attemptInline
	// attemptLocal: a local activity, run with its own retries in the
	// process that works its run (local.go); it never has a row.
	attemptLocal
	// attemptPending: the attempt returned ErrResultPending and waits for
	// its outcome from CompleteActivity (async.go). Its run keeps it in a
	// row of kind taskActivityPending that no worker claims; the run's
	// owner times it out.
	attemptPending
)

// hasRow reports whether an attempt in mode m has a task row.
func (m attemptMode) hasRow() bool { return m == attemptRow || m == attemptPending }
