package node

import (
	"crypto/sha256"
	"testing"
	"time"

	ds "github.com/ipfs/go-datastore"
	dsq "github.com/ipfs/go-datastore/query"
	"github.com/libp2p/go-libp2p-kad-dht/records"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/test"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
)

// TestProviderStoreBounds runs go-libp2p-kad-dht's own provider manager
// over the bounded store: records for keys that are not rendezvous keys
// are dropped, a rendezvous key holds at most the bound, a provider already
// held is refreshed, and an expired record makes room.
func TestProviderStoreBounds(t *testing.T) {
	ctx := t.Context()
	store := newProviderStore(3)
	ps, err := pstoremem.NewPeerstore()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ps.Close() })
	self := test.RandPeerIDFatal(t)
	multihash := func(ns string) []byte {
		h := sha256.Sum256([]byte(ns))
		return append([]byte{0x12, 0x20}, h[:]...)
	}
	key, junk := multihash(RendezvousKey("electronics")), multihash("junk")
	peers := make([]peer.ID, 5)
	for i := range peers {
		peers[i] = test.RandPeerIDFatal(t)
	}
	held := func(k []byte) int {
		t.Helper()
		res, err := store.Query(ctx, dsq.Query{Prefix: "/providers/", KeysOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		all, err := res.Rest()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range all {
			if p, _ := record(ds.NewKey(e.Key)); p == providerPrefixOf(k) {
				n++
			}
		}
		return n
	}

	pm, err := records.NewProviderManager(self, ps, store)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers {
		for _, k := range [][]byte{key, junk} {
			if err := pm.AddProvider(ctx, k, peer.AddrInfo{ID: p}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := pm.AddProvider(ctx, key, peer.AddrInfo{ID: peers[0]}); err != nil { // a refresh
		t.Fatal(err)
	}
	if err := pm.Close(); err != nil { // flushes
		t.Fatal(err)
	}
	if n, j := held(key), held(junk); n != 3 || j != 0 {
		t.Fatalf("the store holds %d records of the rendezvous key (want the bound, 3) and %d of a junk key (want 0)", n, j)
	}

	// The provider manager's garbage collection deletes expired records
	// through the store, which makes room for new providers.
	gc, err := records.NewProviderManager(self, ps, store, records.ProvideValidity(time.Nanosecond), records.CleanupInterval(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer gc.Close()
	eventually(t, time.Minute, "expired provider records are collected", func() bool { return held(key) == 0 })
	gc.Close()
	again, err := records.NewProviderManager(self, ps, store)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range peers[3:] {
		if err := again.AddProvider(ctx, key, peer.AddrInfo{ID: p}); err != nil {
			t.Fatal(err)
		}
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
	if n := held(key); n != 2 {
		t.Fatalf("after expiry the store holds %d new records, want 2", n)
	}
}
