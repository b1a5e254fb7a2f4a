package temporal

import (
	"go/ast"
	"go/types"

	"github.com/dave/dst"
)

// propagatorsRule converts context propagators: client.Options's
// ContextPropagators become durable.WithContextPropagators on the
// durable.Open that client.Dial becomes, and a test environment's
// SetContextPropagators takes them adapted, each through
// compat.ContextPropagators (its SetHeader, the header through
// compat.Header). The propagators themselves stay Temporal
// code (contextRule and unrecognisedRule leave their methods alone):
// compat.ContextPropagator runs their Inject and Extract.
var propagatorsRule = rule{
	Name: "propagators",
	Doc:  "client.Options.ContextPropagators to durable.WithContextPropagators through compat.ContextPropagators",
	Run: func(p *pass) {
		for _, d := range p.dialOptions() {
			for _, el := range d.lit.Elts {
				kv, ok := el.(*dst.KeyValueExpr)
				if !ok || !isIdent(kv.Key, "", "ContextPropagators") || p.marked(kv) {
					continue
				}
				p.addOpenOption(d.call, &dst.CallExpr{
					Fun:      durableIdent("WithContextPropagators"),
					Args:     []dst.Expr{adaptPropagators(dst.Clone(kv.Value).(dst.Expr))},
					Ellipsis: true,
				})
				p.dropElt(d.lit, kv)
				break
			}
		}
		dst.Inspect(p.file, func(n dst.Node) bool {
			call, recv, m := methodCall(n)
			if call == nil || len(call.Args) != 1 || p.marked(call) ||
				temporalType(p.typeOf(recv), "TestWorkflowEnvironment") == "" {
				return true
			}
			switch m {
			case "SetContextPropagators":
				call.Args[0] = adaptPropagators(call.Args[0])
				p.changed()
			case "SetHeader":
				call.Args[0] = &dst.CallExpr{Fun: &dst.Ident{Path: CompatPath, Name: "Header"}, Args: []dst.Expr{call.Args[0]}}
				p.changed()
			}
			return true
		})
	},
}

// adaptPropagators is compat.ContextPropagators(list).
func adaptPropagators(list dst.Expr) dst.Expr {
	return &dst.CallExpr{Fun: &dst.Ident{Path: CompatPath, Name: "ContextPropagators"}, Args: []dst.Expr{list}}
}

// keptTemporal reports whether decl is a method that stays Temporal code:
// a method of a type that implements workflow.ContextPropagator, which
// compat.ContextPropagator calls with Temporal's own types.
func (p *pass) keptTemporal(decl *dst.FuncDecl) bool {
	if decl.Recv == nil || len(decl.Recv.List) != 1 {
		return false
	}
	if !p.propagatorLooked {
		// Once per file: the search walks the package's imports.
		p.propagator = p.temporalInterface(pkgWorkflow, "ContextPropagator")
		p.propagatorLooked = true
	}
	iface := p.propagator
	if iface == nil {
		return false
	}
	fd, ok := p.astOf(decl).(*ast.FuncDecl)
	if !ok {
		return false
	}
	obj, ok := p.pkg.TypesInfo.Defs[fd.Name].(*types.Func)
	if !ok {
		return false
	}
	recv := obj.Signature().Recv().Type()
	if ptr, ok := recv.(*types.Pointer); ok {
		recv = ptr.Elem()
	}
	return types.Implements(recv, iface) || types.Implements(types.NewPointer(recv), iface)
}

// temporalInterface finds the interface path.name among the packages
// the package imports, directly or not; nil when it does not.
func (p *pass) temporalInterface(path, name string) *types.Interface {
	seen := map[*types.Package]bool{}
	var find func(pkg *types.Package) *types.Interface
	find = func(pkg *types.Package) *types.Interface {
		if seen[pkg] {
			return nil
		}
		seen[pkg] = true
		if pkg.Path() == path {
			if obj := pkg.Scope().Lookup(name); obj != nil {
				if it, ok := obj.Type().Underlying().(*types.Interface); ok {
					return it
				}
			}
			return nil
		}
		for _, imp := range pkg.Imports() {
			if it := find(imp); it != nil {
				return it
			}
		}
		return nil
	}
	return find(p.pkg.Types)
}

// keptTemporalTypes are Temporal types that stay in converted code because
// compat adapts what uses them: a propagator's interface and its header
// reader and writer.
var keptTemporalTypes = map[string]bool{"ContextPropagator": true, "HeaderWriter": true, "HeaderReader": true}
