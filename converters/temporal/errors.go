package temporal

import "github.com/dave/dst"

// errorsRule converts Temporal's error constructors and types:
// temporal.NewApplicationError, NewNonRetryableApplicationError,
// *temporal.ApplicationError, *temporal.TimeoutError, *temporal.CanceledError
// temporal.IsCanceledError (errors.Is(err, context.Canceled)) and
// temporal.IsTimeoutError (durable.IsTimeoutError); the
// client's *serviceerror.NotFound and *serviceerror.WorkflowExecutionAlreadyStarted
// are *durable.NotFoundError and *durable.AlreadyStartedError, the types of
// durable.ErrNotFound and ErrAlreadyStarted, so errors.As checks keep working.
var errorsRule = rule{
	Name: "errors",
	Doc:  "application errors and error checks to durable and errors.Is",
	Run: func(p *pass) {
		dst.Inspect(p.file, func(n dst.Node) bool {
			call, name := callOf(n, pkgTemporal)
			if call == nil || name != "IsCanceledError" || len(call.Args) != 1 || p.marked(call) {
				return true
			}
			call.Fun = &dst.Ident{Path: "errors", Name: "Is"}
			call.Args = append(call.Args, &dst.Ident{Path: "context", Name: "Canceled"})
			p.changed()
			return true
		})
		p.renameIdents(pkgTemporal, map[string]target{
			"NewApplicationError":             {DurablePath, "NewApplicationError"},
			"NewNonRetryableApplicationError": {DurablePath, "NewNonRetryableApplicationError"},
			"NewApplicationErrorWithCause":    {DurablePath, "NewApplicationErrorWithCause"},
			"ApplicationError":                {DurablePath, "ApplicationError"},
			"TimeoutError":                    {DurablePath, "TimeoutError"},
			"CanceledError":                   {DurablePath, "CanceledError"},
			"PanicError":                      {DurablePath, "PanicError"},
			"TerminatedError":                 {DurablePath, "TerminatedError"},
			"NewCanceledError":                {DurablePath, "NewCanceledError"},
			"ErrNoData":                       {DurablePath, "ErrNoData"},
			"IsTimeoutError":                  {DurablePath, "IsTimeoutError"},
		})
		p.renameIdents(pkgEnums, map[string]target{
			"TIMEOUT_TYPE_START_TO_CLOSE":    {DurablePath, "TimeoutStartToClose"},
			"TIMEOUT_TYPE_SCHEDULE_TO_START": {DurablePath, "TimeoutScheduleToStart"},
			"TIMEOUT_TYPE_SCHEDULE_TO_CLOSE": {DurablePath, "TimeoutScheduleToClose"},
			"TIMEOUT_TYPE_HEARTBEAT":         {DurablePath, "TimeoutHeartbeat"},
		})
		p.renameIdents(pkgServiceError, map[string]target{
			"NotFound":                        {DurablePath, "NotFoundError"},
			"NewNotFound":                     {DurablePath, "NewNotFoundError"},
			"WorkflowExecutionAlreadyStarted": {DurablePath, "AlreadyStartedError"},
		})
	},
}

// pkgServiceError holds the Temporal service's error types.
const pkgServiceError = "go.temporal.io/api/serviceerror"
