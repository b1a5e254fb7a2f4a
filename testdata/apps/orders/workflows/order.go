// Package workflows holds the order service's workflows.
package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"example.com/apps/orders/activities"
)

// TaskQueue is the queue the order worker serves.
const TaskQueue = "orders"

// Status is what the "status" query returns.
type Status struct {
	State   string
	Receipt string
}

// approval is the payload of the "approve" signal.
type approval struct {
	By string
	OK bool
}

// listener keeps the order's signal channels together.
type listener struct {
	approve workflow.ReceiveChannel
	cancel  workflow.ReceiveChannel
}

var a *activities.Activities

// OrderWorkflow reserves stock, waits for an approval (or a cancel, or a
// day), charges, ships through a child workflow and notifies.
func OrderWorkflow(ctx workflow.Context, order activities.Order) (Status, error) {
	logger := workflow.GetLogger(ctx)
	status := Status{State: "reserving"}
	if err := workflow.SetQueryHandler(ctx, "status", func() (Status, error) { return status, nil }); err != nil {
		return status, err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumAttempts:        3,
			NonRetryableErrorTypes: []string{"OutOfStock"},
		},
	})
	var reserved int
	if err := workflow.ExecuteActivity(ctx, a.Reserve, order).Get(ctx, &reserved); err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == "OutOfStock" {
			status.State = "out of stock"
			return status, nil
		}
		return status, err
	}
	logger.Info("reserved", "order", order.ID, "items", reserved)

	status.State = "awaiting approval"
	l := listener{
		approve: workflow.GetSignalChannel(ctx, "approve"),
		cancel:  workflow.GetSignalChannel(ctx, "cancel"),
	}
	decided := waitForDecision(ctx, l, 24*time.Hour)
	if decided != "approved" {
		status.State = decided
		_ = workflow.ExecuteActivity(ctx, activities.Notify, order.ID, decided).Get(ctx, nil)
		return status, nil
	}

	if err := workflow.ExecuteActivity(ctx, a.Charge, order.ID, order.Amount).Get(ctx, &status.Receipt); err != nil {
		return status, err
	}
	status.State = "shipping"
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: order.ID + "-shipment"})
	var tracking string
	if err := workflow.ExecuteChildWorkflow(cctx, ShipmentWorkflow, order.ID, len(order.Items)).Get(ctx, &tracking); err != nil {
		return status, err
	}
	status.State = "shipped " + tracking
	if err := workflow.ExecuteActivity(ctx, activities.Notify, order.ID, "shipped").Get(ctx, nil); err != nil {
		return status, err
	}
	return status, nil
}

// waitForDecision waits for an approval or a cancellation signal, or for
// the timeout, and says which came first.
func waitForDecision(ctx workflow.Context, l listener, timeout time.Duration) string {
	decision := ""
	tctx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	timer := workflow.NewTimer(tctx, timeout)
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(l.approve, func(c workflow.ReceiveChannel, more bool) {
		var ap approval
		c.Receive(ctx, &ap)
		if ap.OK {
			decision = "approved"
		} else {
			decision = "rejected by " + ap.By
		}
	})
	sel.AddReceive(l.cancel, func(c workflow.ReceiveChannel, more bool) {
		c.Receive(ctx, nil)
		decision = "cancelled"
	})
	sel.AddFuture(timer, func(f workflow.Future) { decision = "timed out" })
	sel.Select(ctx)
	return decision
}
