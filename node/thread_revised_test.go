package node

import (
	"testing"
	"time"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// TestThreadCounterOnRevisedOffer: a revised offer does not root a thread
// of its own (docs/PROTOCOL.md, "Countering a revised offer"). A counter
// naming the revised offer as its thread is refused by the vendor; the
// counter the customer makes to the revised offer is the next message of
// the root's thread.
func TestThreadCounterOnRevisedOffer(t *testing.T) {
	p := newThreadParties(t)
	ctx := t.Context()
	if _, err := p.customer.Counter(ctx, p.offer, intent.CounterDraft{Text: "cheaper?"}); err != nil {
		t.Fatal(err)
	}
	awaitThread(t, p.vendor, p.offer, 1)
	tr, err := p.vendor.ReplyThread(ctx, p.offer, intent.ReplyDraft{Offer: &intent.OfferDraft{Price: 104000, Text: "1040"}})
	if err != nil {
		t.Fatal(err)
	}
	revised := tr.Messages[1].Offer
	awaitThread(t, p.customer, p.offer, 2)

	// Signed by the intent's key and well formed, but its thread is the
	// revised offer's hash: a second thread the vendor must not open.
	own, err := p.customer.ownIntent(ctx, p.in.ID)
	if err != nil {
		t.Fatal(err)
	}
	rh := intent.OfferHash(revised.Offer.Raw)
	stray, err := crypto.Sign1(own.keys.Signing, intent.ContentCounter, mustMarshalWire(t, intent.Counter{Version: intent.Version,
		IntentID: p.in.ID[:], Thread: rh[:], Seq: 1, Prev: rh[:], Created: time.Now().Unix(), Text: "a thread of its own?"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.vendor.deliverThread(ctx, sealThreadTo(t, p.vendor.identity.Reply.Public(), p.in.ID, stray)); err != nil {
		t.Fatal(err)
	}
	if msgs, err := p.vendor.store.ThreadMessages(ctx, p.in.ID); err != nil || len(msgs) != 2 {
		t.Fatalf("the vendor keeps %d thread messages after a counter rooted at a revised offer (%v), want 2", len(msgs), err)
	}

	// Countering the revised offer continues the root's thread at place 3.
	tr, err = p.customer.Counter(ctx, revised.ID, intent.CounterDraft{Price: 102000})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Root != p.offer || len(tr.Messages) != 3 || tr.Messages[2].Seq != 3 {
		t.Fatalf("the customer's counter to the revised offer: root %s, %d messages", tr.Root.Short(), len(tr.Messages))
	}
	if vt := awaitThread(t, p.vendor, p.offer, 3); vt.Messages[2].Price != 102000 {
		t.Fatalf("the vendor's place 3: %+v", vt.Messages[2])
	}
}
