package node

import (
	"crypto/rand"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// TestSyncTakenIsGossipedOn: a line A — B — C. A holds an intent that was
// relayed to it (never gossiped from it), which B and C lack; C has
// synced with B and will not again during the test, and never connects to
// A. When B connects to A, B's sync takes the intent and gossips it on: C
// gets it by gossip, not by sync.
func TestSyncTakenIsGossipedOn(t *testing.T) {
	keyA, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	idA, err := peer.IDFromPrivateKey(keyA)
	if err != nil {
		t.Fatal(err)
	}
	cfgA := nodeConfig(t)
	cfgA.PrivKey, cfgA.DisableStem = keyA, true
	a := startNode(t, cfgA)
	in, _ := mintIntent(t, "electronics", 0, time.Now())
	m, err := a.check(t.Context(), "electronics", false, in.Raw)
	if err != nil {
		t.Fatal(err)
	}
	a.deliver(t.Context(), m)

	meshes := []*survMesh{{}, {}}
	cfgC := nodeConfig(t)
	cfgC.DisableStem = true
	cfgC.SyncInterval, cfgC.SyncPeerInterval = time.Hour, time.Hour
	keyC, _, err := crypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	idC, err := peer.IDFromPrivateKey(keyC)
	if err != nil {
		t.Fatal(err)
	}
	apart := &survCut{side: map[peer.ID]int{idA: 0, idC: 1}} // C never meets A
	apart.on.Store(true)
	cfgC.PrivKey, cfgC.Gater = keyC, apart.gater(idC)
	c := startNode(t, cfgC, pubsub.WithRawTracer(meshes[1]))
	cfgB := nodeConfig(t)
	cfgB.DisableStem = true
	cfgB.Bootstrap = addrsOf(c)
	b := startNode(t, cfgB, pubsub.WithRawTracer(meshes[0]))
	survAwaitFullMeshes(t, []*Node{b, c}, meshes, 20*time.Second)
	eventually(t, 20*time.Second, "C has synced with B", func() bool { return c.SyncStats().Sessions >= 1 })
	before := c.SyncStats()

	if err := b.Connect(t.Context(), peer.AddrInfo{ID: a.ID(), Addrs: a.net.host.Addrs()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "C gets the intent B took by sync from A", func() bool { return isLive(c, in.ID) })
	if after := c.SyncStats(); after.Intents != before.Intents {
		t.Errorf("C took %d intents by sync meanwhile; it was to get this one by gossip", after.Intents-before.Intents)
	}
	if got := b.SyncStats(); got.Intents < 1 || got.Forwarded < 1 {
		t.Errorf("B's sync stats %+v: want the intent taken and forwarded", got)
	}
}
