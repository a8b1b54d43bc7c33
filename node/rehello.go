package node

import (
	"context"
	"log/slog"
	"slices"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// rehello repairs a race in go-libp2p-pubsub (v0.19.0). When the router's
// stream to a peer dies while the peer is still connected (a duplicate
// connection closing, or a reconnect that came before the router handled
// the old connection's end), the router writes to a new stream but first
// forgets the topics the peer subscribed to, and the peer never says them
// again: it announces its topics only when its own stream to us starts.
// Until then this node sends that peer nothing on any topic (the router
// publishes only to peers it knows on the topic): between two nodes, a
// vendor's offer stayed queued for good (TestDaemonLoop, about once in 135
// runs under load).
//
// The repair: rehelloWait after the stream died, if the peer is still
// connected and the router knows it on none of our topics (every node
// joins the ratings topic, so a peer of ours is on one; a peer that did
// say its topics again, as when both routers started new streams, is left
// alone), close every connection to it, so that both routers let go, and
// dial it again rehelloWait later: a fresh connection starts both
// streams, each with its topics. A peer can cause this at will (by
// killing our stream and not saying its topics); what it buys is a
// reconnect, at most one per rehelloWait per peer (rehelloWait doubles,
// up to rehelloWaitMax, while it keeps happening), and the queue holds at
// most rehelloQueue peers, further ones waiting for their next trigger.
type rehello struct {
	noTrace
	h    host.Host
	ps   *pubsub.PubSub // set once the router is made, before Serve
	log  *slog.Logger
	kick chan peer.ID
}

const (
	rehelloWait    = time.Second
	rehelloWaitMax = time.Minute
	rehelloQueue   = 64
)

func newRehello(h host.Host, log *slog.Logger) *rehello {
	return &rehello{h: h, log: log, kick: make(chan peer.ID, rehelloQueue)}
}

// OnClosedOutboundStream: the router lost its stream to p; if p is still
// connected, the router has forgotten p's topics (see rehello).
func (r *rehello) OnClosedOutboundStream(p peer.ID) {
	if r.h.Network().Connectedness(p) != corenet.Connected {
		return
	}
	select {
	case r.kick <- p:
	default:
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
		if r.h.Network().Connectedness(p) != corenet.Connected || r.knows(p) {
			continue
		}
		addrs := r.h.Peerstore().Addrs(p)
		r.log.Info("reconnecting a peer whose topics the router forgot", "peer", p)
		if err := r.h.Network().ClosePeer(p); err != nil {
			r.log.Debug("close peer to reconnect", "peer", p, "err", err)
		}
		if !sleep(ctx, rehelloWait) {
			return nil
		}
		dial, cancel := context.WithTimeout(ctx, 30*time.Second)
		if err := r.h.Connect(dial, peer.AddrInfo{ID: p, Addrs: addrs}); err != nil {
			r.log.Info("reconnect a peer whose topics the router forgot", "peer", p, "err", err)
		}
		cancel()
	}
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
