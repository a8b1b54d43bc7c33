package intent

import (
	"bytes"
	"fmt"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// The codec: RFC 8949 Core Deterministic Encoding with integer map keys.
// Decoding is strict (nothing a canonical encoder cannot produce is
// accepted) and canonical (input whose re-encoding differs is refused), so
// that one message has exactly one encoding and therefore one ID.
var (
	// encMode can also encode into a buffer of the caller's: the canonical
	// check re-encodes every message a relay receives and only compares the
	// result, so it re-encodes into a pooled buffer instead of a fresh slice
	// each time.
	encMode cbor.UserBufferEncMode
	decMode cbor.DecMode
)

// reencodeBuffers holds the canonical check's buffers. A buffer grown past
// maxPooledReencode (a message near the size limit) is dropped rather than
// kept, so the pool holds only what ordinary messages need.
var reencodeBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

const maxPooledReencode = 4 << 10

func init() {
	var err error
	eo := cbor.CoreDetEncOptions()
	eo.IndefLength = cbor.IndefLengthForbidden
	if encMode, err = eo.UserBufferEncMode(); err != nil {
		panic(err)
	}
	do := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		UTF8:              cbor.UTF8RejectInvalid,
		MaxNestedLevels:   4,
		MaxArrayElements:  16,
		MaxMapPairs:       16,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
		IntDec:            cbor.IntDecConvertNone,
		FieldNameMatching: cbor.FieldNameMatchingCaseSensitive,
	}
	if decMode, err = do.DecMode(); err != nil {
		panic(err)
	}
}

// marshal encodes v canonically.
func marshal(v any) ([]byte, error) { return encMode.Marshal(v) }

// Marshal encodes v with the protocol's codec: Core Deterministic CBOR,
// definite lengths. It is for the frames other protocols wrap around
// messages (sync, stem; node/sync_wire.go), so they share one codec.
func Marshal(v any) ([]byte, error) { return marshal(v) }

// UnmarshalCanonical decodes data into v as strictly as a message: the
// decoder's bounds and rules, then the re-encoding must equal data. what
// names the structure in the error, which wraps ErrMalformed or
// ErrNonCanonical.
func UnmarshalCanonical(data []byte, v any, what string) error {
	return unmarshalCanonical(data, v, what)
}

// unmarshalCanonical decodes data into v strictly and refuses data that is
// not the canonical encoding of what it decodes to. what names the structure
// for the error.
func unmarshalCanonical(data []byte, v any, what string) error {
	if err := decMode.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: decode %s: %v", ErrMalformed, what, err)
	}
	again := reencodeBuffers.Get().(*bytes.Buffer)
	defer func() {
		if again.Cap() <= maxPooledReencode {
			again.Reset()
			reencodeBuffers.Put(again)
		}
	}()
	if err := encMode.MarshalToBuffer(v, again); err != nil {
		return fmt.Errorf("%w: re-encode %s: %v", ErrMalformed, what, err)
	}
	if !bytes.Equal(again.Bytes(), data) {
		return fmt.Errorf("%w: %s differs from its canonical encoding", ErrNonCanonical, what)
	}
	return nil
}
