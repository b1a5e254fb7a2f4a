package durable

import (
	"context"
	"errors"
)

// ErrNoLastCompletionResult is what GetLastCompletionResult returns: the
// durable runtime has no cron schedules, so no run has a previous
// scheduled run whose result it could read.
var ErrNoLastCompletionResult = errors.New("durable: no last completion result (the durable runtime has no cron schedules)")

// HasLastCompletionResult reports whether the run was started by a cron
// schedule after a run that completed (Temporal's
// workflow.HasLastCompletionResult). The durable runtime has no cron
// schedules, so it is always false: a converted cron workflow behaves as
// its schedule's first run.
func HasLastCompletionResult(ctx context.Context) bool {
	instanceOf(ctx, "HasLastCompletionResult")
	return false
}

// GetLastCompletionResult decodes the result of the schedule's previous
// run into ptr (Temporal's workflow.GetLastCompletionResult). It returns
// ErrNoLastCompletionResult: see HasLastCompletionResult.
func GetLastCompletionResult(ctx context.Context, ptr ...any) error {
	instanceOf(ctx, "GetLastCompletionResult")
	return ErrNoLastCompletionResult
}
