package node

import (
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
)

// A customer finds a vendor it was never told about through the DHT's
// rendezvous records, and leaves no record of its own interest.
func TestDHTFindsVendorsWithoutCustomerAdvertising(t *testing.T) {
	withDHT := func(mode string, bootstrap ...*Node) Config {
		cfg := nodeConfig(t)
		cfg.DHT = mode
		cfg.Bootstrap = addrsOf(bootstrap...)
		return cfg
	}
	boot := startNode(t, withDHT("server"))
	vcfg := withDHT("client", boot)
	vcfg.Vendor.Name = "Acme"
	vendor := startNode(t, vcfg)
	customer := startNode(t, withDHT("client", boot))

	eventually(t, 60*time.Second, "the vendor advertises its categories", func() bool {
		return slices.Equal(vendor.Reach().Advertising, testCategories)
	})
	eventually(t, 90*time.Second, "the customer finds and dials the vendor", func() bool {
		return slices.Contains(customer.Peers(), vendor.ID())
	})
	st := customer.Reach()
	if len(st.Advertising) != 0 || st.DHT != "client" || st.DHTPeers == 0 {
		t.Errorf("customer's DHT status %+v: want client mode, a routing table, no advertisements", st)
	}
	if st := boot.Reach(); st.DHT != "server" {
		t.Errorf("bootstrap node's DHT mode %q, want server", st.DHT)
	}
	// The only providers of the categories' keys are the vendor.
	rd := drouting.NewRoutingDiscovery(vendor.net.dht.d)
	for _, c := range testCategories {
		ch, err := rd.FindPeers(t.Context(), RendezvousKey(c))
		if err != nil {
			t.Fatal(err)
		}
		var ids []peer.ID
		for ai := range ch {
			ids = append(ids, ai.ID)
		}
		if slices.Contains(ids, customer.ID()) || !slices.Contains(ids, vendor.ID()) {
			t.Errorf("providers of %s: %v; want the vendor %s and never the customer %s", c, ids, vendor.ID(), customer.ID())
		}
	}
}
