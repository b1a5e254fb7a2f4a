package temporal

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/types"
	"slices"
	"strings"
	"text/template"

	"github.com/dave/dst"
	"github.com/dave/dst/decorator"
)

// valueMethods keeps the value serialization of a data converter type
// tn (declared by ts in this file) that has its own ToPayload: the types
// its ToPayload and FromPayload single out in a type switch (case T in
// ToPayload, case *T in FromPayload), declared in this package, get
// MarshalJSON and UnmarshalJSON methods that run the converter through
// compat.MarshalValue and compat.UnmarshalValue. The durable runtime
// encodes every value with encoding/json, so values of those types cross
// the journal as the converter's payloads, as they crossed Temporal's
// history (the pso sample rebuilds an unexported field on decoding). Other
// values were plain JSON under the converter's default branch and stay
// so. It reports whether it wrote the methods; it writes none when the
// converter cannot be made without its caller (no constructor without
// parameters, no empty struct), when a type already has the method, or
// when ToPayload and FromPayload are not declared in this file.
func (p *pass) valueMethods(ts *dst.TypeSpec, tn *types.TypeName) bool {
	toPayload, fromPayload := p.methodDecl(tn, "ToPayload"), p.methodDecl(tn, "FromPayload")
	if toPayload == nil || fromPayload == nil {
		return false
	}
	maker := p.converterMaker(tn)
	if maker == "" {
		return false
	}
	allMarshal := p.switchedTypes(toPayload, false)
	allUnmarshal := p.switchedTypes(fromPayload, true)
	if len(allMarshal) == 0 && len(allUnmarshal) == 0 {
		return false
	}
	marshal, unmarshal := p.lacking(allMarshal, "MarshalJSON"), p.lacking(allUnmarshal, "UnmarshalJSON")
	if len(marshal) == 0 && len(unmarshal) == 0 {
		return true // converted already
	}
	var names []string
	for _, t := range append(append([]string(nil), marshal...), unmarshal...) {
		if !slices.Contains(names, t) {
			names = append(names, t)
		}
	}
	var src bytes.Buffer
	src.WriteString("package x\n")
	for _, t := range names {
		data := map[string]string{"T": t, "DC": tn.Name(), "Make": maker}
		if slices.Contains(marshal, t) {
			_ = valueMethodTemplate.ExecuteTemplate(&src, "marshal", data)
		}
		if slices.Contains(unmarshal, t) {
			_ = valueMethodTemplate.ExecuteTemplate(&src, "unmarshal", data)
		}
	}
	f, err := decorator.Parse(src.Bytes())
	if err != nil {
		panic(fmt.Sprintf("temporal: value methods for %s do not parse: %v\n%s", tn.Name(), err, src.Bytes()))
	}
	dst.Inspect(f, func(n dst.Node) bool {
		if id, ok := n.(*dst.Ident); ok && strings.HasPrefix(id.Name, "compat_") {
			id.Path, id.Name = CompatPath, strings.TrimPrefix(id.Name, "compat_")
		}
		return true
	})
	for _, d := range f.Decls {
		d.Decorations().Before = dst.EmptyLine
	}
	// After the converter's last method in this file.
	at := slices.Index(p.file.Decls, dst.Decl(fromPayload))
	for i, d := range p.file.Decls {
		if fd, ok := d.(*dst.FuncDecl); ok && fd.Recv != nil && i > at && p.receiverIs(fd, tn) {
			at = i
		}
	}
	p.file.Decls = slices.Insert(p.file.Decls, at+1, f.Decls...)
	p.changed()
	p.findings = append(p.findings, newFinding(p.pos(ts), p.rule, SeverityNote, fmt.Sprintf(
		"%s serializes values itself (its own ToPayload and FromPayload): %s got MarshalJSON/UnmarshalJSON methods that run it "+
			"(compat.MarshalValue), so their values cross the durable journal as its payloads, as they crossed Temporal's history; "+
			"other values are JSON, as its default branch made them (docs/payload-codecs.md)",
		tn.Name(), strings.Join(names, ", ")), ""))
	return true
}

var valueMethodTemplate = template.Must(template.New("").Parse(`
{{define "marshal"}}
// MarshalJSON encodes a {{.T}} with {{.DC}}, the data converter
// Temporal used: the durable journal stores the payload it makes
// (written by migrate convert).
func (v {{.T}}) MarshalJSON() ([]byte, error) {
	type plain {{.T}}
	return compat_MarshalValue({{.Make}}, v, plain(v))
}
{{end}}
{{define "unmarshal"}}
// UnmarshalJSON decodes a {{.T}} with {{.DC}}, the data converter
// Temporal used (written by migrate convert).
func (v *{{.T}}) UnmarshalJSON(b []byte) error {
	type plain {{.T}}
	return compat_UnmarshalValue({{.Make}}, b, v, (*plain)(v))
}
{{end}}
`))

// methodDecl returns the declaration in this file of tn's method name.
func (p *pass) methodDecl(tn *types.TypeName, name string) *dst.FuncDecl {
	for _, d := range p.file.Decls {
		if fd, ok := d.(*dst.FuncDecl); ok && fd.Recv != nil && fd.Name.Name == name && p.receiverIs(fd, tn) {
			return fd
		}
	}
	return nil
}

// receiverIs reports whether fd is a method of tn (or *tn).
func (p *pass) receiverIs(fd *dst.FuncDecl, tn *types.TypeName) bool {
	a, ok := p.astOf(fd).(*ast.FuncDecl)
	if !ok {
		return false
	}
	fn, ok := p.pkg.TypesInfo.Defs[a.Name].(*types.Func)
	if !ok {
		return false
	}
	recv := fn.Type().(*types.Signature).Recv()
	if recv == nil {
		return false
	}
	t := recv.Type()
	if ptr, ok := t.(*types.Pointer); ok {
		t = ptr.Elem()
	}
	named, ok := t.(*types.Named)
	return ok && named.Obj() == tn
}

// converterMaker returns Go source that makes a value of the data
// converter type tn: a composite literal when its struct has no fields,
// else a call of the package's function without parameters that returns
// one (a constructor such as NewJSONDataConverter), or "".
func (p *pass) converterMaker(tn *types.TypeName) string {
	ptr := false
	for _, name := range []string{"ToPayload", "FromPayload"} {
		obj, _, _ := types.LookupFieldOrMethod(tn.Type(), true, tn.Pkg(), name)
		if fn, ok := obj.(*types.Func); ok {
			if _, ok := fn.Type().(*types.Signature).Recv().Type().(*types.Pointer); ok {
				ptr = true
			}
		}
	}
	if st, ok := tn.Type().Underlying().(*types.Struct); ok && st.NumFields() == 0 {
		if ptr {
			return "&" + tn.Name() + "{}"
		}
		return tn.Name() + "{}"
	}
	scope := p.pkg.Types.Scope()
	for _, name := range scope.Names() {
		fn, ok := scope.Lookup(name).(*types.Func)
		if !ok {
			continue
		}
		sig := fn.Type().(*types.Signature)
		if sig.Params().Len() != 0 || sig.Results().Len() != 1 || sig.TypeParams() != nil {
			continue
		}
		r := sig.Results().At(0).Type()
		if pt, ok := r.(*types.Pointer); ok && !ptr {
			continue // a *T where the methods take a T would do, but reads oddly
		} else if ok {
			r = pt.Elem()
		}
		if named, ok := r.(*types.Named); ok && named.Obj() == tn {
			return name + "()"
		}
		if p.returnsOnly(fn, tn) {
			return name + "()"
		}
	}
	return ""
}

// returnsOnly reports whether fn, returning an interface, returns nothing
// but values of type tn (or *tn): NewJSONDataConverter's
// "return &jsonDataConverter{}".
func (p *pass) returnsOnly(fn *types.Func, tn *types.TypeName) bool {
	if !types.IsInterface(fn.Type().(*types.Signature).Results().At(0).Type()) {
		return false
	}
	for _, f := range p.pkg.Syntax {
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || p.pkg.TypesInfo.Defs[fd.Name] != fn {
				continue
			}
			found, other := false, false
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.FuncLit:
					return false
				case *ast.ReturnStmt:
					if len(n.Results) != 1 {
						other = true
						return false
					}
					t := p.pkg.TypesInfo.TypeOf(n.Results[0])
					if pt, ok := t.(*types.Pointer); ok {
						t = pt.Elem()
					}
					if named, ok := t.(*types.Named); ok && named.Obj() == tn {
						found = true
					} else {
						other = true
					}
				}
				return true
			})
			return found && !other
		}
	}
	return false
}

// lacking returns the types of names (declared in this package) that do
// not have method.
func (p *pass) lacking(names []string, method string) []string {
	var out []string
	for _, name := range names {
		tn, ok := p.pkg.Types.Scope().Lookup(name).(*types.TypeName)
		if !ok {
			continue
		}
		if obj, _, _ := types.LookupFieldOrMethod(tn.Type(), true, p.pkg.Types, method); obj == nil {
			out = append(out, name)
		}
	}
	return out
}

// switchedTypes returns the names of the types declared in this package
// that a type switch on fd's value parameter (ToPayload's value, FromPayload's
// valuePtr) names in a case: T itself, or *T when pointer. Types whose
// name the methods' locals would shadow are left out.
func (p *pass) switchedTypes(fd *dst.FuncDecl, pointer bool) []string {
	a, ok := p.astOf(fd).(*ast.FuncDecl)
	if !ok || a.Body == nil {
		return nil
	}
	params := a.Type.Params.List
	if len(params) == 0 || len(params[len(params)-1].Names) == 0 {
		return nil
	}
	param := p.pkg.TypesInfo.Defs[params[len(params)-1].Names[0]]
	var out []string
	ast.Inspect(a.Body, func(n ast.Node) bool {
		sw, ok := n.(*ast.TypeSwitchStmt)
		if !ok {
			return true
		}
		var subject ast.Expr
		switch s := sw.Assign.(type) {
		case *ast.AssignStmt:
			subject = s.Rhs[0]
		case *ast.ExprStmt:
			subject = s.X
		}
		ta, ok := subject.(*ast.TypeAssertExpr)
		if !ok {
			return true
		}
		if id, ok := ast.Unparen(ta.X).(*ast.Ident); !ok || param == nil || p.pkg.TypesInfo.Uses[id] != param {
			return true
		}
		for _, s := range sw.Body.List {
			for _, e := range s.(*ast.CaseClause).List {
				t := p.pkg.TypesInfo.TypeOf(e)
				pt, isPtr := t.(*types.Pointer)
				if isPtr != pointer {
					continue
				}
				if isPtr {
					t = pt.Elem()
				}
				named, ok := t.(*types.Named)
				if !ok || named.Obj().Pkg() != p.pkg.Types || named.TypeParams() != nil || types.IsInterface(named) ||
					named.Obj().Name() == "plain" || named.Obj().Name() == "v" {
					continue
				}
				if !slices.Contains(out, named.Obj().Name()) {
					out = append(out, named.Obj().Name())
				}
			}
		}
		return true
	})
	return out
}
