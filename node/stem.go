package node

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"log/slog"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/intentcast/intentcast/intent"
)

// Origin privacy: the stem phase (Dandelion++, Fanti et al., 2018).
//
// Gossipsub sends a node's own message to its mesh peers at once, so a
// neighbour that hears a message first from a peer can guess that peer made
// it. A node's own intents, cancels and accepts therefore leave through a
// stem: the origin hands the message over /intentcast/stem/1 to one peer,
// its stem successor; a node that gets a stem message checks it like gossip
// (checkStem: every rule, no state changed) and either forwards it to its
// own successor or, at the end of the stem, publishes it into gossip like
// any relay would ("fluff"). Gossip then carries it everywhere, back to the
// origin too, which validates and forwards it like any relay.
//
//   - Epochs (Config.StemEpoch, 10 minutes by default): at the start of each
//     epoch a node draws a seed that ranks its peers (its successor for a
//     category is the best-ranked peer that serves it and speaks the stem
//     protocol, dialled by this node if there is one) and whether it is a
//     diffuser this epoch (probability Config.StemFluffProbability, 0.1):
//     a diffuser fluffs every stem message it gets, a relay forwards them.
//     All own messages of an epoch take the same successor, so an adversary
//     that watches many of them learns no more than from one (intersection
//     attacks).
//   - Loops and bounces end the same way everywhere: a node that gets a
//     stem message it already holds (an own one still in its stem phase, or
//     one it forwarded) checks it like any other and fluffs it. An origin
//     and a relay thus answer a successor that bounces a message back with
//     the same act, and the successor learns no more than it knew: who
//     handed it the message. A node never forwards a message to the peer it
//     got it from.
//   - Successors that refuse: a hand-over is offered to up to stemTries
//     peers by rank (outbound first, then inbound), so a successor whose
//     stream slots a few peers hold makes its predecessor pick another
//     rather than publish. An origin that finds none keeps the message
//     and offers it again when its fail-safe timer fires; only then does it
//     publish it.
//   - Fail-safe: every node on a stem, origin or relay, keeps each message
//     it handed on with a timer drawn from one distribution (failSafeDelay:
//     half of Config.StemTimeout plus an exponential draw with a mean of
//     half of it); if the message has not come by gossip by then (it is
//     not in the replay index, which only gossip and sync fill for a
//     message on its stem), the node publishes it itself. Which node of a
//     broken stem fires first therefore says nothing about which one is the
//     origin, and a black hole further down is routed around.
//   - Sealed offers skip the stem: they are sealed to the customer, and the
//     vendor that signs them is a public business the customer learns
//     anyway; what the stem protects is the customer. Offers go straight
//     into gossip.
//
// What it does not buy: a successor that is the adversary sees the
// message before anyone, and knows its predecessor (it cannot tell the
// origin from a relay); an adversary that watches every link (a global
// passive adversary) follows the stem by timing. docs/ARCHITECTURE.md has
// the goroutines, docs/PROTOCOL.md the wire rules.
//
// stem.go is the origin side and the timers, stem_relay.go the relay
// side, stem_wire.go the frame.

const stemProtocol = protocol.ID("/intentcast/stem/1")

const (
	// stemFrameTimeout bounds the wait for the one frame of a stream, and
	// stemSendTimeout a whole hand-over: open, write, acknowledgment.
	stemFrameTimeout = 10 * time.Second
	stemSendTimeout  = 5 * time.Second
	// stemHandleTimeout bounds all a relay does for one stream: reading,
	// checking, and forwarding or publishing.
	stemHandleTimeout = 30 * time.Second
	// stemBanDuration is how long a peer that sent invalid data is neither
	// taken stem messages from nor chosen as successor.
	stemBanDuration = time.Hour
	// stemMaxHandling bounds the stem streams handled at once, and
	// stemMaxPerPeer those of one peer: it takes stemMaxHandling /
	// stemMaxPerPeer = 32 peers holding streams open until their deadline
	// to take every slot, and then the node's predecessors hand their
	// messages to another successor (stemTries).
	stemMaxHandling = 64
	stemMaxPerPeer  = 2
	// stemPeerRate and stemPeerBurst bound the frames one peer may send:
	// sustained per second, and at once. Intents cost about a second of
	// proof of work each, so an honest relay forwards few.
	stemPeerRate  = 10
	stemPeerBurst = 50
	// stemMaxPeersTracked bounds each per-peer map.
	stemMaxPeersTracked = 4096
	// stemMaxRelayed and stemMaxRelayedBytes bound the messages a relay
	// holds for its fail-safe; beyond, it forwards without a timer (the
	// origin's still runs).
	stemMaxRelayed      = 1024
	stemMaxRelayedBytes = 8 << 20
	// stemMaxOwn bounds the own messages in their stem phase; beyond, they
	// are published directly.
	stemMaxOwn = 4096
	// stemTries is how many successors, by rank, a message is offered to
	// before a relay publishes it, or an origin keeps it for its fail-safe.
	// A refusing successor answers at once; one that stalls costs up to
	// stemSendTimeout.
	stemTries = 4
)

// StemStats counts a node's stem traffic since it started.
type StemStats struct {
	// As the origin of own intents, cancels and accepts.
	Stemmed  int // handed to a stem successor (at once, or when its timer fired)
	Held     int // no successor took it: kept for its timer, offered again then
	Direct   int // published straight into gossip: stem off, or too many own messages on their stem
	Returned int // stemmed, and back by gossip (or sync) before the timer
	FailSafe int // not back in time (or never taken): published by the origin itself

	// As a relay of others' stem messages.
	Received      int // valid stem messages taken in
	Forwarded     int // passed to this node's successor
	Fluffed       int // published into gossip: the end of their stem
	RelayFailSafe int // forwarded, not seen in gossip in time: published by this relay
	Looped        int // came back along the stem (own, or forwarded before): fluffed
	Ignored       int // valid for someone, not here and now: already seen, unknown intent, category not served
	Rejected      int // invalid data: the peer is dropped from the stem for a while
	Refused       int // streams refused: rate limit, load, dropped peer
}

// StemTracer, when Config.Tracer also implements it, is told of every
// stem frame the node reads, before any check: who handed it which
// message. The simulation's spies (bench/privacy_sim_test.go) use it to
// play the first-spy estimator.
type StemTracer interface {
	StemFrame(from peer.ID, msg []byte)
}

// stemEntry is a message a node holds during its stem phase: an own one
// (until it is back, or published by the fail-safe) or one it relayed
// (until its timer).
type stemEntry struct {
	id       intent.ID
	category string
	offers   bool
	raw      []byte
	due      time.Time // when its fail-safe timer fires (under stemRelay.mu)

	own     bool
	via     peer.ID              // the successor that took it ("" while none has)
	offered bool                 // an own message none took at first: offered again at its timer
	in      *intent.SignedIntent // an own intent
	parent  intent.ID            // an own cancel or accept: the intent it names
	once    sync.Once            // release
	err     error
}

func (e *stemEntry) frame() stemFrame {
	return stemFrame{Category: e.category, Kind: stemKind(e.offers), Msg: e.raw}
}

// stemNode is what the stem needs of its node: the checks every relay
// runs, the gossip publish that ends a stem, whether gossip (or sync)
// brought a message back, and who is on a topic.
type stemNode interface {
	checkWith(ctx context.Context, from peer.ID, category string, offers bool, raw []byte, mode checkMode) (any, error)
	publishGossip(ctx context.Context, category string, offers bool, raw []byte) error
	seen(id intent.ID) bool
	topicPeers(topic string) []peer.ID
	handedOn(id intent.ID, p peer.ID) // an own message left by the stem
}

// stemRelay runs both sides of the stem for one node.
type stemRelay struct {
	node    stemNode
	cfg     Config
	log     *slog.Logger
	host    host.Host
	streams *streamService
	timers  *timers[*stemEntry] // fail-safes of own and relayed messages

	mu           sync.Mutex
	own          map[intent.ID]*stemEntry
	relayed      map[intent.ID]*stemEntry
	relayedBytes int
	epochEnd     time.Time
	seed         [32]byte
	diffuser     bool
	avoid        map[peer.ID]bool // successors that lost a message: not chosen again this epoch
	stats        StemStats
}

func newStemRelay(node stemNode, h host.Host, cfg Config) *stemRelay {
	return &stemRelay{
		node: node,
		cfg:  cfg,
		log:  cfg.Logger,
		host: h,
		streams: newStreamService("stem", h, streamLimits{
			banFor:     stemBanDuration,
			perPeer:    stemMaxPerPeer,
			total:      stemMaxHandling,
			rate:       stemPeerRate,
			burst:      stemPeerBurst,
			maxTracked: stemMaxPeersTracked,
		}, cfg.Logger, stemProtocol),
		timers:  newTimers[*stemEntry](0),
		own:     make(map[intent.ID]*stemEntry),
		relayed: make(map[intent.ID]*stemEntry),
		avoid:   make(map[peer.ID]bool),
	}
}

// Serve takes stem streams and fires the fail-safe timers until ctx ends;
// then it stops taking streams and returns once those being handled have
// ended. A node relays for others also when its own stem is off
// (Config.DisableStem).
func (s *stemRelay) Serve(ctx context.Context) error {
	s.streams.open(ctx, s.handle)
	defer s.streams.drain()
	s.timers.run(ctx, nil, nil, s.fire)
	return nil
}

func (s *stemRelay) ready() <-chan struct{} { return s.streams.ready() }

// fire is a message's fail-safe timer.
func (s *stemRelay) fire(ctx context.Context, e *stemEntry) {
	if !e.own {
		s.expireRelayed(ctx, e)
		return
	}
	if err := s.expireOwn(ctx, e); err != nil && ctx.Err() == nil {
		s.log.Warn("stem: fail-safe publish of an own message", "id", e.id.Short(), "err", err)
	}
}

// StemStats returns the node's stem counters.
func (n *Node) StemStats() StemStats {
	n.stem.mu.Lock()
	defer n.stem.mu.Unlock()
	return n.stem.stats
}

func (s *stemRelay) count(f func(*StemStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

// The origin side.

// publishOwn sends one of this node's own messages: checked as a relay
// would check it (an invalid message never leaves), then handed to the
// stem successor, with the fail-safe timer set. If no successor takes it,
// it is kept with the same timer and offered again when the timer fires:
// publishing it now would show every gossip neighbour its origin. Sealed
// offers go straight into gossip.
func (s *stemRelay) publishOwn(ctx context.Context, category string, offers bool, raw []byte) error {
	n := s.node
	m, err := n.checkWith(ctx, "", category, offers, raw, checkOwn)
	if err != nil {
		return err
	}
	e := &stemEntry{id: intent.IDOf(raw), category: category, offers: offers, raw: raw, own: true}
	switch m := m.(type) {
	case *intent.SealedOffer:
		return n.publishGossip(ctx, category, offers, raw)
	case *intent.SignedIntent:
		e.in = m
	case *intent.SignedCancel:
		e.parent = m.IntentID
	case *intent.SignedAccept:
		e.parent = m.IntentID
	case *intent.SealedThread:
		e.parent = m.IntentID
	}
	s.mu.Lock()
	if _, ok := s.own[e.id]; ok {
		s.mu.Unlock()
		return nil // already on its way
	}
	full := len(s.own) >= stemMaxOwn
	if !full {
		s.own[e.id] = e
	}
	s.mu.Unlock()
	if full {
		s.log.Warn("stem: too many own messages in their stem phase; publishing directly", "max", stemMaxOwn)
		return s.publishDirect(ctx, e)
	}
	if len(n.topicPeers(topicOf(category, offers))) == 0 {
		// No peer on the topic: none to hide from either, and the message
		// is stored (and served by sync) at once.
		return s.release(ctx, e, releaseDirect)
	}
	if p, ok := s.forward(ctx, e.frame(), ""); ok {
		e.via = p
		s.count(func(c *StemStats) { c.Stemmed++ })
		s.node.handedOn(e.id, p)
	} else {
		s.log.Debug("stem: no successor took an own message; holding it for its timer", "id", e.id.Short())
		s.count(func(c *StemStats) { c.Held++ })
	}
	s.arm(e)
	return nil
}

// expireOwn is an own message's timer: one that no successor took at
// first is offered again (the slots of successors held by others free up
// within stemFrameTimeout); otherwise, or if none takes it now either, the
// message ends its stem phase (release).
func (s *stemRelay) expireOwn(ctx context.Context, e *stemEntry) error {
	if e.via == "" && !e.offered {
		e.offered = true
		if !s.node.seen(e.id) {
			if p, ok := s.forward(ctx, e.frame(), ""); ok {
				e.via = p
				s.count(func(c *StemStats) { c.Stemmed++ })
				s.node.handedOn(e.id, p)
				s.arm(e)
				return nil
			}
		}
	}
	return s.release(ctx, e, releaseTimer)
}

// publishDirect publishes an own message that never entered the stem, its
// intent first if that is still in its stem phase.
func (s *stemRelay) publishDirect(ctx context.Context, e *stemEntry) error {
	if p := s.ownEntry(e.parent); p != nil {
		if err := s.release(ctx, p, releaseDirect); err != nil {
			s.log.Debug("stem: publishing an intent before its cancel or accept", "err", err)
		}
	}
	s.count(func(c *StemStats) { c.Direct++ })
	return s.node.publishGossip(ctx, e.category, e.offers, e.raw)
}

// Why an own message's stem phase ends.
type releaseReason int

const (
	releaseDirect releaseReason = iota // it never took the stem
	releaseTimer                       // its fail-safe timer fired
	releaseLoop                        // it came back along the stem
)

// release ends an own message's stem phase: if it has not come back, it is
// published from here. The intent an own cancel or accept names goes first
// if it is still in its stem phase: the node's own validator, like every
// other, does not pass a cancel or accept of an intent it does not know.
// Each entry is released once; callers that race wait for the first.
func (s *stemRelay) release(ctx context.Context, e *stemEntry, why releaseReason) error {
	e.once.Do(func() {
		s.timers.remove(e)
		if p := s.ownEntry(e.parent); p != nil {
			if err := s.release(ctx, p, why); err != nil {
				s.log.Debug("stem: publishing an intent before its cancel or accept", "err", err)
			}
		}
		seen := s.node.seen(e.id)
		switch {
		case seen && why == releaseTimer:
			s.count(func(c *StemStats) { c.Returned++ })
		case seen:
		default:
			s.count(func(c *StemStats) {
				switch why {
				case releaseTimer:
					c.FailSafe++
				case releaseDirect:
					c.Direct++
				}
			})
			if why == releaseTimer {
				s.log.Debug("stem: own message not back in time; publishing it", "id", e.id.Short(), "successor", e.via)
				s.lost(e.via)
			}
			e.err = s.node.publishGossip(ctx, e.category, e.offers, e.raw)
		}
		s.mu.Lock()
		delete(s.own, e.id)
		s.mu.Unlock()
	})
	return e.err
}

// ownEntry returns the own message id in its stem phase, if any.
func (s *stemRelay) ownEntry(id intent.ID) *stemEntry {
	if id.IsZero() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.own[id]
}

// ownIntent returns an own intent in its stem phase, for checkOwn.
func (s *stemRelay) ownIntent(id intent.ID) (*intent.SignedIntent, bool) {
	e := s.ownEntry(id)
	if e == nil || e.in == nil {
		return nil, false
	}
	return e.in, true
}

// arm sets e's fail-safe timer, a failSafeDelay from now.
func (s *stemRelay) arm(e *stemEntry) {
	at := time.Now().Add(s.failSafeDelay())
	s.mu.Lock()
	e.due = at
	s.mu.Unlock()
	s.timers.set(e, at)
}

// failSafeDelay is the fail-safe delay of every node on a stem, origin or
// relay alike: half the timeout plus an exponential draw with a mean of
// half of it (median 0.85 × StemTimeout, 99th percentile 2.8 ×). One
// distribution for all, so that when a node publishes a lost message says
// nothing about whether it made it, and memoryless, so that of the nodes
// before a black hole each is as likely to fire first.
func (s *stemRelay) failSafeDelay() time.Duration {
	t := s.cfg.StemTimeout
	return t/2 + time.Duration(mrand.ExpFloat64()*float64(t/2))
}

// Successors and epochs.

// lost records that a message handed to successor p did not come back in
// time: p is not chosen again until the epoch ends. Each fail-safe publish
// shows the network its origin (or a relay), so a successor that drops
// messages, by accident or to unmask its predecessors, gets one.
func (s *stemRelay) lost(p peer.ID) {
	if p == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.avoid) >= stemMaxPeersTracked {
		return
	}
	s.avoid[p] = true
}

// epochLocked starts a new epoch if the current one is over.
func (s *stemRelay) epochLocked(now time.Time) {
	if now.Before(s.epochEnd) {
		return
	}
	clear(s.avoid)
	rand.Read(s.seed[:])
	s.diffuser = mrand.Float64() < s.cfg.StemFluffProbability
	s.epochEnd = now.Add(s.cfg.StemEpoch)
}

// isDiffuser reports whether this node fluffs the stem messages it gets in
// the current epoch.
func (s *stemRelay) isDiffuser() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epochLocked(time.Now())
	return s.diffuser
}

// successors returns up to k peers to stem a message of one topic to, best
// first: connected peers that serve the topic, speak the stem protocol and
// are not dropped, other than from (the peer the message came from),
// ranked by the epoch's seed. Peers this node dialled come first
// (Dandelion++ stems over outbound edges: an adversary cannot make itself
// our successor by dialling us many times); inbound peers follow, for when
// no outbound one takes the message (handing it to a peer that may be the
// adversary is still better than publishing it from here).
func (s *stemRelay) successors(category string, offers bool, from peer.ID, k int) []peer.ID {
	topic := topicOf(category, offers)
	s.mu.Lock()
	now := time.Now()
	s.epochLocked(now)
	seed := s.seed
	s.mu.Unlock()
	type ranked struct {
		p       peer.ID
		inbound bool
		rank    [32]byte
	}
	var cands []ranked
	for _, p := range s.node.topicPeers(topic) {
		if p == from || s.streams.isBanned(p) || s.avoided(p) || s.host.Network().Connectedness(p) != corenet.Connected {
			continue
		}
		if ps, err := s.host.Peerstore().SupportsProtocols(p, stemProtocol); err != nil || len(ps) == 0 {
			continue
		}
		r := ranked{p: p, inbound: true, rank: sha256.Sum256(append(seed[:], p...))}
		for _, c := range s.host.Network().ConnsToPeer(p) {
			if c.Stat().Direction == corenet.DirOutbound {
				r.inbound = false
			}
		}
		cands = append(cands, r)
	}
	slices.SortFunc(cands, func(a, b ranked) int {
		if a.inbound != b.inbound {
			if a.inbound {
				return 1
			}
			return -1
		}
		return slices.Compare(a.rank[:], b.rank[:])
	})
	out := make([]peer.ID, 0, min(k, len(cands)))
	for _, c := range cands[:min(k, len(cands))] {
		out = append(out, c.p)
	}
	return out
}

// topicOf names a category's intents or offers topic.
func topicOf(category string, offers bool) string {
	if offers {
		return intent.OfferTopic(category)
	}
	return intent.IntentTopic(category)
}

// Bans.

func (s *stemRelay) avoided(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.avoid[p]
}

// reject drops p from the stem, both ways, for stemBanDuration.
// Counted first, so that the count is there once the ban shows.
func (s *stemRelay) reject(p peer.ID, err error) {
	s.count(func(c *StemStats) { c.Rejected++ })
	s.streams.ban(p, err)
}

// errStemNoAck is a successor that did not acknowledge a frame.
var errStemNoAck = errors.New("stem successor did not acknowledge the frame")
