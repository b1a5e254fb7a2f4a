package durable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// History is a run's journal as people read it: one HistoryEvent per
// journal event, plus what the run waits for now. Engine.History returns
// it; the durable CLI's history command and the web UI's run page show it.
type History struct {
	Run    *RunInfo       `json:"run"`
	Events []HistoryEvent `json:"events"`
	// PendingActivities are the activities the run has scheduled and
	// waits for, with the attempt under way or next.
	PendingActivities []PendingActivity `json:"pendingActivities,omitempty"`
	// PendingTimers are the timers started and not yet fired or cancelled.
	PendingTimers []HistoryEvent `json:"pendingTimers,omitempty"`
	// Inbox holds what reached the run and its worker has not taken into
	// the journal yet (signals, cancellation, updates, results).
	Inbox []InboxEntry `json:"inbox,omitempty"`
}

// HistoryEvent is one journal event. Kind is the journal's event kind
// (one of the Event constants); Summary says what happened in one line;
// the other fields carry the event's data where it has them.
//
// A history is also what Engine.Replay takes, so that events built from
// data (a history from another system, one another engine's History
// returned) can be replayed through the registered code. The fields each
// kind uses:
//
//   - Started: Workflow, Args (a JSON array), WorkflowID, Attempt, Queue,
//     ParentWorkflowID, ParentRunID, ContinuedRunID, and the start
//     options the run keeps: ExecutionTimeout, Deadline, RunTimeout,
//     RetryPolicy, CronSchedule, Chain, Header, and Memo and
//     SearchAttributes as the run started with them.
//   - ActivityScheduled: ID, Activity, Args (nil: not recorded), ArgTypes
//     (nil: not recorded), Local, Queue.
//   - ActivityCompleted, ChildCompleted: ID, Result, Attempt.
//     ActivityFailed, ChildFailed: ID, Failure (or Error), Attempt.
//   - TimerStarted: ID, Duration, FireAt. Without a Duration, the duration
//     is FireAt less At. TimerFired, TimerCanceled: ID.
//   - SignalReceived: Name, Args (the signal's argument itself).
//     ExternalSignaled: ID, Name, WorkflowID (the target), Args (the
//     argument; nil: not recorded), Failure (could not be sent).
//   - CancelRequested: Reason. Terminated: Reason, Timeout.
//     ExternalCancelRequested: ID, WorkflowID, Failure.
//   - SideEffect: ID, Result (the value). Version: Name (the change ID),
//     Version. AttributesUpserted: Memo, SearchAttributes.
//   - ChildStarted: ID, Workflow, WorkflowID ("": not recorded), RunID,
//     Args, Failure (could not be started). ChildCancelRequested: ID.
//   - UpdateAccepted: UpdateID, Name, Args. UpdateCompleted,
//     UpdateRejected: UpdateID, Result, Failure.
//   - Completed: Result. Failed, Canceled: Failure (or Error), RunID and
//     RetryAt (the run that retries it). ContinuedAsNew: Workflow, Args,
//     RunID (the next run).
//   - ActivityCancelRequested: ID, Wait. FirstStep: nothing.
type HistoryEvent struct {
	Seq     int64     `json:"seq"`
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Summary string    `json:"summary"`
	// ID links a command (an activity, timer or child scheduled) with its
	// outcome.
	ID         int64           `json:"id,omitempty"`
	Activity   string          `json:"activity,omitempty"`
	Workflow   string          `json:"workflow,omitempty"`
	WorkflowID string          `json:"workflowId,omitempty"`
	RunID      string          `json:"runId,omitempty"`
	Name       string          `json:"name,omitempty"` // signal or update name, version change ID
	Attempt    int             `json:"attempt,omitempty"`
	Args       json.RawMessage `json:"args,omitempty"`
	Result     json.RawMessage `json:"result,omitempty"`
	Error      string          `json:"error,omitempty"`
	FireAt     time.Time       `json:"fireAt,omitzero"`

	// Duration is a timer's duration (TimerStarted): FireAt less the
	// run's clock when the code started it, which is the time of the last
	// inbound event before it.
	Duration time.Duration `json:"duration,omitempty"`
	// ArgTypes are an activity's argument types (nil: not recorded).
	ArgTypes []string `json:"argTypes,omitempty"`
	// Local marks a local activity.
	Local bool `json:"local,omitempty"`
	// Queue is an activity's or the run's task queue.
	Queue string `json:"queue,omitempty"`
	// Version is the version a Version marker chose.
	Version int `json:"version,omitempty"`
	// UpdateID identifies an update.
	UpdateID string `json:"updateId,omitempty"`
	// Failure is the error as data; Error renders it.
	Failure *Failure `json:"failure,omitempty"`
	// Reason is a cancellation's or termination's reason.
	Reason string `json:"reason,omitempty"`
	// Timeout marks a termination by the run's execution timeout.
	Timeout bool `json:"timeout,omitempty"`
	// Wait marks an activity cancellation that waits for the attempt to
	// end (CallOptions.WaitForCancellation).
	Wait bool `json:"wait,omitempty"`
	// ParentWorkflowID, ParentRunID and ContinuedRunID are a run's parent
	// and the run it continues (Started).
	ParentWorkflowID string `json:"parentWorkflowId,omitempty"`
	ParentRunID      string `json:"parentRunId,omitempty"`
	ContinuedRunID   string `json:"continuedRunId,omitempty"`
	// Memo and SearchAttributes are what an upsert set
	// (AttributesUpserted), or what the run started with (Started),
	// JSON-encoded; in an upsert, a null removes one.
	Memo             map[string]json.RawMessage `json:"memo,omitempty"`
	SearchAttributes map[string]json.RawMessage `json:"searchAttributes,omitempty"`
	// RetryAt is when the run that retries a failed run starts.
	RetryAt time.Time `json:"retryAt,omitzero"`

	// ExecutionTimeout is the continue-as-new chain's timeout as given at
	// start, and Deadline the time it ends (Started; zero: none).
	// RunTimeout bounds this run alone. A replay enforces them as the
	// run did.
	ExecutionTimeout time.Duration `json:"executionTimeout,omitempty"`
	Deadline         time.Time     `json:"deadline,omitzero"`
	RunTimeout       time.Duration `json:"runTimeout,omitempty"`
	// RetryPolicy is the run's retry policy (Started; nil: none).
	RetryPolicy *RetryPolicy `json:"retryPolicy,omitempty"`
	// CronSchedule is the run's cron schedule (Started; "": none).
	CronSchedule string `json:"cronSchedule,omitempty"`
	// Chain is the run's position in its continue-as-new chain (Started;
	// 0 for the first run).
	Chain int `json:"chain,omitempty"`
	// Header is the context the run was started with (Started; see
	// WithContextPropagators).
	Header Header `json:"header,omitempty"`
}

// PendingActivity is an activity a run waits for.
type PendingActivity struct {
	ID          int64     `json:"id"`
	Activity    string    `json:"activity"`
	ScheduledAt time.Time `json:"scheduledAt"`
	// Attempt is the attempt running or next due (1 is the first); 0
	// when the attempt runs in its worker's memory and the store has no
	// count of it (a first attempt, usually).
	Attempt int `json:"attempt,omitempty"`
	// State is "running" (a worker holds the attempt), "due" (waiting
	// for a worker), "backoff" (waiting to retry at DueAt) or "pending"
	// (the attempt returned ErrResultPending and waits for
	// CompleteActivity; DueAt is its deadline).
	State string    `json:"state"`
	DueAt time.Time `json:"dueAt,omitzero"`
	// Worker holds the attempt when State is running.
	Worker string `json:"worker,omitempty"`
}

// InboxEntry is an item in a run's inbox.
type InboxEntry struct {
	Kind string          `json:"kind"`
	Name string          `json:"name,omitempty"`
	At   time.Time       `json:"at"`
	Data json.RawMessage `json:"data,omitempty"`
}

// History returns the journal of run runID of workflow ID id ("": the
// newest run) as a timeline. It reads the store only: a client-only engine
// without the workflow's code shows any run.
func (e *Engine) History(ctx context.Context, id, runID string) (*History, error) {
	r, err := e.runOf(ctx, id, runID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("durable: History %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("durable: History %s: %w", id, err)
	}
	events, err := e.store.LoadJournal(ctx, r.RunID, 0)
	if err != nil {
		return nil, fmt.Errorf("durable: History %s: read journal: %w", id, err)
	}
	h := &History{Run: e.runInfo(r), Events: make([]HistoryEvent, 0, len(events))}
	if a, err := e.RunAttributes(ctx, r.RunID); err == nil {
		h.Run.Memo, h.Run.SearchAttributes = a.Memo, a.SearchAttributes
	}
	scheduled := map[int64]HistoryEvent{} // activities waiting, by ID
	timers := map[int64]HistoryEvent{}
	var order, timerOrder []int64
	names := &eventNames{commands: map[int64]string{}, updates: map[string]string{}}
	var clock time.Time // the run's deterministic clock: the time of the last inbound event
	for _, ev := range events {
		he := describeEvent(ev, names)
		if journal.Inbound(ev.Kind) {
			clock = ev.At
		} else if ev.Kind == journal.TimerStarted && !he.FireAt.IsZero() && !clock.IsZero() {
			he.Duration = he.FireAt.Sub(clock)
		}
		h.Events = append(h.Events, he)
		switch ev.Kind {
		case journal.ActivityScheduled:
			scheduled[he.ID] = he
			order = append(order, he.ID)
		case journal.ActivityCompleted, journal.ActivityFailed:
			delete(scheduled, he.ID)
		case journal.TimerStarted:
			timers[he.ID] = he
			timerOrder = append(timerOrder, he.ID)
		case journal.TimerFired, journal.TimerCanceled:
			delete(timers, he.ID)
		}
	}
	if !r.Status.Open() {
		return h, nil
	}
	for _, id := range timerOrder {
		if t, ok := timers[id]; ok {
			h.PendingTimers = append(h.PendingTimers, t)
		}
	}
	tasks, err := e.store.ListTasks(ctx, r.RunID)
	if err != nil {
		return nil, fmt.Errorf("durable: History %s: read tasks: %w", id, err)
	}
	byID := map[string]*store.Task{}
	for _, t := range tasks {
		byID[t.ID] = t
		if tid, _, ok := parsePendingRowID(t.ID); ok {
			byID[tid] = t
		}
	}
	now := e.cfg.clock.Now()
	for _, aid := range order {
		s, ok := scheduled[aid]
		if !ok {
			continue
		}
		pa := PendingActivity{ID: aid, Activity: s.Activity, ScheduledAt: s.At, State: "running"}
		if t := byID[taskID(r.RunID, aid)]; t != nil {
			pa.Attempt, pa.DueAt = t.Attempt, t.DueAt
			switch {
			case t.Kind == taskActivityPending:
				pa.State = "pending"
			case t.Owner != "" && t.LeaseUntil.After(now):
				pa.Worker = t.Owner
			case t.DueAt.After(now):
				pa.State = "backoff"
			default:
				pa.State = "due"
			}
		} else {
			pa.Worker = r.Owner // an attempt in the memory of the run's worker
		}
		h.PendingActivities = append(h.PendingActivities, pa)
	}
	inbox, err := e.store.ListInbox(ctx, r.RunID)
	if err != nil {
		return nil, fmt.Errorf("durable: History %s: read inbox: %w", id, err)
	}
	for _, it := range inbox {
		h.Inbox = append(h.Inbox, InboxEntry{Kind: it.Kind, Name: it.Name, At: it.At, Data: json.RawMessage(it.Data)})
	}
	return h, nil
}

// eventNames remember what earlier events named, so that outcomes name it
// too: the activity or child of a command ID, the name of an update ID.
type eventNames struct {
	commands map[int64]string
	updates  map[string]string
}

// describeEvent turns a journal event into a HistoryEvent.
func describeEvent(ev store.Event, n *eventNames) HistoryEvent {
	names := n.commands
	he := HistoryEvent{Seq: ev.Seq, At: ev.At, Kind: ev.Kind}
	v, err := journal.Decode(ev.Kind, ev.Data)
	if err != nil {
		he.Summary = ev.Kind
		if errors.Is(notDecoded(ev.Data, err), ErrPayloadDecode) {
			he.Summary += " (encoded by a payload codec this engine was not given)"
		}
		return he
	}
	failure := func(f *journal.Failure) string {
		if f == nil {
			return ""
		}
		return fromFailure(f).Error()
	}
	switch d := v.(type) {
	case *journal.StartedData:
		he.Workflow, he.Args, he.WorkflowID, he.Queue = d.Workflow, d.Args, d.WorkflowID, d.Queue
		he.ParentWorkflowID, he.ParentRunID, he.ContinuedRunID = d.ParentID, d.ParentRun, d.Continued
		he.Deadline, he.RunTimeout, he.Chain, he.Header = d.Deadline, d.RunTimeout, d.Chain, d.Header
		var o startOptionsRecord
		if len(d.Options) > 0 && json.Unmarshal(d.Options, &o) == nil {
			he.ExecutionTimeout, he.RetryPolicy, he.CronSchedule = o.ExecutionTimeout, o.RetryPolicy.policy(), o.CronSchedule
			he.Memo, he.SearchAttributes = o.Memo, o.SearchAttributes
		}
		he.Summary = fmt.Sprintf("workflow %s started with %s", d.Workflow, compact(d.Args))
		if d.Attempt > 1 {
			he.Attempt = d.Attempt
			he.Summary += fmt.Sprintf(" (attempt %d)", d.Attempt)
		}
	case *journal.ActivityScheduledData:
		he.ID, he.Activity, he.Args, he.ArgTypes, he.Local, he.Queue = d.ID, d.Activity, d.Args, d.ArgTypes, d.Local, d.Queue
		names[d.ID] = d.Activity
		kind := "activity"
		if d.Local {
			kind = "local activity"
		}
		he.Summary = fmt.Sprintf("%s %s #%d scheduled with %s", kind, d.Activity, d.ID, compact(d.Args))
	case *journal.ResultData:
		he.ID, he.Result, he.Attempt, he.Error, he.Failure, he.UpdateID = d.ID, d.Result, d.Attempt, failure(d.Error), failureOf(d.Error), d.Update
		what := "activity"
		switch ev.Kind {
		case journal.ChildCompleted, journal.ChildFailed:
			what = "child"
			he.Workflow = names[d.ID]
		case journal.UpdateCompleted:
			he.Name, he.UpdateID = n.updates[d.Update], d.Update
			he.ID = 0
			if he.Error != "" {
				he.Summary = fmt.Sprintf("update %s (%s) failed: %s", he.Name, d.Update, he.Error)
			} else {
				he.Summary = fmt.Sprintf("update %s (%s) completed: %s", he.Name, d.Update, compact(d.Result))
			}
			return he
		default:
			he.Activity = names[d.ID]
		}
		he.Summary = fmt.Sprintf("%s %s #%d ", what, names[d.ID], d.ID)
		if he.Error != "" {
			he.Summary += "failed: " + he.Error
		} else {
			he.Summary += "completed: " + compact(d.Result)
		}
		if d.Attempt > 0 {
			he.Summary += fmt.Sprintf(" (attempt %d)", d.Attempt)
		}
	case *journal.TimerData:
		he.ID, he.FireAt = d.ID, d.FireAt
		switch ev.Kind {
		case journal.TimerStarted:
			he.Summary = fmt.Sprintf("timer #%d started, fires at %s", d.ID, d.FireAt.UTC().Format("2006-01-02T15:04:05.000Z07:00"))
		case journal.TimerFired:
			he.Summary = fmt.Sprintf("timer #%d fired", d.ID)
		default:
			he.Summary = fmt.Sprintf("timer #%d cancelled", d.ID)
		}
	case *journal.IDData:
		he.ID, he.Wait = d.ID, d.Wait
		switch ev.Kind {
		case journal.ActivityCancelRequested:
			he.Summary = fmt.Sprintf("activity %s #%d cancel requested", names[d.ID], d.ID)
		case journal.ChildCancelRequested:
			he.Summary = fmt.Sprintf("child %s #%d cancel requested", names[d.ID], d.ID)
		default:
			he.ID = 0
			he.Summary = "first step ran"
		}
	case *journal.SignalData:
		he.ID, he.Name, he.Args, he.WorkflowID, he.Error, he.Failure = d.ID, d.Name, d.Arg, d.WorkflowID, failure(d.Error), failureOf(d.Error)
		if ev.Kind == journal.SignalReceived {
			he.Summary = fmt.Sprintf("signal %s received: %s", d.Name, compact(d.Arg))
		} else {
			he.Summary = fmt.Sprintf("signal %s sent to %s: %s", d.Name, d.WorkflowID, compact(d.Arg))
			if he.Error != "" {
				he.Summary += " (failed: " + he.Error + ")"
			}
		}
	case *journal.CancelData:
		he.ID, he.WorkflowID, he.Error, he.Failure = d.ID, d.WorkflowID, failure(d.Error), failureOf(d.Error)
		he.Reason, he.Timeout = d.Reason, d.Timeout
		switch ev.Kind {
		case journal.CancelRequested:
			he.Summary = "cancellation requested"
		case journal.Terminated:
			he.Summary = "terminated"
			if d.Timeout {
				he.Summary = "terminated: execution timeout"
			}
		default:
			he.Summary = "cancellation of " + d.WorkflowID + " requested"
		}
		if d.Reason != "" {
			he.Summary += ": " + d.Reason
		}
	case *journal.SideEffectData:
		he.ID, he.Result = d.ID, d.Value
		he.Summary = fmt.Sprintf("side effect #%d recorded: %s", d.ID, compact(d.Value))
	case *journal.VersionData:
		he.Name, he.Version = d.ChangeID, d.Version
		he.Summary = fmt.Sprintf("version %s = %d", d.ChangeID, d.Version)
	case *journal.AttributesData:
		he.Memo, he.SearchAttributes = d.Memo, d.SearchAttributes
		var parts []string
		if len(d.Memo) > 0 {
			b, _ := json.Marshal(d.Memo)
			parts = append(parts, "memo "+string(b))
		}
		if len(d.SearchAttributes) > 0 {
			b, _ := json.Marshal(d.SearchAttributes)
			parts = append(parts, "search attributes "+string(b))
		}
		he.Summary = "upserted " + strings.Join(parts, ", ")
	case *journal.ChildStartedData:
		he.ID, he.Workflow, he.WorkflowID, he.RunID, he.Args, he.Error, he.Failure = d.ID, d.Workflow, d.WorkflowID, d.RunID, d.Args, failure(d.Error), failureOf(d.Error)
		names[d.ID] = d.Workflow
		he.Summary = fmt.Sprintf("child %s #%d started as %s with %s", d.Workflow, d.ID, d.WorkflowID, compact(d.Args))
		if he.Error != "" {
			he.Summary = fmt.Sprintf("child %s #%d could not start: %s", d.Workflow, d.ID, he.Error)
		}
	case *journal.UpdateData:
		he.Name, he.Args, he.UpdateID = d.Name, d.Args, d.Update
		n.updates[d.Update] = d.Name
		he.Summary = fmt.Sprintf("update %s (%s) accepted with %s", d.Name, d.Update, compact(d.Args))
	case *journal.ContinuedData:
		he.Workflow, he.Args, he.RunID = d.Workflow, d.Args, d.NextRunID
		he.Summary = fmt.Sprintf("continued as new: %s with %s (run %s)", d.Workflow, compact(d.Args), d.NextRunID)
	case *journal.CompletedData:
		he.Result = d.Result
		he.Summary = "completed: " + compact(d.Result)
	case *journal.FailedData:
		he.Error, he.Failure, he.RunID, he.RetryAt = failure(d.Error), failureOf(d.Error), d.NextRunID, d.RetryAt
		verb := "failed"
		if ev.Kind == journal.Canceled {
			verb = "cancelled"
		}
		he.Summary = verb + ": " + he.Error
		if d.NextRunID != "" {
			he.Summary += fmt.Sprintf(" (retried by run %s at %s)", d.NextRunID, d.RetryAt.UTC().Format(time.RFC3339))
		}
	default:
		he.Summary = ev.Kind
	}
	return he
}

// startOptionsRecord is what journal.StartedData.Options holds that a
// HistoryEvent shows (the retry policy, memo, search attributes, execution
// timeout and cron schedule), and what Replay gives a Started event made
// from one.
type startOptionsRecord struct {
	startedOptions
	attributeOptions
	cronOptions
}

// startOptions returns the journal.StartedData.Options of a Started event
// made from data, or nil when it records none.
func (ev *HistoryEvent) startOptions() (json.RawMessage, error) {
	o := startOptionsRecord{
		startedOptions:   startedOptions{RetryPolicy: toRetryPolicyWire(ev.RetryPolicy)},
		attributeOptions: attributeOptions{Memo: ev.Memo, SearchAttributes: ev.SearchAttributes, ExecutionTimeout: max(ev.ExecutionTimeout, 0)},
		cronOptions:      cronOptions{CronSchedule: ev.CronSchedule},
	}
	if o.RetryPolicy == nil && len(o.Memo) == 0 && len(o.SearchAttributes) == 0 && o.ExecutionTimeout == 0 && o.CronSchedule == "" {
		return nil, nil
	}
	raw, err := json.Marshal(&o)
	if err != nil {
		return nil, fmt.Errorf("start options: %w", err)
	}
	return raw, nil
}

// compact returns a JSON value on one line, shortened for a summary.
func compact(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "null"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	s := b.String()
	if r := []rune(s); len(r) > 120 {
		s = string(r[:117]) + "..."
	}
	return s
}
