package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"

	"example.com/apps/orders/activities"
)

type OrderSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
}

func TestOrderSuite(t *testing.T) { suite.Run(t, new(OrderSuite)) }

func (s *OrderSuite) order() activities.Order {
	return activities.Order{ID: "o-1", Items: []string{"tea", "cups"}, Amount: 12}
}

func (s *OrderSuite) register(env *testsuite.TestWorkflowEnvironment, stock map[string]int) {
	env.RegisterActivity(&activities.Activities{Stock: stock})
	env.RegisterActivity(activities.Notify)
	env.RegisterWorkflow(ShipmentWorkflow)
}

func (s *OrderSuite) TestApproved() {
	env := s.NewTestWorkflowEnvironment()
	s.register(env, map[string]int{"tea": 1, "cups": 4})
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow("approve", approval{By: "ann", OK: true})
	}, time.Hour)
	env.ExecuteWorkflow(OrderWorkflow, s.order())
	s.True(env.IsWorkflowCompleted())
	s.NoError(env.GetWorkflowError())
	var st Status
	s.NoError(env.GetWorkflowResult(&st))
	s.Equal("shipped TRACK-o-1-2", st.State)
	s.Equal("receipt-o-1", st.Receipt)
}

func (s *OrderSuite) TestRejectedWithMockedNotify() {
	env := s.NewTestWorkflowEnvironment()
	s.register(env, map[string]int{"tea": 1, "cups": 1})
	var told string
	env.OnActivity(activities.Notify, mock.Anything, "o-1", mock.Anything).Return(func(_ context.Context, id, msg string) error {
		told = msg
		return nil
	}).Once()
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow("approve", approval{By: "bob", OK: false})
	}, time.Minute)
	env.ExecuteWorkflow(OrderWorkflow, s.order())
	s.NoError(env.GetWorkflowError())
	var st Status
	s.NoError(env.GetWorkflowResult(&st))
	s.Equal("rejected by bob", st.State)
	s.Equal("rejected by bob", told)
	env.AssertExpectations(s.T())
}

func (s *OrderSuite) TestTimesOutAndAnswersQueries() {
	env := s.NewTestWorkflowEnvironment()
	s.register(env, map[string]int{"tea": 1, "cups": 1})
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow("status")
		s.NoError(err)
		var st Status
		s.NoError(v.Get(&st))
		s.Equal("awaiting approval", st.State)
	}, time.Hour)
	env.ExecuteWorkflow(OrderWorkflow, s.order())
	s.NoError(env.GetWorkflowError())
	var st Status
	s.NoError(env.GetWorkflowResult(&st))
	s.Equal("timed out", st.State)
}

func (s *OrderSuite) TestOutOfStock() {
	env := s.NewTestWorkflowEnvironment()
	s.register(env, map[string]int{"tea": 1})
	env.ExecuteWorkflow(OrderWorkflow, s.order())
	s.NoError(env.GetWorkflowError())
	var st Status
	s.NoError(env.GetWorkflowResult(&st))
	s.Equal("out of stock", st.State)
}
