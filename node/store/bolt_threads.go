package store

import (
	"context"
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// threadRec is how a ThreadMessage is stored; the sealed message's ID is
// the key.
type threadRec struct {
	IntentID  []byte    `cbor:"1,keyasint"`
	Root      []byte    `cbor:"2,keyasint"`
	Seq       uint16    `cbor:"3,keyasint"`
	Direction Direction `cbor:"4,keyasint"`
	Raw       []byte    `cbor:"5,keyasint,omitempty"`
	Sealed    []byte    `cbor:"6,keyasint,omitempty"`
	Received  []byte    `cbor:"7,keyasint"`
}

// threadByIntent orders an intent's thread messages by thread, then place.
var threadByIntent = index[ThreadMessage]{
	bucket: bucketThreadByIntent,
	key: func(m ThreadMessage) []byte {
		k := append(make([]byte, 0, 2*len(m.IntentID)+2+len(m.ID)), m.IntentID[:]...)
		k = append(k, m.Root[:]...)
		k = binary.BigEndian.AppendUint16(k, m.Seq)
		return append(k, m.ID[:]...)
	},
}

var threads = &table[ThreadMessage]{
	bucket:  bucketThread,
	id:      func(m ThreadMessage) ID { return m.ID },
	encode:  encodeThread,
	decode:  decodeThread,
	indexes: []index[ThreadMessage]{threadByIntent},
}

func encodeThread(m ThreadMessage) ([]byte, error) {
	if !m.Direction.Valid() {
		return nil, invalid("direction", m.Direction, Received, Sent)
	}
	if m.Seq == 0 {
		return nil, fmt.Errorf("%w: thread message place 0 (the root offer is not a thread message)", ErrInvalid)
	}
	return marshalRec(threadRec{
		IntentID:  m.IntentID[:],
		Root:      m.Root[:],
		Seq:       m.Seq,
		Direction: m.Direction,
		Raw:       m.Raw,
		Sealed:    m.Sealed,
		Received:  appendStamp(nil, m.Received),
	})
}

func decodeThread(id ID, b []byte) (ThreadMessage, error) {
	var r threadRec
	if err := unmarshalRec(b, &r); err != nil {
		return ThreadMessage{}, err
	}
	var f fields
	m := ThreadMessage{
		ID:        id,
		IntentID:  f.id("IntentID", r.IntentID),
		Root:      f.id("Root", r.Root),
		Seq:       r.Seq,
		Direction: r.Direction,
		Raw:       r.Raw,
		Sealed:    r.Sealed,
		Received:  f.stamp("Received", r.Received),
	}
	f.enum("Direction", r.Direction.Valid(), r.Direction)
	return m, f.err
}

// ThreadMessage returns the thread message whose sealed form has that ID.
func (s *Bolt) ThreadMessage(ctx context.Context, id ID) (m ThreadMessage, err error) {
	err = s.view(ctx, "get thread message", func(tx *bolt.Tx) error {
		m, err = threads.get(tx, id)
		return err
	})
	return m, err
}

// ThreadMessages returns the thread messages of an intent, by root offer
// and then place.
func (s *Bolt) ThreadMessages(ctx context.Context, intentID ID) (list []ThreadMessage, err error) {
	err = s.view(ctx, "list thread messages", func(tx *bolt.Tx) error {
		list, err = threads.ascend(tx, threadByIntent, intentID[:], nil)
		return err
	})
	return list, err
}
