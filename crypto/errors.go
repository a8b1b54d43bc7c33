package crypto

import "errors"

// Sentinel errors. Every error the package returns for bad input wraps one
// of these, so callers can classify failures with errors.Is while the message
// says what exactly was wrong.
var (
	// ErrMalformed reports a COSE envelope, header or public key whose shape
	// or encoding is not the one this package accepts.
	ErrMalformed = errors.New("malformed COSE message")
	// ErrBadKey reports a public key that is well formed but not valid for
	// its algorithm: a non-canonical encoding, a point not on the curve, or
	// a weak (small-order) key. See CheckSigningKey and PublicReplyKey.Check.
	ErrBadKey = errors.New("invalid public key")
	// ErrBadSignature reports a signature that does not verify under the
	// given key, or a key that cannot verify anything.
	ErrBadSignature = errors.New("signature does not verify")
	// ErrOpen reports a sealed message that cannot be opened: wrong key,
	// tampered or truncated ciphertext, or mismatched info or aad.
	ErrOpen = errors.New("sealed message cannot be opened")
	// ErrUnknownSuite reports an HPKE KEM identifier this package does not
	// support.
	ErrUnknownSuite = errors.New("unknown HPKE suite")
	// ErrKeyFile reports a key file (or key material) that cannot be used:
	// wrong permissions, wrong PEM type, wrong size.
	ErrKeyFile = errors.New("bad key file")
)
