// Package machine holds the deterministic half of a durable run: the
// Machine (replay's cursor, the run's time and command IDs, the commands
// that wait for an outcome, the step since the last commit), the typed
// commands the workflow code issues, and the divergences found when the
// code and the journal disagree.
//
// It does no I/O: no store, no engine, no clock of its own. A Machine is
// loaded from a journal (Load) or started with a new run's Started event
// (Start), and fed what the code does (Command) and what reaches the run
// (Next in replay, Inbound live). It answers with the journaled payload of
// each command, the next inbound event to deliver, or a typed
// *Divergence, and collects the Step to commit: the events to append and
// the commands to carry out after the commit (attempts to schedule, runs
// to start, deliveries to other runs, timers to arm).
//
// The engine (package durable) is the shell around it: it runs the
// workflow's coroutines, turns a Step into one store commit, carries out
// the step's commands once committed, and holds leases and mailboxes.
// Queries, update validation, Verify and Replay load a read-only Machine
// (Config.ReadOnly) from the run's journal and look at the state the code
// rebuilds on it.
//
// # Matching rules
//
// A command matches the journal's next event when the kinds are equal and
// the identity agrees:
//
//   - activities: name, local or not, argument types (when the journal
//     records them) and, with [Options.CompareArgs], argument values (when
//     the journal records them; a Temporal local-activity marker does not);
//   - timers: with [Options.CompareArgs], the duration (the journal's
//     FireAt less the time it was journaled, against the code's FireAt less
//     the time of the inbound event it reacts to);
//   - versions: the change ID;
//   - children: the workflow's name and, with [Options.CompareArgs], the
//     arguments and the child's workflow ID (each when the journal records
//     it);
//   - continue-as-new: the workflow's name and, with
//     [Options.CompareArgs], the arguments;
//   - external signals: the signal's name and target workflow ID and, with
//     [Options.CompareArgs], the argument (when the journal records it);
//   - external cancellations: the target workflow ID;
//   - every other command (side effects, attributes, update completions,
//     cancellations, the run's close): the kind.
//
// [Options.CompareArgs] is for histories recorded elsewhere (Temporal):
// a run's own journal is checked on names and types only, so that a deploy
// may change how the code computes an argument or a sleep's duration
// without making its open runs stuck.
//
// The first command that does not match, an inbound event the code cannot
// take, a journal command the code never issues, or a run that ends
// otherwise than its journal is a divergence; see [Kind].
package machine
