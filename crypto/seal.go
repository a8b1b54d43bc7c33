package crypto

import (
	"crypto/hpke"
	"fmt"
)

// aeadTagSize is ChaCha20-Poly1305's tag: the smallest possible ciphertext.
const aeadTagSize = 16

// Seal encrypts plaintext to pub in HPKE base mode. info binds the context
// (e.g. the intent ID) into the key schedule and aad is authenticated by the
// AEAD; Open must be given both unchanged. The result is the encapsulated key
// followed by the ciphertext. Errors wrap ErrUnknownSuite, ErrMalformed or
// ErrBadKey when pub is unusable.
func Seal(pub PublicReplyKey, info, aad, plaintext []byte) ([]byte, error) {
	pk, err := pub.hpkeKey()
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	enc, sender, err := hpke.NewSender(pk, suiteKDF, suiteAEAD, info)
	if err != nil {
		// Check refused low-order keys, so this is not the peer's doing.
		return nil, fmt.Errorf("seal to %s key: encapsulate: %w", pub.Suite, err)
	}
	ct, err := sender.Seal(aad, plaintext)
	if err != nil {
		return nil, fmt.Errorf("seal to %s key: encrypt %d bytes: %w", pub.Suite, len(plaintext), err)
	}
	return append(enc, ct...), nil
}

// Open decrypts a message made by Seal for k's public key, with the same info
// and aad. Every failure wraps ErrOpen: too short, wrong key, tampered, or
// info or aad that differ from the sender's.
func Open(k ReplyKey, info, aad, sealed []byte) ([]byte, error) {
	if k.IsZero() {
		return nil, fmt.Errorf("open sealed message: the reply key is the zero key: %w", ErrOpen)
	}
	encSize := k.suite.encSize()
	if len(sealed) < encSize+aeadTagSize {
		return nil, fmt.Errorf("open sealed message: %d bytes is shorter than the %d-byte minimum for %s: %w",
			len(sealed), encSize+aeadTagSize, k.suite, ErrOpen)
	}
	recipient, err := hpke.NewRecipient(sealed[:encSize], k.priv, suiteKDF, suiteAEAD, info)
	if err != nil {
		return nil, fmt.Errorf("open sealed message: decapsulate %s key: %w: %w", k.suite, ErrOpen, err)
	}
	plaintext, err := recipient.Open(aad, sealed[encSize:])
	if err != nil {
		// Wrong key, tampered bytes, or a different info or aad: the AEAD
		// cannot tell these apart, and neither can we.
		return nil, fmt.Errorf("open sealed message with %s key: wrong key, tampered, or different info or aad: %w", k.suite, ErrOpen)
	}
	return plaintext, nil
}
