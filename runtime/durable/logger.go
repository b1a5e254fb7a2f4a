package durable

import (
	"context"
	"log/slog"
)

// Logger returns the logger for workflow or activity code. In a workflow
// it carries the run's identity and is silent while the run replays, so
// each line is logged once however often the run is replayed. Elsewhere
// it returns slog.Default().
func Logger(ctx context.Context) *slog.Logger {
	if in, _ := ctx.Value(instanceKey).(*instance); in != nil {
		if in.icptOut != nil {
			return in.icptOut.GetLogger(ctx)
		}
		return in.log()
	}
	if st := activityStateOf(ctx); st != nil {
		if st.outbound != nil {
			return st.outbound.GetLogger(ctx)
		}
		return st.logger()
	}
	return slog.Default()
}

// logger is an activity attempt's logger.
func (st *activityState) logger() *slog.Logger {
	return st.e.cfg.logger.With("activity", st.info.Activity, "attempt", st.info.Attempt,
		"workflow_id", st.info.WorkflowID, "run_id", st.info.RunID)
}

// IsReplaying reports whether the workflow code is re-executing journaled
// history rather than making progress.
func IsReplaying(ctx context.Context) bool {
	return instanceOf(ctx, "IsReplaying").reexecuting()
}

// replayHandler drops records while its run replays.
type replayHandler struct {
	in *instance
	h  slog.Handler
}

func (r *replayHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return !r.in.reexecuting() && !r.in.m.ReadOnly() && r.h.Enabled(ctx, l)
}

func (r *replayHandler) Handle(ctx context.Context, rec slog.Record) error {
	return r.h.Handle(ctx, rec)
}

func (r *replayHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &replayHandler{in: r.in, h: r.h.WithAttrs(as)}
}

func (r *replayHandler) WithGroup(name string) slog.Handler {
	return &replayHandler{in: r.in, h: r.h.WithGroup(name)}
}
