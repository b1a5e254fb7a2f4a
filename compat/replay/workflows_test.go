package replay_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// Converted workflows, as `migrate convert` writes them.

func Hello(ctx context.Context, name string) (string, error) { return "Hello " + name, nil }

func Count(ctx context.Context, n int) (int, error) { return n + 1, nil }

func Charge(ctx context.Context, order string, cents int) (string, error) {
	return fmt.Sprintf("%s:%d", order, cents), nil
}

// Greet calls an activity, sleeps and waits for a signal.
func Greet(ctx context.Context, name string) (string, error) {
	s, err := durable.Call[string](ctx, Hello, name)
	if err != nil {
		return "", err
	}
	if err := durable.Sleep(ctx, time.Minute); err != nil {
		return "", err
	}
	mark, err := durable.Receive[string](ctx, "approve")
	if err != nil {
		return "", err
	}
	return s + mark, nil
}

// Fan starts two activities and waits for both, then calls a third.
func Fan(ctx context.Context) (string, error) {
	a := durable.Async[string](ctx, Hello, "a")
	b := durable.Async[int](ctx, Count, 1)
	x, err := a.Get(ctx)
	if err != nil {
		return "", err
	}
	y, err := b.Get(ctx)
	if err != nil {
		return "", err
	}
	return durable.Call[string](ctx, Charge, x, y)
}

// Guarded uses a side effect and a version.
func Guarded(ctx context.Context) (string, error) {
	id := durable.SideEffect(ctx, func() string { return "random" })
	if durable.Version(ctx, "charge-v2", durable.DefaultVersion, 1) == 1 {
		return durable.Call[string](ctx, Charge, id, 2)
	}
	return durable.Call[string](ctx, Charge, id, 1)
}

func Kid(ctx context.Context, n int) (int, error) { return n * 2, nil }

// Parent runs a child, named after its own workflow ID, and signals
// another workflow.
func Parent(ctx context.Context) (int, error) {
	kidCtx := durable.WithChildOptions(ctx, durable.ChildOptions{ID: durable.GetInfo(ctx).WorkflowID + "-kid"})
	r, err := durable.Child[int](kidCtx, Kid, 21)
	if err != nil {
		return 0, err
	}
	if err := durable.SignalExternal(ctx, "other", "done", r); err != nil {
		return 0, err
	}
	return r, nil
}

// Counter accepts "add" updates until it receives "stop".
func Counter(ctx context.Context) (int, error) {
	total := 0
	if err := durable.SetUpdateHandler(ctx, "add", func(ctx context.Context, n int) (int, error) {
		total += n
		return total, nil
	}); err != nil {
		return 0, err
	}
	if _, err := durable.Receive[bool](ctx, "stop"); err != nil {
		return 0, err
	}
	return total, nil
}

// Fallback survives a failed activity.
func Fallback(ctx context.Context) (string, error) {
	s, err := durable.Call[string](ctx, Hello, "x")
	var app *durable.ApplicationError
	if errors.As(err, &app) && app.Type() == "Busy" {
		return "fallback", nil
	}
	return s, err
}
