package store

import "time"

// SeenEntry is one replay-index entry for Batch.
type SeenEntry struct {
	ID    ID
	Until time.Time
}

// Batch is a group of writes of network-derived state that a node makes
// many times a second: live intents and replay entries. Apply writes a
// batch in one transaction, so a node pays one disk sync per flush instead
// of one per gossip message.
type Batch struct {
	Live []LiveIntent // as PutLiveIntent: skipped if tombstoned
	Seen []SeenEntry  // as MarkSeen: the later until wins
}
