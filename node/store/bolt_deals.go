package store

import (
	"context"

	bolt "go.etcd.io/bbolt"
)

// dealRec is how a Deal is stored; the intent ID is the key.
type dealRec struct {
	OfferID    []byte `cbor:"1,keyasint"`
	Role       Role   `cbor:"2,keyasint"`
	IntentRaw  []byte `cbor:"3,keyasint,omitempty"`
	OfferInner []byte `cbor:"4,keyasint,omitempty"`
	AcceptRaw  []byte `cbor:"5,keyasint,omitempty"`
	Closed     []byte `cbor:"6,keyasint"`
}

var dealByClosed = index[Deal]{
	bucket: bucketDealByClosed,
	key: func(d Deal) []byte {
		return append(appendStamp(nil, d.Closed), d.IntentID[:]...)
	},
}

var deals = &table[Deal]{
	bucket:  bucketDeal,
	id:      func(d Deal) ID { return d.IntentID },
	encode:  encodeDeal,
	decode:  decodeDeal,
	indexes: []index[Deal]{dealByClosed},
}

func encodeDeal(d Deal) ([]byte, error) {
	if !d.Role.Valid() {
		return nil, invalid("role", d.Role, RoleCustomer, RoleVendor)
	}
	return marshalRec(dealRec{
		OfferID:    d.OfferID[:],
		Role:       d.Role,
		IntentRaw:  d.IntentRaw,
		OfferInner: d.OfferInner,
		AcceptRaw:  d.AcceptRaw,
		Closed:     appendStamp(nil, d.Closed),
	})
}

func decodeDeal(id ID, b []byte) (Deal, error) {
	var r dealRec
	if err := unmarshalRec(b, &r); err != nil {
		return Deal{}, err
	}
	var f fields
	d := Deal{
		IntentID:   id,
		OfferID:    f.id("OfferID", r.OfferID),
		Role:       r.Role,
		IntentRaw:  r.IntentRaw,
		OfferInner: r.OfferInner,
		AcceptRaw:  r.AcceptRaw,
		Closed:     f.stamp("Closed", r.Closed),
	}
	f.enum("Role", r.Role.Valid(), r.Role)
	return d, f.err
}

// PutDeal inserts or replaces the deal for an intent.
func (s *Bolt) PutDeal(ctx context.Context, d Deal) error {
	return s.update(ctx, "put deal", func(tx *bolt.Tx) error {
		return deals.put(tx, d)
	})
}

// Deal returns the deal for an intent, or ErrNotFound; a queued write of
// it counts (queuedView).
func (s *Bolt) Deal(ctx context.Context, intentID ID) (d Deal, err error) {
	err = s.queuedView(ctx, "get deal", func(tx *bolt.Tx, queued []Batch) error {
		d, err = deals.get(tx, intentID)
		for _, b := range queued {
			for _, q := range b.Deals {
				if q.IntentID == intentID {
					d, err = q, nil
				}
			}
		}
		return err
	})
	return d, err
}

// Deals returns all deals, newest Closed first.
func (s *Bolt) Deals(ctx context.Context) (list []Deal, err error) {
	err = s.queuedView(ctx, "list deals", func(tx *bolt.Tx, queued []Batch) error {
		list, err = deals.descend(tx, dealByClosed)
		list = queuedDeals(list, queued)
		return err
	})
	return list, err
}
