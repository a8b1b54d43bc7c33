package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// testApply checks that a batch behaves like the single calls it replaces:
// live intents land unless tombstoned, replay entries are seen, and a
// repeat keeps the later until.
func testApply(t *testing.T, s store.Store) {
	ctx := t.Context()
	cancelled := idOf("cancelled in batch")
	must(t, s.PutTombstone(ctx, store.Tombstone{IntentID: cancelled, Category: "home", Raw: []byte("c"), Expires: t0.Add(time.Hour)}))
	b := store.Batch{
		Live: []store.LiveIntent{
			{ID: idOf("batched"), Category: "home", Raw: []byte("i"), Expires: t0.Add(time.Hour), Received: t0},
			{ID: cancelled, Category: "home", Raw: []byte("i2"), Expires: t0.Add(time.Hour), Received: t0},
		},
		Seen: []store.SeenEntry{{ID: idOf("seen in batch"), Until: t0.Add(time.Hour)}},
	}
	must(t, s.Apply(ctx, b))
	if _, err := storedLive(ctx, s, idOf("batched")); err != nil {
		t.Errorf("batched live intent: %v", err)
	}
	if _, err := storedLive(ctx, s, cancelled); err == nil {
		t.Errorf("a tombstoned intent came back through a batch")
	}
	if fresh, err := s.MarkSeen(ctx, idOf("seen in batch"), t0); err != nil || fresh {
		t.Errorf("MarkSeen after Apply = %v, %v; want false, nil", fresh, err)
	}
	// A batch with an earlier until must not shorten the entry.
	must(t, s.Apply(ctx, store.Batch{Seen: []store.SeenEntry{{ID: idOf("seen in batch"), Until: t0}}}))
	if _, err := s.Prune(ctx, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if seen, err := s.Seen(ctx, idOf("seen in batch")); err != nil || !seen {
		t.Errorf("entry shortened by a batch with an earlier until: Seen = %v, %v", seen, err)
	}
}

// testApplyStateChange writes an accept as a node does (offer, own intent
// state and deal in one batch) and a cancel (tombstone), and reads every
// record back.
func testApplyStateChange(t *testing.T, s store.Store) {
	ctx := t.Context()
	own := ownIntent("accepted", t0)
	off := offer("winner", "accepted", store.Received, t0)
	must(t, s.Apply(ctx, store.Batch{Own: []store.OwnIntent{own}, Offers: []store.Offer{off}}))
	own.State, own.AcceptedOffer = store.IntentAccepted, off.ID
	off.Status, off.AcceptRaw = store.OfferAccepted, []byte("accept")
	d := deal("accepted", "winner", t0)
	must(t, s.Apply(ctx, store.Batch{Own: []store.OwnIntent{own}, Offers: []store.Offer{off}, Deals: []store.Deal{d}}))
	gotOwn, err := s.OwnIntent(ctx, own.ID)
	must(t, err)
	same(t, "own intent after the accept batch", gotOwn, own)
	gotOff, err := s.Offer(ctx, off.ID)
	must(t, err)
	same(t, "offer after the accept batch", gotOff, off)
	gotDeal, err := s.Deal(ctx, d.IntentID)
	must(t, err)
	same(t, "deal after the accept batch", gotDeal, d)

	live := liveIntent("to cancel", "home", t0, t0.Add(time.Hour))
	must(t, s.PutLiveIntent(ctx, live))
	tomb := tombstone("to cancel", "home", t0.Add(time.Hour))
	must(t, s.Apply(ctx, store.Batch{Tombstones: []store.Tombstone{tomb}, Live: []store.LiveIntent{live}}))
	if _, err := storedLive(ctx, s, live.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("live intent after a batch with its tombstone: %v; want ErrNotFound", err)
	}
	gotTomb, err := s.Tombstone(ctx, tomb.IntentID)
	must(t, err)
	same(t, "tombstone from a batch", gotTomb, tomb)
}

// testApplyAtomic checks that a batch with one invalid record writes none
// of its records.
func testApplyAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	bad := offer("bad", "intent", store.Direction("sideways"), t0)
	err := s.Apply(ctx, store.Batch{
		Own:    []store.OwnIntent{ownIntent("half", t0)},
		Offers: []store.Offer{bad},
		Deals:  []store.Deal{deal("half", "bad", t0)},
	})
	if !errors.Is(err, store.ErrInvalid) {
		t.Fatalf("Apply with an invalid direction = %v; want ErrInvalid", err)
	}
	if _, err := s.OwnIntent(ctx, idOf("half")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed batch left its own intent behind: %v", err)
	}
	if _, err := s.Deal(ctx, idOf("half")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a failed batch left its deal behind: %v", err)
	}
}

// testApplyConcurrent runs many batches at once, one of them invalid (the
// implementation may commit concurrent batches together): every valid one
// lands, the invalid one fails alone.
func testApplyConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprint("c", w, "-", i)
				b := store.Batch{
					Own:    []store.OwnIntent{ownIntent(name, t0)},
					Offers: []store.Offer{offer(name+" offer", name, store.Received, t0)},
					Deals:  []store.Deal{deal(name, name+" offer", t0)},
				}
				if w == 0 && i == each/2 {
					b.Offers[0].Status = "bogus"
				}
				errs <- s.Apply(ctx, b)
			}
		})
	}
	wg.Wait()
	close(errs)
	failed := 0
	for err := range errs {
		switch {
		case errors.Is(err, store.ErrInvalid):
			failed++
		case err != nil:
			t.Errorf("Apply: %v", err)
		}
	}
	if failed != 1 {
		t.Errorf("%d concurrent batches failed as invalid; want exactly the 1 invalid one", failed)
	}
	d, err := s.Deals(ctx)
	must(t, err)
	if len(d) != workers*each-1 {
		t.Errorf("%d deals after %d valid concurrent batches", len(d), workers*each-1)
	}
	if _, err := s.OwnIntent(ctx, idOf(fmt.Sprint("c", 0, "-", each/2))); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the invalid batch's own intent was written: %v", err)
	}
}

// testSeenEntries checks that the replay index lists its unexpired entries,
// soonest first, whichever way they were written.
func testSeenEntries(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.MarkSeen(ctx, idOf("marked"), t0.Add(2*time.Hour))
	must(t, err)
	must(t, s.Apply(ctx, store.Batch{Seen: []store.SeenEntry{
		{ID: idOf("batched"), Until: t0.Add(time.Hour)},
		{ID: idOf("expired"), Until: t0.Add(-time.Second)},
	}}))
	got, err := s.SeenEntries(ctx, t0)
	must(t, err)
	checkOrder(t, "SeenEntries", got, func(e store.SeenEntry) store.ID { return e.ID }, idOf("batched"), idOf("marked"))
	if len(got) == 2 && !got[0].Until.Equal(t0.Add(time.Hour)) {
		t.Errorf("SeenEntries until = %v; want %v", got[0].Until, t0.Add(time.Hour))
	}
}

// testQueueOrder checks Queue's promise: its batch is in the write queue
// when Queue returns, so an Apply made after it is written after it, even
// before anyone waits. A node queues its intent, sends it, and may store
// the accept of an offer to it before that wait: written the other way
// round, the intent's first record would replace the accepted one.
func testQueueOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 20 {
		own := ownIntent(fmt.Sprintf("queued %d", i), t0)
		wait := s.Queue(ctx, store.Batch{Own: []store.OwnIntent{own}})
		accepted := own
		accepted.State, accepted.AcceptedOffer = store.IntentAccepted, idOf("winner")
		must(t, s.Apply(ctx, store.Batch{Own: []store.OwnIntent{accepted}}))
		must(t, wait())
		got, err := s.OwnIntent(ctx, own.ID)
		must(t, err)
		if got.State != store.IntentAccepted {
			t.Fatalf("round %d: own intent %s after Queue(open) then Apply(accepted); want accepted: the queued batch was written after a later one", i, got.State)
		}
	}
}
