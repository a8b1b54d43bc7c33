package node

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

const testTopic = TopicPrefix + "intents/test"

// testConfig is a node on loopback TCP with mDNS off (nodes of one test
// process must not find each other's), logging warnings to the test.
func testConfig(t *testing.T) Config {
	return Config{
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		DisableMDNS: true,
		Logger:      slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
}

// withMDNS turns mDNS on under a service name no other test uses.
func withMDNS(cfg Config) Config {
	cfg.DisableMDNS = false
	cfg.MDNSServiceName = fmt.Sprintf("_ic%08x._udp", rand.Uint32())
	return cfg
}

func startTest(t *testing.T, cfg Config, tracer pubsub.RawTracer, opts ...pubsub.Option) *network {
	t.Helper()
	n, stop := runNetwork(t, cfg, tracer, opts...)
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return n
}

// runNetwork starts a network and serves it, as a node does; stop ends
// Serve, then closes the network, and may be called again.
func runNetwork(t *testing.T, cfg Config, tracer pubsub.RawTracer, opts ...pubsub.Option) (n *network, stop func() error) {
	t.Helper()
	n, err := startNetwork(t.Context(), cfg, tracer, opts...)
	if err != nil {
		t.Fatalf("startNetwork: %v", err)
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(t.Context()))
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := n.Serve(ctx); err != nil {
			t.Errorf("network Serve: %v", err)
		}
	}()
	return n, func() error {
		cancel()
		<-served
		return n.close()
	}
}

// bootstrapTo lists ns as Config.Bootstrap entries.
func bootstrapTo(ns ...*network) []string {
	var out []string
	for _, n := range ns {
		for _, a := range n.Addrs() {
			out = append(out, a.String())
		}
	}
	return out
}

// join joins topic the way the node does (with topic score parameters) and
// subscribes to it.
func join(t *testing.T, n *network, topic string) (*pubsub.Topic, *pubsub.Subscription) {
	t.Helper()
	tp, err := n.ps.Join(topic)
	if err != nil {
		t.Fatalf("join: %v", err)
	}
	if err := tp.SetScoreParams(topicScoreParams()); err != nil {
		t.Fatalf("topic score params: %v", err)
	}
	sub, err := tp.Subscribe()
	if err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	t.Cleanup(func() {
		sub.Cancel()
		tp.Close()
	})
	return tp, sub
}

// publish publishes on n's topic tp once minPeers of the topic's peers
// have n's router stream open to them and tp's mesh (or fanout) has
// minPeers peers. The stream comes first: the router counts a peer whose
// stream it failed to open as ready (rehello.go), and drops a message
// published to it then; the repair reconnects the peer, not the message.
func publish(t *testing.T, n *network, tp *pubsub.Topic, data []byte, minPeers int) {
	t.Helper()
	eventually(t, patience, "the router's stream open to the topic's peers", func() bool {
		open := 0
		for _, p := range tp.ListPeers() {
			if n.rehello.streaming(p) {
				open++
			}
		}
		return open >= minPeers
	})
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	if err := tp.Publish(ctx, data, pubsub.WithReadiness(pubsub.MinTopicSize(minPeers))); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

func next(t *testing.T, sub *pubsub.Subscription) *pubsub.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	m, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("waiting for a message: %v", err)
	}
	return m
}

// patience is the least time a test waits for a condition. The suite
// must pass on a busy 2-core machine, where starting a node or a gossip
// round can take many times what it takes on an idle one; a condition that
// holds ends the wait at once, so only a failing test pays the full wait.
const patience = 2 * time.Minute

// eventually polls cond until it holds, failing the test after timeout
// (at least patience).
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout = max(timeout, patience)
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still not true after %v: %s", timeout, what)
		}
		<-tick.C
	}
}

func connected(a, b *network) bool { return slices.Contains(a.Peers(), b.ID()) }

func TestConfigRejectsBadAddresses(t *testing.T) {
	good := "/ip4/127.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings of the error
	}{
		{"listen garbage", Config{ListenAddrs: []string{"/ip4/0.0.0.0/tcp/0", "localhost:4001"}},
			[]string{"ListenAddrs[1]", `"localhost:4001"`, "/ip4/0.0.0.0/tcp/4001"}},
		{"bootstrap without peer ID", Config{Bootstrap: []string{good, "/ip4/127.0.0.1/tcp/4001"}},
			[]string{"Bootstrap[1]", "/p2p/<peer ID>"}},
		{"bootstrap without address", Config{Bootstrap: []string{"/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"}},
			[]string{"Bootstrap[0]", "no transport address"}},
		{"watermarks crossed", Config{ConnLow: 50, ConnHigh: 10}, []string{"ConnLow 50, ConnHigh 10"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := startNetwork(t.Context(), tt.cfg, nil)
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}

	// One watermark alone never produces crossed watermarks.
	if c := (Config{ConnHigh: 10}).withDefaults(); c.ConnLow != 10 {
		t.Errorf("ConnHigh 10 alone: ConnLow = %d, want 10", c.ConnLow)
	}
	if c := (Config{ConnLow: 200}).withDefaults(); c.ConnHigh != 200 {
		t.Errorf("ConnLow 200 alone: ConnHigh = %d, want 200", c.ConnHigh)
	}
}

// testTracer is a RawTracer that keeps the messages a node receives on the
// wire and its mesh on testTopic.
type testTracer struct {
	noTrace
	mu   sync.Mutex
	msgs []*pb.Message
	mesh map[peer.ID]bool
}

func (tr *testTracer) RecvRPC(rpc *pubsub.RPC) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, m := range rpc.Publish {
		tr.msgs = append(tr.msgs, &pb.Message{
			From:      bytes.Clone(m.From),
			Data:      bytes.Clone(m.Data),
			Seqno:     bytes.Clone(m.Seqno),
			Topic:     m.Topic,
			Signature: bytes.Clone(m.Signature),
			Key:       bytes.Clone(m.Key),
		})
	}
}

func (tr *testTracer) Graft(p peer.ID, topic string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.mesh == nil {
		tr.mesh = make(map[peer.ID]bool)
	}
	if topic == testTopic {
		tr.mesh[p] = true
	}
}

func (tr *testTracer) Prune(p peer.ID, topic string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if topic == testTopic {
		delete(tr.mesh, p)
	}
}

// OnClosedOutboundStream is how the router drops a peer whose stream
// closed from its mesh: it traces no Prune.
func (tr *testTracer) OnClosedOutboundStream(p peer.ID) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	delete(tr.mesh, p)
}

// received returns the received messages carrying data.
func (tr *testTracer) received(data []byte) []*pb.Message {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []*pb.Message
	for _, m := range tr.msgs {
		if bytes.Equal(m.Data, data) {
			out = append(out, m)
		}
	}
	return out
}

func (tr *testTracer) meshPeers() []peer.ID {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []peer.ID
	for p := range tr.mesh {
		out = append(out, p)
	}
	return out
}

// awaitMeshes waits until the testTopic meshes of nodes (traced by tracers)
// have settled: every peer of every node is a known subscriber, each node
// has grafted min(its topic peers, Dlo) of them, and every mesh link is
// known at both ends. A message only reaches the mesh peers its forwarder
// has when it arrives, and gossip goes only to non-mesh peers, so a peer
// grafted just after a forward never gets the message (the node's sync
// protocol covers that; these tests are about gossip). The caller first
// waits for the connections it wants, since dials run in the background.
func awaitMeshes(t *testing.T, nodes []*network, tracers []*testTracer) {
	t.Helper()
	index := make(map[peer.ID]int, len(nodes))
	for i, n := range nodes {
		index[n.ID()] = i
	}
	eventually(t, 15*time.Second, "meshes settle", func() bool {
		for i, n := range nodes {
			subscribers := n.ps.ListPeers(testTopic)
			for _, p := range n.Peers() {
				if !slices.Contains(subscribers, p) {
					return false
				}
			}
			mesh := tracers[i].meshPeers()
			if len(subscribers) == 0 || len(mesh) < min(len(subscribers), pubsub.GossipSubDlo) {
				return false
			}
			for _, p := range mesh {
				j, ok := index[p]
				if !ok || !slices.Contains(tracers[j].meshPeers(), n.ID()) {
					return false
				}
			}
		}
		return true
	})
}

// TestWireCarriesNoAuthor checks what anonymity rests on: a published
// message reaches its direct peer (b) and that peer's peer (c) with no
// author, sequence number, signature or key, and its ID is the SHA-256 of
// its payload.
func TestWireCarriesNoAuthor(t *testing.T) {
	tracers := []*testTracer{{}, {}, {}}
	a := startTest(t, testConfig(t), tracers[0])
	cfgB := testConfig(t)
	cfgB.Bootstrap = bootstrapTo(a)
	b := startTest(t, cfgB, tracers[1])
	cfgC := testConfig(t)
	cfgC.Bootstrap = bootstrapTo(b)
	c := startTest(t, cfgC, tracers[2])

	// Identify ran over loopback: b knows a speaks our gossipsub.
	eventually(t, 5*time.Second, "b learns a's protocols by identify", func() bool {
		got, _ := b.host.Peerstore().SupportsProtocols(a.ID(), gossipSubProtocol)
		return len(got) == 1
	})

	eventually(t, 5*time.Second, "a-b-c connected", func() bool {
		return connected(b, a) && connected(c, b)
	})
	ta, _ := join(t, a, testTopic)
	_, subB := join(t, b, testTopic)
	_, subC := join(t, c, testTopic)
	awaitMeshes(t, []*network{a, b, c}, tracers)

	payload := []byte("want: a bicycle, 26 inch, under 200 EUR")
	publish(t, a, ta, payload, 1)
	sum := sha256.Sum256(payload)
	for name, sub := range map[string]*pubsub.Subscription{"b": subB, "c": subC} {
		m := next(t, sub)
		if !bytes.Equal(m.Data, payload) {
			t.Errorf("%s got %q, want %q", name, m.Data, payload)
		}
		if m.ID != string(sum[:]) {
			t.Errorf("%s: message ID %x, want SHA-256 of the payload %x", name, m.ID, sum)
		}
	}
	for name, rec := range map[string]*testTracer{"b": tracers[1], "c": tracers[2]} {
		got := rec.received(payload)
		if len(got) == 0 {
			t.Fatalf("%s: no RPC carried the payload", name)
		}
		for _, m := range got {
			if m.From != nil || m.Seqno != nil || m.Signature != nil || m.Key != nil {
				t.Errorf("%s received from=%x seqno=%x signature=%x key=%x, want all absent",
					name, m.From, m.Seqno, m.Signature, m.Key)
			}
			if m.GetTopic() != testTopic {
				t.Errorf("%s: topic %q, want %q", name, m.GetTopic(), testTopic)
			}
		}
	}
}

// TestMaxSizePayloadFits checks that a payload of exactly MaxMessageSize
// fits in one gossipsub frame with its envelope.
func TestMaxSizePayloadFits(t *testing.T) {
	a := startTest(t, testConfig(t), nil)
	cfg := testConfig(t)
	cfg.Bootstrap = bootstrapTo(a)
	b := startTest(t, cfg, nil)
	ta, _ := join(t, a, testTopic)
	_, sub := join(t, b, testTopic)

	payload := bytes.Repeat([]byte{0xA5}, defaultMaxMessageSize)
	publish(t, a, ta, payload, 1)
	if m := next(t, sub); len(m.Data) != len(payload) {
		t.Fatalf("got %d bytes, want %d", len(m.Data), len(payload))
	}
}

// TestSubscriptionFilter checks that non-intentcast topics are refused
// locally (Join fails) and ignored when a peer announces them.
func TestSubscriptionFilter(t *testing.T) {
	const other = "ipfs/other"
	n := startTest(t, testConfig(t), nil)
	if _, err := n.ps.Join(other); err == nil {
		t.Fatalf("Join(%q) succeeded, want the subscription filter to refuse it", other)
	}

	// A gossipsub peer without our filter announces both topics.
	h, err := newHost(testConfig(t).withDefaults(), &relaySource{}, newDenyList(nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	raw, err := pubsub.NewGossipSub(ctx, h,
		pubsub.WithGossipSubProtocols([]protocol.ID{gossipSubProtocol}, gossipSubFeatures),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(messageID))
	if err != nil {
		t.Fatal(err)
	}
	// Subscribed before connecting, both go out in one hello RPC, "other"
	// first: once the allowed one shows up, "other" has been processed too.
	for _, topic := range []string{other, testTopic} {
		tp, err := raw.Join(topic)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tp.Subscribe(); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Connect(t.Context(), peer.AddrInfo{ID: n.ID(), Addrs: n.host.Addrs()}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "n tracks the peer's intentcast subscription", func() bool {
		return slices.Contains(n.ps.ListPeers(testTopic), h.ID())
	})
	if got := n.ps.ListPeers(other); len(got) != 0 {
		t.Errorf("n tracks subscribers %v of %q, want none", got, other)
	}
}

// TestMDNSFindsPeers checks that two nodes with no bootstrap peers find
// each other on the local network.
func TestMDNSFindsPeers(t *testing.T) {
	cfg := withMDNS(testConfig(t))
	a := startTest(t, cfg, nil)
	b := startTest(t, cfg, nil)
	eventually(t, 10*time.Second, "a and b find each other by mDNS", func() bool {
		return connected(a, b) && connected(b, a)
	})
}

// TestCloseIsIdempotentAndLeaksNothing runs two connected nodes (with mDNS,
// to cover its lifecycle too) through a message exchange and closes them
// twice; afterwards the process must be back to its goroutine count.
func TestCloseIsIdempotentAndLeaksNothing(t *testing.T) {
	run := func() {
		cfg := withMDNS(testConfig(t))
		a, stopA := runNetwork(t, cfg, nil)
		cfg.Bootstrap = bootstrapTo(a)
		b, stopB := runNetwork(t, cfg, nil)
		var topics []*pubsub.Topic
		var subs []*pubsub.Subscription
		for _, n := range []*network{a, b} {
			tp, err := n.ps.Join(testTopic)
			if err != nil {
				t.Fatal(err)
			}
			if err := tp.SetScoreParams(topicScoreParams()); err != nil {
				t.Fatal(err)
			}
			sub, err := tp.Subscribe()
			if err != nil {
				t.Fatal(err)
			}
			topics, subs = append(topics, tp), append(subs, sub)
		}
		publish(t, a, topics[0], []byte("hello"), 1)
		next(t, subs[1])
		for i := range subs {
			subs[i].Cancel()
			topics[i].Close()
		}
		for range 2 {
			for _, stop := range []func() error{stopB, stopA} {
				if err := stop(); err != nil {
					t.Fatalf("close: %v", err)
				}
			}
		}
	}

	// The first run starts process-wide goroutines that live for good by
	// design (e.g. go-flow-metrics' sweeper); only the second run counts.
	run()
	before := runtime.NumGoroutine()
	run()
	deadline := time.Now().Add(patience)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var dump strings.Builder
			pprof.Lookup("goroutine").WriteTo(&dump, 1)
			t.Fatalf("%d goroutines after close, %d before:\n%s", runtime.NumGoroutine(), before, dump.String())
		}
		<-tick.C
	}
}

// TestTwentyNodesSparse checks that a message reaches every node of a
// sparse network: each node knows only 2 or 3 earlier ones.
func TestTwentyNodesSparse(t *testing.T) {
	const size = 20
	r := rand.New(rand.NewPCG(20, 3))
	nodes := make([]*network, size)
	topics := make([]*pubsub.Topic, size)
	subs := make([]*pubsub.Subscription, size)
	tracers := make([]*testTracer, size)
	links := make([][]int, size) // links[i]: the earlier nodes i bootstraps to
	for i := range nodes {
		cfg := testConfig(t)
		links[i] = r.Perm(i)[:min(i, 2+r.IntN(2))]
		for _, j := range links[i] {
			cfg.Bootstrap = append(cfg.Bootstrap, bootstrapTo(nodes[j])...)
		}
		tracers[i] = &testTracer{}
		nodes[i] = startTest(t, cfg, tracers[i])
		topics[i], subs[i] = join(t, nodes[i], testTopic)
	}
	eventually(t, 10*time.Second, "every node connected to its bootstrap peers", func() bool {
		for i, js := range links {
			for _, j := range js {
				if !connected(nodes[i], nodes[j]) {
					return false
				}
			}
		}
		return true
	})
	awaitMeshes(t, nodes, tracers)

	payload := []byte("want: 20 chairs")
	publish(t, nodes[0], topics[0], payload, 1)
	var wg sync.WaitGroup
	for i, sub := range subs {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(t.Context(), patience)
			defer cancel()
			m, err := sub.Next(ctx)
			if err != nil {
				t.Errorf("node %d: %v", i, err)
				return
			}
			if !bytes.Equal(m.Data, payload) {
				t.Errorf("node %d got %q", i, m.Data)
			}
		})
	}
	wg.Wait()
}

// scoreBoard keeps the latest peer scores a router reports.
type scoreBoard struct {
	mu     sync.Mutex
	scores map[peer.ID]float64
}

func (s *scoreBoard) update(r PeerScores) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scores = r.Scores
}

func (s *scoreBoard) get(p peer.ID) (float64, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.scores[p]
	return v, ok
}

// TestInvalidMessagesGraylistSender checks that a peer publishing messages
// that validators reject falls below the graylist threshold at its peers.
func TestInvalidMessagesGraylistSender(t *testing.T) {
	reject := func(_ context.Context, _ peer.ID, m *pubsub.Message) pubsub.ValidationResult {
		if bytes.HasPrefix(m.Data, []byte("bad")) {
			return pubsub.ValidationReject
		}
		return pubsub.ValidationAccept
	}
	honest := make([]*network, 2)
	boards := make([]*scoreBoard, 2)
	for i := range honest {
		boards[i] = &scoreBoard{}
		cfg := testConfig(t)
		if i > 0 {
			cfg.Bootstrap = bootstrapTo(honest[0])
		}
		cfg.OnPeerScores = boards[i].update
		honest[i] = startTest(t, cfg, nil)
		if err := honest[i].ps.RegisterTopicValidator(testTopic, reject); err != nil {
			t.Fatal(err)
		}
		join(t, honest[i], testTopic)
	}
	// The spammer dials the honest nodes, so they have no reason to trust it.
	cfg := testConfig(t)
	cfg.Bootstrap = bootstrapTo(honest...)
	spammer := startTest(t, cfg, nil)
	tp, _ := join(t, spammer, testTopic)

	start := time.Now()
	for i := range 3 {
		publish(t, spammer, tp, fmt.Appendf(nil, "bad message %d", i), len(honest))
	}
	for i, board := range boards {
		eventually(t, 5*time.Second, fmt.Sprintf("honest node %d graylists the spammer", i), func() bool {
			s, ok := board.get(spammer.ID())
			return ok && s < graylistThreshold
		})
	}
	t.Logf("graylisted %v after the first invalid message", time.Since(start).Round(time.Millisecond))
	if s, _ := boards[0].get(honest[1].ID()); s < 0 {
		t.Errorf("honest peer's score = %v, want >= 0", s)
	}
}
