package node

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/crypto"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/intentcast/intentcast/intent"
)

// survCut is a network cut in two: each node's connection gater
// (Config.Gater) refuses every connection across it while it is on.
type survCut struct {
	on   atomic.Bool
	side map[peer.ID]int
}

// gater returns the connection gater of the node self.
func (c *survCut) gater(self peer.ID) *survGater { return &survGater{cut: c, self: self} }

func (c *survCut) across(a, b peer.ID) bool {
	sa, oka := c.side[a]
	sb, okb := c.side[b]
	return c.on.Load() && oka && okb && sa != sb
}

type survGater struct {
	cut  *survCut
	self peer.ID
}

func (g *survGater) InterceptPeerDial(p peer.ID) bool { return !g.cut.across(g.self, p) }
func (g *survGater) InterceptAddrDial(p peer.ID, _ ma.Multiaddr) bool {
	return !g.cut.across(g.self, p)
}
func (g *survGater) InterceptAccept(corenet.ConnMultiaddrs) bool { return true }
func (g *survGater) InterceptSecured(_ corenet.Direction, p peer.ID, _ corenet.ConnMultiaddrs) bool {
	return !g.cut.across(g.self, p)
}
func (g *survGater) InterceptUpgraded(corenet.Conn) (bool, control.DisconnectReason) { return true, 0 }

// TestPartitionHeals cuts a swarm in two halves for a while and heals it.
// During the cut each half delivers its own intents (and cancels) to all
// of its nodes and none of the other half's; after the heal every intent
// published during the cut is live on every node of the other half, and
// every cancel has removed its intent there, within 30 s: late-joiner sync
// on the reconnection brings what gossip cannot (its caches hold seconds).
//
// The cut is made by the nodes' connection gaters (Config.Gater) with the
// connections across it closed, on real loopback TCP; the heal lifts it
// and the nodes that had links across redial them, as their bootstrap
// loops eventually would (their timing is discovery's, not what this
// test is about; docs/RELIABILITY.md has its worst case). Sync runs with
// its defaults, so a peer synced with less than 30 s before the heal is
// synced with again when those 30 s are over: that, not the cut's length,
// is what the heal waits on.
//
// Topology: each half is a chain with chords (each node bootstraps to the
// two before it in its half), and each node has one link across: the
// swarm of a household or an office, where nodes know each other. Quick:
// 8 nodes, a 4 s cut; INTENTCAST_LONG=1: 16 nodes, a 40 s cut.
//
// A node with no link across at all (the leaf) learns the other half's
// cut-time messages from its neighbours: what their sync across took they
// gossip on (forward.go), so it too catches up within the bound.
func TestPartitionHeals(t *testing.T) {
	half, cutFor := 4, 4*time.Second
	if survLong() {
		half, cutFor = 8, 40*time.Second
	}
	const healBound = 30 * time.Second

	// Identities first: the gaters must know every node's side.
	cut := &survCut{side: map[peer.ID]int{}}
	keys := make([]crypto.PrivKey, 2*half+1)
	ids := make([]peer.ID, len(keys))
	for i := range keys {
		k, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		keys[i] = k
		if ids[i], err = peer.IDFromPrivateKey(k); err != nil {
			t.Fatal(err)
		}
		cut.side[ids[i]] = min(i/half, 1) // the leaf (last) is on side 1
	}
	nodes := make([]*Node, len(keys))
	meshes := make([]*survMesh, len(keys))
	rejects := make([]*survRejects, len(keys))
	leaf := len(nodes) - 1
	side := func(i int) int { return cut.side[ids[i]] }
	var cross [][2]int // links across the cut
	for i := range nodes {
		cfg := nodeConfig(t)
		cfg.Logger = survQuietLogger(t)
		cfg.PrivKey, cfg.Gater = keys[i], cut.gater(ids[i])
		// Gossip and sync are what a heal is about; the stem's own timers
		// (a fail-safe of 4 to 6 s, relays' random delays) would set the
		// pace of the post-heal checks instead.
		cfg.DisableStem = true
		switch {
		case i == leaf: // hangs off the second half only
			cfg.Bootstrap = addrsOf(nodes[half])
		default:
			first := side(i) * half
			for _, j := range []int{i - 1, i - 2} {
				if j >= first {
					cfg.Bootstrap = append(cfg.Bootstrap, addrsOf(nodes[j])...)
				}
			}
			if side(i) == 1 {
				cfg.Bootstrap = append(cfg.Bootstrap, addrsOf(nodes[i-half])...)
				cross = append(cross, [2]int{i, i - half})
			}
		}
		meshes[i], rejects[i] = &survMesh{}, &survRejects{}
		nodes[i] = startNode(t, cfg, pubsub.WithRawTracer(meshes[i]), pubsub.WithRawTracer(rejects[i]))
	}
	survAwaitFullMeshes(t, nodes, meshes, 20*time.Second)

	// The cut.
	cut.on.Store(true)
	for _, a := range nodes {
		for _, b := range nodes {
			if cut.across(a.ID(), b.ID()) {
				a.net.host.Network().ClosePeer(b.ID())
			}
		}
	}
	eventually(t, 10*time.Second, "no connection across the cut", func() bool {
		for _, a := range nodes {
			for _, p := range a.Peers() {
				if cut.across(a.ID(), p) {
					return false
				}
			}
		}
		return true
	})
	cutAt := time.Now()

	// Each half publishes during the cut, on both categories, and cancels
	// one of its intents.
	type published struct {
		in   *intent.SignedIntent
		side int
	}
	var during []published
	var cancelled []published
	for k := 0; time.Since(cutAt) < cutFor; k++ {
		for s := range 2 {
			i := s*half + k%half
			cat := testCategories[k%len(testCategories)]
			d := survDraft(cat, fmt.Sprintf("cut %d from side %d", k, s), time.Now())
			in, err := nodes[i].Publish(t.Context(), d, nil)
			if err != nil {
				t.Fatalf("node %d publishes during the cut: %v", i, err)
			}
			during = append(during, published{in, s})
			if k == 1 {
				if err := nodes[i].Cancel(t.Context(), in.ID); err != nil {
					t.Fatal(err)
				}
				cancelled = append(cancelled, published{in, s})
			}
		}
		tk := time.NewTimer(200 * time.Millisecond) // pacing the publishers
		<-tk.C
	}
	isCancelled := func(p published) bool {
		return slices.ContainsFunc(cancelled, func(c published) bool { return c.in.ID == p.in.ID })
	}
	// Within a half: every intent live on every node of its side; then
	// every cancelled one live nowhere. (Not necessarily tombstoned
	// everywhere: a relay whose validation of the cancel finishes before
	// that of the intent keeps the cancel pending and drops the intent,
	// forwarding neither, so the nodes behind it never see either until
	// they sync.)
	// What each node did with an intent that did not come everywhere: its
	// drop reason (the router's, or "outbound queue full" at a sender),
	// whether it has it, and its mesh on the intent's topic.
	explain := func(p published) string {
		topic := intent.IntentTopic(p.in.Body.Category)
		var b strings.Builder
		for i, n := range nodes {
			if side(i) != p.side {
				continue
			}
			var mesh []int
			for j, m := range nodes {
				if meshes[i].has(topic, m.ID()) {
					mesh = append(mesh, j)
				}
			}
			fmt.Fprintf(&b, "\n  node %d: live %v, dropped %q, mesh %v, peers %d, drops %v", i, isLive(n, p.in.ID),
				rejects[i].reason(p.in.ID), mesh, len(n.Peers()), rejects[i].snapshot())
		}
		return b.String()
	}
	for _, p := range during {
		for i, n := range nodes {
			if side(i) != p.side || isCancelled(p) {
				continue
			}
			if !isLive(n, p.in.ID) {
				defer func() {
					if t.Failed() {
						t.Logf("intent %s of side %d:%s", p.in.ID.Short(), p.side, explain(p))
					}
				}()
			}
			eventually(t, 10*time.Second, fmt.Sprintf("node %d (side %d) has its side's intent %s", i, side(i), p.in.ID.Short()), func() bool {
				return isLive(n, p.in.ID)
			})
		}
	}
	for _, p := range cancelled {
		for i, n := range nodes {
			if side(i) != p.side {
				continue
			}
			eventually(t, 10*time.Second, fmt.Sprintf("node %d (side %d) does not hold cancelled intent %s", i, side(i), p.in.ID.Short()), func() bool {
				return !isLive(n, p.in.ID)
			})
		}
	}
	for _, p := range during {
		for i, n := range nodes {
			if side(i) != p.side && isLive(n, p.in.ID) {
				t.Fatalf("node %d (side %d) has intent %s of side %d during the cut", i, side(i), p.in.ID.Short(), p.side)
			}
		}
	}
	t.Logf("cut for %v: %d intents and %d cancels published, each delivered on its own side only",
		time.Since(cutAt).Round(time.Millisecond), len(during), len(cancelled))

	// The heal.
	cut.on.Store(false)
	healAt := time.Now()
	for _, l := range cross {
		a, b := nodes[l[0]], nodes[l[1]]
		// Dials refused during the cut left a backoff; the network is back.
		if sw, ok := a.net.host.Network().(*swarm.Swarm); ok {
			sw.Backoff().Clear(b.ID())
		}
		if err := a.Connect(t.Context(), peer.AddrInfo{ID: b.ID(), Addrs: b.net.host.Addrs()}); err != nil {
			t.Fatalf("reconnect %d -> %d: %v", l[0], l[1], err)
		}
	}
	// One more intent, published at the moment of the heal: the meshes
	// across have not regrafted yet, and a node's sync across may come
	// before the intent reached its peer, so it crosses by gossip if the
	// meshes form in time, else by the follow-up sync 30 s after the
	// reconnect (docs/RELIABILITY.md §2, "The one miss").
	fresh, err := nodes[0].Publish(t.Context(), survDraft("electronics", "at the heal", time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	lacks := func(i int) (missing int) {
		n := nodes[i]
		for _, p := range during {
			switch {
			case p.side == side(i):
			case isCancelled(p):
				if isLive(n, p.in.ID) {
					missing++
				}
			case !isLive(n, p.in.ID):
				missing++
			}
		}
		if !isLive(n, fresh.ID) {
			missing++
		}
		return missing
	}
	caughtUp := make([]time.Duration, len(nodes))
	// On failure, say who lacks what and how its syncs went.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for i, n := range nodes {
			if caughtUp[i] == 0 {
				t.Logf("node %d (side %d) lacks %d (the intent of the heal: %v); %d peers; sync %+v",
					i, side(i), lacks(i), !isLive(n, fresh.ID), len(n.Peers()), n.SyncStats())
			}
		}
	})
	eventually(t, healBound, "every node, the leaf too, has the other half's intents, and none of its cancelled ones", func() bool {
		done := true
		for i := range nodes {
			if caughtUp[i] == 0 && lacks(i) == 0 {
				caughtUp[i] = time.Since(healAt)
			}
			done = done && caughtUp[i] > 0
		}
		return done
	})
	t.Logf("after the heal every node with a link across had every live intent of the other half within %v (per node: %v); the leaf, by its neighbour's forwards, after %v",
		slices.Max(caughtUp[:leaf]).Round(time.Millisecond), roundAll(caughtUp[:leaf]), caughtUp[leaf].Round(time.Millisecond))

	// Once the meshes across have regrafted, gossip reaches every node
	// again, the leaf too.
	survAwaitFullMeshes(t, nodes, meshes, 20*time.Second)
	after, err := nodes[0].Publish(t.Context(), survDraft("home", "after the meshes regrafted", time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		eventually(t, 10*time.Second, fmt.Sprintf("node %d gets the intent published after the meshes regrafted", i), func() bool { return isLive(n, after.ID) })
	}
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(10 * time.Millisecond)
	}
	return out
}
