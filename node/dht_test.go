package node

import (
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
	ma "github.com/multiformats/go-multiaddr"
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
	// Peer routing: a node told only the vendor's peer ID finds it.
	other := startNode(t, withDHT("client", boot))
	eventually(t, 30*time.Second, "the fourth node has a DHT peer", func() bool { return other.Reach().DHTPeers > 0 })
	idOnly, err := ma.NewMultiaddr("/p2p/" + vendor.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.ConnectAddr(t.Context(), idOnly); err != nil {
		t.Fatalf("connect to /p2p/<vendor> through the DHT: %v", err)
	}
	if _, err := customer.ConnectAddr(t.Context(), idOnly); err != nil {
		t.Fatalf("connect again (already connected): %v", err)
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
