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
			if choose := in.e.cfg.versionChooser; choose != nil {
				v = choose(changeID, minSupported, maxSupported)
			}
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

// VersionChooser picks the version a run gets when it reaches a change
// point for the first time (not in replay, which takes the journaled
// one). The choice is journaled like any other.
type VersionChooser func(changeID string, minSupported, maxSupported int) int

// WithVersionChooser replaces Version's live choice (maxSupported) with
// choose's. Test environments use it for Temporal's OnGetVersion, to run a
// workflow down an older version's path; production code has no reason to.
func WithVersionChooser(choose VersionChooser) Option {
	return optionFunc(func(c *config) { c.versionChooser = choose })
}
