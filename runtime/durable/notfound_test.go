package durable_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/runtime/durable"
)

// TestNewNotFoundError: the error code makes with NewNotFoundError is the
// one lookups return: errors.As and errors.Is(err, ErrNotFound) find it.
func TestNewNotFoundError(t *testing.T) {
	err := durable.NewNotFoundError("workflow not found")
	var nf *durable.NotFoundError
	require.True(t, errors.As(err, &nf))
	require.ErrorIs(t, err, durable.ErrNotFound)
	require.Contains(t, err.Error(), "workflow not found")
}
