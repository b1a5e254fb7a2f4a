package temporal

// versionRule converts workflow.GetVersion to durable.Version; the
// workflow.Version type becomes int.
var versionRule = rule{
	Name: "version",
	Doc:  "versioning to durable.Version",
	Run: func(p *pass) {
		p.renameIdents(pkgWorkflow, map[string]target{
			"GetVersion":     {DurablePath, "Version"},
			"DefaultVersion": {DurablePath, "DefaultVersion"},
			"Version":        {"", "int"},
		})
	},
}
