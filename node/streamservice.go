package node

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// streamService is what the stem and sync share of answering a libp2p
// protocol: taking its streams only while the service serves, a context
// per stream that ends with the service, bans of peers that sent invalid
// data, per-peer and total bounds on the streams handled and a per-peer
// rate, every per-peer map bounded, and on shutdown no new stream taken
// and those being handled waited for. What a stream means is the
// service's (stem_relay.go, sync_serve.go).
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
	active   map[peer.ID]int // streams being handled, by peer
	handling int             // streams being handled in all
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

// admit reports whether a stream from p may be handled: p is not banned,
// is within its rate, and the per-peer and total bounds have room. If so,
// the stream counts against them until done is called.
func (s *streamService) admit(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.bannedLocked(p, now) {
		return false
	}
	if (s.lim.perPeer > 0 && s.active[p] >= s.lim.perPeer) || (s.lim.total > 0 && s.handling >= s.lim.total) {
		return false
	}
	if s.lim.rate > 0 && !s.takeToken(p, now) {
		return false
	}
	s.active[p]++
	s.handling++
	return true
}

// done ends a stream admit counted.
func (s *streamService) done(p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handling--
	if s.active[p]--; s.active[p] <= 0 {
		delete(s.active, p)
	}
}

// activeOf is how many streams of p are being handled.
func (s *streamService) activeOf(p peer.ID) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active[p]
}

// handlingAll is how many streams admit counted are being handled.
func (s *streamService) handlingAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.handling
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
