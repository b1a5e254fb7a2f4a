package temporal

import (
	"go/ast"
	"go/types"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// infoRule converts workflow.GetInfo to durable.GetInfo and the fields read
// from it (WorkflowExecution.ID is WorkflowID, WorkflowType.Name is
// Workflow, TaskQueueName is Queue), and workflow.IsReplaying.
var infoRule = rule{
	Name: "info",
	Doc:  "workflow info to durable.GetInfo",
	Run: func(p *pass) {
		p.convertInfo("WorkflowInfo", map[string]string{
			"WorkflowExecution.ID": "WorkflowID", "WorkflowExecution.RunID": "RunID", "WorkflowType.Name": "Workflow",
			"TaskQueueName": "Queue", "Attempt": "Attempt", "WorkflowStartTime": "StartTime",
			"ParentWorkflowExecution.ID": "ParentWorkflowID", "ParentWorkflowExecution.RunID": "ParentRunID",
			"ContinuedExecutionRunID": "ContinuedRunID", "GetContinueAsNewSuggested": "ContinueAsNewSuggested",
		})
		p.renameIdents(pkgWorkflow, map[string]target{
			"GetInfo":     {DurablePath, "GetInfo"},
			"Info":        {DurablePath, "Info"},
			"IsReplaying": {DurablePath, "IsReplaying"},
		})
	},
}

// convertInfo renames the fields read from a Temporal info struct. A field
// path without a durable counterpart is marked TODO.
func (p *pass) convertInfo(typeName string, fields map[string]string) {
	isInfo := func(e dst.Expr) bool { return temporalType(p.typeOf(e), typeName) != "" }
	dstutil.Apply(p.file, func(c *dstutil.Cursor) bool {
		sel, ok := c.Node().(*dst.SelectorExpr)
		if !ok || p.marked(sel) {
			return true
		}
		var base dst.Expr
		var key string
		if inner, ok := sel.X.(*dst.SelectorExpr); ok && isInfo(inner.X) {
			base, key = inner.X, inner.Sel.Name+"."+sel.Sel.Name
		} else if isInfo(sel.X) {
			base, key = sel.X, sel.Sel.Name
		} else {
			return true
		}
		to, ok := fields[key]
		if !ok {
			if _, nested := fields[key+".ID"]; nested {
				p.todo(sel, "info-fields", "%s.%s is read as a whole; read its fields instead", typeName, key)
				return false
			}
			p.todo(sel, "info-fields", "%s.%s has no durable counterpart", typeName, key)
			return false
		}
		repl := &dst.SelectorExpr{X: base, Sel: &dst.Ident{Name: to}}
		if key == "Attempt" && p.needsOwnType(sel, c.Parent()) {
			// Temporal's Attempt is an int32, durable's an int: keep the
			// type where the code depends on it.
			c.Replace(&dst.CallExpr{Fun: &dst.Ident{Name: "int32"}, Args: []dst.Expr{repl}})
			p.changed()
			return false
		}
		if call, ok := c.Parent().(*dst.CallExpr); ok && call.Fun == sel && len(call.Args) == 0 {
			// A getter method (GetContinueAsNewSuggested()) becomes a field;
			// the call is unwrapped by the parent pass below.
			repl.Decs.End.Append("/*migrate:unwrap*/")
		}
		c.Replace(repl)
		p.changed()
		return false
	}, func(c *dstutil.Cursor) bool {
		call, ok := c.Node().(*dst.CallExpr)
		if !ok || len(call.Args) != 0 {
			return true
		}
		if sel, ok := call.Fun.(*dst.SelectorExpr); ok && len(sel.Decs.End) == 1 && sel.Decs.End[0] == "/*migrate:unwrap*/" {
			sel.Decs.End = nil
			c.Replace(sel)
		}
		return true
	})
}

// needsOwnType reports whether the expression e, whose type changes in the
// conversion, is used where its type matters: everywhere except an operand
// compared or combined with a constant and an argument passed as an
// interface (fmt, logging).
func (p *pass) needsOwnType(e dst.Expr, parent dst.Node) bool {
	isConst := func(x dst.Expr) bool {
		a, ok := p.astOf(x).(ast.Expr)
		if !ok {
			return false
		}
		tv, ok := p.pkg.TypesInfo.Types[a]
		return ok && tv.Value != nil
	}
	switch par := parent.(type) {
	case *dst.BinaryExpr:
		other := par.X
		if other == e {
			other = par.Y
		}
		return !isConst(other)
	case *dst.CallExpr:
		sig, ok := p.typeOf(par.Fun).(*types.Signature)
		if !ok {
			return true
		}
		for i, arg := range par.Args {
			if arg != e {
				continue
			}
			params := sig.Params()
			var t types.Type
			switch {
			case sig.Variadic() && i >= params.Len()-1:
				if s, ok := params.At(params.Len() - 1).Type().(*types.Slice); ok {
					t = s.Elem()
				}
			case i < params.Len():
				t = params.At(i).Type()
			}
			return t == nil || !types.IsInterface(t)
		}
	}
	return true
}
