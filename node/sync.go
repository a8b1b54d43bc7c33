package node

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/host/eventbus"
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

// Two versions: /1 carries intents and cancels; /2 (store-and-forward,
// relay.go) also carries accepts, as closures, and sealed offers. A node
// asks by /2 first and falls back to /1, and answers both.
const (
	syncProtocol  = protocol.ID("/intentcast/sync/1")
	syncProtocol2 = protocol.ID("/intentcast/sync/2")
)

// syncVersion returns the version of sync a stream speaks.
func syncVersion(st corenet.Stream) int {
	if st.Protocol() == syncProtocol2 {
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
	// milliseconds, one that holds its slot does not (sync_serve.go).
	syncMaxServing  = 8
	syncPreemptIdle = time.Second
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
	Ratings       int // ratings and rating replies accepted and kept (by /2)
	Ignored       int // messages ignored (known, expired, unverifiable cancel...)
	Rejected      int // invalid messages or frames: each drops the peer from sync for a while

	// As the answering side.
	Served         int // sessions answered
	Refused        int // sessions refused (rate limit, load, dropped peer, invalid request)
	Preempted      int // sessions cut off, idle, for a new requester when every slot was taken
	ServedBytesIn  int // request bytes received
	ServedBytesOut int // response bytes sent
	ServedMessages int // intents and tombstones sent
}

// syncer runs both sides of the protocol for one node.
type syncer struct {
	n    *Node
	host host.Host

	mu       sync.Mutex
	limits   syncLimits
	due      map[peer.ID]time.Time // connect-triggered syncs waiting for their time
	last     map[peer.ID]time.Time // last sync we asked of a peer
	served   map[peer.ID]time.Time // last session we answered for a peer
	banned   map[peer.ID]time.Time // peers dropped from sync, until
	closed   bool
	stats    SyncStats
	kick     chan struct{}
	slots    map[*serveSlot]struct{} // the sessions being answered
	handlers sync.WaitGroup
}

func newSyncer(n *Node) *syncer {
	return &syncer{
		n:      n,
		limits: defaultSyncLimits,
		due:    make(map[peer.ID]time.Time),
		last:   make(map[peer.ID]time.Time),
		served: make(map[peer.ID]time.Time),
		banned: make(map[peer.ID]time.Time),
		kick:   make(chan struct{}, 1),
		slots:  make(map[*serveSlot]struct{}),
	}
}

// startSync answers sync requests and starts asking peers: each peer that
// connects (after a short random delay, at most once per SyncPeerInterval)
// and one random peer every SyncInterval. Everything it starts ends when
// the node closes.
func (n *Node) startSync() error {
	s := n.sync
	s.host = n.net.host
	sub, err := s.host.EventBus().Subscribe(new(event.EvtPeerConnectednessChanged), eventbus.BufSize(256))
	if err != nil {
		return fmt.Errorf("node: sync: watch connections: %w", err)
	}
	s.host.SetStreamHandler(syncProtocol, s.handle)
	s.host.SetStreamHandler(syncProtocol2, s.handle)
	n.goLoop(func(ctx context.Context) { s.watch(ctx, sub) })
	n.goLoop(s.run)
	n.goLoop(s.drain)
	for _, p := range s.host.Network().Peers() { // connected before we watched
		s.schedule(p, s.delay(), false)
	}
	return nil
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

// drain waits for the node to close, then stops answering and waits for
// the sessions being answered (their streams are reset by then).
func (s *syncer) drain(ctx context.Context) {
	<-ctx.Done()
	s.host.RemoveStreamHandler(syncProtocol)
	s.host.RemoveStreamHandler(syncProtocol2)
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.handlers.Wait()
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
				s.schedule(ev.Peer, s.delay(), false)
			}
		}
	}
}

// delay spreads the syncs of peers that connect together.
func (s *syncer) delay() time.Duration { return rand.N(s.n.cfg.SyncDelay) + 1 }

// schedule plans a sync with p after delay, but no sooner than
// SyncPeerInterval after the last one, so that a peer that reconnects in a
// loop costs one sync per interval and a peer that comes back from a
// partition is still synced with. With idleOnly it plans nothing for a peer
// synced with less than SyncPeerInterval ago. It reports whether p is
// (now or already) planned; never for a peer dropped from sync.
func (s *syncer) schedule(p peer.ID, delay time.Duration, idleOnly bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.closed || p == s.host.ID() || s.bannedLocked(p, now) {
		return false
	}
	at := now.Add(delay)
	if t, ok := s.last[p]; ok {
		if next := t.Add(s.n.cfg.SyncPeerInterval); next.After(at) {
			if idleOnly {
				return false
			}
			at = next
		}
	}
	if t, ok := s.due[p]; ok {
		if at.Before(t) {
			s.due[p] = at
		}
	} else if len(s.due) < syncMaxPeersTracked {
		s.due[p] = at
	} else {
		return false
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return true
}

// retry plans another sync with p after delay, whenever it was last
// synced with: the last attempt was refused, and a responder's rate limit
// (SyncServeInterval, whose default this node assumes) is shorter than
// SyncPeerInterval.
func (s *syncer) retry(p peer.ID, delay time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.bannedLocked(p, time.Now()) || len(s.due) >= syncMaxPeersTracked {
		return
	}
	at := time.Now().Add(delay + s.delay())
	if t, ok := s.due[p]; !ok || at.Before(t) {
		s.due[p] = at
	}
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// run performs the planned syncs, one at a time: each sync then only asks
// for what the ones before it did not bring.
func (s *syncer) run(ctx context.Context) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	tick := time.NewTicker(s.n.cfg.SyncInterval)
	defer tick.Stop()
	for {
		timer.Reset(s.untilDue())
		select {
		case <-ctx.Done():
			return
		case <-s.kick:
		case <-timer.C:
		case <-tick.C:
			s.schedulePeriodic()
		}
		for _, p := range s.takeDue(time.Now()) {
			if ctx.Err() != nil {
				return
			}
			if s.host.Network().Connectedness(p) != corenet.Connected {
				continue // it is planned again when it reconnects
			}
			s.attempted(p)
			if err := s.syncPeer(ctx, p); err != nil && ctx.Err() == nil {
				s.n.log.Debug("sync failed", "peer", p, "err", err)
			}
		}
	}
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

// untilDue is the time until the next planned sync (an hour if none).
func (s *syncer) untilDue() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := time.Hour
	now := time.Now()
	for _, t := range s.due {
		next = min(next, max(t.Sub(now), 0))
	}
	return next
}

// takeDue removes and returns the peers whose sync is due, earliest first.
func (s *syncer) takeDue(now time.Time) []peer.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ps []peer.ID
	for p, t := range s.due {
		if !t.After(now) {
			ps = append(ps, p)
		}
	}
	slices.SortFunc(ps, func(a, b peer.ID) int { return s.due[a].Compare(s.due[b]) })
	for _, p := range ps {
		delete(s.due, p)
	}
	return ps
}

// attempted records a sync with p starting now.
func (s *syncer) attempted(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if len(s.last) >= syncMaxPeersTracked {
		pruneOlder(s.last, now.Add(-s.n.cfg.SyncPeerInterval))
	}
	s.last[p] = now
	delete(s.due, p) // planned again while it was taken: this sync covers it
}

// pruneOlder deletes the entries of m before t.
func pruneOlder(m map[peer.ID]time.Time, t time.Time) {
	for p, at := range m {
		if at.Before(t) {
			delete(m, p)
		}
	}
}

func (s *syncer) bannedLocked(p peer.ID, now time.Time) bool {
	until, ok := s.banned[p]
	return ok && now.Before(until)
}

// ban drops p from sync, both ways, for syncBanDuration.
func (s *syncer) ban(p peer.ID, err error) {
	s.mu.Lock()
	now := time.Now()
	if len(s.banned) >= syncMaxPeersTracked {
		// Expired bans go first; if all are current, some end early
		// rather than the map growing.
		for q, until := range s.banned {
			if !now.Before(until) || len(s.banned) >= syncMaxPeersTracked {
				delete(s.banned, q)
			}
		}
	}
	s.banned[p] = now.Add(syncBanDuration)
	delete(s.due, p)
	s.mu.Unlock()
	s.n.log.Warn("sync peer sent invalid data; not syncing with it for a while", "peer", p, "for", syncBanDuration, "err", err)
}

func (s *syncer) isBanned(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bannedLocked(p, time.Now())
}
