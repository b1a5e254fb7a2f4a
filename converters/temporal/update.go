package temporal

import "github.com/dave/dst"

// updateRule converts workflow.SetUpdateHandler and SetUpdateHandlerWithOptions
// to durable.SetUpdateHandler with durable.UpdateOptions{Validator} (empty
// options when there were none: the durable call always takes them).
var updateRule = rule{
	Name: "update",
	Doc:  "update handlers and validators to durable.SetUpdateHandler",
	Run: func(p *pass) {
		p.convertStruct(structMap{path: pkgWorkflow, name: "UpdateHandlerOptions", to: target{DurablePath, "UpdateOptions"}, anchor: "options-fields",
			fields: map[string]string{"Validator": "Validator"}})
		dst.Inspect(p.file, func(n dst.Node) bool {
			call, name := callOf(n, pkgWorkflow)
			if call == nil || p.marked(call) {
				return true
			}
			switch {
			case name == "SetUpdateHandlerWithOptions":
				setFun(call, "SetUpdateHandler", nil)
				p.changed()
			case name == "SetUpdateHandler" && len(call.Args) == 3:
				// durable.SetUpdateHandler always takes its options.
				setFun(call, "SetUpdateHandler", nil)
				call.Args = append(call.Args, &dst.CompositeLit{Type: durableIdent("UpdateOptions")})
				p.changed()
			}
			return true
		})
		p.renameIdents(pkgWorkflow, map[string]target{
			"SetUpdateHandler":    {DurablePath, "SetUpdateHandler"},
			"AllHandlersFinished": {DurablePath, "AllHandlersFinished"},
		})
	},
}
