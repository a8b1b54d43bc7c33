package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	"google.golang.org/protobuf/proto"
)

// newHost builds one peer's libp2p host, the same for both systems: TCP on
// loopback, Noise, Yamux, no relay, no Prometheus metrics, and otherwise
// go-libp2p's defaults (identify, ping, its default resource manager, no
// connection manager).
func newHost() (host.Host, error) {
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.DisableRelay(),
		libp2p.DisableMetrics(),
	)
	if err != nil {
		return nil, fmt.Errorf("libp2p host: %w", err)
	}
	return h, nil
}

// newHosts builds n hosts, closing what it built if one fails.
func newHosts(n int) ([]host.Host, error) {
	hosts := make([]host.Host, 0, n)
	for range n {
		h, err := newHost()
		if err != nil {
			closeHosts(hosts)
			return nil, err
		}
		hosts = append(hosts, h)
	}
	return hosts, nil
}

func closeHosts(hosts []host.Host) error {
	var errs []error
	for _, h := range hosts {
		if h != nil {
			errs = append(errs, h.Close())
		}
	}
	return errors.Join(errs...)
}

// dialsPerPeer is how many random earlier peers each peer dials: a sparse
// topology in which most pairs are several hops apart.
const dialsPerPeer = 3

// topology is the sparse random graph of seed: peer i dials min(i, 3)
// random earlier peers, dials[i]. The same seed gives the same graph to
// every system, in this process or a process per peer (procswarm.go).
func topology(n int, seed uint64) (dials [][]int) {
	r := rand.New(rand.NewPCG(seed, 0x1c))
	dials = make([][]int, n)
	for i := range n {
		dials[i] = r.Perm(i)[:min(i, dialsPerPeer)]
	}
	return dials
}

// connect wires the hosts in the topology of seed.
func connect(ctx context.Context, hosts []host.Host, seed uint64) error {
	for i, js := range topology(len(hosts), seed) {
		for _, j := range js {
			ai := peer.AddrInfo{ID: hosts[j].ID(), Addrs: hosts[j].Addrs()}
			dctx, cancel := context.WithTimeout(ctx, dialTimeout)
			err := hosts[i].Connect(dctx, ai)
			cancel()
			if err != nil {
				return fmt.Errorf("peer %d dials peer %d: %w", i, j, err)
			}
		}
	}
	return nil
}

// dialTimeout bounds one dial of the topology.
const dialTimeout = 10 * time.Second

// tracer is a gossipsub RawTracer that follows one peer's meshes and counts
// the bytes of the RPCs it sends and the messages its router drops.
type tracer struct {
	sentBytes   atomic.Int64 // protobuf size of every RPC sent (payloads and control)
	sentRPCs    atomic.Int64
	droppedRPCs atomic.Int64 // RPCs dropped because a peer's outbound queue was full
	rejected    atomic.Int64 // messages the router refused (validation, throttling, queue full)
	throttled   atomic.Int64 // of those, dropped for load rather than invalidity

	meshChanges atomic.Int64 // grafts and prunes
	// onSend, if set, sees the payload of every message this peer queues
	// for another: the harness notes when a publisher first hands its
	// message to the network.
	onSend func(data []byte)
	// onDeliver, if set, sees every message this peer's router delivers
	// to its subscriptions (validated, before the node's own handling):
	// the harness splits a delivery's time between gossip and the node.
	onDeliver func(topic string, data []byte)

	// hops, if set, stamps every message event for a HopLog.
	hops atomic.Pointer[hopTap]

	mu   sync.Mutex
	mesh map[string]map[peer.ID]bool
}

var _ pubsub.RawTracer = (*tracer)(nil)

func (t *tracer) Graft(p peer.ID, topic string) {
	t.meshChanges.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.mesh == nil {
		t.mesh = make(map[string]map[peer.ID]bool)
	}
	if t.mesh[topic] == nil {
		t.mesh[topic] = make(map[peer.ID]bool)
	}
	t.mesh[topic][p] = true
}

func (t *tracer) Prune(p peer.ID, topic string) {
	t.meshChanges.Add(1)
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.mesh[topic], p)
}

func (t *tracer) DeliverMessage(m *pubsub.Message) {
	if h := t.hops.Load(); h != nil {
		h.note(hopDelivered, m.Data, "")
	}
	if t.onDeliver != nil {
		t.onDeliver(m.GetTopic(), m.Data)
	}
}

func (t *tracer) meshPeers(topic string) map[peer.ID]bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[peer.ID]bool, len(t.mesh[topic]))
	for p := range t.mesh[topic] {
		out[p] = true
	}
	return out
}

// SendRPCCompleted counts an RPC handed to the stream (it runs on the
// peer's writer goroutine, off the router's loop).
func (t *tracer) SendRPCCompleted(rpc *pubsub.RPC, p peer.ID, _ time.Duration) {
	if h := t.hops.Load(); h != nil {
		h.noteRPC(hopWritten, rpc, p)
	}
	t.sentRPCs.Add(1)
	t.sentBytes.Add(int64(proto.Size(&rpc.RPC)))
}

// SendRPC sees an RPC queued for a peer (on the router's loop).
func (t *tracer) SendRPC(rpc *pubsub.RPC, p peer.ID) {
	if h := t.hops.Load(); h != nil {
		h.noteRPC(hopQueued, rpc, p)
	}
	if t.onSend != nil {
		for _, m := range rpc.Publish {
			t.onSend(m.Data)
		}
	}
}

// RecvRPC sees an RPC the router's loop takes from a peer.
func (t *tracer) RecvRPC(rpc *pubsub.RPC) {
	if h := t.hops.Load(); h != nil {
		h.noteRPC(hopTaken, rpc, "")
	}
}

func (t *tracer) DropRPC(*pubsub.RPC, peer.ID) { t.droppedRPCs.Add(1) }

func (t *tracer) RejectMessage(_ *pubsub.Message, reason string) {
	t.rejected.Add(1)
	switch reason {
	case pubsub.RejectValidationThrottled, pubsub.RejectValidationQueueFull:
		t.throttled.Add(1)
	}
}

func (t *tracer) OnNewOutboundStream(peer.ID, protocol.ID) {}
func (t *tracer) OnClosedOutboundStream(peer.ID)           {}
func (t *tracer) Join(string)                              {}
func (t *tracer) Leave(string)                             {}
func (t *tracer) ValidateMessage(*pubsub.Message)          {}
func (t *tracer) DuplicateMessage(*pubsub.Message)         {}
func (t *tracer) ThrottlePeer(peer.ID)                     {}
func (t *tracer) UndeliverableMessage(*pubsub.Message)     {}

// routerCounters sums what the tracers of a swarm counted.
type routerCounters struct {
	SentBytes, SentRPCs, DroppedRPCs, Rejected, Throttled int64
}

func sumTracers(ts []*tracer) routerCounters {
	var c routerCounters
	for _, t := range ts {
		c.SentBytes += t.sentBytes.Load()
		c.SentRPCs += t.sentRPCs.Load()
		c.DroppedRPCs += t.droppedRPCs.Load()
		c.Rejected += t.rejected.Load()
		c.Throttled += t.throttled.Load()
	}
	return c
}

func (c routerCounters) add(o routerCounters) routerCounters {
	return routerCounters{c.SentBytes + o.SentBytes, c.SentRPCs + o.SentRPCs,
		c.DroppedRPCs + o.DroppedRPCs, c.Rejected + o.Rejected, c.Throttled + o.Throttled}
}

func (c routerCounters) sub(o routerCounters) routerCounters {
	return routerCounters{c.SentBytes - o.SentBytes, c.SentRPCs - o.SentRPCs,
		c.DroppedRPCs - o.DroppedRPCs, c.Rejected - o.Rejected, c.Throttled - o.Throttled}
}

// peerMesh is what awaitMeshes needs to know of one peer.
type peerMesh struct {
	id    peer.ID
	peers int                         // connected peers
	mesh  map[string]map[peer.ID]bool // topic -> mesh peers
}

// meshView reads every peer's meshes, and the grafts and prunes so far of
// all peers together.
type meshView func(ctx context.Context) ([]peerMesh, int64, error)

// localMeshes is the meshView of hosts in this process.
func localMeshes(hosts []host.Host, tracers []*tracer, topics []string) meshView {
	return func(context.Context) ([]peerMesh, int64, error) {
		ps := make([]peerMesh, len(hosts))
		var changes int64
		for i, h := range hosts {
			ps[i] = peerMesh{id: h.ID(), peers: len(h.Network().Peers()), mesh: make(map[string]map[peer.ID]bool, len(topics))}
			for _, topic := range topics {
				ps[i].mesh[topic] = tracers[i].meshPeers(topic)
			}
			changes += tracers[i].meshChanges.Load()
		}
		return ps, changes, nil
	}
}

// awaitMeshes waits until every peer's mesh on every topic has settled: all
// mesh links are known at both ends, the mesh links connect all peers, no
// graft or prune happened for a second, and each peer holds min(connected
// peers, Dlo) mesh peers (after 10 seconds, one: in a sparse topology the
// first peers collect many connections, prune down to D and put the peers
// they pruned in a minute's backoff, so a peer can sit below Dlo for a
// minute with the mesh still connected, which is what delivery needs). A message reaches only the mesh
// peers its forwarder has when it arrives (gossip covers the rest, late), so
// a run that starts before the meshes settle measures the warm-up rather
// than the steady state.
func awaitMeshes(ctx context.Context, view meshView, topics []string, timeout time.Duration) error {
	start := time.Now()
	deadline := start.Add(timeout)
	var lastChanges int64 = -1
	stableSince := time.Now()
	for {
		peers, changes, err := view(ctx)
		if err != nil {
			return err
		}
		if changes != lastChanges {
			lastChanges, stableSince = changes, time.Now()
		}
		least := pubsub.GossipSubDlo
		if time.Since(start) > 10*time.Second {
			least = 1
		}
		settled, why := meshesSettled(peers, topics, least)
		if settled && time.Since(stableSince) >= time.Second {
			return nil
		}
		if time.Now().After(deadline) {
			if settled {
				why = "grafts and prunes go on"
			}
			return fmt.Errorf("meshes did not settle within %s: %s", timeout, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func meshesSettled(peers []peerMesh, topics []string, least int) (bool, string) {
	index := make(map[peer.ID]int, len(peers))
	for i, p := range peers {
		index[p.id] = i
	}
	for _, topic := range topics {
		for i, p := range peers {
			mesh := p.mesh[topic]
			if p.peers == 0 || len(mesh) < min(p.peers, least) {
				return false, fmt.Sprintf("peer %d has %d of %d peers in its %s mesh", i, len(mesh), min(p.peers, least), topic)
			}
			for q := range mesh {
				j, ok := index[q]
				if !ok || !peers[j].mesh[topic][p.id] {
					return false, fmt.Sprintf("mesh link %d-%d on %s is one-sided", i, j, topic)
				}
			}
		}
		// The mesh links must connect every peer: eager push reaches only
		// the peers of the publisher's mesh component.
		seen := make([]bool, len(peers))
		stack := []int{0}
		seen[0] = true
		reached := 1
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for q := range peers[i].mesh[topic] {
				if j := index[q]; !seen[j] {
					seen[j] = true
					reached++
					stack = append(stack, j)
				}
			}
		}
		if reached != len(peers) {
			return false, fmt.Sprintf("the %s mesh reaches %d of %d peers", topic, reached, len(peers))
		}
	}
	return true, ""
}
