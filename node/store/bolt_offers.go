package store

import (
	"context"

	bolt "go.etcd.io/bbolt"
)

// offerRec is how an Offer is stored; the offer ID is the key.
type offerRec struct {
	IntentID  []byte      `cbor:"1,keyasint"`
	Direction Direction   `cbor:"2,keyasint"`
	Raw       []byte      `cbor:"3,keyasint,omitempty"`
	Inner     []byte      `cbor:"4,keyasint,omitempty"`
	Status    OfferStatus `cbor:"5,keyasint"`
	Reason    string      `cbor:"6,keyasint,omitempty"`
	Received  []byte      `cbor:"7,keyasint"`
	AcceptRaw []byte      `cbor:"8,keyasint,omitempty"`
}

var offerByIntent = index[Offer]{
	bucket: bucketOfferByIntent,
	key: func(o Offer) []byte {
		k := append(make([]byte, 0, len(o.IntentID)+stampLen+len(o.ID)), o.IntentID[:]...)
		return append(appendStamp(k, o.Received), o.ID[:]...)
	},
}

var offerByDir = index[Offer]{
	bucket: bucketOfferByDir,
	key: func(o Offer) []byte {
		return append(appendStamp(appendText(nil, string(o.Direction)), o.Received), o.ID[:]...)
	},
}

var offers = &table[Offer]{
	bucket:  bucketOffer,
	id:      func(o Offer) ID { return o.ID },
	encode:  encodeOffer,
	decode:  decodeOffer,
	indexes: []index[Offer]{offerByIntent, offerByDir},
}

func encodeOffer(o Offer) ([]byte, error) {
	if !o.Direction.Valid() {
		return nil, invalid("direction", o.Direction, Received, Sent)
	}
	if !o.Status.Valid() {
		return nil, invalid("status", o.Status, OfferValid, OfferRefused, OfferAccepted, OfferLapsed)
	}
	return marshalRec(offerRec{
		IntentID:  o.IntentID[:],
		Direction: o.Direction,
		Raw:       o.Raw,
		Inner:     o.Inner,
		Status:    o.Status,
		Reason:    o.Reason,
		Received:  appendStamp(nil, o.Received),
		AcceptRaw: o.AcceptRaw,
	})
}

func decodeOffer(id ID, b []byte) (Offer, error) {
	var r offerRec
	if err := unmarshalRec(b, &r); err != nil {
		return Offer{}, err
	}
	var f fields
	o := Offer{
		ID:        id,
		IntentID:  f.id("IntentID", r.IntentID),
		Direction: r.Direction,
		Raw:       r.Raw,
		Inner:     r.Inner,
		Status:    r.Status,
		Reason:    r.Reason,
		Received:  f.stamp("Received", r.Received),
		AcceptRaw: r.AcceptRaw,
	}
	f.enum("Direction", r.Direction.Valid(), r.Direction)
	f.enum("Status", r.Status.Valid(), r.Status)
	return o, f.err
}

// PutOffer inserts or replaces an offer by its ID.
func (s *Bolt) PutOffer(ctx context.Context, o Offer) error {
	return s.update(ctx, "put offer", func(tx *bolt.Tx) error {
		return offers.put(tx, o)
	})
}

// Offer returns the offer with that ID, or ErrNotFound; a queued write
// of it counts (queuedView).
func (s *Bolt) Offer(ctx context.Context, id ID) (o Offer, err error) {
	err = s.queuedView(ctx, "get offer", func(tx *bolt.Tx, queued []Batch) error {
		o, err = offers.get(tx, id)
		for _, b := range queued {
			for _, q := range b.Offers {
				if q.ID == id {
					o, err = q, nil
				}
			}
		}
		return err
	})
	return o, err
}

// Offers returns the offers for an intent, oldest Received first, queued
// writes included.
func (s *Bolt) Offers(ctx context.Context, intentID ID) (list []Offer, err error) {
	err = s.queuedView(ctx, "list offers", func(tx *bolt.Tx, queued []Batch) error {
		list, err = offers.ascend(tx, offerByIntent, intentID[:], nil)
		list = queuedOffers(list, queued, func(o Offer) bool { return o.IntentID == intentID })
		return err
	})
	return list, err
}

// OffersByDirection returns the offers received or sent, oldest Received
// first, queued writes included.
func (s *Bolt) OffersByDirection(ctx context.Context, d Direction) (list []Offer, err error) {
	err = s.queuedView(ctx, "list offers by direction", func(tx *bolt.Tx, queued []Batch) error {
		list, err = offers.ascend(tx, offerByDir, appendText(nil, string(d)), nil)
		list = queuedOffers(list, queued, func(o Offer) bool { return o.Direction == d })
		return err
	})
	return list, err
}
