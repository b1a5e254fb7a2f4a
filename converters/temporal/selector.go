package temporal

import (
	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// selectorRule converts workflow.NewSelector and its cases. Callbacks take
// durable.Waiter and durable.Receiver; inside them a read of the callback's
// parameter becomes a read of the typed future or channel it waits on.
// AddReceive(ctx.Done(), ...) becomes AddDone(ctx, ...).
var selectorRule = rule{
	Name: "selector",
	Doc:  "selectors to durable.NewSelector with typed futures and channels",
	Run: func(p *pass) {
		p.inlineSelectorCases()
		p.renameIdents(pkgWorkflow, map[string]target{"NewSelector": {DurablePath, "NewSelector"}})
		p.pointerTypes(pkgWorkflow, map[string]string{"Selector": "Selector"})
		dst.Inspect(p.file, func(n dst.Node) bool {
			call, recv, m := methodCall(n)
			if call == nil || len(call.Args) < 2 || temporalType(p.typeOf(recv), "Selector") == "" {
				return true
			}
			fl, ok := call.Args[len(call.Args)-1].(*dst.FuncLit)
			if !ok {
				return true
			}
			switch m {
			case "AddFuture":
				p.paramType(fl, 0, "Future", "Waiter")
			case "AddReceive":
				if done := p.ctxDone(call.Args[0]); done != nil {
					if p.paramsUsed(fl) {
						p.todo(call, "selector-done", "the ctx.Done() case uses its channel parameters; use sel.AddDone(ctx, func() {...})")
						return true
					}
					call.Fun.(*dst.SelectorExpr).Sel.Name = "AddDone"
					call.Args[0] = done
					fl.Type.Params.List = nil
					p.changed()
					return true
				}
				p.paramType(fl, 0, "ReceiveChannel", "Receiver")
			}
			return true
		})
	},
}

// paramType retypes parameter i of fl from workflow.from to durable.to.
func (p *pass) paramType(fl *dst.FuncLit, i int, from, to string) {
	if i < len(fl.Type.Params.List) {
		if isIdent(fl.Type.Params.List[i].Type, pkgWorkflow, from) {
			fl.Type.Params.List[i].Type = durableIdent(to)
			p.changed()
		}
	}
}

// ctxDone returns ctx for the expression ctx.Done() on a workflow context.
func (p *pass) ctxDone(e dst.Expr) dst.Expr {
	call, recv, m := methodCall(e)
	if call == nil || m != "Done" || len(call.Args) != 0 {
		return nil
	}
	// A workflow.Context, or a value that embeds one: Done returns a
	// workflow channel.
	if temporalType(p.typeOf(recv), "Context") == "" && temporalType(p.typeOf(call), "Channel", "ReceiveChannel") == "" {
		return nil
	}
	return recv
}

// inlineSelectorCases converts AddFuture(X(...), cb) and AddReceive(X(...), cb)
// where X creates the future or channel right there: the type comes from
// the callback's reads, which become reads of the typed value.
func (p *pass) inlineSelectorCases() {
	prods := map[string]producer{}
	for _, m := range []map[string]producer{signalProducers} {
		for k, v := range m {
			prods[k] = v
		}
	}
	prods["ExecuteActivity"] = callProducer("Exec", "Call", "Async")
	prods["ExecuteLocalActivity"] = callProducer("ExecLocal", "CallLocal", "AsyncLocal")
	dstutil.Apply(p.file, func(c *dstutil.Cursor) bool {
		call, recv, m := methodCall(c.Node())
		if call == nil || len(call.Args) != 2 || (m != "AddFuture" && m != "AddReceive") || p.marked(call) {
			return true
		}
		if temporalType(p.typeOf(recv), "Selector") == "" {
			return true
		}
		inner, name := callOf(call.Args[0], pkgWorkflow)
		fl, ok := call.Args[1].(*dst.FuncLit)
		if inner == nil || !ok {
			return true
		}
		var pr producer
		switch name {
		case "NewTimer":
			pr = producer{kind: futureKind, store: func(p *pass, c *dst.CallExpr, t dst.Expr) string {
				setFun(c, "NewTimer", nil)
				return ""
			}}
		case "ExecuteChildWorkflow":
			pr = producer{kind: futureKind, store: func(p *pass, c *dst.CallExpr, t dst.Expr) string {
				if t == nil {
					t = anyType()
				}
				setFun(c, "ChildAsync", t)
				return ""
			}}
		default:
			if pr, ok = prods[name]; !ok {
				return true
			}
		}
		sf := &storedFuture{pr: pr, ok: true}
		if !sf.callbackGets(p, fl) {
			p.todo(call, "selector-callback", "the callback passes its %s on or uses it other than to read it; convert by hand", pr.kind.what)
			return true
		}
		if name == "NewTimer" {
			sf.elem = nil
		} else if sf.elem == nil && pr.kind != futureKind {
			p.todo(call, "result-type", "no read in the callback names the element type; convert by hand")
			return true
		}
		var t dst.Expr
		if sf.elem != nil {
			if t = p.typeExpr(sf.elem); t == nil || !sf.ok {
				p.todo(call, "result-type", "the callback's result type cannot be named here; convert by hand")
				return true
			}
		}
		if why := pr.store(p, dst.Clone(inner).(*dst.CallExpr), cloneExpr(t)); why != "" {
			p.refuse(call, why)
			return true
		}
		pr.store(p, inner, cloneExpr(t))
		p.changed()
		// The typed view of the callback's parameter.
		var view dst.Expr
		switch {
		case name == "NewTimer":
			view = &dst.IndexExpr{X: durableIdent("Future"), Index: &dst.StructType{Fields: &dst.FieldList{Opening: true, Closing: true}}}
		case pr.kind == channelKind:
			view = &dst.IndexExpr{X: durableIdent("ReceiveChannel"), Index: cloneExpr(t)}
		default:
			if t == nil {
				t = anyType()
			}
			view = &dst.IndexExpr{X: durableIdent("Future"), Index: cloneExpr(t)}
		}
		param := fl.Type.Params.List[0].Names[0].Name
		p.rewriteReads(sf, func() dst.Expr {
			return &dst.TypeAssertExpr{X: &dst.Ident{Name: param}, Type: cloneExpr(view)}
		})
		return true
	}, nil)
}
