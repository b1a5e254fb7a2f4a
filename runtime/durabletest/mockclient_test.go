package durabletest_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

// requester is code under test that holds a durable.Client, as converted
// HTTP handlers and requesters do.
type requester struct{ c durable.Client }

func (r requester) ask(ctx context.Context, id, q string) (string, error) {
	if err := r.c.Signal(ctx, id, "request", q); err != nil {
		return "", err
	}
	v, err := r.c.Query(ctx, id, "response", q)
	if err != nil {
		return "", err
	}
	var out string
	return out, v.Get(&out)
}

func TestMockClientRecordsTemporalShapedCalls(t *testing.T) {
	c := &durabletest.MockClient{}
	val := &durabletest.MockValue{}
	val.On("Get", mock.AnythingOfType("*string")).Return(nil).Run(func(args mock.Arguments) {
		*args.Get(0).(*string) = "ANSWER"
	})
	c.On("SignalWorkflow", mock.Anything, "wf", "", "request", "question").Return(nil).Once()
	c.On("QueryWorkflow", mock.Anything, "wf", "", "response", "question").Return(val, nil).Once()

	got, err := requester{c}.ask(context.Background(), "wf", "question")
	require.NoError(t, err)
	require.Equal(t, "ANSWER", got)
	c.AssertExpectations(t)
	val.AssertExpectations(t)
}

func TestMockClientReturnsErrorsAndRuns(t *testing.T) {
	c := &durabletest.MockClient{}
	boom := errors.New("boom")
	run := &durabletest.MockRun{}
	run.On("GetID").Return("order-1")
	run.On("Get", mock.Anything, mock.Anything).Return(boom)
	c.On("ExecuteWorkflow", mock.Anything, durable.StartOptions{ID: "order-1"}, "Order", 7).Return(run, nil)
	c.On("CancelWorkflow", mock.Anything, "order-1", "").Return(boom)
	c.On("TerminateWorkflow", mock.Anything, "order-1", "", "stop").Return(nil)

	ctx := context.Background()
	r, err := c.Start(ctx, durable.StartOptions{ID: "order-1"}, "Order", 7)
	require.NoError(t, err)
	require.Equal(t, "order-1", r.ID())
	require.ErrorIs(t, r.Get(ctx, nil), boom)
	require.ErrorIs(t, c.Cancel(ctx, "order-1"), boom)
	require.NoError(t, c.Terminate(ctx, "order-1", "stop"))
	c.AssertExpectations(t)
}

// TestMockClientUnexpectedCallFails checks that a call with no expectation
// fails the test, as testify mocks do, instead of returning zero values.
func TestMockClientUnexpectedCallFails(t *testing.T) {
	c := &durabletest.MockClient{}
	c.On("SignalWorkflow", mock.Anything, "wf", "", "a", 1).Return(nil)
	require.Panics(t, func() { _ = c.Signal(context.Background(), "wf", "b", 1) })
}
