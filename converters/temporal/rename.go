package temporal

import "github.com/dave/dst"

// target is the durable (or standard library) name a Temporal name becomes.
type target struct{ path, name string }

// renameIdents retargets every reference to path.X listed in table, skipping
// code a rule marked TODO.
func (p *pass) renameIdents(path string, table map[string]target) {
	dst.Inspect(p.file, func(n dst.Node) bool {
		id, ok := n.(*dst.Ident)
		if !ok || id.Path != path {
			return true
		}
		if to, ok := table[id.Name]; ok && !p.marked(id) {
			p.retarget(id, to.path, to.name)
		}
		return true
	})
}

// setFun makes call call durable.name, or durable.name[t] when t is set.
func setFun(call *dst.CallExpr, name string, t dst.Expr) {
	var fun dst.Expr = durableIdent(name)
	if t != nil {
		fun = &dst.IndexExpr{X: fun, Index: t}
	}
	call.Fun = fun
}

func anyType() dst.Expr { return &dst.Ident{Name: "any"} }
