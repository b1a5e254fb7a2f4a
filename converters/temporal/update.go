package temporal

import "github.com/dave/dst"

// updateRule converts workflow.SetUpdateHandler and SetUpdateHandlerWithOptions
// to durable.SetUpdateHandler with durable.UpdateOptions{Validator}.
var updateRule = rule{
	Name: "update",
	Doc:  "update handlers and validators to durable.SetUpdateHandler",
	Run: func(p *pass) {
		p.convertStruct(structMap{path: pkgWorkflow, name: "UpdateHandlerOptions", to: target{DurablePath, "UpdateOptions"}, anchor: "options-fields",
			fields: map[string]string{"Validator": "Validator"}})
		dst.Inspect(p.file, func(n dst.Node) bool {
			if call, name := callOf(n, pkgWorkflow); call != nil && name == "SetUpdateHandlerWithOptions" && !p.marked(call) {
				setFun(call, "SetUpdateHandler", nil)
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
