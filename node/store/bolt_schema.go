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
const schemaVersion = 2

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
	}
	return nil
}
