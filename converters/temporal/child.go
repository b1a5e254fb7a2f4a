package temporal

import "github.com/dave/dst"

// childRule converts child workflows to durable.Child and durable.ChildAsync.
var childRule = rule{
	Name: "child",
	Doc:  "child workflows to durable.Child and ChildAsync",
	Run: func(p *pass) {
		p.convertFutures(pkgWorkflow, map[string]producer{"ExecuteChildWorkflow": {
			kind: futureKind,
			inline: func(p *pass, c, get *dst.CallExpr, t dst.Expr) (dst.Expr, shape, string) {
				if t == nil {
					t = anyType()
				}
				setFun(c, "Child", t)
				return c, shapeValErr, ""
			},
			store: func(p *pass, c *dst.CallExpr, t dst.Expr) string {
				if t == nil {
					t = anyType()
				}
				setFun(c, "ChildAsync", t)
				return ""
			},
		}})
	},
}
