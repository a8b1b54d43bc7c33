package node

import (
	"slices"
	"testing"
	"time"

	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// gossipStreams returns a's router streams with b in one direction.
func gossipStreams(a *Node, b peer.ID, dir corenet.Direction) []corenet.Stream {
	var out []corenet.Stream
	for _, c := range a.net.host.Network().ConnsToPeer(b) {
		for _, s := range c.GetStreams() {
			if s.Protocol() == gossipSubProtocol && s.Stat().Direction == dir {
				out = append(out, s)
			}
		}
	}
	return out
}

// knowsOnATopic reports whether a's router has b on one of a's topics.
func knowsOnATopic(a *Node, b peer.ID) bool {
	for _, t := range a.net.ps.GetTopics() {
		if slices.Contains(a.net.ps.ListPeers(t), b) {
			return true
		}
	}
	return false
}

// TestRouterForgettingAPeerIsRepaired puts node A's router in the state
// go-libp2p-pubsub's race leaves it in (rehello.go): B, still connected,
// said its topics on a new stream before A's router handled the end of its
// own stream to B, which made it forget them. Made here in order: A resets
// the stream B writes to it, so B starts a new one with its topics; then
// A's own stream to B ends, and A forgets B's topics, for good without
// the repair. With it, A reconnects to B and knows its topics again.
func TestRouterForgettingAPeerIsRepaired(t *testing.T) {
	cfgB := nodeConfig(t)
	cfgB.DisableStem = true
	b := startNode(t, cfgB)
	cfgA := nodeConfig(t)
	cfgA.DisableStem = true
	cfgA.Bootstrap = addrsOf(b)
	a := startNode(t, cfgA)
	eventually(t, 20*time.Second, "A's router knows B's topics", func() bool { return knowsOnATopic(a, b.ID()) })

	first := gossipStreams(a, b.ID(), corenet.DirInbound)
	if len(first) != 1 {
		t.Fatalf("A has %d router streams from B; want 1", len(first))
	}
	first[0].Reset()
	eventually(t, 20*time.Second, "B writes to A on a new stream (with its topics)", func() bool {
		in := gossipStreams(a, b.ID(), corenet.DirInbound)
		return len(in) == 1 && in[0] != first[0]
	})
	eventually(t, 20*time.Second, "A's router knows B's topics from the new stream", func() bool { return knowsOnATopic(a, b.ID()) })
	for _, s := range gossipStreams(a, b.ID(), corenet.DirOutbound) {
		s.Reset()
	}
	eventually(t, 20*time.Second, "A's router forgets B's topics when its own stream ends", func() bool { return !knowsOnATopic(a, b.ID()) })
	eventually(t, 20*time.Second, "A's router knows B's topics again", func() bool { return knowsOnATopic(a, b.ID()) })
}
