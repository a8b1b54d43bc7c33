package node

import (
	"fmt"
	"testing"
	"time"

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
	var sent []intent.ID
	for i, v := range vendors {
		s, err := v.SendOffer(t.Context(), in.ID, intent.OfferDraft{Price: uint64(100000 + i)})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, s.ID)
	}
	eventually(t, 15*time.Second, "the relay keeps the three offers", func() bool {
		kept, err := relay.sync.haveOffers(t.Context(), "electronics")
		return err == nil && len(kept) == 3
	})
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
