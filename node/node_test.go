package node

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// testPolicy keeps minting instant while still checking the work.
var testPolicy = intent.Policy{MinWork: 4, MinOfferWork: 4, MinRatingWork: 4}

var testCategories = []string{"electronics", "home"}

func nodeConfig(t *testing.T) Config {
	cfg := testConfig(t)
	cfg.DataDir = t.TempDir()
	cfg.Policy = testPolicy
	cfg.Categories = testCategories
	return cfg
}

// meshTracer follows a node's mesh on every topic.
type meshTracer struct {
	testTracer
	mu    sync.Mutex
	meshs map[string]map[peer.ID]bool
}

func (tr *meshTracer) Graft(p peer.ID, topic string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if tr.meshs == nil {
		tr.meshs = make(map[string]map[peer.ID]bool)
	}
	if tr.meshs[topic] == nil {
		tr.meshs[topic] = make(map[peer.ID]bool)
	}
	tr.meshs[topic][p] = true
}

func (tr *meshTracer) Prune(p peer.ID, topic string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	delete(tr.meshs[topic], p)
}

// OnClosedOutboundStream: the router drops the peer from every mesh
// without tracing a Prune; a mesh that still listed it would let
// awaitNodeMeshes pass on peers the router no longer sends to.
func (tr *meshTracer) OnClosedOutboundStream(p peer.ID) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, mesh := range tr.meshs {
		delete(mesh, p)
	}
}

func (tr *meshTracer) size(topic string) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return len(tr.meshs[topic])
}

// tracers maps each test node to its mesh tracer.
var tracers sync.Map

func startNode(t *testing.T, cfg Config, opts ...pubsub.Option) *Node {
	t.Helper()
	tr := &meshTracer{}
	n, err := newNode(t.Context(), cfg, append(opts, pubsub.WithRawTracer(tr))...)
	if err != nil {
		t.Fatalf("node.New: %v", err)
	}
	tracers.Store(n, tr)
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return n
}

func addrsOf(ns ...*Node) []string {
	var out []string
	for _, n := range ns {
		for _, a := range n.Addrs() {
			out = append(out, a.String())
		}
	}
	return out
}

// sparseSwarm starts size nodes; each bootstraps to 2 or 3 random earlier
// ones, so most pairs are several hops apart.
func sparseSwarm(t *testing.T, size int, seed uint64) []*Node {
	r := rand.New(rand.NewPCG(seed, 7))
	nodes := make([]*Node, size)
	for i := range nodes {
		cfg := nodeConfig(t)
		for _, j := range r.Perm(i)[:min(i, 2+r.IntN(2))] {
			cfg.Bootstrap = append(cfg.Bootstrap, addrsOf(nodes[j])...)
		}
		nodes[i] = startNode(t, cfg)
	}
	awaitNodeMeshes(t, nodes)
	return nodes
}

// awaitNodeMeshes waits until every node has grafted min(topic peers, Dlo)
// peers on every topic. A message reaches only the mesh peers a forwarder
// has when it arrives, and gossip goes only to non-mesh peers, so a peer
// grafted just after a forward misses it (late-joiner sync covers that in
// real use; these tests are about the gossip path).
func awaitNodeMeshes(t *testing.T, nodes []*Node) {
	t.Helper()
	eventually(t, 20*time.Second, "meshes settle on every topic", func() bool {
		for _, n := range nodes {
			v, ok := tracers.Load(n)
			if !ok {
				t.Fatalf("node %s was not started by startNode", n.ID())
			}
			tr := v.(*meshTracer)
			for name, tp := range n.topics {
				peers := len(tp.ListPeers())
				if peers == 0 || tr.size(name) < min(peers, pubsub.GossipSubDlo) {
					return false
				}
			}
		}
		return true
	})
}

func laptopDraft(now time.Time) intent.Draft {
	return intent.Draft{
		Category: "electronics",
		Path:     []string{"laptops"},
		Text:     "light 14-inch laptop, 16 GB",
		Want:     intent.Want{Quantity: 1, MaxPrice: 120000, Currency: "EUR", Region: "DE"},
		Terms:    intent.DefaultTerms(),
		Created:  now,
		Expires:  now.Add(72 * time.Hour),
	}
}

// awaitEvent waits for the first event on sub that matches.
func awaitEvent(t *testing.T, sub *Subscription, what string, match func(Event) bool) Event {
	t.Helper()
	timeout := time.After(patience)
	for {
		select {
		case e, ok := <-sub.C:
			if !ok {
				t.Fatalf("%s: subscription closed", what)
			}
			if match(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("%s: no event within %v", what, patience)
		}
	}
}

// TestSwarmIntentOfferAccept runs the whole loop on 20 nodes in a sparse
// topology: every vendor sees the intent, the customer opens every vendor's
// offer and nobody else can, the accept reaches the winning vendor, both
// keep the same deal, and a cancel removes an intent everywhere.
func TestSwarmIntentOfferAccept(t *testing.T) {
	nodes := sparseSwarm(t, 20, 1)
	customer := nodes[0]
	vendors := []*Node{nodes[5], nodes[11], nodes[19]}
	vendorSubs := make([]*Subscription, len(vendors))
	for i, v := range vendors {
		v.SetFilter(Filter{Categories: []string{"electronics"}, Path: []string{"laptops"}})
		vendorSubs[i] = v.Subscribe()
	}
	custSub := customer.Subscribe()

	in, err := customer.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	// Every node relays and knows the intent; every vendor is told.
	for i, n := range nodes {
		eventually(t, 10*time.Second, fmt.Sprintf("node %d knows the intent", i), func() bool {
			_, err := n.LiveIntent(in.ID)
			return err == nil
		})
	}
	for i, s := range vendorSubs {
		awaitEvent(t, s, fmt.Sprintf("vendor %d sees the intent", i), func(e Event) bool {
			return e.Kind == EventIntent && e.IntentID == in.ID
		})
	}

	offers := map[intent.ID]*Node{}
	for i, v := range vendors {
		sealed, err := v.SendOffer(t.Context(), in.ID, intent.OfferDraft{
			Price: uint64(100000 + 1000*i), Text: fmt.Sprintf("offer %d", i), Vendor: intent.Vendor{Name: fmt.Sprintf("vendor-%d", i)},
		})
		if err != nil {
			t.Fatalf("vendor %d SendOffer: %v", i, err)
		}
		offers[sealed.ID] = v
	}
	for range vendors {
		e := awaitEvent(t, custSub, "customer receives an offer", func(e Event) bool { return e.Kind == EventOffer })
		if _, ok := offers[e.OfferID]; !ok || e.Status != string(store.OfferValid) {
			t.Fatalf("unexpected offer event %+v", e)
		}
	}
	// Nobody but the customer opened anything: relays hold no received offers.
	for i, n := range nodes[1:] {
		got, err := n.store.OffersByDirection(t.Context(), store.Received)
		if err != nil || len(got) != 0 {
			t.Fatalf("node %d holds %d received offers (%v): only the customer can open them", i+1, len(got), err)
		}
	}

	var winner intent.ID
	for id := range offers {
		winner = id
		break
	}
	wv := offers[winner]
	wsub := vendorSubs[slices.Index(vendors, wv)]
	deal, err := customer.Accept(t.Context(), in.ID, winner, []byte("deliver to Packstation 12"))
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	awaitEvent(t, wsub, "the winning vendor sees the accept", func(e Event) bool {
		return e.Kind == EventAccept && e.OfferID == winner
	})
	vdeal, err := wv.store.Deal(t.Context(), in.ID)
	if err != nil {
		t.Fatalf("vendor deal: %v", err)
	}
	cdeal, err := customer.store.Deal(t.Context(), in.ID)
	if err != nil {
		t.Fatalf("customer deal: %v", err)
	}
	if !bytes.Equal(vdeal.IntentRaw, cdeal.IntentRaw) || !bytes.Equal(vdeal.OfferInner, cdeal.OfferInner) || !bytes.Equal(vdeal.AcceptRaw, cdeal.AcceptRaw) {
		t.Fatal("customer and vendor deal records differ")
	}
	if deal.Accept == nil || !bytes.Equal(deal.Accept.Raw, cdeal.AcceptRaw) || deal.Intent.State != IntentAccepted || deal.Offer.Status != OfferAccepted {
		t.Fatalf("Accept's record does not match the stored deal: %+v", deal)
	}
	vrec, err := wv.Deal(t.Context(), in.ID)
	if err != nil || string(vrec.Details) != "deliver to Packstation 12" || vrec.Role != RoleVendor {
		t.Fatalf("vendor's deal record opens the details: %q, %v", vrec.Details, err)
	}
	for _, v := range vendors {
		if v == wv {
			continue
		}
		if _, err := v.store.Deal(t.Context(), in.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a losing vendor has a deal: %v", err)
		}
	}

	// Cancel a second intent: it leaves every node's live set and feed.
	second, err := customer.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range nodes {
		eventually(t, 10*time.Second, fmt.Sprintf("node %d knows the second intent", i), func() bool {
			_, err := n.LiveIntent(second.ID)
			return err == nil
		})
	}
	if err := customer.Cancel(t.Context(), second.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	for i, n := range nodes {
		eventually(t, 10*time.Second, fmt.Sprintf("node %d drops the cancelled intent", i), func() bool {
			_, err := n.tombstone(t.Context(), second.ID)
			return err == nil && !isLive(n, second.ID)
		})
	}
	for i, v := range vendors {
		feed, err := v.Feed(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(feed, func(r IntentRecord) bool { return r.Intent.ID == second.ID }) {
			t.Fatalf("vendor %d still lists the cancelled intent", i)
		}
	}
}

func isLive(n *Node, id intent.ID) bool {
	_, err := n.LiveIntent(id)
	return err == nil
}

// TestRestartKeepsEverything closes a customer and a vendor and restarts
// them on the same data dirs: intents, keys, offers and deals survive, the
// customer can still accept, and replays are still refused.
func TestRestartKeepsEverything(t *testing.T) {
	ccfg, vcfg := nodeConfig(t), nodeConfig(t)
	customer := startNode(t, ccfg)
	vcfg.Bootstrap = addrsOf(customer)
	vendor := startNode(t, vcfg)
	awaitNodeMeshes(t, []*Node{customer, vendor})

	in, err := customer.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "vendor knows the intent", func() bool { return isLive(vendor, in.ID) })
	sealed, err := vendor.SendOffer(t.Context(), in.ID, intent.OfferDraft{Price: 99000})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "customer stores the offer", func() bool {
		o, err := customer.store.Offer(t.Context(), sealed.ID)
		return err == nil && o.Status == store.OfferValid
	})
	if err := customer.Close(); err != nil {
		t.Fatal(err)
	}

	ccfg.Bootstrap = addrsOf(vendor)
	customer = startNode(t, ccfg)
	own, err := customer.store.OwnIntent(t.Context(), in.ID)
	if err != nil || !bytes.Equal(own.Raw, in.Raw) || len(own.SigningSeed) != 32 {
		t.Fatalf("own intent after restart: %v", err)
	}
	// The replay index survived: the same intent does not pass again.
	if _, err := customer.check(t.Context(), "electronics", false, in.Raw); !errors.Is(err, errReplay) {
		t.Fatalf("replayed intent after restart: got %v, want errReplay", err)
	}
	awaitNodeMeshes(t, []*Node{customer, vendor})
	vsub := vendor.Subscribe()
	if _, err := customer.Accept(t.Context(), in.ID, sealed.ID, nil); err != nil {
		t.Fatalf("Accept after restart (keys reloaded): %v", err)
	}
	awaitEvent(t, vsub, "vendor sees the accept", func(e Event) bool { return e.Kind == EventAccept })
	if _, err := customer.store.Deal(t.Context(), in.ID); err != nil {
		t.Fatalf("customer deal: %v", err)
	}
}

// TestInvalidIntentsPenaliseSender has a peer push malformed and forged
// intents straight onto a topic (bypassing its own validation): the honest
// node rejects them, stores nothing, and scores the sender below graylist.
func TestInvalidIntentsPenaliseSender(t *testing.T) {
	board := &scoreBoard{}
	hcfg := nodeConfig(t)
	hcfg.OnPeerScores = board.update
	honest := startNode(t, hcfg)
	cfg := testConfig(t)
	cfg.Bootstrap = addrsOf(honest)
	attacker := startTest(t, cfg, nil)
	tp, _ := join(t, attacker, intent.IntentTopic("electronics"))

	good, _, err := intent.NewIntent(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{
		[]byte("not cbor at all"),
		append(bytes.Clone(good.Raw), 0x00), // trailing byte
		func() []byte { b := bytes.Clone(good.Raw); b[len(b)-1] ^= 1; return b }(), // broken signature
	}
	for _, b := range bad {
		publish(t, attacker, tp, b, 1)
	}
	eventually(t, 10*time.Second, "the attacker is graylisted", func() bool {
		s, ok := board.get(attacker.ID())
		return ok && s < graylistThreshold
	})
	live, err := honest.store.LiveIntents(t.Context(), time.Now())
	if err != nil || len(live) != 0 {
		t.Fatalf("honest node stored %d intents from the attacker (%v)", len(live), err)
	}
}

// TestNodeCloseLeavesNoGoroutine runs two nodes with traffic and every
// service on (the DHT, a vendor advertising on it, mDNS, the address book),
// closes them twice each, the first time from two goroutines at once, and
// checks every goroutine they started is gone.
func TestNodeCloseLeavesNoGoroutine(t *testing.T) {
	run := func() {
		acfg := withMDNS(nodeConfig(t))
		acfg.DHT = "server"
		acfg.Vendor.Name = "Acme"
		a := startNode(t, acfg)
		bcfg := nodeConfig(t)
		bcfg.DHT = "client"
		bcfg.Bootstrap = addrsOf(a)
		b := startNode(t, bcfg)
		awaitNodeMeshes(t, []*Node{a, b})
		eventually(t, 20*time.Second, "b's DHT knows a", func() bool { return b.Reach().DHTPeers > 0 })
		sub := b.Subscribe()
		if _, err := a.Publish(t.Context(), laptopDraft(time.Now()), nil); err != nil {
			t.Fatal(err)
		}
		awaitEvent(t, sub, "b hears of a's intent", func(e Event) bool { return true })
		var closing sync.WaitGroup
		for _, n := range []*Node{a, b, a, b} {
			closing.Go(func() {
				if err := n.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		}
		closing.Wait()
		for _, n := range []*Node{a, b} {
			if err := n.Close(); err != nil {
				t.Fatalf("Close again: %v", err)
			}
		}
		for range sub.C { // closed by Close
		}
		if _, err := a.Publish(t.Context(), laptopDraft(time.Now()), nil); !errors.Is(err, ErrClosed) {
			t.Fatalf("Publish after Close: %v, want ErrClosed", err)
		}
	}
	// The first run starts process-wide goroutines that live for good by
	// design (e.g. go-flow-metrics' sweeper); only the second run counts.
	run()
	before := runtime.NumGoroutine()
	run()
	deadline := time.Now().Add(patience)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var dump strings.Builder
			pprof.Lookup("goroutine").WriteTo(&dump, 1)
			t.Fatalf("%d goroutines after Close, %d before:\n%s", runtime.NumGoroutine(), before, dump.String())
		}
		time.Sleep(20 * time.Millisecond) // polling a condition that has no event to wait on
	}
}

// TestPublishedIntentIsAnonymousOnTheWire checks a real intent as a peer
// receives it: the gossipsub frame carries the intent's bytes and nothing
// that names the publishing node (no author, seqno, signature or key).
func TestPublishedIntentIsAnonymousOnTheWire(t *testing.T) {
	// The gossip frame as the origin sends it: with the stem on, the vendor
	// (the only peer) would publish the intent and never receive it.
	ccfg := nodeConfig(t)
	ccfg.DisableStem = true
	customer := startNode(t, ccfg)
	wire := &testTracer{}
	vcfg := nodeConfig(t)
	vcfg.Bootstrap = addrsOf(customer)
	vendor := startNode(t, vcfg, pubsub.WithRawTracer(wire))
	awaitNodeMeshes(t, []*Node{customer, vendor})

	in, err := customer.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the vendor receives the intent on the wire", func() bool {
		return len(wire.received(in.Raw)) > 0
	})
	for _, m := range wire.received(in.Raw) {
		if m.From != nil || m.Seqno != nil || m.Signature != nil || m.Key != nil {
			t.Fatalf("frame names its sender: from=%x seqno=%x sig=%x key=%x", m.From, m.Seqno, m.Signature, m.Key)
		}
		if m.GetTopic() != intent.IntentTopic("electronics") {
			t.Fatalf("topic %q", m.GetTopic())
		}
	}
	if bytes.Contains(in.Raw, []byte(customer.ID())) {
		t.Fatal("the intent's bytes contain the publisher's peer ID")
	}
}
