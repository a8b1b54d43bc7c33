package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/proto"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
)

// relayHop is circuit relay v2's hop protocol: a peer that announces it
// serves as a relay.
const relayHop = proto.ProtoIDv2Hop

// reachOptions are the host options of NAT traversal, all go-libp2p's own:
//   - the circuit relay v2 client (dial and accept relayed connections) and
//     autorelay, which reserves slots on relays while the node is not known
//     to be public and announces the /p2p-circuit addresses it gets;
//   - AutoNAT v2, which checks each address by dial-back, and identify's
//     observed addresses (both on by default in go-libp2p);
//   - DCUtR hole punching, which upgrades a relayed connection to a direct
//     one (TCP simultaneous open or QUIC);
//   - with RelayService, the relay service (go-libp2p starts it only while
//     AutoNAT finds the node public) and the AutoNAT v1 server that tells
//     home nodes they are behind a NAT.
//
// go-libp2p acts only on public addresses: a node on 10.x or 192.168.x
// never hole punches nor reserves relay slots, which keeps LANs and tests
// as they were.
func reachOptions(cfg Config, relays *relaySource) []libp2p.Option {
	var opts []libp2p.Option
	switch {
	case cfg.DisableNATTraversal && !cfg.RelayService:
		opts = append(opts, libp2p.DisableRelay())
	case cfg.DisableNATTraversal:
		// The relay service needs the relay transport; nothing else.
		opts = append(opts, libp2p.EnableRelay())
	default:
		opts = append(opts,
			libp2p.EnableRelay(),
			libp2p.EnableAutoRelayWithPeerSource(relays.candidates,
				// One relay is enough to be reachable; do not wait minutes
				// for more candidates (go-libp2p's default boot delay).
				autorelay.WithMinCandidates(1),
				autorelay.WithBootDelay(0),
				autorelay.WithMinInterval(relayQueryInterval)),
			libp2p.EnableAutoNATv2(),
			libp2p.EnableHolePunching(),
		)
	}
	if cfg.RelayService {
		opts = append(opts,
			libp2p.EnableRelayService(relayv2.WithResources(relayv2.DefaultResources())),
			libp2p.EnableNATService())
	}
	switch cfg.Reachability {
	case "public":
		opts = append(opts, libp2p.ForceReachabilityPublic())
	case "private":
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	}
	return opts
}

// relayQueryInterval is the least time between two asks of autorelay for
// relay candidates.
const relayQueryInterval = 10 * time.Second

// relaySource gives autorelay its relay candidates: the connected peers
// that announced the relay hop protocol, then the bootstrap peers (which
// usually are relays). The host is set once built; autorelay asks only
// after that.
type relaySource struct {
	h         atomic.Pointer[host.Host]
	bootstrap []peer.AddrInfo
}

func (r *relaySource) candidates(ctx context.Context, num int) <-chan peer.AddrInfo {
	out := make(chan peer.AddrInfo, num)
	defer close(out)
	hp := r.h.Load()
	if hp == nil {
		return out
	}
	h := *hp
	seen := make(map[peer.ID]bool)
	add := func(ai peer.AddrInfo) {
		if len(out) < num && !seen[ai.ID] && ai.ID != h.ID() {
			seen[ai.ID] = true
			out <- ai
		}
	}
	for _, id := range h.Network().Peers() {
		if ok, _ := h.Peerstore().SupportsProtocols(id, relayHop); len(ok) > 0 {
			add(peer.AddrInfo{ID: id, Addrs: h.Peerstore().Addrs(id)})
		}
	}
	for _, b := range r.bootstrap {
		add(b)
	}
	return out
}

// reachTracker follows what go-libp2p learns about the node's
// reachability: AutoNAT v1's verdict on the node and AutoNAT v2's on each
// address.
type reachTracker struct {
	h host.Host

	mu          sync.Mutex
	reach       corenet.Reachability
	reachable   []ma.Multiaddr
	unreachable []ma.Multiaddr
}

// Serve follows the host's events until ctx ends.
func (t *reachTracker) Serve(ctx context.Context) error {
	sub, err := t.h.EventBus().Subscribe([]any{new(event.EvtLocalReachabilityChanged), new(event.EvtHostReachableAddrsChanged)})
	if err != nil {
		return fmt.Errorf("reachability: watch the host: %w", err)
	}
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-sub.Out():
			if !ok {
				return nil // the bus closed: the host is closing
			}
			t.mu.Lock()
			switch e := e.(type) {
			case event.EvtLocalReachabilityChanged:
				t.reach = e.Reachability
			case event.EvtHostReachableAddrsChanged:
				t.reachable, t.unreachable = e.Reachable, e.Unreachable
			}
			t.mu.Unlock()
		}
	}
}

// ReachStatus is what a node knows about how others can reach it.
type ReachStatus struct {
	// Reachability is AutoNAT's verdict: "public", "private" or "unknown"
	// (not probed yet, or no AutoNAT server among the peers).
	Reachability string
	// Addrs are the addresses the node announces, each ending in /p2p/<ID>:
	// listen addresses, addresses peers observed, and /p2p-circuit
	// addresses through relays.
	Addrs []ma.Multiaddr
	// Reachable and Unreachable are the addresses AutoNAT v2 confirmed or
	// refuted by dial-back.
	Reachable, Unreachable []ma.Multiaddr
	// Relayed are the /p2p-circuit addresses among Addrs: the relays that
	// hold a reservation for this node.
	Relayed []ma.Multiaddr
	// RelayService is true while the node serves as a relay for others.
	RelayService bool
	// DHT is the DHT mode now: "off", "client" or "server"; DHTPeers the
	// size of its routing table.
	DHT      string
	DHTPeers int
	// Advertising are the categories the node announces on the DHT.
	Advertising []string
}

// Reach reports how others can reach this node.
func (n *Node) Reach() ReachStatus { return n.net.reach() }

func (n *network) reach() ReachStatus {
	h := n.host
	n.reachT.mu.Lock()
	st := ReachStatus{
		Reachability: reachabilityName(n.reachT.reach),
		Reachable:    slices.Clone(n.reachT.reachable),
		Unreachable:  slices.Clone(n.reachT.unreachable),
	}
	n.reachT.mu.Unlock()
	// It fails only for an empty peer ID, which a host never has.
	st.Addrs, _ = peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()})
	for _, a := range st.Addrs {
		if isRelayed(a) {
			st.Relayed = append(st.Relayed, a)
		}
	}
	st.RelayService = slices.Contains(h.Mux().Protocols(), relayHop)
	st.DHT, st.DHTPeers = "off", 0
	if n.dht != nil {
		st.DHT, st.DHTPeers = n.dht.mode(), n.dht.routingTableSize()
		st.Advertising = n.dht.advertising()
	}
	return st
}

func reachabilityName(r corenet.Reachability) string {
	switch r {
	case corenet.ReachabilityPublic:
		return "public"
	case corenet.ReachabilityPrivate:
		return "private"
	}
	return "unknown"
}
