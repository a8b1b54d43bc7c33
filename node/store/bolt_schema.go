package store

import (
	"encoding/binary"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// schemaVersion is the layout this build reads and writes (see
// bolt_layout.go). It goes up whenever a bucket, key or record changes shape.
const schemaVersion = 3

var schemaKey = []byte("schema")

// migrate runs when a file is opened: it stamps a new file with the schema
// version, refuses a file from a newer build (writing to a layout we do not
// know could destroy data that build relies on) or from some other program,
// upgrades an older file in place, and creates any bucket the layout needs.
// It runs in one transaction: a crash leaves the old schema or the new,
// never a mix.
func migrate(tx *bolt.Tx) error {
	meta := tx.Bucket(bucketMeta)
	if meta == nil {
		if err := tx.ForEach(func(name []byte, _ *bolt.Bucket) error {
			return fmt.Errorf("file has bucket %q but no %q bucket, so it is not an intentcast store: %w", name, bucketMeta, ErrCorrupt)
		}); err != nil {
			return err
		}
		var err error
		if meta, err = tx.CreateBucket(bucketMeta); err != nil {
			return fmt.Errorf("create bucket %s: %w", bucketMeta, err)
		}
		if err := meta.Put(schemaKey, binary.BigEndian.AppendUint32(nil, schemaVersion)); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
	}
	v := meta.Get(schemaKey)
	if len(v) != 4 {
		return fmt.Errorf("schema version is %d bytes, want 4: %w", len(v), ErrCorrupt)
	}
	n := binary.BigEndian.Uint32(v)
	switch {
	case n > schemaVersion:
		return fmt.Errorf("schema %d, and this build knows up to %d; upgrade intentcast: %w", n, schemaVersion, ErrNewerSchema)
	case n < 1:
		return fmt.Errorf("schema %d never existed: %w", n, ErrCorrupt)
	}
	for ; n < schemaVersion; n++ {
		if err := upgrade(tx, n); err != nil {
			return fmt.Errorf("upgrade schema %d to %d: %w", n, n+1, err)
		}
		if err := meta.Put(schemaKey, binary.BigEndian.AppendUint32(nil, n+1)); err != nil {
			return fmt.Errorf("write schema version: %w", err)
		}
	}
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// upgrade turns a file of schema from into schema from+1.
func upgrade(tx *bolt.Tx, from uint32) error {
	switch from {
	case 1:
		// Schema 2 drops live_by_cat, an index nothing read (bolt_layout.go).
		if err := tx.DeleteBucket([]byte("live_by_cat")); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return fmt.Errorf("drop bucket live_by_cat: %w", err)
		}
	case 2:
		return rekeyLive(tx)
	}
	return nil
}

// rekeyLive turns schema 2's live intents (keyed by ID, with the expiry in
// the record and in the index live_by_exp) into schema 3's (keyed by
// stamp(Expires)|ID, no index). The records are read whole first: bbolt
// cannot rename a bucket, and the old one goes before the new is made.
func rekeyLive(tx *bolt.Tx) error {
	type v2Rec struct {
		Category string `cbor:"1,keyasint,omitempty"`
		Raw      []byte `cbor:"2,keyasint,omitempty"`
		Expires  []byte `cbor:"3,keyasint"`
		Received []byte `cbor:"4,keyasint"`
	}
	var kept []LiveIntent
	if old := tx.Bucket(bucketLive); old != nil {
		if err := old.ForEach(func(k, v []byte) error {
			var r v2Rec
			var f fields
			id := f.id("ID", k)
			f.fail("record", unmarshalRec(v, &r))
			in := LiveIntent{ID: id, Category: r.Category, Raw: r.Raw, Expires: f.stamp("Expires", r.Expires), Received: f.stamp("Received", r.Received)}
			if f.err != nil {
				// Schema 2 could not decode it either. Without an expiry
				// it has no key; it was a relayed copy, which sync
				// fetches again from peers.
				return nil
			}
			kept = append(kept, in)
			return nil
		}); err != nil {
			return fmt.Errorf("read bucket %s: %w", bucketLive, err)
		}
	}
	for _, name := range [][]byte{bucketLive, []byte("live_by_exp")} {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
			return fmt.Errorf("drop bucket %s: %w", name, err)
		}
	}
	if _, err := tx.CreateBucket(bucketLive); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucketLive, err)
	}
	for _, in := range kept {
		if err := writeLive(tx, in); err != nil {
			return err
		}
	}
	return nil
}
