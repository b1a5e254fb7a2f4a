package temporal

import "github.com/dave/dst"

// contextRule converts workflow.Context to context.Context wherever it
// appears: signatures, variables, function literals. It runs after the
// call rules, which look at the original types.
var contextRule = rule{
	Name: "context",
	Doc:  "workflow.Context to context.Context",
	Run: func(p *pass) {
		table := map[string]target{
			"Context":   {"context", "Context"},
			"WithValue": {"context", "WithValue"},
		}
		dst.Inspect(p.file, func(n dst.Node) bool {
			switch n := n.(type) {
			case *dst.FuncDecl:
				return !p.keptTemporal(n) // a propagator's methods keep workflow.Context
			case *dst.Ident:
				if to, ok := table[n.Name]; ok && n.Path == pkgWorkflow && !p.marked(n) {
					p.retarget(n, to.path, to.name)
				}
			}
			return true
		})
	},
}
