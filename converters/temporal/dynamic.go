package temporal

import (
	"go/token"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// dynamicRule converts dynamic workflows and activities:
// RegisterDynamicWorkflow and RegisterDynamicActivity of a worker (or test
// environment) become the engine's, without their options, and
// converter.EncodedValues, the dynamic function's arguments, becomes
// durable.EncodedValues (same Get and HasValues) outside tests: in tests
// it is the parameter type of the test environment's listeners, which
// their rule retypes.
var dynamicRule = rule{
	Name: "dynamic",
	Doc:  "dynamic workflows and activities to the engine's dynamic registrations",
	Run: func(p *pass) {
		if !strings.HasSuffix(p.filename, "_test.go") {
			p.renameIdents(pkgConverter, map[string]target{"EncodedValues": {DurablePath, "EncodedValues"}})
		}
		dstutil.Apply(p.file, func(c *dstutil.Cursor) bool {
			stmt, ok := c.Node().(*dst.ExprStmt)
			if !ok || p.marked(stmt) {
				return true
			}
			call, recv, m := methodCall(stmt.X)
			if recv == nil || (m != "RegisterDynamicWorkflow" && m != "RegisterDynamicActivity") || len(call.Args) != 2 {
				return true
			}
			if temporalType(p.typeOf(recv), "Worker", "AggregatedWorker", "WorkflowRegistry", "Registry", "TestWorkflowEnvironment") == "" && !temporalRecv(p, recv) {
				return true
			}
			opts := call.Args[1]
			call.Args = call.Args[:1]
			p.changed()
			if lit, ok := opts.(*dst.CompositeLit); ok && len(lit.Elts) == 0 {
				return true // no options: nothing is lost
			}
			// The options (LoadDynamicRuntimeOptions: a versioning behaviour
			// per workflow type, for worker deployment versioning) have no
			// counterpart. Kept as a use, so that their declaration still
			// compiles, and marked.
			c.InsertBefore(&dst.AssignStmt{Lhs: []dst.Expr{dst.NewIdent("_")}, Tok: token.ASSIGN, Rhs: []dst.Expr{opts}})
			p.todo(call, "dynamic-workflows", "the options of %s (versioning behaviours per workflow type) have no counterpart: delete them and the use above", m)
			return true
		}, nil)
		// Options the registrations no longer take, built elsewhere.
		dst.Inspect(p.file, func(n dst.Node) bool {
			if id, ok := n.(*dst.Ident); ok && (id.Path == pkgWorkflow || id.Path == pkgActivity) && id.Name == "DynamicRegisterOptions" && !p.marked(id) {
				p.todo(id, "dynamic-workflows", "%s.DynamicRegisterOptions (a versioning behaviour per workflow type) has no counterpart", lastElem(id.Path))
			}
			return true
		})
	},
}
