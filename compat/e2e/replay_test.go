package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/durablego/toolkit/compat/replay"
	"github.com/durablego/toolkit/runtime/durable"
)

// fetchHistory reads the history the Temporal server recorded for an
// execution (runID "" for the latest run).
func fetchHistory(ctx context.Context, t *testing.T, workflowID, runID string) *historypb.History {
	t.Helper()
	it := tc.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	require.NotEmpty(t, h.Events)
	return h
}

// export writes a history as `temporal workflow show --output json`
// does (protojson) and returns the file's path.
func export(t *testing.T, h *historypb.History, name string) string {
	t.Helper()
	b, err := protojson.MarshalOptions{Multiline: true}.Marshal(h)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), name+".json")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

// TestHistoriesVerify runs every scenario on Temporal, exports the
// histories the server recorded (each workflow's and each child's) and
// verifies them against the converted code with compat/replay.
func TestHistoriesVerify(t *testing.T) {
	ctx := testCtx(t, 3*time.Minute)
	for _, s := range scenarios {
		t.Run(s.workflow, func(t *testing.T) {
			t.Parallel()
			id := "history-" + s.workflow
			got := s.run(ctx, t, tc, id, 2)
			require.Equal(t, asJSON(t, s.want(2)), got)

			e := openEngine(t, "memory:")
			registerConverted(e)
			h := fetchHistory(ctx, t, id, "")
			rep, err := replay.VerifyFile(ctx, e, export(t, h, id))
			require.NoError(t, err)
			require.True(t, rep.OK(), "%s", rep)
			require.True(t, rep.Closed, "the history ends with the close, so the result was compared too")
			require.Equal(t, s.workflow, rep.Workflow)
			t.Logf("%s (%d Temporal events)", rep, len(h.Events))

			children := 0
			for _, ev := range h.Events {
				a := ev.GetChildWorkflowExecutionStartedEventAttributes()
				if a == nil {
					continue
				}
				children++
				ch := fetchHistory(ctx, t, a.GetWorkflowExecution().GetWorkflowId(), a.GetWorkflowExecution().GetRunId())
				rep, err := replay.Verify(ctx, e, ch)
				require.NoError(t, err)
				require.True(t, rep.OK(), "child %s", rep)
				require.Equal(t, "Square", rep.Workflow)
			}
			if s.workflow == "SumOfSquares" {
				require.Equal(t, 3, children)
			}
		})
	}
}

// TestAlteredConversionDiverges replays a real Fulfil history through
// deliberately altered conversions; each divergence is reported at the
// Temporal event of the first activity that differs.
func TestAlteredConversionDiverges(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	const id = "history-altered"
	s := scenarios[0]
	got := s.run(ctx, t, tc, id, 3)
	require.Equal(t, asJSON(t, s.want(3)), got)
	h := fetchHistory(ctx, t, id, "")
	scheduled := map[string]int64{} // activity type -> its ActivityTaskScheduled event ID
	for _, ev := range h.Events {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			scheduled[a.GetActivityType().GetName()] = ev.GetEventId()
		}
	}
	require.Len(t, scheduled, 3, "Reserve, Charge, Ship")

	for _, tt := range []struct {
		name     string
		workflow any
		activity string // the activity whose scheduling is the divergence
		code     string // part of what the code did there
	}{
		{"Unaltered", nil, "", ""},
		{"Reordered", fulfilReordered, "Reserve", "Charge"},
		{"ArgumentType", fulfilArgType, "Reserve", `"3"`},
		{"ArgumentValue", fulfilArgValue, "Charge", "751"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := openEngine(t, "memory:")
			if tt.workflow == nil {
				registerConverted(e)
			} else {
				if tt.name == "ArgumentType" {
					e.RegisterActivity(&altActivities{})
				} else {
					registerActivities(e)
				}
				e.RegisterWorkflow(tt.workflow, durable.WithName("Fulfil"))
			}
			rep, err := replay.Verify(ctx, e, h)
			require.NoError(t, err)
			t.Log(rep)
			if tt.workflow == nil {
				require.True(t, rep.OK(), "%s", rep)
				return
			}
			require.False(t, rep.OK(), "the altered conversion must diverge")
			d := rep.Divergence
			require.Equal(t, scheduled[tt.activity], d.EventID, "%s", rep)
			require.Equal(t, "ActivityTaskScheduled", d.EventType)
			require.Contains(t, d.History, tt.activity)
			require.Contains(t, d.Code, tt.code)
		})
	}
}
