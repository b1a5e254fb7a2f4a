package durabletest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// Echo is the activity Limited's update handler calls.
func Echo(ctx context.Context, s string) (string, error) { return s, nil }

// Limited takes "echo" updates until limit of them have been accepted:
// the validator rejects the ones past it, and the workflow returns the
// count an hour after the accepted handlers have finished. With call, a
// handler calls the Echo activity; without, it returns at once.
func Limited(ctx context.Context, limit int, call bool) (int, error) {
	count, running := 0, 0
	err := durable.SetUpdateHandler(ctx, "echo", func(ctx context.Context, s string) (string, error) {
		count++
		running++
		defer func() { running-- }()
		if !call {
			return s, nil
		}
		return durable.Call[string](ctx, Echo, s)
	}, durable.UpdateOptions{Validator: func(s string) error {
		if count >= limit {
			return errors.New("full")
		}
		return nil
	}})
	if err != nil {
		return 0, err
	}
	if err := durable.Await(ctx, func() bool { return count >= limit && running == 0 }); err != nil {
		return 0, err
	}
	if err := durable.Sleep(ctx, time.Hour); err != nil {
		return 0, err
	}
	return count, nil
}

// TestUpdateWorkflowOrder checks UpdateWorkflow against Temporal's test
// environment: it returns at once, updates sent by callbacks due at one
// instant are all validated before the activities their handlers call
// start, and callbacks hear of each update in the order things happened.
func TestUpdateWorkflowOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		call   bool            // handlers call an activity
		delays []time.Duration // of the callbacks sending u0, u1, ...
		// With ordered, want is every callback call in order. Otherwise
		// the handlers' activities run side by side: verdicts are the
		// Accept and Reject calls, all before the first Complete call, and
		// completions the Complete calls in any order.
		ordered               bool
		want                  []string
		verdicts, completions []string
	}{{
		name:        "a burst is validated while the first handlers wait for their activities",
		call:        true,
		delays:      []time.Duration{1, 1, 1, 1, 1},
		verdicts:    []string{"u0 accepted", "u1 accepted", "u2 accepted", "u3 rejected: full", "u4 rejected: full"},
		completions: []string{"u0 completed: u0", "u1 completed: u1", "u2 completed: u2"},
	}, {
		name:    "a handler that does not wait finishes before the next update is validated",
		delays:  []time.Duration{1, 1, 1, 1},
		ordered: true,
		want: []string{"u0 accepted", "u0 completed: u0", "u1 accepted", "u1 completed: u1",
			"u2 accepted", "u2 completed: u2", "u3 rejected: full"},
	}, {
		name:    "updates at different instants",
		call:    true,
		delays:  []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 4 * time.Minute},
		ordered: true,
		want: []string{"u0 accepted", "u0 completed: u0", "u1 accepted", "u1 completed: u1",
			"u2 accepted", "u2 completed: u2", "u3 rejected: full"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := durabletest.NewEnv(t)
			env.RegisterActivity(Echo)
			var events []string
			for i, d := range tt.delays {
				id := "u" + itoa(i)
				env.RegisterDelayedCallback(func() {
					before := len(events)
					env.UpdateWorkflow("echo", id, &durabletest.TestUpdateCallback{
						OnAccept: func() { events = append(events, id+" accepted") },
						OnReject: func(err error) { events = append(events, id+" rejected: "+err.Error()) },
						OnComplete: func(v any, err error) {
							require.NoError(t, err)
							events = append(events, id+" completed: "+durabletest.As[string](v))
						},
					}, id)
					require.Len(t, events, before, "UpdateWorkflow returns before the update's outcome")
				}, d)
			}
			env.ExecuteWorkflow(Limited, 3, tt.call)
			var n int
			require.NoError(t, env.GetWorkflowResult(&n))
			require.Equal(t, 3, n)
			if tt.ordered {
				require.Equal(t, tt.want, events)
				return
			}
			require.Len(t, events, len(tt.verdicts)+len(tt.completions))
			require.Equal(t, tt.verdicts, events[:len(tt.verdicts)], "every verdict comes before the first completion")
			require.ElementsMatch(t, tt.completions, events[len(tt.verdicts):])
		})
	}
}

// TestUpdateWorkflowDuplicateID checks that an update ID sent again is not
// sent twice and gets the first update's outcome, as with Temporal.
func TestUpdateWorkflowDuplicateID(t *testing.T) {
	t.Parallel()
	env := durabletest.NewEnv(t)
	start := env.Now()
	var events []string
	callbacks := func(who string) *durabletest.TestUpdateCallback {
		return &durabletest.TestUpdateCallback{
			OnAccept: func() { events = append(events, who+" accepted at "+env.Now().Sub(start).String()) },
			OnReject: func(err error) { events = append(events, who+" rejected: "+err.Error()) },
			OnComplete: func(v any, err error) {
				require.NoError(t, err)
				events = append(events, who+" completed with "+itoa(durabletest.As[int](v))+" at "+env.Now().Sub(start).String())
			},
		}
	}
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow("add", "a", callbacks("first"), 4) }, time.Minute)
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow("add", "a", callbacks("while running"), 100) }, 2*time.Minute)
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow("add", "a", callbacks("after"), 100) }, 3*time.Hour)
	env.RegisterDelayedCallback(func() { env.UpdateWorkflow("add", "b", callbacks("second"), 6) }, 4*time.Hour)
	env.ExecuteWorkflow(CounterWorkflow)
	var total int
	require.NoError(t, env.GetWorkflowResult(&total))
	require.Equal(t, 10, total)
	require.Equal(t, []string{
		"first accepted at 1m0s",
		"first completed with 4 at 1h1m0s",
		"while running accepted at 1h1m0s",
		"while running completed with 4 at 1h1m0s",
		"after accepted at 3h0m0s",
		"after completed with 4 at 3h0m0s",
		"second accepted at 4h0m0s",
		"second completed with 10 at 5h0m0s",
	}, events)
}

// TestUpdateWorkflowRunCloses checks that an update whose handler still
// runs when the workflow returns is accepted and never completed, as with
// Temporal, and that ExecuteWorkflow does not wait for it.
func TestUpdateWorkflowRunCloses(t *testing.T) {
	t.Parallel()
	env := durabletest.NewEnv(t)
	var events []string
	wf := func(ctx context.Context) error {
		if err := durable.SetUpdateHandler(ctx, "slow", func(ctx context.Context) error {
			return durable.Sleep(ctx, 24*time.Hour)
		}); err != nil {
			return err
		}
		return durable.Sleep(ctx, time.Hour)
	}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow("slow", "", &durabletest.TestUpdateCallback{
			OnAccept:   func() { events = append(events, "accepted") },
			OnReject:   func(err error) { events = append(events, "rejected: "+err.Error()) },
			OnComplete: func(v any, err error) { events = append(events, fmt.Sprintf("completed: %v %v", v, err)) },
		})
	}, time.Minute)
	env.ExecuteWorkflow(wf)
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{"accepted"}, events)
}
