package temporal

// continueAsNewRule converts workflow.NewContinueAsNewError to
// durable.ContinueAsNew, an error the workflow returns.
var continueAsNewRule = rule{
	Name: "continueasnew",
	Doc:  "continue-as-new to durable.ContinueAsNew",
	Run: func(p *pass) {
		p.convertCron() // cron.go
		p.renameIdents(pkgWorkflow, map[string]target{"NewContinueAsNewError": {DurablePath, "ContinueAsNew"}})
	},
}
