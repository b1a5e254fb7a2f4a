// Package interceptor wraps the workflows and activities an engine runs,
// with the shape of Temporal's go.temporal.io/sdk/interceptor, so that a
// converted interceptor keeps its structure: a WorkerInterceptor returns,
// per run and per activity attempt, inbound interceptors around the next
// ones; their Init wraps the outbound interceptor that the code's calls go
// through. Embed the Base types and override what you intercept: each
// Base method passes the call on to Next.
//
// Install them with durable.WithInterceptors (durabletest:
// WorkerOptions.Interceptors). Workflow interceptors run on every replay
// of a run as they did live, so what they do must be deterministic; the
// calls they make through the outbound interceptor (an activity, a timer,
// a child) are journaled like the workflow's own.
package interceptor

import (
	"context"
	"log/slog"
	"time"

	"github.com/durablego/toolkit/runtime/durable"
)

// The interfaces are the engine's (package durable), named as Temporal's.
type (
	WorkerInterceptor           = durable.WorkerInterceptor
	ActivityInboundInterceptor  = durable.ActivityInboundInterceptor
	ActivityOutboundInterceptor = durable.ActivityOutboundInterceptor
	WorkflowInboundInterceptor  = durable.WorkflowInboundInterceptor
	WorkflowOutboundInterceptor = durable.WorkflowOutboundInterceptor
	ExecuteActivityInput        = durable.ExecuteActivityInput
	ExecuteWorkflowInput        = durable.ExecuteWorkflowInput
	HandleSignalInput           = durable.HandleSignalInput
	HandleQueryInput            = durable.HandleQueryInput
	UpdateInput                 = durable.UpdateInput
)

// WorkerInterceptorBase intercepts nothing: embed it and override
// InterceptActivity or InterceptWorkflow.
type WorkerInterceptorBase struct{}

var _ WorkerInterceptor = &WorkerInterceptorBase{}

// InterceptActivity returns next.
func (*WorkerInterceptorBase) InterceptActivity(ctx context.Context, next ActivityInboundInterceptor) ActivityInboundInterceptor {
	return next
}

// InterceptWorkflow returns next.
func (*WorkerInterceptorBase) InterceptWorkflow(ctx context.Context, next WorkflowInboundInterceptor) WorkflowInboundInterceptor {
	return next
}

// ActivityInboundInterceptorBase passes every call on to Next.
type ActivityInboundInterceptorBase struct {
	Next ActivityInboundInterceptor
}

var _ ActivityInboundInterceptor = &ActivityInboundInterceptorBase{}

// Init calls Next.Init.
func (a *ActivityInboundInterceptorBase) Init(outbound ActivityOutboundInterceptor) error {
	return a.Next.Init(outbound)
}

// ExecuteActivity calls Next.ExecuteActivity.
func (a *ActivityInboundInterceptorBase) ExecuteActivity(ctx context.Context, in *ExecuteActivityInput) (any, error) {
	return a.Next.ExecuteActivity(ctx, in)
}

// ActivityOutboundInterceptorBase passes every call on to Next.
type ActivityOutboundInterceptorBase struct {
	Next ActivityOutboundInterceptor
}

var _ ActivityOutboundInterceptor = &ActivityOutboundInterceptorBase{}

// GetLogger calls Next.GetLogger.
func (a *ActivityOutboundInterceptorBase) GetLogger(ctx context.Context) *slog.Logger {
	return a.Next.GetLogger(ctx)
}

// GetInfo calls Next.GetInfo.
func (a *ActivityOutboundInterceptorBase) GetInfo(ctx context.Context) durable.ActivityInfo {
	return a.Next.GetInfo(ctx)
}

// RecordHeartbeat calls Next.RecordHeartbeat.
func (a *ActivityOutboundInterceptorBase) RecordHeartbeat(ctx context.Context, details ...any) {
	a.Next.RecordHeartbeat(ctx, details...)
}

// HasHeartbeatDetails calls Next.HasHeartbeatDetails.
func (a *ActivityOutboundInterceptorBase) HasHeartbeatDetails(ctx context.Context) bool {
	return a.Next.HasHeartbeatDetails(ctx)
}

// GetHeartbeatDetails calls Next.GetHeartbeatDetails.
func (a *ActivityOutboundInterceptorBase) GetHeartbeatDetails(ctx context.Context, d ...any) error {
	return a.Next.GetHeartbeatDetails(ctx, d...)
}

// WorkflowInboundInterceptorBase passes every call on to Next.
type WorkflowInboundInterceptorBase struct {
	Next WorkflowInboundInterceptor
}

var _ WorkflowInboundInterceptor = &WorkflowInboundInterceptorBase{}

// Init calls Next.Init.
func (w *WorkflowInboundInterceptorBase) Init(outbound WorkflowOutboundInterceptor) error {
	return w.Next.Init(outbound)
}

// ExecuteWorkflow calls Next.ExecuteWorkflow.
func (w *WorkflowInboundInterceptorBase) ExecuteWorkflow(ctx context.Context, in *ExecuteWorkflowInput) (any, error) {
	return w.Next.ExecuteWorkflow(ctx, in)
}

// HandleSignal calls Next.HandleSignal.
func (w *WorkflowInboundInterceptorBase) HandleSignal(ctx context.Context, in *HandleSignalInput) error {
	return w.Next.HandleSignal(ctx, in)
}

// HandleQuery calls Next.HandleQuery.
func (w *WorkflowInboundInterceptorBase) HandleQuery(ctx context.Context, in *HandleQueryInput) (any, error) {
	return w.Next.HandleQuery(ctx, in)
}

// ValidateUpdate calls Next.ValidateUpdate.
func (w *WorkflowInboundInterceptorBase) ValidateUpdate(ctx context.Context, in *UpdateInput) error {
	return w.Next.ValidateUpdate(ctx, in)
}

// ExecuteUpdate calls Next.ExecuteUpdate.
func (w *WorkflowInboundInterceptorBase) ExecuteUpdate(ctx context.Context, in *UpdateInput) (any, error) {
	return w.Next.ExecuteUpdate(ctx, in)
}

// WorkflowOutboundInterceptorBase passes every call on to Next.
type WorkflowOutboundInterceptorBase struct {
	Next WorkflowOutboundInterceptor
}

var _ WorkflowOutboundInterceptor = &WorkflowOutboundInterceptorBase{}

// ExecuteActivity calls Next.ExecuteActivity.
func (w *WorkflowOutboundInterceptorBase) ExecuteActivity(ctx context.Context, activityType string, args ...any) durable.EncodedFuture {
	return w.Next.ExecuteActivity(ctx, activityType, args...)
}

// ExecuteLocalActivity calls Next.ExecuteLocalActivity.
func (w *WorkflowOutboundInterceptorBase) ExecuteLocalActivity(ctx context.Context, activityType string, args ...any) durable.EncodedFuture {
	return w.Next.ExecuteLocalActivity(ctx, activityType, args...)
}

// ExecuteChildWorkflow calls Next.ExecuteChildWorkflow.
func (w *WorkflowOutboundInterceptorBase) ExecuteChildWorkflow(ctx context.Context, childWorkflowType string, args ...any) durable.ChildWorkflowFuture {
	return w.Next.ExecuteChildWorkflow(ctx, childWorkflowType, args...)
}

// GetInfo calls Next.GetInfo.
func (w *WorkflowOutboundInterceptorBase) GetInfo(ctx context.Context) *durable.Info {
	return w.Next.GetInfo(ctx)
}

// GetLogger calls Next.GetLogger.
func (w *WorkflowOutboundInterceptorBase) GetLogger(ctx context.Context) *slog.Logger {
	return w.Next.GetLogger(ctx)
}

// Now calls Next.Now.
func (w *WorkflowOutboundInterceptorBase) Now(ctx context.Context) time.Time {
	return w.Next.Now(ctx)
}

// NewTimer calls Next.NewTimer.
func (w *WorkflowOutboundInterceptorBase) NewTimer(ctx context.Context, d time.Duration) durable.EncodedFuture {
	return w.Next.NewTimer(ctx, d)
}

// Sleep calls Next.Sleep.
func (w *WorkflowOutboundInterceptorBase) Sleep(ctx context.Context, d time.Duration) error {
	return w.Next.Sleep(ctx, d)
}

// SignalExternalWorkflow calls Next.SignalExternalWorkflow.
func (w *WorkflowOutboundInterceptorBase) SignalExternalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) durable.EncodedFuture {
	return w.Next.SignalExternalWorkflow(ctx, workflowID, runID, signalName, arg)
}

// RequestCancelExternalWorkflow calls Next.RequestCancelExternalWorkflow.
func (w *WorkflowOutboundInterceptorBase) RequestCancelExternalWorkflow(ctx context.Context, workflowID, runID string) durable.EncodedFuture {
	return w.Next.RequestCancelExternalWorkflow(ctx, workflowID, runID)
}
