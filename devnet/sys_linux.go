package devnet

import (
	"os"
	"syscall"
)

// childAttrs puts a node in its own process group, so a Ctrl-C at the
// terminal reaches only the supervisor (which stops nodes in order), and has
// the kernel stop it if the supervisor dies.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// lockFile takes an exclusive lock the kernel drops when the process dies.
func lockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }

// diskFree is the space available to unprivileged writers under dir.
func diskFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}
