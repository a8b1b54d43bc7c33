package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/intentcast/intentcast/intent"
)

// network is a node's presence on the network: the libp2p host, the
// gossipsub router and peer discovery. startNetwork starts the host and the
// router (go-libp2p's, with goroutines of their own); Serve runs the
// network's own pieces; close stops the router and the host once Serve has
// returned.
type network struct {
	host    host.Host
	ownHost bool // false when Config.Host supplied it: the caller closes it
	ps      *pubsub.PubSub
	disc    *discovery
	book    *addrBook
	dht     *dhtNode // nil when Config.DHT is off
	scores  *scoreWatch
	scoresC *scoreCollector // registered with Config.Registerer, or nil
	reg     prometheus.Registerer
	reachT  *reachTracker
	rehello *rehello
	log     *slog.Logger

	stopPubSub context.CancelFunc
	stopGuard  func() // Config.Host's deny guard; nil on the node's own host
	closeOnce  sync.Once
	closeErr   error
}

// startNetwork starts the host and the router; nothing of its own runs
// until Serve (discovery, reachability, DHT advertising).
//
// The router runs until close. ctx's values reach its goroutines but its
// cancellation does not, so a ctx scoped to starting up is fine.
// tracer may be nil; opts are added to the router's options (tests add
// tracers; the score inspector is the network's own, scoreWatch).
func startNetwork(ctx context.Context, cfg Config, tracer pubsub.RawTracer, opts ...pubsub.Option) (*network, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	boot, err := cfg.bootstrapPeers()
	if err != nil {
		return nil, err
	}
	deny := newDenyList(cfg.Gater)
	h, ownHost := cfg.Host, false
	if h == nil {
		if h, err = newHost(cfg, &relaySource{bootstrap: boot}, deny); err != nil {
			return nil, err
		}
		ownHost = true
	}
	var stopGuard func()
	if !ownHost {
		stopGuard = deny.guard(h)
	}
	life, stop := context.WithCancel(context.WithoutCancel(ctx))
	scores := newScoreWatch(life, cfg, deny)
	scores.host = h
	fail := func(err error) (*network, error) {
		stop()
		if stopGuard != nil {
			stopGuard()
		}
		if ownHost {
			err = errors.Join(err, h.Close())
		}
		return nil, err
	}
	rh := newRehello(h, cfg.Logger)
	ps, err := newPubSub(life, rh.routerHost(), cfg, tracer, append([]pubsub.Option{scores.option(cfg.ScoreInterval), pubsub.WithRawTracer(rh)}, opts...)...)
	if err != nil {
		return fail(err)
	}
	rh.ps = ps
	d, err := newDHT(h, cfg, boot)
	if err != nil {
		return fail(err)
	}
	bookPath := ""
	if cfg.DataDir != "" {
		bookPath = filepath.Join(cfg.DataDir, PeersFile)
	}
	n := &network{
		host:       h,
		ownHost:    ownHost,
		ps:         ps,
		book:       loadAddrBook(bookPath, h.ID(), cfg.Logger),
		dht:        d,
		scores:     scores,
		reachT:     &reachTracker{h: h},
		rehello:    rh,
		log:        cfg.Logger,
		stopPubSub: stop,
		stopGuard:  stopGuard,
	}
	if cfg.Registerer != nil {
		// Only the first network on a registry shows its scores (they are
		// per node, not summed); close takes them off.
		if c := newScoreCollector(scores); cfg.Registerer.Register(c) == nil {
			n.scoresC, n.reg = c, cfg.Registerer
		}
	}
	n.disc = newDiscovery(h, cfg, boot, n.book, func() []string { return n.shortOfTopicPeers(cfg.Categories) })
	n.disc.dht = d
	n.log.Info("network started", "peer", h.ID(), "addrs", n.Addrs())
	return n, nil
}

// Serve runs the network's own pieces until ctx ends, each on a goroutine
// it waits for: discovery (discovery.go), the reachability tracker
// (reach.go), the router's repair (rehello.go) and, with the DHT on,
// advertising (dht.go). It returns once they all have ended; what each
// returned, joined.
func (n *network) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	var disc, reach, rh, adv error
	wg.Go(func() { disc = n.disc.Serve(ctx) })
	wg.Go(func() { reach = n.reachT.Serve(ctx) })
	wg.Go(func() { rh = n.rehello.Serve(ctx) })
	if n.dht != nil {
		wg.Go(func() { adv = n.dht.Serve(ctx) })
	}
	wg.Wait()
	return errors.Join(disc, reach, rh, adv)
}

// close stops the router, the DHT and the host (unless Config.Host
// supplied it); Serve must have returned. The router's goroutines end on
// their own once its context and the host's connections are gone. Calling
// it again returns the first result.
func (n *network) close() error {
	n.closeOnce.Do(func() {
		n.stopPubSub()
		if n.scoresC != nil {
			n.reg.Unregister(n.scoresC)
		}
		if n.dht != nil {
			if err := n.dht.close(); err != nil {
				n.log.Warn("close DHT", "err", err)
			}
		}
		if !n.ownHost {
			n.stopGuard()
			return
		}
		if err := n.host.Close(); err != nil {
			n.closeErr = fmt.Errorf("close libp2p host: %w", err)
		}
	})
	return n.closeErr
}

// shortOfTopicPeers returns the categories with fewer peers on their
// intents topic than gossipsub's lower mesh bound (D_lo): their meshes
// cannot be full, so discovery should look for more peers.
func (n *network) shortOfTopicPeers(categories []string) []string {
	var short []string
	for _, c := range categories {
		if len(n.ps.ListPeers(intent.IntentTopic(c))) < pubsub.GossipSubDlo {
			short = append(short, c)
		}
	}
	return short
}

// ID is this node's peer ID.
func (n *network) ID() peer.ID { return n.host.ID() }

// Addrs are the addresses peers can dial this node at, each ending in
// /p2p/<ID>, ready for another node's Config.Bootstrap.
func (n *network) Addrs() []ma.Multiaddr {
	// It fails only for an empty peer ID, which a host never has.
	addrs, _ := peer.AddrInfoToP2pAddrs(&peer.AddrInfo{ID: n.host.ID(), Addrs: n.host.Addrs()})
	return addrs
}

// Peers are the peers this node has a connection to.
func (n *network) Peers() []peer.ID { return n.host.Network().Peers() }

// Connect dials p unless already connected.
func (n *network) Connect(ctx context.Context, p peer.AddrInfo) error {
	if err := n.host.Connect(ctx, p); err != nil {
		return fmt.Errorf("connect %s: %w", p.ID, err)
	}
	return nil
}
