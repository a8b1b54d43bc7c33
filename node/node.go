package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/multiformats/go-multiaddr"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// ErrClosed is returned by a Node's methods after Close.
var ErrClosed = errors.New("node is closed")

// Node is a running intentcast peer: a libp2p host, gossipsub with the
// protocol's validators, the node's store, and the customer and vendor roles
// on top. Every node relays; which roles it plays is up to its user.
type Node struct {
	cfg       Config
	log       *slog.Logger
	net       *network
	store     store.Store
	identity  crypto.Identity
	live      *liveSet
	relay     *relayKeeper    // store-and-forward: what is kept of others' offers
	outbox    *outbox         // own messages and how far they got
	own       *ownSet         // own intents still on the network; see lockOwn
	tombs     *tombSet        // cancelled intents, for the validator
	pending   *pendingCancels // cancels that overtook their intent
	replay    *replayIndex
	events    broker
	metrics   *metrics
	rejects   *rejectLog      // rate-limits the log of refused gossip
	stats     *statsCollector // registered sync and stem counters, if any
	sync      *syncer         // late-joiner sync, both sides
	forwarder *forwarder      // gossips on what sync took
	stem      *stemRelay      // origin privacy: the stem phase, both sides
	ratings   *ratingBook     // verified ratings and vendor profiles

	topics map[string]*pubsub.Topic // joined topics by name

	ownMu    sync.Mutex // see lockOwn
	threadMu sync.Mutex // one thread message at a time: each takes the next place

	filterMu sync.RWMutex
	filter   Filter

	ctx     context.Context // ends at Close; parent of every goroutine the node starts
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	behind  sync.WaitGroup // storeBehind's waits for their batches' transaction
	closing sync.Once
	tmpDir  string // removed at Close when the zero Config made one
}

// New starts a node. It returns once the host listens, the store is open and
// the node has joined its topics; discovery goes on in the background.
func New(ctx context.Context, cfg Config) (*Node, error) {
	return newNode(ctx, cfg)
}

// newNode is New with extra router options, for tests that trace the router
// (scores reach tests through Config.OnPeerScores: the router takes one
// score inspector, and it is the node's).
func newNode(ctx context.Context, cfg Config, opts ...pubsub.Option) (n *Node, err error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	n = &Node{cfg: cfg, log: cfg.Logger, identity: cfg.Identity, topics: make(map[string]*pubsub.Topic)}
	n.ctx, n.cancel = context.WithCancel(context.WithoutCancel(ctx))
	self := n // `return nil, err` clears n before this runs
	defer func() {
		if err != nil {
			self.Close()
		}
	}()
	if err := n.openStore(); err != nil {
		return nil, err
	}
	if n.identity.Signing.IsZero() {
		if n.identity, err = crypto.GenerateIdentity(); err != nil {
			return nil, fmt.Errorf("node: vendor identity: %w", err)
		}
	}
	if n.cfg.Vendor.Name == "" {
		// Offers need a vendor name; a node that never set one is named by
		// its vendor key, which is what customers can check anyway.
		n.cfg.Vendor.Name = fmt.Sprintf("vendor %x", n.identity.Signing.Public()[:4])
	}
	n.metrics = newMetrics(cfg.Registerer)
	n.rejects = newRejectLog()
	n.live = newLiveSet(cfg.MaxLiveIntents)
	n.relay = newRelayKeeper(cfg.RelayLimits)
	n.own = newOwnSet()
	n.tombs = newTombSet()
	n.pending = newPendingCancels(pendingCancelsMax)
	n.replay = newReplayIndex(n.store, n.log)
	if err := n.loadLive(ctx); err != nil {
		return nil, err
	}
	if err := n.loadTombstones(ctx); err != nil {
		return nil, err
	}
	n.ratings = newRatingBook(cfg.RatingLimits)
	if err := n.ratings.load(ctx, n.store); err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	if err := n.replay.seed(ctx, n.store, n.now(), cfg.Policy.Skew()); err != nil {
		return nil, fmt.Errorf("node: rebuild replay index: %w", err)
	}
	n.outbox = newOutbox(n)
	if err := n.outbox.load(ctx); err != nil {
		return nil, err
	}
	opts = append(opts, pubsub.WithRawTracer(n.outbox))
	if n.net, err = startNetwork(n.ctx, cfg, cfg.Tracer, opts...); err != nil {
		return nil, err
	}
	// The node's long-lived services, all started here and stopped by
	// Close (docs/ARCHITECTURE.md, "Goroutines and who owns them"). The
	// network's (discovery, reachability, DHT advertising) start first, as
	// soon as the host listens.
	n.serve("network", n.net)
	n.sync = newSyncer(n, n.net.host, n.store, n.live, n.replay, n.cfg)
	n.forwarder = newForwarder(n)
	n.stem = newStemRelay(n, n.net.host, n.cfg)
	if cfg.Registerer != nil {
		// Only the first node on a registry shows its sync and stem
		// counters (they are per node, not summed); Close takes them off.
		if c := newStatsCollector(n); cfg.Registerer.Register(c) == nil {
			n.stats = c
		}
	}
	// The flusher runs before the validators can queue anything for it.
	n.serve("replay flusher", n.replay)
	if err := n.joinTopics(); err != nil { // a delivery loop per topic
		return nil, err
	}
	if err := n.joinRatings(); err != nil {
		return nil, err
	}
	n.serve("prune", serviceFunc(n.prune))
	n.serve("outbox", serviceFunc(n.outbox.run))
	n.serve("sync", n.sync)
	n.serve("forwarder", n.forwarder)
	n.serve("stem", n.stem)
	n.log.Info("node started", "peer", n.net.ID(), "addrs", n.net.Addrs(), "categories", cfg.Categories)
	return n, nil
}

func (n *Node) openStore() error {
	if n.cfg.Store != nil {
		n.store = n.cfg.Store
		return nil
	}
	dir := n.cfg.DataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "intentcast-node-")
		if err != nil {
			return fmt.Errorf("node: no DataDir set and no temporary one either: %w", err)
		}
		n.tmpDir, dir = tmp, tmp
	}
	s, err := store.Open(filepath.Join(dir, StoreFile))
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.store = s
	return nil
}

// StoreFile is the store's file name inside Config.DataDir.
const StoreFile = "store.db"

// loadLive rebuilds the in-memory live set from the store, so that offers,
// accepts and cancels for intents seen before a restart are still checked.
func (n *Node) loadLive(ctx context.Context) error {
	now := n.now()
	live, err := n.store.LiveIntents(ctx, now)
	if err != nil {
		return fmt.Errorf("node: load live intents: %w", err)
	}
	kept, err := n.store.RelayedOffers(ctx, "", now)
	if err != nil {
		return fmt.Errorf("node: load relayed offers: %w", err)
	}
	n.loadRelayed(kept)
	own, err := n.store.OwnIntents(ctx)
	if err != nil {
		return fmt.Errorf("node: load own intents: %w", err)
	}
	if err := n.loadOwn(ctx, own); err != nil {
		return err
	}
	type stored struct {
		raw      []byte
		received time.Time
	}
	all := make([]stored, 0, len(live)+len(own))
	for _, l := range live {
		all = append(all, stored{l.Raw, l.Received})
	}
	for _, o := range own {
		if o.State == store.IntentOpen && o.Expires.After(now) {
			all = append(all, stored{o.Raw, o.Created})
		}
	}
	for _, s := range all {
		in, err := intent.ParseIntent(s.raw)
		if err != nil {
			n.log.Warn("store holds an intent that no longer parses; skipping", "err", err)
			continue
		}
		n.live.add(in, s.received)
	}
	sent, err := n.store.OffersByDirection(ctx, store.Sent)
	if err != nil {
		return fmt.Errorf("node: load sent offers: %w", err)
	}
	counts := make(map[intent.ID]int)
	for _, o := range sent {
		counts[o.IntentID]++
	}
	for id, c := range counts {
		n.live.setSent(id, c)
	}
	return nil
}

// prune drops what has expired, from memory and from the store, every
// PruneInterval until ctx ends.
func (n *Node) prune(ctx context.Context) error {
	t := time.NewTicker(n.cfg.PruneInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := n.now()
		n.live.prune(now, n.cfg.Policy.Skew())
		n.relay.prune(now.Add(-n.cfg.Policy.Skew()))
		n.own.prune(now, n.cfg.Policy.Skew())
		n.outbox.prune(now.Add(-n.cfg.Policy.Skew()))
		n.tombs.prune(now, n.cfg.Policy.Skew())
		n.replay.prune(now)
		n.pending.prune(now)
		if k, err := n.store.Prune(ctx, now.Add(-n.cfg.Policy.Skew())); err != nil {
			n.log.Warn("store prune", "err", err)
		} else if k > 0 {
			n.log.Debug("pruned expired records", "count", k)
		}
	}
}

// Close stops the node: background work, gossip, the host, then the store.
// It is idempotent and returns once every goroutine the node started has
// ended.
func (n *Node) Close() error {
	var errs []error
	n.closing.Do(func() {
		// The router stops first, so the node leaves its topics without a
		// word: leaving them sends every mesh peer a PRUNE with a backoff,
		// and a node restarted within it grafts into the backoff on every
		// topic and is penalised down to the graylist (issue 11, clean
		// restart). Peers see the connection close instead, which starts
		// no backoff. The topics and subscriptions end with the router.
		if n.net != nil {
			n.net.stopPubSub()
		}
		n.cancel()
		// Every service; the delivery loops end with the router, and
		// discovery saves the address book while the host is still up.
		n.wg.Wait()
		if n.replay != nil {
			// What was queued behind after the flusher's last flush (a
			// send status from the router's last trace, a delivery that
			// was under way): every service has ended, so this is the last.
			n.replay.flush(context.Background())
		}
		if n.store != nil {
			// What deliveries stored behind rides the next transaction:
			// this one, so Close waits for no checkpoint.
			if err := n.store.Apply(context.Background(), store.Batch{}); err != nil {
				n.log.Error("store: write what was stored behind", "err", err)
			}
			n.behind.Wait()
		}
		if n.net != nil {
			errs = append(errs, n.net.close())
		}
		n.events.close()
		if n.stats != nil {
			n.cfg.Registerer.Unregister(n.stats)
		}
		if n.store != nil && n.cfg.Store == nil {
			errs = append(errs, n.store.Close())
		}
		if n.tmpDir != "" {
			errs = append(errs, os.RemoveAll(n.tmpDir))
		}
	})
	return errors.Join(errs...)
}

func (n *Node) now() time.Time { return n.cfg.Now() }

func (n *Node) alive() error {
	if n.ctx.Err() != nil {
		return ErrClosed
	}
	return nil
}

// ID returns the node's libp2p peer ID. It identifies the relay, never a
// customer: intents carry no peer ID.
func (n *Node) ID() peer.ID { return n.net.ID() }

// Addrs returns the node's listen addresses with its /p2p/ suffix.
func (n *Node) Addrs() []multiaddr.Multiaddr { return n.net.Addrs() }

// Peers returns the peers the node is connected to.
func (n *Node) Peers() []peer.ID { return n.net.Peers() }

// Connect dials a peer.
func (n *Node) Connect(ctx context.Context, ai peer.AddrInfo) error { return n.net.Connect(ctx, ai) }

// Vendor returns how this node presents itself in offers.
func (n *Node) Vendor() intent.Vendor { return n.cfg.Vendor }

// Done is closed when the node starts closing.
func (n *Node) Done() <-chan struct{} { return n.ctx.Done() }

// Identity returns the vendor identity the node signs offers with.
func (n *Node) Identity() crypto.Identity { return n.identity }

// Subscribe returns a live feed of the node's events.
func (n *Node) Subscribe() *Subscription { return n.events.subscribe() }

// Categories returns the categories this node serves.
func (n *Node) Categories() []string { return n.cfg.Categories }

// Policy returns the validation policy of the node's network.
func (n *Node) Policy() intent.Policy { return n.cfg.Policy }
