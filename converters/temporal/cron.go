package temporal

import "github.com/dave/dst"

// convertCron (run by continueAsNewRule) converts the reads of a cron
// schedule's previous run: workflow.HasLastCompletionResult,
// GetLastCompletionResult and GetLastError become their durable
// namesakes, which read the previous run of the schedule that
// StartOptions.CronSchedule or ChildOptions.CronSchedule (converted from
// StartWorkflowOptions' and ChildWorkflowOptions' CronSchedule) runs, as
// in Temporal. Nothing is lost, so no note is given.
func (p *pass) convertCron() {
	dst.Inspect(p.file, func(n dst.Node) bool {
		id, ok := n.(*dst.Ident)
		if !ok || !isIdent(id, pkgWorkflow, "HasLastCompletionResult", "GetLastCompletionResult", "GetLastError") || p.marked(id) {
			return true
		}
		p.retarget(id, DurablePath, id.Name)
		return true
	})
}
