package temporal

// contextRule converts workflow.Context to context.Context wherever it
// appears: signatures, variables, function literals. It runs after the
// call rules, which look at the original types.
var contextRule = rule{
	Name: "context",
	Doc:  "workflow.Context to context.Context",
	Run: func(p *pass) {
		p.renameIdents(pkgWorkflow, map[string]target{
			"Context":   {"context", "Context"},
			"WithValue": {"context", "WithValue"},
		})
	},
}
