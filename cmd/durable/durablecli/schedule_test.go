package durablecli_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/cmd/durable/durablecli"
	"github.com/durablego/toolkit/runtime/durable"
)

// Tick is the workflow the schedule commands' schedule starts.
func Tick(ctx context.Context) (string, error) { return "tick", nil }

func TestScheduleCommands(t *testing.T) {
	t.Parallel()
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind)
			b.worker.RegisterWorkflow(Tick)
			_, err := b.worker.ScheduleClient().Create(b.ctx, durable.ScheduleOptions{
				ID:     "ticker",
				Spec:   durable.ScheduleSpec{Calendars: []durable.ScheduleCalendarSpec{{Hour: []durable.ScheduleRange{{Start: 3}}, Comment: "nightly"}}, TimeZoneName: "Europe/Paris"},
				Action: durable.ScheduleWorkflowAction{ID: "tick", Workflow: Tick},
			})
			require.NoError(t, err)

			out := b.ok(t, "schedule", "list")
			require.Contains(t, out, "ticker")
			require.Contains(t, out, "Tick")
			require.Contains(t, out, "active")

			describe := func() map[string]any {
				var d map[string]any
				require.NoError(t, json.Unmarshal([]byte(b.ok(t, "schedule", "describe", "ticker", "--json")), &d))
				return d
			}
			d := describe()
			require.Equal(t, "ticker", d["id"])
			require.Len(t, d["info"].(map[string]any)["nextActionTimes"], durable.ScheduleNextActionTimesMax)
			text := b.ok(t, "schedule", "describe", "ticker")
			require.Contains(t, text, "calendar (nightly), in Europe/Paris")
			require.Contains(t, text, "Overlap:      Skip")

			require.Contains(t, b.ok(t, "schedule", "trigger", "ticker", "--overlap", "allowall"), "triggered schedule ticker")
			require.Eventually(t, func() bool {
				return describe()["info"].(map[string]any)["numActions"].(float64) == 1
			}, 20*time.Second, 20*time.Millisecond)

			b.ok(t, "schedule", "pause", "ticker", "--note", "holidays")
			d = describe()
			require.Equal(t, true, d["schedule"].(map[string]any)["state"].(map[string]any)["paused"])
			require.Equal(t, "holidays", d["schedule"].(map[string]any)["state"].(map[string]any)["note"])
			require.Contains(t, b.ok(t, "schedule", "list"), "paused")
			b.ok(t, "schedule", "unpause", "ticker")

			r := b.cli(t, durablecli.Config{}, "schedule", "trigger", "ticker", "--overlap", "sometimes")
			require.Equal(t, durablecli.ExitUsage, r.code)
			require.Contains(t, r.stderr, `unknown overlap policy "sometimes"`)
			r = b.cli(t, durablecli.Config{}, "schedule", "describe", "nope")
			require.Equal(t, durablecli.ExitNotFound, r.code, r.stderr)

			require.Contains(t, b.ok(t, "schedule", "delete", "ticker"), "deleted schedule ticker")
			require.NotContains(t, b.ok(t, "schedule", "list"), "ticker")
			r = b.cli(t, durablecli.Config{}, "schedule", "pause", "ticker")
			require.Equal(t, durablecli.ExitNotFound, r.code, r.stderr)
		})
	}
}
