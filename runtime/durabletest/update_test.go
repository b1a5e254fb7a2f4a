package durabletest_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

// CounterWorkflow adds what updates bring (after an hour's work each) and
// returns once the total reaches 10.
func CounterWorkflow(ctx context.Context) (int, error) {
	total := 0
	err := durable.SetUpdateHandler(ctx, "add", func(ctx context.Context, n int) (int, error) {
		if err := durable.Sleep(ctx, time.Hour); err != nil {
			return 0, err
		}
		total += n
		return total, nil
	}, durable.UpdateOptions{Validator: func(n int) error {
		if n <= 0 {
			return errors.New("only positive amounts")
		}
		return nil
	}})
	if err != nil {
		return 0, err
	}
	if err := durable.Await(ctx, func() bool { return total >= 10 }); err != nil {
		return 0, err
	}
	return total, nil
}

func TestUpdateWorkflow(t *testing.T) {
	t.Parallel()

	env := durabletest.NewEnv(t)
	start := env.Now()
	var events []string
	record := func(what string) { events = append(events, what+" at "+env.Now().Sub(start).String()) }
	callbacks := &durabletest.TestUpdateCallback{
		OnAccept: func() { record("accepted") },
		OnReject: func(err error) { record("rejected: " + err.Error()) },
		OnComplete: func(v any, err error) {
			require.NoError(t, err)
			record("completed with " + itoa(durabletest.As[int](v)))
		},
	}
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow("add", "", callbacks, -5) }, time.Hour)
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow("add", "", callbacks, 10) }, 2*time.Hour)

	env.ExecuteWorkflow(CounterWorkflow)

	var got int
	require.NoError(t, env.GetWorkflowResult(&got))
	require.Equal(t, 10, got)
	require.Equal(t, []string{
		"rejected: only positive amounts at 1h0m0s",
		"accepted at 2h0m0s",
		"completed with 10 at 3h0m0s",
	}, events)
}

// userCallbacks is a test's own update callbacks type, with the method set
// of Temporal's UpdateCallbacks.
type userCallbacks struct {
	events []string
}

func (c *userCallbacks) Accept()          { c.events = append(c.events, "accepted") }
func (c *userCallbacks) Reject(err error) { c.events = append(c.events, "rejected: "+err.Error()) }
func (c *userCallbacks) Complete(success interface{}, err error) {
	if err != nil {
		c.events = append(c.events, "failed: "+err.Error())
		return
	}
	total, ok := durabletest.AsOK[int](success)
	c.events = append(c.events, "completed with "+itoa(total)+" "+strconv.FormatBool(ok))
}

var _ durabletest.UpdateCallbacks = (*userCallbacks)(nil)

func TestUpdateWorkflowUserCallbacks(t *testing.T) {
	t.Parallel()
	env := durabletest.NewEnv(t)
	uc := &userCallbacks{}
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow("add", "1", uc, 0) }, time.Hour)
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow("add", "2", uc, 12) }, 2*time.Hour)
	env.ExecuteWorkflow(CounterWorkflow)
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{"rejected: only positive amounts", "accepted", "completed with 12 true"}, uc.events)
}

func TestAs(t *testing.T) {
	t.Parallel()
	type cart struct{ Items map[string]int }
	v := rawValue(`{"Items":{"apple":1}}`)
	require.Equal(t, 1, durabletest.As[*cart](v).Items["apple"])
	c, ok := durabletest.AsOK[cart](v)
	require.True(t, ok)
	require.Equal(t, 1, c.Items["apple"])
	_, ok = durabletest.AsOK[int](v)
	require.False(t, ok)
	_, ok = durabletest.AsOK[*cart](nil)
	require.False(t, ok)
	require.Panics(t, func() { durabletest.As[string](v) })
	// A value of the type itself is returned as it is.
	require.Equal(t, 7, durabletest.As[int](7))
	_, ok = durabletest.AsOK[string](7)
	require.False(t, ok)
}

type rawValue string

func (r rawValue) Get(ptr any) error { return json.Unmarshal([]byte(r), ptr) }

func TestDevServer(t *testing.T) {
	t.Parallel()
	server, err := durabletest.StartDevServer(context.Background(), durabletest.DevServerOptions{})
	require.NoError(t, err)
	defer func() { _ = server.Stop() }()
	c := server.Client()
	c.RegisterActivity(Greet)
	c.RegisterWorkflow(GreetNow)
	run, err := c.Start(context.Background(), durable.StartOptions{ID: "greet"}, GreetNow, "Fay")
	require.NoError(t, err)
	var got string
	require.NoError(t, run.Get(context.Background(), &got))
	require.Equal(t, "Hello, Fay!", got)
	require.NoError(t, server.Stop())
	require.NoError(t, server.Stop())
}

func GreetNow(ctx context.Context, name string) (string, error) {
	return durable.Call[string](ctx, Greet, name)
}
