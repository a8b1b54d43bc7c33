// Package store is the node's durable state behind one interface, Store:
// the customer's own intents with their private per-intent keys, the live
// intents and tombstones seen on the network, offers received and sent,
// deals, and the replay index that the gossip validators consult.
//
// The store holds raw wire bytes plus the few fields it indexes, so it does
// not depend on the protocol codec: the node decodes, validates and decides;
// the store remembers. Package storetest is the conformance suite that every
// implementation must pass.
//
// # Bolt
//
// Bolt keeps the store in one go.etcd.io/bbolt file. bbolt is pure Go (no
// cgo), one file, and ACID: a write transaction is fsynced before it
// returns, and a crash at any moment (even SIGKILL mid-write) leaves the file
// at the last committed transaction, never corrupt. It is small and well
// kept (it is etcd's storage engine). Every query here is a key lookup or a
// prefix/range scan over a sorted index, so SQL would buy little for its
// size. The indexes are kept by hand, in one place (table); bolt_layout.go
// lists the buckets and their keys.
//
// Records are CBOR maps with small integer keys (github.com/fxamacker/cbor/v2,
// already the project's wire codec): byte strings are stored as they are
// (JSON would base64 every raw message, a third larger), each record is
// self-describing so fields can be added without rewriting old records (a
// hand-rolled binary layout could not), and there is no per-value type
// preamble (as gob writes for every independently encoded value).
//
// The file is created with mode 0600 in a 0700 directory because it holds
// private keys; Open enforces the mode on an existing file. Only one process
// may have it open: a second one gets ErrLocked after a second rather than
// hanging.
package store
