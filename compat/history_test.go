package compat_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/mocks"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/compat/replay"
	"github.com/durablego/toolkit/runtime/durable"
)

// Order is the input of the history tests' workflow.
type Order struct {
	ID    string `json:"id"`
	Items int    `json:"items"`
}

// Reserve is an activity that fails for an order without items.
func Reserve(ctx context.Context, o Order) (int, error) {
	if o.Items == 0 {
		return 0, durable.NewNonRetryableApplicationError("nothing to reserve", "EmptyOrder", nil)
	}
	return o.Items * 10, nil
}

// Stamp is a local activity.
func Stamp(ctx context.Context, s string) (string, error) { return "stamped " + s, nil }

// Pack is a child workflow.
func Pack(ctx context.Context, n int) (string, error) { return "packed " + strconv.Itoa(n), nil }

// Fulfil touches every kind of journal event the history translation
// writes: an activity, a local activity, a side effect, a version, a
// timer, a memo upsert, a child, signals, and the close.
func Fulfil(ctx context.Context, o Order) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{StartToCloseTimeout: time.Minute})
	n, err := durable.Call[int](ctx, Reserve, o)
	if err != nil {
		return "", err
	}
	ctx = durable.WithLocalCallOptions(ctx, durable.LocalCallOptions{StartToCloseTimeout: time.Minute})
	stamp, err := durable.CallLocal[string](ctx, Stamp, o.ID)
	if err != nil {
		return "", err
	}
	seed := durable.SideEffect(ctx, func() int { return 7 })
	v := durable.Version(ctx, "pack-step", durable.DefaultVersion, 1)
	if err := durable.Sleep(ctx, time.Second); err != nil {
		return "", err
	}
	if err := durable.UpsertMemo(ctx, map[string]any{"stage": "packing"}); err != nil {
		return "", err
	}
	packed, err := durable.Child[string](ctx, Pack, n)
	if err != nil {
		return "", err
	}
	note, err := durable.Receive[string](ctx, "note")
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s|%s|%d|%d|%s|%s", o.ID, stamp, seed, v, packed, note), nil
}

// FulfilChanged is Fulfil with its steps in another order, which a
// history of Fulfil does not replay against.
func FulfilChanged(ctx context.Context, o Order) (string, error) {
	if err := durable.Sleep(ctx, time.Second); err != nil {
		return "", err
	}
	return Fulfil(ctx, o)
}

func historyEngine(t *testing.T, opts ...durable.Option) *durable.Engine {
	t.Helper()
	e, err := durable.Open(context.Background(), "memory:", append([]durable.Option{durable.WithAllQueues()}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = e.Close() })
	e.RegisterWorkflow(Fulfil)
	e.RegisterWorkflow(Pack)
	e.RegisterActivity(Reserve)
	e.RegisterActivity(Stamp)
	return e
}

// readAll drains an iterator.
func readAll(t *testing.T, it interface {
	HasNext() bool
	Next() (*historypb.HistoryEvent, error)
}) []*historypb.HistoryEvent {
	t.Helper()
	var evs []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		evs = append(evs, ev)
	}
	return evs
}

// runFulfil runs Fulfil to its end as workflow ID id, with a note signal.
func runFulfil(t *testing.T, e *durable.Engine, id string, o Order) {
	t.Helper()
	ctx := context.Background()
	_, err := e.Start(ctx, durable.StartOptions{ID: id, Queue: "orders", RunTimeout: time.Hour, Memo: map[string]any{"owner": "ada"}}, Fulfil, o)
	require.NoError(t, err)
	err = e.Signal(ctx, id, "note", "fragile")
	if o.Items == 0 && errors.Is(err, durable.ErrNotFound) {
		err = nil // the order failed (and closed) before the note came
	}
	require.NoError(t, err)
	var out string
	err = e.Run(id).Get(ctx, &out)
	if o.Items > 0 {
		require.NoError(t, err)
	} else {
		require.Error(t, err)
	}
}

func TestGetWorkflowHistory(t *testing.T) {
	t.Parallel()

	t.Run("EventsCarryWhatTemporalRecords", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		e := historyEngine(t)
		runFulfil(t, e, "o-1", Order{ID: "o-1", Items: 3})
		evs := readAll(t, compat.GetWorkflowHistory(ctx, e, "o-1", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT))
		require.NotEmpty(t, evs)
		dc := converter.GetDefaultDataConverter()

		byID := map[int64]*historypb.HistoryEvent{}
		count := map[enumspb.EventType]int{}
		for i, ev := range evs {
			require.Equal(t, int64(i+1), ev.GetEventId(), "event IDs count from 1 without gaps")
			byID[ev.GetEventId()] = ev
			count[ev.GetEventType()]++
		}

		// The start: type, input in json/plain, queue, timeout, memo.
		started := evs[0].GetWorkflowExecutionStartedEventAttributes()
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, evs[0].GetEventType())
		require.Equal(t, "Fulfil", started.GetWorkflowType().GetName())
		require.Equal(t, "orders", started.GetTaskQueue().GetName())
		require.Equal(t, time.Hour, started.GetWorkflowRunTimeout().AsDuration())
		require.Equal(t, int32(1), started.GetAttempt())
		var in Order
		require.NoError(t, dc.FromPayloads(started.GetInput(), &in))
		require.Equal(t, Order{ID: "o-1", Items: 3}, in)
		var owner string
		require.NoError(t, dc.FromPayload(started.GetMemo().GetFields()["owner"], &owner))
		require.Equal(t, "ada", owner)

		// A workflow task follows the start, as in Temporal.
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED, evs[1].GetEventType())
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, evs[2].GetEventType())
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, evs[3].GetEventType())

		for _, ev := range evs {
			switch ev.GetEventType() {
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
				a := ev.GetActivityTaskScheduledEventAttributes()
				require.Equal(t, "Reserve", a.GetActivityType().GetName())
				issuer := byID[a.GetWorkflowTaskCompletedEventId()]
				require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, issuer.GetEventType())
			case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
				a := ev.GetActivityTaskCompletedEventAttributes()
				require.Equal(t, enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, byID[a.GetScheduledEventId()].GetEventType())
				require.Equal(t, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, byID[a.GetStartedEventId()].GetEventType())
				var n int
				require.NoError(t, dc.FromPayloads(a.GetResult(), &n))
				require.Equal(t, 30, n)
			case enumspb.EVENT_TYPE_TIMER_FIRED:
				a := ev.GetTimerFiredEventAttributes()
				st := byID[a.GetStartedEventId()].GetTimerStartedEventAttributes()
				require.Equal(t, a.GetTimerId(), st.GetTimerId())
				require.Equal(t, time.Second, st.GetStartToFireTimeout().AsDuration())
			case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
				a := ev.GetWorkflowExecutionSignaledEventAttributes()
				require.Equal(t, "note", a.GetSignalName())
				var note string
				require.NoError(t, dc.FromPayloads(a.GetInput(), &note))
				require.Equal(t, "fragile", note)
			case enumspb.EVENT_TYPE_MARKER_RECORDED:
				a := ev.GetMarkerRecordedEventAttributes()
				switch a.GetMarkerName() {
				case "SideEffect":
					var v int
					require.NoError(t, dc.FromPayloads(a.GetDetails()["data"], &v))
					require.Equal(t, 7, v)
				case "Version":
					var change string
					var v int
					require.NoError(t, dc.FromPayloads(a.GetDetails()["change-id"], &change))
					require.NoError(t, dc.FromPayloads(a.GetDetails()["version"], &v))
					require.Equal(t, "pack-step", change)
					require.Equal(t, 1, v)
				case "LocalActivity":
					var res string
					require.NoError(t, dc.FromPayloads(a.GetDetails()["result"], &res))
					require.Equal(t, "stamped o-1", res)
				default:
					t.Fatalf("unexpected marker %s", a.GetMarkerName())
				}
			case enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
				a := ev.GetChildWorkflowExecutionCompletedEventAttributes()
				require.Equal(t, enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, byID[a.GetInitiatedEventId()].GetEventType())
				require.Equal(t, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED, byID[a.GetStartedEventId()].GetEventType())
				require.Equal(t, "Pack", a.GetWorkflowType().GetName())
			case enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
				var stage string
				require.NoError(t, dc.FromPayload(ev.GetWorkflowPropertiesModifiedEventAttributes().GetUpsertedMemo().GetFields()["stage"], &stage))
				require.Equal(t, "packing", stage)
			}
		}
		for _, want := range []enumspb.EventType{
			enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED, enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
			enumspb.EVENT_TYPE_TIMER_STARTED, enumspb.EVENT_TYPE_TIMER_FIRED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
			enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
			enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED,
		} {
			require.Equal(t, 1, count[want], "one %s", want)
		}
		require.Equal(t, 3, count[enumspb.EVENT_TYPE_MARKER_RECORDED])

		last := evs[len(evs)-1]
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, last.GetEventType())
		var out string
		require.NoError(t, dc.FromPayloads(last.GetWorkflowExecutionCompletedEventAttributes().GetResult(), &out))
		require.Equal(t, "o-1|stamped o-1|7|1|packed 30|fragile", out)
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
			byID[last.GetWorkflowExecutionCompletedEventAttributes().GetWorkflowTaskCompletedEventId()].GetEventType())
	})

	t.Run("RoundTripReplaysAgainstTheSameCode", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		e := historyEngine(t)
		runFulfil(t, e, "o-2", Order{ID: "o-2", Items: 2})
		h, err := compat.WorkflowHistory(ctx, e, "o-2", "")
		require.NoError(t, err)

		same := historyEngine(t)
		rep, err := replay.Verify(ctx, same, h)
		require.NoError(t, err)
		require.True(t, rep.OK(), "%s", rep)
		require.True(t, rep.Closed)

		changed, err := durable.Open(ctx, "memory:")
		require.NoError(t, err)
		defer changed.Close()
		changed.RegisterWorkflow(FulfilChanged, durable.WithName("Fulfil"))
		changed.RegisterWorkflow(Pack)
		rep, err = replay.Verify(ctx, changed, h)
		require.NoError(t, err)
		require.False(t, rep.OK(), "a history of Fulfil does not replay against other code")
	})

	t.Run("FailuresKeepTheirTypes", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		e := historyEngine(t)
		runFulfil(t, e, "o-3", Order{ID: "o-3"})
		evs := readAll(t, compat.GetWorkflowHistory(ctx, e, "o-3", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT))
		var failed *historypb.ActivityTaskFailedEventAttributes
		for _, ev := range evs {
			if a := ev.GetActivityTaskFailedEventAttributes(); a != nil {
				failed = a
			}
		}
		require.NotNil(t, failed)
		require.Equal(t, "EmptyOrder", failed.GetFailure().GetApplicationFailureInfo().GetType())
		require.True(t, failed.GetFailure().GetApplicationFailureInfo().GetNonRetryable())
		require.Equal(t, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE, failed.GetRetryState())
		last := evs[len(evs)-1]
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, last.GetEventType())
		require.Contains(t, last.GetWorkflowExecutionFailedEventAttributes().GetFailure().GetMessage(), "nothing to reserve")

		h, err := compat.WorkflowHistory(ctx, e, "o-3", "")
		require.NoError(t, err)
		rep, err := replay.Verify(ctx, historyEngine(t), h)
		require.NoError(t, err)
		require.True(t, rep.OK(), "%s", rep)
	})

	t.Run("CloseEventFilter", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		e := historyEngine(t)
		_, err := e.Start(ctx, durable.StartOptions{ID: "o-4"}, Fulfil, Order{ID: "o-4", Items: 1})
		require.NoError(t, err)
		// Open: no close event yet, and a single read does not wait.
		require.Empty(t, readAll(t, compat.GetWorkflowHistory(ctx, e, "o-4", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)))
		require.NoError(t, e.Terminate(ctx, "o-4", "enough"))
		evs := readAll(t, compat.GetWorkflowHistory(ctx, e, "o-4", "", true, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT))
		require.Len(t, evs, 1)
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, evs[0].GetEventType())
		require.Equal(t, "enough", evs[0].GetWorkflowExecutionTerminatedEventAttributes().GetReason())
	})

	t.Run("RunTimeoutIsTimedOut", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		e := historyEngine(t)
		run, err := e.Start(ctx, durable.StartOptions{ID: "o-8", RunTimeout: 50 * time.Millisecond}, Fulfil, Order{ID: "o-8", Items: 1})
		require.NoError(t, err)
		var te *durable.TimeoutError
		require.ErrorAs(t, run.Get(ctx, nil), &te)
		evs := readAll(t, compat.GetWorkflowHistory(ctx, e, "o-8", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT))
		last := evs[len(evs)-1]
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, last.GetEventType())
		require.NotEqual(t, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, evs[len(evs)-2].GetEventType(), "the server times a run out, no workflow task does")
		require.Equal(t, 50*time.Millisecond, evs[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowRunTimeout().AsDuration())
	})

	t.Run("LongPollStreamsUntilTheClose", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		e := historyEngine(t)
		_, err := e.Start(ctx, durable.StartOptions{ID: "o-5"}, Fulfil, Order{ID: "o-5", Items: 1})
		require.NoError(t, err)
		it := compat.GetWorkflowHistory(ctx, e, "o-5", "", true, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		// Read until the run waits for its signal: the history stops
		// growing there, and the long poll waits with it.
		var evs []*historypb.HistoryEvent
		for len(evs) == 0 || evs[len(evs)-1].GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED ||
			!hasType(evs, enumspb.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED) {
			require.True(t, it.HasNext())
			ev, err := it.Next()
			require.NoError(t, err)
			evs = append(evs, ev)
		}
		require.NoError(t, e.Signal(ctx, "o-5", "note", "late"))
		rest := readAll(t, it)
		require.NotEmpty(t, rest)
		require.Equal(t, int64(len(evs)+1), rest[0].GetEventId(), "the stream continues where it stopped")
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, rest[0].GetEventType())
		require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, rest[len(rest)-1].GetEventType())
		require.False(t, it.HasNext())
	})

	t.Run("LongPollEndsWithTheContext", func(t *testing.T) {
		t.Parallel()
		e := historyEngine(t)
		_, err := e.Start(context.Background(), durable.StartOptions{ID: "o-6"}, Fulfil, Order{ID: "o-6", Items: 1})
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		it := compat.GetWorkflowHistory(ctx, e, "o-6", "", true, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
		require.True(t, it.HasNext())
		_, err = it.Next()
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.False(t, it.HasNext())
	})

	t.Run("UnknownWorkflowIsAnErrorFromNext", func(t *testing.T) {
		t.Parallel()
		e := historyEngine(t)
		it := compat.GetWorkflowHistory(context.Background(), e, "nope", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		require.True(t, it.HasNext())
		_, err := it.Next()
		require.ErrorIs(t, err, durable.ErrNotFound)
	})

	t.Run("PayloadsAreEncodedByTheCodec", func(t *testing.T) {
		t.Parallel()
		ctx := context.Background()
		codec := &xorCodec{key: 0x5a}
		e := historyEngine(t, durable.WithPayloadCodec(compat.PayloadCodec(codec)))
		runFulfil(t, e, "o-7", Order{ID: "o-7", Items: 1})
		evs := readAll(t, compat.GetWorkflowHistory(ctx, e, "o-7", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT))
		input := evs[0].GetWorkflowExecutionStartedEventAttributes().GetInput()
		require.Equal(t, "binary/xor", string(input.GetPayloads()[0].GetMetadata()["encoding"]))
		var plain Order
		require.Error(t, converter.GetDefaultDataConverter().FromPayloads(input, &plain), "the payload is encoded")
		var in Order
		require.NoError(t, converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), codec).FromPayloads(input, &in))
		require.Equal(t, Order{ID: "o-7", Items: 1}, in)

		h, err := compat.WorkflowHistory(ctx, e, "o-7", "")
		require.NoError(t, err)
		rep, err := replay.Verify(ctx, historyEngine(t), h, replay.WithPayloadCodecs(codec))
		require.NoError(t, err)
		require.True(t, rep.OK(), "%s", rep)
	})
}

func hasType(evs []*historypb.HistoryEvent, t enumspb.EventType) bool {
	for _, ev := range evs {
		if ev.GetEventType() == t {
			return true
		}
	}
	return false
}

// xorCodec is a Temporal payload codec that hides the payload's bytes.
type xorCodec struct{ key byte }

func (c *xorCodec) Encode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		b, err := p.Marshal()
		if err != nil {
			return nil, err
		}
		for j := range b {
			b[j] ^= c.key
		}
		out[i] = &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/xor")}, Data: b}
	}
	return out, nil
}

func (c *xorCodec) Decode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(ps))
	for i, p := range ps {
		if string(p.GetMetadata()["encoding"]) != "binary/xor" {
			out[i] = p
			continue
		}
		b := append([]byte(nil), p.GetData()...)
		for j := range b {
			b[j] ^= c.key
		}
		var dec commonpb.Payload
		if err := dec.Unmarshal(b); err != nil {
			return nil, errors.New("xor: not a payload")
		}
		out[i] = &dec
	}
	return out, nil
}

// HistoryFromDurable writes what reached an open run and its code has not
// taken (the inbox) as Temporal records a signal on arrival.
func TestHistoryFromDurableInbox(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := &durable.History{
		Run: &durable.RunInfo{WorkflowID: "w", RunID: "r", Workflow: "W", Status: "running", CreatedAt: at},
		Events: []durable.HistoryEvent{
			{Seq: 1, At: at, Kind: durable.EventStarted, Workflow: "W", Args: []byte(`[1]`)},
			{Seq: 2, At: at, Kind: durable.EventTimerStarted, ID: 1, Duration: time.Hour},
		},
		Inbox: []durable.InboxEntry{{Kind: "signal", Name: "go", At: at.Add(time.Minute), Data: []byte(`"now"`)}},
	}
	for _, tc := range []struct {
		name  string
		inbox bool
		want  []enumspb.EventType
	}{
		{"WithInbox", true, []enumspb.EventType{
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
			enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, enumspb.EVENT_TYPE_TIMER_STARTED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED, enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
		}},
		{"JournalOnly", false, []enumspb.EventType{
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
			enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, enumspb.EVENT_TYPE_TIMER_STARTED,
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := compat.HistoryFromDurable(h, compat.HistoryOptions{Inbox: tc.inbox})
			require.NoError(t, err)
			var got []enumspb.EventType
			for _, ev := range out.GetEvents() {
				got = append(got, ev.GetEventType())
			}
			require.Equal(t, tc.want, got)
			if tc.inbox {
				var v string
				require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(out.GetEvents()[5].GetWorkflowExecutionSignaledEventAttributes().GetInput(), &v))
				require.Equal(t, "now", v)
			}
		})
	}

	_, err := compat.HistoryFromDurable(&durable.History{Run: h.Run, Events: []durable.HistoryEvent{
		{Seq: 1, At: at, Kind: durable.EventStarted, Workflow: "W", Args: []byte(`{"not":"an array"}`)},
	}}, compat.HistoryOptions{})
	require.ErrorContains(t, err, "event 1 (Started)")
}

// The routing client reads a history where the ID runs: the durable
// side's from the store, Temporal's from Temporal.
func TestClientGetWorkflowHistoryRoutes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, percent("Waiter", 100))
	run, err := b.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "w-h"}, Waiter, 1)
	require.NoError(t, err)
	require.NoError(t, b.client.SignalWorkflow(ctx, "w-h", "", "go", 2))
	require.NoError(t, run.Get(ctx, nil))
	evs := readAll(t, b.client.GetWorkflowHistory(ctx, "w-h", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT))
	require.Equal(t, "Waiter", evs[0].GetWorkflowExecutionStartedEventAttributes().GetWorkflowType().GetName())
	require.Equal(t, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, evs[len(evs)-1].GetEventType())

	it := mocks.NewHistoryEventIterator(t)
	b.temporal.On("GetWorkflowHistory", ctx, "t-1", "", true, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT).Return(it).Once()
	require.Same(t, it, b.client.GetWorkflowHistory(ctx, "t-1", "", true, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT))
}
