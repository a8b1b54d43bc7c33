// Package storetest is the conformance suite for store.Store: every
// implementation runs Run against itself, so all of them keep the same
// promises (round trips, orderings, expiry, tombstones, the replay index's
// atomicity, Close and context handling) and the node can rely on them.
package storetest
