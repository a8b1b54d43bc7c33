package crypto

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
)

// SigningKey is an Ed25519 private key: the per-intent ephemeral key of a
// customer, or the long-term identity key of a vendor. The zero value holds
// no key.
type SigningKey struct {
	priv ed25519.PrivateKey
}

// GenerateSigningKey returns a fresh key from crypto/rand.
func GenerateSigningKey() (SigningKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return SigningKey{}, fmt.Errorf("generate Ed25519 signing key: %w", err)
	}
	return SigningKey{priv: priv}, nil
}

// SigningKeyFromSeed rebuilds a key from the 32-byte seed returned by Seed.
func SigningKeyFromSeed(seed []byte) (SigningKey, error) {
	if len(seed) != ed25519.SeedSize {
		return SigningKey{}, fmt.Errorf("Ed25519 signing key from seed: seed is %d bytes, want %d: %w",
			len(seed), ed25519.SeedSize, ErrKeyFile)
	}
	return SigningKey{priv: ed25519.NewKeyFromSeed(seed)}, nil
}

// Seed returns a copy of the key's 32-byte seed, the form a store keeps; nil
// for the zero key.
func (k SigningKey) Seed() []byte {
	if k.IsZero() {
		return nil
	}
	return k.priv.Seed()
}

// Public returns the key's public half; nil for the zero key.
func (k SigningKey) Public() ed25519.PublicKey {
	if k.IsZero() {
		return nil
	}
	return k.priv.Public().(ed25519.PublicKey)
}

// IsZero reports whether k holds no key.
func (k SigningKey) IsZero() bool { return k.priv == nil }

// String names the key by its public half, so that printing a key (or a
// struct holding one) in a log never leaks the private half.
func (k SigningKey) String() string {
	if k.IsZero() {
		return "SigningKey(zero)"
	}
	return fmt.Sprintf("SigningKey(ed25519 public %x)", []byte(k.Public()))
}

// GoString keeps %#v as discreet as %v.
func (k SigningKey) GoString() string { return k.String() }
