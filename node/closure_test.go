package node

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// TestAcceptClosesEverywhere: once the customer accepts one offer, every
// node drops the intent (closed, not live), keeps the accept as its
// closure, the losing vendors' offers lapse, nobody can offer on it any
// more, and the customer's other offers lapse too. Also across a restart.
func TestAcceptClosesEverywhere(t *testing.T) {
	nodes := sparseSwarm(t, 6, 3)
	customer, relay := nodes[0], nodes[1]
	vendors := nodes[3:]
	in, err := customer.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		eventually(t, 15*time.Second, fmt.Sprintf("node %d knows the intent", i), func() bool { return isLive(n, in.ID) })
	}
	custSub := customer.Subscribe()
	sent := make([]intent.ID, len(vendors))
	for i, v := range vendors {
		s, err := v.SendOffer(t.Context(), in.ID, intent.OfferDraft{Price: uint64(100000 + i)})
		if err != nil {
			t.Fatal(err)
		}
		sent[i] = s.ID
	}
	for range vendors {
		awaitEvent(t, custSub, "customer opens an offer", func(e Event) bool { return e.Kind == EventOffer })
	}
	loserSub := vendors[1].Subscribe()
	if _, err := customer.Accept(t.Context(), in.ID, sent[0], nil); err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		eventually(t, 15*time.Second, fmt.Sprintf("node %d closes the intent", i), func() bool {
			c, err := n.Closure(t.Context(), in.ID)
			return err == nil && c.Kind == ClosedAccepted && c.Offer == sent[0] && c.Intent != nil && !isLive(n, in.ID)
		})
	}
	e := awaitEvent(t, loserSub, "a losing vendor is told the intent closed", func(e Event) bool { return e.Kind == EventClosed })
	if e.IntentID != in.ID || e.Status != string(ClosedAccepted) {
		t.Fatalf("closed event %+v", e)
	}
	for i, v := range vendors {
		want := store.OfferLapsed
		if i == 0 {
			want = store.OfferAccepted
		}
		o, err := v.store.Offer(t.Context(), sent[i])
		if err != nil || o.Status != want {
			t.Fatalf("vendor %d's offer: %s, %v; want %s", i, o.Status, err, want)
		}
		feed, err := v.Feed(t.Context())
		if err != nil || slices.ContainsFunc(feed, func(r IntentRecord) bool { return r.Intent.ID == in.ID }) {
			t.Fatalf("vendor %d's feed still lists the accepted intent (%v)", i, err)
		}
		if _, err := v.SendOffer(t.Context(), in.ID, intent.OfferDraft{Price: 1}); !errors.Is(err, ErrNotLive) {
			t.Fatalf("vendor %d may still offer on the accepted intent: %v", i, err)
		}
	}
	received, err := customer.store.Offers(t.Context(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range received {
		if want := map[bool]store.OfferStatus{true: store.OfferAccepted, false: store.OfferLapsed}[o.ID == sent[0]]; o.Status != want {
			t.Fatalf("customer's offer %x: %s, want %s", o.ID[:4], o.Status, want)
		}
	}
	// An offer sealed for the closed intent (made before the vendor learned
	// of the closure) is not relayed: the relay's validator ignores it.
	late, _, err := intent.NewOffer(in, vendors[1].Identity(), intent.OfferDraft{
		Price: 5, Vendor: intent.Vendor{Name: "late"}, Created: time.Now(), ValidUntil: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if err := late.Mint(t.Context(), relay.cfg.Policy.OfferWork()); err != nil {
		t.Fatal(err)
	}
	if _, err := relay.check(t.Context(), "electronics", true, late.Raw); verdict(err) != pubsub.ValidationIgnore || !errors.Is(err, errUnknown) {
		t.Fatalf("relay's verdict on an offer to a closed intent: %v", err)
	}
	// The intent stays closed across a restart: it does not come back live.
	cfg := relay.cfg
	if err := relay.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Bootstrap = nil
	again := startNode(t, cfg)
	if isLive(again, in.ID) {
		t.Fatal("a restarted relay holds the accepted intent as live")
	}
	if _, err := again.check(t.Context(), "electronics", false, in.Raw); !errors.Is(err, errClosed) {
		t.Fatalf("a restarted relay takes the accepted intent again: %v", err)
	}
}

// TestRelayClosureWrittenBehind: a node that only relayed an intent keeps
// its closure's tombstone in the write-behind queue (closeIntent), and
// still shows it at once: Closure and the sync set it serves have it as
// soon as the node reports the closure, before any flush, and a restart
// after Close (which flushes) keeps the intent closed.
func TestRelayClosureWrittenBehind(t *testing.T) {
	nodes := sparseSwarm(t, 3, 5)
	customer, relay := nodes[0], nodes[2]
	in, err := customer.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		eventually(t, 15*time.Second, fmt.Sprintf("node %d knows the intent", i), func() bool { return isLive(n, in.ID) })
	}
	relaySub := relay.Subscribe()
	if err := customer.Cancel(t.Context(), in.ID); err != nil {
		t.Fatal(err)
	}
	awaitEvent(t, relaySub, "the relay reports the closure", func(e Event) bool { return e.Kind == EventCancel && e.IntentID == in.ID })
	// The flush loop runs once a second: a tombstone still queued is the
	// case under test, and whether the flush came first, both must hold.
	c, err := relay.Closure(t.Context(), in.ID)
	if err != nil || c.Kind != ClosedCancelled {
		t.Fatalf("relay's closure right after the event: %+v, %v", c, err)
	}
	served, err := relay.sync.servedSet(t.Context(), "electronics", 2)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(served, func(e servedEntry) bool { return e.id == in.ID }); i < 0 || !served[i].tomb {
		t.Fatalf("relay's sync set right after the closure does not serve it as a tombstone (index %d)", i)
	}
	cfg := relay.cfg
	if err := relay.Close(); err != nil {
		t.Fatal(err)
	}
	cfg.Bootstrap = nil
	again := startNode(t, cfg)
	if c, err := again.Closure(t.Context(), in.ID); err != nil || c.Kind != ClosedCancelled {
		t.Fatalf("restarted relay's closure: %+v, %v", c, err)
	}
}
