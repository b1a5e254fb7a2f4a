// Package activities holds the order service's activities, as methods of a
// struct that carries their dependencies.
package activities

import (
	"context"
	"fmt"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Order is what a customer asks for.
type Order struct {
	ID     string
	Items  []string
	Amount int
}

// Activities are the order service's side effects.
type Activities struct {
	// Stock is the number of each item in the warehouse.
	Stock map[string]int
}

// Reserve checks the stock of every item.
func (a *Activities) Reserve(ctx context.Context, o Order) (int, error) {
	logger := activity.GetLogger(ctx)
	logger.Info("reserving", "order", o.ID, "items", len(o.Items))
	for i, it := range o.Items {
		activity.RecordHeartbeat(ctx, i)
		if a.Stock[it] <= 0 {
			return 0, temporal.NewNonRetryableApplicationError("out of stock: "+it, "OutOfStock", nil, it)
		}
	}
	return len(o.Items), nil
}

// Charge takes the payment.
func (a *Activities) Charge(ctx context.Context, orderID string, amount int) (string, error) {
	if amount <= 0 {
		return "", fmt.Errorf("charge %s: bad amount %d", orderID, amount)
	}
	return "receipt-" + orderID, nil
}

// Notify tells the customer.
func Notify(ctx context.Context, orderID, message string) error {
	activity.GetLogger(ctx).Info("notify", "order", orderID, "message", strings.ToUpper(message))
	return nil
}
