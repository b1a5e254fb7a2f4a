package temporal

// queryRule converts workflow.SetQueryHandler to durable.SetQueryHandler.
var queryRule = rule{
	Name: "query",
	Doc:  "query handlers to durable.SetQueryHandler",
	Run: func(p *pass) {
		p.renameIdents(pkgWorkflow, map[string]target{"SetQueryHandler": {DurablePath, "SetQueryHandler"}})
	},
}
