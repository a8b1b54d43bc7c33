package store

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/fxamacker/cbor/v2"
	bolt "go.etcd.io/bbolt"
)

// journal is the store's write-ahead log for Queue. A bbolt commit costs
// a rewrite of every page it touches and two disk syncs; a batch Queue
// takes is durable instead once its record is appended here and synced
// (one write, one fdatasync), and reaches the B+tree with a later
// transaction that writes it with whatever else is queued by then
// (commitGroup; at most checkpointEvery later). Each record has a
// sequence number, and the transaction that writes batches of the journal
// also stores the highest it wrote (meta key journalKey): replay at Open
// skips what the tree already holds, so a crash between a commit and the
// journal's emptying cannot put back an older state over a newer one, and
// applies the rest by sequence number, not in the order the appends
// landed in (replayJournal).
// The journal is emptied once the tree holds all of it: after any
// transaction that leaves it so (emptyJournal), or by the checkpoint.
//
// A record is a uint32 big-endian payload length, the payload's CRC-32C
// (Castagnoli), and the payload: the CBOR of journalRec. A crash during an
// append leaves a torn last record, which was never acknowledged: replay
// stops there.
//
// Emptied, the file keeps its length and its old records: the next
// append writes from the start over them, and replay skips any it still
// reaches by sequence number, as the tree holds them all. A new record
// shorter than the old one it covers ends inside that one's payload,
// where replay stops: at a header whose length or CRC does not fit
// (TestJournalShortRecordOverLong). The file is also filled to
// journalPrealloc at Open (with 0xFF bytes, which read as a torn
// record: a length past the end of the file). So an append
// neither grows the file nor allocates a block, and its fdatasync
// writes the record alone; one that must also record a new length
// waits for a commit of the filesystem's own journal, shared with every
// writer on the disk. BenchmarkJournalSync: 161 against 217 µs per sync
// (384 for a lone record after a cut); BenchmarkApply/publish-queued: 172
// against 221 µs per acknowledged batch (docs/BENCHMARKS.md, "the
// journal keeps its length").
//
// Who can fill it: only what the node itself queues (its own publishes,
// offers it received, closures and deals), and the transaction that
// writes its records (the node's flush, or the checkpoint within
// checkpointEvery) empties it, as does the checkpoint at once when it
// holds journalMax bytes.
//
// Concurrent appends share syncs (group commit): each writes its record
// under mu, and one fdatasync covers every record written before it
// started. An append waits for at most the sync in flight and the one
// after it, where one sync per record would queue it behind every record
// ahead of it (a vendor storing its offers to a burst of intents, each
// before it sends it). A failed sync breaks the journal: what its records hold may be
// lost whatever a later sync says, so every append from then on fails,
// and Queue writes its batches into the tree instead (Bolt.log).
type journal struct {
	mu     sync.Mutex
	f      *os.File
	syncer *syncer // the appends' fdatasync, off the Go scheduler's Ps (fdatasync_linux.go)
	size   int64   // where the next record goes: the end of those appended since the journal was emptied
	last   uint64  // highest sequence number appended

	synced  sync.Cond // signalled when a sync ends; on mu
	syncing bool      // a sync is in flight
	written uint64    // records written since Open
	durable uint64    // how many of those a finished sync covers
	broken  error     // the failed sync, once one has
}

// journalRec is one record's payload.
type journalRec struct {
	Seq   uint64 `cbor:"1,keyasint"`
	Batch Batch  `cbor:"2,keyasint"`
}

// journalPath is the journal's file, beside the store's.
func journalPath(storePath string) string { return storePath + "-journal" }

// journalMax is the size at which an append brings the next checkpoint
// forward.
const journalMax = 1 << 20

// journalPrealloc is the length Open gives the journal: about 50
// publishes' records (a checkpoint's worth at one publish per 80 ms)
// before an append grows the file, and it keeps the longer length until
// Close.
const journalPrealloc = 64 << 10

var (
	journalKey   = []byte("journal") // meta: highest journal sequence number in the tree
	journalTable = crc32.MakeTable(crc32.Castagnoli)
	// Times keep their nanoseconds: records hold them as stamps.
	journalEnc, _ = cbor.EncOptions{Time: cbor.TimeRFC3339Nano}.EncMode()
)

// openJournal opens (or creates) the journal at path and returns it with
// the records it holds, in file order, up to the first torn one.
func openJournal(path string) (*journal, []journalRec, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, nil, fmt.Errorf("open journal: %w", err)
	}
	// It holds what the store does, own intents' private keys among it.
	if err := restrictMode(path); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("journal: %w", err)
	}
	recs, good, err := readJournal(f)
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	// A new file's name must survive a crash as its records do.
	if err := syncDir(filepath.Dir(path)); err != nil {
		f.Close()
		return nil, nil, err
	}
	j := &journal{f: f, size: good, syncer: newSyncer()}
	j.synced.L = &j.mu
	for _, r := range recs {
		j.last = max(j.last, r.Seq) // old records follow newer ones
	}
	return j, recs, nil
}

// readJournal reads f's records from the start, and returns them with the
// length of the file they fill.
func readJournal(f *os.File) (recs []journalRec, good int64, err error) {
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, fmt.Errorf("read journal: %w", err)
	}
	for len(data) >= 8 {
		n, sum := binary.BigEndian.Uint32(data), binary.BigEndian.Uint32(data[4:])
		if n == 0 || uint64(n) > uint64(len(data)-8) || crc32.Checksum(data[8:8+n], journalTable) != sum {
			// Torn (never acknowledged), or the rest of an old record
			// the tree holds. A real record is never empty: zeros there
			// (an all-zero ID in an old payload) read as length 0 with
			// the CRC of nothing, 0.
			break
		}
		var r journalRec
		if err := cbor.Unmarshal(data[8:8+n], &r); err != nil {
			return nil, 0, fmt.Errorf("journal record %d: %w: %w", len(recs), ErrCorrupt, err)
		}
		recs = append(recs, r)
		data = data[8+n:]
		good += int64(8 + n)
	}
	return recs, good, nil
}

// append writes b as record seq and returns once a sync covers it. It
// reports whether the journal has reached journalMax.
func (j *journal) append(seq uint64, b Batch) (full bool, err error) {
	payload, err := journalEnc.Marshal(journalRec{Seq: seq, Batch: b})
	if err != nil {
		return false, fmt.Errorf("journal: encode batch: %w", err)
	}
	rec := binary.BigEndian.AppendUint32(nil, uint32(len(payload)))
	rec = binary.BigEndian.AppendUint32(rec, crc32.Checksum(payload, journalTable))
	rec = append(rec, payload...)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return false, fmt.Errorf("journal: %w", ErrClosed)
	}
	if j.broken != nil {
		return false, j.broken
	}
	if _, err := j.f.WriteAt(rec, j.size); err != nil {
		return false, fmt.Errorf("journal: write: %w", err)
	}
	j.size += int64(len(rec))
	j.last = max(j.last, seq)
	j.written++
	if err := j.sync(j.written); err != nil {
		return false, err
	}
	return j.size >= journalMax, nil
}

// sync returns once the first n records written are durable, leading a
// sync of all those written so far if none is in flight, or waiting for
// the one in flight (whose records may not include the n-th); j.mu is
// held, and released while the sync runs.
func (j *journal) sync(n uint64) error {
	for j.durable < n {
		if j.broken != nil {
			return j.broken
		}
		if j.syncing {
			j.synced.Wait()
			continue
		}
		j.syncing = true
		upto, f := j.written, j.f
		j.mu.Unlock()
		err := j.syncer.fdatasync(f)
		j.mu.Lock()
		j.syncing = false
		if err != nil {
			j.broken = fmt.Errorf("journal: sync: %w", err)
		} else {
			j.durable = upto
		}
		j.synced.Broadcast()
	}
	return nil
}

// empty makes the next append write from the start of the file, if the
// tree holds every record appended (written, the highest sequence number
// the tree holds); j.mu is held. No write and no sync: the records left
// in the file are skipped by replay (the tree holds them), and an append
// overwrites them.
func (j *journal) empty(written uint64) {
	if j.last <= written {
		j.size = 0
	}
}

// truncate cuts the file to nothing if the tree holds every record in it,
// for Close: the next Open, perhaps of an older build, finds the file
// empty. j.mu is held. No sync: if the truncation is lost, replay skips
// what it finds (journalKey).
func (j *journal) truncate(written uint64) error {
	if j.f == nil || j.last > written {
		return nil
	}
	if err := j.f.Truncate(0); err != nil {
		return fmt.Errorf("journal: truncate: %w", err)
	}
	j.size = 0
	return nil
}

// prealloc fills the file to journalPrealloc, after its last byte, and
// syncs it once; j.mu is held.
func (j *journal) prealloc() error {
	fi, err := j.f.Stat()
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if fi.Size() >= journalPrealloc {
		return nil
	}
	fill := bytes.Repeat([]byte{0xFF}, int(journalPrealloc-fi.Size()))
	if _, err := j.f.WriteAt(fill, fi.Size()); err != nil {
		return fmt.Errorf("journal: fill: %w", err)
	}
	if err := fdatasync(j.f); err != nil {
		return fmt.Errorf("journal: sync fill: %w", err)
	}
	return nil
}

func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := errors.Join(j.f.Close(), j.syncer.close())
	j.f = nil
	return err
}

// replayJournal writes into the tree the records it does not hold yet, in
// sequence order, each in its own transaction with the sequence number,
// and returns the highest sequence number seen. Not in file order: each
// Queue appends from a goroutine of its own after encoding its batch, so
// a later record can reach the file first (TestJournalAppendsOutOfOrder),
// and sequence order is the order Queue took them in, which the tree
// writes them in too. A record the store refuses
// (ErrInvalid) is skipped, as Apply would have refused it: Queue checks
// every record before it journals it, so only a build with other rules
// can have written one.
func replayJournal(db *bolt.DB, recs []journalRec) (uint64, error) {
	var held uint64
	if err := db.View(func(tx *bolt.Tx) error {
		held = journalSeq(tx)
		return nil
	}); err != nil {
		return 0, err
	}
	slices.SortStableFunc(recs, func(a, b journalRec) int { return cmp.Compare(a.Seq, b.Seq) })
	last := held
	for _, r := range recs {
		last = max(last, r.Seq)
		if r.Seq <= held {
			continue
		}
		err := db.Update(func(tx *bolt.Tx) error {
			if err := applyBatch(tx, r.Batch); err != nil {
				return err
			}
			return setJournalSeq(tx, r.Seq)
		})
		if errors.Is(err, ErrInvalid) {
			if err := db.Update(func(tx *bolt.Tx) error { return setJournalSeq(tx, r.Seq) }); err != nil {
				return 0, fmt.Errorf("journal record %d: %w", r.Seq, err)
			}
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("journal record %d: %w", r.Seq, err)
		}
	}
	return last, nil
}

// journalSeq is the highest journal sequence number the tree holds.
func journalSeq(tx *bolt.Tx) uint64 {
	if v := tx.Bucket(bucketMeta).Get(journalKey); len(v) == 8 {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}

func setJournalSeq(tx *bolt.Tx, seq uint64) error {
	if seq <= journalSeq(tx) {
		return nil
	}
	if err := tx.Bucket(bucketMeta).Put(journalKey, binary.BigEndian.AppendUint64(nil, seq)); err != nil {
		return fmt.Errorf("write journal position: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}
