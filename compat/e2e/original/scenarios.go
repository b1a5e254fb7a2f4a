// Package scenarios holds Temporal workflows written for the end-to-end
// tests of compat: activities (a function and a struct's methods), a
// timer, a signal, a query, an update with a validator and child
// workflows. The package ../converted is their conversion by
// `migrate convert`.
package scenarios

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Order is an order to fulfil.
type Order struct {
	ID    string
	Item  string
	Qty   int
	Price int // cents per item
}

// Receipt is the result of Fulfil.
type Receipt struct {
	OrderID     string
	Reservation string
	Charged     int
	Shipped     bool
}

// Activities are the order activities, registered as a struct.
type Activities struct{}

// Reserve reserves qty items and returns a reservation code.
func (a *Activities) Reserve(ctx context.Context, item string, qty int) (string, error) {
	return fmt.Sprintf("R-%s-%d", item, qty), nil
}

// Charge charges amount cents for an order and returns what was charged.
func (a *Activities) Charge(ctx context.Context, orderID string, amount int) (int, error) {
	return amount, nil
}

// Ship ships a reservation.
func (a *Activities) Ship(ctx context.Context, reservation string) error {
	return nil
}

// Shout is a plain function activity.
func Shout(ctx context.Context, s string) (string, error) {
	return strings.ToUpper(s) + "!", nil
}

// Fulfil reserves, charges, waits a moment, then ships an order.
func Fulfil(ctx workflow.Context, o Order) (Receipt, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3},
	})
	var a *Activities
	var r Receipt
	r.OrderID = o.ID
	if err := workflow.ExecuteActivity(ctx, a.Reserve, o.Item, o.Qty).Get(ctx, &r.Reservation); err != nil {
		return r, err
	}
	if err := workflow.ExecuteActivity(ctx, a.Charge, o.ID, o.Qty*o.Price).Get(ctx, &r.Charged); err != nil {
		return r, err
	}
	if err := workflow.Sleep(ctx, 200*time.Millisecond); err != nil {
		return r, err
	}
	if err := workflow.ExecuteActivity(ctx, a.Ship, r.Reservation).Get(ctx, nil); err != nil {
		return r, err
	}
	r.Shipped = true
	return r, nil
}

// Approval waits for an "approve" signal. A "status" query reports its
// state; a "bump" update adds to its level (a validator rejects values
// below 1).
func Approval(ctx workflow.Context, subject string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	level := 0
	status := "waiting"
	if err := workflow.SetQueryHandler(ctx, "status", func() (string, error) {
		return fmt.Sprintf("%s level=%d", status, level), nil
	}); err != nil {
		return "", err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, "bump", func(ctx workflow.Context, n int) (int, error) {
		level += n
		return level, nil
	}, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, n int) error {
			if n < 1 {
				return fmt.Errorf("bump by %d: must be at least 1", n)
			}
			return nil
		},
	}); err != nil {
		return "", err
	}
	var approver string
	workflow.GetSignalChannel(ctx, "approve").Receive(ctx, &approver)
	status = "approved"
	var loud string
	if err := workflow.ExecuteActivity(ctx, Shout, subject).Get(ctx, &loud); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s by %s at level %d", loud, approver, level), nil
}

// Square is a child workflow.
func Square(ctx workflow.Context, n int) (int, error) {
	return n * n, nil
}

// SumOfSquares runs a Square child for each number and adds the results.
func SumOfSquares(ctx workflow.Context, ns []int) (int, error) {
	sum := 0
	for _, n := range ns {
		var sq int
		if err := workflow.ExecuteChildWorkflow(ctx, Square, n).Get(ctx, &sq); err != nil {
			return 0, err
		}
		sum += sq
	}
	return sum, nil
}
