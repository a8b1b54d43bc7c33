package node

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// rehello repairs two holes in go-libp2p-pubsub (v0.19.0) that leave the
// router sending a connected peer nothing on any topic, for good:
//
//   - Its stream to the peer dies while the peer is still connected (a
//     duplicate connection closing, or a reconnect that came before the
//     router handled the old connection's end): the router writes to a new
//     stream but first forgets the topics the peer subscribed to, and the
//     peer never says them again (it announces its topics only when its
//     own stream to us starts). Between two nodes, a vendor's offer stayed
//     queued for good (TestDaemonLoop, about once in 135 runs under load).
//   - Opening its stream to a peer that speaks our router protocol fails
//     (on a busy machine the wait for identify or the negotiation passes
//     the host's 10 s limit; or the connection picked was closing while
//     another stays: upstream issue libp2p/go-libp2p-pubsub#433): the
//     router drops the peer and never tries again while the connection
//     lasts, yet records the topics the peer's router announces on its
//     own stream, and counts the peer as ready for publishing. A message
//     published then goes nowhere: the one path found, reading the
//     library, by which TestMaxSizePayloadFits could have waited 2
//     minutes for its one message, as it did in CI once (not reproduced).
//
// The repair: a peer lands in the queue when the router's stream to it
// ends while it is still connected (OnClosedOutboundStream), or when the
// peer's router talks to us after ours failed to open its stream to it
// (RecvRPC; a peer that runs no intentcast router never talks to it, so
// peers that merely share the DHT with us are left alone). rehelloWait
// later, if the peer is still connected and the router either has no
// stream to it (its new stream failed to open, or, at a fifth stream death
// each within 10 minutes of the last, the library starts none) or knows it on none
// of our topics (every node joins the ratings topic, so a peer of ours is
// on one), close every connection to
// it, so that both routers let go, and dial it again rehelloWait later: a
// fresh connection starts both streams, each with its topics. A peer can
// cause this at will (by killing or refusing our stream and talking to us
// anyway); what it buys is a reconnect, at most one per rehelloWait per
// peer (rehelloWait doubles, up to rehelloWaitMax, while it keeps
// happening), and the queue holds at most rehelloQueue peers, further ones
// waiting for their next trigger. The peers whose stream failed to open
// are remembered until they talk to us or the router's stream to them
// opens, at most maxRefused of them: who can fill that set is any peer
// that connects and refuses the stream, at the cost of a connection each;
// when full, the entries of disconnected peers go first, and past that a
// failure is not remembered (that peer is not repaired).
type rehello struct {
	noTrace
	h    host.Host
	ps   *pubsub.PubSub // set once the router is made, before Serve
	log  *slog.Logger
	kick chan peer.ID

	mu      sync.Mutex
	refused map[peer.ID]struct{} // peers the router failed to open its stream to
	// nRefused is len(refused), read without the lock on every RPC.
	nRefused atomic.Int32
}

const (
	rehelloWait    = time.Second
	rehelloWaitMax = time.Minute
	rehelloQueue   = 64
	maxRefused     = 1024
)

func newRehello(h host.Host, log *slog.Logger) *rehello {
	return &rehello{h: h, log: log, kick: make(chan peer.ID, rehelloQueue), refused: make(map[peer.ID]struct{})}
}

// routerHost returns h as the router should see it: its NewStream tells r
// when the router fails to open its stream to a peer.
func (r *rehello) routerHost() host.Host { return streamWatch{Host: r.h, r: r} }

// streamWatch is the host the router uses (see rehello.routerHost).
type streamWatch struct {
	host.Host
	r *rehello
}

func (w streamWatch) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (corenet.Stream, error) {
	s, err := w.Host.NewStream(ctx, p, pids...)
	if err != nil && slices.Contains(pids, gossipSubProtocol) {
		w.r.streamRefused(p)
	}
	return s, err
}

// streamRefused: the router failed to open its stream to p. If p's router
// talks to us already, p is queued now; otherwise it is remembered, to be
// queued when p's router does (RecvRPC).
//
// Remembering comes first: p's first RPC may come between the look and
// the remembering, and then RecvRPC would find nothing to act on; forget
// makes sure only one of the two queues p.
func (r *rehello) streamRefused(p peer.ID) {
	r.remember(p)
	if r.routerStream(p, corenet.DirInbound) && r.forget(p) && !r.queue(p) {
		r.remember(p) // the queue is full: p's next RPC tries again
	}
}

// remember adds p to the peers whose stream failed to open (see rehello
// for the bound).
func (r *rehello) remember(p peer.ID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.refused) >= maxRefused {
		for q := range r.refused {
			if r.h.Network().Connectedness(q) != corenet.Connected {
				delete(r.refused, q)
			}
		}
	}
	if len(r.refused) < maxRefused {
		r.refused[p] = struct{}{}
	}
	r.nRefused.Store(int32(len(r.refused)))
}

// forget drops p from the peers whose stream failed to open, reporting
// whether it was one.
func (r *rehello) forget(p peer.ID) bool {
	if r.nRefused.Load() == 0 {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.refused[p]
	delete(r.refused, p)
	r.nRefused.Store(int32(len(r.refused)))
	return ok
}

// OnNewOutboundStream: the router's stream to p opened after all.
func (r *rehello) OnNewOutboundStream(p peer.ID, _ protocol.ID) { r.forget(p) }

// RecvRPC: p's router talks to us; if ours failed to open its stream to
// p, the router will send p nothing until repaired.
func (r *rehello) RecvRPC(rpc *pubsub.RPC) {
	if p := rpc.From(); r.forget(p) && !r.queue(p) {
		r.remember(p) // the queue is full: p's next RPC tries again
	}
}

// OnClosedOutboundStream: the router lost its stream to p; if p is still
// connected, the router has forgotten p's topics (see rehello).
func (r *rehello) OnClosedOutboundStream(p peer.ID) {
	if r.h.Network().Connectedness(p) != corenet.Connected {
		return
	}
	r.queue(p)
}

// queue asks Serve to look at p, unless the queue is full (false).
func (r *rehello) queue(p peer.ID) bool {
	select {
	case r.kick <- p:
		return true
	default:
		return false
	}
}

// Serve reconnects the peers the router lost track of until ctx ends.
func (r *rehello) Serve(ctx context.Context) error {
	last := make(map[peer.ID]time.Time)
	wait := make(map[peer.ID]time.Duration)
	for {
		var p peer.ID
		select {
		case <-ctx.Done():
			return nil
		case p = <-r.kick:
		}
		// A peer whose last repair is older than rehelloWaitMax starts
		// over at rehelloWait; forgetting it keeps the maps to the peers
		// repaired in the last rehelloWaitMax.
		for q, t := range last {
			if time.Since(t) >= rehelloWaitMax {
				delete(last, q)
				delete(wait, q)
			}
		}
		w := rehelloWait
		if _, ok := last[p]; ok {
			w = min(2*wait[p], rehelloWaitMax)
		}
		last[p], wait[p] = time.Now(), w
		if !sleep(ctx, w) {
			return nil
		}
		if r.h.Network().Connectedness(p) != corenet.Connected || (r.streaming(p) && r.knows(p)) {
			continue
		}
		addrs := r.h.Peerstore().Addrs(p)
		r.log.Info("reconnecting a peer the router stopped sending to", "peer", p)
		if err := r.h.Network().ClosePeer(p); err != nil {
			r.log.Debug("close peer to reconnect", "peer", p, "err", err)
		}
		if !sleep(ctx, rehelloWait) {
			return nil
		}
		dial, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := r.h.Connect(dial, peer.AddrInfo{ID: p, Addrs: addrs}); err != nil {
			r.log.Info("reconnect a peer the router stopped sending to", "peer", p, "err", err)
		}
		cancel()
	}
}

// streaming reports whether the router has its stream to p open.
func (r *rehello) streaming(p peer.ID) bool { return r.routerStream(p, corenet.DirOutbound) }

// routerStream reports whether a router stream with p is open in direction
// dir: outbound is ours to p, inbound p's to us.
func (r *rehello) routerStream(p peer.ID, dir corenet.Direction) bool {
	return len(routerStreams(r.h, p, dir)) > 0
}

// routerStreams are h's open router streams with p in direction dir.
func routerStreams(h host.Host, p peer.ID, dir corenet.Direction) []corenet.Stream {
	var out []corenet.Stream
	for _, c := range h.Network().ConnsToPeer(p) {
		for _, s := range c.GetStreams() {
			if s.Protocol() == gossipSubProtocol && s.Stat().Direction == dir {
				out = append(out, s)
			}
		}
	}
	return out
}

// knows reports whether the router has p on one of our topics.
func (r *rehello) knows(p peer.ID) bool {
	for _, t := range r.ps.GetTopics() {
		if slices.Contains(r.ps.ListPeers(t), p) {
			return true
		}
	}
	return false
}

// sleep waits d, or until ctx ends (false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

var _ pubsub.RawTracer = (*rehello)(nil)
