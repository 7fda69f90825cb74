//go:build !(linux || darwin || freebsd)

package resource

import "fmt"

func freeSpace(dir string) (uint64, error) {
	return 0, fmt.Errorf("%w: cannot measure the free space of %s here; set Capacity", ErrConfig, dir)
}
