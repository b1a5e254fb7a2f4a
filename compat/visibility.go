package compat

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// A visibility query is Temporal's list filter language, the subset that
// list pages and converted code use:
//
//	WorkflowType = 'Order' AND ExecutionStatus = 'Running'
//	CustomIntField >= 2 AND (CustomKeywordField STARTS_WITH 'Key' OR Owner IN ('ada', 'bob'))
//	StartTime BETWEEN '2026-01-01T00:00:00Z' AND '2026-02-01T00:00:00Z' ORDER BY StartTime DESC
//	CloseTime IS NULL
//
// Comparisons are =, !=, <>, <, <=, >, >=, STARTS_WITH, IN (...), NOT IN
// (...), BETWEEN a AND b, IS NULL and IS NOT NULL, joined with AND, OR, NOT
// and parentheses. Values are quoted strings, numbers and true/false. A
// keyword list attribute equals a value it contains. Times compare as
// times when both sides parse as RFC 3339.

// query is a parsed visibility query.
type query struct {
	where expr // nil: every run
	order []orderTerm
}

type orderTerm struct {
	field string
	desc  bool
}

// fields gives a run's value of a field: nil when it has none.
type fields func(name string) any

type expr interface{ eval(f fields) bool }

type andExpr struct{ l, r expr }
type orExpr struct{ l, r expr }
type notExpr struct{ x expr }

func (e andExpr) eval(f fields) bool { return e.l.eval(f) && e.r.eval(f) }
func (e orExpr) eval(f fields) bool  { return e.l.eval(f) || e.r.eval(f) }
func (e notExpr) eval(f fields) bool { return !e.x.eval(f) }

// cmpExpr is one comparison of a field.
type cmpExpr struct {
	field string
	op    string // = != < <= > >= STARTS_WITH IN NOT_IN BETWEEN IS_NULL IS_NOT_NULL
	vals  []any
}

func (e cmpExpr) eval(f fields) bool {
	v := f(e.field)
	switch e.op {
	case "IS_NULL":
		return v == nil
	case "IS_NOT_NULL":
		return v != nil
	}
	if v == nil {
		return false
	}
	if list, ok := v.([]any); ok && e.op != "!=" {
		// A keyword list matches when one of its values does.
		for _, item := range list {
			if (cmpExpr{field: e.field, op: e.op, vals: e.vals}).eval(func(string) any { return item }) {
				return true
			}
		}
		return false
	}
	switch e.op {
	case "=":
		return compare(v, e.vals[0]) == 0
	case "!=":
		return compare(v, e.vals[0]) != 0
	case "<":
		return compare(v, e.vals[0]) < 0
	case "<=":
		return compare(v, e.vals[0]) <= 0
	case ">":
		return compare(v, e.vals[0]) > 0
	case ">=":
		return compare(v, e.vals[0]) >= 0
	case "STARTS_WITH":
		s, ok := v.(string)
		p, _ := e.vals[0].(string)
		return ok && strings.HasPrefix(s, p)
	case "IN", "NOT_IN":
		in := false
		for _, x := range e.vals {
			if compare(v, x) == 0 {
				in = true
				break
			}
		}
		return in == (e.op == "IN")
	case "BETWEEN":
		return compare(v, e.vals[0]) >= 0 && compare(v, e.vals[1]) <= 0
	}
	return false
}

// compare orders a run's value a and a query value b: numbers as numbers,
// times as times, the rest as strings. Values of different kinds compare
// unequal (as -2).
func compare(a, b any) int {
	switch av := a.(type) {
	case float64:
		bv, ok := b.(float64)
		if !ok {
			if s, isStr := b.(string); isStr {
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return -2
				}
				bv = f
			} else {
				return -2
			}
		}
		switch {
		case av < bv:
			return -1
		case av > bv:
			return 1
		}
		return 0
	case bool:
		bv, ok := b.(bool)
		if !ok {
			return -2
		}
		if av == bv {
			return 0
		}
		return -2
	case time.Time:
		s, ok := b.(string)
		if !ok {
			return -2
		}
		bt, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return -2
		}
		return av.Compare(bt)
	case string:
		bs, ok := b.(string)
		if !ok {
			if f, isNum := b.(float64); isNum {
				bs = strconv.FormatFloat(f, 'f', -1, 64)
			} else {
				return -2
			}
		}
		if at, err := time.Parse(time.RFC3339Nano, av); err == nil {
			if bt, err := time.Parse(time.RFC3339Nano, bs); err == nil {
				return at.Compare(bt)
			}
		}
		return strings.Compare(av, bs)
	}
	return -2
}

// parseQuery parses a visibility query; "" is every run.
func parseQuery(q string) (*query, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, fmt.Errorf("visibility query %q: %w", q, err)
	}
	p := &parser{toks: toks}
	out := &query{}
	if !p.atKeyword("ORDER") && !p.done() {
		if out.where, err = p.or(); err != nil {
			return nil, fmt.Errorf("visibility query %q: %w", q, err)
		}
	}
	if p.atKeyword("ORDER") {
		p.next()
		if !p.atKeyword("BY") {
			return nil, fmt.Errorf("visibility query %q: ORDER without BY", q)
		}
		p.next()
		for {
			t := p.next()
			if t.kind != tokIdent {
				return nil, fmt.Errorf("visibility query %q: ORDER BY wants a field, got %q", q, t.text)
			}
			term := orderTerm{field: t.text}
			if p.atKeyword("DESC") {
				p.next()
				term.desc = true
			} else if p.atKeyword("ASC") {
				p.next()
			}
			out.order = append(out.order, term)
			if p.peek().text != "," {
				break
			}
			p.next()
		}
	}
	if !p.done() {
		return nil, fmt.Errorf("visibility query %q: unexpected %q", q, p.peek().text)
	}
	return out, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokIdent
	tokString
	tokNumber
	tokOp
)

type token struct {
	kind tokKind
	text string
}

func lex(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '\'' || c == '"':
			j := i + 1
			var b strings.Builder
			for ; j < len(s) && rune(s[j]) != c; j++ {
				if s[j] == '\\' && j+1 < len(s) {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated string at %d", i)
			}
			toks = append(toks, token{tokString, b.String()})
			i = j + 1
		case c == '(' || c == ')' || c == ',':
			toks = append(toks, token{tokOp, string(c)})
			i++
		case strings.ContainsRune("=!<>", c):
			j := i + 1
			if j < len(s) && (s[j] == '=' || (c == '<' && s[j] == '>')) {
				j++
			}
			op := s[i:j]
			if op == "<>" {
				op = "!="
			}
			if op == "!" {
				return nil, fmt.Errorf("unexpected ! at %d", i)
			}
			toks = append(toks, token{tokOp, op})
			i = j
		case c == '-' || c == '.' || unicode.IsDigit(c):
			j := i + 1
			for j < len(s) && (unicode.IsDigit(rune(s[j])) || s[j] == '.' || s[j] == 'e' || s[j] == 'E') {
				j++
			}
			toks = append(toks, token{tokNumber, s[i:j]})
			i = j
		case c == '_' || c == '`' || unicode.IsLetter(c):
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] == '`' || unicode.IsLetter(rune(s[j])) || unicode.IsDigit(rune(s[j]))) {
				j++
			}
			toks = append(toks, token{tokIdent, strings.Trim(s[i:j], "`")})
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return toks, nil
}

type parser struct {
	toks []token
	pos  int
}

func (p *parser) done() bool { return p.pos >= len(p.toks) }

func (p *parser) peek() token {
	if p.done() {
		return token{kind: tokEOF}
	}
	return p.toks[p.pos]
}

func (p *parser) next() token {
	t := p.peek()
	p.pos++
	return t
}

func (p *parser) atKeyword(k string) bool {
	t := p.peek()
	return t.kind == tokIdent && strings.EqualFold(t.text, k)
}

func (p *parser) or() (expr, error) {
	l, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.atKeyword("OR") {
		p.next()
		r, err := p.and()
		if err != nil {
			return nil, err
		}
		l = orExpr{l, r}
	}
	return l, nil
}

func (p *parser) and() (expr, error) {
	l, err := p.unary()
	if err != nil {
		return nil, err
	}
	for p.atKeyword("AND") {
		p.next()
		r, err := p.unary()
		if err != nil {
			return nil, err
		}
		l = andExpr{l, r}
	}
	return l, nil
}

func (p *parser) unary() (expr, error) {
	if p.atKeyword("NOT") {
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return notExpr{x}, nil
	}
	if p.peek().text == "(" && p.peek().kind == tokOp {
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.text != ")" {
			return nil, fmt.Errorf("want ), got %q", t.text)
		}
		return x, nil
	}
	return p.comparison()
}

func (p *parser) comparison() (expr, error) {
	f := p.next()
	if f.kind != tokIdent {
		return nil, fmt.Errorf("want a field, got %q", f.text)
	}
	e := cmpExpr{field: f.text}
	t := p.next()
	switch {
	case t.kind == tokOp && strings.Contains("= != < <= > >=", t.text) && t.text != "(" && t.text != ")" && t.text != ",":
		e.op = t.text
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		e.vals = []any{v}
	case t.kind == tokIdent && strings.EqualFold(t.text, "STARTS_WITH"):
		e.op = "STARTS_WITH"
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		e.vals = []any{v}
	case t.kind == tokIdent && strings.EqualFold(t.text, "IN"):
		e.op = "IN"
		vals, err := p.list()
		if err != nil {
			return nil, err
		}
		e.vals = vals
	case t.kind == tokIdent && strings.EqualFold(t.text, "NOT") && p.atKeyword("IN"):
		p.next()
		e.op = "NOT_IN"
		vals, err := p.list()
		if err != nil {
			return nil, err
		}
		e.vals = vals
	case t.kind == tokIdent && strings.EqualFold(t.text, "BETWEEN"):
		e.op = "BETWEEN"
		lo, err := p.value()
		if err != nil {
			return nil, err
		}
		if !p.atKeyword("AND") {
			return nil, fmt.Errorf("BETWEEN wants AND")
		}
		p.next()
		hi, err := p.value()
		if err != nil {
			return nil, err
		}
		e.vals = []any{lo, hi}
	case t.kind == tokIdent && strings.EqualFold(t.text, "IS"):
		e.op = "IS_NULL"
		if p.atKeyword("NOT") {
			p.next()
			e.op = "IS_NOT_NULL"
		}
		if !p.atKeyword("NULL") {
			return nil, fmt.Errorf("IS wants NULL")
		}
		p.next()
	default:
		return nil, fmt.Errorf("want an operator after %s, got %q", f.text, t.text)
	}
	return e, nil
}

func (p *parser) list() ([]any, error) {
	if t := p.next(); t.text != "(" {
		return nil, fmt.Errorf("want (, got %q", t.text)
	}
	var vals []any
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		t := p.next()
		if t.text == ")" {
			return vals, nil
		}
		if t.text != "," {
			return nil, fmt.Errorf("want , or ), got %q", t.text)
		}
	}
}

func (p *parser) value() (any, error) {
	t := p.next()
	switch t.kind {
	case tokString:
		return t.text, nil
	case tokNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, fmt.Errorf("bad number %q", t.text)
		}
		return f, nil
	case tokIdent:
		switch strings.ToLower(t.text) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	}
	return nil, fmt.Errorf("want a value, got %q", t.text)
}
