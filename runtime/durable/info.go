package durable

import (
	"context"
	"time"
)

// ContinueAsNewSuggestedLen is the journal length from which GetInfo
// suggests continuing as new, as Temporal does for long histories.
const ContinueAsNewSuggestedLen = 10_000

// Info describes the run a workflow context belongs to.
type Info struct {
	WorkflowID string
	RunID      string
	Workflow   string // registered name
	Queue      string
	Attempt    int
	StartTime  time.Time
	// ContinueAsNewSuggested is true once the journal is long enough that
	// replaying it gets costly.
	ContinueAsNewSuggested bool
	// JournalLen is the number of events journaled so far.
	JournalLen       int64
	ParentWorkflowID string
	ParentRunID      string
	// ContinuedRunID is the run this one continues, if any; ChainPosition
	// counts the runs before this one in its continue-as-new chain.
	ContinuedRunID string
	ChainPosition  int
}

// GetInfo returns what is known about the run ctx belongs to.
func GetInfo(ctx context.Context) *Info {
	in := instanceOf(ctx, "GetInfo")
	info := in.info
	info.JournalLen = in.journalLen + int64(len(in.pending))
	if in.replaying() {
		info.JournalLen = int64(in.journal[in.pos].Seq - 1)
	}
	info.ContinueAsNewSuggested = info.JournalLen >= ContinueAsNewSuggestedLen
	info.ChainPosition = in.started.Chain
	return &info
}
