package durable

import (
	"context"

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
			v = in.m.Version(changeID, DefaultVersion)
		default:
			v = maxSupported
			in.command(journal.VersionMarker, &journal.VersionData{ChangeID: changeID, Version: v})
		}
		in.versions[changeID] = v
	}
	if div := in.m.CheckVersion(changeID, v, minSupported, maxSupported); div != nil {
		in.diverged(div)
		in.parkForever()
	}
	return v
}
