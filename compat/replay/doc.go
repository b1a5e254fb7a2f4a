// Package replay checks converted workflow code against what Temporal
// actually did: it reads a Temporal workflow history (the protojson History
// that `temporal workflow show --output json` prints), translates it into
// a durable journal and replays that journal through the converted workflow
// registered on a durable.Engine.
//
// # Translation
//
// Temporal's history interleaves inbound events (the start, activity
// results, timer firings, signals, cancellation requests, child results,
// accepted updates) with the commands the workflow issued (activities and
// timers scheduled, markers, children started, external signals and
// cancellations, completion). Each maps to one durable.HistoryEvent of the
// same meaning (see [Translate]), the typed history that
// [durable.Engine.Replay] takes. Command IDs are numbered in the order the
// history records the commands, with one counter for activities, timers,
// side effects, children, external signals and cancels, as the durable
// runtime numbers them; completions find their command through the
// scheduled, started or initiated event ID they carry. A timer's duration
// is its StartToFireTimeout (FireAt less the event's time). A child
// workflow ID that Temporal generated (the parent's run ID, "_", a
// sequence number) is left out, since converted code that named no ID gets
// one the durable runtime generates. Payloads must be json/plain (or
// binary/null); histories written with payload codecs are decoded first
// with [WithPayloadCodecs] (or exported decoded).
//
// # Verification
//
// [Verify] replays the journal with [durable.Engine.Replay], which matches
// the code's yield points one by one and compares how the run ends (status
// and result). What is compared:
//
//   - activities: name, local or not, the number of arguments, their
//     values and (from the code's first call) their Go types; a local
//     activity's marker records no arguments, so only its name is compared;
//   - timers: the duration;
//   - side effects: that the code takes one there (the value is the
//     history's);
//   - versions (GetVersion markers): the change ID, and that the code
//     supports the version the history chose;
//   - children: the workflow name, the arguments, and the workflow ID
//     unless Temporal generated it;
//   - signals sent to other workflows: the signal name, the target
//     workflow ID and the argument; cancellations sent: the target;
//   - continue-as-new: the workflow name and the arguments the next run
//     of the chain starts with;
//   - update completions: that the code completes one there;
//   - the run's end: status and result.
//
// Two facts are not in a Temporal history and are settled during the
// replay: the Go types of an activity's arguments (taken from the code's
// first matching call) and, when one workflow task delivered several
// inbound events, which of them each command answered (the durable
// runtime delivers them one at a time). Neither can hide a divergence: a
// command is only ever moved to an earlier inbound event of the same
// workflow task, never past another command.
//
// The first divergence is reported with the Temporal event ID, what the
// history has and what the code did; see [Report]. [Divergence.Err] is the
// runtime's *durable.NonDeterminismError, whose Kind, Expected and Found
// say the same as data.
//
// [durable.Engine.Replay]: https://pkg.go.dev/github.com/durablego/toolkit/runtime/durable#Engine.Replay
package replay
