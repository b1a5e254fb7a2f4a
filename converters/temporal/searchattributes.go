package temporal

import (
	"go/types"
	"strings"

	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// Search attributes and memos (run by infoRule): a run's memo and search
// attributes are durable.GetInfo(ctx).Memo and .SearchAttributes (JSON
// values by key), durable.GetSearchAttributes(ctx) reads them typed, and
// durable.UpsertMemo, UpsertSearchAttributes and UpsertTypedSearchAttributes
// change them. Temporal's typed keys become durable.SearchAttributeKey[T].

// searchAttributeKeys maps temporal.NewSearchAttributeKeyX to the key's Go
// value type.
var searchAttributeKeys = map[string]func() dst.Expr{
	"String":      func() dst.Expr { return &dst.Ident{Name: "string"} },
	"Keyword":     func() dst.Expr { return &dst.Ident{Name: "string"} },
	"Int64":       func() dst.Expr { return &dst.Ident{Name: "int64"} },
	"Float64":     func() dst.Expr { return &dst.Ident{Name: "float64"} },
	"Bool":        func() dst.Expr { return &dst.Ident{Name: "bool"} },
	"Time":        func() dst.Expr { return &dst.Ident{Path: "time", Name: "Time"} },
	"KeywordList": func() dst.Expr { return &dst.ArrayType{Elt: &dst.Ident{Name: "string"}} },
}

func (p *pass) convertAttributes() {
	p.convertPayloadReads()
	dstutil.Apply(p.file, func(c *dstutil.Cursor) bool {
		id, ok := c.Node().(*dst.Ident)
		if !ok || id.Path != pkgTemporal || p.marked(id) {
			return true
		}
		if kind, ok := strings.CutPrefix(id.Name, "NewSearchAttributeKey"); ok && searchAttributeKeys[kind] != nil {
			c.Replace(&dst.IndexExpr{X: &dst.Ident{Path: DurablePath, Name: "NewSearchAttributeKey", Decs: id.Decs}, Index: searchAttributeKeys[kind]()})
			p.changed()
			return false
		}
		if kind, ok := strings.CutPrefix(id.Name, "SearchAttributeKey"); ok && searchAttributeKeys[kind] != nil {
			c.Replace(&dst.IndexExpr{X: &dst.Ident{Path: DurablePath, Name: "SearchAttributeKey", Decs: id.Decs}, Index: searchAttributeKeys[kind]()})
			p.changed()
			return false
		}
		return true
	}, nil)
	p.renameIdents(pkgTemporal, map[string]target{
		"SearchAttributes":      {DurablePath, "SearchAttributes"},
		"SearchAttributeUpdate": {DurablePath, "SearchAttributeUpdate"},
		"NewSearchAttributes":   {DurablePath, "NewSearchAttributes"},
	})
	p.renameIdents(pkgWorkflow, map[string]target{
		"GetTypedSearchAttributes":    {DurablePath, "GetSearchAttributes"},
		"UpsertTypedSearchAttributes": {DurablePath, "UpsertTypedSearchAttributes"},
		"UpsertSearchAttributes":      {DurablePath, "UpsertSearchAttributes"},
		"UpsertMemo":                  {DurablePath, "UpsertMemo"},
	})
}

// convertPayloadReads turns converter.GetDefaultDataConverter().
// FromPayload(v, &x), where v is a memo or search attribute value of a
// workflow info (directly or through a variable), into json.Unmarshal(v,
// &x): the durable values are JSON. The unsupported rule's TODO on the
// converter goes.
func (p *pass) convertPayloadReads() {
	isInfo := func(e dst.Expr) bool { return temporalType(p.typeOf(e), "WorkflowInfo") != "" }
	isAttrValue := func(e dst.Expr) bool {
		ix, ok := e.(*dst.IndexExpr)
		if !ok {
			return false
		}
		sel, ok := ix.X.(*dst.SelectorExpr)
		if !ok {
			return false
		}
		inner, ok := sel.X.(*dst.SelectorExpr)
		if !ok || !isInfo(inner.X) {
			return false
		}
		return inner.Sel.Name == "Memo" && sel.Sel.Name == "Fields" || inner.Sel.Name == "SearchAttributes" && sel.Sel.Name == "IndexedFields"
	}
	// Variables assigned only memo or search attribute values.
	fromAttr := map[types.Object]bool{}
	other := map[types.Object]bool{}
	dst.Inspect(p.file, func(n dst.Node) bool {
		as, ok := n.(*dst.AssignStmt)
		if !ok || len(as.Lhs) != len(as.Rhs) {
			return true
		}
		for i, l := range as.Lhs {
			if id, ok := l.(*dst.Ident); ok {
				if obj := p.objOf(id); obj != nil {
					if isAttrValue(as.Rhs[i]) {
						fromAttr[obj] = true
					} else {
						other[obj] = true
					}
				}
			}
		}
		return true
	})
	dst.Inspect(p.file, func(n dst.Node) bool {
		call, recv, name := methodCall(n)
		if call == nil || name != "FromPayload" || len(call.Args) != 2 {
			return true
		}
		conv, fn := callOf(recv, "go.temporal.io/sdk/converter")
		if conv == nil || fn != "GetDefaultDataConverter" || len(conv.Args) != 0 {
			return true
		}
		v := call.Args[0]
		if id, ok := v.(*dst.Ident); ok {
			obj := p.objOf(id)
			if obj == nil || !fromAttr[obj] || other[obj] {
				return true
			}
		} else if !isAttrValue(v) {
			return true
		}
		p.untodo(call, "data-converters")
		call.Fun = &dst.Ident{Path: "encoding/json", Name: "Unmarshal"}
		p.changed()
		return true
	})
}

// untodo takes back the TODOs of one anchor that a rule left on the
// statement holding n, once another rule converted what they were about.
func (p *pass) untodo(n dst.Node, anchor string) {
	at := p.anchorOf(n)
	pos := p.pos(at)
	suffix := "(see docs/unsupported.md#" + anchor + ")"
	decs := at.Decorations()
	var keep []string
	left := false
	for _, c := range decs.Start {
		if strings.HasPrefix(c, "// TODO(migrate): ") && strings.HasSuffix(c, suffix) {
			continue
		}
		left = left || strings.HasPrefix(c, "// TODO(migrate): ")
		keep = append(keep, c)
	}
	decs.Start = keep
	if !left {
		delete(p.todos, at)
	}
	var fs []Finding
	for _, f := range p.findings {
		if f.Anchor == anchor && f.Line == pos.Line && f.File == pos.Filename {
			continue
		}
		fs = append(fs, f)
	}
	p.findings = fs
}
