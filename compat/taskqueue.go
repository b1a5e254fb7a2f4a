package compat

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/durablego/toolkit/runtime/durable"
)

// Temporal's task queue description types, under compat so that
// converted code that reads them names no Temporal client package.
type (
	DescribeTaskQueueEnhancedOptions = client.DescribeTaskQueueEnhancedOptions
	TaskQueueDescription             = client.TaskQueueDescription
	TaskQueueVersionInfo             = client.TaskQueueVersionInfo
	TaskQueueTypeInfo                = client.TaskQueueTypeInfo
	TaskQueuePollerInfo              = client.TaskQueuePollerInfo
	TaskQueueStats                   = client.TaskQueueStats
	TaskQueueType                    = client.TaskQueueType
)

// Temporal's task queue types.
const (
	TaskQueueTypeUnspecified = client.TaskQueueTypeUnspecified
	TaskQueueTypeWorkflow    = client.TaskQueueTypeWorkflow
	TaskQueueTypeActivity    = client.TaskQueueTypeActivity
	TaskQueueTypeNexus       = client.TaskQueueTypeNexus
)

// queueDescriber is what DescribeTaskQueue needs of a durable.Client: the
// engine has it.
type queueDescriber interface {
	DescribeQueue(ctx context.Context, queue string) (*durable.QueueInfo, error)
}

// describeQueue reads the queue through c, which must be an engine.
func describeQueue(ctx context.Context, c durable.Client, queue string) (*durable.QueueInfo, error) {
	d, ok := c.(queueDescriber)
	if !ok {
		return nil, fmt.Errorf("a %T cannot describe queues: give an *durable.Engine", c)
	}
	if queue == "" {
		return nil, errors.New("missing task queue")
	}
	return d.DescribeQueue(ctx, queue)
}

// DescribeTaskQueueEnhanced answers Temporal's DescribeTaskQueueEnhanced
// from the durable store, in Temporal's shape, so a stats or health
// endpoint that reads it keeps working: one version (the unversioned
// "", since durable queues have no build IDs) whose workflow and
// activity types carry the queue's backlog (Stats, when ReportStats) and
// its workers (Pollers, when ReportPollers).
//
// A durable queue's backlog is the work no live worker holds
// (durable.QueueInfo); its workers are those holding leases on the
// queue's work, and the engine asked when it serves the queue, each seen
// at the time of the call (a live lease is renewed while its worker
// lives). The rates Temporal reports (TasksAddRate, TasksDispatchRate,
// BacklogIncreaseRate) are zero: the store keeps no counters over time.
func DescribeTaskQueueEnhanced(ctx context.Context, c durable.Client, opts client.DescribeTaskQueueEnhancedOptions) (client.TaskQueueDescription, error) {
	info, err := describeQueue(ctx, c, opts.TaskQueue)
	if err != nil {
		return client.TaskQueueDescription{}, fmt.Errorf("compat: DescribeTaskQueueEnhanced: %w", err)
	}
	now := time.Now()
	types := opts.TaskQueueTypes
	if len(types) == 0 {
		types = []client.TaskQueueType{client.TaskQueueTypeWorkflow, client.TaskQueueTypeActivity}
	}
	byType := map[client.TaskQueueType]client.TaskQueueTypeInfo{}
	for _, tt := range types {
		backlog, ok := backlogOf(info, tt)
		if !ok {
			continue
		}
		var ti client.TaskQueueTypeInfo
		if opts.ReportStats {
			ti.Stats = &client.TaskQueueStats{ApproximateBacklogCount: backlog.Count, ApproximateBacklogAge: backlog.Age(now)}
		}
		if opts.ReportPollers {
			for _, w := range info.Workers {
				ti.Pollers = append(ti.Pollers, client.TaskQueuePollerInfo{LastAccessTime: now, Identity: w.ID})
			}
		}
		byType[tt] = ti
	}
	return client.TaskQueueDescription{VersionsInfo: map[string]client.TaskQueueVersionInfo{"": {TypesInfo: byType}}}, nil
}

// DescribeTaskQueue answers Temporal's DescribeTaskQueue for one task
// queue type from the durable store: the queue's workers as pollers and
// its backlog as stats (see DescribeTaskQueueEnhanced).
func DescribeTaskQueue(ctx context.Context, c durable.Client, taskQueue string, taskQueueType enumspb.TaskQueueType) (*workflowservice.DescribeTaskQueueResponse, error) {
	info, err := describeQueue(ctx, c, taskQueue)
	if err != nil {
		return nil, fmt.Errorf("compat: DescribeTaskQueue: %w", err)
	}
	var tt client.TaskQueueType = client.TaskQueueTypeWorkflow
	if taskQueueType == enumspb.TASK_QUEUE_TYPE_ACTIVITY {
		tt = client.TaskQueueTypeActivity
	}
	backlog, ok := backlogOf(info, tt)
	if !ok {
		return nil, fmt.Errorf("compat: DescribeTaskQueue: task queue type %v has no durable counterpart", taskQueueType)
	}
	now := time.Now()
	resp := &workflowservice.DescribeTaskQueueResponse{
		Stats: &taskqueuepb.TaskQueueStats{ApproximateBacklogCount: backlog.Count, ApproximateBacklogAge: durationpb.New(backlog.Age(now))},
	}
	for _, w := range info.Workers {
		resp.Pollers = append(resp.Pollers, &taskqueuepb.PollerInfo{LastAccessTime: timestamppb.New(now), Identity: w.ID})
	}
	return resp, nil
}

// backlogOf is the durable backlog that stands for a Temporal task queue
// type; Nexus has none.
func backlogOf(info *durable.QueueInfo, tt client.TaskQueueType) (durable.QueueBacklog, bool) {
	switch tt {
	case client.TaskQueueTypeWorkflow:
		return info.Workflows, true
	case client.TaskQueueTypeActivity:
		return info.Activities, true
	}
	return durable.QueueBacklog{}, false
}
