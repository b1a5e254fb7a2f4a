package temporal

import (
	"go/ast"
	"go/types"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// producer converts one Temporal function whose result is a future (or an
// encoded value) that the code reads with Get.
type producer struct {
	// inline rewrites call in place for the form "call.Get(ctx, ptr)". t is
	// the result type, nil when ptr is nil. It returns the new call and its
	// shape, or why it cannot convert ("anchor: message"); it is first run
	// on clones, so a refusal changes nothing.
	inline func(p *pass, call *dst.CallExpr, get *dst.CallExpr, t dst.Expr) (dst.Expr, shape, string)
	// store rewrites call in place for "f := call"; t is the type later Gets
	// read (nil when none names one). It returns false when it cannot.
	store func(p *pass, call *dst.CallExpr, t dst.Expr) string
	// kind says how a stored value is read.
	kind *storeKind
	// pair marks a call that returns the stored value and a second one
	// ("f, s := workflow.NewFuture(ctx)"); only the first is followed.
	pair bool
}

// read describes a method that delivers a value through its last argument.
type read struct {
	args  int   // arguments of the Temporal method, the pointer last
	sh    shape // shape of the durable method
	keep  int   // arguments the durable method keeps (ctx)
	value bool  // the durable value itself is the result (encoded values)
}

// storeKind describes the methods of a stored future or channel.
type storeKind struct {
	what   string          // "future", "channel"
	inline string          // the method read inline: X(...).Get
	reads  map[string]read // methods delivering through a pointer
	// typeArg maps methods whose argument at the index gives the element type.
	typeArg map[string]int
	// same lists methods that keep their meaning, renamed when the value differs.
	same map[string]string
	// selector is the Selector method that waits on the value.
	selector string
}

var futureKind = &storeKind{
	what: "future", inline: "Get",
	reads:    map[string]read{"Get": {args: 2, sh: shapeValErr, keep: 1}},
	same:     map[string]string{"IsReady": "Ready"},
	selector: "AddFuture",
}

var encodedKind = &storeKind{
	what: "encoded value", inline: "Get",
	reads: map[string]read{"Get": {args: 1, sh: shapeVal, value: true}},
}

var channelKind = &storeKind{
	what: "channel", inline: "Receive",
	reads: map[string]read{
		"Receive":      {args: 2, sh: shapeValBool, keep: 1},
		"ReceiveAsync": {args: 1, sh: shapeValBool},
	},
	typeArg:  map[string]int{"Send": 1, "SendAsync": 0},
	same:     map[string]string{"Close": "Close", "Len": "Len", "Send": "Send", "SendAsync": "SendAsync"},
	selector: "AddReceive",
}

// convertFutures rewrites the calls of path's functions listed in prods:
// inline "call.Get(ctx, &r)" statements first, then futures kept in a
// variable and read later.
func (p *pass) convertFutures(path string, prods map[string]producer) {
	prodOf := func(e dst.Expr) (*dst.CallExpr, producer, bool) {
		call, name := callOf(e, path)
		if call == nil {
			return nil, producer{}, false
		}
		pr, ok := prods[name]
		return call, pr, ok
	}
	// Inline: X(...).Get(ctx, ptr).
	dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
		stmt, ok := c.Node().(dst.Stmt)
		if !ok || c.Index() < 0 || p.marked(stmt) {
			return true
		}
		get := getSite(stmt, func(call *dst.CallExpr) bool {
			_, recv, m := methodCall(call)
			_, pr, ok := prodOf(recv)
			if !ok || m != pr.kind.inline {
				return false
			}
			rd, ok := pr.kind.reads[m]
			return ok && len(call.Args) == rd.args && pr.inline != nil
		})
		if get == nil {
			return true
		}
		inner, pr, _ := prodOf(get.Fun.(*dst.SelectorExpr).X)
		ptr := get.Args[len(get.Args)-1]
		var t dst.Expr
		if !isNil(ptr) {
			if t = p.typeExpr(p.elemOf(ptr)); t == nil {
				p.todo(stmt, "result-type", "the result type of %s cannot be named here; convert by hand", calleeName(inner))
				return true
			}
		}
		p.curStmt, p.curInner = stmt, inner
		_, sh, why := pr.inline(p, dst.Clone(inner).(*dst.CallExpr), dst.Clone(get).(*dst.CallExpr), cloneExpr(t))
		if why != "" {
			p.refuse(stmt, why)
			return true
		}
		edit := p.planDeliver(c, get, sh, ptr, func() dst.Expr {
			repl, _, _ := pr.inline(p, inner, get, t)
			return repl
		})
		if edit == nil {
			p.todo(stmt, "get-form", "%s(...).Get is used in a form the converter does not rewrite; convert by hand", calleeName(inner))
			return true
		}
		edit()
		return true
	})
	p.parents = nil
	if p.shaped {
		return // stored futures and channels become package shaped's
	}
	p.convertStored(prodOf)
}

func calleeName(call *dst.CallExpr) string {
	fun := call.Fun
	if ix, ok := fun.(*dst.IndexExpr); ok {
		fun = ix.X
	}
	if id, ok := fun.(*dst.Ident); ok {
		if id.Path != "" {
			return lastElem(id.Path) + "." + id.Name
		}
		return id.Name
	}
	return "call"
}

// storedFuture is a variable that holds a Temporal future.
type storedFuture struct {
	obj       types.Object
	inits     []*dst.CallExpr
	pr        producer
	elem      types.Type
	ok        bool
	gets      []*dst.CallExpr
	others    []dst.Node
	converted bool
}

// convertStored converts futures kept in variables: "f := X(...)" and the
// later "f.Get(ctx, &r)", "f.IsReady()" and selector callbacks. The type
// argument comes from the pointers the Gets pass; when they disagree or none
// names a type, the variable is marked TODO.
func (p *pass) convertStored(prodOf func(dst.Expr) (*dst.CallExpr, producer, bool)) {
	vars := map[types.Object]*storedFuture{}
	var order []*storedFuture
	addInit := func(lhs dst.Expr, rhs dst.Expr) {
		call, pr, ok := prodOf(rhs)
		if !ok || p.marked(call) {
			return
		}
		id, isID := lhs.(*dst.Ident)
		if !isID || id.Name == "_" {
			return
		}
		obj := p.objOf(id)
		if obj == nil {
			return
		}
		sf := vars[obj]
		if sf == nil {
			sf = &storedFuture{obj: obj, pr: pr, ok: true}
			vars[obj] = sf
			order = append(order, sf)
		}
		sf.inits = append(sf.inits, call)
	}
	dst.Inspect(p.file, func(n dst.Node) bool {
		switch s := n.(type) {
		case *dst.AssignStmt:
			if len(s.Lhs) == len(s.Rhs) {
				for i := range s.Lhs {
					addInit(s.Lhs[i], s.Rhs[i])
				}
			}
			if len(s.Lhs) == 2 && len(s.Rhs) == 1 {
				if _, pr, ok := prodOf(s.Rhs[0]); ok && pr.pair {
					addInit(s.Lhs[0], s.Rhs[0])
				}
			}
		case *dst.ValueSpec:
			if len(s.Names) == len(s.Values) {
				for i := range s.Names {
					addInit(s.Names[i], s.Values[i])
				}
			}
		}
		return true
	})
	if len(vars) == 0 {
		return
	}
	// Classify every use of the variables.
	dst.Inspect(p.file, func(n dst.Node) bool {
		id, ok := n.(*dst.Ident)
		if !ok || id.Path != "" {
			return true
		}
		sf := vars[p.objOf(id)]
		if sf == nil || p.isDeclOf(id, sf.obj) {
			return true
		}
		par := p.parent(id)
		if sel, ok := par.(*dst.SelectorExpr); ok && sel.X == id {
			if call, ok := p.parent(sel).(*dst.CallExpr); ok && call.Fun == sel {
				k := sf.pr.kind
				if rd, ok := k.reads[sel.Sel.Name]; ok && len(call.Args) == rd.args {
					sf.gets = append(sf.gets, call)
					sf.addElem(p, call.Args[len(call.Args)-1], true)
					return true
				}
				if i, ok := k.typeArg[sel.Sel.Name]; ok && i < len(call.Args) {
					sf.addElem(p, call.Args[i], false)
					return true
				}
				if _, ok := k.same[sel.Sel.Name]; ok {
					return true
				}
			}
		}
		if as, ok := par.(*dst.AssignStmt); ok {
			for i, l := range as.Lhs {
				if l == id && len(as.Rhs) == len(as.Lhs) {
					if _, _, ok := prodOf(as.Rhs[i]); ok {
						return true
					}
				}
			}
		}
		if call, ok := par.(*dst.CallExpr); ok && len(call.Args) == 2 && call.Args[0] == id {
			if _, _, m := methodCall(call); m != "" && m == sf.pr.kind.selector && temporalType(p.typeOf(call.Fun.(*dst.SelectorExpr).X), "Selector") != "" {
				if fl, ok := call.Args[1].(*dst.FuncLit); ok {
					if sf.callbackGets(p, fl) {
						return true
					}
				}
			}
		}
		sf.others = append(sf.others, id)
		return true
	})
	for _, sf := range order {
		name := sf.obj.Name()
		if len(sf.others) > 0 {
			for _, o := range sf.others {
				p.todo(o, "stored-value", "%s %s is used in a way the converter does not follow (passed on, stored or copied); convert it by hand", sf.pr.kind.what, name)
			}
			continue
		}
		var t dst.Expr
		if sf.elem == nil && sf.pr.kind != futureKind {
			p.todo(sf.inits[0], "result-type", "no read or send of %s %s names its element type; convert by hand", sf.pr.kind.what, name)
			continue
		}
		if sf.elem != nil {
			if t = p.typeExpr(sf.elem); t == nil {
				p.todo(sf.inits[0], "result-type", "the result type of future %s cannot be named here; convert by hand", name)
				continue
			}
		}
		if !sf.ok {
			p.todo(sf.inits[0], "result-type", "future %s is read into values of different types; convert by hand", name)
			continue
		}
		failed := false
		for _, g := range sf.gets {
			stmt := p.stmtOf(g)
			rd := sf.pr.kind.reads[g.Fun.(*dst.SelectorExpr).Sel.Name]
			if stmt == nil || getSite(stmt, func(c *dst.CallExpr) bool { return c == g }) == nil ||
				p.planDeliver(dryCursor{stmt}, g, rd.sh, g.Args[len(g.Args)-1], nil) == nil {
				p.todo(g, "get-form", "%s.%s is used in a form the converter does not rewrite, so %s %s stays as written; convert by hand",
					name, g.Fun.(*dst.SelectorExpr).Sel.Name, sf.pr.kind.what, name)
				failed = true
			}
		}
		for _, init := range sf.inits {
			p.curInner = init
			if why := sf.pr.store(p, dst.Clone(init).(*dst.CallExpr), cloneExpr(t)); why != "" {
				p.refuse(init, why)
				failed = true
			}
		}
		if failed {
			continue
		}
		for _, init := range sf.inits {
			sf.pr.store(p, init, cloneExpr(t))
			p.changed()
		}
		sf.converted = true
		p.rewriteReads(sf, func() dst.Expr { return &dst.Ident{Name: name} })
	}
	// Methods that keep their meaning under another name (IsReady: Ready).
	dst.Inspect(p.file, func(n dst.Node) bool {
		if sel, ok := n.(*dst.SelectorExpr); ok {
			if id, ok := sel.X.(*dst.Ident); ok {
				if sf := vars[p.objOf(id)]; sf != nil && sf.converted {
					if to, ok := sf.pr.kind.same[sel.Sel.Name]; ok && to != sel.Sel.Name {
						sel.Sel.Name = to
						p.changed()
					}
				}
			}
		}
		return true
	})
}

func cloneExpr(e dst.Expr) dst.Expr {
	if e == nil {
		return nil
	}
	return dst.Clone(e).(dst.Expr)
}

func (sf *storedFuture) addElem(p *pass, e dst.Expr, isPtr bool) {
	if isNil(e) {
		return
	}
	var t types.Type
	if isPtr {
		t = p.elemOf(e)
	} else if a, ok := p.astOf(e).(ast.Expr); ok {
		if tv, ok := p.pkg.TypesInfo.Types[a]; ok && tv.Value == nil {
			t = tv.Type
		} else if ok {
			t = types.Default(tv.Type)
		}
	}
	if t == nil {
		sf.ok = false
		return
	}
	if sf.elem == nil {
		sf.elem = t
	} else if !types.Identical(sf.elem, t) {
		sf.ok = false
	}
}

// callbackGets records the Gets a selector callback makes on its parameter.
func (sf *storedFuture) callbackGets(p *pass, fl *dst.FuncLit) bool {
	if len(fl.Type.Params.List) == 0 || len(fl.Type.Params.List[0].Names) == 0 {
		return false
	}
	param := p.objOf(fl.Type.Params.List[0].Names[0])
	good := true
	dst.Inspect(fl.Body, func(n dst.Node) bool {
		id, ok := n.(*dst.Ident)
		if !ok || param == nil || p.objOf(id) != param {
			return true
		}
		sel, ok := p.parent(id).(*dst.SelectorExpr)
		if ok {
			if rd, ok2 := sf.pr.kind.reads[sel.Sel.Name]; ok2 {
				if call, ok := p.parent(sel).(*dst.CallExpr); ok && len(call.Args) == rd.args {
					sf.gets = append(sf.gets, call)
					sf.addElem(p, call.Args[len(call.Args)-1], true)
					return true
				}
			}
		}
		good = false
		return true
	})
	return good
}

// isDeclOf reports whether id is where obj is declared.
func (p *pass) isDeclOf(id *dst.Ident, obj types.Object) bool {
	a := p.astOf(id)
	return a != nil && a.Pos() == obj.Pos()
}

// rewriteReads turns each recorded f.Get(ctx, ptr) into "r, err = f.Get(ctx)",
// with recv building the new receiver.
func (p *pass) rewriteReads(sf *storedFuture, recv func() dst.Expr) {
	name := sf.pr.kind.what
	want := map[*dst.CallExpr]bool{}
	for _, g := range sf.gets {
		want[g] = true
	}
	dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
		stmt, ok := c.Node().(dst.Stmt)
		if !ok || c.Index() < 0 {
			return true
		}
		get := getSite(stmt, func(call *dst.CallExpr) bool { return want[call] })
		if get == nil {
			return true
		}
		delete(want, get)
		ptr := get.Args[len(get.Args)-1]
		sel := get.Fun.(*dst.SelectorExpr)
		rd := sf.pr.kind.reads[sel.Sel.Name]
		edit := p.planDeliver(c, get, rd.sh, ptr, func() dst.Expr {
			sel.X = recv()
			if rd.value {
				return sel.X
			}
			get.Args = get.Args[:rd.keep]
			return get
		})
		if edit == nil {
			p.todo(stmt, "get-form", "%s.Get is used in a form the converter does not rewrite; convert by hand", name)
			return true
		}
		edit()
		return true
	})
	for g := range want {
		p.todo(g, "get-form", "%s.Get is used in a form the converter does not rewrite; convert by hand", name)
	}
}
