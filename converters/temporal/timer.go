package temporal

import "github.com/dave/dst"

// timerRule converts workflow.Sleep, workflow.Now and workflow.NewTimer.
// A timer is a durable.Future[struct{}]; "t.Get(ctx, nil)" becomes
// "_, err = t.Get(ctx)".
var timerRule = rule{
	Name: "timer",
	Doc:  "sleeps, workflow time and timers to durable.Sleep, Now and NewTimer",
	Run: func(p *pass) {
		p.convertFutures(pkgWorkflow, map[string]producer{"NewTimer": {
			kind: futureKind,
			inline: func(p *pass, c, get *dst.CallExpr, t dst.Expr) (dst.Expr, shape, string) {
				setFun(c, "NewTimer", nil)
				get.Fun.(*dst.SelectorExpr).X = c
				get.Args = get.Args[:1]
				return get, shapeValErr, ""
			},
			store: func(p *pass, c *dst.CallExpr, t dst.Expr) string {
				setFun(c, "NewTimer", nil)
				return ""
			},
		}})
		p.renameIdents(pkgWorkflow, map[string]target{
			"Sleep": {DurablePath, "Sleep"},
			"Now":   {DurablePath, "Now"},
		})
	},
}
