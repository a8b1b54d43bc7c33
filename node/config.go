package node

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/prometheus/client_golang/prometheus"

	icrypto "github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// ErrInvalidConfig is wrapped by every error about a bad Config field.
var ErrInvalidConfig = errors.New("invalid config")

// Config configures a node. The zero value works: the node listens on every
// IPv4 interface on ports the OS picks, finds peers on the local network by
// mDNS and gets a fresh identity.
type Config struct {
	// ListenAddrs are the multiaddrs to listen on. Empty means
	// /ip4/0.0.0.0/tcp/0 and /ip4/0.0.0.0/udp/0/quic-v1.
	ListenAddrs []string

	// PrivKey is the libp2p identity (it determines the peer ID). Nil means
	// a fresh Ed25519 key, so a new peer ID on every start.
	PrivKey crypto.PrivKey

	// Bootstrap lists peers to dial at start and again, with backoff, while
	// the node has fewer than ConnLow peers. Each entry is a multiaddr ending
	// in /p2p/<peer ID>; several entries may name the same peer. An entry
	// naming this node itself is skipped, so one list can serve every
	// bootstrap node.
	Bootstrap []string

	// DisableMDNS turns off peer discovery on the local network.
	DisableMDNS bool

	// MDNSServiceName is the DNS-SD service nodes announce and browse for;
	// nodes only find nodes using the same name. Empty means
	// "_intentcast._udp". Tests set a unique name per test.
	MDNSServiceName string

	// MaxMessageSize is the largest gossipsub payload, in bytes, a node sends,
	// accepts or forwards. Zero means 64 KiB. Nodes with a smaller limit drop
	// larger messages and the streams that carry them, so it must be the same
	// on the whole network; it is configurable for tests and private networks.
	MaxMessageSize int

	// ValidateQueueSize is how many received messages may wait for
	// validation; beyond it, messages are dropped without penalty for the
	// sender (gossip offers them again). Zero means 1024.
	ValidateQueueSize int

	// ConnLow and ConnHigh are the connection manager's watermarks: above
	// ConnHigh connections it closes the least useful ones down to ConnLow.
	// Zero means 32 and 96. ConnLow is also the peer count below which
	// unreachable bootstrap peers are redialed.
	ConnLow, ConnHigh int

	// Logger receives the node's logs. Nil means slog.Default().
	Logger *slog.Logger

	// DataDir holds the store. Empty means a temporary directory removed at
	// Close (a node that forgets everything, as tests and demos want).
	DataDir string

	// Store overrides the store in DataDir; the caller keeps ownership and
	// closes it after the node.
	Store store.Store

	// Identity is the vendor identity offers are signed with. The zero value
	// means a fresh one for this run.
	Identity icrypto.Identity

	// Vendor is how this node presents itself in offers.
	Vendor intent.Vendor

	// Categories are the categories this node serves: it joins both topics
	// of each, relays their traffic, sees their intents and can publish in
	// them. Empty means every category on the roster.
	Categories []string

	// Policy holds the network's validation parameters (minimum work,
	// allowed clock skew). Every node of a network must use the same
	// MinWork; the zero value is the public network's.
	Policy intent.Policy

	// Now is the node's clock. Nil means time.Now; tests skew it.
	Now func() time.Time

	// Registerer receives the node's Prometheus metrics. Nil means they
	// are not registered.
	Registerer prometheus.Registerer

	// MaxLiveIntents bounds the intents held in memory for validation.
	// Zero means 100000 (a few hundred MiB at the maximum intent size; far
	// more than the network's proof of work lets anyone publish).
	MaxLiveIntents int

	// RelayLimits bound the sealed offers this node keeps for others
	// (store-and-forward, relay.go); the zero value means the defaults.
	RelayLimits RelayLimits

	// RatingLimits bound the ratings and vendor profiles this node keeps
	// (ratings.go); the zero value means the defaults.
	RatingLimits RatingLimits

	// OfferTTL is how long an offer stays valid when the vendor does not
	// say. Zero means 24 hours.
	OfferTTL time.Duration

	// PruneInterval is how often expired state is dropped. Zero means a
	// minute.
	PruneInterval time.Duration

	// ValidateConcurrency is how many validations run at once (the
	// router's validation workers, shared by all topics); zero means 2 per
	// CPU. ValidateTimeout bounds one validation; zero means 2s.
	ValidateConcurrency int
	ValidateTimeout     time.Duration

	// PublishWait is how long publishing waits for a mesh peer on the
	// topic before it sends anyway. Zero means 5s.
	PublishWait time.Duration

	// SubscriptionBuffer is how many delivered messages may wait for the
	// node's handlers per topic. Zero means 1024.
	SubscriptionBuffer int

	// Late-joiner sync (/intentcast/sync/1) fetches from peers the live
	// intents and tombstones gossip did not bring: from every peer that
	// connects, after a random delay of up to SyncDelay (zero means 1s),
	// and from one random peer every SyncInterval (zero means 5 minutes).
	// SyncPeerInterval is the least time between two syncs with one peer
	// (zero means 30s), so a peer that reconnects in a loop costs little;
	// SyncServeInterval is the least time between two sessions this node
	// answers for one peer (zero means 10s; earlier ones are refused).
	SyncDelay         time.Duration
	SyncInterval      time.Duration
	SyncPeerInterval  time.Duration
	SyncServeInterval time.Duration

	// The stem phase (/intentcast/stem/1, Dandelion++-style) hides which
	// node a customer's intents, cancels and accepts come from: each is
	// first handed to one peer, which forwards it to its own successor or
	// publishes it into gossip. DisableStem sends this node's own messages
	// straight into gossip instead (the node still relays others' stem
	// messages); tests of the gossip path set it.
	//
	// StemFluffProbability is the chance, drawn per node and epoch, that a
	// node publishes the stem messages it gets rather than forwarding them:
	// 1/q is the expected stem length. Zero means 0.1. StemEpoch is how
	// long a node keeps its stem successor and that draw; zero means 10
	// minutes. StemTimeout sets the fail-safe of every node on a stem: a
	// message it handed on and has not seen by gossip after half of
	// StemTimeout plus an exponential draw with a mean of half of it is
	// published by the node itself. Zero means 4s.
	DisableStem          bool
	StemFluffProbability float64
	StemEpoch            time.Duration
	StemTimeout          time.Duration

	// Internet reach (see docs/DEPLOY.md). The zero value suits a node on
	// a LAN or in a test: no DHT, no relay service, and the client side of
	// NAT traversal on (it acts only on public addresses).
	//
	// DHT is the Kademlia DHT (/intentcast/kad/1.0.0) that finds peers
	// beyond the bootstrap list: "" or "off" (none), "client" (query it
	// only), "server" (also answer queries and store provider records) or
	// "auto" (server while AutoNAT finds the node publicly reachable).
	DHT string
	// Advertise is whether the node announces on the DHT the categories it
	// serves, so that others find it: "" or "auto" advertises when the node
	// is a vendor (Vendor.Name set) or while it serves as a relay
	// (RelayService, and AutoNAT found it public); "always";
	// "never". An advertisement names the category: a customer that made
	// one would reveal its interest, so customers only look up.
	Advertise string
	// RelayService makes the node a circuit relay v2 for others (and an
	// AutoNAT v1 server), with libp2p's resource limits (128
	// reservations, 16 circuits, 2 minutes and 128 KiB per circuit), while
	// it is publicly reachable.
	RelayService bool
	// Reachability overrides AutoNAT: "" or "auto" (probe), "public" (a
	// server known to be reachable at its listen addresses) or "private".
	Reachability string
	// DisableNATTraversal turns off the relay client, AutoNAT and hole
	// punching (DCUtR).
	DisableNATTraversal bool

	// Host, if set, is the libp2p host the node runs on instead of building
	// its own: for benchmarks that meter every host the same way and for
	// simulated networks (go-libp2p's x/simlibp2p). ListenAddrs, PrivKey,
	// ConnLow and ConnHigh then do not apply (the host's own settings do).
	// The caller keeps ownership and closes it after the node.
	Host host.Host

	// Tracer, if set, receives the gossipsub router's events (grafts,
	// prunes, RPCs sent and received): for tests, benchmarks and metrics.
	Tracer pubsub.RawTracer

	// Gater, if set, is libp2p's connection gater for the node's host: it
	// is asked before every dial and about every inbound connection, and
	// can refuse either. Operators can block peers or address ranges with
	// it; tests use it to cut a network in two inside one process. Nil
	// allows every connection. It does not apply when Host is set.
	Gater connmgr.ConnectionGater

	// Peer scores (peerscore.go). Every ScoreInterval (zero means 1s) the
	// node reads its router's peer scores: it closes the connections of
	// peers whose own invalid messages put them below the graylist
	// threshold and refuses their connections, both ways, for GraylistDeny
	// (zero means 10 minutes; on its own host the node's gater refuses
	// them in the handshake, on a Host set here they are closed as soon as
	// they are up, before any stream is taken); the reading feeds the metrics and
	// Node.PeerScores, and OnPeerScores, if set, receives each one (on the
	// router's goroutine: it must not block).
	ScoreInterval time.Duration
	GraylistDeny  time.Duration
	OnPeerScores  func(PeerScores)
}

const (
	defaultMDNSServiceName = "_intentcast._udp"
	// Intents are a few KiB of CBOR; 64 KiB leaves room for long free text
	// while keeping gossip's write amplification (every message goes to ~6
	// peers) cheap.
	defaultMaxMessageSize = 64 << 10
	// A validation costs one hash and one Ed25519 check (tens of µs), so 1024
	// queued messages drain in well under a second; the worst case queue
	// holds 1024 * 64 KiB = 64 MiB.
	defaultValidateQueueSize = 1024
	// Kubo's watermarks: enough peers for meshes on all topics (gossipsub
	// keeps 6-12 per topic, mostly the same peers), light on a laptop.
	defaultConnLow  = 32
	defaultConnHigh = 96
)

// defaultListenAddrs is every IPv4 interface, TCP and QUIC, ports picked by the OS.
var defaultListenAddrs = []string{"/ip4/0.0.0.0/tcp/0", "/ip4/0.0.0.0/udp/0/quic-v1"}

// withDefaults returns c with its zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if len(c.ListenAddrs) == 0 {
		c.ListenAddrs = defaultListenAddrs
	}
	if c.MDNSServiceName == "" {
		c.MDNSServiceName = defaultMDNSServiceName
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = defaultMaxMessageSize
	}
	if c.ValidateQueueSize == 0 {
		c.ValidateQueueSize = defaultValidateQueueSize
	}
	// Setting only one watermark must not produce ConnLow > ConnHigh.
	if c.ConnHigh == 0 {
		c.ConnHigh = max(defaultConnHigh, c.ConnLow)
	}
	if c.ConnLow == 0 {
		c.ConnLow = min(defaultConnLow, c.ConnHigh)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if len(c.Categories) == 0 {
		c.Categories = intent.Categories
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.MaxLiveIntents = cmp.Or(c.MaxLiveIntents, 100_000)
	c.RelayLimits = c.RelayLimits.withDefaults()
	c.RatingLimits = c.RatingLimits.withDefaults()
	c.OfferTTL = cmp.Or(c.OfferTTL, 24*time.Hour)
	c.PruneInterval = cmp.Or(c.PruneInterval, time.Minute)
	c.ValidateConcurrency = cmp.Or(c.ValidateConcurrency, 2*runtime.NumCPU())
	c.ValidateTimeout = cmp.Or(c.ValidateTimeout, 2*time.Second)
	c.SubscriptionBuffer = cmp.Or(c.SubscriptionBuffer, 1024)
	c.PublishWait = cmp.Or(c.PublishWait, 5*time.Second)
	c.SyncDelay = cmp.Or(c.SyncDelay, time.Second)
	c.SyncInterval = cmp.Or(c.SyncInterval, 5*time.Minute)
	c.SyncPeerInterval = cmp.Or(c.SyncPeerInterval, 30*time.Second)
	c.SyncServeInterval = cmp.Or(c.SyncServeInterval, 10*time.Second)
	c.StemFluffProbability = cmp.Or(c.StemFluffProbability, 0.1)
	c.StemEpoch = cmp.Or(c.StemEpoch, 10*time.Minute)
	c.StemTimeout = cmp.Or(c.StemTimeout, 4*time.Second)
	c.ScoreInterval = cmp.Or(c.ScoreInterval, time.Second)
	c.GraylistDeny = cmp.Or(c.GraylistDeny, 10*time.Minute)
	return c
}

// validate reports the first bad field of c, which has its defaults applied.
func (c Config) validate() error {
	if _, err := c.listenMultiaddrs(); err != nil {
		return err
	}
	if _, err := c.bootstrapPeers(); err != nil {
		return err
	}
	if !slices.Contains([]string{"", "off", "client", "server", "auto"}, c.DHT) {
		return fmt.Errorf("%w: DHT %q: want off, client, server or auto", ErrInvalidConfig, c.DHT)
	}
	if !slices.Contains([]string{"", "auto", "always", "never"}, c.Advertise) {
		return fmt.Errorf("%w: Advertise %q: want auto, always or never", ErrInvalidConfig, c.Advertise)
	}
	if !slices.Contains([]string{"", "auto", "public", "private"}, c.Reachability) {
		return fmt.Errorf("%w: Reachability %q: want auto, public or private", ErrInvalidConfig, c.Reachability)
	}
	for _, cat := range c.Categories {
		if err := intent.CheckCategory(cat); err != nil {
			return fmt.Errorf("%w: Categories: %w", ErrInvalidConfig, err)
		}
	}
	switch {
	case c.MaxMessageSize < 0:
		return fmt.Errorf("%w: MaxMessageSize %d is negative", ErrInvalidConfig, c.MaxMessageSize)
	case c.ValidateQueueSize < 0:
		return fmt.Errorf("%w: ValidateQueueSize %d is negative", ErrInvalidConfig, c.ValidateQueueSize)
	case c.ConnLow < 0 || c.ConnLow > c.ConnHigh:
		return fmt.Errorf("%w: ConnLow %d, ConnHigh %d: want 0 <= ConnLow <= ConnHigh", ErrInvalidConfig, c.ConnLow, c.ConnHigh)
	case !(c.StemFluffProbability > 0 && c.StemFluffProbability <= 1):
		return fmt.Errorf("%w: StemFluffProbability %v: want 0 < p <= 1 (0 means the default)", ErrInvalidConfig, c.StemFluffProbability)
	case c.StemEpoch < 0 || c.StemTimeout < 0:
		return fmt.Errorf("%w: StemEpoch %v, StemTimeout %v: neither may be negative", ErrInvalidConfig, c.StemEpoch, c.StemTimeout)
	case c.ScoreInterval < 0 || c.GraylistDeny < 0:
		return fmt.Errorf("%w: ScoreInterval %v, GraylistDeny %v: neither may be negative", ErrInvalidConfig, c.ScoreInterval, c.GraylistDeny)
	case c.SyncDelay < 0 || c.SyncInterval < 0 || c.SyncPeerInterval < 0 || c.SyncServeInterval < 0:
		return fmt.Errorf("%w: SyncDelay %v, SyncInterval %v, SyncPeerInterval %v, SyncServeInterval %v: none may be negative",
			ErrInvalidConfig, c.SyncDelay, c.SyncInterval, c.SyncPeerInterval, c.SyncServeInterval)
	}
	return nil
}

// listenMultiaddrs parses c.ListenAddrs.
func (c Config) listenMultiaddrs() ([]ma.Multiaddr, error) {
	addrs := make([]ma.Multiaddr, 0, len(c.ListenAddrs))
	for i, s := range c.ListenAddrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: ListenAddrs[%d] %q: %v; want a multiaddr such as /ip4/0.0.0.0/tcp/4001 or /ip4/0.0.0.0/udp/4001/quic-v1",
				ErrInvalidConfig, i, s, err)
		}
		addrs = append(addrs, a)
	}
	return addrs, nil
}

// bootstrapPeers parses c.Bootstrap, merging entries that name the same peer.
func (c Config) bootstrapPeers() ([]peer.AddrInfo, error) {
	const want = "want a multiaddr ending in /p2p/<peer ID>, such as /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW..."
	var infos []peer.AddrInfo
	index := make(map[peer.ID]int)
	for i, s := range c.Bootstrap {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("%w: Bootstrap[%d] %q: %v; %s", ErrInvalidConfig, i, s, err, want)
		}
		info, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			return nil, fmt.Errorf("%w: Bootstrap[%d] %q: %v; %s", ErrInvalidConfig, i, s, err, want)
		}
		if len(info.Addrs) == 0 {
			return nil, fmt.Errorf("%w: Bootstrap[%d] %q has no transport address; %s", ErrInvalidConfig, i, s, want)
		}
		if j, ok := index[info.ID]; ok {
			infos[j].Addrs = append(infos[j].Addrs, info.Addrs...)
			continue
		}
		index[info.ID] = len(infos)
		infos = append(infos, *info)
	}
	return infos, nil
}
