package header

import (
	"hash/maphash"
	"math/bits"
)

// The join table's bounds, for its tests.
const (
	JoinSlots  = joinSlots
	MaxJoinLen = maxJoinLen
)

// JoinEntries returns how many entries the join table holds and the length
// of its longest.
func JoinEntries() (n, longest int) {
	for i := range joins.slots {
		if p := joins.slots[i].Load(); p != nil {
			n++
			longest = max(longest, len(*p))
		}
	}
	return n, longest
}

// Join is the join table's join.
func Join(a, b string) string { return joins.join(a, b) }

// PlantJoin stores s in both entries of the set the pair (a, b) maps to.
func PlantJoin(a, b, s string) {
	hash := maphash.String(joins.seed, a) ^ bits.RotateLeft64(maphash.String(joins.seed, b), 29)
	i := int(hash>>1) & (joinSlots - 2)
	joins.slots[i].Store(&s)
	joins.slots[i+1].Store(&s)
}
