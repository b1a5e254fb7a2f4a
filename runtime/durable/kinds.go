package durable

import "github.com/durablego/toolkit/runtime/store"

// The kinds of rows the engine stores besides journal events. The names
// are stored (store.Task.Kind, store.InboxItem.Kind); never rename one.

// Task kinds.
const (
	// taskActivity is an activity attempt; its payload is an activityTask
	// (wire.go).
	taskActivity = store.TaskKindActivity
	// taskActivityPending keeps an attempt that returned ErrResultPending
	// (async.go); its payload is a pendingAttempt. No worker claims it.
	taskActivityPending = "activity-pending"
)

// Inbox item kinds: what other runs and clients deliver to a run.
const (
	inboxSignal    = "signal"    // payload: the signal's argument
	inboxCancel    = "cancel"    // no payload
	inboxTerminate = "terminate" // payload: the reason (a JSON string)
	inboxActivity  = "activity"  // payload: journal.ResultData of a remote attempt
	inboxChild     = "child"     // payload: journal.ResultData of a child run
	inboxUpdate    = "update"    // payload: journal.UpdateData
	// inboxActivityPending: an attempt of another worker returned
	// ErrResultPending (payload: pendingNotice); inboxActivityHeartbeat: a
	// heartbeat by task token (payload: heartbeatNotice).
	inboxActivityPending   = "activity-pending"
	inboxActivityHeartbeat = "activity-heartbeat"
	// inboxActivityCompletion: an outcome reported by CompleteActivity
	// (payload: journal.ResultData).
	inboxActivityCompletion = "activity-completion"
)
