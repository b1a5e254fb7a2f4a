package temporal

import (
	"go/token"
	"go/types"

	"github.com/dave/dst"
)

// pkgOtelContrib is Temporal's OpenTelemetry integration.
const pkgOtelContrib = "go.temporal.io/sdk/contrib/opentelemetry"

// pkgOtel is OpenTelemetry's API package, for its global providers.
const pkgOtel = "go.opentelemetry.io/otel"

// telemetryRule converts Temporal's OpenTelemetry integration on
// client.Dial to the engine's: a tracing interceptor
// (opentelemetry.NewTracingInterceptor) becomes durable.WithTracer with the
// same Tracer, and an OpenTelemetry metrics handler
// (opentelemetry.NewMetricsHandler) durable.WithMeter with the same Meter;
// either with none named uses the global provider, as Temporal's does. The
// options go to the durable.Open that client.Dial becomes (workerRule).
// The engine reports its own metric and span names (docs/telemetry.md), so
// a note says that dashboards need new queries. Another metrics handler
// (tally's, a variable) is dropped with the other connection options, with
// a note naming durable.WithMeterProvider. It runs before unsupportedRule,
// which marks the interceptors it leaves.
var telemetryRule = rule{
	Name: "telemetry",
	Doc:  "OpenTelemetry tracing interceptors and metrics handlers to durable.WithTracer and durable.WithMeter",
	Run: func(p *pass) {
		dials := p.dialOptions()
		if len(dials) == 0 {
			return
		}
		// Tracing interceptors used only in Dial's Interceptors lists.
		uses := map[types.Object]int{}
		for _, obj := range p.pkg.TypesInfo.Uses {
			if _, ok := obj.(*types.Var); ok {
				uses[obj]++
			}
		}
		// Count the uses in Interceptors lists that hold tracing
		// interceptors only, which become options of durable.Open.
		candidates := p.convertTracingInterceptors(nil)
		listed := map[types.Object]int{}
		for _, d := range dials {
			if d.interceptors == nil || !allIn(p, d.interceptors.Elts, candidates) {
				continue
			}
			for _, el := range d.interceptors.Elts {
				listed[p.objOf(el)]++
			}
		}
		converted := p.convertTracingInterceptors(func(obj types.Object) bool { return listed[obj] > 0 && listed[obj] == uses[obj] })
		for _, d := range dials {
			if d.interceptors != nil && len(d.interceptors.Elts) > 0 {
				if allIn(p, d.interceptors.Elts, converted) {
					for _, el := range d.interceptors.Elts {
						p.addOpenOption(d.call, dst.Clone(el).(dst.Expr))
					}
					p.dropElt(d.lit, d.interceptorsKV)
				}
			}
			if d.metrics == nil {
				continue
			}
			if opt := meterOption(d.metrics.Value); opt != nil {
				p.findings = append(p.findings, newFinding(p.pos(d.metrics), p.rule, SeverityNote,
					"the OpenTelemetry metrics handler became "+optionName(opt)+" on durable.Open: the engine reports its own metrics (durable.runs.*, durable.activity.*; see docs/telemetry.md), not Temporal's, so dashboards need new queries", ""))
				p.addOpenOption(d.call, opt)
				p.dropElt(d.lit, d.metrics)
				continue
			}
			p.findings = append(p.findings, newFinding(p.pos(d.metrics), p.rule, SeverityNote,
				"client.Options.MetricsHandler was dropped: the engine reports OpenTelemetry metrics through durable.WithMeterProvider on durable.Open (for Prometheus, OpenTelemetry's Prometheus exporter; see docs/telemetry.md)", ""))
		}
	},
}

// dialOption is a client.Options literal given to client.Dial (or its
// variants), with its telemetry fields.
type dialOption struct {
	call           *dst.CallExpr
	lit            *dst.CompositeLit
	interceptors   *dst.CompositeLit // the Interceptors slice literal, if any
	interceptorsKV *dst.KeyValueExpr
	metrics        *dst.KeyValueExpr
}

// dialOptions finds the client.Options literals passed to client.Dial,
// DialContext, NewClient and NewLazyClient.
func (p *pass) dialOptions() []dialOption {
	var out []dialOption
	dst.Inspect(p.file, func(n dst.Node) bool {
		call, name := callOf(n, pkgClient)
		if call == nil || p.marked(call) {
			return true
		}
		switch name {
		case "Dial", "DialContext", "NewClient", "NewLazyClient":
		default:
			return true
		}
		for _, arg := range call.Args {
			if u, ok := arg.(*dst.UnaryExpr); ok && u.Op == token.AND {
				arg = u.X
			}
			lit, ok := arg.(*dst.CompositeLit)
			if !ok || !isIdent(lit.Type, pkgClient, "Options") {
				continue
			}
			d := dialOption{call: call, lit: lit}
			for _, el := range lit.Elts {
				kv, ok := el.(*dst.KeyValueExpr)
				if !ok {
					continue
				}
				switch key, _ := kv.Key.(*dst.Ident); {
				case key == nil:
				case key.Name == "MetricsHandler":
					d.metrics = kv
				case key.Name == "Interceptors":
					if sl, ok := kv.Value.(*dst.CompositeLit); ok {
						d.interceptors, d.interceptorsKV = sl, kv
					}
				}
			}
			out = append(out, d)
		}
		return true
	})
	return out
}

// allIn reports whether every expression of elts denotes an object of set.
func allIn(p *pass, elts []dst.Expr, set map[types.Object]bool) bool {
	for _, el := range elts {
		if obj := p.objOf(el); obj == nil || !set[obj] {
			return false
		}
	}
	return true
}

// convertTracingInterceptors rewrites "x, err :=
// opentelemetry.NewTracingInterceptor(opts)" followed by "if err != nil
// {...}" to "x := durable.WithTracer(...)" for each x that want accepts,
// when err is declared again (":=") by the next statement that mentions
// it, so that the code after it compiles as before. It returns the
// variables converted; with want nil, it changes nothing and returns the
// variables it could convert.
func (p *pass) convertTracingInterceptors(want func(types.Object) bool) map[types.Object]bool {
	done := map[types.Object]bool{}
	dst.Inspect(p.file, func(n dst.Node) bool {
		block, ok := n.(*dst.BlockStmt)
		if !ok {
			return true
		}
		for i := 0; i < len(block.List); i++ {
			as, ok := block.List[i].(*dst.AssignStmt)
			if !ok || as.Tok != token.DEFINE || len(as.Lhs) != 2 || len(as.Rhs) != 1 {
				continue
			}
			call, name := callOf(as.Rhs[0], pkgOtelContrib)
			x, _ := as.Lhs[0].(*dst.Ident)
			errID, _ := as.Lhs[1].(*dst.Ident)
			if call == nil || name != "NewTracingInterceptor" || len(call.Args) != 1 || x == nil || errID == nil || x.Name == "_" {
				continue
			}
			obj := p.objOf(x)
			opt := tracerOption(call.Args[0])
			if obj == nil || want != nil && !want(obj) || opt == nil {
				continue
			}
			end := i + 1
			if errID.Name != "_" {
				if !isErrCheck(block.List, i+1, errID.Name) || !redeclaredNext(block.List[i+2:], errID.Name) {
					continue
				}
				end = i + 2
			}
			if want == nil {
				done[obj] = true
				continue
			}
			p.findings = append(p.findings, newFinding(p.pos(as), p.rule, SeverityNote,
				"the OpenTelemetry tracing interceptor became "+optionName(opt)+" on durable.Open: the engine records a span per run step and activity attempt (see docs/telemetry.md), named differently from Temporal's", ""))
			repl := &dst.AssignStmt{Lhs: []dst.Expr{dst.Clone(x).(dst.Expr)}, Tok: token.DEFINE, Rhs: []dst.Expr{opt}}
			repl.Decs.Before, repl.Decs.Start = as.Decs.Before, as.Decs.Start
			repl.Decs.After = dst.NewLine
			block.List = append(block.List[:i], append([]dst.Stmt{repl}, block.List[end:]...)...)
			done[obj] = true
			p.changed()
		}
		return true
	})
	return done
}

// tracerOption is the durable option for a TracerOptions literal that
// sets at most Tracer (and fields the engine has no use for), or nil.
func tracerOption(arg dst.Expr) dst.Expr {
	lit, ok := arg.(*dst.CompositeLit)
	if !ok || !isIdent(lit.Type, pkgOtelContrib, "TracerOptions") {
		return nil
	}
	for _, el := range lit.Elts {
		kv, ok := el.(*dst.KeyValueExpr)
		if !ok {
			return nil
		}
		key, _ := kv.Key.(*dst.Ident)
		if key == nil {
			return nil
		}
		switch key.Name {
		case "Tracer":
			return &dst.CallExpr{Fun: durableIdent("WithTracer"), Args: []dst.Expr{dst.Clone(kv.Value).(dst.Expr)}}
		case "DisableSignalTracing", "DisableQueryTracing", "DisableUpdateTracing", "DisableBaggage", "AllowInvalidParentSpans":
			// Settings of Temporal's own spans; the engine records none of those.
		default:
			// TextMapPropagator, SpanContextKey, SpanStarter, ...: not expressible.
			return nil
		}
	}
	return &dst.CallExpr{Fun: durableIdent("WithTracerProvider"), Args: []dst.Expr{&dst.CallExpr{Fun: &dst.Ident{Path: pkgOtel, Name: "GetTracerProvider"}}}}
}

// meterOption is the durable option for an
// opentelemetry.NewMetricsHandler(MetricsHandlerOptions{...}) call that
// sets at most Meter, or nil.
func meterOption(v dst.Expr) dst.Expr {
	call, name := callOf(v, pkgOtelContrib)
	if call == nil || name != "NewMetricsHandler" || len(call.Args) != 1 {
		return nil
	}
	lit, ok := call.Args[0].(*dst.CompositeLit)
	if !ok || !isIdent(lit.Type, pkgOtelContrib, "MetricsHandlerOptions") {
		return nil
	}
	for _, el := range lit.Elts {
		kv, ok := el.(*dst.KeyValueExpr)
		if !ok {
			return nil
		}
		key, _ := kv.Key.(*dst.Ident)
		if key == nil {
			return nil
		}
		switch key.Name {
		case "Meter":
			return &dst.CallExpr{Fun: durableIdent("WithMeter"), Args: []dst.Expr{dst.Clone(kv.Value).(dst.Expr)}}
		case "InitialAttributes", "OnError":
			// Settings of Temporal's own metrics.
		default:
			return nil
		}
	}
	return &dst.CallExpr{Fun: durableIdent("WithMeterProvider"), Args: []dst.Expr{&dst.CallExpr{Fun: &dst.Ident{Path: pkgOtel, Name: "GetMeterProvider"}}}}
}

// optionName names a durable option call for a note.
func optionName(opt dst.Expr) string {
	if call, ok := opt.(*dst.CallExpr); ok {
		if id, ok := call.Fun.(*dst.Ident); ok {
			return "durable." + id.Name
		}
	}
	return "a durable option"
}

// isErrCheck reports whether stmts[i] is "if err != nil { ... }" with no
// init and no else.
func isErrCheck(stmts []dst.Stmt, i int, err string) bool {
	if i >= len(stmts) {
		return false
	}
	is, ok := stmts[i].(*dst.IfStmt)
	if !ok || is.Init != nil || is.Else != nil {
		return false
	}
	be, ok := is.Cond.(*dst.BinaryExpr)
	if !ok || be.Op != token.NEQ {
		return false
	}
	x, ok := be.X.(*dst.Ident)
	y, ok2 := be.Y.(*dst.Ident)
	return ok && ok2 && x.Path == "" && x.Name == err && y.Name == "nil"
}

// redeclaredNext reports whether the first of stmts that mentions name
// declares it again with ":=" (and reads it nowhere else).
func redeclaredNext(stmts []dst.Stmt, name string) bool {
	for _, s := range stmts {
		if !mentions(s, name) {
			continue
		}
		as, ok := s.(*dst.AssignStmt)
		if !ok || as.Tok != token.DEFINE {
			return false
		}
		for _, r := range as.Rhs {
			if mentions(r, name) {
				return false
			}
		}
		return true
	}
	return true
}

// mentions reports whether n has an unqualified identifier named name.
func mentions(n dst.Node, name string) bool {
	found := false
	dst.Inspect(n, func(n dst.Node) bool {
		if id, ok := n.(*dst.Ident); ok && id.Path == "" && id.Name == name {
			found = true
		}
		return !found
	})
	return found
}

// addOpenOption adds an option to the durable.Open that the Dial call
// becomes (workerRule appends them).
func (p *pass) addOpenOption(call *dst.CallExpr, opt dst.Expr) {
	if p.openOptions == nil {
		p.openOptions = map[*dst.CallExpr][]dst.Expr{}
	}
	p.openOptions[call] = append(p.openOptions[call], opt)
	p.changed()
}

// dropElt removes el from lit.
func (p *pass) dropElt(lit *dst.CompositeLit, el dst.Expr) {
	for i, e := range lit.Elts {
		if e == el {
			lit.Elts = append(lit.Elts[:i], lit.Elts[i+1:]...)
			p.changed()
			return
		}
	}
}
