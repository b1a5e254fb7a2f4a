package temporal

import (
	"go/ast"
	"go/token"
	"go/types"
	"strconv"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// shape is the result list of a durable call that replaces a Temporal call
// which delivered its value through a pointer.
type shape int

const (
	shapeValErr  shape = iota // (T, error): durable.Call, Future.Get, Receive
	shapeErr                  // error: durable.Exec, SignalExternal
	shapeVal                  // T: durable.SideEffect
	shapeValBool              // (T, bool): Channel.Receive, ReceiveAsync
)

// getSite finds, in the statement at c, the call the Temporal code used to
// deliver a result (x.Get(ctx, &r), ch.Receive(ctx, &v)) when it sits where
// deliver can rewrite it: an expression statement, the single right-hand
// side of an assignment (possibly an if initializer) or a single returned
// value, or anywhere once in the condition of an if without an initializer
// ("if !ch.ReceiveAsync(&v)"). match decides whether a call is one.
func getSite(stmt dst.Stmt, match func(*dst.CallExpr) bool) *dst.CallExpr {
	if s, ok := stmt.(*dst.IfStmt); ok && s.Init == nil {
		var found *dst.CallExpr
		n := 0
		dst.Inspect(s.Cond, func(x dst.Node) bool {
			if call, ok := x.(*dst.CallExpr); ok && match(call) {
				found = call
				n++
			}
			return true
		})
		if n == 1 {
			return found
		}
		return nil
	}
	var e dst.Expr
	switch s := stmt.(type) {
	case *dst.ExprStmt:
		e = s.X
	case *dst.AssignStmt:
		if len(s.Rhs) == 1 {
			e = s.Rhs[0]
		}
	case *dst.IfStmt:
		if a, ok := s.Init.(*dst.AssignStmt); ok && len(a.Rhs) == 1 {
			e = a.Rhs[0]
		}
	case *dst.ReturnStmt:
		if len(s.Results) == 1 {
			e = s.Results[0]
		}
	}
	if call, ok := e.(*dst.CallExpr); ok && match(call) {
		return call
	}
	return nil
}

// valueTarget turns a result pointer into the expression that receives the
// value: &x becomes x, p becomes *p, nil becomes nil.
func valueTarget(ptr dst.Expr) dst.Expr {
	if ptr == nil || isNil(ptr) {
		return nil
	}
	if u, ok := ptr.(*dst.UnaryExpr); ok && u.Op == token.AND {
		return u.X
	}
	return &dst.StarExpr{X: ptr}
}

func blank() *dst.Ident { return &dst.Ident{Name: "_"} }

func varDecl(name string, typ string) dst.Stmt {
	return &dst.DeclStmt{Decl: &dst.GenDecl{Tok: token.VAR, Specs: []dst.Spec{
		&dst.ValueSpec{Names: []*dst.Ident{{Name: name}}, Type: &dst.Ident{Name: typ}},
	}}}
}

// planDeliver checks that the statement at c, which holds old, can be
// rewritten to use a call of the given shape, and returns the edit. build
// creates the replacement call; it runs only when the edit is applied. It
// returns nil when the form is not supported, before anything changed.
func (p *pass) planDeliver(c cursor, old *dst.CallExpr, sh shape, ptr dst.Expr, build func() dst.Expr) func() {
	stmt, ok := c.Node().(dst.Stmt)
	if !ok || c.Index() < 0 {
		return nil
	}
	val := valueTarget(ptr)
	p.noteUnread(ptr)
	second := "error"
	if sh == shapeValBool {
		second = "bool"
	}
	pair := func(e dst.Expr) []dst.Expr {
		if val == nil {
			return []dst.Expr{blank(), e}
		}
		return []dst.Expr{val, e}
	}
	done := func(f func()) func() {
		return func() { f(); p.changed() }
	}
	switch s := stmt.(type) {
	case *dst.ExprStmt:
		return done(func() {
			repl := build()
			switch {
			case val == nil || sh == shapeErr:
				s.X = repl
			case sh == shapeVal:
				c.Replace(&dst.AssignStmt{Lhs: []dst.Expr{val}, Tok: token.ASSIGN, Rhs: []dst.Expr{repl}, Decs: dst.AssignStmtDecorations{NodeDecs: s.Decs.NodeDecs}})
			default:
				c.Replace(&dst.AssignStmt{Lhs: []dst.Expr{val, blank()}, Tok: token.ASSIGN, Rhs: []dst.Expr{repl}, Decs: dst.AssignStmtDecorations{NodeDecs: s.Decs.NodeDecs}})
			}
		})
	case *dst.AssignStmt:
		if len(s.Lhs) != 1 {
			return nil
		}
		e := s.Lhs[0]
		define := s.Tok == token.DEFINE
		switch sh {
		case shapeErr:
			return done(func() { s.Rhs[0] = build() })
		case shapeVal:
			if val == nil {
				return nil
			}
			id, ok := e.(*dst.Ident)
			if !ok {
				return nil
			}
			return done(func() {
				s.Lhs, s.Rhs, s.Tok = []dst.Expr{val}, []dst.Expr{build()}, token.ASSIGN
				if id.Name == "_" {
					return
				}
				if define {
					c.InsertAfter(varDecl(id.Name, second))
				} else {
					c.InsertAfter(&dst.AssignStmt{Lhs: []dst.Expr{dst.Clone(id).(dst.Expr)}, Tok: token.ASSIGN, Rhs: []dst.Expr{&dst.Ident{Name: "nil"}}})
				}
			})
		}
		if !define || val == nil || p.sameScope(val, stmt) {
			return done(func() { s.Lhs, s.Rhs = pair(e), []dst.Expr{build()} })
		}
		id, ok := e.(*dst.Ident)
		if !ok {
			return nil
		}
		return done(func() {
			c.InsertBefore(varDecl(id.Name, second))
			s.Tok = token.ASSIGN
			s.Lhs, s.Rhs = pair(e), []dst.Expr{build()}
		})
	case *dst.IfStmt:
		if s.Init == nil {
			return p.planDeliverCond(c, s, old, sh, pair, build)
		}
		init := s.Init.(*dst.AssignStmt)
		if len(init.Lhs) != 1 {
			return nil
		}
		e := init.Lhs[0]
		switch {
		case sh == shapeErr:
			return done(func() { init.Rhs[0] = build() })
		case sh == shapeVal:
			return nil
		case init.Tok != token.DEFINE || val == nil:
			return done(func() { init.Lhs, init.Rhs = pair(e), []dst.Expr{build()} })
		}
		id, ok := e.(*dst.Ident)
		if !ok {
			return nil
		}
		switch p.canHoist(id.Name, s) {
		case hoistReuse:
			return done(func() {
				init.Tok = token.ASSIGN
				init.Lhs, init.Rhs = pair(e), []dst.Expr{build()}
			})
		case hoistVar:
			return done(func() {
				p.recordHoist(id.Name, s)
				c.InsertBefore(varDecl(id.Name, second))
				init.Tok = token.ASSIGN
				init.Lhs, init.Rhs = pair(e), []dst.Expr{build()}
			})
		}
		// Keep the variable's scope exact: a block around the if.
		return done(func() {
			block := &dst.BlockStmt{List: []dst.Stmt{varDecl(id.Name, second), s}}
			block.Decs.NodeDecs = s.Decs.NodeDecs
			s.Decs.NodeDecs = dst.NodeDecs{}
			init.Tok = token.ASSIGN
			init.Lhs, init.Rhs = pair(e), []dst.Expr{build()}
			c.Replace(block)
		})
	case *dst.ReturnStmt:
		switch sh {
		case shapeErr:
			return done(func() { s.Results[0] = build() })
		case shapeValBool:
			return nil
		case shapeVal:
			if val == nil {
				return nil
			}
			return done(func() {
				c.InsertBefore(&dst.AssignStmt{Lhs: []dst.Expr{val}, Tok: token.ASSIGN, Rhs: []dst.Expr{build()}})
				s.Results[0] = &dst.Ident{Name: "nil"}
			})
		}
		scope := p.scopeAt(stmt)
		if scope == nil {
			return nil
		}
		errVar := func() *dst.Ident { return &dst.Ident{Name: "err"} }
		if obj := scope.Lookup("err"); obj != nil {
			if !types.Identical(obj.Type(), types.Universe.Lookup("error").Type()) {
				return nil
			}
			return done(func() {
				c.InsertBefore(&dst.AssignStmt{Lhs: pair(errVar()), Tok: token.ASSIGN, Rhs: []dst.Expr{build()}})
				s.Results[0] = errVar()
			})
		}
		if val == nil || p.sameScope(val, stmt) {
			return done(func() {
				c.InsertBefore(&dst.AssignStmt{Lhs: pair(errVar()), Tok: token.DEFINE, Rhs: []dst.Expr{build()}})
				s.Results[0] = errVar()
			})
		}
		return done(func() {
			c.InsertBefore(varDecl("err", "error"))
			c.InsertBefore(&dst.AssignStmt{Lhs: pair(errVar()), Tok: token.ASSIGN, Rhs: []dst.Expr{build()}})
			s.Results[0] = errVar()
		})
	}
	return nil
}

// planDeliverCond rewrites a delivering call in the condition of an if
// without an initializer. A call that returns only an error takes the old
// call's place; one that also delivers a value gets an initializer that
// assigns the value and a fresh error or bool variable, declared before the
// if, which takes the call's place in the condition:
//
//	var ok bool
//	if v, ok = ch.ReceiveAsync(); !ok {
func (p *pass) planDeliverCond(c cursor, s *dst.IfStmt, old *dst.CallExpr, sh shape, pair func(dst.Expr) []dst.Expr, build func() dst.Expr) func() {
	replace := func(with dst.Expr) {
		s.Cond = dstutil.Apply(s.Cond, nil, func(c *dstutil.Cursor) bool {
			if c.Node() == old {
				c.Replace(with)
			}
			return true
		}).(dst.Expr)
	}
	switch sh {
	case shapeErr:
		return func() { replace(build()); p.changed() }
	case shapeVal:
		return nil
	}
	scope := p.scopeAt(s)
	if scope == nil {
		return nil
	}
	base, typ := "err", "error"
	if sh == shapeValBool {
		base, typ = "ok", "bool"
	}
	name := base
	for i := 2; scope.Lookup(name) != nil || func() bool { _, obj := scope.LookupParent(name, token.NoPos); return obj != nil }(); i++ {
		name = base + strconv.Itoa(i)
	}
	return func() {
		replace(&dst.Ident{Name: name})
		c.InsertBefore(varDecl(name, typ))
		s.Init = &dst.AssignStmt{Lhs: pair(&dst.Ident{Name: name}), Tok: token.ASSIGN, Rhs: []dst.Expr{build()}}
		p.changed()
	}
}

// sameScope reports whether the variable val is declared in the scope that
// holds stmt, so that "val, err := ..." assigns it rather than shadowing it.
func (p *pass) sameScope(val dst.Expr, stmt dst.Stmt) bool {
	id, ok := val.(*dst.Ident)
	if !ok || id.Path != "" {
		return false
	}
	obj := p.objOf(id)
	scope := p.scopeAt(stmt)
	return obj != nil && scope != nil && obj.Parent() == scope
}

// cursor is the part of dstutil.Cursor planDeliver uses; dryCursor lets
// it check a statement without changing it.
type cursor interface {
	Node() dst.Node
	Index() int
	Replace(dst.Node)
	InsertBefore(dst.Node)
	InsertAfter(dst.Node)
}

var _ cursor = (*dstutil.Cursor)(nil)

type dryCursor struct{ n dst.Node }

func (d dryCursor) Node() dst.Node        { return d.n }
func (d dryCursor) Index() int            { return 0 }
func (d dryCursor) Replace(dst.Node)      {}
func (d dryCursor) InsertBefore(dst.Node) {}
func (d dryCursor) InsertAfter(dst.Node)  {}

// stmtOf returns the statement of a statement list that holds n.
func (p *pass) stmtOf(n dst.Node) dst.Stmt {
	for cur := n; cur != nil; cur = p.parent(cur) {
		if s, ok := cur.(dst.Stmt); ok {
			switch p.parent(cur).(type) {
			case *dst.BlockStmt, *dst.CaseClause, *dst.CommClause:
				return s
			}
		}
	}
	return nil
}

// recordHoist remembers a variable declared before an if, so a second if
// of the same block reuses it.
func (p *pass) recordHoist(name string, ifStmt *dst.IfStmt) {
	if a, ok := p.astOf(ifStmt).(*ast.IfStmt); ok {
		if sc := p.pkg.TypesInfo.Scopes[a]; sc != nil && sc.Parent() != nil {
			if p.hoisted == nil {
				p.hoisted = map[*types.Scope]map[string]bool{}
			}
			if p.hoisted[sc.Parent()] == nil {
				p.hoisted[sc.Parent()] = map[string]bool{}
			}
			p.hoisted[sc.Parent()][name] = true
		}
	}
}

type hoist int

const (
	hoistNo    hoist = iota
	hoistVar         // declare "var name T" before the if
	hoistReuse       // assign the block's own variable, unused after the if
)

// canHoist decides how the variable an if initializer declares can move out
// of it: declared right before the if, when that neither clashes with a
// declaration of its block nor captures later uses of an outer variable of
// that name; or reused, when the block already declares it before the if
// and never uses it after.
func (p *pass) canHoist(name string, ifStmt *dst.IfStmt) hoist {
	a, ok := p.astOf(ifStmt).(*ast.IfStmt)
	if !ok {
		return hoistNo
	}
	ifScope := p.pkg.TypesInfo.Scopes[a]
	if ifScope == nil || ifScope.Parent() == nil {
		return hoistNo
	}
	block := ifScope.Parent()
	if p.hoisted[block][name] {
		return hoistReuse
	}
	usedAfter := func(obj types.Object) bool {
		for id, o := range p.pkg.TypesInfo.Uses {
			if o == obj && id.Pos() > a.End() && id.Pos() < block.End() {
				return true
			}
		}
		return false
	}
	if own := block.Lookup(name); own != nil {
		inner := ifScope.Lookup(name)
		if own.Pos() < a.Pos() && inner != nil && types.Identical(own.Type(), inner.Type()) && !usedAfter(own) {
			return hoistReuse
		}
		return hoistNo
	}
	_, outer := block.LookupParent(name, a.Pos())
	if outer != nil && usedAfter(outer) {
		return hoistNo
	}
	return hoistVar
}

// noteUnread records the variable x of a result pointer &x when the code
// never reads x otherwise: once the value is assigned instead of passed by
// pointer, the compiler would report x as declared and not used, so
// keepUnread marks it used where it is declared.
func (p *pass) noteUnread(ptr dst.Expr) {
	u, ok := ptr.(*dst.UnaryExpr)
	if !ok || u.Op != token.AND {
		return
	}
	v := p.localVar(u.X)
	if v == nil {
		return
	}
	for use, obj := range p.pkg.TypesInfo.Uses {
		if obj == v && !p.addressTaken(use) {
			return
		}
	}
	p.markUnread(v)
}

// localVar returns the function-local variable an identifier names, or nil.
func (p *pass) localVar(e dst.Expr) *types.Var {
	id, ok := e.(*dst.Ident)
	if !ok || id.Path != "" {
		return nil
	}
	v, ok := p.objOf(id).(*types.Var)
	if !ok || v.IsField() || v.Parent() == nil || v.Parent() == p.pkg.Types.Scope() {
		return nil
	}
	return v
}

// markUnread records v for keepUnread.
func (p *pass) markUnread(v *types.Var) {
	if p.unread == nil {
		p.unread = map[types.Object]bool{}
	}
	p.unread[v] = true
}

// addressTaken reports whether the identifier use is the operand of &.
func (p *pass) addressTaken(use *ast.Ident) bool {
	found := false
	for _, f := range p.pkg.Syntax {
		if f.Pos() <= use.Pos() && use.Pos() < f.End() {
			ast.Inspect(f, func(n ast.Node) bool {
				if found || n == nil || n.Pos() > use.Pos() || n.End() <= use.Pos() {
					return false
				}
				if u, ok := n.(*ast.UnaryExpr); ok && u.Op == token.AND && u.X == use {
					found = true
				}
				return true
			})
		}
	}
	return found
}

// keepUnread adds "_ = x" after the var declaration of each variable
// noteUnread recorded.
func (p *pass) keepUnread() {
	if len(p.unread) == 0 {
		return
	}
	dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
		ds, ok := c.Node().(*dst.DeclStmt)
		if !ok || c.Index() < 0 {
			return true
		}
		gd, ok := ds.Decl.(*dst.GenDecl)
		if !ok || gd.Tok != token.VAR {
			return true
		}
		for _, spec := range gd.Specs {
			vs, ok := spec.(*dst.ValueSpec)
			if !ok {
				continue
			}
			for _, name := range vs.Names {
				if obj := p.objOf(name); obj != nil && p.unread[obj] {
					c.InsertAfter(&dst.AssignStmt{Lhs: []dst.Expr{blank()}, Tok: token.ASSIGN, Rhs: []dst.Expr{&dst.Ident{Name: name.Name}}})
					delete(p.unread, obj)
					p.changed()
				}
			}
		}
		return true
	})
}
