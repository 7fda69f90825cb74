package types_test

import (
	"fmt"
	"testing"

	"github.com/stratos-net/stratos/x/register/types"
)

// DESIGN §7: "more than 2/3 of the active set, computed exactly (3 of 4,
// never 2 of 4)"; DESIGN §5.2 uses the same rule for admitting and
// removing authorities.
func TestSuperMajority(t *testing.T) {
	for _, tc := range []struct {
		n, total int
		ok       bool
	}{
		{1, 1, true}, {0, 1, false},
		{2, 2, true}, {1, 2, false},
		{3, 3, true}, {2, 3, false},
		{3, 4, true}, {2, 4, false},
		{4, 5, true}, {3, 5, false},
		{5, 6, true}, {4, 6, false},
		{5, 7, true}, {4, 7, false},
		{7, 10, true}, {6, 9, false}, {7, 9, true},
		{0, 0, false},
	} {
		t.Run(fmt.Sprintf("%d_of_%d", tc.n, tc.total), func(t *testing.T) {
			if got := types.SuperMajority(tc.n, tc.total); got != tc.ok {
				t.Fatalf("SuperMajority(%d, %d) = %v, want %v", tc.n, tc.total, got, tc.ok)
			}
		})
	}
	for total := 0; total <= 300; total++ {
		need := types.SuperMajorityNeeded(total)
		if total > 0 && (!types.SuperMajority(need, total) || types.SuperMajority(need-1, total)) {
			t.Fatalf("SuperMajorityNeeded(%d) = %d is not the smallest more than 2/3", total, need)
		}
	}
}
