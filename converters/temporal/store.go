package temporal

import (
	"go/token"
	"strconv"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// storeOpen is a client.Dial that workerRule made durable.Open(ctx,
// durable.DSN(), opts...) and that openStores makes durable.New on one
// backend's store (Options.Store).
type storeOpen struct {
	call *dst.CallExpr
	name string // the client function it replaced (Dial, NewLazyClient, ...)
	how  string // what the note adds about the call (client-only)
	pos  token.Position
}

// openStores gives each recorded Dial the store of Options.Store:
//
//	c, err := client.Dial(client.Options{...})
//	if err != nil {
//		log.Fatalln("unable to create client", err)
//	}
//
// becomes
//
//	st, err := sqlite.Open(context.Background(), "durable.db")
//	if err != nil {
//		log.Fatalln("unable to create client", err)
//	}
//	c, err := durable.New(context.Background(), st, durable.WithStoreOwnership())
//	if err != nil {
//		log.Fatalln("unable to create client", err)
//	}
//
// The error check is the program's own, repeated for the store. A Dial in
// any other statement (no following check, an assignment to declared
// variables, an expression) keeps durable.Open, with a note: there the
// store's error would need handling the converter cannot write for the
// program.
func (p *pass) openStores(opens []storeOpen) {
	if len(opens) == 0 {
		return
	}
	want := map[*dst.CallExpr]storeOpen{}
	for _, o := range opens {
		want[o.call] = o
	}
	dstutil.Apply(p.file, nil, func(c *dstutil.Cursor) bool {
		as, ok := c.Node().(*dst.AssignStmt)
		if !ok || c.Index() < 0 || len(as.Rhs) != 1 {
			return true
		}
		call, _ := as.Rhs[0].(*dst.CallExpr)
		o, ok := want[call]
		if !ok {
			return true
		}
		delete(want, call)
		check := errCheckAfter(c, as)
		if check == nil {
			p.storeKept(o)
			return true
		}
		st := p.freeName(as, "st")
		ctx := call.Args[0]
		open := p.storeOpenCall(dst.Clone(ctx).(dst.Expr))
		openStmt := &dst.AssignStmt{Lhs: []dst.Expr{&dst.Ident{Name: st}, dst.Clone(as.Lhs[1]).(dst.Expr)}, Tok: token.DEFINE, Rhs: []dst.Expr{open}}
		openStmt.Decs.Before = as.Decs.Before
		openStmt.Decs.Start = as.Decs.Start
		as.Decs.Before, as.Decs.Start = dst.NewLine, nil
		c.InsertBefore(openStmt)
		c.InsertBefore(dst.Clone(check).(dst.Stmt))
		args := []dst.Expr{ctx, &dst.Ident{Name: st}, &dst.CallExpr{Fun: durableIdent("WithStoreOwnership")}}
		call.Fun = durableIdent("New")
		call.Args = append(args, call.Args[2:]...)
		p.storeNote(o, p.storeNoteText(o))
		return true
	})
	for _, o := range opens {
		if _, ok := want[o.call]; ok {
			p.storeKept(o)
		}
	}
}

// storeOpenCall is the call that opens the backend's store.
func (p *pass) storeOpenCall(ctx dst.Expr) *dst.CallExpr {
	switch p.store {
	case StorePostgres:
		dsn := &dst.CallExpr{Fun: &dst.Ident{Path: "os", Name: "Getenv"}, Args: []dst.Expr{durableIdent("DSNEnv")}}
		return &dst.CallExpr{Fun: &dst.Ident{Path: PostgresPath, Name: "Open"}, Args: []dst.Expr{ctx, dsn}}
	default:
		args := []dst.Expr{ctx, &dst.BasicLit{Kind: token.STRING, Value: strconv.Quote(StoreSQLitePathDefault)}}
		if !p.hasWorker() {
			// The SQLite file is worked by the worker process; a client
			// opens it beside that one (durable.WithClientOnly says the
			// same to the engine).
			args = append(args, &dst.CallExpr{Fun: &dst.Ident{Path: SQLitePath, Name: "WithClientOnly"}, Args: []dst.Expr{&dst.Ident{Name: "true"}}})
		}
		return &dst.CallExpr{Fun: &dst.Ident{Path: SQLitePath, Name: "Open"}, Args: args}
	}
}

// storeNoteText says what the Dial became and how to build the program.
func (p *pass) storeNoteText(o storeOpen) string {
	switch p.store {
	case StorePostgres:
		return "client." + o.name + " became durable.New on postgres.Open(ctx, os.Getenv(durable.DSNEnv))" + o.how +
			": build with -tags durable_nosqlite to leave SQLite out; the Temporal connection options were dropped"
	default:
		return "client." + o.name + " became durable.New on sqlite.Open(ctx, \"" + StoreSQLitePathDefault + "\")" + o.how +
			": build with -tags durable_nopostgres to leave PostgreSQL's driver out; the Temporal connection options were dropped"
	}
}

// storeKept notes a Dial left as durable.Open, and why.
func (p *pass) storeKept(o storeOpen) {
	p.storeNote(o, "client."+o.name+" became durable.Open(ctx, durable.DSN()"+o.how+"), not durable.New: --store="+string(p.store)+
		" needs \"c, err := client."+o.name+"(...)\" followed by \"if err != nil {...}\", whose check it repeats for the store")
}

func (p *pass) storeNote(o storeOpen, msg string) {
	p.findings = append(p.findings, newFinding(o.pos, p.rule, SeverityNote, msg, ""))
}

// errCheckAfter returns the statement after as when it is as's error
// check: as defines two variables, the second of which the next statement
// tests with "if err != nil {...}" (no init, no else).
func errCheckAfter(c *dstutil.Cursor, as *dst.AssignStmt) *dst.IfStmt {
	if as.Tok != token.DEFINE || len(as.Lhs) != 2 {
		return nil
	}
	errID, ok := as.Lhs[1].(*dst.Ident)
	if !ok || errID.Name == "_" {
		return nil
	}
	var list []dst.Stmt
	switch par := c.Parent().(type) {
	case *dst.BlockStmt:
		list = par.List
	case *dst.CaseClause:
		list = par.Body
	case *dst.CommClause:
		list = par.Body
	}
	i := c.Index()
	if i+1 >= len(list) || list[i] != as {
		return nil
	}
	ifs, ok := list[i+1].(*dst.IfStmt)
	if !ok || ifs.Init != nil || ifs.Else != nil {
		return nil
	}
	cond, ok := ifs.Cond.(*dst.BinaryExpr)
	if !ok || cond.Op != token.NEQ {
		return nil
	}
	x, ok := cond.X.(*dst.Ident)
	y, ok2 := cond.Y.(*dst.Ident)
	if !ok || !ok2 || x.Path != "" || x.Name != errID.Name || y.Path != "" || y.Name != "nil" {
		return nil
	}
	return ifs
}

// freeName returns base, or base2, base3, ... : a name that nothing in
// the scope of stmt (an original statement) or around it declares.
func (p *pass) freeName(stmt dst.Stmt, base string) string {
	scope := p.scopeAt(stmt)
	name := base
	for i := 2; scope != nil; i++ {
		if _, obj := scope.LookupParent(name, token.NoPos); obj == nil {
			break
		}
		name = base + strconv.Itoa(i)
	}
	return name
}
