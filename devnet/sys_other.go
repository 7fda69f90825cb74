//go:build !linux

package devnet

import (
	"os"
	"syscall"
)

// On systems other than Linux the devnet runs without the process-group,
// parent-death and file-lock protections: stopping it with Ctrl-C still
// stops every node, but a killed supervisor leaves its nodes running.
func childAttrs() *syscall.SysProcAttr { return nil }

func terminate(p *os.Process) error {
	if err := p.Signal(os.Interrupt); err != nil {
		return p.Kill()
	}
	return nil
}

func lockFile(*os.File) error { return nil }

// diskFree is unknown here: each node then offers the default of 64 GiB.
func diskFree(string) (uint64, error) { return 6 * (64 << 30), nil }
