package store

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestSyncerAIO checks that the journal's syncs go through Linux AIO on
// this machine, that a sync's error comes back instead of a wait for a
// completion that never comes, and that a closed syncer still syncs.
func TestSyncerAIO(t *testing.T) {
	s := newSyncer()
	if s.ctx == 0 {
		t.Fatal("io_setup failed: the journal's fdatasync would hold a P of the Go scheduler while the disk works (is the kernel built without CONFIG_AIO, or fs.aio-max-nr used up?)")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i := range 3 {
		if _, err := f.WriteAt([]byte("record"), int64(i)*6); err != nil {
			t.Fatal(err)
		}
		if err := s.fdatasync(f); err != nil {
			t.Fatalf("sync %d: %v", i, err)
		}
	}
	// Read through the poller, the wait holds no P; a blocking eventfd
	// would tie up the P as fdatasync(2) does.
	flags, err := unix.FcntlInt(uintptr(s.efd), unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if flags&unix.O_NONBLOCK == 0 {
		t.Fatal("the eventfd is in blocking mode after the syncs: the wait for a sync holds a P")
	}

	closed, err := os.Create(filepath.Join(t.TempDir(), "closed"))
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if err := s.fdatasync(closed); !errors.Is(err, syscall.EBADF) {
		t.Fatalf("sync of a closed file: %v, want EBADF", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if err := s.fdatasync(w); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("sync of a pipe: %v, want EINVAL", err)
	}
	if err := s.fdatasync(f); err != nil {
		t.Fatalf("sync after failed ones: %v", err)
	}

	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if err := s.close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if err := s.fdatasync(f); err != nil {
		t.Fatalf("sync after close (plain fdatasync): %v", err)
	}
}
