package temporal

import (
	"fmt"
	"go/types"

	"github.com/dave/dst"
)

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
		p.dropExtraArgs()
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

// dropExtraArgs removes the arguments an activity call passes beyond the
// activity function's parameters: Temporal decodes only as many arguments
// as the function takes and ignores the rest, while the durable runtime
// rejects such a call. Each removal is noted.
func (p *pass) dropExtraArgs() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		call, name := callOf(n, pkgWorkflow)
		if call == nil || (name != "ExecuteActivity" && name != "ExecuteLocalActivity") || len(call.Args) < 2 || p.marked(call) {
			return true
		}
		sig, ok := p.typeOf(call.Args[1]).(*types.Signature)
		if !ok || sig.Variadic() {
			return true
		}
		params := sig.Params().Len()
		if params > 0 && isContextType(sig.Params().At(0).Type()) {
			params--
		}
		if extra := len(call.Args) - 2 - params; extra > 0 {
			msg := fmt.Sprintf("%d argument(s) beyond the activity's parameters dropped: Temporal ignores them, durable rejects the call", extra)
			p.findings = append(p.findings, newFinding(p.pos(call), p.rule, SeverityNote, msg, ""))
			for _, a := range call.Args[2+params:] {
				p.noteOnlyUse(a)
			}
			call.Args = call.Args[:2+params]
			p.changed()
		}
		return true
	})
}

// isContextType reports whether t is context.Context.
func isContextType(t types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == "context" && n.Obj().Name() == "Context"
}

// noteOnlyUse records a local variable whose only use is e, which a rewrite
// drops, so that keepUnread keeps it used where it is declared.
func (p *pass) noteOnlyUse(e dst.Expr) {
	v := p.localVar(e)
	if v == nil {
		return
	}
	uses := 0
	for _, obj := range p.pkg.TypesInfo.Uses {
		if obj == v {
			uses++
		}
	}
	if uses == 1 {
		p.markUnread(v)
	}
}
