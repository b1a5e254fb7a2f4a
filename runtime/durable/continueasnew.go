package durable

import (
	"context"

	"github.com/durablego/toolkit/internal/journal"
	"github.com/durablego/toolkit/runtime/store"
)

// ContinueAsNew returns the error a workflow returns to end its run and
// start workflow again with args under the same workflow ID and a fresh
// journal (Temporal's NewContinueAsNewError). Run(id).Get follows the
// chain to the final result.
func ContinueAsNew(ctx context.Context, workflow any, args ...any) error {
	in := instanceOf(ctx, "ContinueAsNew")
	name, _, raw, err := in.e.reg.workflowCall("durable.ContinueAsNew", workflow, args)
	if err != nil {
		return err
	}
	return &ContinueAsNewError{Workflow: name, args: raw}
}

// continueAsNew closes the run and creates the next one of its chain.
func (in *instance) continueAsNew(can *ContinueAsNewError) {
	data := &journal.ContinuedData{Workflow: can.Workflow, Args: can.args}
	if in.replaying() {
		got := in.command(journal.ContinuedAsNew, data)
		if d, err := journal.Decode(journal.ContinuedAsNew, got); err == nil {
			data = d.(*journal.ContinuedData)
		}
	} else {
		data.NextRunID = newID()
		in.command(journal.ContinuedAsNew, data)
	}
	if in.halt != nil {
		return
	}
	u := &store.RunUpdate{Status: store.StatusContinued, NextRunID: data.NextRunID}
	in.closeWith(u)
	if in.m.ReadOnly() {
		return
	}
	started := &journal.StartedData{
		Workflow: can.Workflow, Args: can.args, Queue: in.queue, WorkflowID: in.workflowID,
		ParentID: in.started.ParentID, ParentRun: in.started.ParentRun, ParentSeq: in.started.ParentSeq,
		Continued: in.runID, Chain: in.started.Chain + 1,
		Deadline: in.started.Deadline, RunTimeout: in.started.RunTimeout, Options: withAttributes(in.started.Options, in.attributes()),
		Header: in.started.Header, // the chain keeps its context values
	}
	p := &store.CreateRunParams{
		Run: &store.Run{
			RunID: data.NextRunID, WorkflowID: in.workflowID, Workflow: can.Workflow, Queue: in.queue,
			Status: store.StatusRunning, Input: can.args, ParentRunID: in.started.ParentRun, PrevRunID: in.runID,
			WakeAt: in.e.cfg.clock.Now(),
		},
		Events: []store.Event{{Kind: journal.Started, Data: journal.Encode(started), At: eventTime(in.e.cfg.clock.Now())}},
	}
	if in.e.serves(in.queue) && in.e.reg.workflow(can.Workflow) != nil {
		p.Owner, p.Lease = in.e.workerID, in.e.cfg.lease
	}
	in.m.Step().Runs = append(in.m.Step().Runs, p)
}
