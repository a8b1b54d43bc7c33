package crypto

import (
	"bytes"
	"crypto/sha512"
	"fmt"

	"filippo.io/edwards25519"
)

// VerifyingKey is an Ed25519 public key that passed CheckSigningKey, kept
// decoded. Decoding a key (a square root in the field) is the one costly
// part of the key check, and crypto/ed25519 would decode it once more for
// every signature: a relay checks an intent's key in its schema step and
// verifies the intent's signature under it a few microseconds later, and
// every cancel and accept of that intent is verified under the same key.
// With a VerifyingKey the key is decoded once.
//
// The zero VerifyingKey is not valid; make one with ParseVerifyingKey. It is
// safe for concurrent use.
type VerifyingKey struct {
	pub  [32]byte
	negA edwards25519.Point // −A, as the verification equation uses it
	ok   bool
}

// ParseVerifyingKey checks pub as CheckSigningKey does and returns it
// decoded. Errors wrap ErrBadKey.
func ParseVerifyingKey(pub []byte) (VerifyingKey, error) {
	var k VerifyingKey
	if len(pub) != 32 {
		return k, fmt.Errorf("Ed25519 public key of %d bytes, want 32: %w", len(pub), ErrBadKey)
	}
	// y is the low 255 bits, little-endian; RFC 8032 refuses y ≥ p, which
	// filippo.io/edwards25519 (like most libraries) would accept.
	copy(k.pub[:], pub)
	y := k.pub
	y[31] &= 0x7f
	if !belowP(y[:]) {
		return k, fmt.Errorf("Ed25519 public key %x: y-coordinate not below 2^255-19 (non-canonical encoding): %w", pub, ErrBadKey)
	}
	a, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return k, fmt.Errorf("Ed25519 public key %x: not a point on the curve: %w", pub, ErrBadKey)
	}
	// x = 0 with the sign bit set is refused by RFC 8032 too; such points
	// (y = 1 and y = -1) have small order, so the next check refuses them.
	if new(edwards25519.Point).MultByCofactor(a).Equal(edwards25519.NewIdentityPoint()) == 1 {
		return k, fmt.Errorf("Ed25519 public key %x: a point of small order: %w", pub, ErrBadKey)
	}
	k.negA.Negate(a)
	k.ok = true
	return k, nil
}

// IsZero reports whether k is the zero VerifyingKey, which verifies nothing.
func (k *VerifyingKey) IsZero() bool { return !k.ok }

// verify is Ed25519 verification (RFC 8032 section 5.1.7, cofactorless, as
// crypto/ed25519 does it, see docs/PROTOCOL.md "Signatures") of the
// COSE_Sign1 Sig_structure of m, which it hashes in pieces rather than
// building: S must be below L, k = SHA-512(R || A || Sig_structure) mod L,
// and [S]B − [k]A must encode to exactly R. The hash is written here and
// not in a helper taking a hash.Hash, so that it and the CBOR heads stay on
// the stack: every relay verifies every intent it passes on.
func (k *VerifyingKey) verify(m *Sign1Message) bool {
	sig := m.Signature
	if !k.ok || len(sig) != 64 || sig[63]&0xe0 != 0 {
		return false
	}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	// The Sig_structure: the canonical CBOR of ["Signature1", protected,
	// external_aad (none), payload], protected being the header's bytes as
	// received.
	var heads [len(sigStructureHead) + bstrHeadMax]byte
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(k.pub[:])
	h.Write(appendBstrHead(append(heads[:0], sigStructureHead...), len(m.Protected)))
	h.Write(m.Protected)
	h.Write(appendBstrHead(appendBstrHead(heads[:0], 0), len(m.Payload)))
	h.Write(m.Payload)
	var digest [sha512.Size]byte
	kh, err := edwards25519.NewScalar().SetUniformBytes(h.Sum(digest[:0]))
	if err != nil {
		return false
	}
	r := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(kh, &k.negA, s)
	return bytes.Equal(sig[:32], r.Bytes())
}

// sigStructureHead is the start of every COSE_Sign1 Sig_structure (RFC
// 9052 section 4.4): an array of 4 and the text string "Signature1".
const sigStructureHead = "\x84\x6aSignature1"
