package node

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	p2pcrypto "github.com/libp2p/go-libp2p/core/crypto"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// TestStoreAndForward: a customer's node is offline while three vendors
// offer on its intent; a relay keeps the sealed offers, and when the
// customer's node comes back (same data dir) it gets all three by
// /intentcast/sync/2 and opens them. Then the winning vendor is offline
// when the customer accepts; back, it learns of the accept from the relay
// alone and holds the same deal.
func TestStoreAndForward(t *testing.T) {
	relay := startNode(t, syncTestConfig(t, true))
	join := func(cfg Config) *Node {
		cfg.Bootstrap = addrsOf(relay)
		return startNode(t, cfg)
	}
	ccfg := syncTestConfig(t, true)
	customer := join(ccfg)
	vcfgs := []Config{syncTestConfig(t, true), syncTestConfig(t, true), syncTestConfig(t, true)}
	var vendors []*Node
	for i := range vcfgs {
		// The vendor's identity outlives its node, as the daemon's key file.
		id, err := crypto.GenerateIdentity()
		if err != nil {
			t.Fatal(err)
		}
		vcfgs[i].Identity = id
		vendors = append(vendors, join(vcfgs[i]))
	}
	awaitNodeMeshes(t, append([]*Node{relay, customer}, vendors...))
	in, err := customer.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vendors {
		eventually(t, 15*time.Second, fmt.Sprintf("vendor %d knows the intent", i), func() bool { return isLive(v, in.ID) })
	}
	if err := customer.Close(); err != nil {
		t.Fatal(err)
	}
	sent := offerThroughRelay(t, relay, in.ID, vendors...)
	customer = join(ccfg)
	for _, id := range sent {
		eventually(t, 15*time.Second, "the returning customer opens offer "+id.Short(), func() bool {
			o, err := customer.Offer(t.Context(), id)
			return err == nil && o.Status == OfferValid
		})
	}

	// The winning vendor is offline during the accept.
	winner := 1
	if err := vendors[winner].Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := customer.Accept(t.Context(), in.ID, sent[winner], []byte("pick-up station 7")); err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the relay holds the closure", func() bool {
		c, err := relay.Closure(t.Context(), in.ID)
		return err == nil && c.Kind == ClosedAccepted
	})
	for _, n := range []*Node{customer, vendors[0], vendors[2]} {
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
	back := join(vcfgs[winner])
	eventually(t, 15*time.Second, "the returning vendor holds the deal", func() bool {
		d, err := back.Deal(t.Context(), in.ID)
		return err == nil && d.OfferID == sent[winner] && string(d.Details) == "pick-up station 7"
	})
}

// offerThroughRelay has each vendor (one offer per entry) offer on an
// electronics intent, and waits until the relay keeps every offer.
func offerThroughRelay(t *testing.T, relay *Node, intentID intent.ID, vendors ...*Node) []intent.ID {
	t.Helper()
	var sent []intent.ID
	for i, v := range vendors {
		s, err := v.SendOffer(t.Context(), intentID, intent.OfferDraft{Price: uint64(100000 + i)})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, s.ID)
	}
	eventually(t, 15*time.Second, "the relay keeps every offer", func() bool {
		kept, err := relay.sync.haveOffers(t.Context(), "electronics")
		return err == nil && len(kept) == len(vendors)
	})
	return sent
}

// sealedWithWork is a sealed offer for intentID whose offer ID carries
// exactly bits of work: sealed junk as an attacker mints it, or a stand-in
// for an honest offer (relays cannot tell them apart).
func sealedWithWork(t *testing.T, intentID intent.ID, bits int) *intent.SealedOffer {
	t.Helper()
	for {
		s, err := intent.ParseSealedOffer(survSealedOffer(t, intentID[:], randomBytes(420)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Mint(t.Context(), bits); err != nil {
			t.Fatal(err)
		}
		if s.Work() == bits {
			return s
		}
	}
}

// TestRelayKeepsMostWorked: when an intent's store-and-forward slots are
// full, junk with less work, or the same work, than the kept offers cannot
// displace them; an offer with more work displaces the least-worked (the
// newest of those), and the choice survives a restart.
func TestRelayKeepsMostWorked(t *testing.T) {
	cfg := syncTestConfig(t, false)
	cfg.RelayLimits = RelayLimits{PerIntent: 3}
	n := startNode(t, cfg)
	in, _ := mintIntent(t, "electronics", 1, time.Now())
	ingest(t, n, "electronics", in.Raw)
	offer := func(n *Node, s *intent.SealedOffer) {
		t.Helper()
		m, err := n.check(t.Context(), "electronics", true, s.Raw)
		if err != nil {
			t.Fatalf("offer with %d bits: %v", s.Work(), err)
		}
		n.deliver(t.Context(), m)
	}
	kept := func(n *Node, want ...*intent.SealedOffer) {
		t.Helper()
		var ids []string
		for _, s := range want {
			ids = append(ids, s.ID.Short())
		}
		slices.Sort(ids)
		// What the node decided is queued for the store: write it now, so
		// that the store shows every decision made so far.
		n.replay.flush(t.Context())
		list, err := n.store.RelayedOffers(t.Context(), "electronics", n.now())
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range list {
			got = append(got, intent.ID(o.ID).Short())
		}
		slices.Sort(got)
		if !slices.Equal(got, ids) {
			t.Fatalf("the store keeps %v, want %v", got, ids)
		}
	}
	// The honest offers: one at 8 bits, two at 9.
	real := []*intent.SealedOffer{sealedWithWork(t, in.ID, 8), sealedWithWork(t, in.ID, 9), sealedWithWork(t, in.ID, 9)}
	for _, s := range real {
		offer(n, s)
	}
	kept(n, real...)
	// Junk above the network minimum (4 bits) but below the kept ones, or
	// equal to the least-worked: none of it is kept.
	for range 20 {
		offer(n, sealedWithWork(t, in.ID, 6))
	}
	offer(n, sealedWithWork(t, in.ID, 8))
	kept(n, real...)
	// One more bit than the least-worked displaces it, and only it.
	heavy := sealedWithWork(t, in.ID, 9)
	offer(n, heavy)
	kept(n, real[1], real[2], heavy)
	// Three at 9 bits now: another 9 does not displace, a 10 displaces the
	// newest of them (heavy), keeping the older two.
	offer(n, sealedWithWork(t, in.ID, 9))
	heavier := sealedWithWork(t, in.ID, 10)
	offer(n, heavier)
	kept(n, real[1], real[2], heavier)

	// After a restart the kept offers' work is known again: a 9 still
	// displaces nothing, and the displaced ones stay gone.
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n = startNode(t, cfg)
	kept(n, real[1], real[2], heavier)
	offer(n, sealedWithWork(t, in.ID, 9))
	kept(n, real[1], real[2], heavier)
	eleven := sealedWithWork(t, in.ID, 11)
	offer(n, eleven)
	kept(n, real[1], heavier, eleven)
}

// TestRestartedNodeSyncsAtOnce: a customer's node that restarts soon after
// its last sync with a relay is answered at once on its new connection,
// not refused for the relay's per-peer interval (SyncServeInterval), so
// it gets the offers it missed without waiting the interval out. The
// relay's interval is an hour here, so that "soon" holds however slow the
// machine. The node stays down for 1 s (gossip's message cache may still
// hand it the offers) and for 5 s (beyond gossip's 3-heartbeat window:
// only sync can); the time from the restart to its offers is logged
// (docs/RELIABILITY.md §6 has the figures). A second session on the same
// connection is still refused: the interval holds per connection.
func TestRestartedNodeSyncsAtOnce(t *testing.T) {
	for _, down := range []time.Duration{time.Second, 5 * time.Second} {
		t.Run(fmt.Sprintf("down %v", down), func(t *testing.T) { restartForOffers(t, down) })
	}
}

func restartForOffers(t *testing.T, down time.Duration) {
	rcfg := nodeConfig(t)
	rcfg.SyncServeInterval = time.Hour
	relay := startNode(t, rcfg)
	ccfg := nodeConfig(t)
	ccfg.Bootstrap = addrsOf(relay)
	// The peer ID outlives the node, as the daemon's key file.
	key, _, err := p2pcrypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ccfg.PrivKey = key
	customer := startNode(t, ccfg)
	vcfg := nodeConfig(t)
	vcfg.Bootstrap = addrsOf(relay)
	vendor := startNode(t, vcfg)
	awaitNodeMeshes(t, []*Node{relay, customer, vendor})
	eventually(t, 15*time.Second, "the relay answered the customer's first sync", func() bool {
		relay.sync.mu.Lock()
		defer relay.sync.mu.Unlock()
		_, ok := relay.sync.served[customer.ID()]
		return ok
	})
	in, err := customer.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the vendor knows the intent", func() bool { return isLive(vendor, in.ID) })
	if err := customer.Close(); err != nil {
		t.Fatal(err)
	}
	// The downtime is the scenario, not a wait for something to happen.
	back := time.NewTimer(down)
	sent := offerThroughRelay(t, relay, in.ID, vendor, vendor, vendor)
	<-back.C
	refused := relay.SyncStats().Refused
	restart := time.Now()
	customer = startNode(t, ccfg)
	for _, id := range sent {
		eventually(t, 15*time.Second, "the restarted customer opens offer "+id.Short(), func() bool {
			o, err := customer.Offer(t.Context(), id)
			return err == nil && o.Status == OfferValid
		})
	}
	t.Logf("down %v: the customer had its 3 offers %v after its restart began (%d by sync)",
		down, time.Since(restart).Round(time.Millisecond), customer.SyncStats().Offers)
	eventually(t, 15*time.Second, "the restarted customer's first sync with the relay ends", func() bool {
		st := customer.SyncStats()
		return st.Sessions+st.Failed > 0
	})
	if st := customer.SyncStats(); st.Failed > 0 || relay.SyncStats().Refused != refused {
		t.Errorf("the relay refused the restarted customer's first session: customer %+v, relay refused %d", st, relay.SyncStats().Refused-refused)
	}
	if err := customer.sync.syncPeer(t.Context(), relay.ID()); !errors.Is(err, errSyncClosed) {
		t.Errorf("a second session on the same connection: %v, want refused (%v)", err, errSyncClosed)
	}
}
