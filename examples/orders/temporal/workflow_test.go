package orders

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

func TestProcessOrder(t *testing.T) {
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestWorkflowEnvironment()
	env.RegisterActivity(Reserve)
	env.RegisterActivity(Charge)
	env.RegisterActivity(Ship)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow("warehouse-ready", true)
	}, 0)
	env.ExecuteWorkflow(ProcessOrder, Order{ID: "42", Amount: 100})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var out string
	require.NoError(t, env.GetWorkflowResult(&out))
	require.Equal(t, "receipt-42-100, tracking-42", out)
}
