package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	dht "github.com/libp2p/go-libp2p-kad-dht"
	coredisc "github.com/libp2p/go-libp2p/core/discovery"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	drouting "github.com/libp2p/go-libp2p/p2p/discovery/routing"
)

// dhtPrefix makes the DHT's protocol /intentcast/kad/1.0.0: a DHT of
// intentcast nodes only, apart from the IPFS one (whose peers would fill
// our routing table without relaying a single intent).
const dhtPrefix = protocol.ID("/intentcast")

// RendezvousKey is the DHT rendezvous namespace of a category. Vendors and
// relays provide the CIDv1 (raw codec, SHA2-256) of this string; nodes that
// look for peers of the category find them as its providers.
func RendezvousKey(category string) string { return "intentcast/1/category/" + category }

const (
	// advertiseDebounce gathers a burst of address changes (a relay
	// reservation, a new observed address) into one re-advertisement.
	advertiseDebounce = 5 * time.Second
	// advertiseTimeout bounds the lookups of one round of advertisements.
	advertiseTimeout = 2 * time.Minute
	// findLimit is how many providers one lookup asks for; findDial how
	// many of those not yet connected are dialled.
	findLimit      = 16
	findDial       = 4
	findTimeout    = 30 * time.Second
	findParallel   = 3 // lookups at once
	dhtWaitForPeer = time.Second
	// advertiseRecheck is how often a node that should not advertise
	// checks again (a relay service starts when AutoNAT finds it public).
	advertiseRecheck = time.Minute
)

// dhtNode is the node's Kademlia DHT: peer routing, and rendezvous by
// category (provider records under RendezvousKey).
type dhtNode struct {
	d    *dht.IpfsDHT
	disc *drouting.RoutingDiscovery
	h    host.Host
	log  *slog.Logger

	cats []string
	// advertise reports whether this node should announce cats now.
	advertise func() bool

	mu         sync.Mutex
	advertised []string // categories with a current provider record
}

// newDHT starts the DHT in the mode cfg asks for; nil if it is off.
func newDHT(h host.Host, cfg Config, boot []peer.AddrInfo) (*dhtNode, error) {
	var mode dht.ModeOpt
	switch cfg.DHT {
	case "", "off":
		return nil, nil
	case "client":
		mode = dht.ModeClient
	case "server":
		mode = dht.ModeServer
	default:
		mode = dht.ModeAuto
	}
	d, err := dht.New(h,
		dht.Mode(mode),
		dht.ProtocolPrefix(dhtPrefix),
		// Only provider records: no values, so no record types to validate
		// and nothing else for strangers to store on us.
		dht.DisableValues(),
		// A bounded store for the provider records strangers send us.
		dht.ProviderDatastore(newProviderStore(maxProvidersPerKey)),
		dht.BootstrapPeers(boot...))
	if err != nil {
		return nil, fmt.Errorf("DHT: %w", err)
	}
	n := &dhtNode{
		d: d, disc: drouting.NewRoutingDiscovery(d), h: h,
		log:  cfg.Logger.With("component", "dht"),
		cats: cfg.Categories,
	}
	switch {
	case cfg.Advertise == "always" || (cfg.Advertise != "never" && cfg.Vendor.Name != ""):
		n.advertise = func() bool { return true }
	case cfg.Advertise != "never" && cfg.RelayService:
		// A relay advertises only while it serves as one: a node of the
		// internet profile behind a NAT (a customer, usually) never does.
		n.advertise = func() bool { return slices.Contains(h.Mux().Protocols(), relayHop) }
	default:
		n.advertise = func() bool { return false }
	}
	return n, nil
}

func (n *dhtNode) close() error { return n.d.Close() }

func (n *dhtNode) mode() string {
	if n.d.Mode() == dht.ModeServer {
		return "server"
	}
	return "client"
}

func (n *dhtNode) routingTableSize() int { return n.d.RoutingTable().Size() }

func (n *dhtNode) advertising() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.advertised...)
}

// Serve announces the node's categories until ctx ends, while it should
// (see Config.Advertise), once the routing table has a peer; again when the
// node's addresses or reachability change (so records carry its relay
// addresses once it has some, and a relay starts once it is public); and
// before the records expire.
func (n *dhtNode) Serve(ctx context.Context) error {
	sub, err := n.h.EventBus().Subscribe([]any{new(event.EvtLocalAddressesUpdated), new(event.EvtLocalReachabilityChanged)})
	if err != nil {
		return fmt.Errorf("DHT advertising: watch addresses: %w", err)
	}
	defer sub.Close()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Out():
			timer.Reset(advertiseDebounce)
			continue
		case <-timer.C:
		}
		switch {
		case !n.advertise():
			n.setAdvertised(nil) // records expire on their own
			timer.Reset(advertiseRecheck)
		case n.routingTableSize() == 0:
			timer.Reset(dhtWaitForPeer)
		default:
			timer.Reset(jitter(n.advertiseAll(ctx)))
		}
	}
}

func (n *dhtNode) setAdvertised(cats []string) {
	n.mu.Lock()
	n.advertised = cats
	n.mu.Unlock()
}

// advertiseAll provides every category's rendezvous key and returns when
// to do it again: the records' lifetime, or a minute when some failed.
func (n *dhtNode) advertiseAll(ctx context.Context) time.Duration {
	ctx, cancel := context.WithTimeout(ctx, advertiseTimeout)
	defer cancel()
	var done []string
	again := 3 * time.Hour
	for _, c := range n.cats {
		ttl, err := n.disc.Advertise(ctx, RendezvousKey(c))
		if err != nil {
			if ctx.Err() == nil {
				n.log.Info("advertise failed; retrying in a minute", "category", c, "err", err)
			}
			again = time.Minute
			continue
		}
		again = min(again, ttl)
		done = append(done, c)
	}
	n.setAdvertised(done)
	n.log.Debug("advertised", "categories", done)
	return again
}

// find looks up the providers of a category and returns those this node
// is not connected to, at most findDial. Looking up reveals the category
// to the DHT servers on the lookup's path, not to the network at large;
// see docs/PRIVACY.md.
func (n *dhtNode) find(ctx context.Context, category string) ([]peer.AddrInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, findTimeout)
	defer cancel()
	ch, err := n.disc.FindPeers(ctx, RendezvousKey(category), coredisc.Limit(findLimit))
	if err != nil {
		return nil, err
	}
	var out []peer.AddrInfo
	for ai := range ch {
		if ai.ID == n.h.ID() || len(n.h.Network().ConnsToPeer(ai.ID)) > 0 {
			continue
		}
		if len(ai.Addrs) == 0 {
			// The server knew no address: ask the DHT's peer routing.
			found, err := n.d.FindPeer(ctx, ai.ID)
			if err != nil {
				continue
			}
			ai = found
		}
		if len(out) < findDial {
			out = append(out, ai)
		}
		if len(out) == findDial {
			cancel()
		}
	}
	if len(out) == 0 && ctx.Err() != nil && !errors.Is(ctx.Err(), context.Canceled) {
		return nil, ctx.Err()
	}
	return out, nil
}
