package storetest

import (
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// testOutbox: Apply stores own messages with how far they got, replacing
// them by ID as their status moves on; Outbox lists them, soonest expiry
// first; an unknown kind or status is refused; Prune deletes the expired.
func testOutbox(t *testing.T, s store.Store) {
	ctx := t.Context()
	queued := store.Outgoing{
		ID: idOf("out-offer"), Kind: store.MessageOffer, IntentID: idOf("i1"), OfferID: idOf("out-offer"),
		Category: "home", Raw: []byte("sealed"), Status: store.SendQueued, Queued: t0, Expires: t0.Add(time.Hour),
	}
	soon := store.Outgoing{
		ID: idOf("out-intent"), Kind: store.MessageIntent, IntentID: idOf("out-intent"),
		Category: "home", Raw: []byte("intent"), Status: store.SendQueued, Queued: t0, Expires: t0.Add(time.Minute),
	}
	must(t, s.Apply(ctx, store.Batch{Outbox: []store.Outgoing{queued, soon}}))
	sent := queued
	sent.Status, sent.Sent, sent.Peers = store.SendSent, t0.Add(time.Second), 3
	must(t, s.Apply(ctx, store.Batch{Outbox: []store.Outgoing{sent}}))
	list, err := s.Outbox(ctx)
	must(t, err)
	if len(list) != 2 {
		t.Fatalf("Outbox = %d entries, want 2", len(list))
	}
	same(t, "first outbox entry (soonest expiry)", list[0], soon)
	same(t, "second outbox entry, replaced", list[1], sent)

	bad := soon
	bad.Status = "lost"
	if err := s.Apply(ctx, store.Batch{Outbox: []store.Outgoing{bad}}); err == nil {
		t.Error("Apply stored an outbox entry of status \"lost\"")
	}
	bad = soon
	bad.Kind = "rating"
	if err := s.Apply(ctx, store.Batch{Outbox: []store.Outgoing{bad}}); err == nil {
		t.Error("Apply stored an outbox entry of kind \"rating\"")
	}

	if _, err := s.Prune(ctx, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	list, err = s.Outbox(ctx)
	must(t, err)
	if len(list) != 1 || list[0].ID != sent.ID {
		t.Errorf("after Prune, Outbox = %v, want only the offer", list)
	}
}
