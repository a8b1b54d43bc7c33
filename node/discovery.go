package node

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
)

const (
	bootstrapDialTimeout = 10 * time.Second
	// The retry delay for unreachable bootstrap peers doubles from min to
	// max. The swarm refuses redials for 5s+n² seconds after the n-th failed
	// dial, so starting at 10s keeps our retries from hitting that backoff.
	bootstrapBackoffMin = 10 * time.Second
	bootstrapBackoffMax = 5 * time.Minute
	// How often a node that is not short of peers checks that it still isn't.
	bootstrapCheckInterval = 30 * time.Second

	// Peers found by mDNS are on the local network: they answer fast or not at all.
	mdnsDialTimeout = 5 * time.Second
	mdnsDialers     = 4
	mdnsQueue       = 32
)

// discovery finds peers and connects to them: the configured bootstrap
// peers, the peers of the address book (at start, and again when the node
// has no peer at all) and, unless disabled, peers on the local network found
// by mDNS.
type discovery struct {
	h         host.Host
	log       *slog.Logger
	bootstrap []peer.AddrInfo
	book      *addrBook
	connLow   int
	cats      []string
	mdnsName  string // empty: mDNS off
	// short returns the served categories with too few peers on their
	// topics for a full mesh; nil means none ever.
	short func() []string
	dht   *dhtNode // nil: no DHT lookups

	// ctx is Serve's, kept for HandlePeerFound, a callback that cannot
	// take one; set before mDNS starts.
	ctx   context.Context
	found chan peer.AddrInfo
}

// newDiscovery returns a discovery for h; it does nothing until Serve.
// Bootstrap entries naming h itself are dropped.
func newDiscovery(h host.Host, cfg Config, bootstrap []peer.AddrInfo, book *addrBook, short func() []string) *discovery {
	d := &discovery{
		h:       h,
		log:     cfg.Logger.With("component", "discovery"),
		book:    book,
		short:   short,
		connLow: cfg.ConnLow,
		cats:    cfg.Categories,
		found:   make(chan peer.AddrInfo, mdnsQueue),
	}
	for _, b := range bootstrap {
		if b.ID != h.ID() {
			d.bootstrap = append(d.bootstrap, b)
		}
	}
	if !cfg.DisableMDNS {
		d.mdnsName = cfg.MDNSServiceName
	}
	return d
}

// Serve dials the address book's peers and the bootstrap peers, looks for
// more whenever the node is short of them, keeps the address book and runs
// mDNS, until ctx ends; it returns once its goroutines have ended and the
// book is saved. mDNS is best effort: if it cannot start (no multicast
// interface, as in many containers) Serve logs why and goes on without it.
// It runs once per discovery.
func (d *discovery) Serve(ctx context.Context) error {
	d.ctx = ctx
	var wg sync.WaitGroup
	defer wg.Wait()
	known := d.book.redialList()
	if len(known) > 0 {
		wg.Go(func() { d.dial(ctx, known, "address book") })
	}
	if len(d.bootstrap) > 0 || len(known) > 0 || d.dht != nil {
		wg.Go(func() { d.bootstrapLoop(ctx, known) })
	}
	wg.Go(func() { d.bookLoop(ctx) })
	if d.mdnsName == "" {
		return nil
	}
	svc := mdns.NewMdnsService(d.h, d.mdnsName, d)
	if err := svc.Start(); err != nil {
		d.log.Warn("mDNS discovery unavailable", "err", err)
		svc.Close()
		return nil
	}
	for range mdnsDialers {
		wg.Go(func() { d.dialFound(ctx) })
	}
	<-ctx.Done()
	svc.Close() // its HandlePeerFound calls return once ctx has ended
	return nil
}

// bookLoop records the connected peers in the address book and saves it,
// every bookSaveInterval and once more when ctx ends (the host is still up
// then: the node closes it after its services).
func (d *discovery) bookLoop(ctx context.Context) {
	t := time.NewTicker(bookSaveInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		d.book.record(d.h, time.Now())
		if err := d.book.save(); err != nil {
			d.log.Warn("address book not saved", "err", err)
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// bootstrapLoop looks for peers, at once and then with backoff, whenever
// the node is short of them: fewer than connLow connections, or some served
// category with too few peers for a full mesh. It dials the bootstrap peers
// it is not connected to; looks up on the DHT the providers of each category
// short of peers; and, when the node has no peer at all, dials the address
// book's known peers too (a node whose bootstrap peers are all gone can
// still find its way back through peers it met).
func (d *discovery) bootstrapLoop(ctx context.Context, known []peer.AddrInfo) {
	delay := bootstrapBackoffMin
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var short []string
		if d.short != nil {
			short = d.short()
		}
		if len(d.h.Network().Peers()) >= d.connLow && len(short) == 0 {
			delay = bootstrapBackoffMin
			t.Reset(bootstrapCheckInterval)
			continue
		}
		missing := d.unconnected(d.bootstrap)
		if len(d.h.Network().Peers()) == 0 {
			missing = append(missing, d.unconnected(known)...)
		}
		d.dial(ctx, missing, "bootstrap")
		looked := false
		if d.dht != nil && d.dht.routingTableSize() > 0 {
			// Every short category when below connLow: any peer helps.
			if len(short) == 0 {
				short = d.cats
			}
			d.findAll(ctx, short)
			looked = true
		}
		t.Reset(jitter(delay))
		// A round whose lookups could not run while the node has peers (its
		// routing table fills a moment after it connects) does not count:
		// the first real lookups come soon. Unreachable bootstrap peers
		// still back off.
		if looked || d.dht == nil || len(d.h.Network().Peers()) == 0 {
			delay = min(2*delay, bootstrapBackoffMax)
		}
	}
}

// findAll looks up the providers of each category on the DHT, a few
// lookups at a time, and dials those found.
func (d *discovery) findAll(ctx context.Context, categories []string) {
	sem := make(chan struct{}, findParallel)
	var wg sync.WaitGroup
	for _, c := range categories {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			found, err := d.dht.find(ctx, c)
			if err != nil && ctx.Err() == nil {
				d.log.Debug("DHT lookup failed", "category", c, "err", err)
			}
			d.dial(ctx, found, "DHT")
		})
	}
	wg.Wait()
}

func (d *discovery) unconnected(peers []peer.AddrInfo) []peer.AddrInfo {
	var out []peer.AddrInfo
	for _, b := range peers {
		if len(d.h.Network().ConnsToPeer(b.ID)) == 0 {
			out = append(out, b)
		}
	}
	return out
}

// dial dials peers concurrently and returns when all dials are done; from
// says where the peers came from, for the log.
func (d *discovery) dial(ctx context.Context, peers []peer.AddrInfo, from string) {
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Go(func() {
			dctx, cancel := context.WithTimeout(ctx, bootstrapDialTimeout)
			defer cancel()
			if err := d.h.Connect(dctx, p); err != nil {
				if ctx.Err() == nil {
					level := slog.LevelInfo // address book peers come and go
					if from == "bootstrap" {
						level = slog.LevelWarn
					}
					d.log.Log(ctx, level, "peer unreachable", "from", from, "peer", p.ID, "err", err)
				}
				return
			}
			d.log.Debug("connected", "from", from, "peer", p.ID)
		})
	}
	wg.Wait()
}

// HandlePeerFound implements mdns.Notifee. mDNS calls it on a goroutine of
// its own per peer found, possibly as Serve ends, so it may wait but must
// not outlive Serve; it queues the peer for the dialers, dropping it if the
// queue is full.
//
// Two nodes usually find each other at the same moment. If both dial over
// TCP, reuseport makes both dials the same 4-tuple: the kernel joins them
// into one connection with two Noise initiators and both fail, and neither
// mDNS nor the swarm's dial backoff lets them retry soon. So the lower peer
// ID dials; the higher one dials only if no connection exists after
// mdnsDialTimeout (the other side may not have found it).
func (d *discovery) HandlePeerFound(p peer.AddrInfo) {
	if p.ID < d.h.ID() {
		t := time.NewTimer(mdnsDialTimeout)
		defer t.Stop()
		select {
		case <-t.C:
		case <-d.ctx.Done():
			return
		}
	}
	select {
	case d.found <- p:
	case <-d.ctx.Done():
	default:
		d.log.Debug("mDNS: dial queue full, dropping peer", "peer", p.ID)
	}
}

// dialFound connects to the peers mDNS found.
func (d *discovery) dialFound(ctx context.Context) {
	for {
		var p peer.AddrInfo
		select {
		case <-ctx.Done():
			return
		case p = <-d.found:
		}
		if len(d.h.Network().ConnsToPeer(p.ID)) > 0 {
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, mdnsDialTimeout)
		err := d.h.Connect(dctx, p)
		cancel()
		if err != nil {
			d.log.Debug("mDNS: peer unreachable", "peer", p.ID, "err", err)
			continue
		}
		d.log.Debug("mDNS: connected", "peer", p.ID)
	}
}

// jitter spreads d by ±1/jitterSpread (±20%), so that nodes started
// together do not retry, advertise or flush together.
func jitter(d time.Duration) time.Duration {
	return d - d/jitterSpread + rand.N(2*d/jitterSpread)
}

const jitterSpread = 5
