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
