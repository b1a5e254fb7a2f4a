package machine

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/durablego/toolkit/internal/journal"
)

// TestDivergenceTextTellsSidesApart: when the two sides of a divergence
// render alike, the message adds what differs (arguments, target).
func TestDivergenceTextTellsSidesApart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		expected      Command
		found         Command
		journal, code string
	}{
		{"SignalArgument",
			Command{Kind: journal.ExternalSignaled, Name: "s", WorkflowID: "o", Args: json.RawMessage(`1`)},
			Command{Kind: journal.ExternalSignaled, Name: "s", WorkflowID: "o", Args: json.RawMessage(`2`)},
			`SignalExternal o "s" with 1`, `SignalExternal o "s" with 2`},
		{"ChildArguments",
			Command{Kind: journal.ChildStarted, Name: "C", WorkflowID: "c", Args: json.RawMessage(`["a"]`)},
			Command{Kind: journal.ChildStarted, Name: "C", WorkflowID: "c", Args: json.RawMessage(`["b"]`)},
			`Child C with ("a")`, `Child C with ("b")`},
		{"ChildWorkflowID",
			Command{Kind: journal.ChildStarted, Name: "C", WorkflowID: "c-1"},
			Command{Kind: journal.ChildStarted, Name: "C", WorkflowID: "c-2"},
			`Child C (workflow ID "c-1")`, `Child C (workflow ID "c-2")`},
		{"ContinueAsNewArguments",
			Command{Kind: journal.ContinuedAsNew, Name: "W", Args: json.RawMessage(`[1]`)},
			Command{Kind: journal.ContinuedAsNew, Name: "W", Args: json.RawMessage(`[2]`)},
			`ContinueAsNew W with (1)`, `ContinueAsNew W with (2)`},
		{"OtherNamesNeedNoDetail",
			Command{Kind: journal.ChildStarted, Name: "C", Args: json.RawMessage(`["a"]`)},
			Command{Kind: journal.ChildStarted, Name: "D", Args: json.RawMessage(`["b"]`)},
			`Child C`, `Child D`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d := &Divergence{Kind: KindMismatch, Seq: 3, Expected: &tc.expected, Found: &tc.found}
			require.Equal(t, tc.journal, d.JournalText())
			require.Equal(t, tc.code, d.CodeText())
		})
	}
}
