package store

import (
	"context"
	"time"

	bolt "go.etcd.io/bbolt"
)

// relayRec is how a RelayedOffer is stored; the offer ID is the key.
type relayRec struct {
	IntentID []byte `cbor:"1,keyasint"`
	Category string `cbor:"2,keyasint,omitempty"`
	Raw      []byte `cbor:"3,keyasint,omitempty"`
	Expires  []byte `cbor:"4,keyasint"`
	Kept     []byte `cbor:"5,keyasint,omitempty"`
}

var relayByCat = index[RelayedOffer]{
	bucket: bucketRelayByCat,
	key: func(o RelayedOffer) []byte {
		return append(appendStamp(appendText(nil, o.Category), o.Expires), o.ID[:]...)
	},
}

var relayByExp = index[RelayedOffer]{
	bucket: bucketRelayByExp,
	key: func(o RelayedOffer) []byte {
		return append(appendStamp(nil, o.Expires), o.ID[:]...)
	},
}

var relayed = &table[RelayedOffer]{
	bucket:  bucketRelay,
	id:      func(o RelayedOffer) ID { return o.ID },
	encode:  encodeRelayed,
	decode:  decodeRelayed,
	indexes: []index[RelayedOffer]{relayByCat, relayByExp},
}

func encodeRelayed(o RelayedOffer) ([]byte, error) {
	return marshalRec(relayRec{
		IntentID: o.IntentID[:],
		Category: o.Category,
		Raw:      o.Raw,
		Expires:  appendStamp(nil, o.Expires),
		Kept:     keptStamp(o.Kept),
	})
}

// keptStamp is the stamp of t, or nothing for the zero time.
func keptStamp(t time.Time) []byte {
	if t.IsZero() {
		return nil
	}
	return appendStamp(nil, t)
}

func decodeRelayed(id ID, b []byte) (RelayedOffer, error) {
	var r relayRec
	if err := unmarshalRec(b, &r); err != nil {
		return RelayedOffer{}, err
	}
	var f fields
	o := RelayedOffer{
		ID:       id,
		IntentID: f.id("IntentID", r.IntentID),
		Category: r.Category,
		Raw:      r.Raw,
		Expires:  f.stamp("Expires", r.Expires),
	}
	if len(r.Kept) > 0 {
		o.Kept = f.stamp("Kept", r.Kept)
	}
	return o, f.err
}

// RelayedOffers returns the unexpired relayed offers of category ("" for
// all), soonest Expires first.
func (s *Bolt) RelayedOffers(ctx context.Context, category string, now time.Time) (list []RelayedOffer, err error) {
	err = s.view(ctx, "list relayed offers", func(tx *bolt.Tx) error {
		list, err = unexpired(tx, relayed, relayByCat, relayByExp, category, now)
		return err
	})
	return list, err
}
