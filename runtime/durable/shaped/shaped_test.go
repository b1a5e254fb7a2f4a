package shaped_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durable/shaped"
)

type order struct {
	ID    string
	Items int
}

func Upper(ctx context.Context, s string) (string, error) { return strings.ToUpper(s), nil }
func Count(ctx context.Context, o order) (int, error)     { return o.Items, nil }
func Fail(ctx context.Context) error {
	return durable.NewNonRetryableApplicationError("no stock", "OutOfStock", nil)
}

func Child(ctx context.Context, n int) (int, error) { return n * 10, nil }

// Everything is the Temporal shape end to end: futures in a slice read into
// values of different types, a selector over a future, a signal channel and
// a timer, a settable future fed by a coroutine, a side effect, a child's
// execution and an activity error.
func Everything(ctx context.Context, name string) (string, error) {
	var out []string
	futures := []shaped.Future{
		shaped.ExecuteActivity(ctx, Upper, name),
		shaped.ExecuteActivity(ctx, Count, order{ID: "o1", Items: 3}),
	}
	var s string
	var n int
	if err := futures[0].Get(ctx, &s); err != nil {
		return "", err
	}
	if err := futures[1].Get(ctx, &n); err != nil {
		return "", err
	}
	out = append(out, fmt.Sprintf("%s/%d", s, n))

	signals := shaped.GetSignalChannel(ctx, "go")
	sel := shaped.NewSelector(ctx)
	var got string
	sel.AddReceive(signals, func(c shaped.ReceiveChannel, more bool) { c.Receive(ctx, &got) })
	sel.AddFuture(shaped.NewTimer(ctx, time.Hour), func(f shaped.Future) { got = "timeout" })
	sel.Select(ctx)
	out = append(out, "signal "+got)

	f, set := shaped.NewFuture(ctx)
	ch := shaped.NewBufferedChannel(ctx, 1)
	durable.Go(ctx, func(ctx context.Context) {
		var v int
		ch.Receive(ctx, &v)
		set.SetValue(v + 1)
	})
	ch.Send(ctx, 41)
	var answer int
	if err := f.Get(ctx, &answer); err != nil {
		return "", err
	}
	out = append(out, fmt.Sprint(answer))

	var rnd int
	if err := shaped.SideEffect(ctx, func(ctx context.Context) any { return 7 }).Get(&rnd); err != nil {
		return "", err
	}
	out = append(out, fmt.Sprint(rnd))

	cf := shaped.ExecuteChildWorkflow(durable.WithChildOptions(ctx, durable.ChildOptions{ID: "kid"}), Child, 4)
	var exec shaped.WorkflowExecution
	if err := cf.GetChildWorkflowExecution().Get(ctx, &exec); err != nil {
		return "", err
	}
	var kid int
	if err := cf.Get(ctx, &kid); err != nil {
		return "", err
	}
	out = append(out, fmt.Sprintf("%s=%d", exec.ID, kid))

	err := shaped.ExecuteActivity(ctx, Fail).Get(ctx, nil)
	var appErr *durable.ApplicationError
	if !errors.As(err, &appErr) {
		return "", fmt.Errorf("want an application error, got %v", err)
	}
	out = append(out, appErr.Type())

	ok, _ := shaped.GetSignalChannel(ctx, "never").ReceiveWithTimeout(ctx, time.Millisecond, nil)
	out = append(out, fmt.Sprint(ok))
	return strings.Join(out, " "), nil
}

func TestShaped(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		opts []durable.Option
	}{
		{"ParkedInMemory", nil},
		{"EvictedAtEveryWait", []durable.Option{durable.WithMaxCachedRuns(1), durable.WithEvictAfter(time.Nanosecond)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			opts := append([]durable.Option{durable.WithLogger(slog.New(slog.DiscardHandler))}, tc.opts...)
			e, err := durable.Open(ctx, "memory:", opts...)
			require.NoError(t, err)
			t.Cleanup(func() { e.Close() })
			e.RegisterWorkflow(Everything)
			e.RegisterWorkflow(Child)
			e.RegisterActivity(Upper)
			e.RegisterActivity(Count)
			e.RegisterActivity(Fail)
			run, err := e.Start(ctx, durable.StartOptions{ID: "everything"}, Everything, "gopher")
			require.NoError(t, err)
			require.NoError(t, e.Signal(ctx, "everything", "go", "now"))
			tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			var out string
			require.NoError(t, run.Get(tctx, &out))
			require.Equal(t, "GOPHER/3 signal now 42 7 kid=40 OutOfStock false", out)
			info, err := e.Describe(ctx, "everything")
			require.NoError(t, err)
			require.NoError(t, e.Verify(ctx, info.RunID), "the journal replays to the same result")
		})
	}
}
