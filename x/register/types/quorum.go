package types

// The authorities decide by more than two thirds of them (DESIGN §5.2,
// §7): a volume report counts the distinct active meta nodes that signed
// it, an admission the approvals of active meta nodes, a removal the votes
// of the active meta nodes other than the target. The rule is computed in
// integers, 3·n > 2·total, so no rounding can let 2 of 4 or 4 of 6 pass:
//
//	total  1 2 3 4 5 6 7
//	needed 1 2 3 3 4 5 5

// SuperMajority reports whether n of total is more than two thirds of
// total. Zero of zero is not.
func SuperMajority(n, total int) bool {
	return n > 0 && 3*n > 2*total
}

// SuperMajorityNeeded is the smallest n with SuperMajority(n, total):
// floor(2·total/3) + 1, or 1 for an empty set.
func SuperMajorityNeeded(total int) int {
	return 2*total/3 + 1
}
