package temporal

import (
	"github.com/dave/dst"
	"github.com/dave/dst/dstutil"
)

// coroutineRule converts workflow coroutines and their synchronisation:
// workflow.Go, channels, settable futures, wait groups, mutexes, semaphores
// and Await. A
// channel's element type comes from its Send and Receive calls.
var coroutineRule = rule{
	Name: "coroutine",
	Doc:  "coroutines, channels, wait groups, mutexes and Await to durable equivalents",
	Run: func(p *pass) {
		chanStore := func(name string) producer {
			return producer{kind: channelKind, store: func(p *pass, c *dst.CallExpr, t dst.Expr) string {
				setFun(c, name, t)
				return ""
			}}
		}
		p.convertFutures(pkgWorkflow, map[string]producer{
			"NewChannel":         chanStore("NewChannel"),
			"NewBufferedChannel": chanStore("NewBufferedChannel"),
			// f, s := workflow.NewFuture(ctx): f is followed as a stored
			// future; the Settable keeps its methods (Set, SetValue,
			// SetError, Chain).
			"NewFuture": {kind: futureKind, pair: true, store: func(p *pass, c *dst.CallExpr, t dst.Expr) string {
				if t == nil {
					return "result-type: no Get of the future names its type; convert by hand"
				}
				setFun(c, "NewFuture", t)
				return ""
			}},
		})
		p.renameIdents(pkgWorkflow, map[string]target{
			"Go":                {DurablePath, "Go"},
			"DeterministicKeys": {DurablePath, "DeterministicKeys"},
			"Await":             {DurablePath, "Await"},
			"AwaitWithTimeout":  {DurablePath, "AwaitWithTimeout"},
			"NewWaitGroup":      {DurablePath, "NewWaitGroup"},
			"NewMutex":          {DurablePath, "NewMutex"},
			"NewSemaphore":      {DurablePath, "NewSemaphore"},
		})
		p.pointerTypes(pkgWorkflow, map[string]string{"WaitGroup": "WaitGroup", "Mutex": "Mutex", "Semaphore": "Semaphore"})
	},
}

// pointerTypes replaces the interface types path.X in table with *durable.Y.
func (p *pass) pointerTypes(path string, table map[string]string) {
	dstutil.Apply(p.file, func(c *dstutil.Cursor) bool {
		id, ok := c.Node().(*dst.Ident)
		if !ok || id.Path != path || p.marked(id) {
			return true
		}
		if to, ok := table[id.Name]; ok {
			c.Replace(&dst.StarExpr{X: durableIdent(to), Decs: dst.StarExprDecorations{NodeDecs: id.Decs.NodeDecs}})
			p.changed()
		}
		return true
	}, nil)
}
