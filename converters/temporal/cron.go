package temporal

import "github.com/dave/dst"

// convertCron (run by continueAsNewRule) converts the reads of a cron
// schedule's previous result: workflow.HasLastCompletionResult and
// GetLastCompletionResult become their durable namesakes, which report no
// previous result (the durable runtime has no cron schedules); a note says
// so once per file.
func (p *pass) convertCron() {
	noted := false
	dst.Inspect(p.file, func(n dst.Node) bool {
		id, ok := n.(*dst.Ident)
		if !ok || !isIdent(id, pkgWorkflow, "HasLastCompletionResult", "GetLastCompletionResult") || p.marked(id) {
			return true
		}
		if !noted {
			noted = true
			p.findings = append(p.findings, newFinding(p.pos(id), p.rule, SeverityNote,
				"workflow."+id.Name+": the durable runtime has no cron schedules; every run behaves as a schedule's first (no last completion result)", ""))
		}
		p.retarget(id, DurablePath, id.Name)
		return true
	})
}
