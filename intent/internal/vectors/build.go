package vectors

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/fxamacker/cbor/v2"
	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// The builders here encode bodies with their own Core Deterministic encoder,
// not the intent package's: the vectors then also check that the package
// accepts what any conforming encoder writes.
var enc = func() cbor.EncMode {
	em, err := cbor.CoreDetEncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return em
}()

// fixedKey derives a fixed 32-byte key from its name, so the keys in the
// vectors are reproducible from their description alone.
func fixedKey(name string) []byte {
	h := sha256.Sum256([]byte("intentcast/1/vectors/" + name))
	return h[:]
}

// entry is one pair of a payload map, its value kept as raw bytes so that
// vectors can hold encodings no encoder writes.
type entry struct {
	key uint64
	val []byte
}

// split decodes a payload map into its pairs, in key order.
func split(payload []byte) ([]entry, error) {
	var m map[uint64]cbor.RawMessage
	if err := cbor.Unmarshal(payload, &m); err != nil {
		return nil, fmt.Errorf("split payload: %w", err)
	}
	var es []entry
	for k, v := range m {
		es = append(es, entry{k, v})
	}
	slices.SortFunc(es, func(a, b entry) int { return int(a.key) - int(b.key) })
	return es, nil
}

// join writes pairs as a map verbatim, duplicates and all. Keys and counts
// stay below 24, so each head is one byte.
func join(es []entry) []byte {
	b := []byte{0xa0 | byte(len(es))}
	for _, e := range es {
		b = append(b, byte(e.key))
		b = append(b, e.val...)
	}
	return b
}

// edit rewrites one value of a payload map.
func edit(payload []byte, key uint64, f func([]byte) []byte) ([]byte, error) {
	es, err := split(payload)
	if err != nil {
		return nil, err
	}
	for i := range es {
		if es[i].key == key {
			es[i].val = f(bytes.Clone(es[i].val))
			return join(es), nil
		}
	}
	return nil, fmt.Errorf("edit payload: no key %d", key)
}

// nonceHead is key 11 followed by the head of an 8-byte byte string.
var nonceHead = []byte{0x0b, 0x48}

// mint gives payload bits of work. The nonce is normally last and the real
// intent.Mint finds it; a vector with an unknown higher key gets a plain
// search over the same nonce.
func mint(payload []byte, bits int) error {
	i := bytes.LastIndex(payload, nonceHead)
	if i < 0 || len(payload) < i+len(nonceHead)+intent.NonceSize {
		return fmt.Errorf("mint: payload has no nonce")
	}
	nonce := payload[i+len(nonceHead) : i+len(nonceHead)+intent.NonceSize]
	if len(payload) == i+len(nonceHead)+intent.NonceSize {
		return intent.Mint(context.Background(), payload, bits, nil)
	}
	for n := uint64(0); ; n++ {
		binary.BigEndian.PutUint64(nonce, n)
		if intent.CheckWork(payload, bits) {
			return nil
		}
	}
}

// sign wraps payload in a COSE_Sign1 of content type ct signed by k.
func sign(k crypto.SigningKey, ct string, payload []byte) ([]byte, error) {
	raw, err := crypto.Sign1(k, ct, payload)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", ct, err)
	}
	return raw, nil
}

// encode is the canonical encoding of v.
func encode(v any) ([]byte, error) {
	b, err := enc.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

// encodeChanged is encode(v), rewritten by change unless change is nil: how
// a vector breaks one field of an otherwise valid payload.
func encodeChanged(v any, change func([]byte) ([]byte, error)) ([]byte, error) {
	p, err := encode(v)
	if err != nil || change == nil {
		return p, err
	}
	return change(p)
}

// identityPoint is the Ed25519 encoding of the identity (y = 1), a point of
// small order.
func identityPoint() []byte { return append([]byte{0x01}, make([]byte, 31)...) }

// nonCanonicalY3 encodes y = 3 + p: the point y = 3 (of large order) in a
// form RFC 8032 refuses.
func nonCanonicalY3() []byte {
	b := bytes.Repeat([]byte{0xff}, 32)
	b[0], b[31] = 0xf0, 0x7f
	return b
}

// x25519OrderEight is the u-coordinate of a point of order 8.
func x25519OrderEight() []byte {
	b, _ := hex.DecodeString("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")
	return b
}
