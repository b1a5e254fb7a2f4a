package durablecli_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/cmd/durable/durablecli"
	"github.com/durablego/toolkit/runtime/durable"
)

func TestComplete(t *testing.T) {
	t.Parallel()
	for _, kind := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			b := setup(t, kind)
			b.worker.RegisterActivity(func(ctx context.Context) (string, error) {
				return "", durable.ErrResultPending
			}, durable.WithName("Decide"))
			b.worker.RegisterWorkflow(func(ctx context.Context) (string, error) {
				ctx = durable.WithCallOptions(ctx, durable.CallOptions{RetryPolicy: &durable.RetryPolicy{MaximumAttempts: 1}})
				return durable.Call[string](ctx, "Decide")
			}, durable.WithName("Expense"))

			for _, tc := range []struct {
				name, id string
				args     []string
				stdout   string
				want     string
				err      string
			}{
				{"Result", "approve", []string{`"APPROVED"`}, "completed activity 1 of approve", "APPROVED", ""},
				{"Fail", "reject", []string{"--fail", "no budget", "--type", "Rejected"}, "failed activity 1 of reject", "", "no budget"},
			} {
				b.ok(t, "start", "Expense", "--id", tc.id)
				require.Eventually(t, func() bool {
					h, err := b.worker.History(b.ctx, tc.id, "")
					return err == nil && len(h.PendingActivities) == 1 && h.PendingActivities[0].State == "pending"
				}, 10*time.Second, 10*time.Millisecond, "the activity is pending")
				require.Contains(t, b.ok(t, append([]string{"complete", tc.id, "1"}, tc.args...)...), tc.stdout, tc.name)
				var got string
				err := b.worker.Run(tc.id).Get(b.ctx, &got)
				if tc.err != "" {
					require.ErrorContains(t, err, tc.err, tc.name)
					continue
				}
				require.NoError(t, err, tc.name)
				require.Equal(t, tc.want, got, tc.name)
			}

			r := b.cli(t, durablecli.Config{}, "complete", "approve", "1", `"AGAIN"`)
			require.Equal(t, durablecli.ExitNotFound, r.code, r.stderr)
			require.Contains(t, r.stderr, "the run is completed")
			r = b.cli(t, durablecli.Config{}, "complete", "approve", "1", `"x"`, "--fail", "both")
			require.Equal(t, durablecli.ExitUsage, r.code, r.stderr)
		})
	}
}
