package durable

import (
	"context"
	"encoding/json"
	"maps"
	"time"
)

// ContinueAsNewSuggestedLen is the journal length from which GetInfo
// suggests continuing as new, as Temporal does for long histories.
const ContinueAsNewSuggestedLen = 10_000

// Namespace is the namespace code converted from Temporal reads from an
// info (WorkflowInfo.Namespace, ActivityInfo.Namespace). A durable store
// has no namespaces: each store is one, and this is its name.
const Namespace = "default"

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
	// Execution is WorkflowID and RunID together; ParentExecution is
	// ParentWorkflowID and ParentRunID, nil for a run without a parent
	// (Temporal's WorkflowExecution and ParentWorkflowExecution).
	Execution       Execution
	ParentExecution *Execution
	// ExecutionTimeout bounds the continue-as-new chain, RunTimeout this
	// run, as set at start. Zero: none.
	ExecutionTimeout, RunTimeout time.Duration
	// Memo and SearchAttributes are the run's current memo and search
	// attributes, each value JSON-encoded (decode it with json.Unmarshal).
	// They change with UpsertMemo and UpsertSearchAttributes.
	Memo             map[string]json.RawMessage
	SearchAttributes map[string]json.RawMessage
}

// Execution identifies a run: its workflow ID and run ID.
type Execution struct {
	ID    string
	RunID string
}

// GetInfo returns what is known about the run ctx belongs to.
func GetInfo(ctx context.Context) *Info {
	in := instanceOf(ctx, "GetInfo")
	if in.icptOut != nil {
		return in.icptOut.GetInfo(ctx)
	}
	return in.getInfo()
}

// getInfo is GetInfo without interceptors.
func (in *instance) getInfo() *Info {
	info := in.info
	info.JournalLen = in.m.Len()
	info.ContinueAsNewSuggested = info.JournalLen >= ContinueAsNewSuggestedLen
	info.ChainPosition = in.started.Chain
	info.Execution = Execution{ID: info.WorkflowID, RunID: info.RunID}
	if info.ParentWorkflowID != "" {
		info.ParentExecution = &Execution{ID: info.ParentWorkflowID, RunID: info.ParentRunID}
	}
	info.ExecutionTimeout, info.RunTimeout = in.executionTimeout(), in.started.RunTimeout
	a := in.attributes()
	info.Memo, info.SearchAttributes = maps.Clone(a.memo), maps.Clone(a.search)
	return &info
}

// Namespace returns the run's namespace: Namespace, the one every durable
// store has (Temporal's WorkflowInfo.Namespace).
func (Info) Namespace() string { return Namespace }
