package store

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

// tombstoneRec is how a Tombstone is stored; the intent ID is the key.
type tombstoneRec struct {
	Category string `cbor:"1,keyasint,omitempty"`
	Raw      []byte `cbor:"2,keyasint,omitempty"`
	Expires  []byte `cbor:"3,keyasint"`
	Intent   []byte `cbor:"4,keyasint,omitempty"`
}

var tombByCat = index[Tombstone]{
	bucket: bucketTombByCat,
	key: func(t Tombstone) []byte {
		return append(appendStamp(appendText(nil, t.Category), t.Expires), t.IntentID[:]...)
	},
}

var tombByExp = index[Tombstone]{
	bucket: bucketTombByExp,
	key: func(t Tombstone) []byte {
		return append(appendStamp(nil, t.Expires), t.IntentID[:]...)
	},
}

var tombstones = &table[Tombstone]{
	bucket:  bucketTomb,
	id:      func(t Tombstone) ID { return t.IntentID },
	encode:  encodeTombstone,
	decode:  decodeTombstone,
	indexes: []index[Tombstone]{tombByCat, tombByExp},
}

func encodeTombstone(t Tombstone) ([]byte, error) {
	return marshalRec(tombstoneRec{
		Category: t.Category,
		Raw:      t.Raw,
		Expires:  appendStamp(nil, t.Expires),
		Intent:   t.IntentRaw,
	})
}

func decodeTombstone(id ID, b []byte) (Tombstone, error) {
	var r tombstoneRec
	if err := unmarshalRec(b, &r); err != nil {
		return Tombstone{}, err
	}
	var f fields
	t := Tombstone{
		IntentID:  id,
		Category:  r.Category,
		Raw:       r.Raw,
		IntentRaw: r.Intent,
		Expires:   f.stamp("Expires", r.Expires),
	}
	return t, f.err
}

// PutTombstone inserts or replaces a tombstone and deletes the live intent
// it cancels, in one transaction: no reader ever sees both.
func (s *Bolt) PutTombstone(ctx context.Context, t Tombstone) error {
	return s.update(ctx, "put tombstone", func(tx *bolt.Tx) error { return putTombstone(tx, t) })
}

func putTombstone(tx *bolt.Tx, t Tombstone) error {
	if err := removeLive(tx, t.IntentID, t.Expires); err != nil {
		return err
	}
	return tombstones.put(tx, t)
}

// Tombstone returns the tombstone of that intent, or ErrNotFound.
func (s *Bolt) Tombstone(ctx context.Context, intentID ID) (t Tombstone, err error) {
	err = s.queuedView(ctx, "get tombstone", func(tx *bolt.Tx, queued []Batch) error {
		t, err = tombstones.get(tx, intentID)
		for _, b := range queued {
			for _, q := range b.Tombstones {
				if q.IntentID == intentID {
					t, err = q, nil
				}
			}
		}
		return err
	})
	return t, err
}

// Tombstones returns the tombstones of category ("" for all) that expire at
// or after now, soonest Expires first.
func (s *Bolt) Tombstones(ctx context.Context, category string, now time.Time) (list []Tombstone, err error) {
	err = s.view(ctx, "list tombstones", func(tx *bolt.Tx) error {
		list, err = unexpired(tx, tombstones, tombByCat, tombByExp, category, now)
		return err
	})
	return list, err
}
