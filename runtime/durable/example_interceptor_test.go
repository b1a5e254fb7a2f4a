package durable_test

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/durablego/toolkit/runtime/durable"
	"github.com/durablego/toolkit/runtime/durable/interceptor"
)

// quota refuses every activity call past the first limit of a run: its
// outbound ExecuteActivity counts the calls and returns a failed future
// instead of passing the call on.
type quota struct {
	interceptor.WorkerInterceptorBase
	limit int
}

func (q *quota) InterceptWorkflow(ctx context.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	in := &quotaIn{limit: q.limit}
	in.Next = next
	return in
}

type quotaIn struct {
	interceptor.WorkflowInboundInterceptorBase
	limit int
}

func (i *quotaIn) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	out := &quotaOut{left: i.limit}
	out.Next = outbound
	return i.Next.Init(out)
}

type quotaOut struct {
	interceptor.WorkflowOutboundInterceptorBase
	left int
}

func (o *quotaOut) ExecuteActivity(ctx context.Context, activityType string, args ...any) durable.EncodedFuture {
	if o.left == 0 {
		f, s := durable.NewFuture[any](ctx)
		s.SetError(durable.NewApplicationError("quota exhausted before "+activityType, "Quota"))
		return durable.Encoded(f)
	}
	o.left--
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}

func ShoutThrice(ctx context.Context, name string) (string, error) {
	out := ""
	for range 3 {
		s, err := durable.Call[string](ctx, Shout, name)
		if err != nil {
			return out, err
		}
		out += s + " "
	}
	return out, nil
}

func ExampleWithInterceptors() {
	ctx := context.Background()
	e, err := durable.Open(ctx, "memory:",
		durable.WithLogger(slog.New(slog.DiscardHandler)),
		durable.WithInterceptors(&quota{limit: 2}))
	if err != nil {
		panic(err)
	}
	defer e.Close()
	e.RegisterWorkflow(ShoutThrice)
	e.RegisterActivity(Shout)

	run, err := e.Start(ctx, durable.StartOptions{ID: "quota-1"}, ShoutThrice, "hi")
	if err != nil {
		panic(err)
	}
	var out string
	err = run.Get(ctx, &out)
	fmt.Println(err)
	// Output: quota exhausted before Shout
}
