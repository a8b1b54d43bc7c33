package store

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fdatasync syncs f's data, and its size, without its other metadata.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

// syncer runs the journal's fdatasync without holding a P of the Go
// scheduler while the disk works. A goroutine in a blocking system call
// keeps its P until sysmon takes it back, after 20 µs to 10 ms depending
// on how idle sysmon has found the process; an fdatasync on a shared disk
// takes 0.2 to 15 ms (docs/BENCHMARKS.md), and meanwhile the node's gossip
// (and, in a benchmark, every node's) waits for the P it holds. So the
// sync is submitted through Linux AIO (IOCB_CMD_FDSYNC, Linux 4.18 on),
// which runs it on a kernel worker and signals an eventfd when it is done;
// the eventfd is read through the runtime's network poller, where a
// waiting goroutine holds no P. Where AIO is missing (io_setup fails) or
// refuses the file, it falls back to fdatasync(2). One sync is in flight
// at a time (the journal's group commit leads one), and mu guards it all
// the same.
type syncer struct {
	mu   sync.Mutex
	ctx  uintptr  // the AIO context; 0 after close or when AIO is missing
	efd  int      // the eventfd the kernel signals, in non-blocking mode
	done *os.File // efd, read through the poller (not through Fd, which may make it blocking)
}

// Linux AIO's ABI (include/uapi/linux/aio_abi.h).
const (
	iocbCmdFdsync = 3
	iocbFlagResfd = 1
)

// iocb is struct iocb (on a big-endian machine aio_key and aio_rw_flags
// swap places; both are zero here).
type iocb struct {
	data     uint64
	key      uint32
	rwFlags  int32
	opcode   uint16
	reqprio  int16
	fildes   uint32
	buf      uint64
	nbytes   uint64
	offset   int64
	reserved uint64
	flags    uint32
	resfd    uint32
}

// ioEvent is struct io_event.
type ioEvent struct {
	data, obj uint64
	res, res2 int64
}

// newSyncer sets up an AIO context and its eventfd; without them its
// syncs are plain fdatasync calls.
func newSyncer() *syncer {
	s := &syncer{}
	var ctx uintptr
	if _, _, e := syscall.Syscall(syscall.SYS_IO_SETUP, 1, uintptr(unsafe.Pointer(&ctx)), 0); e != 0 {
		return s
	}
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		syscall.Syscall(syscall.SYS_IO_DESTROY, ctx, 0, 0)
		return s
	}
	s.ctx, s.efd, s.done = ctx, fd, os.NewFile(uintptr(fd), "aio-eventfd")
	return s
}

// fdatasync syncs f's data as the function of that name does.
func (s *syncer) fdatasync(f *os.File) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == 0 {
		return fdatasync(f)
	}
	err := s.submit(f)
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.EOPNOTSUPP) {
		// AIO cannot sync this file (a filesystem without fsync for
		// it): not an I/O error, so the plain call decides.
		return fdatasync(f)
	}
	return err
}

// submit queues the sync of f, waits for the eventfd, and reaps the
// sync's result; s.mu is held.
func (s *syncer) submit(f *os.File) error {
	cb := iocb{opcode: iocbCmdFdsync, fildes: uint32(f.Fd()), flags: iocbFlagResfd, resfd: uint32(s.efd)}
	cbs := [1]*iocb{&cb}
	if _, _, e := syscall.Syscall(syscall.SYS_IO_SUBMIT, s.ctx, 1, uintptr(unsafe.Pointer(&cbs[0]))); e != 0 {
		return e
	}
	var ev [1]ioEvent
	for {
		var count [8]byte
		if _, err := s.done.Read(count[:]); err != nil {
			return fmt.Errorf("wait for aio sync: %w", err)
		}
		var now syscall.Timespec // zero: do not block, the eventfd said it is done
		n, _, e := syscall.Syscall6(syscall.SYS_IO_GETEVENTS, s.ctx, 1, 1, uintptr(unsafe.Pointer(&ev[0])), uintptr(unsafe.Pointer(&now)), 0)
		if e != 0 {
			return fmt.Errorf("reap aio sync: %w", e)
		}
		if n == 1 {
			break
		}
	}
	if ev[0].res < 0 {
		return syscall.Errno(-ev[0].res)
	}
	return nil
}

// close releases the AIO context and the eventfd; it is idempotent.
func (s *syncer) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx == 0 {
		return nil
	}
	syscall.Syscall(syscall.SYS_IO_DESTROY, s.ctx, 0, 0)
	s.ctx = 0
	return s.done.Close()
}
