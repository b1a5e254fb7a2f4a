package durabletest

import (
	"context"
	"strings"
	"sync"

	"github.com/durablego/toolkit/runtime/durable"
)

// envInterceptors are the Env's worker interceptors, settable after NewEnv
// made the engine: the engine holds this list as its one interceptor,
// which wraps the code in each of them, the first outermost.
type envInterceptors struct {
	mu sync.RWMutex
	is []durable.WorkerInterceptor
}

func (l *envInterceptors) set(is []durable.WorkerInterceptor) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.is = append([]durable.WorkerInterceptor(nil), is...)
}

func (l *envInterceptors) list() []durable.WorkerInterceptor {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.is
}

func (l *envInterceptors) InterceptActivity(ctx context.Context, next durable.ActivityInboundInterceptor) durable.ActivityInboundInterceptor {
	is := l.list()
	for i := len(is) - 1; i >= 0; i-- {
		next = is[i].InterceptActivity(ctx, next)
	}
	return next
}

// activityRunnerPrefix names the workflows ActivityEnv.ExecuteActivity
// runs its activity in; workflow interceptors do not see them (Temporal's
// activity environment runs no workflow), activity interceptors do.
const activityRunnerPrefix = "durabletest.ExecuteActivity."

func (l *envInterceptors) InterceptWorkflow(ctx context.Context, next durable.WorkflowInboundInterceptor) durable.WorkflowInboundInterceptor {
	if strings.HasPrefix(durable.GetInfo(ctx).Workflow, activityRunnerPrefix) {
		return next
	}
	is := l.list()
	for i := len(is) - 1; i >= 0; i-- {
		next = is[i].InterceptWorkflow(ctx, next)
	}
	return next
}
