package temporal

import (
	"context"
	"go/ast"
	"go/constant"
	"go/types"
	"sort"
	"strings"
)

// Inventory is what [Analyze] found: the Temporal concepts a codebase uses
// and how much of it converts without a person.
type Inventory struct {
	Workflows      []string  `json:"workflows"`
	Activities     []string  `json:"activities"`
	Signals        []string  `json:"signals"`
	Queries        []string  `json:"queries"`
	Updates        []string  `json:"updates"`
	Timers         []string  `json:"timers"`
	ChildWorkflows []string  `json:"child_workflows"`
	APIs           []APIUse  `json:"apis"`
	FilesChanged   int       `json:"files_changed"`
	FollowUps      []Finding `json:"follow_ups"`
	Errors         []Finding `json:"errors"`
	Rules          []RuleDoc `json:"rules"`
}

// APIUse counts the references to one Temporal API and how many of them
// were left for a person.
type APIUse struct {
	Name   string `json:"name"`
	Uses   int    `json:"uses"`
	Manual int    `json:"manual"`
}

// KindNames is one row of the inventory table.
type KindNames struct {
	Kind  string
	Names []string
}

// Joined lists the names, comma separated.
func (k KindNames) Joined() string { return strings.Join(k.Names, ", ") }

// Kinds returns the inventory's rows in a fixed order.
func (inv *Inventory) Kinds() []KindNames {
	return []KindNames{
		{"workflows", inv.Workflows}, {"activities", inv.Activities}, {"signals", inv.Signals},
		{"queries", inv.Queries}, {"updates", inv.Updates}, {"timers", inv.Timers},
		{"child workflows", inv.ChildWorkflows},
	}
}

// Analyze converts in memory, writes nothing, and returns the inventory.
func Analyze(ctx context.Context, opts Options) (*Inventory, error) {
	l, err := load(ctx, opts)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{Errors: l.errors, Rules: Rules()}
	sets := map[string]map[string]bool{}
	add := func(kind, name string) {
		if sets[kind] == nil {
			sets[kind] = map[string]bool{}
		}
		sets[kind][name] = true
	}
	for _, u := range l.units {
		if importsTemporal(u.file) {
			inventoryFile(u, add)
		}
	}
	for kind, dst := range map[string]*[]string{
		"workflow": &inv.Workflows, "activity": &inv.Activities, "signal": &inv.Signals, "query": &inv.Queries,
		"update": &inv.Updates, "timer": &inv.Timers, "child": &inv.ChildWorkflows,
	} {
		*dst = []string{}
		for n := range sets[kind] {
			*dst = append(*dst, n)
		}
		sort.Strings(*dst)
	}
	inv.FollowUps = []Finding{}
	uses := map[string]int{}
	manual := map[string]int{}
	for _, group := range groupUnits(l.units) {
		if len(group[0].pkg.Errors) > 0 {
			continue // reported in Errors
		}
		files, findings, errs := convertPackage(group, uses)
		inv.Errors = append(inv.Errors, errs...)
		inv.FilesChanged += len(files)
		for _, fd := range findings {
			if fd.Severity == SeverityTODO {
				inv.FollowUps = append(inv.FollowUps, fd)
				manual[fd.Rule]++
			}
		}
	}
	sortFindings(inv.FollowUps)
	// Attribute follow-ups to APIs by the name the message starts with.
	for name, n := range uses {
		m := 0
		for _, fd := range inv.FollowUps {
			if strings.Contains(fd.Message, name) {
				m++
			}
		}
		if m > n {
			m = n
		}
		inv.APIs = append(inv.APIs, APIUse{Name: name, Uses: n, Manual: m})
	}
	sort.Slice(inv.APIs, func(i, j int) bool {
		if inv.APIs[i].Uses != inv.APIs[j].Uses {
			return inv.APIs[i].Uses > inv.APIs[j].Uses
		}
		return inv.APIs[i].Name < inv.APIs[j].Name
	})
	return inv, nil
}

// inventoryFile records the workflows, activities, signals, queries,
// updates, timers and child workflows one file defines or uses.
func inventoryFile(u unit, add func(kind, name string)) {
	info := u.pkg.TypesInfo
	qualified := func(e ast.Expr) (string, string) {
		sel, ok := e.(*ast.SelectorExpr)
		if !ok {
			return "", ""
		}
		obj := info.Uses[sel.Sel]
		if obj == nil || obj.Pkg() == nil {
			return "", ""
		}
		return obj.Pkg().Path(), obj.Name()
	}
	str := func(e ast.Expr) string {
		if tv, ok := info.Types[e]; ok && tv.Value != nil && tv.Value.Kind() == constant.String {
			return constant.StringVal(tv.Value)
		}
		return types.ExprString(e)
	}
	ast.Inspect(u.file, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncDecl:
			if obj, ok := info.Defs[n.Name].(*types.Func); ok {
				sig := obj.Type().(*types.Signature)
				if isWorkflowSignature(sig) {
					add("workflow", n.Name.Name)
				}
			}
		case *ast.CallExpr:
			path, name := qualified(n.Fun)
			if path == pkgWorkflow && len(n.Args) >= 2 {
				switch name {
				case "ExecuteActivity", "ExecuteLocalActivity":
					for _, a := range activityNames(info, n.Args[1], str) {
						add("activity", a)
					}
				case "ExecuteChildWorkflow":
					add("child", str(n.Args[1]))
				case "GetSignalChannel":
					add("signal", str(n.Args[1]))
				case "SetQueryHandler", "SetQueryHandlerWithOptions":
					add("query", str(n.Args[1]))
				case "SetUpdateHandler", "SetUpdateHandlerWithOptions":
					add("update", str(n.Args[1]))
				case "NewTimer", "Sleep", "AwaitWithTimeout":
					add("timer", "workflow."+name+" at "+u.pkg.Fset.Position(n.Pos()).String())
				}
			}
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && len(n.Args) >= 1 && strings.HasPrefix(sel.Sel.Name, "RegisterActivity") {
				if t := info.TypeOf(sel.X); t != nil && strings.Contains(t.String(), temporalPrefix) {
					for _, a := range activityNames(info, n.Args[0], str) {
						add("activity", a)
					}
				}
			}
		}
		return true
	})
}

// isWorkflowSignature reports whether sig has a workflow's shape: a
// workflow.Context first and an error last (helpers that take the context
// but return something else are not counted).
func isWorkflowSignature(sig *types.Signature) bool {
	if sig.Params().Len() == 0 || temporalType(sig.Params().At(0).Type(), "Context") == "" {
		return false
	}
	res := sig.Results()
	return res.Len() >= 1 && res.Len() <= 2 && types.Identical(res.At(res.Len()-1).Type(), types.Universe.Lookup("error").Type())
}

// activityNames returns the names Temporal registers or calls an activity
// by: a function's name, a method value's method name, every exported
// method of a registered struct, or a string's value.
func activityNames(info *types.Info, e ast.Expr, str func(ast.Expr) string) []string {
	if tv, ok := info.Types[e]; ok && tv.Value != nil {
		return []string{str(e)}
	}
	switch x := ast.Unparen(e).(type) {
	case *ast.Ident:
		if fn, ok := info.Uses[x].(*types.Func); ok {
			return []string{fn.Name()}
		}
	case *ast.SelectorExpr:
		if fn, ok := info.Uses[x.Sel].(*types.Func); ok {
			return []string{fn.Name()}
		}
	}
	t := info.TypeOf(e)
	if t == nil {
		return []string{str(e)}
	}
	if _, ok := t.Underlying().(*types.Signature); ok {
		return []string{str(e)}
	}
	var names []string
	ms := types.NewMethodSet(t)
	for i := 0; i < ms.Len(); i++ {
		if m := ms.At(i).Obj(); m.Exported() {
			names = append(names, m.Name())
		}
	}
	if len(names) == 0 {
		return []string{str(e)}
	}
	return names
}
