package temporal

import (
	"go/token"
	"go/types"
	"strconv"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// loggerRule converts workflow.GetLogger and activity.GetLogger to
// durable.Logger, a replay-aware *slog.Logger. slog takes key/value pairs
// like Temporal's logger, so the calls keep their arguments, except that a
// value where slog expects a key (Temporal logged it as it came, slog and
// go vet reject it) becomes slog.Any named after it. log.Logger becomes
// *slog.Logger, log.With(l, kv...) l.With(kv...), and l.(log.WithLogger)
// l. A type that implements log.Logger itself (an adapter) keeps it.
var loggerRule = rule{
	Name: "logger",
	Doc:  "loggers to durable.Logger (*slog.Logger)",
	Run: func(p *pass) {
		p.fixLogArgs()
		p.renameIdents(pkgWorkflow, map[string]target{"GetLogger": {DurablePath, "Logger"}})
		p.renameIdents(pkgActivity, map[string]target{"GetLogger": {DurablePath, "Logger"}})
		adapters := p.loggerAdapters()
		dstutil.Apply(p.file, func(c *dstutil.Cursor) bool {
			switch n := c.Node().(type) {
			case *dst.FuncDecl:
				if n.Recv != nil && len(n.Recv.List) == 1 && adapters[p.typeOf(n.Recv.List[0].Type)] {
					return false // an adapter's methods implement log.Logger
				}
			case *dst.TypeAssertExpr:
				// l.(log.WithLogger): a *slog.Logger has With.
				if isIdent(n.Type, pkgLog, "WithLogger") && p.isTemporalLogger(n.X) && !p.marked(n) {
					c.Replace(n.X)
					p.changed()
				}
			case *dst.CallExpr:
				// log.With(l, kv...) is l.With(kv...).
				if _, name := callOf(n, pkgLog); name == "With" && len(n.Args) >= 1 && !p.marked(n) {
					n.Fun = &dst.SelectorExpr{X: n.Args[0], Sel: &dst.Ident{Name: "With"}}
					n.Args = n.Args[1:]
					p.changed()
				}
			case *dst.Ident:
				if isIdent(n, pkgLog, "Logger") && !p.marked(n) {
					c.Replace(&dst.StarExpr{X: &dst.Ident{Path: "log/slog", Name: "Logger"}})
					p.changed()
				}
			}
			return true
		}, nil)
	},
}

// isTemporalLogger reports whether e is a Temporal log.Logger.
func (p *pass) isTemporalLogger(e dst.Expr) bool {
	t := p.typeOf(e)
	if t == nil {
		return false
	}
	n, ok := types.Unalias(t).(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == pkgLog
}

// loggerAdapters returns the types of the package that implement
// log.Logger (and pointers to them).
func (p *pass) loggerAdapters() map[types.Type]bool {
	out := map[types.Type]bool{}
	var iface *types.Interface
	for _, imp := range p.pkg.Types.Imports() {
		if imp.Path() == pkgLog {
			if obj := imp.Scope().Lookup("Logger"); obj != nil {
				iface, _ = obj.Type().Underlying().(*types.Interface)
			}
		}
	}
	if iface == nil {
		return out
	}
	scope := p.pkg.Types.Scope()
	for _, name := range scope.Names() {
		tn, ok := scope.Lookup(name).(*types.TypeName)
		if !ok || types.IsInterface(tn.Type()) {
			continue
		}
		ptr := types.NewPointer(tn.Type())
		if types.Implements(ptr, iface) {
			out[tn.Type()] = true
			out[ptr] = true
		}
	}
	// Map keys are compared by identity: look types up by identity too.
	res := map[types.Type]bool{}
	dst.Inspect(p.file, func(n dst.Node) bool {
		if fd, ok := n.(*dst.FuncDecl); ok && fd.Recv != nil && len(fd.Recv.List) == 1 {
			t := p.typeOf(fd.Recv.List[0].Type)
			for a := range out {
				if t != nil && types.Identical(t, a) {
					res[t] = true
				}
			}
		}
		return true
	})
	return res
}

// fixLogArgs makes the key/value arguments of calls on a Temporal logger
// valid for slog: where a key is expected, a value that is not a string
// (or a string with nothing after it) becomes slog.Any(name, value),
// named after the expression when it is a plain name, "!BADKEY" (what
// slog itself logs) otherwise.
func (p *pass) fixLogArgs() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		call, recv, name := methodCall(n)
		if call == nil || p.marked(call) {
			return true
		}
		var kv []dst.Expr
		switch {
		case (name == "Debug" || name == "Info" || name == "Warn" || name == "Error") && p.isTemporalLogger(recv) && len(call.Args) >= 1:
			kv = call.Args[1:]
		case name == "With" && p.isTemporalLogger(recv):
			kv = call.Args
		default:
			if _, fn := callOf(n, pkgLog); fn == "With" && len(call.Args) >= 1 {
				kv = call.Args[1:]
			} else {
				return true
			}
		}
		if call.Ellipsis {
			return true
		}
		for i := 0; i < len(kv); i++ {
			a := kv[i]
			isString := false
			if t := p.typeOf(a); t != nil {
				if b, ok := t.Underlying().(*types.Basic); ok && b.Info()&types.IsString != 0 {
					isString = true
				}
			}
			if isString && i+1 < len(kv) {
				i++ // a key and its value
				continue
			}
			key := "!BADKEY"
			if id, ok := a.(*dst.Ident); ok && id.Path == "" && !isString {
				key = id.Name
			} else if sel, ok := a.(*dst.SelectorExpr); ok && !isString {
				key = strings.TrimSpace(sel.Sel.Name)
			}
			kv[i] = &dst.CallExpr{Fun: &dst.Ident{Path: "log/slog", Name: "Any"},
				Args: []dst.Expr{&dst.BasicLit{Kind: token.STRING, Value: strconv.Quote(key)}, a}}
			p.changed()
		}
		return true
	})
}
