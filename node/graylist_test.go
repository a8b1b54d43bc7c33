package node

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/intentcast/intentcast/intent"
)

// graylistAttacker starts a bare intentcast router connected to n and has
// it send three malformed messages on an intents topic: two are enough to
// graylist it (-400). It flood-publishes, as an attacker may: sent through
// its mesh, a message could go to nobody (the mesh not yet grafted, or n
// pruned it after the first invalid one), and a busy machine's scheduling
// left the node at one invalid message (-100) once in 22 full runs beside
// two CPU hogs; and it sends each once its router has n on the topic:
// published while it had lost n (rehello.go), one went to nobody once in
// 15 more.
func graylistAttacker(t *testing.T, n *Node) *network {
	t.Helper()
	cfg := testConfig(t)
	cfg.Bootstrap = addrsOf(n)
	a := startTest(t, cfg, nil, pubsub.WithFloodPublish(true))
	eventually(t, 0, "the attacker connects", func() bool { return connected(a, n.net) })
	tp, _ := join(t, a, intent.IntentTopic("electronics"))
	for i := range 3 {
		// Each once the router has the node on the topic (flood publish
		// sends to the topic's peers, and a router can lose them for a
		// moment, rehello.go), none once the node has cut the attacker off.
		eventually(t, 0, "the attacker's router has the node on the topic, or the node cut it off", func() bool {
			return !connected(a, n.net) || slices.Contains(tp.ListPeers(), n.ID())
		})
		if !connected(a, n.net) {
			break
		}
		tp.Publish(t.Context(), fmt.Appendf(nil, "not an intent %d", i))
	}
	return a
}

// redial has a dial n, past its dialer's backoff (which would answer for
// the node without asking it), and waits until a holds no connection to n:
// a refused connection may complete on the dialer's side (the muxer is
// agreed inside the handshake) before n closes it.
func redial(t *testing.T, a *network, n *Node) {
	t.Helper()
	a.host.Network().(*swarm.Swarm).Backoff().Clear(n.ID())
	a.host.Connect(t.Context(), peer.AddrInfo{ID: n.ID(), Addrs: n.net.host.Addrs()})
	eventually(t, 0, "the redial ends", func() bool { return !connected(a, n.net) })
}

// connLog records when a host's connections to each peer were established.
type connLog struct {
	mu sync.Mutex
	at map[peer.ID][]time.Time
}

func watchConns(n *Node) *connLog {
	l := &connLog{at: map[peer.ID][]time.Time{}}
	n.net.host.Network().Notify(&corenet.NotifyBundle{ConnectedF: func(_ corenet.Network, c corenet.Conn) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.at[c.RemotePeer()] = append(l.at[c.RemotePeer()], time.Now())
	}})
	return l
}

// since lists the connections from p established after t.
func (l *connLog) since(p peer.ID, t time.Time) []time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []time.Time
	for _, at := range l.at[p] {
		if at.After(t) {
			out = append(out, at)
		}
	}
	return out
}

// TestGraylistedPeerIsDisconnected: a peer sends invalid messages to a node
// that also has an honest peer. The node must close the attacker's
// connection once it is graylisted, refuse its redials and its own dials to
// it while it is denied, keep the honest peer, and show all of it in
// /metrics. Before, a graylisted peer kept its connection: the router
// ignored it but still read and decoded everything it sent (issue 11).
func TestGraylistedPeerIsDisconnected(t *testing.T) {
	reg := prometheus.NewRegistry()
	board := newSurvScores()
	hcfg := nodeConfig(t)
	hcfg.Registerer = reg
	hcfg.OnPeerScores = board.update
	h := startNode(t, hcfg)
	conns := watchConns(h)
	pcfg := nodeConfig(t)
	pcfg.Bootstrap = addrsOf(h)
	p := startNode(t, pcfg)
	awaitNodeMeshes(t, []*Node{h, p})

	a := graylistAttacker(t, h)
	eventually(t, 0, "the node disconnects the graylisted attacker", func() bool {
		return board.closedCount(a.ID()) > 0 && !connected(h.net, a)
	})
	if s := h.PeerScores().Scores[a.ID()]; s >= graylistThreshold {
		t.Errorf("the node's reading scores the attacker %v, want < %v (retained after the close)", s, graylistThreshold)
	}

	// It stays out for the deny (10 minutes by default): the node refuses
	// its redials before they become connections, and dials it no more.
	out := board.closedAt(a.ID())
	for range 5 {
		redial(t, a, h)
	}
	if err := h.Connect(t.Context(), peer.AddrInfo{ID: a.ID(), Addrs: a.host.Addrs()}); err == nil {
		t.Error("the node dialled the peer it denied")
	}
	if back := conns.since(a.ID(), out); len(back) > 0 || connected(h.net, a) {
		t.Fatalf("the attacker got %d connections while denied (connected now: %v)", len(back), connected(h.net, a))
	}

	// The honest peer was never disconnected and is still there.
	if c := board.closedCount(p.ID()); c != 0 || !connected(h.net, p.net) {
		t.Errorf("honest peer: disconnected %d times, connected now %v; want 0, true", c, connected(h.net, p.net))
	}

	// /metrics (what the daemon serves from this registry).
	eventually(t, 0, "the metrics show the honest peer's score", func() bool {
		return metricValue(t, reg, "intentcast_peer_score", nil) >= 1
	})
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"intentcast_graylist_disconnects_total", nil, 1},
		{"intentcast_graylist_denied_peers", nil, 1},
		{"intentcast_graylisted_peers", map[string]string{"connected": "false"}, 1},
		{"intentcast_graylisted_peers", map[string]string{"connected": "true"}, 0},
		{"intentcast_peer_score", nil, 1}, // sample count: one connected peer
	} {
		if got := metricValue(t, reg, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if low := metricValue(t, reg, "intentcast_peer_score_min", nil); low < 0 {
		t.Errorf("intentcast_peer_score_min = %v, want >= 0 (only the honest peer is connected)", low)
	}
}

// TestGraylistDenyLapses: once its deny lapses the attacker can connect
// again, and its retained score gets it closed again at the next reading.
func TestGraylistDenyLapses(t *testing.T) {
	board := newSurvScores()
	hcfg := nodeConfig(t)
	hcfg.GraylistDeny = time.Second
	hcfg.OnPeerScores = board.update
	h := startNode(t, hcfg)
	conns := watchConns(h)

	a := graylistAttacker(t, h)
	eventually(t, 0, "the node disconnects the graylisted attacker", func() bool {
		return board.closedCount(a.ID()) > 0 && !connected(h.net, a)
	})
	out := board.closedAt(a.ID())
	until := out.Add(hcfg.GraylistDeny)
	eventually(t, 0, "the attacker gets back in after its deny", func() bool {
		redial(t, a, h)
		return len(conns.since(a.ID(), out)) > 0
	})
	if back := conns.since(a.ID(), out)[0]; back.Before(until) {
		t.Fatalf("the attacker got back in at %v, before its deny lapsed at %v", back, until)
	}
	eventually(t, 0, "the node disconnects it again (its score is retained)", func() bool {
		return board.closedCount(a.ID()) > 1 && !connected(h.net, a)
	})
}

// metricValue is the value of one series in reg (for a histogram, its
// sample count), or -1 when absent.
func metricValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	metrics:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue metrics
				}
			}
			return seriesValue(m)
		}
	}
	return -1
}

func seriesValue(m *dto.Metric) float64 {
	switch {
	case m.Histogram != nil:
		return float64(m.Histogram.GetSampleCount())
	case m.Counter != nil:
		return m.Counter.GetValue()
	default:
		return m.Gauge.GetValue()
	}
}

// TestOwnFault pins which graylisted peers are disconnected: only those
// whose own invalid messages (P4) alone reach the threshold.
func TestOwnFault(t *testing.T) {
	topic := func(invalid float64) map[string]*pubsub.TopicScoreSnapshot {
		return map[string]*pubsub.TopicScoreSnapshot{"intentcast/1/intents/home": {InvalidMessageDeliveries: invalid}}
	}
	for _, c := range []struct {
		name string
		snap pubsub.PeerScoreSnapshot
		want bool
	}{
		{"two invalid messages", pubsub.PeerScoreSnapshot{Score: -400, Topics: topic(2)}, true},
		{"one on each of two topics (-200): not alone", pubsub.PeerScoreSnapshot{Score: -400, Topics: map[string]*pubsub.TopicScoreSnapshot{
			"a": {InvalidMessageDeliveries: 1}, "b": {InvalidMessageDeliveries: 1}}, IPColocationFactor: 20}, false},
		{"IP colocation only (sybils behind the same address)", pubsub.PeerScoreSnapshot{Score: -360, IPColocationFactor: 36}, false},
		{"broken promises only (load)", pubsub.PeerScoreSnapshot{Score: -360, BehaviourPenalty: 12}, false},
		{"a bootstrap peer's bonus keeps it above the threshold", pubsub.PeerScoreSnapshot{Score: -300, Topics: topic(2)}, false},
		{"decayed below two, colocated", pubsub.PeerScoreSnapshot{Score: -389, Topics: topic(1.7), IPColocationFactor: 10}, false},
	} {
		if got := ownFault(&c.snap); got != c.want {
			t.Errorf("%s: ownFault = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestDenyList pins the deny list's rules: a deny lapses, is never
// shortened, and a full list drops the entry that lapses first.
func TestDenyList(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	d := newDenyList(nil)
	a, b := peer.ID("a"), peer.ID("b")
	d.add(a, now.Add(time.Minute), now)
	d.add(a, now.Add(time.Second), now) // never shortened
	if !d.denied(a, now.Add(30*time.Second)) || d.denied(b, now) {
		t.Fatal("a should be denied for its minute, b not at all")
	}
	if d.denied(a, now.Add(time.Minute)) || d.size(now) != 0 {
		t.Fatal("a's deny should lapse after its minute and leave the list")
	}
	for i := range denyListMax {
		d.add(peer.ID(fmt.Sprint(i)), now.Add(time.Hour+time.Duration(i)*time.Second), now)
	}
	d.add(b, now.Add(2*time.Hour), now)
	if d.size(now) != denyListMax || d.denied(peer.ID("0"), now) || !d.denied(b, now) || !d.denied(peer.ID("1"), now) {
		t.Fatalf("a full list should drop the entry that lapses first (size %d)", d.size(now))
	}
}
