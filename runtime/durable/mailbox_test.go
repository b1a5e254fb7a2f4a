package durable

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestMailbox: the first post to an idle mailbox makes its poster start
// the drainer; a drain ends only when nothing is queued; a closed mailbox
// takes nothing and hands back what was left.
func TestMailbox(t *testing.T) {
	t.Parallel()
	var b mailbox
	taken, start := b.put(1)
	require.True(t, taken)
	require.True(t, start, "nobody drains an idle mailbox")
	taken, start = b.put(2)
	require.True(t, taken)
	require.False(t, start, "a drainer is on its way")
	msgs, gone := b.next()
	require.Equal(t, []any{1, 2}, msgs)
	require.False(t, gone)
	b.put(3)
	require.False(t, b.release(), "a message came in: the drain goes on")
	msgs, _ = b.next()
	require.Equal(t, []any{3}, msgs)
	require.True(t, b.release())
	open, draining := b.state()
	require.True(t, open)
	require.False(t, draining)

	b.hold()
	_, start = b.put(4)
	require.False(t, start, "a held mailbox is drained by its holder")
	wasOpen, draining := b.close()
	require.True(t, wasOpen)
	require.True(t, draining)
	taken, _ = b.put(5)
	require.False(t, taken, "a closed mailbox takes nothing")
	msgs, gone = b.next()
	require.True(t, gone)
	require.Equal(t, []any{4}, msgs, "what was left goes back to the drainer")
	wasOpen, _ = b.close()
	require.False(t, wasOpen)
	require.True(t, b.isGone())
}
