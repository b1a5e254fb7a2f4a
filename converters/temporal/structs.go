package temporal

import (
	"go/ast"
	"go/types"

	"github.com/dave/dst"
)

// structMap converts a Temporal options struct to its durable counterpart
// field by field.
type structMap struct {
	path, name string // the Temporal type
	to         target // the durable type
	// fields maps each convertible field to its durable name.
	fields map[string]string
	// int32 lists fields whose durable type is int where Temporal's is int32.
	int32  map[string]bool
	anchor string
}

// convertStruct retargets the type, renames the keys of its composite
// literals and its field selectors, and marks fields without a durable
// counterpart TODO (they are kept, so nothing is lost).
func (p *pass) convertStruct(m structMap) {
	isOurs := func(e dst.Expr) bool {
		t := p.typeOf(e)
		if t == nil {
			return false
		}
		t = types.Unalias(t)
		if pt, ok := t.(*types.Pointer); ok {
			t = types.Unalias(pt.Elem())
		}
		n, ok := t.(*types.Named)
		return ok && n.Obj().Pkg() != nil && n.Obj().Name() == m.name && (n.Obj().Pkg().Path() == m.path || n.Obj().Pkg().Path() == pkgInternal)
	}
	field := func(key *dst.Ident, n dst.Node) bool {
		if p.marked(n) {
			return false
		}
		to, ok := m.fields[key.Name]
		if !ok {
			p.todo(n, m.anchor, "%s.%s has no durable counterpart; remove it or handle it by hand", m.name, key.Name)
			return false
		}
		if to != key.Name {
			key.Name = to
			p.changed()
		}
		return true
	}
	dst.Inspect(p.file, func(n dst.Node) bool {
		switch n := n.(type) {
		case *dst.CompositeLit:
			if !isOurs(n) {
				return true
			}
			for _, el := range n.Elts {
				kv, ok := el.(*dst.KeyValueExpr)
				if !ok {
					p.todo(n, m.anchor, "unkeyed %s literal; use field names", m.name)
					break
				}
				key, ok := kv.Key.(*dst.Ident)
				if !ok {
					continue
				}
				orig := key.Name
				if field(key, kv) && m.int32[orig] && !p.isUntypedConst(kv.Value) {
					kv.Value = &dst.CallExpr{Fun: &dst.Ident{Name: "int"}, Args: []dst.Expr{kv.Value}}
				}
			}
		case *dst.SelectorExpr:
			if isOurs(n.X) {
				if _, isType := p.objOf(n.Sel).(*types.Var); isType || p.objOf(n.Sel) == nil {
					field(n.Sel, n)
				}
			}
		}
		return true
	})
	p.renameIdents(m.path, map[string]target{m.name: m.to})
}

// isUntypedConst reports whether e is a constant expression built from
// literals and untyped constants only (3, 1 << 2, max), which converts to
// an int field as it is; one that names a typed constant (const Max int32
// = 3) needs int(...). go/types records an untyped constant with the type
// it was converted to, so the constants e names decide.
func (p *pass) isUntypedConst(e dst.Expr) bool {
	if !p.isConst(e) {
		return false
	}
	a, _ := p.astOf(e).(ast.Expr)
	untyped := true
	ast.Inspect(a, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok {
			return untyped
		}
		if c, ok := p.pkg.TypesInfo.Uses[id].(*types.Const); ok {
			if b, ok := c.Type().(*types.Basic); !ok || b.Info()&types.IsUntyped == 0 {
				untyped = false
			}
		}
		return untyped
	})
	return untyped
}

// isConst reports whether e is a constant expression.
func (p *pass) isConst(e dst.Expr) bool {
	a, ok := p.astOf(e).(ast.Expr)
	if !ok {
		return false
	}
	tv, ok := p.pkg.TypesInfo.Types[a]
	return ok && tv.Value != nil
}
