package temporal

import "github.com/dave/dst/dstutil"
import "github.com/dave/dst"

// loggerRule converts workflow.GetLogger and activity.GetLogger to
// durable.Logger, a replay-aware *slog.Logger. slog takes key/value pairs
// like Temporal's logger, so the calls keep their arguments; log.Logger
// becomes *slog.Logger.
var loggerRule = rule{
	Name: "logger",
	Doc:  "loggers to durable.Logger (*slog.Logger)",
	Run: func(p *pass) {
		p.renameIdents(pkgWorkflow, map[string]target{"GetLogger": {DurablePath, "Logger"}})
		p.renameIdents(pkgActivity, map[string]target{"GetLogger": {DurablePath, "Logger"}})
		dstutil.Apply(p.file, func(c *dstutil.Cursor) bool {
			if id, ok := c.Node().(*dst.Ident); ok && isIdent(id, pkgLog, "Logger") && !p.marked(id) {
				c.Replace(&dst.StarExpr{X: &dst.Ident{Path: "log/slog", Name: "Logger"}})
				p.changed()
			}
			return true
		}, nil)
	},
}
