package node

import (
	"testing"
	"time"
)

// TestOriginFailSafeDelay: an origin sets its fail-safe timers from the
// same distribution as every relay (failSafeDelay: half the timeout plus an
// exponential draw with a mean of half of it, so 63% of them fall below the
// timeout). Before, the origin waited the timeout plus up to half of it,
// never less, and relays under the timeout: the first node to publish a
// lost message told which it was (issue 11, stem fail-safe).
// TestStemFailSafeDelay checks the distribution; this checks the origin
// uses it. The timers are read as set, not waited for.
func TestOriginFailSafeDelay(t *testing.T) {
	s1 := startNode(t, nodeConfig(t))
	ocfg := nodeConfig(t)
	ocfg.Bootstrap = addrsOf(s1)
	ocfg.StemTimeout = time.Hour // no timer fires while the test runs
	origin := startNode(t, ocfg)
	all := []*Node{s1, origin}
	awaitNodeMeshes(t, all)
	awaitStemPeers(t, all)

	// With the one distribution, all of 30 timers at or above the timeout
	// has a chance of 0.37^30, about 1e-13.
	const publishes = 30
	below := 0
	for range publishes {
		start := time.Now()
		in, err := origin.Publish(t.Context(), laptopDraft(time.Now()), nil)
		if err != nil {
			t.Fatal(err)
		}
		e := origin.stem.ownEntry(in.ID)
		if e == nil {
			t.Fatal("the own intent is not in its stem phase")
		}
		origin.stem.mu.Lock()
		d := e.due.Sub(start)
		origin.stem.mu.Unlock()
		if d < ocfg.StemTimeout/2 {
			t.Fatalf("the origin's timer is %v, below half the timeout", d)
		}
		if d < ocfg.StemTimeout {
			below++
		}
	}
	if below == 0 {
		t.Fatalf("none of %d origin fail-safe timers fell below the timeout: the origin does not draw from failSafeDelay like relays", publishes)
	}
	t.Logf("%d of %d origin timers below the timeout (63%% expected)", below, publishes)
}
