package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// TestRestartRejoinsUnpenalised: a customer's node, in every category (30
// topics, as a daemon runs by default), is closed cleanly and started again
// with the same identity and data after a pause. Its peers must not score
// it below zero, its new intent must reach every vendor, and their offers
// must come back valid. Before, closing PRUNEd every topic, which starts a
// backoff at each mesh peer; the restarted node grafted into it on all 30
// topics and was penalised below the graylist threshold for minutes
// (issue 11, clean restart).
//
// Quick: restarted 1 s after closing; INTENTCAST_LONG=1 also 30 s and 70 s.
func TestRestartRejoinsUnpenalised(t *testing.T) {
	pauses := []time.Duration{time.Second}
	if survLong() {
		pauses = append(pauses, 30*time.Second, 70*time.Second)
	}
	for _, pause := range pauses {
		t.Run(fmt.Sprint(pause), func(t *testing.T) { testRejoin(t, pause) })
	}
}

func testRejoin(t *testing.T, pause time.Duration) {
	const vendorsN = 3
	vendors := make([]*Node, vendorsN)
	boards := make([]*survScores, vendorsN)
	for i := range vendors {
		cfg := nodeConfig(t)
		cfg.Categories = nil // all of them
		cfg.Logger = survQuietLogger(t)
		cfg.Vendor = intent.Vendor{Name: fmt.Sprintf("vendor %d", i)}
		for _, j := range []int{i - 1, i - 2} {
			if j >= 0 {
				cfg.Bootstrap = append(cfg.Bootstrap, addrsOf(vendors[j])...)
			}
		}
		boards[i] = newSurvScores()
		cfg.OnPeerScores = boards[i].update
		vendors[i] = startNode(t, cfg)
	}
	key, _, err := crypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	ccfg := nodeConfig(t)
	ccfg.Categories = nil
	ccfg.Logger = survQuietLogger(t)
	ccfg.PrivKey = key
	ccfg.Bootstrap = addrsOf(vendors...)
	customer := startNode(t, ccfg)
	awaitNodeMeshes(t, append([]*Node{customer}, vendors...))

	if err := customer.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(pause) // the scenario: how long the node is down
	customer = startNode(t, ccfg)
	restarted := time.Now()
	awaitNodeMeshes(t, append([]*Node{customer}, vendors...))

	events := customer.Subscribe()
	defer events.Close()
	in, err := customer.Publish(t.Context(), survDraft("electronics", "after a restart", time.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "every vendor sees the intent", func() bool {
		for _, v := range vendors {
			if !isLive(v, in.ID) {
				return false
			}
		}
		return true
	})
	want := map[intent.ID]bool{}
	for i, v := range vendors {
		s, err := v.SendOffer(t.Context(), in.ID, intent.OfferDraft{Price: uint64(100000 + i)})
		if err != nil {
			t.Fatalf("vendor %d: %v", i, err)
		}
		want[s.ID] = true
	}
	deadline := time.After(patience) // a bound on loss; the round trip is logged below
	for got := 0; got < vendorsN; {
		select {
		case e, ok := <-events.C:
			if !ok {
				t.Fatal("the customer's event stream dropped the test")
			}
			if e.Kind == EventOffer && want[e.OfferID] {
				if e.Status != string(store.OfferValid) {
					t.Errorf("offer %s shown as %s: %s", e.OfferID.Short(), e.Status, e.Reason)
				}
				got++
			}
		case <-deadline:
			t.Fatalf("after %v the customer has %d of the %d offers", patience, got, vendorsN)
		}
	}
	roundTrip := time.Since(restarted)
	var scores []string
	for i, b := range boards {
		latest, lowest, gray, known := b.get(customer.ID())
		if !known {
			t.Errorf("vendor %d never scored the customer", i)
			continue
		}
		if lowest < 0 || !gray.IsZero() {
			t.Errorf("vendor %d scored the restarted customer down to %v (now %v, graylisted %v)", i, lowest, latest, !gray.IsZero())
		}
		scores = append(scores, fmt.Sprintf("%.2f (lowest %.2f)", latest, lowest))
	}
	t.Logf("restarted %v after closing; its intent and 3 offers made the round trip %v after the restart; the vendors score it %v",
		pause, roundTrip.Round(time.Millisecond), scores)
}
