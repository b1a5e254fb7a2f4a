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

	"github.com/durablego/toolkit/runtime/durable"
)

// Order is what the workflow processes.
type Order struct {
	ID     string
	Amount int
}

// ProcessOrder reserves stock, charges the card, waits for the warehouse to
// confirm (or gives up after a day) and ships.
func ProcessOrder(ctx context.Context, o Order) (string, error) {
	ctx = durable.WithCallOptions(ctx, durable.CallOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &durable.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumAttempts:        5,
			NonRetryableErrorTypes: []string{"CardDeclined"},
		},
	})
	logger := durable.Logger(ctx)
	logger.Info("processing order", "id", o.ID)

	if err := durable.Exec(ctx, Reserve, o); err != nil {
		return "", err
	}
	var receipt string
	var err error
	if receipt, err = durable.Call[string](ctx, Charge, o); err != nil {
		return "", err
	}

	confirmed := false
	selector := durable.NewSelector(ctx)
	selector.AddReceive(durable.SignalChannel[bool](ctx, "warehouse-ready"), func(c durable.Receiver, more bool) {
		confirmed, _ = c.(durable.ReceiveChannel[bool]).Receive(ctx)
	})
	selector.AddFuture(durable.NewTimer(ctx, 24*time.Hour), func(f durable.Waiter) {})
	selector.Select(ctx)
	if !confirmed {
		return "", fmt.Errorf("order %s: the warehouse did not confirm", o.ID)
	}

	var tracking string
	if tracking, err = durable.Call[string](ctx, Ship, o); err != nil {
		return "", err
	}
	return receipt + ", " + tracking, nil
}

// Reserve reserves stock for an order.
func Reserve(ctx context.Context, o Order) error {
	durable.Logger(ctx).Info("reserving", "id", o.ID)
	return nil
}

// Charge charges the card and returns a receipt.
func Charge(ctx context.Context, o Order) (string, error) {
	if o.Amount <= 0 {
		return "", durable.NewNonRetryableApplicationError("bad amount", "CardDeclined", nil)
	}
	return fmt.Sprintf("receipt-%s-%d", o.ID, o.Amount), nil
}

// Ship ships an order and returns its tracking number.
func Ship(ctx context.Context, o Order) (string, error) {
	return "tracking-" + o.ID, nil
}
