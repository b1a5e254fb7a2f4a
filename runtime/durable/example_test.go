package durable_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

func Shout(ctx context.Context, s string) (string, error) { return strings.ToUpper(s), nil }

func Greeter(ctx context.Context, name string) (string, error) {
	return durable.Call[string](ctx, Shout, "hello "+name)
}

func ExampleEngine_Start() {
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer e.Close()
	e.RegisterWorkflow(Greeter)
	e.RegisterActivity(Shout)

	run, err := e.Start(ctx, durable.StartOptions{ID: "greet-1"}, Greeter, "gopher")
	if err != nil {
		panic(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output: HELLO GOPHER
}

func Approval(ctx context.Context, amount int) (string, error) {
	state := "waiting"
	durable.SetQueryHandler(ctx, "state", func() (string, error) { return state, nil })
	approved, err := durable.Receive[bool](ctx, "approve")
	if err != nil {
		return "", err
	}
	if !approved {
		return "rejected", nil
	}
	state = "approved"
	if err := durable.Sleep(ctx, 10*time.Millisecond); err != nil { // a durable timer
		return "", err
	}
	return fmt.Sprintf("paid %d", amount), nil
}

func ExampleEngine_Signal() {
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer e.Close()
	e.RegisterWorkflow(Approval)

	run, err := e.Start(ctx, durable.StartOptions{ID: "invoice-7"}, Approval, 120)
	if err != nil {
		panic(err)
	}
	v, err := e.Query(ctx, "invoice-7", "state")
	if err != nil {
		panic(err)
	}
	var state string
	v.Get(&state)
	fmt.Println("state:", state)

	if err := e.Signal(ctx, "invoice-7", "approve", true); err != nil { // persisted before it returns
		panic(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output:
	// state: waiting
	// paid 120
}

func Parent(ctx context.Context, n int) (int, error) {
	// Fan out to children and collect their results in order.
	futures := make([]durable.Future[int], n)
	for i := range n {
		futures[i] = durable.ChildAsync[int](ctx, Square, i+1)
	}
	sum := 0
	for _, f := range futures {
		v, err := f.Get(ctx)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

func Square(ctx context.Context, n int) (int, error) { return n * n, nil }

func ExampleChildAsync() {
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer e.Close()
	e.RegisterWorkflow(Parent)
	e.RegisterWorkflow(Square)

	run, err := e.Start(ctx, durable.StartOptions{}, Parent, 3)
	if err != nil {
		panic(err)
	}
	var sum int
	if err := run.Get(ctx, &sum); err != nil {
		panic(err)
	}
	fmt.Println(sum)
	// Output: 14
}
