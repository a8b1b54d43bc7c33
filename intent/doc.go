// Package intent defines the intentcast wire protocol: the four messages
// (Intent, Offer, Accept, Cancel), their canonical CBOR encoding, how they are
// signed and sealed, the proof-of-work that prices an intent, and the rules
// every node applies before it stores or forwards one.
//
// The package is pure: it does no network or disk I/O and reads no clock.
// Time is passed in (Validate(now)), so every rule is testable and every
// implementation can be checked against the same vectors (docs/PROTOCOL.md).
//
// Errors are sentinel values wrapped with %w. Each belongs to one of two
// classes: Reject (the message is invalid for every honest node at every
// moment; the sender is penalised) and Ignore (the verdict depends on time or
// local state). Ignorable reports which.
package intent
