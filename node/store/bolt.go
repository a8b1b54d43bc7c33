package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// lockTimeout is how long Open waits for another process to release the
// file. bbolt would otherwise wait forever, and a second daemon on the same
// data dir would hang instead of saying why it cannot start.
const lockTimeout = time.Second

// fileMode is the store file's permission: it holds private per-intent keys.
const fileMode os.FileMode = 0o600

// initialMmapSize is the address space bbolt maps from the start. bbolt
// maps the file and, each time the file outgrows the mapping, copies every
// value a write transaction has touched out of the old mapping, unmaps it
// and maps a larger one (doubling up to 1 GiB), while readers and the
// writer wait: a relay's store grows with the intents it relays, so this
// happened every few seconds in the benchmark's first minutes, 2.8% of the
// process's CPU. It is address space, not memory: the file is not grown to
// it, pages are only read from disk when touched. 64 MiB holds about 7,800
// intents with 3 offers each (docs/RELIABILITY.md); beyond it bbolt grows
// the mapping as before. Only on 64-bit platforms, where address space is
// plentiful.
const initialMmapSize = 64 << 20

// Bolt is the Store kept in one bbolt file. It is safe for concurrent use.
type Bolt struct {
	path string
	// mu is read-held by every method for the whole of its transaction and
	// write-held by Close, so Close waits for work in flight and nothing
	// starts on a closed file.
	mu sync.RWMutex
	db *bolt.DB // nil once closed

	group   committer      // Apply's group commit
	journal *journal       // Queue's write-ahead log
	written atomic.Uint64  // the highest journal sequence number the tree holds
	logging sync.WaitGroup // Queue's appends
	kick    chan struct{}  // brings the next checkpoint forward
	stop    context.CancelFunc
	stopped sync.WaitGroup // the checkpoint loop
}

// checkpointEvery is how long at most a batch Queue or Behind took waits
// in the write queue (Queue's also in the journal) before a transaction
// writes it into the tree. Any transaction meanwhile takes it along (a
// node's write-behind flush comes every 3.2 to 4.8 seconds), so the
// checkpoint commits one of its own only for a batch that has waited that
// long: on a fixed tick it committed whatever was queued at the tick, and
// a node that published between its flush and the tick paid two commits
// (four disk syncs, each holding a P of the scheduler: bbolt's own) where
// the flush would have taken the batch along. A shorter wait would cost a
// transaction of its own more often, and a longer one more queued batches
// for reads to lay over (queuedView).
const checkpointEvery = 4 * time.Second

var _ Store = (*Bolt)(nil)

// Open opens the store at path, creating it (and its parent directory, mode
// 0700) if missing. The file is kept at mode 0600: an existing file with any
// other mode is changed to it. If another process has the store open, Open
// gives up after a second with ErrLocked. A file written by a newer
// intentcast is refused with ErrNewerSchema, one that is not a store with
// ErrCorrupt.
func Open(path string) (*Bolt, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("store: open %s: create parent directory: %w", path, err)
	}
	// Before opening: a file left readable by others is repaired before we
	// put more secrets in it, and one left unwritable becomes openable.
	if err := restrictMode(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	opts := &bolt.Options{Timeout: lockTimeout}
	if strconv.IntSize == 64 {
		opts.InitialMmapSize = initialMmapSize
	}
	db, err := bolt.Open(path, fileMode, opts)
	switch {
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("store: open %s: %w (gave up after %s; is another intentcast daemon using this data directory?)", path, ErrLocked, lockTimeout)
	case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
		return nil, fmt.Errorf("store: open %s: not a readable bbolt file: %w: %w", path, ErrCorrupt, err)
	case err != nil:
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	// After opening too: a new file got 0600 minus the umask, which a strict
	// umask can narrow to something we cannot write.
	if err := restrictMode(path); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	if err := db.Update(migrate); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Bolt{path: path, db: db, kick: make(chan struct{}, 1)}
	if err := s.openJournal(); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	ctx, stop := context.WithCancel(context.Background())
	s.stop = stop
	s.stopped.Go(func() { s.checkpoints(ctx) })
	return s, nil
}

// openJournal opens the journal beside the file and writes into the tree
// what it holds that the tree does not (a crash came before the
// checkpoint), then empties it.
func (s *Bolt) openJournal() error {
	j, recs, err := openJournal(journalPath(s.path))
	if err != nil {
		return err
	}
	last, err := replayJournal(s.db, recs)
	if err == nil {
		j.mu.Lock()
		j.empty(last)
		err = j.prealloc()
		j.mu.Unlock()
	}
	if err != nil {
		_ = j.close()
		return err
	}
	s.journal, s.group.seq = j, last
	s.written.Store(last)
	return nil
}

// checkpoints runs checkpoint when the oldest batch in the queue has
// waited checkpointEvery, or sooner when the journal or the queue fills,
// until ctx ends. It wakes at least every checkpointEvery.
func (s *Bolt) checkpoints(ctx context.Context) {
	t := time.NewTimer(checkpointEvery)
	defer t.Stop()
	for {
		kicked := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
			kicked = true
		}
		if wait := s.group.due(time.Now(), checkpointEvery); wait > 0 && !kicked {
			t.Reset(wait)
			continue
		}
		// A failure leaves the batches queued and the journal as it is:
		// the next round tries again, and wait already told each caller.
		_ = s.checkpoint()
		t.Reset(checkpointEvery)
	}
}

func (s *Bolt) kickCheckpoint() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// checkpoint writes into the tree what waits in the queue (Queue's and
// Behind's batches), and empties the journal. The first round runs while
// appends go on, so a Queue caller does not wait for a transaction; the
// journal is then held while a second round, only if an append came
// meanwhile, writes the rest: every record in the journal was queued
// before it was appended, so that round writes them all.
func (s *Bolt) checkpoint() error {
	if s.group.waiting() {
		if err := s.Apply(context.Background(), Batch{}); err != nil {
			return err
		}
	}
	s.journal.mu.Lock()
	defer s.journal.mu.Unlock()
	if s.journal.size == 0 {
		return nil
	}
	if s.journal.last > s.written.Load() {
		if err := s.Apply(context.Background(), Batch{}); err != nil {
			return err
		}
	}
	s.journal.empty(s.written.Load())
	return nil
}

// restrictMode sets the file at path to fileMode if it has any other mode.
func restrictMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file (mode %s)", path, fi.Mode())
	}
	if fi.Mode().Perm() == fileMode {
		return nil
	}
	if err := os.Chmod(path, fileMode); err != nil {
		return fmt.Errorf("restrict mode %s to %s: %w", fi.Mode().Perm(), fileMode, err)
	}
	return nil
}

// Close closes the file. Later calls return nil; other methods return
// ErrClosed.
func (s *Bolt) Close() error {
	s.stop()
	s.stopped.Wait()
	// What Queue and Behind took is written into the tree first, and the
	// journal emptied: the next Open, perhaps of an older build, finds it
	// all in the file.
	s.group.close()
	s.group.drain(s.writer(context.Background()))
	s.logging.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		return nil
	}
	s.journal.mu.Lock()
	err := s.journal.truncate(s.written.Load())
	s.journal.mu.Unlock()
	db := s.db
	s.db = nil
	return errors.Join(err, s.journal.close(), wrapClose(s.path, db.Close()))
}

func wrapClose(path string, err error) error {
	if err != nil {
		return fmt.Errorf("store: close %s: %w", path, err)
	}
	return nil
}

// view runs fn in a read transaction; op names the method in errors.
func (s *Bolt) view(ctx context.Context, op string, fn func(*bolt.Tx) error) error {
	return s.run(ctx, op, false, fn)
}

// update runs fn in a write transaction, which is fsynced before update
// returns nil; op names the method in errors.
func (s *Bolt) update(ctx context.Context, op string, fn func(*bolt.Tx) error) error {
	return s.run(ctx, op, true, fn)
}

func (s *Bolt) run(ctx context.Context, op string, write bool, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return fmt.Errorf("store: %s: %w", op, ErrClosed)
	}
	var err error
	if write {
		err = s.db.Update(fn)
	} else {
		err = s.db.View(fn)
	}
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	return nil
}
