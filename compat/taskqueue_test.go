package compat_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/durablego/toolkit/compat"
	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durabletest"
)

// TestDescribeTaskQueue reads a durable queue in Temporal's shapes: the
// loop a stats endpoint runs over VersionsInfo, TypesInfo and Pollers.
func TestDescribeTaskQueue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:", durable.WithWorkerID("worker-1"), durable.WithQueues("orders"))
	require.NoError(t, err)
	defer e.Close()
	e.RegisterWorkflow(Holder)
	for _, id := range []string{"b1", "b2", "b3"} {
		_, err := e.Start(ctx, durable.StartOptions{ID: id, Queue: "billing"}, Holder, true)
		require.NoError(t, err)
	}

	stats := func(queue string) (backlog int64, workers []string) {
		t.Helper()
		resp, err := compat.DescribeTaskQueueEnhanced(ctx, e, client.DescribeTaskQueueEnhancedOptions{
			TaskQueue: queue, ReportStats: true, ReportPollers: true,
		})
		require.NoError(t, err)
		for _, v := range resp.VersionsInfo {
			for tt, ti := range v.TypesInfo {
				require.Contains(t, []client.TaskQueueType{client.TaskQueueTypeWorkflow, client.TaskQueueTypeActivity}, tt)
				require.NotNil(t, ti.Stats)
				backlog += ti.Stats.ApproximateBacklogCount
				if tt == client.TaskQueueTypeWorkflow {
					for _, p := range ti.Pollers {
						require.WithinDuration(t, time.Now(), p.LastAccessTime, time.Minute)
						workers = append(workers, p.Identity)
					}
				}
			}
		}
		return backlog, workers
	}
	backlog, workers := stats("billing")
	require.Equal(t, int64(3), backlog, "nobody serves billing")
	require.Empty(t, workers)
	backlog, workers = stats("orders")
	require.Zero(t, backlog)
	require.Equal(t, []string{"worker-1"}, workers, "the engine serves orders")

	resp, err := compat.DescribeTaskQueueEnhanced(ctx, e, client.DescribeTaskQueueEnhancedOptions{
		TaskQueue: "billing", TaskQueueTypes: []client.TaskQueueType{client.TaskQueueTypeActivity},
	})
	require.NoError(t, err)
	ti := resp.VersionsInfo[""].TypesInfo
	require.Len(t, ti, 1)
	require.Nil(t, ti[client.TaskQueueTypeActivity].Stats, "ReportStats is off")

	old, err := compat.DescribeTaskQueue(ctx, e, "billing", enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	require.NoError(t, err)
	require.Equal(t, int64(3), old.GetStats().GetApproximateBacklogCount())
	require.Positive(t, old.GetStats().GetApproximateBacklogAge().AsDuration())
	require.Empty(t, old.GetPollers())

	_, err = compat.DescribeTaskQueueEnhanced(ctx, &durabletest.MockClient{}, client.DescribeTaskQueueEnhancedOptions{TaskQueue: "billing"})
	require.ErrorContains(t, err, "MockClient cannot describe queues")
	_, err = compat.DescribeTaskQueue(ctx, e, "", enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	require.ErrorContains(t, err, "missing task queue")
}
