package temporal

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// StoreDSNDefault is the store a converted program opens when
// $DURABLE_DSN is unset (durable.DSN). Use "postgres://..." when several
// processes share the work.
const StoreDSNDefault = "sqlite:durable.db"

// StoreKind says how converted programs open their store (Options.Store).
type StoreKind string

const (
	// StoreDSN: durable.Open(ctx, durable.DSN()), the store named by
	// $DURABLE_DSN, any backend. The program links both backends. The
	// default.
	StoreDSN StoreKind = "dsn"
	// StoreSQLite: the SQLite file StoreSQLitePathDefault, opened with
	// sqlite.Open and given to durable.New, so that the program built with
	// -tags durable_nopostgres links no PostgreSQL driver.
	StoreSQLite StoreKind = "sqlite"
	// StorePostgres: the PostgreSQL database named by $DURABLE_DSN, opened
	// with postgres.Open and given to durable.New, so that the program
	// built with -tags durable_nosqlite links no SQLite.
	StorePostgres StoreKind = "postgres"
)

// StoreKinds returns every StoreKind, as the CLI offers them.
func StoreKinds() []StoreKind { return []StoreKind{StoreDSN, StoreSQLite, StorePostgres} }

// StoreSQLitePathDefault is the file a program converted with StoreSQLite
// opens: the file of StoreDSNDefault.
const StoreSQLitePathDefault = "durable.db"

// Import paths of the store backends the StoreSQLite and StorePostgres
// forms open.
const (
	SQLitePath   = ToolkitModule + "/runtime/store/sqlite"
	PostgresPath = ToolkitModule + "/runtime/store/postgres"
)

// workerRule converts worker programs: client.Dial is
// durable.Open(ctx, durable.DSN()), the worker is the engine itself, which
// serves the worker's queue (worker.New(c, queue, ...) is c.Serve(queue)),
// Register*WithOptions take durable.WithName, w.Start() goes (the engine
// works already) and w.Run(stop) waits for stop (an interrupt for
// worker.InterruptCh()) while the engine runs the workflows.
var workerRule = rule{
	Name: "worker",
	Doc:  "client.Dial, worker.New, Register* and Run to durable.Open and Register*",
	Run: func(p *pass) {
		var keeps []keepUse
		var opens []storeOpen
		dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
			n := c.Node()
			if p.marked(n) {
				return true
			}
			if call, name := callOf(n, pkgClient); call != nil && !p.marked(call) {
				switch name {
				case "Dial", "NewLazyClient", "NewClient", "DialContext":
					ctxArg := dst.Expr(&dst.CallExpr{Fun: &dst.Ident{Path: "context", Name: "Background"}})
					dropped := call.Args
					if name == "DialContext" && len(call.Args) == 2 {
						ctxArg, dropped = call.Args[0], call.Args[1:]
					}
					keeps = p.keepUsed(keeps, call, dropped)
					call.Fun = durableIdent("Open")
					call.Args = []dst.Expr{ctxArg, &dst.CallExpr{Fun: durableIdent("DSN")}}
					how := ""
					if !p.hasWorker() {
						// A program without a worker only acts as a client: it
						// opens the store beside the worker process.
						call.Args = append(call.Args, &dst.CallExpr{Fun: durableIdent("WithClientOnly")})
						how = ", client-only (the package makes no worker)"
					}
					call.Args = append(call.Args, p.openOptions[call]...) // telemetry.go
					if p.store == StoreSQLite || p.store == StorePostgres {
						// openStores makes it durable.New on one backend's store.
						opens = append(opens, storeOpen{call: call, name: name, how: how, pos: p.pos(call)})
					} else {
						p.findings = append(p.findings, newFinding(p.pos(call), p.rule, SeverityNote,
							"client."+name+" became durable.Open(ctx, durable.DSN()"+how+"): the store comes from $DURABLE_DSN (default "+StoreDSNDefault+"); the Temporal connection options were dropped", ""))
					}
					p.changed()
				}
				return true
			}
			if call, name := callOf(n, pkgWorker); call != nil && name == "New" && len(call.Args) >= 1 {
				if len(call.Args) >= 2 && p.toOwnInterface(c) {
					// The worker goes behind the program's own interface,
					// which the engine's methods do not fit: a worker of
					// Temporal's shape on the engine.
					nw := &dst.CallExpr{Fun: &dst.Ident{Path: ShapedPath, Name: "NewWorker"}, Args: []dst.Expr{call.Args[0], call.Args[1]}}
					keeps = p.keepUsed(keeps, nw, call.Args[2:])
					nw.Decs = call.Decs
					c.Replace(nw)
				} else if len(call.Args) >= 2 {
					// The worker is the engine, which also serves the
					// worker's queue from now on. Where client.Client
					// becomes the durable.Client interface (a directory
					// that uses Temporal's mocks), the engine is behind
					// it: worker.New asserts *internal.WorkflowClient the
					// same way.
					engine := call.Args[0]
					if p.mocksDir && temporalType(p.typeOf(engine), "Client") != "" && types.IsInterface(p.typeOf(engine)) {
						engine = &dst.TypeAssertExpr{X: engine, Type: &dst.StarExpr{X: &dst.Ident{Path: DurablePath, Name: "Engine"}}}
					}
					serve := &dst.CallExpr{Fun: &dst.SelectorExpr{X: engine, Sel: &dst.Ident{Name: "Serve"}}, Args: []dst.Expr{call.Args[1]}}
					if len(call.Args) >= 3 {
						if bg := takeOptionsField(call.Args[2], "BackgroundActivityContext"); bg != nil {
							// The worker's activities run in contexts with
							// bg's values, per queue.
							serve.Fun.(*dst.SelectorExpr).Sel.Name = "ServeWithActivityContext"
							serve.Args = []dst.Expr{bg, call.Args[1]}
						}
					}
					keeps = p.keepUsed(keeps, serve, call.Args[2:])
					serve.Decs = call.Decs
					c.Replace(serve)
				} else {
					c.Replace(call.Args[0])
				}
				p.changed()
				return true
			}
			call, recv, m := methodCall(n)
			if call == nil || p.containsMarked(call) || temporalType(p.typeOf(recv), "Worker", "AggregatedWorker") == "" {
				return true
			}
			switch m {
			case "RegisterWorkflow", "RegisterActivity":
			case "RegisterDynamicWorkflow", "RegisterDynamicActivity": // dynamic.go
			case "RegisterWorkflowWithOptions", "RegisterActivityWithOptions":
				if name := registerName(call); name != nil {
					call.Fun.(*dst.SelectorExpr).Sel.Name = m[:len(m)-len("WithOptions")]
					call.Args[1] = &dst.CallExpr{Fun: durableIdent("WithName"), Args: []dst.Expr{name}}
					p.changed()
				} else {
					p.todo(call, "register-options", "only RegisterOptions{Name: ...} converts (to durable.WithName)")
				}
			case "Stop":
				call.Fun.(*dst.SelectorExpr).Sel.Name = "Close"
				p.changed()
			case "Start":
				// The engine works from durable.Open and Register on.
				p.pendingRuns = append(p.pendingRuns, call)
			case "Run":
				p.convertRun(c, call)
			default:
				p.todo(call, "unrecognised", "worker method %s has no automatic conversion", m)
			}
			return true
		})
		p.replaceRuns()
		p.openStores(opens)
		p.insertKeeps(keeps)
		p.pointerTypes(pkgClient, map[string]string{"Client": "Engine"})
		p.pointerTypes(pkgWorker, map[string]string{"Worker": "Engine"})
	},
}

// registerName returns the Name of a RegisterOptions literal that sets
// nothing else.
func registerName(call *dst.CallExpr) dst.Expr {
	if len(call.Args) != 2 {
		return nil
	}
	lit, ok := call.Args[1].(*dst.CompositeLit)
	if !ok || len(lit.Elts) != 1 {
		return nil
	}
	kv, ok := lit.Elts[0].(*dst.KeyValueExpr)
	if !ok || !isIdent(lit.Type, pkgWorkflow, "RegisterOptions") && !isIdent(lit.Type, pkgActivity, "RegisterOptions") {
		return nil
	}
	if key, ok := kv.Key.(*dst.Ident); ok && key.Name == "Name" {
		return kv.Value
	}
	return nil
}

// convertRun records "w.Run(stop)" for its statement rewrite: the engine
// runs workflows from Open on, so Run becomes a wait for the stop channel
// (for worker.InterruptCh(), for an interrupt or SIGTERM).
func (p *pass) convertRun(c *dstutil.Cursor, call *dst.CallExpr) {
	if len(call.Args) != 1 {
		p.todo(call, "worker-run", "worker Run without one stop channel argument")
		return
	}
	p.pendingRuns = append(p.pendingRuns, call)
}

func isCallTo(e dst.Expr, path, name string) bool {
	call, n := callOf(e, path)
	return call != nil && n == name
}

// waitInterrupt is the block that replaces w.Run(worker.InterruptCh()).
func waitInterrupt() *dst.BlockStmt {
	sig := func() *dst.Ident { return &dst.Ident{Name: "interrupt"} }
	return &dst.BlockStmt{List: []dst.Stmt{
		&dst.AssignStmt{Lhs: []dst.Expr{sig()}, Tok: token.DEFINE, Rhs: []dst.Expr{&dst.CallExpr{
			Fun:  &dst.Ident{Name: "make"},
			Args: []dst.Expr{&dst.ChanType{Dir: dst.SEND | dst.RECV, Value: &dst.Ident{Path: "os", Name: "Signal"}}, &dst.BasicLit{Kind: token.INT, Value: "1"}},
		}}},
		&dst.ExprStmt{X: &dst.CallExpr{Fun: &dst.Ident{Path: "os/signal", Name: "Notify"}, Args: []dst.Expr{sig(),
			&dst.Ident{Path: "os", Name: "Interrupt"}, &dst.Ident{Path: "syscall", Name: "SIGTERM"}}}},
		&dst.ExprStmt{X: &dst.UnaryExpr{Op: token.ARROW, X: sig()}},
	}}
}

// runReplacement is what replaces a worker's Run or Start call: a wait on
// its stop channel, or nothing (Start: the engine works already).
func runReplacement(call *dst.CallExpr) []dst.Stmt {
	sel := call.Fun.(*dst.SelectorExpr)
	if sel.Sel.Name == "Start" {
		return nil
	}
	if isCallTo(call.Args[0], pkgWorker, "InterruptCh") {
		return []dst.Stmt{waitInterrupt()}
	}
	if id, ok := call.Args[0].(*dst.Ident); ok && id.Name == "nil" && id.Path == "" {
		// Run(nil) waits on a nil channel, for ever; a typed nil says so
		// (untyped nil has no channel type to receive from).
		nilCh := &dst.CallExpr{Fun: &dst.ParenExpr{X: &dst.ChanType{Dir: dst.RECV | dst.SEND, Value: &dst.StructType{Fields: &dst.FieldList{Opening: true, Closing: true}}}}, Args: []dst.Expr{dst.NewIdent("nil")}}
		return []dst.Stmt{&dst.ExprStmt{X: &dst.UnaryExpr{Op: token.ARROW, X: nilCh}}}
	}
	// Wait for the stop channel to deliver or close, as Run does.
	return []dst.Stmt{&dst.ExprStmt{X: &dst.UnaryExpr{Op: token.ARROW, X: call.Args[0]}}}
}

// replaceRuns swaps the statements holding the recorded Run and Start
// calls: "w.Run(ch)", "err = w.Run(ch)", "err := w.Run(ch)",
// "if err := w.Run(ch); err != nil {...}" and "return w.Run(ch)".
func (p *pass) replaceRuns() {
	if len(p.pendingRuns) == 0 {
		return
	}
	want := map[*dst.CallExpr]bool{}
	for _, r := range p.pendingRuns {
		want[r] = true
	}
	dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
		stmt, ok := c.Node().(dst.Stmt)
		if !ok || c.Index() < 0 {
			return true
		}
		call := runSite(stmt, want)
		if call == nil {
			return true
		}
		delete(want, call)
		repl := runReplacement(call)
		decorate := func(s dst.Stmt) dst.Stmt {
			s.Decorations().Before = stmt.Decorations().Before
			s.Decorations().Start = stmt.Decorations().Start
			return s
		}
		switch s := stmt.(type) {
		case *dst.ExprStmt, *dst.IfStmt:
			// The if's condition tests Run's error, which is nil now.
		case *dst.AssignStmt:
			if id, ok := s.Lhs[0].(*dst.Ident); ok && s.Tok == token.DEFINE && id.Name != "_" {
				repl = append([]dst.Stmt{varDecl(id.Name, "error")}, repl...)
			}
		case *dst.ReturnStmt:
			repl = append(repl, &dst.ReturnStmt{Results: []dst.Expr{&dst.Ident{Name: "nil"}}})
		}
		if len(repl) == 0 {
			if len(stmt.Decorations().Start) > 0 {
				repl = []dst.Stmt{&dst.EmptyStmt{Implicit: true}}
				repl[0].Decorations().Start = stmt.Decorations().Start
			}
			c.Delete()
			p.changed()
			return true
		}
		decorate(repl[0])
		for i := len(repl) - 1; i > 0; i-- {
			c.InsertAfter(repl[i])
		}
		c.Replace(repl[0])
		p.changed()
		return true
	})
	if len(want) > 0 {
		// Start elsewhere (an argument): its error is nil now.
		dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
			if call, ok := c.Node().(*dst.CallExpr); ok && want[call] && call.Fun.(*dst.SelectorExpr).Sel.Name == "Start" {
				delete(want, call)
				c.Replace(&dst.CallExpr{Fun: &dst.Ident{Name: "error"}, Args: []dst.Expr{&dst.Ident{Name: "nil"}}})
				p.changed()
			}
			return true
		})
	}
	for r := range want {
		p.todo(r, "worker-run", "worker Run in a form the converter does not rewrite")
	}
	p.pendingRuns = nil
}

// runSite returns the recorded call stmt consists of, in one of the forms
// replaceRuns rewrites.
func runSite(stmt dst.Stmt, want map[*dst.CallExpr]bool) *dst.CallExpr {
	is := func(e dst.Expr) *dst.CallExpr {
		if call, ok := e.(*dst.CallExpr); ok && want[call] {
			return call
		}
		return nil
	}
	switch s := stmt.(type) {
	case *dst.ExprStmt:
		return is(s.X)
	case *dst.AssignStmt:
		if len(s.Lhs) == 1 && len(s.Rhs) == 1 {
			return is(s.Rhs[0])
		}
	case *dst.ReturnStmt:
		if len(s.Results) == 1 {
			return is(s.Results[0])
		}
	case *dst.IfStmt:
		a, ok := s.Init.(*dst.AssignStmt)
		if !ok || s.Else != nil || len(a.Lhs) != 1 || len(a.Rhs) != 1 || a.Tok != token.DEFINE {
			return nil
		}
		return is(a.Rhs[0])
	}
	return nil
}

// keepUsed keeps the local variables that only the dropped arguments of
// call used from becoming unused: "_ = v" goes before call's statement.
// TODO comments that rules attached inside the dropped arguments move to
// that statement too.
func (p *pass) keepUsed(keeps []keepUse, call *dst.CallExpr, dropped []dst.Expr) []keepUse {
	if len(dropped) == 0 {
		return keeps
	}
	var ranges [][2]token.Pos
	for _, d := range dropped {
		if a := p.astOf(d); a != nil {
			ranges = append(ranges, [2]token.Pos{a.Pos(), a.End()})
		}
	}
	inDropped := func(pos token.Pos) bool {
		for _, r := range ranges {
			if pos >= r[0] && pos < r[1] {
				return true
			}
		}
		return false
	}
	var vars []*types.Var
	seen := map[*types.Var]bool{}
	var todos []string
	for _, d := range dropped {
		dst.Inspect(d, func(n dst.Node) bool {
			if p.todos[n] {
				for _, c := range n.Decorations().Start {
					if strings.HasPrefix(c, "// TODO(migrate)") {
						todos = append(todos, c)
					}
				}
			}
			id, ok := n.(*dst.Ident)
			if !ok {
				return true
			}
			v, ok := p.objOf(id).(*types.Var)
			if !ok || v.IsField() || v.Pkg() == nil || v.Parent() == v.Pkg().Scope() || seen[v] {
				return true
			}
			seen[v] = true
			vars = append(vars, v)
			return true
		})
	}
	file, _ := p.astOf(p.file).(*ast.File)
	if file == nil {
		return keeps
	}
	var keep []string
	for _, v := range vars {
		used := false
		ast.Inspect(file, func(n ast.Node) bool {
			if id, ok := n.(*ast.Ident); ok && !used && p.pkg.TypesInfo.Uses[id] == v && !inDropped(id.Pos()) {
				used = true
			}
			return !used
		})
		if !used {
			keep = append(keep, v.Name())
		}
	}
	if len(keep) == 0 && len(todos) == 0 {
		return keeps
	}
	return append(keeps, keepUse{call: call, names: keep, todos: todos})
}

// keepUse is a pending insertion of keepUsed.
type keepUse struct {
	call  *dst.CallExpr
	names []string
	todos []string
}

// insertKeeps inserts the statements keepUsed planned.
func (p *pass) insertKeeps(keeps []keepUse) {
	if len(keeps) == 0 {
		return
	}
	byCall := map[*dst.CallExpr]keepUse{}
	for _, k := range keeps {
		byCall[k.call] = k
	}
	dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
		stmt, ok := c.Node().(dst.Stmt)
		if !ok || c.Index() < 0 {
			return true
		}
		if _, ok := stmt.(*dst.BlockStmt); ok {
			return true
		}
		var found []keepUse
		dst.Inspect(stmt, func(n dst.Node) bool {
			if call, ok := n.(*dst.CallExpr); ok {
				if k, ok := byCall[call]; ok {
					found = append(found, k)
					delete(byCall, call)
				}
			}
			_, isFunc := n.(*dst.FuncLit)
			return !isFunc
		})
		for _, k := range found {
			for _, t := range k.todos {
				stmt.Decorations().Start.Append(t)
				if stmt.Decorations().Before == dst.None {
					stmt.Decorations().Before = dst.NewLine
				}
			}
			for _, name := range k.names {
				keep := &dst.AssignStmt{Lhs: []dst.Expr{&dst.Ident{Name: "_"}}, Tok: token.ASSIGN, Rhs: []dst.Expr{&dst.Ident{Name: name}}}
				keep.Decs.End.Append("// a Temporal setting durable does not use")
				c.InsertBefore(keep)
			}
			p.changed()
		}
		return true
	})
}

// hasWorker reports whether the package makes a Temporal worker
// (worker.New) or a test server that runs workflows, so that its client is
// the engine that works the runs rather than a client beside it.
func (p *pass) hasWorker() bool {
	for id, obj := range p.pkg.TypesInfo.Uses {
		if obj.Pkg() == nil {
			continue
		}
		switch {
		case obj.Pkg().Path() == pkgWorker && obj.Name() == "New",
			obj.Pkg().Path() == pkgTestsuite && obj.Name() == "StartDevServer":
			_ = id
			return true
		}
	}
	// A package of the same module that the program imports may make the
	// worker (a library with NewRequester that starts one on its queue).
	if mod := p.pkg.Module; mod != nil && mod.Dir != "" {
		seen := map[string]bool{}
		for path := range p.pkg.Imports {
			if moduleImportsWorker(mod.Path, mod.Dir, path, seen) {
				return true
			}
		}
	}
	return false
}

// moduleImportsWorker reports whether the package path of module modPath
// (in modDir), or a package of the module it imports, imports Temporal's
// worker package in a non-test file. It reads only import declarations.
func moduleImportsWorker(modPath, modDir, path string, seen map[string]bool) bool {
	if seen[path] || (path != modPath && !strings.HasPrefix(path, modPath+"/")) {
		return false
	}
	seen[path] = true
	dir := filepath.Join(modDir, filepath.FromSlash(strings.TrimPrefix(path, modPath)))
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	fset := token.NewFileSet()
	var next []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			continue
		}
		for _, imp := range f.Imports {
			ip, _ := strconv.Unquote(imp.Path.Value)
			if ip == pkgWorker {
				return true
			}
			next = append(next, ip)
		}
	}
	for _, ip := range next {
		if moduleImportsWorker(modPath, modDir, ip, seen) {
			return true
		}
	}
	return false
}

// toOwnInterface reports whether the value at c (a worker.New call) is
// stored as, or passed as, an interface type of the program's own rather
// than worker.Worker: a variable or field assigned, a call argument, a
// field of a composite literal.
func (p *pass) toOwnInterface(c *dstutil.Cursor) bool {
	var dest types.Type
	switch parent := c.Parent().(type) {
	case *dst.AssignStmt:
		if parent.Tok == token.DEFINE || c.Name() != "Rhs" || len(parent.Lhs) != len(parent.Rhs) {
			return false
		}
		dest = p.typeOf(parent.Lhs[c.Index()])
	case *dst.ValueSpec:
		if parent.Type != nil {
			dest = p.typeOf(parent.Type)
		}
	case *dst.KeyValueExpr:
		if key, ok := p.astOf(parent.Key).(*ast.Ident); ok {
			if obj := p.pkg.TypesInfo.ObjectOf(key); obj != nil {
				dest = obj.Type()
			}
		}
	case *dst.CallExpr:
		sig, ok := types.Unalias(p.typeOf(parent.Fun)).(*types.Signature)
		if !ok || c.Name() != "Args" || c.Index() < 0 {
			return false
		}
		i := c.Index()
		switch {
		case sig.Variadic() && i >= sig.Params().Len()-1:
			if sl, ok := sig.Params().At(sig.Params().Len() - 1).Type().(*types.Slice); ok {
				dest = sl.Elem()
			}
		case i < sig.Params().Len():
			dest = sig.Params().At(i).Type()
		}
	}
	if dest == nil || temporalType(dest, "Worker") != "" {
		return false
	}
	_, isInterface := dest.Underlying().(*types.Interface)
	return isInterface && !types.Identical(dest.Underlying(), types.NewInterfaceType(nil, nil))
}

// takeOptionsField removes the field key from an options literal (or a
// pointer to one) and returns its value; nil when the literal has none or
// opts is not a literal.
func takeOptionsField(opts dst.Expr, key string) dst.Expr {
	if u, ok := opts.(*dst.UnaryExpr); ok && u.Op == token.AND {
		opts = u.X
	}
	lit, ok := opts.(*dst.CompositeLit)
	if !ok {
		return nil
	}
	for i, el := range lit.Elts {
		kv, ok := el.(*dst.KeyValueExpr)
		if !ok {
			continue
		}
		if id, ok := kv.Key.(*dst.Ident); ok && id.Name == key {
			lit.Elts = append(lit.Elts[:i], lit.Elts[i+1:]...)
			kv.Value.Decorations().Start = nil
			return kv.Value
		}
	}
	return nil
}
