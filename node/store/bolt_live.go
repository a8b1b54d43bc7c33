package store

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Live intents are the one kind of record keyed by time, not by ID: the key
// is stamp(Expires)|ID and there is no index. A relay stores every intent it
// relays, and what it asks of them afterwards goes by time (start lists the
// unexpired, Prune deletes the expired) or comes with the expiry (a
// tombstone carries its intent's). Keyed by ID, each put landed on a random
// leaf page and wrote an index key besides; keyed by expiry, most puts land
// near the end, where the last put left its pages (BenchmarkRelayFlush). An
// intent's ID is the hash of its signed bytes, which state its expiry, so
// the pair names one intent as the ID alone does.

// liveIntentRec is how a LiveIntent is stored; its expiry and ID are the key.
type liveIntentRec struct {
	Category string `cbor:"1,keyasint,omitempty"`
	Raw      []byte `cbor:"2,keyasint,omitempty"`
	// 3 held Expires in schema 2, before the expiry moved into the key.
	Received []byte `cbor:"4,keyasint"`
}

// liveFillPercent is how full bbolt packs the live bucket's pages when it
// splits them: 0.9 where its default, 0.5, suits random keys. Intents of
// the default lifetime arrive in about the order they expire, so most puts
// append, and half-full pages only double what a flush writes: 0.9 writes
// 42% fewer bytes per intent when lifetimes are alike and 10 to 13% more
// when they are random (BenchmarkRelayFlush, docs/BENCHMARKS.md).
const liveFillPercent = 0.9

// liveKeyLen is the size of a live intent's key: stamp(Expires)|ID.
const liveKeyLen = stampLen + len(ID{})

func liveKey(id ID, expires time.Time) []byte {
	return append(appendStamp(make([]byte, 0, liveKeyLen), expires), id[:]...)
}

func liveID(in LiveIntent) ID { return in.ID }

func encodeLiveIntent(in LiveIntent) ([]byte, error) {
	return marshalRec(liveIntentRec{Category: in.Category, Raw: in.Raw, Received: appendStamp(nil, in.Received)})
}

// decodeLiveIntent decodes the record v stored under key k; ErrCorrupt if
// either does not decode.
func decodeLiveIntent(k, v []byte) (LiveIntent, error) {
	if len(k) != liveKeyLen {
		return LiveIntent{}, fmt.Errorf("bucket %s: key %x is %d bytes, want %d: %w", bucketLive, k, len(k), liveKeyLen, ErrCorrupt)
	}
	id := ID(k[stampLen:])
	var f fields
	expires := f.stamp("Expires (in the key)", k[:stampLen])
	var r liveIntentRec
	f.fail("record", unmarshalRec(v, &r))
	in := LiveIntent{ID: id, Category: r.Category, Raw: r.Raw, Expires: expires, Received: f.stamp("Received", r.Received)}
	if f.err != nil {
		return LiveIntent{}, fmt.Errorf("%s in bucket %s: %w: %w", shortID(id), bucketLive, ErrCorrupt, f.err)
	}
	return in, nil
}

// putLive inserts or replaces in, unless it has a tombstone.
func putLive(tx *bolt.Tx, in LiveIntent) error {
	if tombstones.has(tx, in.ID) {
		return nil
	}
	return writeLive(tx, in)
}

func writeLive(tx *bolt.Tx, in LiveIntent) error {
	v, err := encodeLiveIntent(in)
	if err != nil {
		return fmt.Errorf("%s: %w", shortID(in.ID), err)
	}
	b := tx.Bucket(bucketLive)
	// Most puts append (liveFillPercent); bbolt reads the setting per
	// handle, not from the file.
	b.FillPercent = liveFillPercent
	if err := b.Put(liveKey(in.ID, in.Expires), v); err != nil {
		return fmt.Errorf("%s: write to bucket %s: %w", shortID(in.ID), bucketLive, err)
	}
	return nil
}

// removeLive deletes the live intent with that ID and expiry, if any.
func removeLive(tx *bolt.Tx, id ID, expires time.Time) error {
	if err := tx.Bucket(bucketLive).Delete(liveKey(id, expires)); err != nil {
		return fmt.Errorf("%s: delete from bucket %s: %w", shortID(id), bucketLive, err)
	}
	return nil
}

// unexpiredLive returns the live intents that expire at or after now, in
// expiry order: one Seek past the expired ones.
func unexpiredLive(tx *bolt.Tx, now time.Time) ([]LiveIntent, error) {
	var out []LiveIntent
	c := tx.Bucket(bucketLive).Cursor()
	for k, v := c.Seek(appendStamp(nil, now)); k != nil; k, v = c.Next() {
		in, err := decodeLiveIntent(k, v)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

// pruneLive deletes the live intents whose key sorts before limit (those
// that expired before the time in it, damaged ones included: only the key
// is read) and returns how many it deleted.
func pruneLive(tx *bolt.Tx, limit []byte) (int, error) {
	b := tx.Bucket(bucketLive)
	keys := keysBefore(b, limit)
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("bucket %s: delete %x: %w", bucketLive, k, err)
		}
	}
	return len(keys), nil
}

// PutLiveIntent inserts or replaces an intent seen on the network, unless
// it has a tombstone: the check and the write share one transaction, so a
// cancel that lands concurrently cannot be overtaken.
func (s *Bolt) PutLiveIntent(ctx context.Context, in LiveIntent) error {
	return s.update(ctx, "put live intent", func(tx *bolt.Tx) error { return putLive(tx, in) })
}

// LiveIntents returns the live intents that expire at or after now, oldest
// Received first.
func (s *Bolt) LiveIntents(ctx context.Context, now time.Time) (list []LiveIntent, err error) {
	err = s.view(ctx, "list live intents", func(tx *bolt.Tx) error {
		list, err = unexpiredLive(tx, now)
		return err
	})
	slices.SortFunc(list, func(a, b LiveIntent) int {
		if c := a.Received.Compare(b.Received); c != 0 {
			return c
		}
		return bytes.Compare(a.ID[:], b.ID[:])
	})
	return list, err
}
