package temporal

import (
	"go/ast"
	"go/types"

	"github.com/dave/dst"
)

// cancelRule converts cancellation scopes and external cancellation:
// workflow.WithCancel is context.WithCancel, workflow.NewDisconnectedContext
// is context.WithCancel(context.WithoutCancel(ctx)) (context.WithoutCancel
// when its cancel is discarded), and
// RequestCancelExternalWorkflow(ctx, id, "").Get(ctx, nil) is
// durable.CancelExternal(ctx, id).
var cancelRule = rule{
	Name: "cancel",
	Doc:  "cancellation scopes and external cancellation to context and durable.CancelExternal",
	Run: func(p *pass) {
		p.convertFutures(pkgWorkflow, map[string]producer{"RequestCancelExternalWorkflow": {
			kind: futureKind,
			inline: func(p *pass, c, get *dst.CallExpr, t dst.Expr) (dst.Expr, shape, string) {
				if t != nil || len(c.Args) != 3 || !isEmptyString(c.Args[2]) {
					return c, 0, "external-run-id: RequestCancelExternalWorkflow with a run ID; durable cancels the current run of a workflow ID"
				}
				setFun(c, "CancelExternal", nil)
				c.Args = c.Args[:2]
				return c, shapeErr, ""
			},
			store: func(p *pass, c *dst.CallExpr, t dst.Expr) string {
				return "external-future: the future of RequestCancelExternalWorkflow is kept; call durable.CancelExternal where it is awaited"
			},
		}})
		dst.Inspect(p.file, func(n dst.Node) bool {
			// ctx2, _ := workflow.NewDisconnectedContext(ctx): with its
			// cancel discarded (go vet's lostcancel) it is
			// context.WithoutCancel(ctx).
			as, ok := n.(*dst.AssignStmt)
			if !ok || len(as.Lhs) != 2 || len(as.Rhs) != 1 {
				return true
			}
			call, name := callOf(as.Rhs[0], pkgWorkflow)
			if blank, ok := as.Lhs[1].(*dst.Ident); !ok || blank.Name != "_" || call == nil || name != "NewDisconnectedContext" || p.marked(call) {
				return true
			}
			call.Fun = &dst.Ident{Path: "context", Name: "WithoutCancel"}
			as.Lhs = as.Lhs[:1]
			p.changed()
			return true
		})
		dst.Inspect(p.file, func(n dst.Node) bool {
			call, name := callOf(n, pkgWorkflow)
			if call == nil || name != "NewDisconnectedContext" || p.marked(call) {
				return true
			}
			call.Fun = &dst.Ident{Path: "context", Name: "WithCancel"}
			call.Args = []dst.Expr{&dst.CallExpr{Fun: &dst.Ident{Path: "context", Name: "WithoutCancel"}, Args: call.Args}}
			p.changed()
			return true
		})
		p.undeferredCancels()
		p.renameIdents(pkgWorkflow, map[string]target{
			"WithCancel": {"context", "WithCancel"},
			"CancelFunc": {"context", "CancelFunc"},
		})
	},
}

// undeferredCancels makes "ctx2, cancel := workflow.WithCancel(ctx)"
// durable.WithCancel when cancel is not deferred in the same function:
// Temporal code may leave a scope uncancelled on some paths, which go vet's
// lostcancel check reports for context.WithCancel; the durable runtime
// releases such a scope when the run closes. With "defer cancel()" it stays
// context.WithCancel.
func (p *pass) undeferredCancels() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		as, ok := n.(*dst.AssignStmt)
		if !ok || len(as.Lhs) != 2 || len(as.Rhs) != 1 {
			return true
		}
		call, name := callOf(as.Rhs[0], pkgWorkflow)
		if call == nil || name != "WithCancel" || p.marked(call) {
			return true
		}
		cancel := p.objOf(as.Lhs[1])
		if cancel == nil || p.deferred(as, cancel) {
			return true
		}
		p.retarget(call.Fun.(*dst.Ident), DurablePath, "WithCancel")
		return true
	})
}

// deferred reports whether the function around n defers a call of the
// function variable obj ("defer cancel()").
func (p *pass) deferred(n dst.Node, obj types.Object) bool {
	var body ast.Node
	for cur := p.parent(n); cur != nil; cur = p.parent(cur) {
		if _, ok := cur.(*dst.FuncLit); ok {
			body = p.astOf(cur)
			break
		}
		if _, ok := cur.(*dst.FuncDecl); ok {
			body = p.astOf(cur)
			break
		}
	}
	if body == nil {
		return false
	}
	found := false
	ast.Inspect(body, func(x ast.Node) bool {
		if d, ok := x.(*ast.DeferStmt); ok {
			if id, ok := d.Call.Fun.(*ast.Ident); ok && p.pkg.TypesInfo.Uses[id] == obj {
				found = true
			}
		}
		return !found
	})
	return found
}
