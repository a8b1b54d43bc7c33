package node

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// TestRestartRefusesReplaysOfStoredMessages checks the replay index after a
// crash. Replay entries are written behind (replay.go, flushEvery), while
// what the API acknowledges (own intents, cancels, accepts, deals) and what
// a customer's node opens (received offers) is written at once; a SIGKILL
// between the two leaves a store that holds a message but not its replay
// entry. The test builds exactly that store (a real run, then every replay
// entry pruned away) and restarts the node on it: every message the store
// holds must still be refused, and in particular a replayed offer must not
// overwrite the record of the offer the customer accepted.
// cmd/intentcast's TestCrashLoop shows the same with SIGKILLed daemons.
func TestRestartRefusesReplaysOfStoredMessages(t *testing.T) {
	ccfg, vcfg := nodeConfig(t), nodeConfig(t)
	customer := startNode(t, ccfg)
	vcfg.Bootstrap = addrsOf(customer)
	vendor := startNode(t, vcfg)
	awaitNodeMeshes(t, []*Node{customer, vendor})

	now := time.Now()
	accepted, err := customer.Publish(t.Context(), laptopDraft(now), nil)
	if err != nil {
		t.Fatal(err)
	}
	cancelled, err := customer.Publish(t.Context(), laptopDraft(now), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "vendor knows the intent", func() bool { return isLive(vendor, accepted.ID) })
	sealed, err := vendor.SendOffer(t.Context(), accepted.ID, intent.OfferDraft{Price: 99000})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "customer opens the offer", func() bool {
		o, err := customer.store.Offer(t.Context(), sealed.ID)
		return err == nil && o.Status == store.OfferValid
	})
	deal, err := customer.Accept(t.Context(), accepted.ID, sealed.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := customer.Cancel(t.Context(), cancelled.ID); err != nil {
		t.Fatal(err)
	}
	own, err := customer.store.OwnIntent(t.Context(), cancelled.ID)
	if err != nil || len(own.CancelRaw) == 0 {
		t.Fatalf("cancelled intent: %v", err)
	}
	cancelRaw := own.CancelRaw
	if err := customer.Close(); err != nil {
		t.Fatal(err)
	}

	// The crash image: every replay entry (and, with them, the relayed live
	// intents and tombstones) lost; what was written at once is there.
	s, err := store.Open(filepath.Join(ccfg.DataDir, StoreFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Prune(t.Context(), now.Add(365*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []intent.ID{accepted.ID, sealed.ID, deal.Accept.ID} {
		if seen, err := s.Seen(t.Context(), id); err != nil || seen {
			t.Fatalf("crash image still has replay entry %s (%v)", id.Short(), err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	ccfg.Bootstrap = nil
	customer = startNode(t, ccfg)
	for _, m := range []struct {
		what   string
		offers bool
		raw    []byte
	}{
		{"own intent", false, accepted.Raw},
		{"own cancel", false, cancelRaw},
		{"received (and accepted) offer", true, sealed.Raw},
		{"own accept", true, deal.Accept.Raw},
	} {
		_, err := customer.check(t.Context(), "electronics", m.offers, m.raw)
		if verdict(err) != pubsub.ValidationIgnore {
			t.Errorf("replayed %s after the crash: %v (verdict %v), want it ignored", m.what, err, verdict(err))
		}
		// The intent must be refused as a replay. Both intents are closed
		// (accepted, cancelled) and out of the live set, so what names
		// them is unknown.
		want := errUnknown
		if m.what == "own intent" {
			want = errReplay
		}
		if !errors.Is(err, want) {
			t.Errorf("replayed %s after the crash: %v, want %v", m.what, err, want)
		}
	}
	o, err := customer.store.Offer(t.Context(), sealed.ID)
	if err != nil || o.Status != store.OfferAccepted || len(o.AcceptRaw) == 0 {
		t.Fatalf("accepted offer after the replays: status %q, accept %d bytes (%v); want accepted", o.Status, len(o.AcceptRaw), err)
	}
}

// TestCancelAndAcceptRace cancels and accepts the same intent at once, many
// times: at most one of the two may succeed, and the stored state must be
// the one that did (cmd/intentcast's TestCrashLoop once lost an
// acknowledged cancel this way: an Accept that had read the intent as open
// overwrote it).
func TestCancelAndAcceptRace(t *testing.T) {
	ccfg, vcfg := nodeConfig(t), nodeConfig(t)
	ccfg.DisableStem, vcfg.DisableStem = true, true
	customer := startNode(t, ccfg)
	vcfg.Bootstrap = addrsOf(customer)
	vendor := startNode(t, vcfg)
	awaitNodeMeshes(t, []*Node{customer, vendor})

	const rounds = 20
	type pair struct{ in, offer intent.ID }
	var pairs []pair
	for k := range rounds {
		in, err := customer.Publish(t.Context(), survDraft("electronics", fmt.Sprintf("race %d", k), time.Now()), nil)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, 10*time.Second, "vendor knows the intent", func() bool { return isLive(vendor, in.ID) })
		sealed, err := vendor.SendOffer(t.Context(), in.ID, intent.OfferDraft{Price: 1000})
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, pair{in.ID, sealed.ID})
	}
	for _, p := range pairs {
		eventually(t, 10*time.Second, "customer opens the offer", func() bool {
			o, err := customer.store.Offer(t.Context(), p.offer)
			return err == nil && o.Status == store.OfferValid
		})
	}
	var cancels, accepts int
	for k, p := range pairs {
		var cerr, aerr error
		var wg sync.WaitGroup
		start := make(chan struct{})
		cancel := func() { <-start; cerr = customer.Cancel(t.Context(), p.in) }
		accept := func() { <-start; _, aerr = customer.Accept(t.Context(), p.in, p.offer, nil) }
		if k%2 == 0 {
			cancel, accept = accept, cancel // who is scheduled first
		}
		wg.Go(cancel)
		wg.Go(accept)
		close(start)
		wg.Wait()
		own, err := customer.store.OwnIntent(t.Context(), p.in)
		if err != nil {
			t.Fatal(err)
		}
		_, dealErr := customer.store.Deal(t.Context(), p.in)
		switch {
		case cerr == nil && aerr == nil:
			t.Errorf("intent %s: both the cancel and the accept succeeded; stored state %s", p.in.Short(), own.State)
		case cerr == nil:
			cancels++
			if own.State != store.IntentCancelled || !errors.Is(aerr, ErrIntentState) || dealErr == nil {
				t.Errorf("intent %s: the cancel succeeded, the accept said %v; stored state %s, deal %v", p.in.Short(), aerr, own.State, dealErr)
			}
		case aerr == nil:
			accepts++
			if own.State != store.IntentAccepted || !errors.Is(cerr, ErrIntentState) || dealErr != nil {
				t.Errorf("intent %s: the accept succeeded, the cancel said %v; stored state %s, deal %v", p.in.Short(), cerr, own.State, dealErr)
			}
		default:
			t.Errorf("intent %s: neither succeeded: cancel %v, accept %v", p.in.Short(), cerr, aerr)
		}
	}
	t.Logf("%d races: the cancel won %d, the accept %d", rounds, cancels, accepts)
}
