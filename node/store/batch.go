package store

import "time"

// SeenEntry is one replay-index entry for Batch.
type SeenEntry struct {
	ID    ID
	Until time.Time
}

// Batch is a group of writes that Apply makes in one transaction: all of
// them or, on error, none. A node makes each change of its state as one
// batch (a publish: the intent with its keys; an offer received or sent;
// an accept: the offer, the intent's state and the deal; a closure: the
// offer and the deal; a cancel: the tombstone), and writes the live
// intents, relayed offers and replay entries of gossip behind, as one
// batch a flush.
// Within a batch, records are written in the order of the fields below.
type Batch struct {
	Own        []OwnIntent  // as PutOwnIntent
	Offers     []Offer      // as PutOffer
	Tombstones []Tombstone  // as PutTombstone: the live intent goes
	Live       []LiveIntent // as PutLiveIntent: skipped if tombstoned
	// Relay are relayed offers kept for store-and-forward, inserted or
	// replaced by ID; one whose intent has a tombstone is skipped (a
	// closed intent takes no offers).
	Relay []RelayedOffer
	// Unrelay are relayed offers displaced from store-and-forward by
	// offers with more work: deleted after Relay is written (an ID that is
	// not stored is no error).
	Unrelay []ID
	// Outbox are own messages and how far they got, inserted or replaced
	// by message ID.
	Outbox []Outgoing
	Seen   []SeenEntry // as MarkSeen: the later until wins
	// Threads are thread messages, inserted or replaced by ID.
	Threads []ThreadMessage
	Deals   []Deal // as PutDeal, last: whoever sees the deal sees the rest
}
