package shaped_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durable/shaped"
	"github.com/durablego/toolkit/runtime/durabletest"
)

func Greet(ctx context.Context, name string) (string, error) {
	return durable.Call[string](ctx, Upper, name)
}

// A worker behind the program's own interface serves its queue from Start
// to Stop; the engine's other queues are untouched.
func TestWorkerServesItsQueueFromStartToStop(t *testing.T) {
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:")
	require.NoError(t, err)
	defer e.Close()

	var w interface {
		RegisterActivity(interface{})
		Start() error
		Stop()
	} = shaped.NewWorker(e, "greetings")
	w.RegisterActivity(Upper)
	e.RegisterWorkflow(Greet)
	require.NotContains(t, e.Queues(), "greetings")

	require.NoError(t, w.Start())
	require.Contains(t, e.Queues(), "greetings")
	require.Contains(t, e.Queues(), durable.QueueDefault)
	run, err := e.Start(ctx, durable.StartOptions{ID: "g1", Queue: "greetings"}, Greet, "ada")
	require.NoError(t, err)
	var out string
	require.NoError(t, run.Get(ctx, &out))
	require.Equal(t, "ADA", out)

	w.Stop()
	require.NotContains(t, e.Queues(), "greetings")
	require.Contains(t, e.Queues(), durable.QueueDefault)
	run, err = e.Start(ctx, durable.StartOptions{ID: "g2", Queue: "greetings"}, Greet, "bob")
	require.NoError(t, err)
	wait, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, run.Get(wait, &out), context.DeadlineExceeded, "a stopped worker's queue is not served")
}

// A worker made on a test's fake client cannot start.
func TestWorkerOnFakeClientFailsToStart(t *testing.T) {
	w := shaped.NewWorker(&durabletest.MockClient{}, "q")
	w.RegisterActivity(Upper)
	require.ErrorContains(t, w.Start(), `worker for queue "q"`)
}
