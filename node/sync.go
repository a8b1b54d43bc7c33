package node

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// Late-joiner sync. Gossipsub forwards a message only to the mesh peers a
// node has at that instant, and gossips only the last few seconds of IDs to
// the others, so a node that was offline, or whose mesh link appeared just
// after a message passed, never gets it. /intentcast/sync/1 closes the gap:
// a node asks a peer for what it lacks of the live intents and tombstones
// (signed cancels) of its categories, in one round trip per category:
//
//	requester: {category, range, prefixes of the intent IDs it holds live, and tombstoned}
//	responder: the missing messages, raw, in ID order; then End
//
// Everything received goes through the gossip validators' check and the
// same delivery as gossip (Node.check, Node.deliver). docs/PROTOCOL.md has
// the normative description; sync*.go are the node's side of it:
// sync.go scheduling, sync_ask.go asking, sync_serve.go answering,
// sync_wire.go the frames.

// Three versions, each carrying the sets of the one before and more
// (setsOf): /1 intents and cancels; /2 (store-and-forward, relay.go) also
// accepts, as closures, and sealed offers; /3 also ratings, replies and
// vendor profiles. A set is only ever added with a new version: a node
// that speaks an older one does not know it, and nodes of before /3 drop
// a peer that asks for it. A node proposes the newest first, so
// multistream-select picks the newest the peer speaks, and answers all
// three.
const (
	syncProtocol  = protocol.ID("/intentcast/sync/1")
	syncProtocol2 = protocol.ID("/intentcast/sync/2")
	syncProtocol3 = protocol.ID("/intentcast/sync/3")
)

// syncVersion returns the version of sync a stream speaks.
func syncVersion(st corenet.Stream) int {
	switch st.Protocol() {
	case syncProtocol3:
		return 3
	case syncProtocol2:
		return 2
	}
	return 1
}

const (
	// syncFrameTimeout bounds the wait for any one frame in either
	// direction, syncSessionTimeout a whole stream.
	syncFrameTimeout   = 20 * time.Second
	syncSessionTimeout = 2 * time.Minute
	// syncBanDuration is how long a peer that sent invalid data (or an
	// invalid request) is neither asked nor answered.
	syncBanDuration = time.Hour
	// syncMaxServing bounds the sessions this node answers at once, one
	// per peer at most. When all are taken, a new requester takes the
	// slot of the session idle longest, if it has been idle for
	// syncPreemptIdle: an honest session sends or reads a frame every few
	// milliseconds, one that holds its slot does not; or, if none is, that
	// of the session begun first, if it has run for syncPreemptAge: a
	// requester that keeps its session busy (a request every half second,
	// answers read) is never idle, and would hold its slot for all its
	// syncMaxRounds rounds (sync_serve.go, streamservice.go).
	syncMaxServing  = 8
	syncPreemptIdle = time.Second
	syncPreemptAge  = 2 * time.Second
	// syncReconnectBurst and syncReconnectEvery bound the sessions a peer
	// gets on a new connection within SyncServeInterval of its last one:
	// a node that restarted is answered at once, a peer that reconnects
	// in a loop gets 3 such sessions and then one a minute more than the
	// interval allows (docs/PROTOCOL.md, "When nodes sync, and rate
	// limits").
	syncReconnectBurst = 3
	syncReconnectEvery = time.Minute
	// syncMaxPeersTracked bounds each per-peer map (rate limits, bans,
	// pending syncs), so a crowd of peer IDs cannot grow them without end.
	syncMaxPeersTracked = 4096
)

// syncLimits are what this node sends at most; what it accepts is bounded
// by the protocol's constants. Tests lower them to exercise ranges and
// continuations with few messages.
type syncLimits struct {
	maxIDs, maxItems, maxResponse, maxRounds, maxSession int
}

var defaultSyncLimits = syncLimits{syncMaxIDs, syncMaxItems, syncMaxResponse, syncMaxRounds, syncMaxSession}

// SyncStats counts a node's late-joiner sync traffic since it started. Bytes
// are frame bytes (length prefixes included) on the sync streams.
type SyncStats struct {
	// As the asking side.
	Sessions      int // sessions with a peer that ended without error
	Failed        int // sessions that failed: unreachable, refused, or invalid data
	Requests      int // request frames sent
	BytesSent     int // request bytes sent
	BytesReceived int // response bytes received
	Intents       int // intents accepted and delivered
	Tombstones    int // closures (cancels, and by /2 accepts) accepted: tombstones stored
	Offers        int // sealed offers accepted and delivered (by /2)
	Ratings       int // ratings, rating replies and vendor profiles accepted and kept (by /3)
	Ignored       int // messages ignored (known, expired, unverifiable cancel...)
	Rejected      int // invalid messages or frames: each drops the peer from sync for a while
	// Intents and closures taken, gossiped on (forward.go), and those
	// not, the forward queue being full.
	Forwarded      int
	ForwardDropped int

	// As the answering side.
	Served         int // sessions answered
	Refused        int // sessions refused (rate limit, load, dropped peer, invalid request)
	Preempted      int // sessions cut off, idle, for a new requester when every slot was taken
	ServedBytesIn  int // request bytes received
	ServedBytesOut int // response bytes sent
	ServedMessages int // intents and tombstones sent
	// Requests for a set the session's version does not carry (setsOf),
	// answered with End alone: how many peers ask for more than they
	// agreed, an older or newer implementation among them.
	ServedUnknownSets int
}

// syncNode is what sync needs of its node: the gossip validators' checks
// and the deliveries every message it takes goes through (the ratings
// topic's for ratings and replies).
type syncNode interface {
	checkFrom(ctx context.Context, from peer.ID, category string, offers bool, raw []byte) (any, error)
	deliver(ctx context.Context, m any)
	forward(category string, offers bool, m any) // gossip on what it took
	checkTrust(ctx context.Context, raw []byte) (any, error)
	deliverTrust(ctx context.Context, m any)
	listedBy(req *parsedRequest) // a peer's request lists what it holds: own messages it names were seen
	ownRaw(id intent.ID) []byte  // an own intent's wire bytes, nil if it is not one in memory
}

// syncer runs both sides of the protocol for one node. It reads what it
// serves and what it lists as held from the node's store, live set and
// replay index; it writes nothing itself (what it takes goes through
// syncNode.deliver).
type syncer struct {
	node    syncNode
	store   store.Store
	live    *liveSet
	replay  *replayIndex
	cfg     Config
	log     *slog.Logger
	host    host.Host
	streams *streamService
	due     *timers[peer.ID] // syncs planned with peers

	mu       sync.Mutex
	limits   syncLimits
	last     map[peer.ID]time.Time   // last sync we asked of a peer
	followUp map[peer.ID]bool        // peers that connected: asked again once after their first sync
	served   map[peer.ID]*servedPeer // the last session we answered for a peer
	stats    SyncStats
}

func newSyncer(node syncNode, h host.Host, st store.Store, live *liveSet, replay *replayIndex, cfg Config) *syncer {
	return &syncer{
		node:   node,
		store:  st,
		live:   live,
		replay: replay,
		cfg:    cfg,
		log:    cfg.Logger,
		host:   h,
		// One session per peer, a newer one replacing the older, and idle
		// (or else long) ones preempted when every slot is taken; sync's per-peer
		// interval is its own (sync_serve.go), so no rate here.
		streams: newStreamService("sync", h, streamLimits{
			banFor:      syncBanDuration,
			perPeer:     1,
			replaceOwn:  true,
			total:       syncMaxServing,
			preemptIdle: syncPreemptIdle,
			preemptAge:  syncPreemptAge,
			maxTracked:  syncMaxPeersTracked,
		}, cfg.Logger, syncProtocol, syncProtocol2, syncProtocol3),
		due:      newTimers[peer.ID](syncMaxPeersTracked),
		limits:   defaultSyncLimits,
		last:     make(map[peer.ID]time.Time),
		followUp: make(map[peer.ID]bool),
		served:   make(map[peer.ID]*servedPeer),
	}
}

// Serve answers sync requests and asks peers until ctx ends: each peer
// that connects (after a short random delay, at most once per
// SyncPeerInterval) and one random peer every SyncInterval. Then it stops
// answering and returns once the sessions being answered, and its own,
// have ended.
func (s *syncer) Serve(ctx context.Context) error {
	sub, err := s.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.BufSize(256))
	if err != nil {
		return fmt.Errorf("sync: watch connections: %w", err)
	}
	var watching sync.WaitGroup
	watching.Go(func() { s.watch(ctx, sub) })
	defer watching.Wait()
	s.streams.open(ctx, s.handle)
	defer s.streams.drain()
	for _, p := range s.host.Network().Peers() { // connected before we watched
		s.connected(p)
	}
	tick := time.NewTicker(s.cfg.SyncInterval)
	defer tick.Stop()
	s.due.run(ctx, tick.C, s.schedulePeriodic, s.fire)
	return nil
}

func (s *syncer) ready() <-chan struct{} { return s.streams.ready() }

// fire runs a planned sync with p, if p is still connected.
func (s *syncer) fire(ctx context.Context, p peer.ID) {
	if s.host.Network().Connectedness(p) != corenet.Connected {
		return // it is planned again when it reconnects
	}
	s.attempted(p)
	if err := s.syncPeer(ctx, p); err != nil && ctx.Err() == nil {
		s.log.Debug("sync failed", "peer", p, "err", err)
	}
	if s.takeFollowUp(p) {
		// SyncPeerInterval from now and up to 40% more: the peers that
		// connected together (a swarm started at once, a partition healing)
		// would otherwise all follow up within the same second.
		d := s.cfg.SyncPeerInterval
		s.schedule(p, d+rand.N(2*d/jitterSpread+1), false)
	}
}

// connected plans a sync with a peer that connected, and one more
// SyncPeerInterval (to 1.4 times that) after it. The first comes within
// SyncDelay, while the peers' meshes are still forming: a message
// published meanwhile (a partition healing, a node coming back) can reach
// the responder after it answered and miss this node's mesh too, and would
// otherwise wait for the periodic sync (SyncInterval, 5 minutes) with one
// random peer. The follow-up costs one request per connection (8 bytes per
// ID held, and what is missing).
func (s *syncer) connected(p peer.ID) {
	if !s.schedule(p, s.delay(), false) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.followUp) < syncMaxPeersTracked {
		s.followUp[p] = true
	}
}

// takeFollowUp reports whether p is owed a follow-up sync, and clears it.
func (s *syncer) takeFollowUp(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	owed := s.followUp[p]
	delete(s.followUp, p)
	return owed
}

// SyncStats returns the node's sync counters.
func (n *Node) SyncStats() SyncStats {
	n.sync.mu.Lock()
	defer n.sync.mu.Unlock()
	return n.sync.stats
}

func (s *syncer) count(f func(*SyncStats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

func (s *syncer) getLimits() syncLimits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.limits
}

func (s *syncer) setLimits(l syncLimits) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
}

// Scheduling: which peer to ask, and when.

// watch schedules a sync with every peer that connects.
func (s *syncer) watch(ctx context.Context, sub event.Subscription) {
	defer sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-sub.Out():
			if !ok {
				return
			}
			if ev, ok := e.(event.EvtPeerConnectednessChanged); ok && ev.Connectedness == corenet.Connected {
				s.connected(ev.Peer)
			}
		}
	}
}

// delay spreads the syncs of peers that connect together.
func (s *syncer) delay() time.Duration { return rand.N(s.cfg.SyncDelay) + 1 }

// schedule plans a sync with p after delay, but no sooner than
// SyncPeerInterval after the last one, so that a peer that reconnects in a
// loop costs one sync per interval and a peer that comes back from a
// partition is still synced with. With idleOnly it plans nothing for a peer
// synced with less than SyncPeerInterval ago. It reports whether p is
// (now or already) planned; never for a peer dropped from sync.
func (s *syncer) schedule(p peer.ID, delay time.Duration, idleOnly bool) bool {
	if p == s.host.ID() || s.streams.isBanned(p) {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at := time.Now().Add(delay)
	if t, ok := s.last[p]; ok {
		if next := t.Add(s.cfg.SyncPeerInterval); next.After(at) {
			if idleOnly {
				return false
			}
			at = next
		}
	}
	return s.due.setEarlier(p, at)
}

// retry plans another sync with p after delay, whenever it was last
// synced with: the last attempt was refused, and a responder's rate limit
// (SyncServeInterval, whose default this node assumes) is shorter than
// SyncPeerInterval.
func (s *syncer) retry(p peer.ID, delay time.Duration) {
	if s.streams.isBanned(p) {
		return
	}
	s.due.setEarlier(p, time.Now().Add(delay+s.delay()))
}

// schedulePeriodic plans a sync with one random peer not synced with
// lately, so that what gossip missed while everybody stayed connected is
// still found.
func (s *syncer) schedulePeriodic() {
	peers := s.host.Network().Peers()
	rand.Shuffle(len(peers), func(i, j int) { peers[i], peers[j] = peers[j], peers[i] })
	for _, p := range peers {
		if s.schedule(p, 0, true) {
			return
		}
	}
}

// attempted records a sync with p starting now.
func (s *syncer) attempted(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if len(s.last) >= syncMaxPeersTracked {
		pruneOlder(s.last, now.Add(-s.cfg.SyncPeerInterval))
	}
	s.last[p] = now
	s.due.remove(p) // planned again while it was taken: this sync covers it
}

// ban drops p from sync, both ways, for syncBanDuration.
func (s *syncer) ban(p peer.ID, err error) {
	s.streams.ban(p, err)
	s.due.remove(p)
	s.takeFollowUp(p)
}
