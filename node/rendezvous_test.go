package node

import (
	"testing"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// The rendezvous keys of docs/PROTOCOL.md's "Discovery and reachability":
// a second implementation must provide and look up exactly these CIDs.
func TestRendezvousKeyVectors(t *testing.T) {
	for category, want := range map[string]string{
		"electronics": "bafkreib7n65yblbhkm67ppnln6u7ixym2advpwztegoi2yv6n2hkx3rbum",
		"home":        "bafkreidockzlk3bva3hfkgzmu4wnt4ty76z7o77skxpqor6my4np755nyy",
	} {
		// What go-libp2p's RoutingDiscovery provides for a namespace.
		h, err := mh.Sum([]byte(RendezvousKey(category)), mh.SHA2_256, -1)
		if err != nil {
			t.Fatal(err)
		}
		if got := cid.NewCidV1(cid.Raw, h).String(); got != want {
			t.Errorf("rendezvous CID of %s = %s, want %s", category, got, want)
		}
	}
}
