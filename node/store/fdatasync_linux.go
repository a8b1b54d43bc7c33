package store

import (
	"os"
	"syscall"
)

// fdatasync syncs f's data, and its size, without its other metadata.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }
