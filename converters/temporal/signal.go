package temporal

import (
	"go/token"

	"github.com/dave/dst"
)

// signalRule converts signal channels and external signals.
//
//	workflow.GetSignalChannel(ctx, n).Receive(ctx, &v)  ->  v, _ = durable.Receive[T](ctx, n)
//	ch := workflow.GetSignalChannel(ctx, n)             ->  ch := durable.SignalChannel[T](ctx, n)
//	ch.Receive(ctx, &v)                                 ->  v, _ = ch.Receive(ctx)
//	workflow.SignalExternalWorkflow(ctx, id, "", n, v).Get(ctx, nil) -> durable.SignalExternal(ctx, id, n, v)
var signalRule = rule{
	Name: "signal",
	Doc:  "signal channels and external signals to durable.Receive, SignalChannel and SignalExternal",
	Run: func(p *pass) {
		p.convertFutures(pkgWorkflow, signalProducers)
		p.convertFutures(pkgWorkflow, map[string]producer{"SignalExternalWorkflow": {
			kind: futureKind,
			inline: func(p *pass, c, get *dst.CallExpr, t dst.Expr) (dst.Expr, shape, string) {
				if t != nil || len(c.Args) != 5 || !isEmptyString(c.Args[2]) {
					return c, 0, "external-run-id: SignalExternalWorkflow with a run ID or a result; durable signals the current run of a workflow ID"
				}
				setFun(c, "SignalExternal", nil)
				c.Args = append(c.Args[:2], c.Args[3:]...)
				return c, shapeErr, ""
			},
			store: func(p *pass, c *dst.CallExpr, t dst.Expr) string {
				return "external-future: the future of SignalExternalWorkflow is kept; call durable.SignalExternal where it is awaited"
			},
		}})
	},
}

var signalProducers = map[string]producer{"GetSignalChannel": {
	kind: channelKind,
	inline: func(p *pass, c, get *dst.CallExpr, t dst.Expr) (dst.Expr, shape, string) {
		if _, ok := p.curStmt.(*dst.ExprStmt); !ok {
			return c, 0, "signal-receive: the result of Receive (more) is used; durable.Receive returns an error instead"
		}
		if t == nil {
			return c, 0, "result-type: Receive(ctx, nil) names no signal type; convert by hand"
		}
		setFun(c, "Receive", t)
		return c, shapeValErr, ""
	},
	store: func(p *pass, c *dst.CallExpr, t dst.Expr) string {
		setFun(c, "SignalChannel", t)
		return ""
	},
}}

func isEmptyString(e dst.Expr) bool {
	lit, ok := e.(*dst.BasicLit)
	return ok && lit.Kind == token.STRING && (lit.Value == `""` || lit.Value == "``")
}
