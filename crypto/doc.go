// Package crypto holds intentcast's keys and envelopes.
//
// It provides:
//
//   - Ed25519 signing keys (SigningKey): a fresh one for every intent, and
//     the vendor's long-term identity key;
//   - COSE_Sign1 envelopes (RFC 9052, EdDSA) with a strict, canonical parser,
//     so that one signed message has exactly one encoding and therefore one
//     ID (Sign1, ParseSign1, Sign1Message.Verify);
//   - HPKE sealing (RFC 9180, Go's crypto/hpke) of offers and accepts to a
//     reply key, with X25519 by default and the X-Wing hybrid post-quantum
//     KEM on request (Suite, ReplyKey, Seal, Open);
//   - key files: PEM, written atomically with mode 0600, refused when other
//     users can read them (WriteSigningKeyFile, WriteIdentityFile and their
//     readers).
//
// The package does no network I/O and keeps no state; randomness comes from
// crypto/rand.
package crypto
