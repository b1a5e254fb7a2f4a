package durable

import "errors"

// ErrNoData is Temporal's temporal.ErrNoData: the error its encoded values
// return when they hold no payload. A durable Value always holds one (a
// query or update handler that returns only an error gives null, which
// decodes as the zero value), so Get never returns it; code converted from
// Temporal that compares with it keeps compiling and means the same.
var ErrNoData = errors.New("durable: no data available")
