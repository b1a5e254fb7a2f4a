package durable

import (
	"cmp"
	"maps"
	"slices"
)

// DeterministicKeys returns the keys of m in sorted order
// (workflow.DeterministicKeys), for workflow code that ranges over a map:
// Go's map order is random, so a loop that calls activities or sends
// signals per key must go in a fixed order to replay the same way.
func DeterministicKeys[K cmp.Ordered, V any](m map[K]V) []K {
	return slices.Sorted(maps.Keys(m))
}
