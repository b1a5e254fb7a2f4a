package durable_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/durablego/toolkit/runtime/durable"
)

// Reviewer hands each expense to a person: it sends the attempt's task
// token to the review queue and returns ErrResultPending.
type Reviewer struct{ queue chan []byte }

func (r *Reviewer) Review(ctx context.Context, expense string) (string, error) {
	r.queue <- durable.GetActivityInfo(ctx).TaskToken
	return "", durable.ErrResultPending
}

func Expense(ctx context.Context, expense string) (string, error) {
	return durable.Call[string](ctx, "Review", expense)
}

func ExampleEngine_CompleteActivity() {
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer e.Close()
	reviewer := &Reviewer{queue: make(chan []byte, 1)}
	e.RegisterWorkflow(Expense)
	e.RegisterActivity(reviewer)

	run, err := e.Start(ctx, durable.StartOptions{ID: "expense-7"}, Expense, "taxi")
	if err != nil {
		panic(err)
	}
	// The person decides, perhaps days later and in another process: any
	// engine on the store completes the activity with the token.
	token := <-reviewer.queue
	if err := e.CompleteActivity(ctx, token, "APPROVED", nil); err != nil {
		panic(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output: APPROVED
}

// Router runs every workflow name nothing else registered.
func Router(ctx context.Context, args durable.EncodedValues) (string, error) {
	var who string
	if err := args.Get(&who); err != nil {
		return "", err
	}
	return durable.GetInfo(ctx).Workflow + " for " + who, nil
}

func ExampleEngine_RegisterDynamicWorkflow() {
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		panic(err)
	}
	defer e.Close()
	e.RegisterDynamicWorkflow(Router)

	run, err := e.Start(ctx, durable.StartOptions{ID: "route-1"}, "send-invoice", "acme")
	if err != nil {
		panic(err)
	}
	var out string
	if err := run.Get(ctx, &out); err != nil {
		panic(err)
	}
	fmt.Println(out)
	// Output: send-invoice for acme
}
