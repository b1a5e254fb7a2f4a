package temporal

import (
	"go/ast"
	"go/types"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// infoRule converts workflow.GetInfo to durable.GetInfo and the fields read
// from it (WorkflowExecution.ID is WorkflowID, WorkflowType.Name is
// Workflow, TaskQueueName is Queue, WorkflowExecution is Execution,
// GetCurrentHistoryLength() is int(JournalLen), Memo.Fields is Memo: JSON
// values by key), and workflow.IsReplaying.
var infoRule = rule{
	Name: "info",
	Doc:  "workflow info to durable.GetInfo",
	Run: func(p *pass) {
		p.convertAttributes() // searchattributes.go
		p.convertInfo("WorkflowInfo", map[string]string{
			"WorkflowExecution.ID": "WorkflowID", "WorkflowExecution.RunID": "RunID", "WorkflowType.Name": "Workflow",
			"TaskQueueName": "Queue", "Attempt": "Attempt", "WorkflowStartTime": "StartTime",
			"ParentWorkflowExecution.ID": "ParentWorkflowID", "ParentWorkflowExecution.RunID": "ParentRunID",
			"ContinuedExecutionRunID": "ContinuedRunID", "GetContinueAsNewSuggested": "ContinueAsNewSuggested",
			"WorkflowExecution": "Execution", "ParentWorkflowExecution": "ParentExecution",
			"WorkflowExecutionTimeout": "ExecutionTimeout", "WorkflowRunTimeout": "RunTimeout",
			"GetCurrentHistoryLength": "JournalLen",
			"Memo.Fields":             "Memo", "SearchAttributes.IndexedFields": "SearchAttributes",
			"Namespace": namespaceField,
		})
		p.renameIdents(pkgWorkflow, map[string]target{
			"GetInfo":     {DurablePath, "GetInfo"},
			"Info":        {DurablePath, "Info"},
			"IsReplaying": {DurablePath, "IsReplaying"},
		})
	},
}

// CompatPath is the import path of the package that bridges durable values
// to Temporal's types for code that keeps them.
const CompatPath = "github.com/durablego/toolkit/compat"

// namespaceField marks an info field that reads the namespace, which
// becomes the info's Namespace method (durable.Namespace).
const namespaceField = "=namespace"

// infoBridged are the workflow info fields read as a whole that convert to
// a compat function building Temporal's type from durable's value.
var infoBridged = map[string]string{"Memo": "Memo", "SearchAttributes": "SearchAttributes"}

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
			if _, known := fields[key]; !known && typeName == "WorkflowInfo" && infoBridged[inner.Sel.Name] != "" {
				return true // info.Memo.GetFields(): the bridge below converts info.Memo
			}
			if _, known := fields[key]; !known {
				if _, field := fields[inner.Sel.Name]; field && p.typeOf(inner) != nil && !strings.Contains(p.typeOf(inner).String(), temporalPrefix) {
					// info.WorkflowStartTime.Format(...): a method or field
					// of a plain value; the field itself is converted below.
					return true
				}
			}
		} else if isInfo(sel.X) {
			base, key = sel.X, sel.Sel.Name
		} else {
			return true
		}
		if bridge := infoBridged[key]; bridge != "" && typeName == "WorkflowInfo" {
			// The whole memo or search attributes, in Temporal's type, for
			// code that keeps handling Temporal's payloads.
			c.Replace(&dst.CallExpr{Fun: &dst.Ident{Path: CompatPath, Name: bridge},
				Args: []dst.Expr{&dst.SelectorExpr{X: base, Sel: &dst.Ident{Name: key}}}})
			p.changed()
			return false
		}
		to, ok := fields[key]
		if to == namespaceField {
			// A durable store is one namespace: the info's Namespace
			// method names it.
			c.Replace(&dst.CallExpr{Fun: &dst.SelectorExpr{X: base, Sel: &dst.Ident{Name: "Namespace"}}})
			p.changed()
			return false
		}
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
			if key == "GetCurrentHistoryLength" {
				// Temporal's length is an int, durable's an int64.
				repl.Decs.End.Append("/*migrate:int*/")
			}
		}
		c.Replace(repl)
		p.changed()
		return false
	}, func(c *dstutil.Cursor) bool {
		call, ok := c.Node().(*dst.CallExpr)
		if !ok || len(call.Args) != 0 {
			return true
		}
		sel, ok := call.Fun.(*dst.SelectorExpr)
		if !ok || len(sel.Decs.End) == 0 || sel.Decs.End[0] != "/*migrate:unwrap*/" {
			return true
		}
		toInt := len(sel.Decs.End) == 2 && sel.Decs.End[1] == "/*migrate:int*/"
		sel.Decs.End = nil
		if toInt {
			c.Replace(&dst.CallExpr{Fun: &dst.Ident{Name: "int"}, Args: []dst.Expr{sel}})
		} else {
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
