package compat

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/durablego/toolkit/runtime/durable"
)

// ScheduleClient routes schedules as ExecuteWorkflow routes executions:
// Create puts a schedule on the side the rollout policy picks for its
// action's workflow type and the schedule ID (the decision is recorded
// under the scheduler's workflow ID, durable.ScheduleWorkflowIDPrefix +
// the schedule ID), so the workflows it starts run on that side; GetHandle
// reaches a schedule where it was created; List lists Temporal's schedules,
// then durable's.
func (c *Client) ScheduleClient() client.ScheduleClient {
	return &routedSchedules{c: c, durable: ScheduleClient(c.engine)}
}

type routedSchedules struct {
	c       *Client
	durable client.ScheduleClient
}

func (r *routedSchedules) Create(ctx context.Context, o client.ScheduleOptions) (client.ScheduleHandle, error) {
	var name string
	if a, ok := o.Action.(*client.ScheduleWorkflowAction); ok && a != nil {
		name = workflowName(a.Workflow)
	}
	d, err := r.c.decide(ctx, name, durable.ScheduleWorkflowIDPrefix+o.ID)
	if err != nil {
		return nil, err
	}
	if d.Side == Durable {
		return r.durable.Create(ctx, o)
	}
	return r.c.Client.ScheduleClient().Create(ctx, o)
}

func (r *routedSchedules) GetHandle(ctx context.Context, id string) client.ScheduleHandle {
	if r.c.sideOf(ctx, durable.ScheduleWorkflowIDPrefix+id) == Durable {
		return r.durable.GetHandle(ctx, id)
	}
	return r.c.Client.ScheduleClient().GetHandle(ctx, id)
}

func (r *routedSchedules) List(ctx context.Context, o client.ScheduleListOptions) (client.ScheduleListIterator, error) {
	t, err := r.c.Client.ScheduleClient().List(ctx, o)
	if err != nil {
		return nil, err
	}
	d, err := r.durable.List(ctx, o)
	if err != nil {
		return nil, err
	}
	return &chainedIterator{its: []client.ScheduleListIterator{t, d}}, nil
}

// chainedIterator lists one iterator's entries, then the next's.
type chainedIterator struct{ its []client.ScheduleListIterator }

func (c *chainedIterator) HasNext() bool {
	for len(c.its) > 0 {
		if c.its[0].HasNext() {
			return true
		}
		c.its = c.its[1:]
	}
	return false
}

func (c *chainedIterator) Next() (*client.ScheduleListEntry, error) {
	if !c.HasNext() {
		return nil, errNoMoreSchedules
	}
	return c.its[0].Next()
}
