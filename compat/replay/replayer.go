package replay

import (
	"context"
	"fmt"
	"log/slog"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/log"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durable/shaped"
)

// WorkflowReplayer replays workflow histories through converted workflow
// code, as Temporal's worker.WorkflowReplayer replays them through the
// original: `migrate convert` turns worker.NewWorkflowReplayer into
// NewWorkflowReplayer, so replay tests written for Temporal keep checking
// the converted code against the histories the old code made, and code
// that replayed executions from a Temporal server replays durable runs.
//
// Each replay runs on a fresh in-memory engine with the registered
// workflows: nothing is written anywhere and no activity runs. A history
// the code departs from returns a *DivergedError.
type WorkflowReplayer struct {
	workflows []registration
	opts      []Option
}

type registration struct {
	fn   any
	opts []durable.RegisterOption
}

// NewWorkflowReplayer returns a replayer; opts apply to every history it
// replays (WithPayloadCodecs for encoded histories, WithWorkflow).
func NewWorkflowReplayer(opts ...Option) *WorkflowReplayer {
	return &WorkflowReplayer{opts: opts}
}

// RegisterWorkflow registers a workflow function to replay histories
// through, under its own name as durable.Engine.RegisterWorkflow does.
func (r *WorkflowReplayer) RegisterWorkflow(w any) {
	r.workflows = append(r.workflows, registration{fn: w})
}

// RegisterWorkflowWithOptions registers a workflow under the options'
// name (durable.WithName).
func (r *WorkflowReplayer) RegisterWorkflowWithOptions(w any, opts ...durable.RegisterOption) {
	r.workflows = append(r.workflows, registration{fn: w, opts: opts})
}

// DivergedError is the error of a replay whose history the code departs
// from; Report says where and how.
type DivergedError struct {
	Report *Report
}

func (e *DivergedError) Error() string { return "replay: " + e.Report.String() }

// ReplayWorkflowHistory replays a Temporal history. logger, when not nil,
// gets one line per replayed history.
func (r *WorkflowReplayer) ReplayWorkflowHistory(logger log.Logger, h *historypb.History) error {
	return r.replay(context.Background(), logger, h)
}

// ReplayWorkflowHistoryFromJSONFile replays a Temporal history exported as
// JSON (temporal workflow show --output json, or the web UI's download).
func (r *WorkflowReplayer) ReplayWorkflowHistoryFromJSONFile(logger log.Logger, path string) error {
	h, err := Load(path)
	if err != nil {
		return err
	}
	return r.replay(context.Background(), logger, h)
}

// ReplayPartialWorkflowHistoryFromJSONFile replays the events of a history
// file up to and including lastEventID; the run's end is not compared.
func (r *WorkflowReplayer) ReplayPartialWorkflowHistoryFromJSONFile(logger log.Logger, path string, lastEventID int64) error {
	h, err := Load(path)
	if err != nil {
		return err
	}
	part := &historypb.History{}
	for _, ev := range h.GetEvents() {
		if ev.GetEventId() > lastEventID {
			break
		}
		part.Events = append(part.Events, ev)
	}
	return r.replay(context.Background(), logger, part)
}

// HistorySource is where ReplayWorkflowExecution reads a run's history: a
// durable engine (or client) on the store the run is in.
type HistorySource interface {
	History(ctx context.Context, workflowID, runID string) (*durable.History, error)
}

// ReplayWorkflowExecution replays a durable run, read from src, through
// the registered code: Temporal's version reads an execution from a
// Temporal server. execution is what workflow.Execution converts to. It checks what Engine.Verify checks, with this
// replayer's code instead of src's. namespace is ignored (a durable store
// is one namespace).
func (r *WorkflowReplayer) ReplayWorkflowExecution(ctx context.Context, src HistorySource, logger log.Logger, namespace string, execution shaped.WorkflowExecution) error {
	h, err := src.History(ctx, execution.ID, execution.RunID)
	if err != nil {
		return fmt.Errorf("replay: history of %s: %w", execution.ID, err)
	}
	if h.Run == nil {
		return fmt.Errorf("replay: history of %s: no run", execution.ID)
	}
	e, err := r.engine(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	if err := e.Replay(ctx, h.Run.WorkflowID, h.Run.Workflow, h.Events); err != nil {
		return fmt.Errorf("replay: run %s of %s: %w", h.Run.RunID, h.Run.WorkflowID, err)
	}
	if logger != nil {
		logger.Info("replayed workflow run", "WorkflowID", h.Run.WorkflowID, "RunID", h.Run.RunID, "Events", len(h.Events))
	}
	return nil
}

// replay verifies one Temporal history on a fresh engine.
func (r *WorkflowReplayer) replay(ctx context.Context, logger log.Logger, h *historypb.History) error {
	e, err := r.engine(ctx)
	if err != nil {
		return err
	}
	defer e.Close()
	rep, err := Verify(ctx, e, h, r.opts...)
	if err != nil {
		return err
	}
	if !rep.OK() {
		return &DivergedError{Report: rep}
	}
	if logger != nil {
		logger.Info("replayed workflow history", "WorkflowID", rep.WorkflowID, "Workflow", rep.Workflow, "Events", rep.Events)
	}
	return nil
}

// engine opens an in-memory engine with the registered workflows.
func (r *WorkflowReplayer) engine(ctx context.Context) (*durable.Engine, error) {
	if len(r.workflows) == 0 {
		return nil, fmt.Errorf("replay: no workflow registered with the replayer")
	}
	e, err := durable.Open(ctx, "memory:", durable.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	err = registerSafely(e, func(e *durable.Engine) {
		for _, w := range r.workflows {
			e.RegisterWorkflow(w.fn, w.opts...)
		}
	})
	if err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}
