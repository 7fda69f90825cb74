//go:build linux || darwin || freebsd

package resource

import (
	"fmt"
	"syscall"
)

// freeSpace returns the bytes available to unprivileged users on the
// filesystem of dir.
func freeSpace(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, fmt.Errorf("free space of %s: %w", dir, err)
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
