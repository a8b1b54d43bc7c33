package crypto

import (
	"crypto/hpke"
	"fmt"
	"slices"
)

// PublicReplyKey is the public half of a ReplyKey, as an intent (or a
// vendor's offer) carries it: offers and accepts are sealed to it.
type PublicReplyKey struct {
	Suite Suite
	Key   []byte // the serialized KEM public key (RFC 9180 SerializePublicKey)
}

// Check reports whether the suite is supported and Key is a valid public key
// for it (see keycheck.go). Errors wrap ErrUnknownSuite (the suite),
// ErrMalformed (the key's length) or ErrBadKey (its value).
func (p PublicReplyKey) Check() error {
	if p.Suite == SuiteX25519 {
		// checkX25519 is every check of an X25519 key (crypto/ecdh's only
		// checks its length), so a relay checking an intent's reply key
		// builds no key object.
		if err := checkX25519(p.Key); err != nil {
			return fmt.Errorf("check HPKE public reply key: %w", err)
		}
		return nil
	}
	_, err := p.hpkeKey()
	return err
}

// hpkeKey checks and deserializes the key for its suite.
func (p PublicReplyKey) hpkeKey() (hpke.PublicKey, error) {
	kem, err := p.Suite.kem()
	if err != nil {
		return nil, fmt.Errorf("check HPKE public reply key: %w", err)
	}
	check := checkX25519
	if p.Suite == SuiteXWing {
		check = checkXWing
	}
	if err := check(p.Key); err != nil {
		return nil, fmt.Errorf("check HPKE public reply key: %w", err)
	}
	// For X-Wing this runs the ML-KEM-768 encapsulation key check (FIPS 203
	// section 7.2): done here once, as it expands the key's matrix.
	pk, err := kem.NewPublicKey(p.Key)
	if err != nil {
		return nil, fmt.Errorf("check HPKE public reply key: not a valid %s public key (%v): %w", p.Suite, err, ErrBadKey)
	}
	return pk, nil
}

// ReplyKey is an HPKE private key: the per-intent key a customer's offers are
// sealed to, or a vendor's long-term key its accepts are sealed to. The zero
// value holds no key.
type ReplyKey struct {
	suite Suite
	priv  hpke.PrivateKey
	// Serialized at construction, where a failure can be reported, so that
	// Bytes and Public cannot fail.
	raw []byte
	pub []byte
}

// GenerateReplyKey returns a fresh key for suite s from crypto/rand.
func GenerateReplyKey(s Suite) (ReplyKey, error) {
	kem, err := s.kem()
	if err != nil {
		return ReplyKey{}, fmt.Errorf("generate HPKE reply key: %w", err)
	}
	priv, err := kem.GenerateKey()
	if err != nil {
		return ReplyKey{}, fmt.Errorf("generate HPKE reply key for %s: %w", s, err)
	}
	return newReplyKey(s, priv)
}

// ReplyKeyFromBytes rebuilds a key from the serialized form returned by
// Bytes. Errors wrap ErrUnknownSuite or ErrKeyFile.
func ReplyKeyFromBytes(s Suite, b []byte) (ReplyKey, error) {
	kem, err := s.kem()
	if err != nil {
		return ReplyKey{}, fmt.Errorf("load HPKE reply key: %w", err)
	}
	priv, err := kem.NewPrivateKey(b)
	if err != nil {
		return ReplyKey{}, fmt.Errorf("load HPKE reply key: %d bytes are not a %s private key (%v): %w",
			len(b), s, err, ErrKeyFile)
	}
	return newReplyKey(s, priv)
}

func newReplyKey(s Suite, priv hpke.PrivateKey) (ReplyKey, error) {
	raw, err := priv.Bytes()
	if err != nil {
		return ReplyKey{}, fmt.Errorf("serialize %s HPKE reply key: %w", s, err)
	}
	return ReplyKey{suite: s, priv: priv, raw: raw, pub: priv.PublicKey().Bytes()}, nil
}

// Bytes returns a copy of the serialized private key (RFC 9180
// SerializePrivateKey), the form a store keeps.
func (k ReplyKey) Bytes() []byte { return slices.Clone(k.raw) }

// Suite returns the key's suite.
func (k ReplyKey) Suite() Suite { return k.suite }

// Public returns the key's public half.
func (k ReplyKey) Public() PublicReplyKey {
	return PublicReplyKey{Suite: k.suite, Key: slices.Clone(k.pub)}
}

// IsZero reports whether k holds no key.
func (k ReplyKey) IsZero() bool { return k.priv == nil }

// String names the key by its suite and the start of its public half, so
// that printing a key in a log never leaks the private half.
func (k ReplyKey) String() string {
	if k.IsZero() {
		return "ReplyKey(zero)"
	}
	return fmt.Sprintf("ReplyKey(%s public %x…)", k.suite, k.pub[:8])
}

// GoString keeps %#v as discreet as %v.
func (k ReplyKey) GoString() string { return k.String() }
