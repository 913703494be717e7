package header

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
