// Package temporal rewrites Go code written against the Temporal Go SDK into
// plain Go on the durable runtime (github.com/durablego/toolkit/runtime/durable).
//
// # How it works
//
// [Convert] loads the requested packages with golang.org/x/tools/go/packages
// (syntax and types, tests included), decorates each file that imports the
// Temporal SDK with github.com/dave/dst, and runs every rule of [Suite] over it.
// Rules decide by types, never by text: an identifier is matched on its
// package path and name, so import aliases and shadowed names are handled.
// Only files a rule changed are printed again, with their import blocks
// updated; every other file stays byte-identical.
//
// What a rule cannot convert is left in place, marked with a
// "// TODO(migrate): reason (see docs/unsupported.md#anchor)" comment and
// listed as a [Finding]. A package that does not load or type-check is
// reported with positions and left untouched, and the other packages are
// converted: one package that needs an unavailable module does not block a
// whole repository.
//
// One rule per Temporal concept, one file each: activity.go converts
// workflow.ExecuteActivity and futures, timer.go converts workflow.Sleep,
// workflow.Now and workflow.NewTimer, and so on. [Suite] lists them in the
// order they run.
package temporal
