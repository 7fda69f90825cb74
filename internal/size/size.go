// Package size formats byte counts for people.
package size

import (
	"fmt"
	"strconv"
	"strings"
)

// Human formats n in binary units: 512 B, 1.5 GiB, 3 MiB.
func Human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	s := strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64)
	return strings.TrimSuffix(s, ".0") + " " + string("KMGTPE"[exp]) + "iB"
}
