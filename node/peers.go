package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/ping"
	ma "github.com/multiformats/go-multiaddr"
)

// ErrNotConnected reports a peer this node has no connection to.
var ErrNotConnected = errors.New("not connected to that peer")

// PeerStatus describes one connected peer, for `intentcast peers`.
type PeerStatus struct {
	ID    peer.ID
	Conns []ConnStatus
	// Latency is the smoothed round-trip time measured by ping; zero when
	// none has been measured (a relayed-only peer cannot be pinged).
	Latency time.Duration
	// Protocols are the protocols the peer announced by identify.
	Protocols []protocol.ID
}

// Relayed reports whether every connection to the peer goes through a
// relay (a circuit relay v2 connection: limited in time and bytes, and
// carrying only protocols that allow it).
func (p PeerStatus) Relayed() bool {
	for _, c := range p.Conns {
		if !c.Relayed {
			return false
		}
	}
	return len(p.Conns) > 0
}

// ConnStatus describes one connection to a peer.
type ConnStatus struct {
	Remote   ma.Multiaddr
	Outbound bool // this node dialled it
	Relayed  bool // through a circuit relay
	Opened   time.Time
}

// pingTimeout bounds the latency measurement of a peer listing.
const pingTimeout = 2 * time.Second

// PeerStatuses describes the connected peers, sorted by peer ID. Peers
// whose latency was never measured are pinged first (concurrently, for at
// most pingTimeout or until ctx ends), so a listing shows every latency a
// direct connection can give.
func (n *Node) PeerStatuses(ctx context.Context) []PeerStatus {
	h := n.net.host
	ids := h.Network().Peers()
	slices.Sort(ids)
	pctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, id := range ids {
		if h.Peerstore().LatencyEWMA(id) == 0 {
			wg.Go(func() {
				// ping.Ping records the round trip in the peerstore.
				res := <-ping.Ping(pctx, h, id)
				_ = res
			})
		}
	}
	wg.Wait()
	out := make([]PeerStatus, 0, len(ids))
	for _, id := range ids {
		conns := h.Network().ConnsToPeer(id)
		if len(conns) == 0 {
			continue // closed since we listed it
		}
		st := PeerStatus{ID: id, Latency: h.Peerstore().LatencyEWMA(id)}
		st.Protocols, _ = h.Peerstore().GetProtocols(id)
		slices.Sort(st.Protocols)
		for _, c := range conns {
			s := c.Stat()
			st.Conns = append(st.Conns, ConnStatus{
				Remote:   c.RemoteMultiaddr(),
				Outbound: s.Direction == corenet.DirOutbound,
				Relayed:  s.Limited || isRelayed(c.RemoteMultiaddr()),
				Opened:   s.Opened,
			})
		}
		out = append(out, st)
	}
	return out
}

// isRelayed reports whether a is a circuit relay address.
func isRelayed(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}

// ConnectAddr dials the peer a names: a multiaddr ending in /p2p/<peer
// ID>, or just /p2p/<peer ID>, whose addresses the DHT then looks up. The
// peer joins the node's address book, so a restarted node redials it.
func (n *Node) ConnectAddr(ctx context.Context, a ma.Multiaddr) (peer.ID, error) {
	info, err := peer.AddrInfoFromP2pAddr(a)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %v; want a multiaddr ending in /p2p/<peer ID>", ErrBadAddr, a, err)
	}
	if info.ID == n.ID() {
		return "", fmt.Errorf("%w: %q names this node itself", ErrBadAddr, a)
	}
	if len(info.Addrs) == 0 {
		// /p2p/<ID> alone: ask the DHT where the peer is.
		if n.net.dht == nil {
			return "", fmt.Errorf("%w: %q has no transport address, and without the DHT (Config.DHT off) there is no way to look one up", ErrBadAddr, a)
		}
		found, err := n.net.dht.d.FindPeer(ctx, info.ID)
		if err != nil {
			return "", fmt.Errorf("connect %s: DHT lookup: %w", info.ID, err)
		}
		info = &found
	}
	if err := n.net.Connect(ctx, *info); err != nil {
		return "", err
	}
	return info.ID, nil
}

// ErrBadAddr is wrapped by errors about a peer address that cannot be dialled
// as written.
var ErrBadAddr = errors.New("bad peer address")

// Disconnect closes every connection to a peer and drops it from the
// address book, so a restart does not redial it. A configured bootstrap peer
// is still redialled while the node is short of peers.
func (n *Node) Disconnect(id peer.ID) error {
	if len(n.net.host.Network().ConnsToPeer(id)) == 0 {
		return fmt.Errorf("%w: %s", ErrNotConnected, id)
	}
	n.net.book.forget(id)
	if err := n.net.host.Network().ClosePeer(id); err != nil {
		return fmt.Errorf("disconnect %s: %w", id, err)
	}
	return nil
}
