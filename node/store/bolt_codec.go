package store

import (
	"fmt"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Records are CBOR maps with small integer keys (the *Rec types). Each field
// has a number for good: a new field takes a new number, and a removed one's
// number is never reused, so records stay readable across versions of the
// same schema. Times and IDs are stored as fixed-size byte strings
// (appendStamp, ID bytes) and their sizes are checked on the way back.

// marshalRec encodes a record struct.
func marshalRec(rec any) ([]byte, error) {
	b, err := cbor.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode record: %w", err)
	}
	return b, nil
}

// unmarshalRec decodes a record struct; the caller wraps errors in
// ErrCorrupt.
func unmarshalRec(b []byte, rec any) error {
	if err := cbor.Unmarshal(b, rec); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	return nil
}

// fields converts a decoded record's raw fields back into values. It keeps
// the first error, so a decoder reads as a plain list of fields followed by
// one check of err.
type fields struct{ err error }

func (f *fields) stamp(name string, b []byte) time.Time {
	t, err := parseStamp(b)
	f.fail(name, err)
	return t
}

func (f *fields) id(name string, b []byte) ID {
	id, err := parseID(b)
	f.fail(name, err)
	return id
}

// enum records an error if a stored enum value is not one the store would
// have written.
func (f *fields) enum(name string, valid bool, v any) {
	if !valid {
		f.fail(name, fmt.Errorf("unknown value %q", v))
	}
}

func (f *fields) fail(name string, err error) {
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("field %s: %w", name, err)
	}
}

// invalid is the error for a record that a Put method must refuse.
func invalid(field string, v any, allowed ...any) error {
	return fmt.Errorf("%s %q is not one of %q: %w", field, v, allowed, ErrInvalid)
}
