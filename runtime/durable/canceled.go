package durable

import "fmt"

// NewCanceledError returns the error a workflow or activity returns to say
// it ended because it was cancelled, as Temporal's
// temporal.NewCanceledError does. Details, when given, become its message.
// It matches context.Canceled with errors.Is.
func NewCanceledError(details ...any) error {
	if len(details) == 0 {
		return &CanceledError{}
	}
	return &CanceledError{Message: fmt.Sprint(details...)}
}
