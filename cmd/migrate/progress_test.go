package main

import (
	"bytes"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProgressShowsNothingWhenNotATerminal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newProgress(&buf, "loading packages")
	p.update(0, 3)
	p.update(3, 3)
	p.finish()
	require.Empty(t, buf.String())

	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	require.Nil(t, newProgress(w, "loading packages").bar, "a pipe is not a terminal")
}
