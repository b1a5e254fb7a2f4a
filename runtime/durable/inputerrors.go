package durable

import (
	"fmt"
)

// Errors about what a caller passed: arguments that do not fit or do not
// encode, a result that does not decode into the caller's type, a name no
// registration has. Each names what is involved, for errors.As; the error
// wrapping it names the call ("durable: Start OrderWorkflow: ...").

// ArgumentError reports arguments that a workflow, activity, signal or
// handler cannot take: a wrong count, a wrong type, or a value that does
// not encode as JSON.
type ArgumentError struct {
	// Index is the argument's position, from 1; 0 when the count is wrong.
	Index int
	// Got is the argument's Go type ("nil" for a nil), or the count.
	Got string
	// Want is the parameter's type, or the count and the signature.
	Want string
	// Err is the encoder's error, when the value does not encode.
	Err error

	gotN, wantN int // the counts, when the count is wrong (Counts)
}

// countError is the ArgumentError of got arguments for def, which takes
// want.
func countError(def *funcDef, got, want int) *ArgumentError {
	return &ArgumentError{Got: fmt.Sprint(got), Want: fmt.Sprintf("%d: %s", want, def.signature()), gotN: got, wantN: want}
}

// Counts returns how many arguments were given and how many the function
// takes, when the count is what is wrong (ok false otherwise).
func (e *ArgumentError) Counts() (got, want int, ok bool) {
	return e.gotN, e.wantN, e.Index == 0 && e.Err == nil && e.gotN != e.wantN
}

func (e *ArgumentError) Error() string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("argument %d (%s) does not encode: %v", e.Index, e.Got, e.Err)
	case e.Index == 0:
		return fmt.Sprintf("got %s arguments, want %s", e.Got, e.Want)
	case e.Got == "nil":
		return fmt.Sprintf("argument %d is nil, want %s", e.Index, e.Want)
	}
	return fmt.Sprintf("argument %d has type %s, want %s", e.Index, e.Got, e.Want)
}

// Unwrap returns the encoder's error.
func (e *ArgumentError) Unwrap() error { return e.Err }

// DecodeError reports a payload that does not decode into the type the
// caller asked for: a workflow's result for Run.Get, a query's or update's
// value, an error's details.
type DecodeError struct {
	What string // what was decoded, e.g. "result of workflow order-1"
	Into string // the Go type asked for, e.g. "*int"
	Err  error  // the decoder's error
}

func (e *DecodeError) Error() string {
	if e.Into == "" {
		return fmt.Sprintf("durable: decode %s: %v", e.What, e.Err)
	}
	return fmt.Sprintf("durable: decode %s into %s: %v", e.What, e.Into, e.Err)
}

// Unwrap returns the decoder's error.
func (e *DecodeError) Unwrap() error { return e.Err }

// NotRegisteredError reports a workflow or activity name that this engine
// has no registration for.
type NotRegisteredError struct {
	Kind string // "workflow" or "activity"
	Name string

	why string // what cannot be done here, when not "call Register... first"
}

func (e *NotRegisteredError) Error() string {
	if e.why != "" {
		return fmt.Sprintf("%s %q is not registered on this engine, so %s", e.Kind, e.Name, e.why)
	}
	reg := "RegisterWorkflow"
	if e.Kind == "activity" {
		reg = "RegisterActivity"
	}
	return fmt.Sprintf("%s %q is not registered (call %s first)", e.Kind, e.Name, reg)
}

// alreadyStarted is the error of a Start whose workflow ID may not start
// now; why completes "workflow ID %q ...".
func alreadyStarted(id, why string) error {
	return &AlreadyStartedError{WorkflowID: id, why: why}
}

// noOpenRun is the error of a call to the open run of a workflow ID (or to
// run runID) when there is none.
func noOpenRun(id, runID string) error {
	return &NotFoundError{WorkflowID: id, RunID: runID, why: "no open run"}
}
