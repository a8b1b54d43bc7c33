package intent

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// Versioning (docs/PROTOCOL.md, "Versioning"): a later version of a message
// keeps every key version 1 defines, with its rules, and may add keys at the
// top level of the payload. A node checks the keys it knows (the message's
// core) exactly as in version 1, so what is provably invalid is Reject
// whatever its version; a message that passes every Reject-class check but
// has a version above 1 is Ignore (ErrVersion), because this node does not
// understand the rest. Only version 1 refuses unknown keys.

// decodeVersioned decodes a payload of any version into v, a pointer to a
// message struct whose key 0 is its version, and returns that version.
// Errors wrap ErrMalformed, ErrNonCanonical or ErrSchema.
func decodeVersioned(data []byte, v any, what string) (uint64, error) {
	// Nearly every message is version 1, which decodes straight into v: its
	// canonical encoding starts with the map's head and key 0 = 1. If that
	// decode fails the full path below runs from scratch, so its errors are
	// the only ones reported; if it succeeds the full path would reach the
	// same decode with the same result.
	if startsVersion1(data) {
		if unmarshalCanonical(data, v, what) == nil {
			return Version, nil
		}
		reflect.ValueOf(v).Elem().SetZero()
	}
	var top map[uint64]cbor.RawMessage
	if err := decMode.Unmarshal(data, &top); err != nil {
		return 0, fmt.Errorf("%w: decode %s: %v", ErrMalformed, what, err)
	}
	var version uint64
	if raw, ok := top[0]; !ok || decMode.Unmarshal(raw, &version) != nil || version == 0 {
		return 0, fmt.Errorf("%w: %s: key 0 must hold the version, an unsigned integer of at least 1", ErrSchema, what)
	}
	if version == Version {
		return version, unmarshalCanonical(data, v, what)
	}
	// A later version: the whole payload must be canonical, and its core,
	// alone, the canonical encoding of a version-1-shaped message.
	if err := checkCanonicalAny(data, what); err != nil {
		return 0, err
	}
	known := definedKeys(reflect.TypeOf(v).Elem())
	keys := slices.Sorted(func(yield func(uint64) bool) {
		for k := range top {
			if known[k] && !yield(k) {
				return
			}
		}
	})
	core, err := encMode.Marshal(len(keys)) // the head of a map of len(keys) pairs is the head of that uint with major type 5
	if err != nil {
		return 0, fmt.Errorf("%w: re-encode %s: %v", ErrMalformed, what, err)
	}
	core[0] |= 0xa0
	for _, k := range keys {
		kb, err := encMode.Marshal(k)
		if err != nil {
			return 0, fmt.Errorf("%w: re-encode %s: %v", ErrMalformed, what, err)
		}
		core = append(append(core, kb...), top[k]...)
	}
	return version, unmarshalCanonical(core, v, what+" (version "+strconv.FormatUint(version, 10)+" core)")
}

// startsVersion1 reports whether data starts as the canonical encoding of
// a map whose first pair is 0: 1.
func startsVersion1(data []byte) bool {
	i := 1
	switch {
	case len(data) < 3:
		return false
	case data[0] > 0xa0 && data[0] < 0xb8: // a map of 1 to 23 pairs
	case data[0] == 0xb8 && data[1] >= 24: // 24 to 255 pairs
		i = 2
	default:
		return false
	}
	return len(data) >= i+2 && data[i] == 0x00 && data[i+1] == Version
}

// checkCanonicalAny refuses data that is not the canonical encoding of what
// it decodes to as a generic CBOR value, under the strict decoding rules.
func checkCanonicalAny(data []byte, what string) error {
	var generic any
	if err := decMode.Unmarshal(data, &generic); err != nil {
		return fmt.Errorf("%w: decode %s: %v", ErrMalformed, what, err)
	}
	again, err := encMode.Marshal(generic)
	if err != nil {
		return fmt.Errorf("%w: re-encode %s: %v", ErrMalformed, what, err)
	}
	if !bytes.Equal(again, data) {
		return fmt.Errorf("%w: %s differs from its canonical encoding", ErrNonCanonical, what)
	}
	return nil
}

// definedKeys returns the integer map keys a message struct defines, read
// from its cbor struct tags.
func definedKeys(t reflect.Type) map[uint64]bool {
	if keys, ok := keyCache.Load(t); ok {
		return keys.(map[uint64]bool)
	}
	keys := map[uint64]bool{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("cbor"), ",")
		if k, err := strconv.ParseUint(name, 10, 64); err == nil {
			keys[k] = true
		}
	}
	keyCache.Store(t, keys)
	return keys
}

var keyCache sync.Map // reflect.Type -> map[uint64]bool
