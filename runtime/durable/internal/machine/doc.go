// Package machine holds the deterministic half of a durable run: the
// journal cursor that replay walks, the typed commands the workflow code
// issues, and the divergences found when the code and the journal
// disagree.
//
// It does no I/O: no store, no engine, no clock. It is fed the journal
// (store events, in order) and the commands the code issues, and answers
// with the journaled payload of each command, the next inbound event to
// deliver, or a typed *Divergence. The engine (package durable) is the
// shell around it: it runs the workflow's coroutines, commits what a step
// produced, dispatches tasks after the commit and renews leases.
//
// # Matching rules
//
// A command matches the journal's next event when the kinds are equal and
// the identity agrees:
//
//   - activities: name, local or not, argument types (when the journal
//     records them) and, with [Options.CompareArgs], argument values (when
//     the journal records them; a Temporal local-activity marker does not);
//   - children and continue-as-new: the workflow's name;
//   - external signals: the signal's name and target workflow ID;
//   - external cancellations: the target workflow ID;
//   - every other command (timers, side effects, versions, attributes,
//     update completions, cancellations, the run's close): the kind.
//
// The first command that does not match, an inbound event the code cannot
// take, a journal command the code never issues, or a run that ends
// otherwise than its journal is a divergence; see [Kind].
package machine
