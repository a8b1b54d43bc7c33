package node

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	icrypto "github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
)

// TestPendingCancelsHoldAgainstJunk: a relay gets a genuine cancel before
// its intent (as gossip may reorder them), from a peer that forwards
// honestly. Then three attacker peers send bogus cancels for that intent
// (signed by other keys: nothing can tell before the intent arrives) and
// cancels of thousands of intents that do not exist, to fill the set of
// held cancels. When the intent arrives, the genuine cancel must still
// withdraw it, and the attackers together must hold at most their quota.
// Before, a bogus cancel replaced the genuine one (one entry per intent)
// and one peer could fill the whole set for free (issue 11).
func TestPendingCancelsHoldAgainstJunk(t *testing.T) {
	bogusEach, unknownEach := 300, 600
	if survLong() {
		bogusEach, unknownEach = 10_000, 5_000
	}
	const rate = 300 // cancels a second per attacker
	rejects := &survRejects{}
	cfg := nodeConfig(t)
	cfg.Logger = survQuietLogger(t)
	n := startNode(t, cfg, pubsub.WithRawTracer(rejects))
	honest := startSurvAttacker(t, "honest forwarder", false, []*Node{n})
	var attackers []*survAttacker
	for k := range 3 {
		attackers = append(attackers, startSurvAttacker(t, fmt.Sprintf("attacker %d", k), false, []*Node{n}))
	}
	topic := intent.IntentTopic("electronics")
	in, keys := survMint(t, survDraft("electronics", "withdrawn early", time.Now()))
	genuine, err := intent.NewCancel(in, keys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ignoredBefore := rejects.count(pubsub.RejectValidationIgnored)
	honest.send(t.Context(), topic, genuine.Raw)
	eventually(t, 10*time.Second, "the genuine cancel is held", func() bool { return n.pending.size() == 1 })

	sent := 0
	var flooders sync.WaitGroup
	var on atomic.Bool
	on.Store(true)
	for _, a := range attackers {
		other, err := icrypto.GenerateSigningKey()
		if err != nil {
			t.Fatal(err)
		}
		wrong := intent.Keys{Signing: other, Reply: keys.Reply}
		var junk []survBad
		for k := range bogusEach {
			c, err := intent.NewCancel(in, wrong, time.Now().Add(-time.Duration(k)*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			junk = append(junk, survBad{"bogus cancel", topic, c.Raw, false})
		}
		for range unknownEach {
			ghost, gkeys := survMint(t, survDraft("electronics", "never published", time.Now()))
			c, err := intent.NewCancel(ghost, gkeys, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			junk = append(junk, survBad{"cancel of an unknown intent", topic, c.Raw, false})
		}
		sent += len(junk)
		var i atomic.Int64
		a.run(t.Context(), &flooders, rate, &on, func() (string, []byte, bool) {
			k := int(i.Add(1) - 1)
			if k >= len(junk) {
				return "", nil, false
			}
			return junk[k].topic, junk[k].raw, true
		})
	}
	flooders.Wait()
	// Every cancel the node validated was ignored (unknown intent); wait
	// until most were (a few may be lost in queues under the flood).
	eventually(t, 60*time.Second, "the junk cancels are validated", func() bool {
		return rejects.count(pubsub.RejectValidationIgnored)-ignoredBefore >= sent*8/10
	})
	held := n.pending.size()
	if held > 1+len(attackers)*pendingPerPeer {
		t.Errorf("%d cancels held after the junk: more than the genuine one and %d per attacker", held, pendingPerPeer)
	}

	honest.send(t.Context(), topic, in.Raw)
	eventually(t, 10*time.Second, "the genuine cancel withdraws its intent", func() bool { return hasTombstone(n, in.ID) })
	tomb, err := n.tombstone(t.Context(), in.ID)
	if err != nil || !bytes.Equal(tomb.Raw, genuine.Raw) {
		t.Fatalf("tombstone %v, %v: not the genuine cancel", tomb.Raw, err)
	}
	if isLive(n, in.ID) {
		t.Fatal("the withdrawn intent is live")
	}
	t.Logf("%d junk cancels from %d peers (%d validated as ignorable); %d held at most, the genuine one applied",
		sent, len(attackers), rejects.count(pubsub.RejectValidationIgnored)-ignoredBefore, held)
}
