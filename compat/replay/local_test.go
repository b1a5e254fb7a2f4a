package replay_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/durablego/toolkit/compat/replay"
	"github.com/durablego/toolkit/runtime/durable"
)

// SendReminder is a local activity of the Remind workflow.
func SendReminder(ctx context.Context, user, text string, days int) (string, error) {
	return user + ":" + text, nil
}

// RemindTemporal is the original Temporal workflow: two local activity
// calls around a timer.
func RemindTemporal(ctx workflow.Context, user string, days int) (string, error) {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	var first, second string
	if err := workflow.ExecuteLocalActivity(ctx, SendReminder, user, "soon", days).Get(ctx, &first); err != nil {
		return "", err
	}
	if err := workflow.Sleep(ctx, time.Duration(days)*time.Hour); err != nil {
		return "", err
	}
	if err := workflow.ExecuteLocalActivity(ctx, SendReminder, user, "now", 0).Get(ctx, &second); err != nil {
		return "", err
	}
	return first + " " + second, nil
}

// Remind is RemindTemporal as `migrate convert` writes it.
func Remind(ctx context.Context, user string, days int) (string, error) {
	ctx = durable.WithLocalCallOptions(ctx, durable.LocalCallOptions{StartToCloseTimeout: time.Minute})
	first, err := durable.CallLocal[string](ctx, SendReminder, user, "soon", days)
	if err != nil {
		return "", err
	}
	if err := durable.Sleep(ctx, time.Duration(days)*time.Hour); err != nil {
		return "", err
	}
	second, err := durable.CallLocal[string](ctx, SendReminder, user, "now", 0)
	if err != nil {
		return "", err
	}
	return first + " " + second, nil
}

// RemindRemote calls the activity as a regular (not local) activity.
func RemindRemote(ctx context.Context, user string, days int) (string, error) {
	return durable.Call[string](ctx, SendReminder, user, "soon", days)
}

// RemindOtherActivity calls another local activity.
func RemindOtherActivity(ctx context.Context, user string, days int) (string, error) {
	return durable.CallLocal[string](ctx, Hello, user)
}

// RemindTemporalOther is RemindTemporal changed to call another local
// activity first.
func RemindTemporalOther(ctx workflow.Context, user string, days int) (string, error) {
	ctx = workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: time.Minute})
	var s string
	err := workflow.ExecuteLocalActivity(ctx, "Hello", user).Get(ctx, &s)
	return s, err
}

// localActivity records a local activity's marker as the Go SDK does: the
// marker data names the activity; the arguments are not recorded.
func (b *historyBuilder) localActivity(id int, name string, result any) *historyBuilder {
	data, err := json.Marshal(struct {
		ActivityID   string
		ActivityType string
		ReplayTime   time.Time
		Attempt      int32
		Backoff      time.Duration
	}{ActivityID: strconv.Itoa(id), ActivityType: name, ReplayTime: b.now, Attempt: 1})
	require.NoError(b.t, err)
	return b.marker("LocalActivity", map[string]*commonpb.Payloads{
		"data":   {Payloads: []*commonpb.Payload{{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: data}}},
		"result": b.payloads(result),
	})
}

func remindHistory(t testing.TB) *historypb.History {
	b := newHistory(t).start("remind-1", "Remind", "ada", 2).task()
	b.localActivity(1, "SendReminder", "ada:soon")
	tm := b.timer(2 * time.Hour)
	b.fired(tm).task()
	b.localActivity(2, "SendReminder", "ada:now").complete("ada:soon ada:now")
	h := b.history()
	h.Events[0].GetWorkflowExecutionStartedEventAttributes().TaskQueue = &taskqueuepb.TaskQueue{Name: "reminders"}
	// The SDK names a timer after the event ID of its TimerStarted event.
	for _, ev := range h.Events {
		if a := ev.GetTimerStartedEventAttributes(); a != nil {
			a.TimerId = strconv.FormatInt(ev.GetEventId(), 10)
		}
		if a := ev.GetTimerFiredEventAttributes(); a != nil {
			a.TimerId = strconv.FormatInt(a.GetStartedEventId(), 10)
		}
	}
	return h
}

// TestLocalActivityHistoryIsTemporals checks the local-activity history
// with Temporal's own replayer: it is what Temporal records for the
// original workflow, and Temporal reports a changed one.
func TestLocalActivityHistoryIsTemporals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		workflow any
		ok       bool
	}{
		{"Original", RemindTemporal, true},
		{"OtherLocalActivity", RemindTemporalOther, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h, err := replay.Load(filepath.Join("testdata", "remind.json"))
			require.NoError(t, err)
			r := worker.NewWorkflowReplayer()
			r.RegisterWorkflowWithOptions(tc.workflow, workflow.RegisterOptions{Name: "Remind"})
			err = r.ReplayWorkflowHistory(log.NewStructuredLogger(slog.New(slog.DiscardHandler)), h)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.Error(t, err)
			}
		})
	}
}

func TestLocalActivityVerifies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		workflow any
		ok       bool
		kind     durable.DivergenceKind
		code     string
	}{
		{"ConvertedCallLocal", Remind, true, "", ""},
		{"RegularCallInstead", RemindRemote, false, durable.DivergenceMismatch, "Call SendReminder(string, string, int) (not as a local activity)"},
		{"OtherLocalActivity", RemindOtherActivity, false, durable.DivergenceMismatch, "CallLocal Hello(string)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := engine(t, namedWorkflow{"Remind", tc.workflow})
			rep, err := replay.VerifyFile(context.Background(), e, filepath.Join("testdata", "remind.json"))
			require.NoError(t, err)
			if tc.ok {
				require.True(t, rep.OK(), rep.String())
				require.True(t, rep.Closed)
				return
			}
			require.False(t, rep.OK(), "want a divergence")
			var nd *durable.NonDeterminismError
			require.ErrorAs(t, rep.Divergence.Err, &nd)
			require.Equal(t, tc.kind, nd.Kind)
			require.Equal(t, "SendReminder", nd.Expected.Name)
			require.True(t, nd.Expected.Local)
			require.Equal(t, int64(5), rep.Divergence.EventID, rep.String())
			require.Equal(t, tc.code, rep.Divergence.Code)
		})
	}
}
