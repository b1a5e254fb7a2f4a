package temporal

import (
	"go/ast"
	"go/token"
	"go/types"
	"path"
	"strconv"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/decorator"
	"golang.org/x/tools/go/packages"
)

// Import paths of the Temporal SDK packages the rules look for.
const (
	temporalPrefix = "go.temporal.io/"
	pkgWorkflow    = "go.temporal.io/sdk/workflow"
	pkgActivity    = "go.temporal.io/sdk/activity"
	pkgTemporal    = "go.temporal.io/sdk/temporal"
	pkgClient      = "go.temporal.io/sdk/client"
	pkgWorker      = "go.temporal.io/sdk/worker"
	pkgTestsuite   = "go.temporal.io/sdk/testsuite"
	pkgLog         = "go.temporal.io/sdk/log"
	pkgInternal    = "go.temporal.io/sdk/internal"
	// pkgEnums holds Temporal's API enums (ID policies, parent close policies).
	pkgEnums = "go.temporal.io/api/enums/v1"
)

// rule is one conversion: a Temporal concept and the code that rewrites it.
type rule struct {
	// Name is the rule's short name, also the name of its file.
	Name string
	// Doc is a title line: lower case, no final period.
	Doc string
	// Run rewrites p.file in place.
	Run func(p *pass)
}

// pass carries one file through the rules.
type pass struct {
	rule     string
	pkg      *packages.Package
	dec      *decorator.Decorator
	file     *dst.File
	filename string
	dirty    bool
	findings []Finding
	parents  map[dst.Node]dst.Node
	todos    map[dst.Node]bool
	headers  map[string]bool // headerSuites, once computed
	// propagator is workflow.ContextPropagator as the package sees it
	// (nil: not imported), looked up once (keptTemporal).
	propagator       *types.Interface
	propagatorLooked bool
	// pendingRuns are worker Run calls waiting for their statement rewrite.
	pendingRuns []*dst.CallExpr
	// curStmt is the statement a producer is asked to convert.
	curStmt dst.Stmt
	// curInner is the original call a producer is probed with (on a clone).
	curInner *dst.CallExpr
	// hoisted are the variables moved out of if initializers, by block.
	hoisted map[*types.Scope]map[string]bool
	// shaped is set when the package converts to package shaped: the typed
	// rules convert only calls read where they are made ("X(...).Get(ctx,
	// &r)"), and what they leave is shapedRule's, not a TODO.
	shaped bool
	// mocksDir is the unit's: its directory uses Temporal's mocks.
	mocksDir bool
	// unread are result variables a rewrite turned from pointer targets
	// into assignment targets, with no other reads (see noteUnread).
	unread map[types.Object]bool
	// openOptions are options for the durable.Open a client.Dial call
	// becomes (telemetryRule finds them, workerRule adds them).
	openOptions map[*dst.CallExpr][]dst.Expr
	// store is how converted programs open their store (Options.Store).
	store StoreKind
}

func newPass(u unit, dec *decorator.Decorator, f *dst.File) *pass {
	return &pass{pkg: u.pkg, dec: dec, file: f, filename: u.filename, mocksDir: u.mocksDir, store: u.store, todos: map[dst.Node]bool{}}
}

// changed records that the file must be printed again.
func (p *pass) changed() { p.dirty = true }

// isIdent reports whether e is the qualified identifier path.name.
func isIdent(e dst.Node, path string, names ...string) bool {
	id, ok := e.(*dst.Ident)
	if !ok || id.Path != path {
		return false
	}
	if len(names) == 0 {
		return true
	}
	for _, n := range names {
		if id.Name == n {
			return true
		}
	}
	return false
}

// callOf returns the name of the function call calls when it is one of
// path's functions, or "".
func callOf(n dst.Node, path string) (*dst.CallExpr, string) {
	call, ok := n.(*dst.CallExpr)
	if !ok {
		return nil, ""
	}
	fun := call.Fun
	if ix, ok := fun.(*dst.IndexExpr); ok {
		fun = ix.X
	}
	if id, ok := fun.(*dst.Ident); ok && id.Path == path {
		return call, id.Name
	}
	return nil, ""
}

// methodCall returns the receiver and method name of x.m(...).
func methodCall(n dst.Node) (*dst.CallExpr, dst.Expr, string) {
	call, ok := n.(*dst.CallExpr)
	if !ok {
		return nil, nil, ""
	}
	sel, ok := call.Fun.(*dst.SelectorExpr)
	if !ok {
		return nil, nil, ""
	}
	return call, sel.X, sel.Sel.Name
}

func (p *pass) astOf(n dst.Node) ast.Node { return p.dec.Ast.Nodes[n] }

// typeOf returns the type of an expression of the original file, or nil.
func (p *pass) typeOf(e dst.Expr) types.Type {
	a, ok := p.astOf(e).(ast.Expr)
	if !ok {
		return nil
	}
	return p.pkg.TypesInfo.TypeOf(a)
}

// objOf returns the object an identifier of the original file denotes.
func (p *pass) objOf(e dst.Expr) types.Object {
	switch a := p.astOf(e).(type) {
	case *ast.Ident:
		return p.pkg.TypesInfo.ObjectOf(a)
	case *ast.SelectorExpr:
		return p.pkg.TypesInfo.ObjectOf(a.Sel)
	}
	return nil
}

// parent returns n's parent in the file, building the map on first use.
func (p *pass) parent(n dst.Node) dst.Node {
	if p.parents == nil {
		p.parents = map[dst.Node]dst.Node{}
		var stack []dst.Node
		dst.Inspect(p.file, func(n dst.Node) bool {
			if n == nil {
				stack = stack[:len(stack)-1]
				return true
			}
			if len(stack) > 0 {
				p.parents[n] = stack[len(stack)-1]
			}
			stack = append(stack, n)
			return true
		})
	}
	return p.parents[n]
}

// pos returns the position of n, or of its nearest original ancestor.
func (p *pass) pos(n dst.Node) token.Position {
	for cur := n; cur != nil; cur = p.parent(cur) {
		if a := p.astOf(cur); a != nil {
			return p.pkg.Fset.Position(a.Pos())
		}
	}
	return token.Position{Filename: p.filename}
}

// scopeAt returns the innermost scope enclosing an original node.
func (p *pass) scopeAt(n dst.Node) *types.Scope {
	a := p.astOf(n)
	if a == nil {
		return nil
	}
	return p.pkg.Types.Scope().Innermost(a.Pos())
}

// anchorOf climbs from n to the node a comment line can be attached to.
func (p *pass) anchorOf(n dst.Node) dst.Node {
	cur := n
	for {
		par := p.parent(cur)
		if par == nil {
			return cur
		}
		switch c := cur.(type) {
		case dst.Decl:
			return cur
		case *dst.Field:
			// An unnamed result or parameter shares its line with the
			// signature, where a comment would land inside a qualified
			// name ("func f() client. // TODO ... MetricsHandler"): the TODO
			// goes on what holds the signature.
			if len(c.Names) > 0 || !p.inSignature(c) {
				return cur
			}
		case dst.Stmt:
			switch par.(type) {
			case *dst.BlockStmt, *dst.CaseClause, *dst.CommClause:
				return cur
			}
		case *dst.KeyValueExpr:
			if _, ok := par.(*dst.CompositeLit); ok {
				return cur
			}
		}
		cur = par
	}
}

// markOf returns the node a TODO at anchor marks: anchor, or the unnamed
// result or parameter holding n when anchor is the signature's holder.
func (p *pass) markOf(n, anchor dst.Node) dst.Node {
	for cur := n; cur != nil && cur != anchor; cur = p.parent(cur) {
		if f, ok := cur.(*dst.Field); ok && len(f.Names) == 0 && p.inSignature(f) {
			return f
		}
	}
	return anchor
}

// inSignature reports whether f is a parameter or result of a function
// type.
func (p *pass) inSignature(f *dst.Field) bool {
	list, ok := p.parent(f).(*dst.FieldList)
	if !ok {
		return false
	}
	_, ok = p.parent(list).(*dst.FuncType)
	return ok
}

// todo leaves n in place, marks it for a person and reports it.
func (p *pass) todo(n dst.Node, anchor, format string, args ...any) {
	if p.shaped && typedRules[p.rule] {
		return // left as written for shapedRule
	}
	msg := sprintf(format, args...)
	pos := p.pos(n)
	p.findings = append(p.findings, newFinding(pos, p.rule, SeverityTODO, msg, anchor))
	at := p.anchorOf(n)
	// What is marked (and left alone by later rules) is the field for an
	// unnamed result or parameter, not the whole declaration its comment
	// goes on.
	p.todos[p.markOf(n, at)] = true
	comment := "// TODO(migrate): " + msg
	if anchor != "" {
		comment += " (see docs/unsupported.md#" + anchor + ")"
	}
	decs := at.Decorations()
	for _, c := range decs.Start {
		if c == comment {
			return
		}
	}
	decs.Start.Append(comment)
	if decs.Before == dst.None {
		decs.Before = dst.NewLine
	}
	p.changed()
}

// refuse marks n TODO with a reason of the form "anchor: message".
func (p *pass) refuse(n dst.Node, why string) {
	anchor, msg, ok := strings.Cut(why, ": ")
	if !ok {
		anchor, msg = "", why
	}
	p.todo(n, anchor, "%s", msg)
}

// marked reports whether n sits inside a node a rule already marked TODO.
func (p *pass) marked(n dst.Node) bool {
	for cur := n; cur != nil; cur = p.parent(cur) {
		if p.todos[cur] {
			return true
		}
	}
	return false
}

// durable returns a new identifier durable.name.
func durableIdent(name string) *dst.Ident { return &dst.Ident{Path: DurablePath, Name: name} }

// retarget makes the qualified identifier id point at path.name, keeping its
// decorations.
func (p *pass) retarget(id *dst.Ident, path, name string) {
	id.Path, id.Name = path, name
	p.changed()
}

// typeExpr renders t as a type expression valid in the file, or nil when it
// cannot be named there (unexported, internal or Temporal types, anonymous
// structs, channels, functions).
func (p *pass) typeExpr(t types.Type) dst.Expr {
	switch t := t.(type) {
	case *types.Alias:
		obj := t.Obj()
		if obj.Pkg() == nil {
			return &dst.Ident{Name: obj.Name()}
		}
		return p.qualified(obj)
	case *types.Basic:
		if t.Kind() == types.UnsafePointer || t.Info()&types.IsUntyped != 0 {
			return nil
		}
		return &dst.Ident{Name: t.Name()}
	case *types.Named:
		obj := t.Obj()
		if obj.Pkg() == nil {
			return &dst.Ident{Name: obj.Name()}
		}
		base := p.qualified(obj)
		if base == nil {
			return nil
		}
		args := t.TypeArgs()
		if args.Len() == 0 {
			return base
		}
		var idx []dst.Expr
		for i := 0; i < args.Len(); i++ {
			e := p.typeExpr(args.At(i))
			if e == nil {
				return nil
			}
			idx = append(idx, e)
		}
		if len(idx) == 1 {
			return &dst.IndexExpr{X: base, Index: idx[0]}
		}
		return &dst.IndexListExpr{X: base, Indices: idx}
	case *types.Pointer:
		if e := p.typeExpr(t.Elem()); e != nil {
			return &dst.StarExpr{X: e}
		}
	case *types.Slice:
		if e := p.typeExpr(t.Elem()); e != nil {
			return &dst.ArrayType{Elt: e}
		}
	case *types.Array:
		if e := p.typeExpr(t.Elem()); e != nil {
			return &dst.ArrayType{Len: &dst.BasicLit{Kind: token.INT, Value: strconv.FormatInt(t.Len(), 10)}, Elt: e}
		}
	case *types.Map:
		k, v := p.typeExpr(t.Key()), p.typeExpr(t.Elem())
		if k != nil && v != nil {
			return &dst.MapType{Key: k, Value: v}
		}
	case *types.Interface:
		if t.Empty() {
			return &dst.Ident{Name: "any"}
		}
	case *types.Struct:
		if t.NumFields() == 0 {
			return &dst.StructType{Fields: &dst.FieldList{Opening: true, Closing: true}}
		}
	case *types.TypeParam:
		return &dst.Ident{Name: t.Obj().Name()}
	}
	return nil
}

func (p *pass) qualified(obj types.Object) dst.Expr {
	pkgPath := obj.Pkg().Path()
	if strings.HasPrefix(pkgPath, temporalPrefix) {
		return nil
	}
	if obj.Pkg() == p.pkg.Types {
		return &dst.Ident{Name: obj.Name()}
	}
	if !obj.Exported() || obj.Parent() != obj.Pkg().Scope() {
		return nil
	}
	if i := strings.LastIndex(pkgPath, "/internal"); i >= 0 {
		prefix := pkgPath[:i]
		if !strings.HasPrefix(p.pkg.PkgPath, prefix) {
			return nil
		}
	}
	return &dst.Ident{Path: pkgPath, Name: obj.Name()}
}

// elemOf returns the type a result pointer points to, or nil.
func (p *pass) elemOf(ptr dst.Expr) types.Type {
	if isNil(ptr) {
		return nil
	}
	t := p.typeOf(ptr)
	if t == nil {
		return nil
	}
	if pt, ok := t.Underlying().(*types.Pointer); ok {
		return pt.Elem()
	}
	return nil
}

func isNil(e dst.Expr) bool {
	id, ok := e.(*dst.Ident)
	return ok && id.Name == "nil" && id.Path == ""
}

// temporalType returns the name of t when it is (a pointer to) one of the
// named Temporal SDK types, looking through aliases.
func temporalType(t types.Type, names ...string) string {
	if t == nil {
		return ""
	}
	t = types.Unalias(t)
	if pt, ok := t.(*types.Pointer); ok {
		t = types.Unalias(pt.Elem())
	}
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil || !strings.HasPrefix(n.Obj().Pkg().Path(), temporalPrefix) {
		return ""
	}
	for _, name := range names {
		if n.Obj().Name() == name {
			return name
		}
	}
	return ""
}

// resolver names the packages the restored file imports.
func (p *pass) resolver() nameResolver {
	r := nameResolver{
		"context":       "context",
		"errors":        "errors",
		"log/slog":      "slog",
		"os":            "os",
		"os/signal":     "signal",
		"syscall":       "syscall",
		"testing":       "testing",
		DurablePath:     "durable",
		DurableTestPath: "durabletest",
	}
	for _, imp := range p.pkg.Types.Imports() {
		r[imp.Path()] = imp.Name()
	}
	return r
}

type nameResolver map[string]string

// ResolvePackage implements resolver.RestorerResolver.
func (r nameResolver) ResolvePackage(importPath string) (string, error) {
	if n, ok := r[importPath]; ok {
		return n, nil
	}
	name := path.Base(importPath)
	if strings.HasPrefix(name, "v") {
		if _, err := strconv.Atoi(name[1:]); err == nil {
			name = path.Base(path.Dir(importPath))
		}
	}
	if i := strings.Index(name, "."); i >= 0 {
		name = name[:i]
	}
	name = strings.TrimPrefix(name, "go-")
	return strings.ReplaceAll(name, "-", "_"), nil
}

func lastElem(importPath string) string { return path.Base(importPath) }

// countUses counts each Temporal identifier the file references.
func (p *pass) countUses(uses map[string]int) {
	dst.Inspect(p.file, func(n dst.Node) bool {
		if id, ok := n.(*dst.Ident); ok && strings.HasPrefix(id.Path, temporalPrefix) {
			uses[path.Base(id.Path)+"."+id.Name]++
		}
		return true
	})
}
