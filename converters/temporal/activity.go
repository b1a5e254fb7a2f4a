package temporal

import "github.com/dave/dst"

// activityRule converts activity calls and their futures.
//
//	err := workflow.ExecuteActivity(ctx, A, x).Get(ctx, &r)  ->  r, err := durable.Call[T](ctx, A, x)
//	workflow.ExecuteActivity(ctx, A, x).Get(ctx, nil)        ->  durable.Exec(ctx, A, x)
//	f := workflow.ExecuteActivity(ctx, A, x); f.Get(ctx, &r) ->  f := durable.Async[T](...); r, err = f.Get(ctx)
//
// Local activities become CallLocal, ExecLocal and AsyncLocal. The activity
// argument (function, method value of a nil struct pointer, or name) is kept.
var activityRule = rule{
	Name: "activity",
	Doc:  "activity calls and futures to durable.Call, Exec and Async",
	Run: func(p *pass) {
		p.convertFutures(pkgWorkflow, map[string]producer{
			"ExecuteActivity":      callProducer("Exec", "Call", "Async"),
			"ExecuteLocalActivity": callProducer("ExecLocal", "CallLocal", "AsyncLocal"),
		})
	},
}

func callProducer(exec, call, async string) producer {
	return producer{
		kind: futureKind,
		inline: func(p *pass, c, get *dst.CallExpr, t dst.Expr) (dst.Expr, shape, string) {
			if t == nil {
				setFun(c, exec, nil)
				return c, shapeErr, ""
			}
			setFun(c, call, t)
			return c, shapeValErr, ""
		},
		store: func(p *pass, c *dst.CallExpr, t dst.Expr) string {
			if t == nil {
				t = anyType()
			}
			setFun(c, async, t)
			return ""
		},
	}
}
