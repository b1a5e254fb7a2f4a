package e2e

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/runtime/durable"
)

// TestShadow samples every Fulfil execution that runs on Temporal for
// shadow verification: once it closes, the client fetches its history
// from the server and verifies it against the code on the engine, in the
// background. With the converted code it verifies; with an altered
// conversion the divergence is logged and counted. Neither touches the
// caller's result.
func TestShadow(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	for _, tt := range []struct {
		name     string
		register func(e *durable.Engine)
		counter  string
	}{
		{"Verified", registerConverted, "shadow.verified"},
		{"Diverged", func(e *durable.Engine) {
			registerActivities(e)
			e.RegisterWorkflow(fulfilReordered, durable.WithName("Fulfil"))
		}, "shadow.diverged"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := openEngine(t, "memory:")
			tt.register(e)
			logs := &logBuffer{}
			c, err := compat.New(tc, e, compat.Policy{Workflows: map[string]compat.WorkflowPolicy{"Fulfil": {Shadow: 100}}},
				compat.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
			require.NoError(t, err)
			t.Cleanup(c.Close)

			s := scenarios[0]
			id := "shadow-" + tt.name
			got := s.run(ctx, t, c, id, 4)
			require.Equal(t, asJSON(t, s.want(4)), got)
			checkSide(t, c, e, id, compat.Temporal)

			// Wait for the background verification to be counted.
			require.NoError(t, eventually(ctx, func() error {
				if v := c.Vars().Get(tt.counter); v == nil || v.String() != "1" {
					return fmt.Errorf("%s not counted yet; logs:\n%s", tt.counter, logs)
				}
				return nil
			}))
			for _, other := range []string{"shadow.verified", "shadow.diverged", "shadow.errors", "shadow.skipped"} {
				if other != tt.counter {
					require.Nil(t, c.Vars().Get(other), other)
				}
			}
			if tt.counter == "shadow.diverged" {
				h := fetchHistory(ctx, t, id, "")
				var reserve int64
				for _, ev := range h.Events {
					if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil && a.GetActivityType().GetName() == "Reserve" {
						reserve = ev.GetEventId()
					}
				}
				require.Contains(t, logs.String(), "compat: shadow divergence")
				require.Contains(t, logs.String(), fmt.Sprintf("event_id=%d", reserve))
			} else {
				require.Contains(t, logs.String(), "compat: shadow verified")
			}
		})
	}
}
