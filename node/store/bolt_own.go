package store

import (
	"context"

	bolt "go.etcd.io/bbolt"
)

// ownIntentRec is how an OwnIntent is stored; the ID is the key.
type ownIntentRec struct {
	Category      string      `cbor:"1,keyasint,omitempty"`
	Raw           []byte      `cbor:"2,keyasint,omitempty"`
	SigningSeed   []byte      `cbor:"3,keyasint,omitempty"`
	ReplySuite    uint16      `cbor:"4,keyasint,omitempty"`
	ReplyKey      []byte      `cbor:"5,keyasint,omitempty"`
	Created       []byte      `cbor:"6,keyasint"`
	Expires       []byte      `cbor:"7,keyasint"`
	State         IntentState `cbor:"8,keyasint"`
	CancelRaw     []byte      `cbor:"9,keyasint,omitempty"`
	AcceptedOffer []byte      `cbor:"10,keyasint"`
}

var ownByCreated = index[OwnIntent]{
	bucket: bucketOwnByCreated,
	key: func(in OwnIntent) []byte {
		return append(appendStamp(nil, in.Created), in.ID[:]...)
	},
}

var ownIntents = &table[OwnIntent]{
	bucket:  bucketOwn,
	id:      func(in OwnIntent) ID { return in.ID },
	encode:  encodeOwnIntent,
	decode:  decodeOwnIntent,
	indexes: []index[OwnIntent]{ownByCreated},
}

func encodeOwnIntent(in OwnIntent) ([]byte, error) {
	if !in.State.Valid() {
		return nil, invalid("state", in.State, IntentOpen, IntentCancelled, IntentAccepted)
	}
	return marshalRec(ownIntentRec{
		Category:      in.Category,
		Raw:           in.Raw,
		SigningSeed:   in.SigningSeed,
		ReplySuite:    in.ReplySuite,
		ReplyKey:      in.ReplyKey,
		Created:       appendStamp(nil, in.Created),
		Expires:       appendStamp(nil, in.Expires),
		State:         in.State,
		CancelRaw:     in.CancelRaw,
		AcceptedOffer: in.AcceptedOffer[:],
	})
}

func decodeOwnIntent(id ID, b []byte) (OwnIntent, error) {
	var r ownIntentRec
	if err := unmarshalRec(b, &r); err != nil {
		return OwnIntent{}, err
	}
	var f fields
	in := OwnIntent{
		ID:            id,
		Category:      r.Category,
		Raw:           r.Raw,
		SigningSeed:   r.SigningSeed,
		ReplySuite:    r.ReplySuite,
		ReplyKey:      r.ReplyKey,
		Created:       f.stamp("Created", r.Created),
		Expires:       f.stamp("Expires", r.Expires),
		State:         r.State,
		CancelRaw:     r.CancelRaw,
		AcceptedOffer: f.id("AcceptedOffer", r.AcceptedOffer),
	}
	f.enum("State", r.State.Valid(), r.State)
	return in, f.err
}

// PutOwnIntent inserts or replaces one of this node's own intents.
func (s *Bolt) PutOwnIntent(ctx context.Context, in OwnIntent) error {
	return s.update(ctx, "put own intent", func(tx *bolt.Tx) error {
		return ownIntents.put(tx, in)
	})
}

// OwnIntent returns the own intent with that ID, or ErrNotFound; a queued
// write of it counts (queuedView).
func (s *Bolt) OwnIntent(ctx context.Context, id ID) (in OwnIntent, err error) {
	err = s.queuedView(ctx, "get own intent", func(tx *bolt.Tx, queued []Batch) error {
		in, err = ownIntents.get(tx, id)
		for _, b := range queued {
			for _, q := range b.Own {
				if q.ID == id {
					in, err = q, nil
				}
			}
		}
		return err
	})
	return in, err
}

// OwnIntents returns all own intents, newest Created first, queued writes
// included.
func (s *Bolt) OwnIntents(ctx context.Context) (list []OwnIntent, err error) {
	err = s.queuedView(ctx, "list own intents", func(tx *bolt.Tx, queued []Batch) error {
		list, err = ownIntents.descend(tx, ownByCreated)
		list = queuedOwn(list, queued)
		return err
	})
	return list, err
}
