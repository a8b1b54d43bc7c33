package store

import (
	"bytes"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// table is one kind of record: a primary bucket from ID to encoded record,
// and index buckets whose keys are derived from the record and end with its
// ID. Every write goes through put and remove, which derive the index keys to
// delete from the stored record itself, so the indexes cannot drift from the
// records however often a record is replaced.
type table[R any] struct {
	bucket  []byte
	id      func(R) ID
	encode  func(R) ([]byte, error) // checks r: errors wrap ErrInvalid
	decode  func(ID, []byte) (R, error)
	indexes []index[R]
}

// index is one ordering of a table's records.
type index[R any] struct {
	bucket []byte
	key    func(R) []byte
}

// get returns the record with that ID: ErrNotFound if there is none,
// ErrCorrupt if it does not decode.
func (t *table[R]) get(tx *bolt.Tx, id ID) (R, error) {
	var zero R
	v := tx.Bucket(t.bucket).Get(id[:])
	if v == nil {
		return zero, fmt.Errorf("%s: %w", shortID(id), ErrNotFound)
	}
	return t.decodeAt(id, v)
}

// decodeAt decodes the record v stored under id; ErrCorrupt if it does not
// decode.
func (t *table[R]) decodeAt(id ID, v []byte) (R, error) {
	r, err := t.decode(id, v)
	if err != nil {
		var zero R
		return zero, fmt.Errorf("%s in bucket %s: %w: %w", shortID(id), t.bucket, ErrCorrupt, err)
	}
	return r, nil
}

// has reports whether a record with that ID exists, without decoding it.
func (t *table[R]) has(tx *bolt.Tx, id ID) bool {
	return tx.Bucket(t.bucket).Get(id[:]) != nil
}

// put inserts or replaces r and its index entries.
func (t *table[R]) put(tx *bolt.Tx, r R) error {
	id := t.id(r)
	v, err := t.encode(r)
	if err != nil {
		return fmt.Errorf("%s: %w", shortID(id), err)
	}
	if _, err := t.remove(tx, id); err != nil {
		return err
	}
	if err := tx.Bucket(t.bucket).Put(id[:], v); err != nil {
		return fmt.Errorf("%s: write to bucket %s: %w", shortID(id), t.bucket, err)
	}
	for _, ix := range t.indexes {
		if err := tx.Bucket(ix.bucket).Put(ix.key(r), []byte{}); err != nil {
			return fmt.Errorf("%s: write to index %s: %w", shortID(id), ix.bucket, err)
		}
	}
	return nil
}

// putUnless puts r unless the table holds a record with its ID that
// keepHeld prefers to r, and reports whether it put r.
func (t *table[R]) putUnless(tx *bolt.Tx, r R, keepHeld func(held R) bool) (bool, error) {
	held, err := t.get(tx, t.id(r))
	switch {
	case err == nil && keepHeld(held):
		return false, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return false, err
	}
	return true, t.put(tx, r)
}

// remove deletes the record with that ID and its index entries, and reports
// whether there was one.
func (t *table[R]) remove(tx *bolt.Tx, id ID) (bool, error) {
	v := tx.Bucket(t.bucket).Get(id[:])
	if v == nil {
		return false, nil
	}
	if r, err := t.decode(id, v); err == nil {
		for _, ix := range t.indexes {
			if err := tx.Bucket(ix.bucket).Delete(ix.key(r)); err != nil {
				return false, fmt.Errorf("%s: delete from index %s: %w", shortID(id), ix.bucket, err)
			}
		}
	} else if err := t.purgeIndexes(tx, id); err != nil {
		return false, err
	}
	if err := tx.Bucket(t.bucket).Delete(id[:]); err != nil {
		return false, fmt.Errorf("%s: delete from bucket %s: %w", shortID(id), t.bucket, err)
	}
	return true, nil
}

// purgeIndexes deletes every index entry that ends with id. remove falls back
// to it when the stored record does not decode, so its index keys cannot be
// derived: a full scan is slow, but it lets a corrupt record be replaced or
// pruned instead of sticking forever.
func (t *table[R]) purgeIndexes(tx *bolt.Tx, id ID) error {
	for _, ix := range t.indexes {
		b := tx.Bucket(ix.bucket)
		var stale [][]byte
		c := b.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if bytes.HasSuffix(k, id[:]) {
				stale = append(stale, bytes.Clone(k))
			}
		}
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return fmt.Errorf("%s: delete from index %s: %w", shortID(id), ix.bucket, err)
			}
		}
	}
	return nil
}

// ascend returns the records that ix lists under prefix, in key order,
// starting at the first key >= from (from must start with prefix; nil means
// the start of prefix).
func (t *table[R]) ascend(tx *bolt.Tx, ix index[R], prefix, from []byte) ([]R, error) {
	if from == nil {
		from = prefix
	}
	var out []R
	c := tx.Bucket(ix.bucket).Cursor()
	for k, _ := c.Seek(from); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		r, err := t.lookup(tx, ix, k)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// all returns every record, by ascending ID.
func (t *table[R]) all(tx *bolt.Tx) ([]R, error) {
	var out []R
	c := tx.Bucket(t.bucket).Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		id, err := parseID(k)
		if err != nil {
			return nil, fmt.Errorf("bucket %s: %w: %w", t.bucket, ErrCorrupt, err)
		}
		r, err := t.decodeAt(id, v)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// descend returns all the records that ix lists, in reverse key order.
func (t *table[R]) descend(tx *bolt.Tx, ix index[R]) ([]R, error) {
	var out []R
	c := tx.Bucket(ix.bucket).Cursor()
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		r, err := t.lookup(tx, ix, k)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// lookup returns the record that index key k points at. A key pointing at no
// record means the file was damaged: put and remove never leave one.
func (t *table[R]) lookup(tx *bolt.Tx, ix index[R], k []byte) (R, error) {
	var zero R
	id, err := keyID(k)
	if err != nil {
		return zero, fmt.Errorf("index %s: %w: %w", ix.bucket, ErrCorrupt, err)
	}
	r, err := t.get(tx, id)
	if errors.Is(err, ErrNotFound) {
		return zero, fmt.Errorf("index %s lists %s, which is not in bucket %s: %w", ix.bucket, shortID(id), t.bucket, ErrCorrupt)
	}
	return r, err
}

// removeBefore removes every record whose key in ix sorts before limit, and
// returns how many it removed. With an index that starts with a stamp, that
// is every record that expired before the time in limit.
func (t *table[R]) removeBefore(tx *bolt.Tx, ix index[R], limit []byte) (int, error) {
	b := tx.Bucket(ix.bucket)
	n := 0
	for _, k := range keysBefore(b, limit) {
		id, err := keyID(k)
		if err != nil {
			return n, fmt.Errorf("index %s: %w: %w", ix.bucket, ErrCorrupt, err)
		}
		removed, err := t.remove(tx, id)
		if err != nil {
			return n, err
		}
		if removed {
			n++
			continue
		}
		// An entry pointing at no record can only come from a damaged file;
		// drop it, or every later prune would trip over it again.
		if err := b.Delete(k); err != nil {
			return n, fmt.Errorf("index %s: delete dangling entry for %s: %w", ix.bucket, shortID(id), err)
		}
	}
	return n, nil
}

// keysBefore returns copies of b's keys that sort before limit. Callers
// collect first and delete after: deleting under a live cursor makes it
// skip keys.
func keysBefore(b *bolt.Bucket, limit []byte) [][]byte {
	var keys [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, limit) < 0; k, _ = c.Next() {
		keys = append(keys, bytes.Clone(k))
	}
	return keys
}
