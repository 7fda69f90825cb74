package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/stratos-net/stratos/internal/size"
)

// byteSize is a flag value such as 16MiB, 1GiB, 4096 or 4k.
type byteSize int64

var units = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"b", 1},
}

func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(t, 64)
	if err != nil || !(n >= 0 && n*float64(mult) <= 1<<62) { // also refuses NaN
		return 0, fmt.Errorf("bad size %q: want a number with an optional unit such as 4KiB, 16MiB, 1GiB", s)
	}
	return int64(n * float64(mult)), nil
}

func (b *byteSize) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func (b byteSize) String() string { return humanBytes(int64(b)) }
func (b byteSize) Type() string   { return "size" }

// humanBytes formats n in binary units: 1.5 GiB.
func humanBytes(n int64) string { return size.Human(n) }
