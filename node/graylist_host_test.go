package node

import (
	"context"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
)

// TestGraylistDenyOnCallersHost: a node on a host its caller built
// (Config.Host, as benchmarks and simulations pass) has none of the node's
// connection gater, yet a peer it disconnected for its invalid messages
// must get no stream answered while it is denied: not on its redials, not
// when the node dials it. Before, the deny did not apply on such a host:
// the peer reconnected at once and was answered until the next score
// reading closed it again.
func TestGraylistDenyOnCallersHost(t *testing.T) {
	hh, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hh.Close() }) // after the node's Close: the caller's to close
	board := newSurvScores()
	cfg := nodeConfig(t)
	cfg.Host = hh
	cfg.OnPeerScores = board.update
	h := startNode(t, cfg)

	a := graylistAttacker(t, h)
	eventually(t, 0, "the node disconnects the graylisted attacker", func() bool {
		return board.closedCount(a.ID()) > 0 && !connected(h.net, a)
	})
	for i := range 5 {
		a.host.Network().(*swarm.Swarm).Backoff().Clear(h.ID())
		if answered(t, a, h.ID()) {
			t.Fatalf("redial %d: the denied peer's stream was answered", i+1)
		}
	}
	h.Connect(t.Context(), peer.AddrInfo{ID: a.ID(), Addrs: a.host.Addrs()})
	if answered(t, h.net, a.ID()) {
		t.Fatal("a stream on the node's own dial to the denied peer was answered")
	}
	eventually(t, 0, "the denied peer is not connected", func() bool { return !connected(h.net, a) })
}

// answered reports whether p answers an identify stream from n: the
// answering side writes first, so a stream the peer never took fails here.
func answered(t *testing.T, n *network, p peer.ID) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	st, err := n.host.NewStream(ctx, p, identify.ID)
	if err != nil {
		return false
	}
	defer st.Reset()
	st.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = st.Read(make([]byte, 1))
	return err == nil
}
