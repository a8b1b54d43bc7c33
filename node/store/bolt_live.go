package store

import (
	"bytes"
	"context"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// liveIntentRec is how a LiveIntent is stored; the ID is the key.
type liveIntentRec struct {
	Category string `cbor:"1,keyasint,omitempty"`
	Raw      []byte `cbor:"2,keyasint,omitempty"`
	Expires  []byte `cbor:"3,keyasint"`
	Received []byte `cbor:"4,keyasint"`
}

var liveByExp = index[LiveIntent]{
	bucket: bucketLiveByExp,
	key: func(in LiveIntent) []byte {
		return append(appendStamp(nil, in.Expires), in.ID[:]...)
	},
}

var liveIntents = &table[LiveIntent]{
	bucket:  bucketLive,
	id:      func(in LiveIntent) ID { return in.ID },
	encode:  encodeLiveIntent,
	decode:  decodeLiveIntent,
	indexes: []index[LiveIntent]{liveByExp},
}

func encodeLiveIntent(in LiveIntent) ([]byte, error) {
	return marshalRec(liveIntentRec{
		Category: in.Category,
		Raw:      in.Raw,
		Expires:  appendStamp(nil, in.Expires),
		Received: appendStamp(nil, in.Received),
	})
}

func decodeLiveIntent(id ID, b []byte) (LiveIntent, error) {
	var r liveIntentRec
	if err := unmarshalRec(b, &r); err != nil {
		return LiveIntent{}, err
	}
	var f fields
	in := LiveIntent{
		ID:       id,
		Category: r.Category,
		Raw:      r.Raw,
		Expires:  f.stamp("Expires", r.Expires),
		Received: f.stamp("Received", r.Received),
	}
	return in, f.err
}

// PutLiveIntent inserts or replaces an intent seen on the network, unless
// it has a tombstone: the check and the write share one transaction, so a
// cancel that lands concurrently cannot be overtaken.
func (s *Bolt) PutLiveIntent(ctx context.Context, in LiveIntent) error {
	return s.update(ctx, "put live intent", func(tx *bolt.Tx) error {
		if tombstones.has(tx, in.ID) {
			return nil
		}
		return liveIntents.put(tx, in)
	})
}

// LiveIntent returns the live intent with that ID, or ErrNotFound.
func (s *Bolt) LiveIntent(ctx context.Context, id ID) (in LiveIntent, err error) {
	err = s.view(ctx, "get live intent", func(tx *bolt.Tx) error {
		in, err = liveIntents.get(tx, id)
		return err
	})
	return in, err
}

// LiveIntents returns the live intents that expire at or after now, oldest
// Received first.
func (s *Bolt) LiveIntents(ctx context.Context, now time.Time) (list []LiveIntent, err error) {
	err = s.view(ctx, "list live intents", func(tx *bolt.Tx) error {
		list, err = liveIntents.ascend(tx, liveByExp, nil, appendStamp(nil, now))
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
