package node

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	corenet "github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
)

// originTracer records, for each message, who a node first got it from
// and when it first sent it. Pubsub tells raw tracers of deliveries from
// peers only, so the node that put a message into gossip sent it without
// having been delivered it. Holding a message without a delivery says
// nothing: a node may get it by sync first (its peers' late-joiner syncs
// run when they connect, again SyncPeerInterval later, and every
// SyncInterval), and then ignores the gossip copies as replays.
type originTracer struct {
	testTracer
	self peer.ID
	mu   sync.Mutex
	from map[intent.ID]peer.ID   // first delivery: the peer it came from (self: published here)
	got  map[intent.ID]time.Time // first delivery
	sent map[intent.ID]time.Time // first RPC carrying it
}

func newOriginTracer() *originTracer {
	return &originTracer{from: map[intent.ID]peer.ID{}, got: map[intent.ID]time.Time{}, sent: map[intent.ID]time.Time{}}
}

func (tr *originTracer) RecvRPC(*pubsub.RPC) {}

func (tr *originTracer) DeliverMessage(m *pubsub.Message) {
	id := intent.IDOf(m.Data)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if _, ok := tr.from[id]; !ok {
		tr.from[id], tr.got[id] = m.ReceivedFrom, time.Now()
	}
}

func (tr *originTracer) SendRPC(rpc *pubsub.RPC, _ peer.ID) {
	now := time.Now()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, m := range rpc.Publish {
		id := intent.IDOf(m.Data)
		if _, ok := tr.sent[id]; !ok {
			tr.sent[id] = now
		}
	}
}

// first reports who the node first got id from, when, and when it first
// sent it (zero if never).
func (tr *originTracer) first(id intent.ID) (from peer.ID, got, sent time.Time, ok bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	from, ok = tr.from[id]
	return from, tr.got[id], tr.sent[id], ok
}

// injected reports whether the node put id into gossip itself: it sent it
// before any peer delivered it (the router delivers a message before it
// forwards it, so a relay's first delivery comes before its first send).
func (tr *originTracer) injected(id intent.ID) bool {
	_, got, sent, delivered := tr.first(id)
	return !sent.IsZero() && (!delivered || sent.Before(got))
}

// stemSwarm is sparseSwarm with a tracer on every node and cfg applied to
// every node's config.
func stemSwarm(t *testing.T, size int, seed uint64, cfg func(i int, c *Config)) ([]*Node, []*originTracer) {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 7))
	nodes := make([]*Node, size)
	trs := make([]*originTracer, size)
	for i := range nodes {
		c := nodeConfig(t)
		c.PublishWait = 2 * time.Second
		for _, j := range r.Perm(i)[:min(i, 2+r.IntN(2))] {
			c.Bootstrap = append(c.Bootstrap, addrsOf(nodes[j])...)
		}
		// Sync runs beside gossip all the time: what a node gets by sync
		// first (and whose gossip copies it then ignores) must not be
		// taken for a message it put into gossip.
		c.SyncInterval, c.SyncPeerInterval, c.SyncServeInterval = 100*time.Millisecond, 100*time.Millisecond, 50*time.Millisecond
		if cfg != nil {
			cfg(i, &c)
		}
		trs[i] = newOriginTracer()
		nodes[i] = startNode(t, c, pubsub.WithRawTracer(trs[i]))
	}
	awaitNodeMeshes(t, nodes)
	awaitStemPeers(t, nodes)
	return nodes, trs
}

// startDialling starts a node that dials the nodes of dial (its outbound
// peers, so its first stem successors), its test config changed by set
// (nil: none).
func startDialling(t *testing.T, dial []*Node, set func(*Config), opts ...pubsub.Option) *Node {
	t.Helper()
	cfg := nodeConfig(t)
	cfg.Bootstrap = addrsOf(dial...)
	if set != nil {
		set(&cfg)
	}
	return startNode(t, cfg, opts...)
}

// awaitStemReady waits until the nodes mesh and each has a stem successor.
func awaitStemReady(t *testing.T, nodes ...*Node) {
	t.Helper()
	awaitNodeMeshes(t, nodes)
	awaitStemPeers(t, nodes)
}

// awaitStemPeers waits until every node knows that its peers speak the
// stem protocol (identify has run), so that each has a successor.
func awaitStemPeers(t *testing.T, nodes []*Node) {
	t.Helper()
	eventually(t, 10*time.Second, "every node has a stem successor", func() bool {
		for _, n := range nodes {
			if len(n.stem.successors("electronics", false, "", 1)) == 0 {
				return false
			}
		}
		return true
	})
}

// meshOf returns the peers in n's mesh on topic.
func meshOf(n *Node, topic string) []peer.ID {
	v, _ := tracers.Load(n)
	tr := v.(*meshTracer)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	var out []peer.ID
	for p := range tr.meshs[topic] {
		out = append(out, p)
	}
	return out
}

// originFigures publishes one intent from each of the first k nodes and
// reports, over all of them, how often the origin was the node that put the
// intent into gossip, and what share of the origin's mesh peers got their
// first copy from the origin. Intents whose stem looped back to their
// origin (which then fluffs them, as any node on a stem does with a
// message it already holds) are counted apart: their origin is their
// fluffer.
type originFigures struct {
	intents, originInjected int
	looped                  []bool // by intent: its stem came back to its origin
	neighbours, fromOrigin  int    // over intents that did not loop
	// The same share for the other nodes but the one that put the intent
	// into gossip: what a mere relay looks like.
	relayNeighbours, fromRelay int
}

func (f originFigures) loops() int {
	k := 0
	for _, l := range f.looped {
		if l {
			k++
		}
	}
	return k
}

func measureOrigins(t *testing.T, nodes []*Node, trs []*originTracer, k int) (originFigures, []intent.ID) {
	t.Helper()
	var f originFigures
	var ids []intent.ID
	topic := intent.IntentTopic("electronics")
	for o := range k {
		origin := nodes[o]
		meshes := make([][]peer.ID, len(nodes))
		for i, n := range nodes {
			meshes[i] = meshOf(n, topic)
		}
		before := origin.StemStats().Looped
		d := laptopDraft(time.Now())
		d.Text = fmt.Sprintf("origin test %d", o)
		in, err := origin.Publish(t.Context(), d, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, in.ID)
		for i, n := range nodes {
			eventually(t, 15*time.Second, fmt.Sprintf("node %d has intent %d", i, o), func() bool { return isLive(n, in.ID) })
		}
		looped := origin.StemStats().Looped > before
		f.intents++
		f.looped = append(f.looped, looped)
		// The node that put the intent into gossip stores it a moment
		// before its router sends it.
		inj := -1
		eventually(t, 15*time.Second, fmt.Sprintf("one node put intent %d into gossip", o), func() bool {
			inj = injector(trs, in.ID)
			return inj >= 0
		})
		if inj == o {
			f.originInjected++
		}
		index := make(map[peer.ID]int, len(nodes))
		for i, n := range nodes {
			index[n.ID()] = i
		}
		for r, mesh := range meshes {
			if r != o && r == inj || r == o && looped {
				continue
			}
			for _, p := range mesh {
				from, _, _, delivered := trs[index[p]].first(in.ID)
				if !delivered && index[p] != inj {
					continue // it came by sync: no first copy by gossip
				}
				if r == o {
					f.neighbours++
					if from == nodes[r].ID() {
						f.fromOrigin++
					}
				} else {
					f.relayNeighbours++
					if from == nodes[r].ID() {
						f.fromRelay++
					}
				}
			}
		}
	}
	return f, ids
}

func (f originFigures) String() string {
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }
	return fmt.Sprintf("the origin put its intent into gossip itself in %d of %d cases (%d looped back to it); %d of %d of its mesh peers (%.0f%%) got their first copy from it (a relay's: %d of %d, %.0f%%)",
		f.originInjected, f.intents, f.loops(), f.fromOrigin, f.neighbours, pct(f.fromOrigin, f.neighbours),
		f.fromRelay, f.relayNeighbours, pct(f.fromRelay, f.relayNeighbours))
}

// TestStemHidesOrigin publishes intents in a 10-node swarm with the stem on:
// every node gets every intent, and unless its stem looped back to it, the
// origin never sends an intent before it got it back by gossip from someone
// else, another node fluffed it, and most of the origin's mesh peers do not
// get it first from the origin. The same run without the stem is the
// baseline. The fluff probability is 0.5 here: a stem of 10 hops on average
// (the default) in a 10-node network would loop back to its origin most of
// the time (BenchmarkStemPrivacy measures 1,000 nodes).
func TestStemHidesOrigin(t *testing.T) {
	const size, k = 10, 5
	t.Run("stem", func(t *testing.T) {
		nodes, trs := stemSwarm(t, size, 3, func(_ int, c *Config) {
			c.StemTimeout = 20 * time.Second // the fail-safe must not fire here
			c.StemFluffProbability = 0.5
		})
		f, ids := measureOrigins(t, nodes, trs, k)
		t.Logf("with the stem: %v", f)
		for o := range k {
			origin := nodes[o]
			st := origin.StemStats()
			if st.Direct != 0 || st.FailSafe != 0 || st.Held != 0 {
				t.Errorf("origin %d published its intent itself: %+v", o, st)
			}
		}
		if f.originInjected != f.loops() {
			t.Errorf("an origin injected its own intent into gossip though its stem did not loop back to it: %v", f)
		}
		if 2*f.fromOrigin >= f.neighbours && f.loops() < k {
			t.Errorf("most of the origins' mesh peers got their first copy from the origin: %v", f)
		}
		// Per intent: the origin sent nothing before its intent came back
		// (by gossip, or by sync, after which it never sends it), and the
		// node that put it into gossip is not the origin and fluffed it; or
		// the intent looped back to its origin, which fluffed it.
		for o, id := range ids {
			inj := injector(trs, id)
			if f.looped[o] {
				if inj != o {
					t.Errorf("intent %d looped back to its origin, but node %d put it into gossip", o, inj)
				}
				continue
			}
			if _, got, sent, delivered := trs[o].first(id); trs[o].injected(id) {
				t.Errorf("origin %d sent its intent (%v) before it came back (delivered %v at %v)", o, sent, delivered, got)
			}
			if inj < 0 || inj == o {
				t.Fatalf("intent %d: injected into gossip by node %d (origin %d)", o, inj, o)
			}
			if st := nodes[inj].StemStats(); st.Fluffed+st.RelayFailSafe == 0 {
				t.Errorf("intent %d: node %d put it into gossip but fluffed nothing: %+v", o, inj, st)
			}
		}
	})
	t.Run("baseline without stem", func(t *testing.T) {
		nodes, trs := stemSwarm(t, size, 3, func(_ int, c *Config) { c.DisableStem = true })
		f, _ := measureOrigins(t, nodes, trs, k)
		t.Logf("without the stem: %v", f)
		if f.originInjected != f.intents {
			t.Errorf("without the stem every origin publishes its own intent: %v", f)
		}
	})
}

// injector returns the index of the node that first put id into gossip
// (-1 if none did): of the nodes that sent it before any peer delivered
// it to them, the one that sent it first. Others after it are nodes that
// took it by sync and forwarded it (forward.go).
func injector(trs []*originTracer, id intent.ID) int {
	found, first := -1, time.Time{}
	for i, tr := range trs {
		if !tr.injected(id) {
			continue
		}
		if _, _, sent, _ := tr.first(id); found < 0 || sent.Before(first) {
			found, first = i, sent
		}
	}
	return found
}

// mustOwn lists a node's own intent IDs.
func mustOwn(t *testing.T, n *Node) []intent.ID {
	t.Helper()
	own, err := n.store.OwnIntents(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []intent.ID
	for _, o := range own {
		ids = append(ids, o.ID)
	}
	return ids
}

// blackHole makes n take stem streams and drop what they carry.
func blackHole(n *Node) {
	n.net.host.SetStreamHandler(stemProtocol, func(st corenet.Stream) {
		io.Copy(io.Discard, io.LimitReader(st, stemMaxFrame+16))
		st.Close()
	})
}

// TestStemFailSafe: the origin's successor drops stem messages, so the
// origin publishes its intent itself after its timer, and everyone gets
// it; and a relay whose successor drops them publishes before the origin's
// timer fires.
func TestStemFailSafe(t *testing.T) {
	t.Run("origin", func(t *testing.T) {
		// hole <- origin; hole <- c; c <- d: the origin's only peer is the
		// black hole, which still relays gossip.
		hole := startNode(t, nodeConfig(t))
		blackHole(hole)
		origin := startDialling(t, []*Node{hole}, func(c *Config) { c.StemTimeout = 300 * time.Millisecond })
		c := startDialling(t, []*Node{hole}, nil)
		d := startDialling(t, []*Node{c}, nil)
		all := []*Node{hole, origin, c, d}
		awaitStemReady(t, all...)

		in, err := origin.Publish(t.Context(), laptopDraft(time.Now()), nil)
		if err != nil {
			t.Fatal(err)
		}
		if st := origin.StemStats(); st.Stemmed != 1 || st.Direct != 0 {
			t.Fatalf("origin stats after Publish: %+v, want the intent stemmed", st)
		}
		for i, n := range all {
			eventually(t, 10*time.Second, fmt.Sprintf("node %d knows the intent", i), func() bool { return isLive(n, in.ID) })
		}
		if st := origin.StemStats(); st.FailSafe != 1 {
			t.Fatalf("origin stats: %+v, want one fail-safe publish", st)
		}
		// The successor that lost it is not chosen again this epoch: with
		// no other peer, the next intent is held for the fail-safe, never
		// published at once.
		if got := origin.stem.successors("electronics", false, "", 1); len(got) != 0 {
			t.Fatalf("successors after a loss: %v, want none", got)
		}
		next, err := origin.Publish(t.Context(), laptopDraft(time.Now()), nil)
		if err != nil {
			t.Fatal(err)
		}
		if st := origin.StemStats(); st.Held != 1 || st.Direct != 0 {
			t.Fatalf("origin stats after the second Publish: %+v, want it held", st)
		}
		eventually(t, 10*time.Second, "the next intent reaches d", func() bool { return isLive(d, next.ID) })
		if st := origin.StemStats(); st.Stemmed != 1 || st.Direct != 0 || st.FailSafe != 2 {
			t.Fatalf("origin stats: %+v, want the second intent published by the fail-safe", st)
		}
	})
	t.Run("relay", func(t *testing.T) {
		// hole <- relay <- origin: the relay's only outbound peer, hence
		// its successor, is the black hole; the relay never fluffs on its
		// own, and its timer is much shorter than the origin's.
		hole := startNode(t, nodeConfig(t))
		blackHole(hole)
		relay := startDialling(t, []*Node{hole}, func(c *Config) {
			c.StemFluffProbability = 1e-12
			c.StemTimeout = 100 * time.Millisecond
		})
		origin := startDialling(t, []*Node{relay}, func(c *Config) { c.StemTimeout = time.Second })
		all := []*Node{hole, relay, origin}
		awaitStemReady(t, all...)

		in, err := origin.Publish(t.Context(), laptopDraft(time.Now()), nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range all {
			eventually(t, 10*time.Second, fmt.Sprintf("node %d knows the intent", i), func() bool { return isLive(n, in.ID) })
		}
		if st := relay.StemStats(); st.Forwarded != 1 || st.RelayFailSafe != 1 {
			t.Errorf("relay stats: %+v, want one forward and one fail-safe publish", st)
		}
		eventually(t, 10*time.Second, "the origin's timer finds its intent back", func() bool {
			return origin.StemStats().Returned == 1
		})
		if st := origin.StemStats(); st.FailSafe != 0 {
			t.Errorf("origin stats: %+v, want no fail-safe publish", st)
		}
	})
}

// TestStemCancelDuringStem cancels an intent while it is still in its stem
// phase (right after Publish): the cancel follows it, and every node ends
// up with the tombstone and without the intent, whatever the stem did with
// the cancel (a relay that does not know the intent yet drops it, and the
// origin's fail-safe publishes it).
func TestStemCancelDuringStem(t *testing.T) {
	nodes, _ := stemSwarm(t, 5, 11, func(_ int, c *Config) { c.StemTimeout = 500 * time.Millisecond })
	customer := nodes[0]
	in, err := customer.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := customer.Cancel(t.Context(), in.ID); err != nil {
		t.Fatalf("Cancel during the stem phase: %v", err)
	}
	for i, n := range nodes {
		eventually(t, 10*time.Second, fmt.Sprintf("node %d holds the tombstone, not the intent", i), func() bool {
			return hasTombstone(n, in.ID) && !isLive(n, in.ID)
		})
	}
	t.Logf("customer: %+v", customer.StemStats())
}

// TestStemCheckChangesNothing: a stem relay's check passes a message as
// often as it is asked, and the gossip check after it still passes once.
func TestStemCheckChangesNothing(t *testing.T) {
	n := startNode(t, nodeConfig(t))
	in, keys := mintIntent(t, "electronics", 1, time.Now())
	for range 2 {
		if _, err := n.checkWith(t.Context(), "", "electronics", false, in.Raw, checkStem); err != nil {
			t.Fatalf("stem check: %v", err)
		}
	}
	if isLive(n, in.ID) {
		t.Fatal("the stem check put the intent in the live set")
	}
	c, err := intent.NewCancel(in, keys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.checkWith(t.Context(), "", "electronics", false, c.Raw, checkStem); !errors.Is(err, errUnknown) {
		t.Fatalf("stem check of a cancel of an unknown intent: %v, want errUnknown", err)
	}
	if _, err := n.check(t.Context(), "electronics", false, in.Raw); err != nil {
		t.Fatalf("gossip check after stem checks: %v (the stem check must not leave a pending cancel or a replay entry)", err)
	}
	if _, err := n.checkWith(t.Context(), "", "electronics", false, in.Raw, checkStem); !errors.Is(err, errReplay) {
		t.Fatalf("stem check of a message seen by gossip: %v, want errReplay", err)
	}
}

// rawStemPeer is a bare libp2p host connected to n, to speak the stem
// protocol by hand.
func rawPeer(t *testing.T, n *Node) host.Host {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if err := h.Connect(t.Context(), peer.AddrInfo{ID: n.ID(), Addrs: n.net.host.Addrs()}); err != nil {
		t.Fatal(err)
	}
	return h
}

// sendRaw writes b on a new stem stream to n and reports whether n
// acknowledged (closed the stream) rather than reset it.
func sendRaw(t *testing.T, h host.Host, n *Node, b []byte) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	defer cancel()
	st, err := h.NewStream(ctx, n.ID(), stemProtocol)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	st.SetDeadline(time.Now().Add(patience))
	if _, err := st.Write(b); err != nil {
		return false
	}
	st.CloseWrite()
	_, err = st.Read(make([]byte, 1))
	return errors.Is(err, io.EOF)
}

func stemFrameBytes(t *testing.T, f stemFrame) []byte {
	t.Helper()
	b, err := appendFrame(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStemRejectsInvalidPeers sends a node invalid stem frames, each from a
// fresh peer: the node drops every such peer (its next frame, valid or not,
// is refused), stores nothing, and still takes valid frames from others.
// Ignorable messages (expired) are dropped without blame.
func TestStemRejectsInvalidPeers(t *testing.T) {
	n := startNode(t, nodeConfig(t))
	good, _ := mintIntent(t, "electronics", 1, time.Now())
	forged := bytes.Clone(good.Raw)
	forged[len(forged)-1] ^= 1
	huge := binary.AppendUvarint(nil, stemMaxFrame+1)
	cases := []struct {
		name string
		b    []byte
	}{
		{"oversized length", append(huge, make([]byte, 16)...)},
		{"not cbor", append(binary.AppendUvarint(nil, 5), "hello"...)},
		{"unknown kind", stemFrameBytes(t, stemFrame{Category: "electronics", Kind: 7, Msg: good.Raw})},
		{"unknown category", stemFrameBytes(t, stemFrame{Category: "spaceships", Kind: stemKindIntents, Msg: good.Raw})},
		{"empty message", stemFrameBytes(t, stemFrame{Category: "electronics", Kind: stemKindIntents, Msg: []byte{}})},
		{"bad signature", stemFrameBytes(t, stemFrame{Category: "electronics", Kind: stemKindIntents, Msg: forged})},
		{"intent on the offers topic", stemFrameBytes(t, stemFrame{Category: "electronics", Kind: stemKindOffers, Msg: good.Raw})},
		{"intent of another category", stemFrameBytes(t, stemFrame{Category: "home", Kind: stemKindIntents, Msg: good.Raw})},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := rawPeer(t, n)
			sendRaw(t, h, n, c.b)
			eventually(t, 5*time.Second, "the peer is dropped", func() bool { return n.stem.streams.isBanned(h.ID()) })
			if st := n.StemStats(); st.Rejected != i+1 {
				t.Fatalf("stats %+v, want %d rejected", st, i+1)
			}
			// Dropped: even a valid frame is refused now.
			if sendRaw(t, h, n, stemFrameBytes(t, stemFrame{Category: "electronics", Kind: stemKindIntents, Msg: good.Raw})) {
				t.Fatal("a dropped peer's frame was acknowledged")
			}
			if isLive(n, good.ID) {
				t.Fatal("the node took a message from a dropped peer")
			}
		})
	}
	if live, err := n.store.LiveIntents(t.Context(), time.Now()); err != nil || len(live) != 0 {
		t.Fatalf("stored %d intents (%v)", len(live), err)
	}
	if n.replay.seen(good.ID) {
		t.Fatal("the valid intent was marked seen")
	}

	// An expired intent is ignored, not blamed; a valid one is taken and,
	// with no successor to forward to, published.
	honest := rawPeer(t, n)
	old := laptopDraft(time.Now().Add(-2 * time.Hour))
	old.Expires = time.Now().Add(-time.Hour)
	old.Work = testPolicy.MinWork
	expired, _, err := intent.NewIntent(t.Context(), old, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sendRaw(t, honest, n, stemFrameBytes(t, stemFrame{Category: "electronics", Kind: stemKindIntents, Msg: expired.Raw})) {
		t.Fatal("the expired intent's frame was not acknowledged")
	}
	eventually(t, 5*time.Second, "the expired intent is ignored", func() bool { return n.StemStats().Ignored == 1 })
	if n.stem.streams.isBanned(honest.ID()) {
		t.Fatal("a peer was dropped for an expired intent")
	}
	if !sendRaw(t, honest, n, stemFrameBytes(t, stemFrame{Category: "electronics", Kind: stemKindIntents, Msg: good.Raw})) {
		t.Fatal("a valid frame was not acknowledged")
	}
	eventually(t, 5*time.Second, "the valid intent is published", func() bool { return isLive(n, good.ID) })
	if st := n.StemStats(); st.Received != 1 || st.Fluffed != 1 {
		t.Fatalf("stats %+v, want one received and fluffed", st)
	}
}

// TestStemRateLimit: a peer that sends more frames than its budget at once
// has the excess refused without being dropped.
func TestStemRateLimit(t *testing.T) {
	n := startNode(t, nodeConfig(t))
	h := rawPeer(t, n)
	in, _ := mintIntent(t, "electronics", 1, time.Now())
	frame := stemFrameBytes(t, stemFrame{Category: "electronics", Kind: stemKindIntents, Msg: in.Raw})
	refused := 0
	for range stemPeerBurst + 10 {
		if !sendRaw(t, h, n, frame) {
			refused++
		}
	}
	if refused == 0 {
		t.Fatal("no frame refused over the burst")
	}
	if n.stem.streams.isBanned(h.ID()) {
		t.Fatal("a peer over its rate was dropped")
	}
	if st := n.StemStats(); st.Refused != refused || st.Rejected != 0 {
		t.Fatalf("stats %+v, want %d refused and none rejected", st, refused)
	}

	// A slow peer holds at most stemMaxPerPeer streams: each further one is
	// refused at once, while other peers are still served.
	slow := rawPeer(t, n)
	var held []corenet.Stream
	for range stemMaxPerPeer {
		st, err := slow.NewStream(t.Context(), n.ID(), stemProtocol)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Write([]byte{0x80}); err != nil { // half a length prefix
			t.Fatal(err)
		}
		held = append(held, st)
	}
	eventually(t, 5*time.Second, "the slow peer's streams are being handled", func() bool {
		return n.stem.streams.activeOf(slow.ID()) == stemMaxPerPeer
	})
	if sendRaw(t, slow, n, frame) {
		t.Fatal("a stream over the per-peer limit was handled")
	}
	other, _ := mintIntent(t, "electronics", 2, time.Now())
	if !sendRaw(t, rawPeer(t, n), n, stemFrameBytes(t, stemFrame{Category: "electronics", Kind: stemKindIntents, Msg: other.Raw})) {
		t.Fatal("another peer was not served while the slow one held its streams")
	}
	for _, st := range held {
		st.Reset()
	}
	if n.stem.streams.isBanned(slow.ID()) {
		t.Fatal("a slow peer was dropped")
	}
}

func TestStemFrames(t *testing.T) {
	in, _ := mintIntent(t, "electronics", 1, time.Now())
	ok := stemFrame{Category: "electronics", Kind: stemKindIntents, Msg: in.Raw}
	b := mustMarshal(t, ok)
	f, err := parseStemFrame(b)
	if err != nil || f.Category != ok.Category || f.Kind != ok.Kind || !bytes.Equal(f.Msg, ok.Msg) {
		t.Fatalf("round trip: %+v, %v", f, err)
	}
	bad := map[string][]byte{
		"unknown field":  mustMarshal(t, map[int]any{0: "electronics", 1: 1, 2: []byte{1}, 3: 0}),
		"missing msg":    mustMarshal(t, map[int]any{0: "electronics", 1: 1}),
		"too long":       mustMarshal(t, stemFrame{Category: "electronics", Kind: 1, Msg: make([]byte, stemMaxMsg+1)}),
		"kind 0":         mustMarshal(t, map[int]any{0: "electronics", 1: 0, 2: []byte{1}}),
		"category types": mustMarshal(t, map[int]any{0: 1, 1: 1, 2: []byte{1}}),
		"trailing":       append(bytes.Clone(b), 0),
	}
	for name, data := range bad {
		if _, err := parseStemFrame(data); !errors.Is(err, errStemViolation) {
			t.Errorf("%s: %v, want a violation", name, err)
		}
	}
}

func FuzzStemFrames(f *testing.F) {
	f.Add([]byte{0xa3, 0x00, 0x6b, 'e', 'l', 'e', 'c', 't', 'r', 'o', 'n', 'i', 'c', 's', 0x01, 0x01, 0x02, 0x41, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := parseStemFrame(data)
		if err != nil {
			return
		}
		again, err := appendFrame(nil, *fr)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again[len(again)-len(data):], data) {
			t.Fatalf("accepted frame does not re-encode to itself")
		}
	})
}

// TestStemConfig checks the defaults and bounds of the stem's settings.
func TestStemConfig(t *testing.T) {
	c := Config{}.withDefaults()
	if c.DisableStem || c.StemFluffProbability != 0.1 || c.StemEpoch != 10*time.Minute || c.StemTimeout != 4*time.Second {
		t.Fatalf("defaults: %v %v %v %v", c.DisableStem, c.StemFluffProbability, c.StemEpoch, c.StemTimeout)
	}
	for _, bad := range []Config{{StemFluffProbability: 1.5}, {StemFluffProbability: -0.1}, {StemTimeout: -time.Second}, {StemEpoch: -time.Second}} {
		if err := bad.withDefaults().validate(); !errors.Is(err, ErrInvalidConfig) {
			t.Errorf("%+v: %v, want ErrInvalidConfig", bad, err)
		}
	}
}
