package node

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"slices"
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

// Attacks on the stem by peers on the network (docs/RELIABILITY.md,
// "Stem attacks"): a successor that bounces messages back to learn whether
// its predecessor made them, a relay that would hand a message back to the
// peer it came from, and peers that hold a successor's stream slots so that
// its predecessors publish their own messages.

// frameLog records the stem frames a node got, by sender and message.
type frameLog struct {
	mu  sync.Mutex
	got map[peer.ID]map[intent.ID]int
}

func (l *frameLog) add(from peer.ID, id intent.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.got == nil {
		l.got = make(map[peer.ID]map[intent.ID]int)
	}
	if l.got[from] == nil {
		l.got[from] = make(map[intent.ID]int)
	}
	l.got[from][id]++
}

func (l *frameLog) count(from peer.ID, id intent.ID) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.got[from][id]
}

func (l *frameLog) from(from peer.ID) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := 0
	for _, c := range l.got[from] {
		k += c
	}
	return k
}

// readStemFrame reads and acknowledges the one frame of a stem stream.
func readStemFrame(st corenet.Stream) (*stemFrame, error) {
	st.SetReadDeadline(time.Now().Add(5 * time.Second))
	data, _, err := readFrame(bufio.NewReader(st), stemMaxFrame)
	if err != nil {
		st.Reset()
		return nil, err
	}
	st.Close()
	return parseStemFrame(data)
}

// bouncer makes n a hostile successor: it logs each stem frame it gets and
// sends it straight back to the peer it came from.
func bouncer(t *testing.T, n *Node) *frameLog {
	log := &frameLog{}
	n.net.host.SetStreamHandler(stemProtocol, func(st corenet.Stream) {
		from := st.Conn().RemotePeer()
		f, err := readStemFrame(st)
		if err != nil {
			return
		}
		log.add(from, intent.IDOf(f.Msg))
		if err := n.stem.send(n.ctx, from, *f); err != nil {
			t.Logf("bouncer: %v", err)
		}
	})
	return log
}

// recorder makes n log the stem frames it gets and drop them.
func recorder(n *Node) *frameLog {
	log := &frameLog{}
	n.net.host.SetStreamHandler(stemProtocol, func(st corenet.Stream) {
		from := st.Conn().RemotePeer()
		if f, err := readStemFrame(st); err == nil {
			log.add(from, intent.IDOf(f.Msg))
		}
	})
	return log
}

// rankFirst sets n's epoch seed so that want is ranked before every other
// peer in others.
func rankFirst(t *testing.T, n *Node, want peer.ID, others ...peer.ID) {
	t.Helper()
	s := n.stem
	s.mu.Lock()
	defer s.mu.Unlock()
	s.epochLocked(time.Now())
	rank := func(seed [32]byte, p peer.ID) [32]byte { return sha256.Sum256(append(seed[:], p...)) }
	for range 1000 {
		var seed [32]byte
		rand.Read(seed[:])
		w := rank(seed, want)
		if !slices.ContainsFunc(others, func(p peer.ID) bool { r := rank(seed, p); return slices.Compare(r[:], w[:]) < 0 }) {
			s.seed = seed
			return
		}
	}
	t.Fatal("no seed ranks the peer first")
}

// TestStemBounce: a successor that sends a message straight back to the
// node it came from sees the same answer whether that node made the message
// or only relayed it: the node fluffs it, and never hands it to the
// bouncer again.
func TestStemBounce(t *testing.T) {
	// target -> bouncer (the target's only outbound peer, so its
	// successor); watcher -> target; the predecessor, a raw peer, hands the
	// target a message that is not its own.
	trs := []*originTracer{newOriginTracer(), newOriginTracer(), newOriginTracer()}
	b := startNode(t, nodeConfig(t), pubsub.WithRawTracer(trs[0]))
	bounced := bouncer(t, b)
	target := startDialling(t, []*Node{b}, func(c *Config) {
		c.StemFluffProbability = 1e-12 // a relay, never a diffuser
		c.StemTimeout = time.Minute    // no fail-safe: what fluffs is the answer to the bounce
	}, pubsub.WithRawTracer(trs[1]))
	watcher := startDialling(t, []*Node{target}, nil, pubsub.WithRawTracer(trs[2]))
	all := []*Node{b, target, watcher}
	awaitStemReady(t, all...)

	own, err := target.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	foreign, _ := mintIntent(t, "electronics", 1, time.Now())
	pred := rawPeer(t, target)
	if !sendRaw(t, pred, target, stemFrameBytes(t, stemFrame{Category: "electronics", Kind: stemKindIntents, Msg: foreign.Raw})) {
		t.Fatal("the target did not take the predecessor's frame")
	}
	for _, c := range []struct {
		role string
		id   intent.ID
	}{{"origin", own.ID}, {"relay", foreign.ID}} {
		for i, n := range all {
			eventually(t, 10*time.Second, fmt.Sprintf("%s case: node %d has the intent", c.role, i), func() bool { return isLive(n, c.id) })
		}
		if got := bounced.count(target.ID(), c.id); got != 1 {
			t.Errorf("%s: the bouncer got %d stem frames of the message from the target, want 1 (a second one tells it the target made the message)", c.role, got)
		}
		// The router sends a message a moment after the validator stores
		// it: wait for the traces to name one injector.
		inj := -1
		eventually(t, 10*time.Second, fmt.Sprintf("%s case: one node put the message into gossip", c.role), func() bool {
			inj = injector(trs, c.id)
			return inj >= 0
		})
		if inj != 1 {
			t.Errorf("%s: node %d put the message into gossip, want the target (1) to fluff it", c.role, inj)
		}
	}
	// A hand-over is counted once acknowledged, which may be after the
	// bounce came back and was fluffed.
	eventually(t, 10*time.Second, "the target counts both messages handed on once, back once, fluffed", func() bool {
		st := target.StemStats()
		return st.Looped == 2 && st.Stemmed == 1 && st.Forwarded == 1 && st.Fluffed == 1
	})
	if st := target.StemStats(); st.Direct+st.FailSafe+st.Held != 0 {
		t.Errorf("target stats %+v: the target published a message itself", st)
	}
}

// TestStemNeverBackToSender: a relay whose best-ranked successor is the
// peer that handed it the message passes it to the next one instead.
func TestStemNeverBackToSender(t *testing.T) {
	// pred -> relay <- next: both the relay's peers dialled it, so both are
	// candidates, and the relay ranks pred first.
	relay := startDialling(t, nil, func(c *Config) { c.StemFluffProbability = 1e-12 })
	pred := startDialling(t, []*Node{relay}, nil)
	next := startDialling(t, []*Node{relay}, nil)
	all := []*Node{relay, pred, next}
	awaitStemReady(t, all...)
	toPred, toNext := recorder(pred), recorder(next)
	rankFirst(t, relay, pred.ID(), next.ID())
	// awaitStemReady asks each node for one successor; the relay must
	// have both, or with the predecessor left out it has none and fluffs
	// (a hog run lost this race, 2026-12-06).
	eventually(t, 10*time.Second, "the relay has both peers as successors, the predecessor first", func() bool {
		return slices.Equal(relay.stem.successors("electronics", false, "", 2), []peer.ID{pred.ID(), next.ID()})
	})

	in, err := pred.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the relay forwards the intent", func() bool { return toNext.count(relay.ID(), in.ID) == 1 })
	if got := toPred.from(relay.ID()); got != 0 {
		t.Fatalf("the relay handed %d stem frames back to the peer it got them from", got)
	}
	// The relay counts the forward once the next node acknowledged it,
	// a moment after the next node logged the frame.
	eventually(t, 10*time.Second, "the relay counts one forward", func() bool { return relay.StemStats().Forwarded == 1 })
}

// slotHolder is an attacker that keeps nodes' stem stream slots taken:
// peers fresh peer IDs, each holding stemMaxPerPeer streams on every target
// with half a length prefix written, opening a new one whenever a target
// resets one.
type slotHolder struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

func holdStemSlots(t *testing.T, peers int, targets ...*Node) *slotHolder {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	a := &slotHolder{cancel: cancel}
	t.Cleanup(a.stop)
	for range peers {
		h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		for _, target := range targets {
			if err := h.Connect(ctx, peer.AddrInfo{ID: target.ID(), Addrs: target.net.host.Addrs()}); err != nil {
				t.Fatal(err)
			}
			for range stemMaxPerPeer {
				a.wg.Go(func() { holdStemStream(ctx, h, target.ID()) })
			}
		}
	}
	eventually(t, 20*time.Second, "the attacker holds every stem slot", func() bool {
		for _, target := range targets {
			if target.stem.streams.handlingAll() != stemMaxHandling {
				return false
			}
		}
		return true
	})
	return a
}

// holdStemStream keeps one stem stream to target open until ctx ends.
func holdStemStream(ctx context.Context, h host.Host, target peer.ID) {
	for ctx.Err() == nil {
		st, err := h.NewStream(ctx, target, stemProtocol)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond): // pace the attack's retries
			}
			continue
		}
		stop := context.AfterFunc(ctx, func() { st.Reset() })
		if _, err := st.Write([]byte{0x80}); err == nil {
			st.Read(make([]byte, 1)) // until the target resets it
		}
		stop()
		st.Reset()
	}
}

// stop resets the attacker's streams and waits for its goroutines.
func (a *slotHolder) stop() {
	a.cancel()
	a.wg.Wait()
}

// TestStemSlotExhaustion: 32 peers holding every stem slot of a node's
// successor make it pick the next successor; when they hold every
// successor's slots, the node keeps its message rather than publish it
// (which would show its gossip neighbours where it comes from), and hands
// it over when its timer fires and a slot is free again.
func TestStemSlotExhaustion(t *testing.T) {
	s1 := startNode(t, nodeConfig(t))
	s2 := startNode(t, nodeConfig(t))
	origin := startDialling(t, []*Node{s1, s2}, func(c *Config) {
		c.StemTimeout = 4 * time.Second // at least 2 s: time to see the message held
	})
	all := []*Node{s1, s2, origin}
	awaitStemReady(t, all...)
	rankFirst(t, origin, s1.ID(), s2.ID())
	attackers := stemMaxHandling / stemMaxPerPeer

	// The best successor is full: the next one takes the intent.
	holdStemSlots(t, attackers, s1)
	first, err := origin.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := origin.StemStats(); st.Stemmed != 1 || st.Held+st.Direct != 0 {
		t.Fatalf("origin stats %+v: want the intent handed to the second successor", st)
	}
	if st := s1.StemStats(); st.Refused == 0 {
		t.Fatalf("the full successor refused nothing: %+v", st)
	}
	for i, n := range all {
		eventually(t, 10*time.Second, fmt.Sprintf("node %d has the first intent", i), func() bool { return isLive(n, first.ID) })
	}
	if st := s2.StemStats(); st.Received != 1 {
		t.Fatalf("the second successor's stats %+v: want it to have taken the intent", st)
	}

	// Both are full: the origin holds the intent, and does not publish it.
	a2 := holdStemSlots(t, attackers, s2)
	second, err := origin.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := origin.StemStats(); st.Held != 1 || st.Direct != 0 {
		t.Fatalf("origin stats %+v: want the second intent held, not published", st)
	}
	if isLive(origin, second.ID) {
		t.Fatal("the origin published the intent it holds")
	}
	// One successor is free again before the timer: the intent takes the
	// stem then.
	a2.stop()
	for i, n := range all {
		eventually(t, 20*time.Second, fmt.Sprintf("node %d has the second intent", i), func() bool { return isLive(n, second.ID) })
	}
	eventually(t, 10*time.Second, "the origin counts the second intent handed over", func() bool { return origin.StemStats().Stemmed == 2 })
	if st := origin.StemStats(); st.Direct+st.FailSafe != 0 {
		t.Fatalf("origin stats %+v: want the second intent handed over at its timer, never published by the origin", st)
	}
}

// TestStemFailSafeDelay: origins and relays draw their fail-safe delay from
// one distribution (half the timeout plus an exponential draw with a mean
// of half of it), so when a node publishes a lost message does not tell
// whether it made it.
func TestStemFailSafeDelay(t *testing.T) {
	n := startNode(t, nodeConfig(t))
	timeout := n.cfg.StemTimeout
	const draws = 20000
	d := make([]time.Duration, draws)
	for i := range d {
		d[i] = n.stem.failSafeDelay()
		if d[i] < timeout/2 {
			t.Fatalf("delay %v below half the timeout %v", d[i], timeout)
		}
	}
	slices.Sort(d)
	// Median: t/2 + ln 2 * t/2 = 0.847 t; its standard error here is ~0.5%.
	if med := float64(d[draws/2]) / float64(timeout); med < 0.80 || med > 0.90 {
		t.Fatalf("median delay %.3f × the timeout, want 0.847", med)
	}
}

// TestStemTriesFourSuccessors: a node whose first three successors have
// every stem slot held (by 32 peers, each holding 2 streams on all three)
// hands its own message, and one it relays, to the fourth, and publishes
// neither itself. The fourth is its only inbound peer, so it is ranked last
// whatever the epoch's seed. Before, a node offered a message to 2
// successors and then held it (an origin, publishing it at its timer) or
// fluffed it (a relay): a few peers filling two nodes' slots made it show
// its gossip neighbours what it sent.
func TestStemTriesFourSuccessors(t *testing.T) {
	s1, s2, s3 := startNode(t, nodeConfig(t)), startNode(t, nodeConfig(t)), startNode(t, nodeConfig(t))
	n := startDialling(t, []*Node{s1, s2, s3}, func(c *Config) {
		c.StemFluffProbability = 1e-12 // a relay, never a diffuser
		c.StemTimeout = time.Minute    // no timer fires while the test runs
	})
	s4 := startDialling(t, []*Node{n}, nil)
	all := []*Node{s1, s2, s3, s4, n}
	awaitStemReady(t, all...)
	eventually(t, 10*time.Second, "the node ranks all four successors, the inbound one last", func() bool {
		got := n.stem.successors("electronics", false, "", 4)
		return len(got) == 4 && got[3] == s4.ID()
	})
	holdStemSlots(t, stemMaxHandling/stemMaxPerPeer, s1, s2, s3)

	own, err := n.Publish(t.Context(), laptopDraft(time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if st := n.StemStats(); st.Stemmed != 1 || st.Held+st.Direct != 0 {
		t.Fatalf("node stats %+v: want its intent handed to the fourth successor at once", st)
	}
	foreign, _ := mintIntent(t, "electronics", 1, time.Now())
	pred := rawPeer(t, n)
	if !sendRaw(t, pred, n, stemFrameBytes(t, stemFrame{Category: "electronics", Kind: stemKindIntents, Msg: foreign.Raw})) {
		t.Fatal("the node did not take the predecessor's frame")
	}
	eventually(t, 10*time.Second, "the node forwards the relayed intent", func() bool { return n.StemStats().Forwarded == 1 })
	for _, id := range []intent.ID{own.ID, foreign.ID} {
		for i, m := range all {
			eventually(t, 10*time.Second, fmt.Sprintf("node %d has intent %s", i, id.Short()), func() bool { return isLive(m, id) })
		}
	}
	if st := s4.StemStats(); st.Received != 2 {
		t.Errorf("the fourth successor's stats %+v: want both intents taken", st)
	}
	if st := n.StemStats(); st.Fluffed+st.Held+st.Direct+st.FailSafe != 0 {
		t.Errorf("node stats %+v: the node published a message itself", st)
	}
	for i, s := range []*Node{s1, s2, s3} {
		if st := s.StemStats(); st.Received != 0 || st.Refused == 0 {
			t.Errorf("successor %d stats %+v: want every hand-over refused", i+1, st)
		}
	}
}
