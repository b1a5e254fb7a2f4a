package temporal

import (
	"go/ast"

	"github.com/dave/dst"
)

// sideEffectRule converts workflow.SideEffect to durable.SideEffect[T]:
//
//	workflow.SideEffect(ctx, func(ctx workflow.Context) interface{} { return f() }).Get(&v)
//	->  v = durable.SideEffect[T](ctx, func() T { return f() })
var sideEffectRule = rule{
	Name: "sideeffect",
	Doc:  "side effects to durable.SideEffect[T]",
	Run: func(p *pass) {
		sideEffect := func(p *pass, c *dst.CallExpr, t dst.Expr) string {
			if t == nil {
				return "result-type: no Get names the side effect's type; convert by hand"
			}
			if len(c.Args) != 2 {
				return "sideeffect: unexpected arguments to workflow.SideEffect"
			}
			fl, ok := c.Args[1].(*dst.FuncLit)
			if !ok {
				return "sideeffect: the side effect is not a function literal; wrap it in func() T"
			}
			orig := fl
			if p.astOf(fl) == nil && p.curInner != nil && len(p.curInner.Args) == 2 {
				if o, ok := p.curInner.Args[1].(*dst.FuncLit); ok {
					orig = o
				}
			}
			if p.paramsUsed(orig) {
				return "sideeffect: the side effect function uses its context parameter; durable side effects take none"
			}
			if fl.Type.Results == nil || len(fl.Type.Results.List) != 1 {
				return "sideeffect: unexpected side effect signature"
			}
			fl.Type.Params.List = nil
			fl.Type.Results.List[0].Type = cloneExpr(t)
			setFun(c, "SideEffect", t)
			return ""
		}
		p.convertFutures(pkgWorkflow, map[string]producer{"SideEffect": {
			kind: encodedKind,
			inline: func(p *pass, c, get *dst.CallExpr, t dst.Expr) (dst.Expr, shape, string) {
				return c, shapeVal, sideEffect(p, c, t)
			},
			store: sideEffect,
		}})
	},
}

// paramsUsed reports whether a function literal's body uses its parameters.
func (p *pass) paramsUsed(fl *dst.FuncLit) bool {
	a, ok := p.astOf(fl).(*ast.FuncLit)
	if !ok {
		return true
	}
	used := false
	for _, f := range a.Type.Params.List {
		for _, n := range f.Names {
			obj := p.pkg.TypesInfo.Defs[n]
			if obj == nil {
				continue
			}
			ast.Inspect(a.Body, func(x ast.Node) bool {
				if id, ok := x.(*ast.Ident); ok && p.pkg.TypesInfo.Uses[id] == obj {
					used = true
				}
				return !used
			})
		}
	}
	return used
}
