package crypto

import (
	"bytes"
	"crypto/mlkem"
	"fmt"
)

// Key validity. A public key that arrives on the wire is used only if it is
// the one canonical encoding of a key that has no weakness an attacker can
// choose:
//
//   - Ed25519 (signing keys): RFC 8032 section 5.1.3 decoding succeeds
//     (which refuses y ≥ p and x = 0 with the sign bit set) and the point is
//     not of small order ([8]A is not the identity). Under a small-order key
//     one fixed signature verifies for every message (the identity point with
//     R = identity, S = 0), so anyone could forge the holder's messages and
//     the holder could deny its own.
//   - X25519 (reply keys, and the X25519 half of X-Wing): the most
//     significant bit is clear, the u-coordinate is below p, and it is none
//     of the five u-coordinates of points of order dividing 8 (on the curve
//     or its twist): 0, 1, p−1 and the two of order 8. For exactly these,
//     X25519 with any clamped scalar gives the all-zero shared secret, so no
//     offer could ever be sealed to the key.
//   - ML-KEM-768 (the other half of X-Wing): the encapsulation key check of
//     FIPS 203 section 7.2 (every coefficient below q = 3329).

// CheckSigningKey reports whether pub is a valid Ed25519 public key: the
// canonical encoding of a curve point not of small order. Errors wrap
// ErrBadKey. ParseVerifyingKey makes the same check and keeps the decoded
// key.
func CheckSigningKey(pub []byte) error {
	_, err := ParseVerifyingKey(pub)
	return err
}

// checkX25519 reports whether u is a valid X25519 public key.
func checkX25519(u []byte) error {
	if len(u) != 32 {
		return fmt.Errorf("X25519 public key of %d bytes, want 32: %w", len(u), ErrMalformed)
	}
	if u[31]&0x80 != 0 || !belowP(u) {
		return fmt.Errorf("X25519 public key %x: not the canonical encoding of a u-coordinate below 2^255-19: %w", u, ErrBadKey)
	}
	for _, bad := range x25519SmallOrder {
		if bytes.Equal(u, bad[:]) {
			return fmt.Errorf("X25519 public key %x: a point of small order (no shared secret): %w", u, ErrBadKey)
		}
	}
	return nil
}

// checkXWing reports whether k is an X-Wing public key of the right length
// (an ML-KEM-768 encapsulation key followed by an X25519 public key) whose
// X25519 part is valid. The ML-KEM part is checked by hpke's NewPublicKey,
// which parses it anyway (see PublicReplyKey.hpkeKey).
func checkXWing(k []byte) error {
	if len(k) != mlkem.EncapsulationKeySize768+32 {
		return fmt.Errorf("X-Wing public key of %d bytes, want %d: %w", len(k), mlkem.EncapsulationKeySize768+32, ErrMalformed)
	}
	if err := checkX25519(k[mlkem.EncapsulationKeySize768:]); err != nil {
		return fmt.Errorf("X-Wing public key: X25519 part: %w", err)
	}
	return nil
}

// fieldP is 2^255-19, little-endian.
var fieldP = [32]byte{0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}

// belowP reports whether the little-endian 32-byte v is below p.
func belowP(v []byte) bool {
	for i := 31; i >= 0; i-- {
		if v[i] != fieldP[i] {
			return v[i] < fieldP[i]
		}
	}
	return false
}

// x25519SmallOrder are the canonical u-coordinates (little-endian) of the
// points of order dividing 8 on Curve25519 and its twist.
var x25519SmallOrder = [][32]byte{
	{},     // 0: order 2 (and 4 on the twist)
	{0x01}, // 1: order 4
	{0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, // p-1: order 4 on the twist
	{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
		0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00}, // order 8
	{0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
		0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57}, // order 8
}
