package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// testOwnIntentsNewestFirst checks the order of OwnIntents, including after
// a replace that moves an intent's Created.
func testOwnIntentsNewestFirst(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, in := range []store.OwnIntent{
		ownIntent("own-b", t0.Add(time.Hour)),
		ownIntent("own-a", t0),
		ownIntent("own-c", t0.Add(2*time.Hour)),
	} {
		must(t, s.PutOwnIntent(ctx, in))
	}
	list, err := s.OwnIntents(ctx)
	must(t, err)
	checkOrder(t, "OwnIntents", list, ownID, idOf("own-c"), idOf("own-b"), idOf("own-a"))
	same(t, "OwnIntents[0]", list[0], ownIntent("own-c", t0.Add(2*time.Hour)))

	cancelled := ownIntent("own-a", t0.Add(3*time.Hour))
	cancelled.State = store.IntentCancelled
	cancelled.CancelRaw = []byte("cancel own-a")
	must(t, s.PutOwnIntent(ctx, cancelled))
	list, err = s.OwnIntents(ctx)
	must(t, err)
	checkOrder(t, "OwnIntents after replacing own-a", list, ownID, idOf("own-a"), idOf("own-c"), idOf("own-b"))
	same(t, "replaced own-a", list[0], cancelled)
}

// testLiveIntentsFilter checks LiveIntents' expiry boundary and its order
// (by Received, whatever the category).
func testLiveIntentsFilter(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Received order deliberately differs from expiry order and put order.
	for _, in := range []store.LiveIntent{
		liveIntent("home-late", "home", t0.Add(-1*time.Minute), t0.Add(time.Hour)),
		liveIntent("home-early", "home", t0.Add(-3*time.Minute), t0.Add(3*time.Hour)),
		liveIntent("home-at-now", "home", t0.Add(-2*time.Minute), t0),
		liveIntent("home-expired", "home", t0.Add(-4*time.Minute), t0.Add(-time.Nanosecond)),
		liveIntent("homes", "homes", t0.Add(-5*time.Minute), t0.Add(time.Hour)),
		liveIntent("travel", "travel", t0.Add(-6*time.Minute), t0.Add(2*time.Hour)),
	} {
		must(t, s.PutLiveIntent(ctx, in))
	}
	tests := []struct {
		now  time.Time
		want []string
	}{
		{t0, []string{"travel", "homes", "home-early", "home-at-now", "home-late"}},
		{t0.Add(time.Nanosecond), []string{"travel", "homes", "home-early", "home-late"}},
		{t0.Add(-time.Hour), []string{"travel", "homes", "home-expired", "home-early", "home-at-now", "home-late"}},
		{t0.Add(150 * time.Minute), []string{"home-early"}},
		{t0.Add(4 * time.Hour), nil},
	}
	for _, tc := range tests {
		list, err := s.LiveIntents(ctx, tc.now)
		must(t, err)
		want := make([]store.ID, len(tc.want))
		for i, n := range tc.want {
			want[i] = idOf(n)
		}
		checkOrder(t, "LiveIntents("+tc.now.Sub(t0).String()+" after t0)", list, liveID, want...)
	}
	in, err := storedLive(ctx, s, idOf("home-expired"))
	must(t, err)
	same(t, "an expired but unpruned intent", in, liveIntent("home-expired", "home", t0.Add(-4*time.Minute), t0.Add(-time.Nanosecond)))
}

// testLiveIntentReplace puts a live intent again with another category and
// received time (its ID, and so its expiry, unchanged): one record, the
// later, before and after a Prune that spares it.
func testLiveIntentReplace(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.PutLiveIntent(ctx, liveIntent("again", "home", t0, t0.Add(time.Hour))))
	again := liveIntent("again", "travel", t0.Add(time.Minute), t0.Add(time.Hour))
	must(t, s.PutLiveIntent(ctx, again))

	for _, prune := range []bool{false, true} {
		if prune {
			if n, err := s.Prune(ctx, t0.Add(time.Minute)); n != 0 || err != nil {
				t.Errorf("Prune before the expiry = %d, %v; want 0, nil", n, err)
			}
		}
		list, err := s.LiveIntents(ctx, t0)
		must(t, err)
		checkOrder(t, fmt.Sprintf("LiveIntents (pruned: %v)", prune), list, liveID, again.ID)
		if len(list) == 1 {
			same(t, "replaced intent", list[0], again)
		}
	}
}

// testTombstoneDeletesLiveIntent cancels a live intent: the tombstone
// replaces it everywhere.
func testTombstoneDeletesLiveIntent(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.PutLiveIntent(ctx, liveIntent("doomed", "home", t0, t0.Add(time.Hour))))
	must(t, s.PutLiveIntent(ctx, liveIntent("kept", "home", t0.Add(time.Second), t0.Add(time.Hour))))
	must(t, s.PutTombstone(ctx, tombstone("doomed", "home", t0.Add(time.Hour))))

	if _, err := storedLive(ctx, s, idOf("doomed")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LiveIntent of a cancelled intent: got %v, want ErrNotFound", err)
	}
	list, err := s.LiveIntents(ctx, t0)
	must(t, err)
	checkOrder(t, "LiveIntents after a cancel", list, liveID, idOf("kept"))
	tomb, err := s.Tombstone(ctx, idOf("doomed"))
	must(t, err)
	same(t, "tombstone", tomb, tombstone("doomed", "home", t0.Add(time.Hour)))
}

// testTombstoneBlocksLiveIntent re-delivers a cancelled intent: the put is
// a silent no-op.
func testTombstoneBlocksLiveIntent(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.PutTombstone(ctx, tombstone("cancelled", "home", t0.Add(time.Hour))))
	if err := s.PutLiveIntent(ctx, liveIntent("cancelled", "home", t0, t0.Add(time.Hour))); err != nil {
		t.Fatalf("PutLiveIntent of a cancelled intent = %v, want nil (a no-op)", err)
	}
	if _, err := storedLive(ctx, s, idOf("cancelled")); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("LiveIntent of a cancelled intent: got %v, want ErrNotFound", err)
	}
	list, err := s.LiveIntents(ctx, t0)
	must(t, err)
	checkOrder(t, "LiveIntents", list, liveID)
}

// testTombstonesFilter checks Tombstones' category filter, expiry boundary
// and order (soonest expiry first).
func testTombstonesFilter(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, tomb := range []store.Tombstone{
		tombstone("home-late", "home", t0.Add(2*time.Hour)),
		tombstone("home-at-now", "home", t0),
		tombstone("home-expired", "home", t0.Add(-time.Nanosecond)),
		tombstone("homes", "homes", t0.Add(time.Hour)),
		tombstone("travel", "travel", t0.Add(3*time.Hour)),
	} {
		must(t, s.PutTombstone(ctx, tomb))
	}
	tests := []struct {
		category string
		now      time.Time
		want     []string
	}{
		{"home", t0, []string{"home-at-now", "home-late"}},
		{"home", t0.Add(-time.Hour), []string{"home-expired", "home-at-now", "home-late"}},
		{"homes", t0, []string{"homes"}},
		{"", t0, []string{"home-at-now", "homes", "home-late", "travel"}},
		{"", t0.Add(150 * time.Minute), []string{"travel"}},
	}
	for _, tc := range tests {
		list, err := s.Tombstones(ctx, tc.category, tc.now)
		must(t, err)
		want := make([]store.ID, len(tc.want))
		for i, n := range tc.want {
			want[i] = idOf(n)
		}
		checkOrder(t, "Tombstones("+tc.category+", "+tc.now.Sub(t0).String()+" after t0)", list, tombID, want...)
	}
}
