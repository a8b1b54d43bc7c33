package node

import (
	"context"
	"log/slog"
	"maps"
	"sync"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
)

// PeerScores is one reading of the gossipsub router's peer scores.
type PeerScores struct {
	// At is when the reading was taken in hand.
	At time.Time
	// Scores holds every peer the router scores: those connected and, for
	// 6 hours after they left (RetainScore), those gone, whose scores stay
	// as they were when they left.
	Scores map[peer.ID]float64
	// Closed lists the peers whose connections this reading closed: their
	// own invalid messages put them below the graylist threshold.
	Closed []peer.ID
}

// scoreWatch is the router's one peer score inspector (go-libp2p-pubsub
// allows a single one): every Config.ScoreInterval it closes the
// connections of graylisted peers that earned it with invalid messages,
// denies them for Config.GraylistDeny, keeps the reading for the metrics and
// Node.PeerScores, and hands it to Config.OnPeerScores.
type scoreWatch struct {
	life    context.Context // the router's; a reading after it ended is dropped
	host    host.Host       // set before the router starts
	deny    *denyList
	denyFor time.Duration
	hook    func(PeerScores)
	log     *slog.Logger

	mu          sync.Mutex // one reading at a time: the router starts each on its own goroutine
	latest      PeerScores
	connected   []float64 // scores of the peers connected after the latest reading
	graylisted  [2]int    // peers below the graylist threshold: [0] gone, [1] connected
	disconnects uint64
}

func newScoreWatch(life context.Context, cfg Config, deny *denyList) *scoreWatch {
	return &scoreWatch{life: life, deny: deny, denyFor: cfg.GraylistDeny, hook: cfg.OnPeerScores, log: cfg.Logger}
}

// option installs the watch as the router's score inspector.
func (w *scoreWatch) option(every time.Duration) pubsub.Option {
	return pubsub.WithPeerScoreInspect(pubsub.ExtendedPeerScoreInspectFn(w.read), every)
}

// invalidWeight is what one invalid message squared costs on any topic
// (P4 times the topic weight; every topic has the same parameters).
var invalidWeight = func() float64 {
	p := topicScoreParams()
	return p.TopicWeight * p.InvalidMessageDeliveriesWeight
}()

// ownFault reports whether a peer is graylisted by its own invalid messages
// (P4) alone. Only those peers are disconnected: an honest node forwards
// only what its validators accepted, and ours Reject only what no honest
// node forwards, so an attacker cannot make an honest peer earn P4. The
// other penalties can be caused by others: IP colocation (P6) by sybils
// behind the same public address, broken promises (P7) by load. Peers
// graylisted by those stay connected and ignored, and recover as the
// penalty decays, which the router does only while they are connected.
func ownFault(s *pubsub.PeerScoreSnapshot) bool {
	if s.Score >= graylistThreshold {
		return false
	}
	var p4 float64
	for _, t := range s.Topics {
		p4 += invalidWeight * t.InvalidMessageDeliveries * t.InvalidMessageDeliveries
	}
	return p4 < graylistThreshold
}

func (w *scoreWatch) read(snap map[peer.ID]*pubsub.PeerScoreSnapshot) {
	if w.life.Err() != nil {
		return // the router's last reading as it stops: the node is closing
	}
	w.mu.Lock()
	now := time.Now()
	r := PeerScores{At: now, Scores: make(map[peer.ID]float64, len(snap))}
	var connected []float64
	var graylisted [2]int
	netw := w.host.Network()
	for p, s := range snap {
		r.Scores[p] = s.Score
		conn := len(netw.ConnsToPeer(p)) > 0
		if conn && ownFault(s) {
			// Deny first, so a redial racing the close is refused.
			w.deny.add(p, now.Add(w.denyFor), now)
			if err := netw.ClosePeer(p); err != nil {
				w.log.Debug("close graylisted peer", "peer", p, "err", err)
			}
			w.log.Info("disconnected a graylisted peer", "peer", p, "score", s.Score, "denied_for", w.denyFor)
			r.Closed = append(r.Closed, p)
			w.disconnects++
			conn = false
		}
		if conn {
			connected = append(connected, s.Score)
		}
		if s.Score < graylistThreshold {
			graylisted[b2i(conn)]++
		}
	}
	w.latest = PeerScores{At: r.At, Scores: maps.Clone(r.Scores), Closed: r.Closed}
	w.connected, w.graylisted = connected, graylisted
	w.mu.Unlock()
	if w.hook != nil {
		w.hook(r) // unlocked: the hook may ask the node for its scores; r is its own
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// last returns the latest reading, its map a copy.
func (w *scoreWatch) last() PeerScores {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.latest
	r.Scores = maps.Clone(r.Scores)
	r.Closed = append([]peer.ID(nil), r.Closed...)
	return r
}

// PeerScores returns the router's latest reading of its peers' scores
// (taken every Config.ScoreInterval; empty before the first).
func (n *Node) PeerScores() PeerScores { return n.net.scores.last() }
