package durable

import (
	"context"
	"fmt"

	"github.com/durablego/toolkit/internal/journal"
)

// DefaultVersion is the version Version returns for runs that reached the
// change point before the code had a Version call there.
const DefaultVersion = -1

// Version guards a change to workflow code, as Temporal's GetVersion does.
// A run that reaches changeID for the first time gets maxSupported, and
// the choice is journaled; a replayed run gets what it got then, or
// DefaultVersion if it passed that point before the Version call existed.
// A version outside [minSupported, maxSupported] stops the run as stuck:
// the code no longer supports the path that run took.
func Version(ctx context.Context, changeID string, minSupported, maxSupported int) int {
	in := instanceOf(ctx, "Version")
	v, ok := in.versions[changeID]
	if !ok {
		switch {
		case in.replaying():
			v = DefaultVersion
			ev := in.journal[in.pos]
			if ev.Kind == journal.VersionMarker {
				if d, err := journal.Decode(ev.Kind, ev.Data); err == nil && d.(*journal.VersionData).ChangeID == changeID {
					v = d.(*journal.VersionData).Version
					in.pos++
				}
			}
		default:
			v = maxSupported
			in.command(journal.VersionMarker, &journal.VersionData{ChangeID: changeID, Version: v}, "Version")
		}
		in.versions[changeID] = v
	}
	if v < minSupported || v > maxSupported {
		var seq int64
		if in.pos > 0 && in.pos <= len(in.journal) {
			seq = in.journal[in.pos-1].Seq
		} else {
			seq = in.journalLen + int64(len(in.pending))
		}
		in.stuck(&NonDeterminismError{
			RunID:   in.runID,
			Seq:     seq,
			Journal: fmt.Sprintf("Version(%q) = %d", changeID, v),
			Code:    fmt.Sprintf("Version(%q) supports [%d, %d]", changeID, minSupported, maxSupported),
		})
		in.parkForever()
	}
	return v
}
