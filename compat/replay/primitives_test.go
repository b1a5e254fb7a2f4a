package replay_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/durablego/toolkit/compat/replay"
	"github.com/durablego/toolkit/runtime/durable"
)

// The histories of this file are what a Temporal server records for the
// *Temporal workflows below: TestPrimitiveHistoriesAreTemporals replays
// each with Temporal's own replayer and the original workflow. Each
// *Temporal workflow has its conversion (as `migrate convert` writes it)
// and altered conversions that must diverge at the right event with the
// right typed NonDeterminismError.

var activityOptions = workflow.ActivityOptions{StartToCloseTimeout: time.Minute}

// familyRunID is the run ID of the Family history: Temporal names a child
// it starts without a workflow ID after it.
const familyRunID = "6b1f0a52-8c5e-4d1e-9f0a-2b8e5c7d9a10"

// LotteryTemporal draws a ticket in a side effect and greets it.
func LotteryTemporal(ctx workflow.Context) (string, error) {
	var ticket string
	if err := workflow.SideEffect(ctx, func(workflow.Context) any { return "t-42" }).Get(&ticket); err != nil {
		return "", err
	}
	var s string
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, activityOptions), "Hello", ticket).Get(ctx, &s)
	return s, err
}

// Lottery is LotteryTemporal converted.
func Lottery(ctx context.Context) (string, error) {
	ticket := durable.SideEffect(ctx, func() string { return "t-42" })
	return durable.Call[string](ctx, Hello, ticket)
}

// LotteryNoSideEffect draws the ticket outside a side effect.
func LotteryNoSideEffect(ctx context.Context) (string, error) {
	return durable.Call[string](ctx, Hello, "t-42")
}

// LotteryTwoSideEffects draws twice.
func LotteryTwoSideEffects(ctx context.Context) (string, error) {
	ticket := durable.SideEffect(ctx, func() string { return "t-42" })
	ticket += durable.SideEffect(ctx, func() string { return "!" })
	return durable.Call[string](ctx, Hello, ticket)
}

// PricingTemporal charges 2 cents from version 1 of change "price-v2" on.
func PricingTemporal(ctx workflow.Context, order string) (string, error) {
	cents := 1
	if workflow.GetVersion(ctx, "price-v2", workflow.DefaultVersion, 1) == 1 {
		cents = 2
	}
	var s string
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, activityOptions), "Charge", order, cents).Get(ctx, &s)
	return s, err
}

// Pricing is PricingTemporal converted.
func Pricing(ctx context.Context, order string) (string, error) {
	cents := 1
	if durable.Version(ctx, "price-v2", durable.DefaultVersion, 1) == 1 {
		cents = 2
	}
	return durable.Call[string](ctx, Charge, order, cents)
}

// PricingNoVersion lost the Version call.
func PricingNoVersion(ctx context.Context, order string) (string, error) {
	return durable.Call[string](ctx, Charge, order, 2)
}

// PricingOtherChange guards the change under another change ID.
func PricingOtherChange(ctx context.Context, order string) (string, error) {
	cents := 1
	if durable.Version(ctx, "price-v3", durable.DefaultVersion, 1) == 1 {
		cents = 2
	}
	return durable.Call[string](ctx, Charge, order, cents)
}

// PricingDropsVersion1 no longer supports version 1.
func PricingDropsVersion1(ctx context.Context, order string) (string, error) {
	durable.Version(ctx, "price-v2", 2, 2)
	return durable.Call[string](ctx, Charge, order, 3)
}

// NotifyTemporal signals "done" with 42 to the workflow target.
func NotifyTemporal(ctx workflow.Context, target string) error {
	return workflow.SignalExternalWorkflow(ctx, target, "", "done", 42).Get(ctx, nil)
}

// Notify is NotifyTemporal converted.
func Notify(ctx context.Context, target string) error {
	return durable.SignalExternal(ctx, target, "done", 42)
}

// NotifyOtherSignal sends another signal.
func NotifyOtherSignal(ctx context.Context, target string) error {
	return durable.SignalExternal(ctx, target, "finished", 42)
}

// NotifyOtherTarget signals another workflow.
func NotifyOtherTarget(ctx context.Context, target string) error {
	return durable.SignalExternal(ctx, target+"-x", "done", 42)
}

// NotifyOtherArgument sends another argument.
func NotifyOtherArgument(ctx context.Context, target string) error {
	return durable.SignalExternal(ctx, target, "done", 43)
}

// FamilyTemporal runs Kid twice: once under a workflow ID of its own
// making, once under the one Temporal generates.
func FamilyTemporal(ctx workflow.Context) (int, error) {
	named := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: workflow.GetInfo(ctx).WorkflowExecution.ID + "-kid"})
	var a, b int
	if err := workflow.ExecuteChildWorkflow(named, "Kid", 21).Get(ctx, &a); err != nil {
		return 0, err
	}
	if err := workflow.ExecuteChildWorkflow(ctx, "Kid", 1).Get(ctx, &b); err != nil {
		return 0, err
	}
	return a + b, nil
}

// Family is FamilyTemporal converted.
func Family(ctx context.Context) (int, error) {
	return family(ctx, durable.GetInfo(ctx).WorkflowID+"-kid", 21)
}

func family(ctx context.Context, kidID string, n int) (int, error) {
	named := ctx
	if kidID != "" {
		named = durable.WithChildOptions(ctx, durable.ChildOptions{ID: kidID})
	}
	a, err := durable.Child[int](named, Kid, n)
	if err != nil {
		return 0, err
	}
	b, err := durable.Child[int](ctx, Kid, 1)
	if err != nil {
		return 0, err
	}
	return a + b, nil
}

// FamilyOtherArgument starts the first child with another argument.
func FamilyOtherArgument(ctx context.Context) (int, error) {
	return family(ctx, durable.GetInfo(ctx).WorkflowID+"-kid", 22)
}

// FamilyNoChildID lost the first child's workflow ID.
func FamilyNoChildID(ctx context.Context) (int, error) { return family(ctx, "", 21) }

// FamilyOtherChild starts another workflow first.
func FamilyOtherChild(ctx context.Context) (int, error) {
	named := durable.WithChildOptions(ctx, durable.ChildOptions{ID: durable.GetInfo(ctx).WorkflowID + "-kid"})
	return durable.Child[int](named, Square, 21)
}

func Square(ctx context.Context, n int) (int, error) { return n * n, nil }

// RemindSleepsLonger sleeps an hour more than Remind.
func RemindSleepsLonger(ctx context.Context, user string, days int) (string, error) {
	first, err := durable.CallLocal[string](ctx, SendReminder, user, "soon", days)
	if err != nil {
		return "", err
	}
	if err := durable.Sleep(ctx, time.Duration(days+1)*time.Hour); err != nil {
		return "", err
	}
	second, err := durable.CallLocal[string](ctx, SendReminder, user, "now", 0)
	return first + " " + second, err
}

// RemindNoSleep does not sleep between the reminders.
func RemindNoSleep(ctx context.Context, user string, days int) (string, error) {
	first, err := durable.CallLocal[string](ctx, SendReminder, user, "soon", days)
	if err != nil {
		return "", err
	}
	second, err := durable.CallLocal[string](ctx, SendReminder, user, "now", 0)
	return first + " " + second, err
}

// sdkIDs names activities, timers and external signals as the Go SDK
// does: after the event ID of the event that records the command.
func sdkIDs(h *historypb.History) *historypb.History {
	for _, ev := range h.Events {
		id := strconv.FormatInt(ev.GetEventId(), 10)
		switch {
		case ev.GetActivityTaskScheduledEventAttributes() != nil:
			ev.GetActivityTaskScheduledEventAttributes().ActivityId = id
		case ev.GetTimerStartedEventAttributes() != nil:
			ev.GetTimerStartedEventAttributes().TimerId = id
		case ev.GetTimerFiredEventAttributes() != nil:
			a := ev.GetTimerFiredEventAttributes()
			a.TimerId = strconv.FormatInt(a.GetStartedEventId(), 10)
		case ev.GetSignalExternalWorkflowExecutionInitiatedEventAttributes() != nil:
			ev.GetSignalExternalWorkflowExecutionInitiatedEventAttributes().Control = id
		case ev.GetExternalWorkflowExecutionSignaledEventAttributes() != nil:
			a := ev.GetExternalWorkflowExecutionSignaledEventAttributes()
			a.Control = strconv.FormatInt(a.GetInitiatedEventId(), 10)
		}
	}
	return h
}

// upsertChangeVersion records the search attribute GetVersion upserts.
func (b *historyBuilder) upsertChangeVersion(change string, v int) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES, func(ev *historypb.HistoryEvent) {
		p := b.payloads([]string{change + "-" + strconv.Itoa(v)}).GetPayloads()[0]
		p.Metadata["type"] = []byte("KeywordList")
		ev.Attributes = &historypb.HistoryEvent_UpsertWorkflowSearchAttributesEventAttributes{UpsertWorkflowSearchAttributesEventAttributes: &historypb.UpsertWorkflowSearchAttributesEventAttributes{
			SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{"TemporalChangeVersion": p}},
		}}
	})
	return b
}

// externalSignaled records that the target received an external signal.
func (b *historyBuilder) externalSignaled(initiated int64, workflowID string) *historyBuilder {
	b.add(enumspb.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ExternalWorkflowExecutionSignaledEventAttributes{ExternalWorkflowExecutionSignaledEventAttributes: &historypb.ExternalWorkflowExecutionSignaledEventAttributes{
			InitiatedEventId: initiated, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: workflowID},
		}}
	})
	return b
}

// childRun records a child's start and, after a workflow task, its result.
func (b *historyBuilder) childRun(initiated int64, workflowID, workflow string, result any) *historyBuilder {
	exec := &commonpb.WorkflowExecution{WorkflowId: workflowID, RunId: "run-of-" + workflowID}
	b.add(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionStartedEventAttributes{ChildWorkflowExecutionStartedEventAttributes: &historypb.ChildWorkflowExecutionStartedEventAttributes{
			InitiatedEventId: initiated, WorkflowExecution: exec, WorkflowType: &commonpb.WorkflowType{Name: workflow},
		}}
	})
	b.task()
	b.add(enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_ChildWorkflowExecutionCompletedEventAttributes{ChildWorkflowExecutionCompletedEventAttributes: &historypb.ChildWorkflowExecutionCompletedEventAttributes{
			InitiatedEventId: initiated, WorkflowExecution: exec, WorkflowType: &commonpb.WorkflowType{Name: workflow}, Result: b.payloads(result),
		}}
	})
	return b
}

// completeVoid records the completion of a workflow that returns only an
// error.
func (b *historyBuilder) completeVoid() *historyBuilder {
	b.add(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, func(ev *historypb.HistoryEvent) {
		ev.Attributes = &historypb.HistoryEvent_WorkflowExecutionCompletedEventAttributes{WorkflowExecutionCompletedEventAttributes: &historypb.WorkflowExecutionCompletedEventAttributes{}}
	})
	return b
}

// queue sets the task queue and run ID of a history's start.
func queue(h *historypb.History, name, runID string) *historypb.History {
	a := h.Events[0].GetWorkflowExecutionStartedEventAttributes()
	a.TaskQueue = &taskqueuepb.TaskQueue{Name: name}
	a.OriginalExecutionRunId, a.FirstExecutionRunId = runID, runID
	return h
}

func lotteryHistory(t testing.TB) *historypb.History {
	b := newHistory(t).start("lottery-1", "Lottery").task().sideEffect("t-42")
	b.completed(b.activity("Hello", "t-42"), "Hello t-42").task().complete("Hello t-42")
	return queue(sdkIDs(b.history()), "lottery", "")
}

func pricingHistory(t testing.TB) *historypb.History {
	b := newHistory(t).start("pricing-1", "Pricing", "order-7").task().version("price-v2", 1).upsertChangeVersion("price-v2", 1)
	b.completed(b.activity("Charge", "order-7", 2), "order-7:2").task().complete("order-7:2")
	return queue(sdkIDs(b.history()), "pricing", "")
}

func notifyHistory(t testing.TB) *historypb.History {
	b := newHistory(t).start("notify-1", "Notify", "other-1").task()
	b.signalExternal("other-1", "done", 42)
	b.externalSignaled(int64(len(b.events)), "other-1").task().completeVoid()
	return queue(sdkIDs(b.history()), "notify", "")
}

func familyHistory(t testing.TB) *historypb.History {
	b := newHistory(t).start("family-1", "Family").task()
	b.childRun(b.child("family-1-kid", "Kid", 21), "family-1-kid", "Kid", 42).task()
	generated := familyRunID + "_" + strconv.Itoa(len(b.events)+1) // Temporal's ID for a child without one
	b.childRun(b.child(generated, "Kid", 1), generated, "Kid", 2).task().complete(44)
	return queue(b.history(), "family", familyRunID)
}

// primitives are the histories of this file, by testdata file.
var primitives = []struct {
	file     string
	workflow string
	temporal any
	history  func(testing.TB) *historypb.History
}{
	{"lottery.json", "Lottery", LotteryTemporal, lotteryHistory},
	{"pricing.json", "Pricing", PricingTemporal, pricingHistory},
	{"notify.json", "Notify", NotifyTemporal, notifyHistory},
	{"family.json", "Family", FamilyTemporal, familyHistory},
	{"remind.json", "Remind", RemindTemporal, remindHistory},
}

// TestPrimitiveHistoriesAreTemporals replays each history with Temporal's
// own replayer and the original workflow: they are what Temporal records.
func TestPrimitiveHistoriesAreTemporals(t *testing.T) {
	t.Parallel()
	for _, p := range primitives {
		t.Run(p.file, func(t *testing.T) {
			t.Parallel()
			h, err := replay.Load(filepath.Join("testdata", p.file))
			require.NoError(t, err)
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(p.temporal, workflow.RegisterOptions{Name: p.workflow})
			start := h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes()
			opts := worker.ReplayWorkflowHistoryOptions{OriginalExecution: workflow.Execution{ID: start.GetWorkflowId(), RunID: start.GetOriginalExecutionRunId()}}
			require.NoError(t, r.ReplayWorkflowHistoryWithOptions(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), h, opts))
		})
	}
}

// TestPrimitivesVerify replays each history through its conversion, which
// verifies, and through altered conversions, which diverge at the
// Temporal event named with the typed error the runtime returns.
func TestPrimitivesVerify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		file     string
		workflow any
		kind     durable.DivergenceKind // "": verifies
		eventID  int64
		expected durable.Command // the journal's side: the fields set here are checked
		found    *durable.Command
		code     string // Divergence.Code
	}{
		{name: "SideEffect", file: "lottery.json", workflow: Lottery},
		{
			name: "SideEffectMissing", file: "lottery.json", workflow: LotteryNoSideEffect,
			kind: durable.DivergenceMismatch, eventID: 5,
			expected: durable.Command{Kind: durable.EventSideEffect},
			found:    &durable.Command{Kind: durable.EventActivityScheduled, Name: "Hello"},
			code:     "Call Hello(string)",
		},
		{
			name: "SideEffectExtra", file: "lottery.json", workflow: LotteryTwoSideEffects,
			kind: durable.DivergenceMismatch, eventID: 6,
			expected: durable.Command{Kind: durable.EventActivityScheduled, Name: "Hello"},
			found:    &durable.Command{Kind: durable.EventSideEffect},
			code:     "SideEffect",
		},

		{name: "Version", file: "pricing.json", workflow: Pricing},
		{
			name: "VersionMissing", file: "pricing.json", workflow: PricingNoVersion,
			kind: durable.DivergenceMismatch, eventID: 5,
			expected: durable.Command{Kind: durable.EventVersion, Name: "price-v2", Version: 1},
			found:    &durable.Command{Kind: durable.EventActivityScheduled, Name: "Charge"},
			code:     "Call Charge(string, int)",
		},
		{
			name: "VersionOfAnotherChange", file: "pricing.json", workflow: PricingOtherChange,
			kind: durable.DivergenceMismatch, eventID: 5,
			expected: durable.Command{Kind: durable.EventVersion, Name: "price-v2", Version: 1},
			found:    &durable.Command{Kind: durable.EventActivityScheduled, Name: "Charge"},
			code:     "Call Charge(string, int)",
		},
		{
			name: "VersionNoLongerSupported", file: "pricing.json", workflow: PricingDropsVersion1,
			kind: durable.DivergenceVersion, eventID: 5,
			expected: durable.Command{Kind: durable.EventVersion, Name: "price-v2", Version: 1},
			found:    &durable.Command{Kind: durable.EventVersion, Name: "price-v2"},
			code:     `Version("price-v2") supports [2, 2]`,
		},

		{name: "Timer", file: "remind.json", workflow: Remind},
		{
			name: "TimerOfAnotherDuration", file: "remind.json", workflow: RemindSleepsLonger,
			kind: durable.DivergenceMismatch, eventID: 6,
			expected: durable.Command{Kind: durable.EventTimerStarted, Duration: 2 * time.Hour},
			found:    &durable.Command{Kind: durable.EventTimerStarted, Duration: 3 * time.Hour},
			code:     "Timer 3h0m0s",
		},
		{
			name: "TimerMissing", file: "remind.json", workflow: RemindNoSleep,
			kind: durable.DivergenceMismatch, eventID: 6,
			expected: durable.Command{Kind: durable.EventTimerStarted, Duration: 2 * time.Hour},
			found:    &durable.Command{Kind: durable.EventActivityScheduled, Name: "SendReminder"},
			code:     "CallLocal SendReminder(string, string, int)",
		},

		{name: "ExternalSignal", file: "notify.json", workflow: Notify},
		{
			name: "ExternalSignalOfAnotherName", file: "notify.json", workflow: NotifyOtherSignal,
			kind: durable.DivergenceMismatch, eventID: 5,
			expected: durable.Command{Kind: durable.EventExternalSignaled, Name: "done", WorkflowID: "other-1"},
			found:    &durable.Command{Kind: durable.EventExternalSignaled, Name: "finished", WorkflowID: "other-1"},
			code:     `SignalExternal other-1 "finished"`,
		},
		{
			name: "ExternalSignalToAnotherWorkflow", file: "notify.json", workflow: NotifyOtherTarget,
			kind: durable.DivergenceMismatch, eventID: 5,
			expected: durable.Command{Kind: durable.EventExternalSignaled, Name: "done", WorkflowID: "other-1"},
			found:    &durable.Command{Kind: durable.EventExternalSignaled, Name: "done", WorkflowID: "other-1-x"},
			code:     `SignalExternal other-1-x "done"`,
		},
		{
			name: "ExternalSignalWithAnotherArgument", file: "notify.json", workflow: NotifyOtherArgument,
			kind: durable.DivergenceMismatch, eventID: 5,
			expected: durable.Command{Kind: durable.EventExternalSignaled, Name: "done", WorkflowID: "other-1", Args: []byte(`42`)},
			found:    &durable.Command{Kind: durable.EventExternalSignaled, Name: "done", WorkflowID: "other-1", Args: []byte(`43`)},
			code:     `SignalExternal other-1 "done" with 43 (another argument)`,
		},

		{name: "Children", file: "family.json", workflow: Family},
		{
			name: "ChildWithAnotherArgument", file: "family.json", workflow: FamilyOtherArgument,
			kind: durable.DivergenceMismatch, eventID: 5,
			expected: durable.Command{Kind: durable.EventChildStarted, Name: "Kid", WorkflowID: "family-1-kid", Args: []byte(`[21]`)},
			found:    &durable.Command{Kind: durable.EventChildStarted, Name: "Kid", WorkflowID: "family-1-kid", Args: []byte(`[22]`)},
			code:     "Child Kid with (22) (other arguments)",
		},
		{
			name: "ChildWithoutItsWorkflowID", file: "family.json", workflow: FamilyNoChildID,
			kind: durable.DivergenceMismatch, eventID: 5,
			expected: durable.Command{Kind: durable.EventChildStarted, Name: "Kid", WorkflowID: "family-1-kid", Args: []byte(`[21]`)},
			found:    &durable.Command{Kind: durable.EventChildStarted, Name: "Kid", WorkflowID: "family-1/child-1", Args: []byte(`[21]`)},
			code:     "Child Kid as family-1/child-1 (another workflow ID)",
		},
		{
			name: "AnotherChild", file: "family.json", workflow: FamilyOtherChild,
			kind: durable.DivergenceMismatch, eventID: 5,
			expected: durable.Command{Kind: durable.EventChildStarted, Name: "Kid", WorkflowID: "family-1-kid", Args: []byte(`[21]`)},
			found:    &durable.Command{Kind: durable.EventChildStarted, Name: "Square", WorkflowID: "family-1-kid", Args: []byte(`[21]`)},
			code:     "Child Square",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := engine(t, namedWorkflow{workflowOf(t, tc.file), tc.workflow})
			e.RegisterActivity(SendReminder)
			e.RegisterWorkflow(Kid)
			e.RegisterWorkflow(Square)
			rep, err := replay.VerifyFile(context.Background(), e, filepath.Join("testdata", tc.file))
			require.NoError(t, err)
			require.True(t, rep.Closed)
			if tc.kind == "" {
				require.True(t, rep.OK(), rep.String())
				return
			}
			require.False(t, rep.OK(), "want a divergence")
			d := rep.Divergence
			var nd *durable.NonDeterminismError
			require.ErrorAs(t, d.Err, &nd)
			require.Equal(t, tc.kind, nd.Kind, rep.String())
			require.Equal(t, tc.eventID, d.EventID, rep.String())
			require.Equal(t, tc.code, d.Code, rep.String())
			require.NotNil(t, nd.Expected)
			got := durable.Command{Kind: nd.Expected.Kind, Name: nd.Expected.Name, WorkflowID: nd.Expected.WorkflowID,
				Args: nd.Expected.Args, Version: nd.Expected.Version, Duration: nd.Expected.Duration}
			require.Equal(t, tc.expected.Kind, got.Kind)
			require.Equal(t, tc.expected.Name, got.Name)
			require.Equal(t, tc.expected.WorkflowID, got.WorkflowID)
			require.Equal(t, tc.expected.Version, got.Version)
			require.Equal(t, tc.expected.Duration, got.Duration)
			if tc.expected.Args != nil {
				require.JSONEq(t, string(tc.expected.Args), string(got.Args))
			}
			require.NotNil(t, nd.Found)
			require.Equal(t, tc.found.Kind, nd.Found.Kind)
			require.Equal(t, tc.found.Name, nd.Found.Name)
			require.Equal(t, tc.found.WorkflowID, nd.Found.WorkflowID)
			require.Equal(t, tc.found.Duration, nd.Found.Duration)
			if tc.found.Args != nil {
				require.JSONEq(t, string(tc.found.Args), string(nd.Found.Args))
			}
		})
	}
}

// workflowOf is the workflow type a testdata history names.
func workflowOf(t *testing.T, file string) string {
	t.Helper()
	h, err := replay.Load(filepath.Join("testdata", file))
	require.NoError(t, err)
	return h.GetEvents()[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName()
}

// TestTranslateLeavesOutGeneratedChildIDs checks that a child workflow ID
// Temporal generated is not in the translated history (so it is not
// compared), with and without the run ID in the history, while one the
// workflow chose is.
func TestTranslateLeavesOutGeneratedChildIDs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		runID string
	}{
		{"RunIDInHistory", familyRunID},
		{"RunIDNotInHistory", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := familyHistory(t)
			a := h.Events[0].GetWorkflowExecutionStartedEventAttributes()
			a.OriginalExecutionRunId, a.FirstExecutionRunId = tc.runID, tc.runID
			j, err := replay.Translate(h)
			require.NoError(t, err)
			var ids []string
			for _, ev := range j.Events() {
				if ev.Kind == durable.EventChildStarted {
					ids = append(ids, ev.WorkflowID)
				}
			}
			require.Equal(t, []string{"family-1-kid", ""}, ids)
		})
	}
}
