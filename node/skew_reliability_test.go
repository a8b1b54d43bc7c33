package node

import (
	"fmt"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// TestClockSkew runs nodes whose clocks (Config.Now) are off by seconds and
// by minutes. Inside the allowed skew (intent.DefaultSkew, 5 minutes,
// between any two clocks) everything works: intents, offers, accepts and
// cancels between every pair. Outside it, what a node cannot place in time
// is ignored, never rejected: no honest peer's score ever goes below 0.
//
//   - A clock 10 minutes fast: its intents are "from the future" for
//     everyone else and ignored. Everything else of it still works: it sees
//     the others' intents (created in its past), its offers are opened (an
//     offer's times are the vendor's own business) and the customer's
//     accept reaches it.
//   - A clock 10 minutes slow: the others' intents are from the future for
//     it, and ignored. Its own intents look 10 minutes old to the others:
//     valid, with 10 minutes less to live, and one that lives less than the
//     lag (plus the skew) arrives expired and is ignored.
//
// Quick (about 10 s): 5 nodes inside (0, +3 s, -4 s, +2 min, -2 min) and
// the two outside. INTENTCAST_LONG=1 adds inside offsets up to ±2.5 min.
func TestClockSkew(t *testing.T) {
	// Own messages take the stem here: a successor whose clock is far off
	// ignores what it cannot place in time, and the message waits for the
	// origin's fail-safe (Config.StemTimeout, 4 to 6 s) before gossip.
	const skewWait = 20 * time.Second
	inside := []time.Duration{0, 3 * time.Second, -4 * time.Second, 2 * time.Minute, -2 * time.Minute}
	if survLong() {
		inside = append(inside, 150*time.Second, -150*time.Second, 45*time.Second, -75*time.Second)
	}
	const fastBy, slowBy = 10 * time.Minute, -10 * time.Minute
	offsets := append(append([]time.Duration{}, inside...), fastBy, slowBy)
	fast, slow := len(inside), len(inside)+1

	nodes := make([]*Node, len(offsets))
	boards := make([]*survScores, len(offsets))
	rejects := make([]*survRejects, len(offsets))
	for i, off := range offsets {
		cfg := nodeConfig(t)
		cfg.Now = func() time.Time { return time.Now().Add(off) }
		cfg.Bootstrap = addrsOf(nodes[:i]...)
		boards[i], rejects[i] = newSurvScores(), &survRejects{}
		cfg.OnPeerScores = boards[i].update
		nodes[i] = startNode(t, cfg, pubsub.WithRawTracer(rejects[i]))
	}
	awaitNodeMeshes(t, nodes)
	subs := make([]*Subscription, len(nodes))
	for i, n := range nodes {
		subs[i] = n.Subscribe()
	}
	publish := func(i int, text string, life time.Duration) *intent.SignedIntent {
		t.Helper()
		now := nodes[i].now()
		d := survDraft("electronics", text, now)
		d.Expires = now.Add(life)
		in, err := nodes[i].Publish(t.Context(), d, nil)
		if err != nil {
			t.Fatalf("node %d (clock %+v) publishes: %v", i, offsets[i], err)
		}
		return in
	}
	// ignoredBy waits until node j's router has ignored message id: it
	// came, was judged, and was dropped without a penalty.
	ignoredBy := func(j int, id intent.ID, what string) {
		t.Helper()
		eventually(t, skewWait, fmt.Sprintf("node %d (clock %+v) ignores %s", j, offsets[j], what), func() bool {
			return rejects[j].reason(id) == pubsub.RejectValidationIgnored
		})
		if isLive(nodes[j], id) {
			t.Errorf("node %d (clock %+v) holds %s", j, offsets[j], what)
		}
	}

	// Inside: every pair trades. Customer i's intent reaches every inside
	// node (and the fast one); vendor i+1 offers, i opens and accepts, the
	// vendor closes the deal.
	var ins []*intent.SignedIntent
	for i := range inside {
		ins = append(ins, publish(i, fmt.Sprintf("skewed customer %d", i), 72*time.Hour))
	}
	for i, in := range ins {
		for j := range nodes {
			if j == slow {
				continue
			}
			eventually(t, skewWait, fmt.Sprintf("node %d (clock %+v) has the intent of node %d (clock %+v)", j, offsets[j], i, offsets[i]),
				func() bool { return isLive(nodes[j], in.ID) })
		}
		ignoredBy(slow, in.ID, fmt.Sprintf("the intent of node %d (clock %+v), from its future", i, offsets[i]))
	}
	trade := func(c, v int) {
		t.Helper()
		in := ins[c]
		sealed, err := nodes[v].SendOffer(t.Context(), in.ID, intent.OfferDraft{Price: 100000})
		if err != nil {
			t.Fatalf("vendor %d (clock %+v) offers: %v", v, offsets[v], err)
		}
		eventually(t, skewWait, fmt.Sprintf("customer %d (clock %+v) opens the offer of vendor %d (clock %+v)", c, offsets[c], v, offsets[v]), func() bool {
			o, err := nodes[c].store.Offer(t.Context(), sealed.ID)
			return err == nil && o.Status == store.OfferValid
		})
		if _, err := nodes[c].Accept(t.Context(), in.ID, sealed.ID, nil); err != nil {
			t.Fatalf("customer %d (clock %+v) accepts: %v", c, offsets[c], err)
		}
		eventually(t, skewWait, fmt.Sprintf("vendor %d (clock %+v) closes the deal with customer %d (clock %+v)", v, offsets[v], c, offsets[c]), func() bool {
			_, err := nodes[v].store.Deal(t.Context(), in.ID)
			return err == nil
		})
	}
	for c := range inside {
		if c == 0 {
			continue // its intent is cancelled below
		}
		trade(c, (c+1)%len(inside))
	}
	// The fast vendor trades too: an offer's times are its own business,
	// and the customer's accept is in the fast clock's past.
	trade(0, fast)
	// A cancel from the slowest inside clock reaches every inside node.
	last := publish(len(inside)-1, "to be cancelled", time.Hour)
	for j := range inside {
		eventually(t, skewWait, fmt.Sprintf("node %d has the intent to cancel", j), func() bool { return isLive(nodes[j], last.ID) })
	}
	if err := nodes[len(inside)-1].Cancel(t.Context(), last.ID); err != nil {
		t.Fatal(err)
	}
	for j := range inside {
		eventually(t, skewWait, fmt.Sprintf("node %d (clock %+v) drops the cancelled intent", j, offsets[j]), func() bool {
			_, err := nodes[j].tombstone(t.Context(), last.ID)
			return err == nil && !isLive(nodes[j], last.ID)
		})
	}

	// Outside: the fast clock's intent is from everyone's future.
	f := publish(fast, "from a clock 10 minutes fast", 72*time.Hour)
	for j := range nodes {
		if j != fast {
			ignoredBy(j, f.ID, "the fast clock's intent")
		}
	}
	// The slow clock's intents look 10 minutes old: valid if they live
	// long enough, ignored as expired if not.
	long := publish(slow, "from a clock 10 minutes slow", 72*time.Hour)
	// 2 minutes: expires+skew is 3 minutes before true time, behind every
	// inside clock (the slowest is 2.5 minutes behind).
	short := publish(slow, "short-lived, from a clock 10 minutes slow", 2*time.Minute)
	for j := range nodes {
		if j == slow {
			continue
		}
		eventually(t, skewWait, fmt.Sprintf("node %d (clock %+v) has the slow clock's long-lived intent", j, offsets[j]),
			func() bool { return isLive(nodes[j], long.ID) })
		ignoredBy(j, short.ID, "the slow clock's short-lived intent, expired on arrival")
	}

	// Nobody was penalised for any of it.
	for i, b := range boards {
		for j, n := range nodes {
			if i == j {
				continue
			}
			latest, lowest, _, known := b.get(n.ID())
			if !known {
				t.Errorf("node %d never scored node %d", i, j)
			} else if lowest < 0 {
				t.Errorf("node %d (clock %+v) scored honest node %d (clock %+v) down to %v (now %v)", i, offsets[i], j, offsets[j], lowest, latest)
			}
		}
		if r := rejects[i].snapshot(); r[pubsub.RejectValidationFailed] > 0 {
			t.Errorf("node %d (clock %+v) rejected %d messages: %v", i, offsets[i], r[pubsub.RejectValidationFailed], r)
		}
	}
	var ignored []string
	for i, r := range rejects {
		ignored = append(ignored, fmt.Sprintf("%+v: %d", offsets[i], r.snapshot()[pubsub.RejectValidationIgnored]))
	}
	t.Logf("messages ignored per clock offset: %v; no rejections, every score >= 0", ignored)
}
