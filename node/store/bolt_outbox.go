package store

import (
	"context"

	bolt "go.etcd.io/bbolt"
)

// outRec is how an Outgoing is stored; the message ID is the key.
type outRec struct {
	Kind     MessageKind `cbor:"1,keyasint"`
	IntentID []byte      `cbor:"2,keyasint"`
	OfferID  []byte      `cbor:"3,keyasint,omitempty"`
	Category string      `cbor:"4,keyasint,omitempty"`
	Raw      []byte      `cbor:"5,keyasint,omitempty"`
	Status   SendStatus  `cbor:"6,keyasint"`
	Peers    int         `cbor:"7,keyasint,omitempty"`
	Reason   string      `cbor:"8,keyasint,omitempty"`
	Queued   []byte      `cbor:"9,keyasint"`
	Sent     []byte      `cbor:"10,keyasint,omitempty"`
	Seen     []byte      `cbor:"11,keyasint,omitempty"`
	Refused  []byte      `cbor:"12,keyasint,omitempty"`
	Expires  []byte      `cbor:"13,keyasint"`
}

var outByExp = index[Outgoing]{
	bucket: bucketOutByExp,
	key: func(o Outgoing) []byte {
		return append(appendStamp(nil, o.Expires), o.ID[:]...)
	},
}

var outbox = &table[Outgoing]{
	bucket:  bucketOut,
	id:      func(o Outgoing) ID { return o.ID },
	encode:  encodeOutgoing,
	decode:  decodeOutgoing,
	indexes: []index[Outgoing]{outByExp},
}

func encodeOutgoing(o Outgoing) ([]byte, error) {
	if !o.Kind.Valid() {
		return nil, invalid("kind", o.Kind, MessageIntent, MessageOffer, MessageAccept, MessageCancel)
	}
	if !o.Status.Valid() {
		return nil, invalid("status", o.Status, SendQueued, SendSent, SendSeen, SendRefused)
	}
	r := outRec{
		Kind:     o.Kind,
		IntentID: o.IntentID[:],
		Category: o.Category,
		Raw:      o.Raw,
		Status:   o.Status,
		Peers:    o.Peers,
		Reason:   o.Reason,
		Queued:   appendStamp(nil, o.Queued),
		Sent:     keptStamp(o.Sent),
		Seen:     keptStamp(o.Seen),
		Refused:  keptStamp(o.Refused),
		Expires:  appendStamp(nil, o.Expires),
	}
	if o.OfferID != (ID{}) {
		r.OfferID = o.OfferID[:]
	}
	return marshalRec(r)
}

func decodeOutgoing(id ID, b []byte) (Outgoing, error) {
	var r outRec
	if err := unmarshalRec(b, &r); err != nil {
		return Outgoing{}, err
	}
	var f fields
	o := Outgoing{
		ID:       id,
		Kind:     r.Kind,
		IntentID: f.id("IntentID", r.IntentID),
		Category: r.Category,
		Raw:      r.Raw,
		Status:   r.Status,
		Peers:    r.Peers,
		Reason:   r.Reason,
		Queued:   f.stamp("Queued", r.Queued),
		Expires:  f.stamp("Expires", r.Expires),
	}
	if len(r.OfferID) > 0 {
		o.OfferID = f.id("OfferID", r.OfferID)
	}
	if len(r.Sent) > 0 {
		o.Sent = f.stamp("Sent", r.Sent)
	}
	if len(r.Seen) > 0 {
		o.Seen = f.stamp("Seen", r.Seen)
	}
	if len(r.Refused) > 0 {
		o.Refused = f.stamp("Refused", r.Refused)
	}
	f.enum("Kind", r.Kind.Valid(), r.Kind)
	f.enum("Status", r.Status.Valid(), r.Status)
	return o, f.err
}

// Outbox returns this node's own messages that have not expired, soonest
// Expires first.
func (s *Bolt) Outbox(ctx context.Context) (list []Outgoing, err error) {
	err = s.view(ctx, "list the outbox", func(tx *bolt.Tx) error {
		list, err = outbox.ascend(tx, outByExp, nil, nil)
		return err
	})
	return list, err
}
