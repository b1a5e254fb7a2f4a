package e2e

import (
	"context"
	"strconv"
	"time"

	converted "github.com/durablego/toolkit/compat/e2e/converted"
	"github.com/durablego/toolkit/runtime/durable"
)

// Deliberately altered copies of converted.Fulfil, each registered under
// the name "Fulfil" on its own engine: the replay of a real Fulfil
// history must report where each departs from it.

var a *converted.Activities

// fulfilReordered charges before it reserves.
func fulfilReordered(ctx context.Context, o converted.Order) (converted.Receipt, error) {
	r := converted.Receipt{OrderID: o.ID}
	var err error
	if r.Charged, err = durable.Call[int](ctx, a.Charge, o.ID, o.Qty*o.Price); err != nil {
		return r, err
	}
	if r.Reservation, err = durable.Call[string](ctx, a.Reserve, o.Item, o.Qty); err != nil {
		return r, err
	}
	if err := durable.Sleep(ctx, 200*time.Millisecond); err != nil {
		return r, err
	}
	if err := durable.Exec(ctx, a.Ship, r.Reservation); err != nil {
		return r, err
	}
	r.Shipped = true
	return r, nil
}

// altActivities changes the type of Reserve's quantity to string.
type altActivities struct{ converted.Activities }

func (a *altActivities) Reserve(ctx context.Context, item string, qty string) (string, error) {
	return "R-" + item + "-" + qty, nil
}

// fulfilArgType passes Reserve its quantity as a string (registered with
// altActivities).
func fulfilArgType(ctx context.Context, o converted.Order) (converted.Receipt, error) {
	var alt *altActivities
	r := converted.Receipt{OrderID: o.ID}
	var err error
	if r.Reservation, err = durable.Call[string](ctx, alt.Reserve, o.Item, strconv.Itoa(o.Qty)); err != nil {
		return r, err
	}
	if r.Charged, err = durable.Call[int](ctx, a.Charge, o.ID, o.Qty*o.Price); err != nil {
		return r, err
	}
	if err := durable.Sleep(ctx, 200*time.Millisecond); err != nil {
		return r, err
	}
	if err := durable.Exec(ctx, a.Ship, r.Reservation); err != nil {
		return r, err
	}
	r.Shipped = true
	return r, nil
}

// fulfilArgValue charges one cent more than the order's total.
func fulfilArgValue(ctx context.Context, o converted.Order) (converted.Receipt, error) {
	r := converted.Receipt{OrderID: o.ID}
	var err error
	if r.Reservation, err = durable.Call[string](ctx, a.Reserve, o.Item, o.Qty); err != nil {
		return r, err
	}
	if r.Charged, err = durable.Call[int](ctx, a.Charge, o.ID, o.Qty*o.Price+1); err != nil {
		return r, err
	}
	if err := durable.Sleep(ctx, 200*time.Millisecond); err != nil {
		return r, err
	}
	if err := durable.Exec(ctx, a.Ship, r.Reservation); err != nil {
		return r, err
	}
	r.Shipped = true
	return r, nil
}

// registerActivities registers the converted activities only.
func registerActivities(e *durable.Engine) {
	e.RegisterActivity(&converted.Activities{})
	e.RegisterActivity(converted.Shout)
}
