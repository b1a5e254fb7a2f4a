package temporal

import (
	"go/ast"
	"go/token"
	"go/types"
	"slices"
	"strings"

	"github.com/dave/dst"
)

// codecRule converts data converters and payload codecs: the DataConverter
// of a client.Dial's options becomes a durable.WithPayloadCodec option of
// the durable.Open the worker rule made of it, and a test environment's
// SetDataConverter becomes SetPayloadCodec. A
// converter.NewCodecDataConverter over the default data converter becomes
// compat.PayloadCodec(codecs...), which runs the codecs on the stored JSON;
// any other data converter (held in a variable, made by a function of the
// application) becomes compat.DataConverterCodec(dc), which keeps what it
// does to payloads (encryption, compression) but not a custom value
// serialization. The default data converter goes: payloads are JSON.
// Options kept in a variable give compat.DataConverterCodec(opts.DataConverter).
//
// The application's codecs and data converters stay as written (compat
// links Temporal's SDK): the rule takes back the TODOs the unsupported rule
// put on them, keeps workflow.Context in their WithWorkflowContext methods,
// and marks TODO only a data converter type with a ToPayload of its own
// whose value serialization no longer happens (valueMethods keeps the
// part of it that singles out types). It runs after the worker and
// test-suite rules, which convert the calls it completes.
var codecRule = rule{
	Name: "codec",
	Doc:  "data converters and payload codecs to durable.WithPayloadCodec",
	Run: func(p *pass) {
		p.dialCodecs()
		p.envCodecs()
		p.claimCodecs()
		p.keepCodecTypes()
		p.keepContextAware()
		p.serializerTypes()
	},
}

// dialCodecs adds durable.WithPayloadCodec to each durable.Open (or New,
// Options.Store) that replaced a client.Dial whose options literal sets
// DataConverter.
func (p *pass) dialCodecs() {
	var opens []*dst.CallExpr
	dst.Inspect(p.file, func(n dst.Node) bool {
		if call, name := callOf(n, DurablePath); call != nil && (name == "Open" || name == "New") {
			opens = append(opens, call)
		}
		return true
	})
	for _, call := range opens {
		orig, ok := p.astOf(call).(*ast.CallExpr)
		if !ok || len(orig.Args) == 0 || !p.isDial(orig) {
			continue
		}
		lit := clientOptionsLit(orig.Args[len(orig.Args)-1])
		if lit == nil {
			p.dialOptionsVar(call, orig.Args[len(orig.Args)-1])
			continue
		}
		for _, elt := range lit.Elts {
			kv, ok := elt.(*ast.KeyValueExpr)
			if !ok || !isKey(kv.Key, "DataConverter") {
				continue
			}
			val, ok := p.dec.Dst.Nodes[kv.Value].(dst.Expr)
			if !ok {
				continue
			}
			codec, how := p.codecExpr(val, kv.Value)
			p.takeBack(p.anchorOf(call), kv.Pos(), kv.End())
			p.dropKeeps(call, kv.Value)
			if codec != nil {
				call.Args = append(call.Args, &dst.CallExpr{Fun: durableIdent("WithPayloadCodec"), Args: []dst.Expr{codec}})
				p.findings = append(p.findings, newFinding(p.pkg.Fset.Position(kv.Pos()), p.rule, SeverityNote,
					"the client's DataConverter became durable.WithPayloadCodec("+how+"): every engine and client process on the store needs the same codec (docs/payload-codecs.md)", ""))
				p.valueSerializer(call, kv.Value)
			}
			p.changed()
		}
	}
}

// dialOptionsVar handles a client.Dial whose options are a variable
// (opts := client.Options{...}; client.Dial(opts)) that the package gives a
// DataConverter: the variable stays (a Temporal setting), and the durable.Open
// gets durable.WithPayloadCodec(compat.DataConverterCodec(opts.DataConverter)),
// which is no codec while the field is nil.
func (p *pass) dialOptionsVar(call *dst.CallExpr, arg ast.Expr) {
	id, ok := ast.Unparen(arg).(*ast.Ident)
	if !ok {
		return
	}
	v, ok := p.pkg.TypesInfo.Uses[id].(*types.Var)
	if !ok || temporalType(v.Type(), "ClientOptions", "Options") == "" {
		return
	}
	file, _ := p.astOf(p.file).(*ast.File)
	if file == nil {
		return
	}
	found := false
	ast.Inspect(file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.AssignStmt:
			for i, lhs := range n.Lhs {
				if i < len(n.Rhs) && p.isVar(lhs, v) {
					found = p.takeBackConverterKV(n.Rhs[i]) || found
				}
				if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "DataConverter" && p.isVar(sel.X, v) {
					found = true
				}
			}
		case *ast.ValueSpec:
			for i, name := range n.Names {
				if i < len(n.Values) && p.pkg.TypesInfo.Defs[name] == v {
					found = p.takeBackConverterKV(n.Values[i]) || found
				}
			}
		}
		return true
	})
	if !found {
		return
	}
	dc := &dst.SelectorExpr{X: &dst.Ident{Name: id.Name}, Sel: &dst.Ident{Name: "DataConverter"}}
	codec := &dst.CallExpr{Fun: &dst.Ident{Path: CompatPath, Name: "DataConverterCodec"}, Args: []dst.Expr{dc}}
	call.Args = append(call.Args, &dst.CallExpr{Fun: durableIdent("WithPayloadCodec"), Args: []dst.Expr{codec}})
	p.dropKeeps(call, arg)
	p.findings = append(p.findings, newFinding(p.pkg.Fset.Position(id.Pos()), p.rule, SeverityNote,
		"the DataConverter of "+id.Name+" became durable.WithPayloadCodec(compat.DataConverterCodec("+id.Name+".DataConverter)), "+
			"which keeps its codecs but not a custom value serialization: every engine and client process on the store needs the same codec (docs/payload-codecs.md)", ""))
	p.changed()
}

// isVar reports whether e denotes v.
func (p *pass) isVar(e ast.Expr, v *types.Var) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	return ok && (p.pkg.TypesInfo.Uses[id] == v || p.pkg.TypesInfo.Defs[id] == v)
}

// takeBackConverterKV takes back the TODO of the DataConverter field of a
// client.Options literal and reports whether it has one.
func (p *pass) takeBackConverterKV(e ast.Expr) bool {
	lit := clientOptionsLit(e)
	if lit == nil {
		return false
	}
	for _, elt := range lit.Elts {
		kv, ok := elt.(*ast.KeyValueExpr)
		if !ok || !isKey(kv.Key, "DataConverter") {
			continue
		}
		if d, ok := p.dec.Dst.Nodes[kv].(dst.Node); ok {
			p.takeBack(p.anchorOf(d), kv.Pos(), kv.End())
		}
		return true
	}
	return false
}

// envCodecs turns a test environment's SetDataConverter(dc) into
// SetPayloadCodec, so that the test runs through the codec.
func (p *pass) envCodecs() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		call, recv, m := methodCall(n)
		if call == nil || m != "SetDataConverter" || len(call.Args) != 1 || !p.isTestEnv(recv) {
			return true
		}
		arg, ok := p.astOf(call.Args[0]).(ast.Expr)
		if !ok || isNilIdent(arg) {
			return true
		}
		codec, _ := p.codecExpr(call.Args[0], arg)
		if codec == nil {
			return true // the default converter: the test-suite rule removes it
		}
		if orig, ok := p.astOf(call).(*ast.CallExpr); ok {
			p.takeBack(p.anchorOf(call), orig.Pos(), orig.End())
		}
		call.Fun.(*dst.SelectorExpr).Sel.Name = "SetPayloadCodec"
		call.Args = []dst.Expr{codec}
		p.valueSerializer(call, arg)
		p.changed()
		return false
	})
	p.parents = nil
}

// claimCodecs keeps the Temporal code inside compat.PayloadCodec and
// compat.DataConverterCodec calls as written: the codecs are Temporal's on
// purpose. It takes back the TODOs the unsupported rule left on them
// (converting converted code again) and marks the calls so that
// unrecognised leaves them alone.
func (p *pass) claimCodecs() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		call, name := callOf(n, CompatPath)
		if call == nil || name != "PayloadCodec" && name != "DataConverterCodec" {
			return true
		}
		if orig, ok := p.astOf(call).(*ast.CallExpr); ok {
			p.takeBack(p.anchorOf(call), orig.Pos(), orig.End())
		}
		p.todos[call] = true
		return false
	})
}

// keepCodecTypes keeps the application's own data converters and payload
// codecs as written, since compat runs them: it takes back the TODOs the
// unsupported rule put on the converter package's codec and data
// converter names (and marks them, and Temporal's Payload type, so that
// unrecognised leaves them alone), with one note per file instead. The
// converter package's codec server, gRPC interceptors, failure converters
// and serialization contexts keep their TODOs: durable has no counterpart.
func (p *pass) keepCodecTypes() {
	var first dst.Node
	dst.Inspect(p.file, func(n dst.Node) bool {
		if call, name := callOf(n, CompatPath); call != nil && (name == "PayloadCodec" || name == "DataConverterCodec") {
			return false // claimed, and reported with the option it makes
		}
		id, ok := n.(*dst.Ident)
		if !ok || !keptCodecName(id.Path, id.Name) {
			return true
		}
		p.todos[id] = true
		a := p.astOf(id)
		if a == nil {
			return true
		}
		p.takeBack(p.anchorOf(id), a.Pos(), a.End())
		if first == nil && id.Path == pkgConverter && id.Name != "GetDefaultDataConverter" {
			first = id
		}
		return true
	})
	if first != nil {
		p.findings = append(p.findings, newFinding(p.pos(first), p.rule, SeverityNote,
			"Temporal data converters and payload codecs stay as written: engines run them through durable.WithPayloadCodec "+
				"with compat.PayloadCodec or compat.DataConverterCodec (docs/payload-codecs.md)", ""))
	}
}

// keepContextAware keeps workflow.Context in the WithWorkflowContext
// methods of data converters (Temporal's ContextAware interface), which
// the context rule would otherwise turn into context.Context: the method
// must keep Temporal's signature for the data converter to stay one.
// Durable engines do not call it (compat.DataConverterCodec encodes
// without a workflow context), but the converter compiles as it did.
func (p *pass) keepContextAware() {
	for _, d := range p.file.Decls {
		fn, ok := d.(*dst.FuncDecl)
		if !ok || fn.Recv == nil || fn.Name.Name != "WithWorkflowContext" || fn.Body == nil {
			continue
		}
		a, ok := p.astOf(fn).(*ast.FuncDecl)
		if !ok {
			continue
		}
		sig, ok := p.pkg.TypesInfo.Defs[a.Name].Type().(*types.Signature)
		if !ok || sig.Results().Len() != 1 || !isNamed(sig.Results().At(0).Type(), pkgConverter, "DataConverter") {
			continue
		}
		dst.Inspect(fn, func(n dst.Node) bool {
			if id, ok := n.(*dst.Ident); ok && id.Path == pkgWorkflow && id.Name == "Context" {
				p.todos[id] = true
			}
			return true
		})
	}
}

// isNamed reports whether t is the named type path.name.
func isNamed(t types.Type, path, name string) bool {
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == path && n.Obj().Name() == name
}

// pkgCommon is Temporal's API package of the Payload type codecs work on.
const pkgCommon = "go.temporal.io/api/common/v1"

// keptCodecName reports whether path.name is a part of Temporal's data
// converters and payload codecs that compat runs as it is.
func keptCodecName(path, name string) bool {
	switch path {
	case pkgCommon:
		return name == "Payload" || name == "Payloads"
	case pkgWorkflow:
		return name == "ContextAware" // a data converter's interface
	case "go.temporal.io/sdk/internal":
		return name == "ContextAware"
	case pkgConverter:
		switch name {
		case "DataConverter", "PayloadCodec", "CodecDataConverter", "NewCodecDataConverter", "GetDefaultDataConverter",
			"NewCompositeDataConverter", "NewZlibCodec", "ZlibCodecOptions", "NewRemotePayloadCodec", "RemotePayloadCodecOptions",
			"NewRemoteDataConverter", "RemoteDataConverterOptions", "PayloadConverter", "RawValue", "NewRawValue":
			return true
		}
		return strings.HasPrefix(name, "Metadata") || strings.Contains(name, "PayloadConverter")
	}
	return false
}

// codecExpr returns the durable.PayloadCodec expression for a data
// converter (dst and its original), or nil for the default converter, and
// how it was made (for the report).
func (p *pass) codecExpr(val dst.Expr, orig ast.Expr) (dst.Expr, string) {
	orig = ast.Unparen(orig)
	if p.isConverterCall(orig, "GetDefaultDataConverter") {
		return nil, ""
	}
	if call, ok := orig.(*ast.CallExpr); ok && p.isConverterCall(call, "NewCodecDataConverter") &&
		len(call.Args) >= 1 && p.isConverterCall(ast.Unparen(call.Args[0]), "GetDefaultDataConverter") {
		var args []dst.Expr
		for _, a := range call.Args[1:] {
			d, ok := p.dec.Dst.Nodes[a].(dst.Expr)
			if !ok {
				return p.dataConverterCodec(val)
			}
			args = append(args, cleanClone(d))
		}
		return &dst.CallExpr{Fun: &dst.Ident{Path: CompatPath, Name: "PayloadCodec"}, Args: args, Ellipsis: call.Ellipsis.IsValid()},
			"compat.PayloadCodec(codecs...)"
	}
	return p.dataConverterCodec(val)
}

func (p *pass) dataConverterCodec(val dst.Expr) (dst.Expr, string) {
	return &dst.CallExpr{Fun: &dst.Ident{Path: CompatPath, Name: "DataConverterCodec"}, Args: []dst.Expr{cleanClone(val)}},
		"compat.DataConverterCodec(...), which keeps its codecs but not a custom value serialization"
}

// valueSerializer marks call TODO when the data converter dc has a
// ToPayload of its own (declared on its type, not promoted from an
// embedded converter): it serializes values itself, which durable does
// not let it do (values are JSON), so the code that relies on it needs a
// person. A converter typed as the DataConverter interface cannot be told
// apart; the note on the option says what is kept.
func (p *pass) valueSerializer(call *dst.CallExpr, dc ast.Expr) {
	t := p.pkg.TypesInfo.TypeOf(dc)
	if t == nil || types.IsInterface(t) {
		return
	}
	fn := ownToPayload(t)
	if fn == nil || fn.Pkg() == p.pkg.Types {
		return // none, or serializerTypes marks its declaration
	}
	p.todo(call, "data-converters", "%s serializes values itself (its own ToPayload), which durable does not do: values are stored as JSON, "+
		"and only what the converter does to payloads (its codecs) carries over", types.TypeString(t, types.RelativeTo(p.pkg.Types)))
}

// ownToPayload returns the ToPayload method declared on t (or *t) itself,
// not promoted from an embedded converter nor Temporal's, or nil.
func ownToPayload(t types.Type) *types.Func {
	obj, index, _ := types.LookupFieldOrMethod(t, true, nil, "ToPayload")
	fn, ok := obj.(*types.Func)
	if !ok || len(index) != 1 || fn.Pkg() == nil || strings.HasPrefix(fn.Pkg().Path(), temporalPrefix) {
		return nil
	}
	return fn
}

// serializerTypes marks TODO the package's data converter types that
// serialize values themselves (their own ToPayload): durable values are
// JSON, and compat.DataConverterCodec uses a data converter only for what
// it does to payloads, so code relying on that serialization (a type
// rebuilt on decoding, another format) needs a person. Where the
// serialization singles out types of the package in a type switch, those
// get methods that run the converter instead (valueMethods).
func (p *pass) serializerTypes() {
	var dcIface *types.Interface
	for _, imp := range p.pkg.Types.Imports() {
		if imp.Path() == pkgConverter {
			if tn, ok := imp.Scope().Lookup("DataConverter").(*types.TypeName); ok {
				dcIface, _ = tn.Type().Underlying().(*types.Interface)
			}
		}
	}
	isDC := func(t types.Type) bool {
		if dcIface != nil {
			return types.Implements(t, dcIface) || types.Implements(types.NewPointer(t), dcIface)
		}
		// The package does not import converter: the same methods.
		for _, m := range []string{"ToPayload", "ToPayloads", "FromPayload", "FromPayloads", "ToString", "ToStrings"} {
			if obj, _, _ := types.LookupFieldOrMethod(t, true, nil, m); obj == nil {
				return false
			}
		}
		return true
	}
	for _, d := range p.file.Decls {
		gd, ok := d.(*dst.GenDecl)
		if !ok {
			continue
		}
		for _, spec := range gd.Specs {
			ts, ok := spec.(*dst.TypeSpec)
			if !ok {
				continue
			}
			a, ok := p.astOf(ts).(*ast.TypeSpec)
			if !ok {
				continue
			}
			tn, ok := p.pkg.TypesInfo.Defs[a.Name].(*types.TypeName)
			if !ok || types.IsInterface(tn.Type()) {
				continue
			}
			t := tn.Type()
			if !isDC(t) || ownToPayload(t) == nil || p.valueMethods(ts, tn) {
				continue
			}
			p.todo(ts, "data-converters", "%s serializes values itself (its own ToPayload), which durable does not do: values are stored as JSON, "+
				"and a durable engine runs a data converter only for what it does to payloads (compat.DataConverterCodec)", tn.Name())
		}
	}
}

// cleanClone copies e for a new position, without the comments and line
// breaks around it.
func cleanClone(e dst.Expr) dst.Expr {
	c := dst.Clone(e).(dst.Expr)
	d := c.Decorations()
	d.Before, d.After = dst.None, dst.None
	d.Start, d.End = nil, nil
	return c
}

// isConverterCall reports whether e calls go.temporal.io/sdk/converter's
// function name.
func (p *pass) isConverterCall(e ast.Expr, name string) bool {
	call, ok := e.(*ast.CallExpr)
	if !ok {
		return false
	}
	fn := typesFunc(p.pkg.TypesInfo, call.Fun)
	return fn != nil && fn.Pkg() != nil && fn.Pkg().Path() == pkgConverter && fn.Name() == name
}

// isDial reports whether call calls one of client's connecting functions.
func (p *pass) isDial(call *ast.CallExpr) bool {
	fn := typesFunc(p.pkg.TypesInfo, call.Fun)
	if fn == nil || fn.Pkg() == nil || fn.Pkg().Path() != pkgClient {
		return false
	}
	switch fn.Name() {
	case "Dial", "DialContext", "NewLazyClient", "NewClient":
		return true
	}
	return false
}

// isTestEnv reports whether recv is a test environment: Temporal's, or
// durabletest's (converting converted code again).
func (p *pass) isTestEnv(recv dst.Expr) bool {
	t := p.typeOf(recv)
	if temporalType(t, "TestWorkflowEnvironment", "TestActivityEnvironment") != "" {
		return true
	}
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	n, ok := t.(*types.Named)
	return ok && n.Obj().Pkg() != nil && n.Obj().Pkg().Path() == DurableTestPath
}

func typesFunc(info *types.Info, fun ast.Expr) *types.Func {
	switch f := ast.Unparen(fun).(type) {
	case *ast.Ident:
		fn, _ := info.Uses[f].(*types.Func)
		return fn
	case *ast.SelectorExpr:
		fn, _ := info.Uses[f.Sel].(*types.Func)
		return fn
	}
	return nil
}

// clientOptionsLit returns the composite literal of an options argument
// (client.Options{...} or &client.Options{...}), or nil.
func clientOptionsLit(e ast.Expr) *ast.CompositeLit {
	e = ast.Unparen(e)
	if u, ok := e.(*ast.UnaryExpr); ok && u.Op == token.AND {
		e = ast.Unparen(u.X)
	}
	lit, _ := e.(*ast.CompositeLit)
	return lit
}

func isKey(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isNilIdent(e ast.Expr) bool {
	id, ok := ast.Unparen(e).(*ast.Ident)
	return ok && id.Name == "nil"
}

// takeBack removes the data-converter TODOs reported inside [lo, hi) of
// the original file, and their comments from anchor, where the rules that
// made them (or the worker rule, moving those of dropped options) put them:
// the code they were about converts now.
func (p *pass) takeBack(anchor dst.Node, lo, hi token.Pos) {
	from, to := p.pkg.Fset.Position(lo), p.pkg.Fset.Position(hi)
	before := func(a, b token.Position) bool {
		return a.Line < b.Line || a.Line == b.Line && a.Column < b.Column
	}
	var gone []string
	p.findings = slices.DeleteFunc(p.findings, func(f Finding) bool {
		if f.Severity != SeverityTODO || f.Anchor != "data-converters" ||
			f.Pos.Filename != from.Filename || before(f.Pos, from) || !before(f.Pos, to) {
			return false
		}
		c := "// TODO(migrate): " + f.Message
		if f.Anchor != "" {
			c += " (see docs/unsupported.md#" + f.Anchor + ")"
		}
		gone = append(gone, c)
		return true
	})
	if anchor == nil || len(gone) == 0 {
		return
	}
	decs := anchor.Decorations()
	decs.Start = slices.DeleteFunc(decs.Start, func(c string) bool { return slices.Contains(gone, c) })
	if !slices.ContainsFunc(decs.Start, func(c string) bool { return strings.HasPrefix(c, "// TODO(migrate)") }) {
		delete(p.todos, anchor)
	}
	if len(decs.Start) == 0 && p.openedOnItsLine(anchor) {
		decs.Before = dst.None // the TODO's line break goes with it
	}
}

// openedOnItsLine reports whether anchor, a parameter or a composite
// literal's element, stood on the line of its list's opening bracket in
// the original file.
func (p *pass) openedOnItsLine(anchor dst.Node) bool {
	a := p.astOf(anchor)
	if a == nil {
		return false
	}
	var open token.Pos
	switch par := p.parent(anchor).(type) {
	case *dst.FieldList:
		if fl, ok := p.astOf(par).(*ast.FieldList); ok {
			open = fl.Opening
		}
	case *dst.CompositeLit:
		if cl, ok := p.astOf(par).(*ast.CompositeLit); ok {
			open = cl.Lbrace
		}
	}
	return open.IsValid() && p.pkg.Fset.Position(open).Line == p.pkg.Fset.Position(a.Pos()).Line
}

// dropKeeps removes the "_ = v" statements the worker rule put before
// call's statement for variables of a dropped option that the codec
// expression (orig) now uses.
func (p *pass) dropKeeps(call *dst.CallExpr, orig ast.Expr) {
	used := map[string]bool{}
	ast.Inspect(orig, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			if v, ok := p.pkg.TypesInfo.Uses[id].(*types.Var); ok && !v.IsField() {
				used[v.Name()] = true
			}
		}
		return true
	})
	stmt := p.stmtOf(call)
	block, ok := p.parent(stmt).(*dst.BlockStmt)
	if !ok || len(used) == 0 {
		return
	}
	i := slices.Index(block.List, stmt)
	for j := i - 1; j >= 0; j-- {
		as, ok := block.List[j].(*dst.AssignStmt)
		if !ok || len(as.Lhs) != 1 || !isBlank(as.Lhs[0]) || len(as.Rhs) != 1 ||
			!slices.ContainsFunc(as.Decs.End, func(c string) bool { return strings.Contains(c, "a Temporal setting durable does not use") }) {
			break
		}
		if id, ok := as.Rhs[0].(*dst.Ident); ok && used[id.Name] {
			block.List = slices.Delete(block.List, j, j+1)
		}
	}
	p.parents = nil
}

func isBlank(e dst.Expr) bool {
	id, ok := e.(*dst.Ident)
	return ok && id.Name == "_"
}
