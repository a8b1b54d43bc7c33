package crypto

import (
	"crypto/ecdh"
	"crypto/hpke"
	"fmt"
)

// Suite identifies an HPKE ciphersuite by its KEM identifier (RFC 9180,
// section 7.1). The KDF (HKDF-SHA256) and AEAD (ChaCha20-Poly1305) are the
// same for every suite, so the KEM alone names the suite on the wire.
type Suite uint16

// The supported suites.
const (
	// SuiteX25519 is DHKEM(X25519, HKDF-SHA256), the default.
	SuiteX25519 Suite = 0x0020
	// SuiteXWing is MLKEM768-X25519 (X-Wing), a hybrid post-quantum KEM for
	// intents that ask for one; its keys and encapsulations are larger.
	SuiteXWing Suite = 0x647a
)

// String returns a short lower-case name, also used in benchmark and CLI
// output.
func (s Suite) String() string {
	switch s {
	case SuiteX25519:
		return "x25519"
	case SuiteXWing:
		return "xwing"
	}
	return fmt.Sprintf("Suite(0x%04x)", uint16(s))
}

// Valid reports whether s is a supported suite.
func (s Suite) Valid() bool {
	_, err := s.kem()
	return err == nil
}

// kem returns the suite's KEM.
func (s Suite) kem() (hpke.KEM, error) {
	switch s {
	case SuiteX25519:
		return hpke.DHKEM(ecdh.X25519()), nil
	case SuiteXWing:
		return hpke.MLKEM768X25519(), nil
	}
	return nil, fmt.Errorf("HPKE KEM 0x%04x is not one of 0x%04x (%s) or 0x%04x (%s): %w",
		uint16(s), uint16(SuiteX25519), SuiteX25519, uint16(SuiteXWing), SuiteXWing, ErrUnknownSuite)
}

// encSize is the length of the suite's encapsulated key, the prefix of every
// sealed message.
func (s Suite) encSize() int {
	switch s {
	case SuiteX25519:
		return 32
	case SuiteXWing:
		return 1088 + 32 // ML-KEM-768 ciphertext, then an X25519 share
	}
	return 0
}

// SealOverhead is how many bytes Seal adds to a plaintext for a key of the
// suite: the encapsulated key and the AEAD tag (48 for X25519, 1136 for
// X-Wing); 0 for an unknown suite.
func (s Suite) SealOverhead() int {
	if n := s.encSize(); n > 0 {
		return n + aeadTagSize
	}
	return 0
}

// The KDF and AEAD every suite uses. ChaCha20-Poly1305 is constant-time in
// software, so it is fast and safe on every node, with or without AES
// instructions.
var (
	suiteKDF  = hpke.HKDFSHA256()
	suiteAEAD = hpke.ChaCha20Poly1305()
)
