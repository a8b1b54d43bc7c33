package node

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// streamService is what the stem and sync share of answering a libp2p
// protocol: taking its streams only while the service serves, a context
// per stream that ends with the service, bans of peers that sent invalid
// data, the slots of the streams being handled (bounded per peer and in
// all, a newer stream of a peer taking its oldest's slot, an idle stream
// giving its slot up to a newcomer, or else the one held longest), a per-peer rate, every per-peer map
// bounded, and on shutdown no new stream taken and those being handled
// waited for. What a stream means is the service's (stem_relay.go,
// sync_serve.go).
type streamService struct {
	name   string // "stem", "sync": for logs
	host   host.Host
	protos []protocol.ID
	lim    streamLimits
	log    *slog.Logger

	mu       sync.Mutex
	ctx      context.Context // while serving: the parent of every stream's
	closed   bool
	banned   map[peer.ID]time.Time
	buckets  map[peer.ID]*tokenBucket
	slots    map[*streamSlot]struct{} // the streams being handled
	active   map[peer.ID]int          // slots by peer
	seq      uint64                   // slots admitted
	handlers sync.WaitGroup
	up       chan struct{} // closed once the handlers are set
}

// streamLimits bound a stream service. A zero rate, perPeer or total is no
// bound of that kind (the service applies its own).
type streamLimits struct {
	banFor     time.Duration // how long a peer that sent invalid data is dropped, both ways
	perPeer    int           // streams of one peer handled at once
	total      int           // streams handled at once
	rate       float64       // streams a peer may open per second, sustained
	burst      float64       // and at once
	maxTracked int           // peers each per-peer map holds at most
	// replaceOwn: a stream of a peer at its perPeer bound takes the slot of
	// the peer's oldest stream (whose context is cancelled) instead of
	// being refused. For a protocol whose honest requester starts its next
	// session before the responder saw the end of the last.
	replaceOwn bool
	// preemptIdle, if set: at the total bound, the stream idle longest
	// gives its slot up (its context is cancelled) to a newcomer once it
	// has been idle that long, so peers holding streams open cannot lock
	// others out.
	preemptIdle time.Duration
	// preemptAge, if set: at the total bound, when no stream has been
	// idle for preemptIdle, the one admitted first gives its slot up once
	// it has held it that long, so peers keeping their streams busy cannot
	// lock others out either.
	preemptAge time.Duration
}

// streamSlot is one stream being handled, from admit to done.
type streamSlot struct {
	peer   peer.ID
	seq    uint64       // admission order, for replaceOwn and preemptAge
	start  time.Time    // when it was admitted
	active atomic.Int64 // unix nanos of its last sign of life (touch)
	cancel context.CancelFunc
}

// touch records a sign of life: a frame read or written.
func (sl *streamSlot) touch() { sl.active.Store(time.Now().UnixNano()) }

func (sl *streamSlot) idle(now time.Time) time.Duration {
	return now.Sub(time.Unix(0, sl.active.Load()))
}

func newStreamService(name string, h host.Host, lim streamLimits, log *slog.Logger, protos ...protocol.ID) *streamService {
	return &streamService{
		name:    name,
		host:    h,
		protos:  protos,
		lim:     lim,
		log:     log,
		banned:  make(map[peer.ID]time.Time),
		buckets: make(map[peer.ID]*tokenBucket),
		slots:   make(map[*streamSlot]struct{}),
		active:  make(map[peer.ID]int),
		up:      make(chan struct{}),
	}
}

// open takes the service's streams, each handed to handle with a context
// that ends with ctx, until drain.
func (s *streamService) open(ctx context.Context, handle func(context.Context, corenet.Stream)) {
	s.mu.Lock()
	s.ctx = ctx
	s.mu.Unlock()
	for _, p := range s.protos {
		s.host.SetStreamHandler(p, func(st corenet.Stream) {
			ctx, ok := s.enter()
			if !ok {
				st.Reset()
				return
			}
			defer s.handlers.Done()
			handle(ctx, st)
		})
	}
	close(s.up)
}

// drain stops taking streams (one arriving now is reset) and returns once
// those being handled have ended: their contexts have ended by then, which
// resets their streams.
func (s *streamService) drain() {
	for _, p := range s.protos {
		s.host.RemoveStreamHandler(p)
	}
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.handlers.Wait()
}

// ready is closed once the service takes its streams.
func (s *streamService) ready() <-chan struct{} { return s.up }

// enter counts a stream as being handled, unless the service has stopped.
func (s *streamService) enter() (context.Context, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.ctx == nil {
		return nil, false
	}
	s.handlers.Add(1)
	return s.ctx, true
}

// admit gives a stream from p a slot, unless p is banned, the bounds have
// no room (after replaceOwn and preemptIdle made what room they may) or p
// is over its rate; cancel ends the stream's handling if another takes its
// slot. The slot counts until done. preempted reports whether an idle
// stream of another peer gave its slot up.
func (s *streamService) admit(p peer.ID, cancel context.CancelFunc) (sl *streamSlot, preempted bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.bannedLocked(p, now) {
		return nil, false
	}
	var own, idlest, oldest *streamSlot // p's oldest; the others' idlest and oldest
	for sl := range s.slots {
		if sl.peer == p {
			if own == nil || sl.seq < own.seq {
				own = sl
			}
			continue
		}
		if idlest == nil || sl.active.Load() < idlest.active.Load() {
			idlest = sl
		}
		if oldest == nil || sl.seq < oldest.seq {
			oldest = sl
		}
	}
	var free []*streamSlot // taken only once admission is certain
	if s.lim.perPeer > 0 && s.active[p] >= s.lim.perPeer {
		if !s.lim.replaceOwn {
			return nil, false
		}
		free = append(free, own)
	}
	if s.lim.total > 0 && len(s.slots)-len(free) >= s.lim.total {
		out := s.preemptable(idlest, oldest, now)
		if out == nil {
			return nil, false
		}
		free = append(free, out)
		preempted = true
	}
	if s.lim.rate > 0 && !s.takeToken(p, now) {
		return nil, false
	}
	for _, f := range free {
		f.cancel()
		s.removeLocked(f)
	}
	s.seq++
	sl = &streamSlot{peer: p, seq: s.seq, start: now, cancel: cancel}
	sl.touch()
	s.slots[sl] = struct{}{}
	s.active[p]++
	return sl, preempted
}

// preemptable is the slot that gives way to a newcomer at the total
// bound, if any: the idlest once idle for preemptIdle, or else the oldest
// once it has held its slot for preemptAge.
func (s *streamService) preemptable(idlest, oldest *streamSlot, now time.Time) *streamSlot {
	switch {
	case idlest == nil:
		return nil
	case s.lim.preemptIdle > 0 && idlest.idle(now) >= s.lim.preemptIdle:
		return idlest
	case s.lim.preemptAge > 0 && now.Sub(oldest.start) >= s.lim.preemptAge:
		return oldest
	}
	return nil
}

// done frees a stream's slot, if another has not taken it.
func (s *streamService) done(sl *streamSlot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.removeLocked(sl)
}

func (s *streamService) removeLocked(sl *streamSlot) {
	if _, ok := s.slots[sl]; !ok {
		return
	}
	delete(s.slots, sl)
	if s.active[sl.peer]--; s.active[sl.peer] <= 0 {
		delete(s.active, sl.peer)
	}
}

// activeOf is how many streams of p hold a slot.
func (s *streamService) activeOf(p peer.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active[p]
}

// handlingAll is how many streams hold a slot.
func (s *streamService) handlingAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.slots)
}

// takeToken spends one of p's tokens, if it has one.
func (s *streamService) takeToken(p peer.ID, now time.Time) bool {
	b, ok := s.buckets[p]
	if !ok {
		if len(s.buckets) >= s.lim.maxTracked {
			// Buckets that have refilled hold nothing worth keeping.
			for q, b := range s.buckets {
				if now.Sub(b.last).Seconds()*s.lim.rate >= s.lim.burst {
					delete(s.buckets, q)
				}
			}
			if len(s.buckets) >= s.lim.maxTracked {
				return false
			}
		}
		b = &tokenBucket{tokens: s.lim.burst, last: now}
		s.buckets[p] = b
	}
	return b.take(now, s.lim.rate, s.lim.burst)
}

// tokenBucket allows rate events per second on average, burst at once.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

// take spends a token if there is one.
func (b *tokenBucket) take(now time.Time, rate, burst float64) bool {
	b.tokens = math.Min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// ban drops p from the service, both ways (its streams are refused and it
// is not asked), for the ban duration.
func (s *streamService) ban(p peer.ID, err error) {
	s.mu.Lock()
	now := time.Now()
	if len(s.banned) >= s.lim.maxTracked {
		pruneOlder(s.banned, now) // expired bans
		for q := range s.banned {
			if len(s.banned) < s.lim.maxTracked {
				break
			}
			delete(s.banned, q) // all current: some end early rather than the map growing
		}
	}
	s.banned[p] = now.Add(s.lim.banFor)
	s.mu.Unlock()
	s.log.Warn(fmt.Sprintf("%s peer sent invalid data; dropping it from %s for a while", s.name, s.name), "peer", p, "for", s.lim.banFor, "err", err)
}

func (s *streamService) isBanned(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bannedLocked(p, time.Now())
}

func (s *streamService) bannedLocked(p peer.ID, now time.Time) bool {
	until, ok := s.banned[p]
	return ok && now.Before(until)
}

// pruneOlder deletes the entries of m before t.
func pruneOlder(m map[peer.ID]time.Time, t time.Time) {
	for p, at := range m {
		if at.Before(t) {
			delete(m, p)
		}
	}
}
