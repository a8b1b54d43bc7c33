package node

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// gossipStreams returns a's router streams with b in one direction.
func gossipStreams(a *Node, b peer.ID, dir corenet.Direction) []corenet.Stream {
	return routerStreams(a.net.host, b, dir)
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

// refuseFirstStream is a host whose first attempt to open a router stream
// fails, as it does on a busy machine when the negotiation times out or
// the connection it picked is closing: a failure no test can bring about
// on demand with real timing, so it is made here, in front of a real host.
type refuseFirstStream struct {
	host.Host
	done atomic.Bool
}

func (h *refuseFirstStream) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (corenet.Stream, error) {
	if slices.Contains(pids, gossipSubProtocol) && h.done.CompareAndSwap(false, true) {
		return nil, errors.New("failed to negotiate protocol: context deadline exceeded (made by the test)")
	}
	return h.Host.NewStream(ctx, p, pids...)
}

// refused reports whether n's repair holds p as a peer its router failed
// to open a stream to.
func refused(n *network, p peer.ID) bool {
	n.rehello.mu.Lock()
	defer n.rehello.mu.Unlock()
	_, ok := n.rehello.refused[p]
	return ok
}

// TestRouterStreamRefusedIsRepaired makes the second hole (rehello.go): A's
// router fails to open its stream to B and drops B for as long as the
// connection lasts, while B's router tells A its topics, so that A counts
// B as ready for publishing and sends it nothing. With the repair, A
// reconnects B, and what A publishes then reaches B.
func TestRouterStreamRefusedIsRepaired(t *testing.T) {
	cfgA := testConfig(t)
	h, err := newHost(cfgA.withDefaults(), &relaySource{}, newDenyList(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	refuser := &refuseFirstStream{Host: h}
	cfgA.Host = refuser
	a := startTest(t, cfgA, nil)
	ta, _ := join(t, a, testTopic)

	cfgB := testConfig(t)
	cfgB.Bootstrap = bootstrapTo(a)
	b := startTest(t, cfgB, nil)
	_, sub := join(t, b, testTopic)
	eventually(t, 20*time.Second, "A's router fails to open its stream to B", refuser.done.Load)
	eventually(t, 20*time.Second, "A's router has its stream to B", func() bool { return a.rehello.streaming(b.ID()) })
	eventually(t, 20*time.Second, "A has let go of the failure", func() bool { return !refused(a, b.ID()) })

	publish(t, a, ta, []byte("after the repair"), 1)
	if m := next(t, sub); string(m.Data) != "after the repair" {
		t.Fatalf("B got %q, want %q", m.Data, "after the repair")
	}
}
