package e2e

import (
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/runtime/durable"
)

// policyAll routes every scenario's workflow type at percent.
func policyAll(percent float64) compat.Policy {
	p := compat.Policy{Workflows: map[string]compat.WorkflowPolicy{}}
	for _, s := range scenarios {
		p.Workflows[s.workflow] = compat.WorkflowPolicy{Percent: percent}
	}
	return p
}

// execution is one planned execution: scenario s with input k under id,
// expected on side.
type execution struct {
	s    scenario
	k    int
	id   string
	side compat.Side
}

// plan picks, for each scenario and input k in 1..2, workflow IDs that p
// routes to each side it routes any ID to: at 50% every input runs once
// on Temporal and once on the durable engine.
func plan(p compat.Policy, prefix string) []execution {
	var out []execution
	for _, s := range scenarios {
		for k := 1; k <= 2; k++ {
			need := map[compat.Side]bool{compat.Temporal: true, compat.Durable: true}
			switch pc := p.Workflows[s.workflow].Percent; pc {
			case 0:
				need[compat.Durable] = false
			case 100:
				need[compat.Temporal] = false
			}
			for j := 0; need[compat.Temporal] || need[compat.Durable]; j++ {
				id := fmt.Sprintf("%s-%s-%d-%d", prefix, s.workflow, k, j)
				side := p.Decide(s.workflow, id).Side
				if need[side] {
					need[side] = false
					out = append(out, execution{s, k, id, side})
				}
			}
		}
	}
	return out
}

// checkSide asserts that id ran on side and only there.
func checkSide(t *testing.T, c *compat.Client, e *durable.Engine, id string, side compat.Side) {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	_, derr := e.Describe(ctx, id)
	_, terr := tc.DescribeWorkflowExecution(ctx, id, "")
	var notFound *serviceerror.NotFound
	switch side {
	case compat.Durable:
		require.NoError(t, derr, "%s should have run on the durable engine", id)
		require.ErrorAs(t, terr, &notFound, "%s should not exist on Temporal", id)
	case compat.Temporal:
		require.NoError(t, terr, "%s should have run on Temporal", id)
		require.ErrorIs(t, derr, durable.ErrNotFound, "%s should not exist on the durable engine", id)
	}
	// compat's own Describe finds it wherever it ran, closed.
	resp, err := c.DescribeWorkflowExecution(ctx, id, "")
	require.NoError(t, err)
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, resp.GetWorkflowExecutionInfo().GetStatus(), id)
}

// TestRollout runs every scenario through one compat.Client at 0%, 50%
// and 100%: the original code on Temporal, the converted code on a
// durable engine (an SQLite file). Results agree whichever side ran an
// input; queries, updates and signals reach the side that owns the ID.
func TestRollout(t *testing.T) {
	ctx := testCtx(t, 4*time.Minute)
	e := openEngine(t, "sqlite")
	registerConverted(e)
	logs := &logBuffer{}
	c, err := compat.New(tc, e, compat.Policy{}, compat.WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	require.NoError(t, err)
	t.Cleanup(c.Close)

	counts := map[compat.Side]int{}
	for _, percent := range []float64{0, 50, 100} {
		p := policyAll(percent)
		require.NoError(t, c.SetPolicy(p))
		execs := plan(p, fmt.Sprintf("rollout-%v", percent))
		t.Run(fmt.Sprintf("percent=%v", percent), func(t *testing.T) {
			for _, x := range execs {
				t.Run(x.id, func(t *testing.T) {
					t.Parallel()
					got := x.s.run(ctx, t, c, x.id, x.k)
					require.Equal(t, asJSON(t, x.s.want(x.k)), got, "%s on %s", x.id, x.side)
					checkSide(t, c, e, x.id, x.side)
				})
			}
		})
		for _, x := range execs {
			counts[x.side]++
		}
	}
	// 6 inputs on Temporal at 0%, 6 on each side at 50%, 6 durable at 100%.
	require.Equal(t, map[compat.Side]int{compat.Temporal: 12, compat.Durable: 12}, counts)
	require.Equal(t, "12", c.Vars().Get("route.durable.percent").String())
	require.Equal(t, "6", c.Vars().Get("route.temporal.percent").String())
	require.Equal(t, "6", c.Vars().Get("route.temporal.off").String())
	require.Contains(t, logs.String(), "compat: route")
}

// TestKillSwitch turns the kill switch on while durable executions wait
// for their follow-ups: new executions go back to Temporal, the running
// durable ones keep getting their queries, updates and signals and finish
// on the durable engine.
func TestKillSwitch(t *testing.T) {
	ctx := testCtx(t, 2*time.Minute)
	e := openEngine(t, "memory:")
	registerConverted(e)
	approval := scenarios[2]
	require.Equal(t, "Approval", approval.workflow)
	c, err := compat.New(tc, e, compat.Policy{Workflows: map[string]compat.WorkflowPolicy{"Approval": {Percent: 100}}},
		compat.WithLogger(slog.New(slog.DiscardHandler)))
	require.NoError(t, err)
	t.Cleanup(c.Close)

	// Two executions start on the durable engine and wait for "approve".
	var running []string
	for k := 1; k <= 2; k++ {
		id := fmt.Sprintf("kill-before-%d", k)
		_, err := c.ExecuteWorkflow(ctx, clientOptions(id), approval.fn, approval.args(k)...)
		require.NoError(t, err)
		require.NoError(t, eventually(ctx, func() error { _, err := query(ctx, c, id); return err }))
		running = append(running, id)
	}

	// Kill switch on, the percentage unchanged.
	require.NoError(t, c.SetPolicy(compat.Policy{Workflows: map[string]compat.WorkflowPolicy{"Approval": {Percent: 100, Kill: true}}}))

	// A new execution goes to Temporal and completes there.
	got := approval.run(ctx, t, c, "kill-after-3", 3)
	require.Equal(t, asJSON(t, approval.want(3)), got)
	checkSide(t, c, e, "kill-after-3", compat.Temporal)

	// The running durable executions get their follow-ups on the durable
	// engine and finish there.
	for k, id := range running {
		approval.drive(ctx, t, c, id, k+1)
		var res string
		require.NoError(t, c.GetWorkflow(ctx, id, "").Get(ctx, &res))
		require.Equal(t, approval.want(k+1), res)
		checkSide(t, c, e, id, compat.Durable)
	}
	require.Equal(t, "2", c.Vars().Get("route.durable.percent").String())
	require.Equal(t, "1", c.Vars().Get("route.temporal.kill").String())
}
