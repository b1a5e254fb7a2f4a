package orders

import (
	"testing"

	"github.com/durablego/toolkit/runtime/durabletest"
	"github.com/stretchr/testify/require"
)

func TestProcessOrder(t *testing.T) {
	env := durabletest.NewEnv(t)
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
