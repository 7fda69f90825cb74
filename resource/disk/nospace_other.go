//go:build !unix

package disk

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/stratos-net/stratos/resource"
)

// classify marks a full disk as resource.ErrNoSpace.
func classify(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %w", resource.ErrNoSpace, err)
	}
	return err
}
