package node

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// threadParties is a customer, a vendor and a relay between them (the
// customer and the vendor are not connected), with an intent and the
// vendor's offer to it, which the customer holds.
type threadParties struct {
	relay, customer, vendor *Node
	in                      *intent.SignedIntent
	offer                   intent.ID
}

func newThreadParties(t *testing.T) *threadParties {
	t.Helper()
	relay := startNode(t, syncTestConfig(t, true))
	join := func() *Node {
		cfg := syncTestConfig(t, true)
		cfg.Bootstrap = addrsOf(relay)
		return startNode(t, cfg)
	}
	p := &threadParties{relay: relay, customer: join(), vendor: join()}
	awaitNodeMeshes(t, []*Node{relay, p.customer, p.vendor})
	var err error
	if p.in, err = p.customer.Publish(t.Context(), laptopDraft(time.Now()), nil); err != nil {
		t.Fatal(err)
	}
	// The relay too: an offer to an intent it does not know yet is not
	// relayed (the customer's intent may still be on its stem).
	eventually(t, 15*time.Second, "the vendor and the relay know the intent", func() bool { return isLive(p.vendor, p.in.ID) && isLive(relay, p.in.ID) })
	s, err := p.vendor.SendOffer(t.Context(), p.in.ID, intent.OfferDraft{Price: 110000, Text: "X1, ships tomorrow"})
	if err != nil {
		t.Fatal(err)
	}
	p.offer = s.ID
	eventually(t, 15*time.Second, "the customer opens the offer", func() bool {
		o, err := p.customer.Offer(t.Context(), s.ID)
		return err == nil && o.Status == OfferValid
	})
	return p
}

// awaitThread waits until n's thread on the root offer holds count
// messages.
func awaitThread(t *testing.T, n *Node, root intent.ID, count int) ThreadRecord {
	t.Helper()
	var tr ThreadRecord
	eventually(t, 15*time.Second, "the thread holds the message", func() bool {
		var err error
		tr, err = n.Thread(t.Context(), root)
		return err == nil && len(tr.Messages) >= count
	})
	if len(tr.Messages) != count {
		t.Fatalf("the thread holds %d messages, want %d", len(tr.Messages), count)
	}
	return tr
}

// TestThreadCounterReviseAccept: the customer counters, the vendor answers
// with a revised offer, both hold the same chain, the customer accepts the
// revised offer by the ordinary accept path and both hold a deal whose
// record verifies, with the revised price. Each new message is a thread
// event on both sides.
func TestThreadCounterReviseAccept(t *testing.T) {
	p := newThreadParties(t)
	ctx := t.Context()
	csub, vsub := p.customer.Subscribe(), p.vendor.Subscribe()
	defer csub.Close()
	defer vsub.Close()
	counter := intent.CounterDraft{Price: 100000, Text: "Would you do 1000 with a sleeve?",
		Terms: intent.Terms{Custom: map[string]string{"warranty": "2 years"}}}
	if _, err := p.customer.Counter(ctx, p.offer, counter); err != nil {
		t.Fatal(err)
	}
	awaitEvent(t, csub, "the customer's thread event", func(e Event) bool { return e.Kind == EventThread && e.Thread != nil && len(e.Thread.Messages) == 1 })
	e := awaitEvent(t, vsub, "the vendor's thread event", func(e Event) bool { return e.Kind == EventThread && e.Thread != nil && len(e.Thread.Messages) == 1 })
	got := e.Thread.Messages[0]
	if got.From != RoleCustomer || got.Price != 100000 || got.Text != counter.Text || got.Terms == nil || got.Terms.Custom["warranty"] != "2 years" {
		t.Fatalf("the vendor reads %+v", got)
	}
	if e.Thread.Root != p.offer || e.Thread.Role != RoleVendor || e.Thread.Turn != RoleVendor || !e.Thread.Open {
		t.Fatalf("the vendor's thread: root %s role %s turn %s open %v", e.Thread.Root.Short(), e.Thread.Role, e.Thread.Turn, e.Thread.Open)
	}

	tr, err := p.vendor.ReplyThread(ctx, p.offer, intent.ReplyDraft{Offer: &intent.OfferDraft{Price: 104000, Text: "1040 with a sleeve"}, Text: "Meet you at 1040."})
	if err != nil {
		t.Fatal(err)
	}
	revised := tr.Messages[1].ID
	e = awaitEvent(t, csub, "the customer reads the reply", func(e Event) bool { return e.Kind == EventThread && len(e.Thread.Messages) == 2 })
	r := e.Thread.Messages[1]
	if r.From != RoleVendor || r.Offer == nil || r.Offer.Offer.Body.Price != 104000 || r.ID != revised || r.Offer.Status != OfferValid {
		t.Fatalf("the customer reads %+v", r)
	}
	cust := awaitThread(t, p.customer, revised, 2) // a revised offer names its thread too
	vend := awaitThread(t, p.vendor, p.offer, 2)
	for i := range cust.Messages {
		if cust.Messages[i].ID != vend.Messages[i].ID {
			t.Fatalf("message %d differs between the parties", i+1)
		}
	}
	// Both keep the same signed chain.
	cm, _ := p.customer.store.ThreadMessages(ctx, p.in.ID)
	vm, _ := p.vendor.store.ThreadMessages(ctx, p.in.ID)
	if len(cm) != 2 || len(vm) != 2 || !bytes.Equal(cm[0].Raw, vm[0].Raw) || !bytes.Equal(cm[1].Raw, vm[1].Raw) {
		t.Fatal("the parties keep different chains")
	}

	if _, err := p.customer.Accept(ctx, p.in.ID, revised, []byte("Packstation 7")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the vendor holds the deal of the revised offer", func() bool {
		d, err := p.vendor.Deal(ctx, p.in.ID)
		return err == nil && d.OfferID == revised && string(d.Details) == "Packstation 7"
	})
	for _, n := range []*Node{p.customer, p.vendor} {
		rec, err := n.ExportDeal(ctx, p.in.ID)
		if err != nil {
			t.Fatal(err)
		}
		d, err := intent.VerifyDealRecord(rec.Raw, time.Now())
		if err != nil || d.Offer.Body.Price != 104000 {
			t.Fatalf("the deal record of the revised offer: price %v, %v", d, err)
		}
	}
	if o, err := p.customer.Offer(ctx, p.offer); err != nil || o.Status != store.OfferLapsed {
		t.Fatalf("the root offer is %s (%v) after the revised one was accepted, want lapsed", o.Status, err)
	}
}

// TestThreadClosedIntent: once the intent is accepted, the customer
// cannot counter, the vendor cannot reply, and a message sealed by hand
// to the closed intent is not relayed.
func TestThreadClosedIntent(t *testing.T) {
	p := newThreadParties(t)
	ctx := t.Context()
	if _, err := p.customer.Counter(ctx, p.offer, intent.CounterDraft{Text: "cheaper?"}); err != nil {
		t.Fatal(err)
	}
	awaitThread(t, p.vendor, p.offer, 1)
	if _, err := p.customer.Accept(ctx, p.in.ID, p.offer, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the vendor sees the intent closed", func() bool { return !isLive(p.vendor, p.in.ID) })
	// The relay's verdict below needs the accept there too: it may come
	// after the vendor's.
	eventually(t, 15*time.Second, "the relay sees the intent closed", func() bool { return !isLive(p.relay, p.in.ID) })
	if _, err := p.customer.Counter(ctx, p.offer, intent.CounterDraft{Text: "one more"}); !errors.Is(err, ErrThreadClosed) {
		t.Fatalf("a counter on a closed intent: %v, want ErrThreadClosed", err)
	}
	if _, err := p.vendor.ReplyThread(ctx, p.offer, intent.ReplyDraft{Text: "too late"}); !errors.Is(err, ErrThreadClosed) {
		t.Fatalf("a reply on a closed intent: %v, want ErrThreadClosed", err)
	}
	if tr, err := p.vendor.Thread(ctx, p.offer); err != nil || tr.Open {
		t.Fatalf("the vendor's thread is open=%v (%v) after the accept", tr.Open, err)
	}
	// A reply made by hand, valid but for the closed intent: every node
	// Ignores it (the intent is unknown to its validator).
	s := handReply(t, p, "after the close")
	if _, err := p.relay.check(ctx, "electronics", true, s.Raw); !errors.Is(err, errUnknown) {
		t.Fatalf("the relay's verdict on a thread message to a closed intent: %v, want it unknown (Ignore)", err)
	}
}

// handReply makes the vendor's next reply on the parties' thread without
// the node: what a vendor could sign and send whatever its node says.
func handReply(t *testing.T, p *threadParties, text string) *intent.SealedThread {
	t.Helper()
	ctx := t.Context()
	root, err := p.vendor.store.Offer(ctx, p.offer)
	if err != nil {
		t.Fatal(err)
	}
	th, err := p.vendor.loadThread(ctx, p.in, root)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := intent.NewThreadReply(th, p.vendor.identity, intent.ReplyDraft{Text: text}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Mint(ctx, testPolicy.MinOfferWork); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestThreadForgeries: what the customer's node does with thread messages
// that break a rule, each delivered to it as gossip would: none is kept or
// shown, and the thread goes on with the honest next message.
func TestThreadForgeries(t *testing.T) {
	p := newThreadParties(t)
	ctx := t.Context()
	stranger, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	// A counter signed by a key other than the intent's, well chained and
	// sealed to the vendor: the vendor keeps nothing.
	root, err := p.vendor.store.Offer(ctx, p.offer)
	if err != nil {
		t.Fatal(err)
	}
	oh := intent.OfferHash(root.Inner)
	forged, err := crypto.Sign1(stranger.Signing, intent.ContentCounter, mustMarshalWire(t, intent.Counter{Version: intent.Version,
		IntentID: p.in.ID[:], Thread: oh[:], Seq: 1, Prev: oh[:], Created: time.Now().Unix(), Text: "not the customer"}))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.vendor.deliverThread(ctx, sealThreadTo(t, p.vendor.identity.Reply.Public(), p.in.ID, forged)); err != nil {
		t.Fatal(err)
	}
	if msgs, err := p.vendor.store.ThreadMessages(ctx, p.in.ID); err != nil || len(msgs) != 0 {
		t.Fatalf("the vendor keeps %d messages after a forged counter (%v)", len(msgs), err)
	}

	if _, err := p.customer.Counter(ctx, p.offer, intent.CounterDraft{Text: "cheaper?"}); err != nil {
		t.Fatal(err)
	}
	awaitThread(t, p.vendor, p.offer, 1)
	if err != nil {
		t.Fatal(err)
	}
	th, err := p.vendor.loadThread(ctx, p.in, root)
	if err != nil {
		t.Fatal(err)
	}
	// seal signs body with k as a reply and seals it to the intent, as
	// only a party (or, for the forgeries, someone posing as one) can.
	seal := func(k crypto.SigningKey, body intent.ThreadReply) *intent.SealedThread {
		t.Helper()
		raw, err := crypto.Sign1(k, intent.ContentThreadReply, mustMarshalWire(t, body))
		if err != nil {
			t.Fatal(err)
		}
		return sealForCustomer(t, p.in, raw)
	}
	last := th.Last()
	next := func() intent.ThreadReply {
		return intent.ThreadReply{Version: intent.Version, IntentID: p.in.ID[:], Thread: idSlice(th.ID()), Seq: 2,
			Prev: last[:], Created: time.Now().Unix(), Text: "honest?"}
	}
	unchained := next()
	unchained.Prev = make([]byte, 32)
	farAhead := next()
	farAhead.Seq = 4
	cases := []struct {
		name string
		s    *intent.SealedThread
	}{
		{"reply signed by another vendor key", seal(stranger.Signing, next())},
		{"reply not chained to the thread", seal(p.vendor.identity.Signing, unchained)},
		{"reply skipping a place", seal(p.vendor.identity.Signing, farAhead)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := p.customer.deliverThread(ctx, c.s); err != nil {
				t.Fatal(err)
			}
			if tr, err := p.customer.Thread(ctx, p.offer); err != nil || len(tr.Messages) != 1 {
				t.Fatalf("the customer's thread holds %d messages (%v), want only the counter", len(tr.Messages), err)
			}
		})
	}
	// The honest reply still takes place 2; a copy of it sealed anew (a
	// replay with a fresh envelope ID) is not kept twice, and another
	// signed message at place 2 (a fork) is refused.
	honest := handReply(t, p, "honest answer")
	if err := p.customer.deliverThread(ctx, honest); err != nil {
		t.Fatal(err)
	}
	awaitThread(t, p.customer, p.offer, 2)
	again, err := intent.OpenThread(honest, mustOwnReply(t, p.customer, p.in.ID))
	if err != nil {
		t.Fatal(err)
	}
	if err := p.customer.deliverThread(ctx, sealForCustomer(t, p.in, again.Raw)); err != nil {
		t.Fatal(err)
	}
	fork := next()
	fork.Text = "changed my mind"
	if err := p.customer.deliverThread(ctx, seal(p.vendor.identity.Signing, fork)); err != nil {
		t.Fatal(err)
	}
	tr := awaitThread(t, p.customer, p.offer, 2)
	if tr.Messages[1].Text != "honest answer" || tr.Messages[1].ID != honest.ID {
		t.Fatalf("place 2 holds %q", tr.Messages[1].Text)
	}
}

func idSlice(h [32]byte) []byte { return h[:] }

func mustOwnReply(t *testing.T, n *Node, id intent.ID) crypto.ReplyKey {
	t.Helper()
	own, err := n.ownIntent(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return own.keys.Reply
}

// TestThreadLimits: the round limit, oversize text and a message that
// breaks the schema are refused where they are made, with errors that say
// so; a sealed thread message without the offer work is Reject at every
// relay.
func TestThreadLimits(t *testing.T) {
	p := newThreadParties(t)
	ctx := t.Context()
	if _, err := p.customer.Counter(ctx, p.offer, intent.CounterDraft{Text: strings.Repeat("x", intent.MaxText+1)}); !errors.Is(err, intent.ErrSchema) {
		t.Fatalf("an oversize counter: %v, want ErrSchema", err)
	}
	if _, err := p.customer.Counter(ctx, p.offer, intent.CounterDraft{}); !errors.Is(err, intent.ErrSchema) {
		t.Fatalf("an empty counter: %v, want ErrSchema", err)
	}
	if _, err := p.vendor.ReplyThread(ctx, p.offer, intent.ReplyDraft{Text: "unasked"}); !errors.Is(err, ErrThreadTurn) {
		t.Fatalf("a reply before any counter: %v, want ErrThreadTurn", err)
	}
	for i := range intent.MaxThreadMessages / 2 {
		if _, err := p.customer.Counter(ctx, p.offer, intent.CounterDraft{Price: uint64(100000 + i)}); err != nil {
			t.Fatal(err)
		}
		awaitThread(t, p.vendor, p.offer, 2*i+1)
		if i == 0 {
			// A reply without the offer work: Reject at every relay, the
			// sender is penalised.
			s := handReplyUnworked(t, p)
			if _, err := p.relay.check(ctx, "electronics", true, s.Raw); verdict(err) != pubsub.ValidationReject || !errors.Is(err, intent.ErrInsufficientWork) {
				t.Fatalf("a thread message without work: %v (verdict %v), want Reject", err, verdict(err))
			}
		}
		if _, err := p.vendor.ReplyThread(ctx, p.offer, intent.ReplyDraft{Text: "no"}); err != nil {
			t.Fatal(err)
		}
		awaitThread(t, p.customer, p.offer, 2*i+2)
	}
	if _, err := p.customer.Counter(ctx, p.offer, intent.CounterDraft{Text: "a ninth?"}); !errors.Is(err, intent.ErrThreadFull) {
		t.Fatalf("a ninth message: %v, want ErrThreadFull", err)
	}
	if tr, err := p.customer.Thread(ctx, p.offer); err != nil || tr.Open {
		t.Fatalf("a full thread is open=%v (%v)", tr.Open, err)
	}

}

// handReplyUnworked is a well-made thread message whose nonce misses the
// offer work: nonce 0 (Mint(0)) of a fresh message until one misses it.
// (Minting one message to more and more bits never ends when its nonce 0
// meets the work by luck: every later nonce found has more.)
func handReplyUnworked(t *testing.T, p *threadParties) *intent.SealedThread {
	t.Helper()
	for {
		s := handReply(t, p, "no work")
		if err := s.Mint(context.Background(), 0); err != nil {
			t.Fatal(err)
		}
		if s.Work() < testPolicy.MinOfferWork {
			return s
		}
	}
}

// TestThreadRelayCannotRead: the relay carries the counter and keeps it
// for store-and-forward, but holds no key that opens it, and nothing of
// the counter or of the customer's intent key shows in what it relays.
func TestThreadRelayCannotRead(t *testing.T) {
	p := newThreadParties(t)
	ctx := t.Context()
	const secret = "call me at +49 30 1234567"
	if _, err := p.customer.Counter(ctx, p.offer, intent.CounterDraft{Text: secret}); err != nil {
		t.Fatal(err)
	}
	awaitThread(t, p.vendor, p.offer, 1)
	var kept []store.RelayedOffer
	eventually(t, 15*time.Second, "the relay keeps the counter", func() bool {
		all, err := p.relay.store.RelayedOffers(ctx, "electronics", time.Now())
		kept = kept[:0]
		for _, o := range all {
			if m, err := intent.Parse(o.Raw); err == nil {
				if _, ok := m.(*intent.SealedThread); ok {
					kept = append(kept, o)
				}
			}
		}
		return err == nil && len(kept) == 1
	})
	s, err := intent.ParseSealedThread(kept[0].Raw)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.Raw, []byte(secret)) || bytes.Contains(s.Raw, p.in.Body.SigningKey) {
		t.Fatal("the sealed counter shows its text or the intent's key")
	}
	if _, err := intent.OpenThread(s, p.relay.identity.Reply); !errors.Is(err, intent.ErrSealed) {
		t.Fatalf("the relay's own key opens the counter: %v", err)
	}
	if msgs, err := p.relay.store.ThreadMessages(ctx, p.in.ID); err != nil || len(msgs) != 0 {
		t.Fatalf("the relay keeps %d thread messages as a party (%v)", len(msgs), err)
	}
	if _, err := p.relay.Thread(ctx, p.offer); !errors.Is(err, ErrNoThread) {
		t.Fatalf("the relay shows a thread: %v", err)
	}
}

// TestThreadOfflineVendor: the vendor's node is down when the customer
// counters; the relay keeps the sealed counter, and the vendor, back with
// the same data dir and identity, gets it by /intentcast/sync/2.
func TestThreadOfflineVendor(t *testing.T) {
	relay := startNode(t, syncTestConfig(t, true))
	join := func(cfg Config) *Node {
		cfg.Bootstrap = addrsOf(relay)
		return startNode(t, cfg)
	}
	customer := join(syncTestConfig(t, true))
	vcfg := syncTestConfig(t, true)
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	vcfg.Identity = id
	vendor := join(vcfg)
	awaitNodeMeshes(t, []*Node{relay, customer, vendor})
	ctx := t.Context()
	in, err := customer.Publish(ctx, laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the vendor and the relay know the intent", func() bool { return isLive(vendor, in.ID) && isLive(relay, in.ID) })
	s, err := vendor.SendOffer(ctx, in.ID, intent.OfferDraft{Price: 110000})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the customer opens the offer", func() bool {
		o, err := customer.Offer(ctx, s.ID)
		return err == nil && o.Status == OfferValid
	})
	if err := vendor.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := customer.Counter(ctx, s.ID, intent.CounterDraft{Price: 100000, Text: "1000?"}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the relay keeps the counter", func() bool {
		kept, err := relay.store.RelayedOffers(ctx, "electronics", time.Now())
		return err == nil && len(kept) == 2 // the offer and the counter
	})
	if err := customer.Close(); err != nil {
		t.Fatal(err)
	}
	back := join(vcfg)
	tr := awaitThread(t, back, s.ID, 1)
	if m := tr.Messages[0]; m.Price != 100000 || m.Text != "1000?" || m.Direction != Received {
		t.Fatalf("the returning vendor reads %+v", m)
	}
}
