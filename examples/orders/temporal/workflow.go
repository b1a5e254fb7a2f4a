// Package orders processes orders. examples/orders/temporal is the
// Temporal original; examples/orders/durable is its conversion, made with
//
//	go run ./cmd/migrate convert -o /tmp/conv ./examples/orders/temporal
//	cp /tmp/conv/examples/orders/temporal/*.go examples/orders/durable/
package orders

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Order is what the workflow processes.
type Order struct {
	ID     string
	Amount int
}

// ProcessOrder reserves stock, charges the card, waits for the warehouse to
// confirm (or gives up after a day) and ships.
func ProcessOrder(ctx workflow.Context, o Order) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{"CardDeclined"},
		},
	})
	logger := workflow.GetLogger(ctx)
	logger.Info("processing order", "id", o.ID)

	if err := workflow.ExecuteActivity(ctx, Reserve, o).Get(ctx, nil); err != nil {
		return "", err
	}
	var receipt string
	if err := workflow.ExecuteActivity(ctx, Charge, o).Get(ctx, &receipt); err != nil {
		return "", err
	}

	confirmed := false
	selector := workflow.NewSelector(ctx)
	selector.AddReceive(workflow.GetSignalChannel(ctx, "warehouse-ready"), func(c workflow.ReceiveChannel, more bool) {
		c.Receive(ctx, &confirmed)
	})
	selector.AddFuture(workflow.NewTimer(ctx, 24*time.Hour), func(f workflow.Future) {})
	selector.Select(ctx)
	if !confirmed {
		return "", fmt.Errorf("order %s: the warehouse did not confirm", o.ID)
	}

	var tracking string
	if err := workflow.ExecuteActivity(ctx, Ship, o).Get(ctx, &tracking); err != nil {
		return "", err
	}
	return receipt + ", " + tracking, nil
}

// Reserve reserves stock for an order.
func Reserve(ctx context.Context, o Order) error {
	activity.GetLogger(ctx).Info("reserving", "id", o.ID)
	return nil
}

// Charge charges the card and returns a receipt.
func Charge(ctx context.Context, o Order) (string, error) {
	if o.Amount <= 0 {
		return "", temporal.NewNonRetryableApplicationError("bad amount", "CardDeclined", nil)
	}
	return fmt.Sprintf("receipt-%s-%d", o.ID, o.Amount), nil
}

// Ship ships an order and returns its tracking number.
func Ship(ctx context.Context, o Order) (string, error) {
	return "tracking-" + o.ID, nil
}
