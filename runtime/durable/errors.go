package durable

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/durablego/toolkit/internal/journal"
)

// ErrNotFound is returned for a workflow ID with no run. It is a
// *NotFoundError, so errors.As finds it too (Temporal's
// *serviceerror.NotFound checks convert to that).
var ErrNotFound error = &NotFoundError{}

// ErrAlreadyStarted is returned by Start for a workflow ID that already has
// an open run. It is an *AlreadyStartedError, so errors.As finds it too
// (Temporal's *serviceerror.WorkflowExecutionAlreadyStarted).
var ErrAlreadyStarted error = &AlreadyStartedError{}

// NotFoundError is the type of ErrNotFound. Errors of calls that found no
// (open) run carry the workflow ID or run ID they looked for;
// errors.Is(err, ErrNotFound) holds for every one.
type NotFoundError struct {
	WorkflowID string
	RunID      string
	why        string
}

func (e *NotFoundError) Error() string {
	switch {
	case e.why != "" && e.RunID != "":
		return fmt.Sprintf("durable: run not found: run %s: %s", e.RunID, e.why)
	case e.why != "":
		return fmt.Sprintf("durable: run not found: workflow ID %q: %s", e.WorkflowID, e.why)
	}
	return "durable: run not found"
}

// NewNotFoundError returns a *NotFoundError that says message, as
// Temporal's serviceerror.NewNotFound does: for code (and its tests) that
// makes the error a lookup would return.
func NewNotFoundError(message string) error { return &NotFoundError{why: message} }

// Is makes errors.Is(err, ErrNotFound) true for every *NotFoundError.
func (e *NotFoundError) Is(target error) bool {
	_, ok := target.(*NotFoundError)
	return ok
}

// AlreadyStartedError is the type of ErrAlreadyStarted. A Start's error
// carries the workflow ID; errors.Is(err, ErrAlreadyStarted) holds for
// every one.
type AlreadyStartedError struct {
	WorkflowID string
	why        string
}

func (e *AlreadyStartedError) Error() string {
	if e.WorkflowID == "" {
		return "durable: workflow already started"
	}
	return fmt.Sprintf("durable: workflow already started: workflow ID %q %s", e.WorkflowID, e.why)
}

// Is makes errors.Is(err, ErrAlreadyStarted) true for every
// *AlreadyStartedError.
func (e *AlreadyStartedError) Is(target error) bool {
	_, ok := target.(*AlreadyStartedError)
	return ok
}

// ApplicationError is an error as it crossed the journal: an activity's or
// child's failure, or one made with NewApplicationError. Its Type is the
// type given to NewApplicationError, or the bare Go type name of the error
// the code returned ("PermanentError" for a *pkg.PermanentError), which is
// what RetryPolicy.NonRetryableErrorTypes matches.
type ApplicationError struct {
	msg          string
	typ          string
	nonRetryable bool
	details      json.RawMessage
	cause        error
}

// NewApplicationError returns an error of the given type with details that
// survive the journal. It is retried unless its type is listed in the
// RetryPolicy's NonRetryableErrorTypes.
func NewApplicationError(msg, typ string, details ...any) error {
	return newAppError(msg, typ, false, nil, details)
}

// NewApplicationErrorWithCause returns an application error that wraps
// cause (errors.Unwrap finds it, and it survives the journal as the
// error's cause), retried as NewApplicationError's is.
func NewApplicationErrorWithCause(msg, typ string, cause error, details ...any) error {
	return newAppError(msg, typ, false, cause, details)
}

// NewNonRetryableApplicationError returns an application error that is
// never retried, whatever the retry policy says.
func NewNonRetryableApplicationError(msg, typ string, cause error, details ...any) error {
	return newAppError(msg, typ, true, cause, details)
}

func newAppError(msg, typ string, nonRetryable bool, cause error, details []any) *ApplicationError {
	e := &ApplicationError{msg: msg, typ: typ, nonRetryable: nonRetryable, cause: cause}
	if len(details) > 0 {
		raw, err := encodeArgs(details)
		if err != nil {
			raw = nil
		}
		e.details = raw
	}
	return e
}

func (e *ApplicationError) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

// Message returns the error's message without its cause.
func (e *ApplicationError) Message() string { return e.msg }

// Type returns the error's type name.
func (e *ApplicationError) Type() string { return e.typ }

// NonRetryable reports whether the error was marked never to be retried.
func (e *ApplicationError) NonRetryable() bool { return e.nonRetryable }

// Unwrap returns the error's cause.
func (e *ApplicationError) Unwrap() error { return e.cause }

// HasDetails reports whether the error carries details.
func (e *ApplicationError) HasDetails() bool { return len(e.details) > 0 }

// Details decodes the error's details, one pointer per detail value.
func (e *ApplicationError) Details(ptrs ...any) error {
	var elems []json.RawMessage
	if len(e.details) > 0 {
		if err := json.Unmarshal(e.details, &elems); err != nil {
			return fmt.Errorf("durable: decode error details: %w", err)
		}
	}
	if len(ptrs) > len(elems) {
		return fmt.Errorf("durable: error has %d details, %d requested", len(elems), len(ptrs))
	}
	for i, p := range ptrs {
		if err := decodeInto(fmt.Sprintf("error detail %d", i+1), elems[i], p); err != nil {
			return err
		}
	}
	return nil
}

// TimeoutError reports that an activity, child or workflow ran out of time.
type TimeoutError struct {
	Kind  string // StartToClose, ScheduleToClose, Heartbeat, Execution
	Cause error  // the last attempt's failure, if any
}

func (e *TimeoutError) Error() string {
	if e.Cause != nil {
		return fmt.Sprintf("timeout (%s): %v", e.Kind, e.Cause)
	}
	return fmt.Sprintf("timeout (%s)", e.Kind)
}

func (e *TimeoutError) Unwrap() error { return e.Cause }

// TimeoutType returns Kind, under the name Temporal's TimeoutError gives
// it (its enums.TIMEOUT_TYPE_* are the Timeout* constants here).
func (e *TimeoutError) TimeoutType() string { return e.Kind }

// The kinds of TimeoutError.
const (
	TimeoutStartToClose    = "StartToClose"
	TimeoutScheduleToStart = "ScheduleToStart"
	TimeoutScheduleToClose = "ScheduleToClose"
	TimeoutHeartbeat       = "Heartbeat"
	// TimeoutExecution: a run's ExecutionTimeout or RunTimeout.
	TimeoutExecution = "Execution"
)

// IsTimeoutError reports whether err is, or wraps, a *TimeoutError
// (temporal.IsTimeoutError): a timed-out activity, child or run, or a
// session that could not be created in time.
func IsTimeoutError(err error) bool {
	var te *TimeoutError
	return errors.As(err, &te)
}

// CanceledError reports that a run or a call was cancelled. It matches
// context.Canceled with errors.Is.
type CanceledError struct {
	Message string
}

func (e *CanceledError) Error() string {
	if e.Message == "" {
		return context.Canceled.Error()
	}
	return "canceled: " + e.Message
}

// Is makes errors.Is(err, context.Canceled) true.
func (e *CanceledError) Is(target error) bool { return target == context.Canceled }

// TerminatedError reports that a run was terminated.
type TerminatedError struct{ Reason string }

func (e *TerminatedError) Error() string { return "terminated: " + e.Reason }

// PanicError reports that workflow or activity code panicked. A panicking
// workflow is stuck, not failed: fix the code and Resume it.
type PanicError struct {
	Value string
	Stack string
}

func (e *PanicError) Error() string { return "panic: " + e.Value }

// errTypeName is the bare name of err's dynamic type, as Temporal names it.
func errTypeName(err error) string {
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() == "errors" && t.Name() == "errorString" {
		return "" // Temporal gives errors.New errors no type either
	}
	return t.Name()
}

// toFailure turns an error into journal data.
func toFailure(err error) *journal.Failure {
	if err == nil {
		return nil
	}
	var (
		app *ApplicationError
		to  *TimeoutError
		pe  *PanicError
		nd  *NonDeterminismError
		te  *TerminatedError
	)
	switch {
	case errors.As(err, &nd):
		return &journal.Failure{Kind: "nondeterminism", Message: nd.Error(), Type: nd.Journal, Details: mustJSON(nd)}
	case errors.As(err, &pe):
		return &journal.Failure{Kind: "panic", Message: pe.Value, Stack: pe.Stack}
	case errors.As(err, &te):
		return &journal.Failure{Kind: "terminated", Message: te.Reason}
	case errors.As(err, &app) && app == err:
		return &journal.Failure{Kind: "application", Message: app.msg, Type: app.typ, NonRetryable: app.nonRetryable, Details: app.details, Cause: toFailure(app.cause)}
	case errors.As(err, &to) && to == err:
		return &journal.Failure{Kind: "timeout", Message: to.Error(), Timeout: to.Kind, Cause: toFailure(to.Cause)}
	case errors.Is(err, context.Canceled):
		return &journal.Failure{Kind: "canceled", Message: err.Error()}
	}
	f := &journal.Failure{Kind: "application", Message: err.Error(), Type: errTypeName(err)}
	if c := errors.Unwrap(err); c != nil {
		f.Cause = toFailure(c)
	}
	return f
}

// fromFailure turns journal data back into an error.
func fromFailure(f *journal.Failure) error {
	if f == nil {
		return nil
	}
	switch f.Kind {
	case "canceled":
		return &CanceledError{Message: trimCanceled(f.Message)}
	case "timeout":
		return &TimeoutError{Kind: f.Timeout, Cause: fromFailure(f.Cause)}
	case "panic":
		return &PanicError{Value: f.Message, Stack: f.Stack}
	case "terminated":
		return &TerminatedError{Reason: f.Message}
	case "nondeterminism":
		nd := &NonDeterminismError{}
		if json.Unmarshal(f.Details, nd) == nil {
			return nd
		}
		return &NonDeterminismError{Journal: f.Type, Code: f.Message}
	}
	e := &ApplicationError{msg: f.Message, typ: f.Type, nonRetryable: f.NonRetryable, details: f.Details}
	if f.Cause != nil {
		e.cause = fromFailure(f.Cause)
		// The message of a wrapping error already contains its cause's.
		if s := ": " + e.cause.Error(); len(e.msg) > len(s) && e.msg[len(e.msg)-len(s):] == s {
			e.msg = e.msg[:len(e.msg)-len(s)]
		}
	}
	return e
}

func trimCanceled(msg string) string {
	if msg == context.Canceled.Error() {
		return ""
	}
	return msg
}

func mustJSON(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// ContinueAsNewError is returned by ContinueAsNew; a workflow returns it to
// end its run and start the next one with a fresh journal.
type ContinueAsNewError struct {
	Workflow string
	args     json.RawMessage
}

func (e *ContinueAsNewError) Error() string { return "continue as new: " + e.Workflow }
