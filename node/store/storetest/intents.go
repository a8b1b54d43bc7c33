package storetest

import (
	"errors"
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
	in, err := s.LiveIntent(ctx, idOf("home-expired"))
	must(t, err)
	same(t, "an expired but unpruned intent", in, liveIntent("home-expired", "home", t0.Add(-4*time.Minute), t0.Add(-time.Nanosecond)))
}

// testLiveIntentReplace replaces a live intent with a different category and
// expiry: it must leave its old place in every query.
func testLiveIntentReplace(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.PutLiveIntent(ctx, liveIntent("moving", "home", t0, t0.Add(time.Hour))))
	moved := liveIntent("moving", "travel", t0.Add(time.Minute), t0.Add(2*time.Hour))
	must(t, s.PutLiveIntent(ctx, moved))

	now, err := s.LiveIntents(ctx, t0)
	must(t, err)
	checkOrder(t, "LiveIntents", now, liveID, moved.ID)
	same(t, "replaced intent", now[0], moved)
	later, err := s.LiveIntents(ctx, t0.Add(90*time.Minute))
	must(t, err)
	checkOrder(t, "LiveIntents after the old expiry", later, liveID, moved.ID)
}

// testTombstoneDeletesLiveIntent cancels a live intent: the tombstone
// replaces it everywhere.
func testTombstoneDeletesLiveIntent(t *testing.T, s store.Store) {
	ctx := t.Context()
	must(t, s.PutLiveIntent(ctx, liveIntent("doomed", "home", t0, t0.Add(time.Hour))))
	must(t, s.PutLiveIntent(ctx, liveIntent("kept", "home", t0.Add(time.Second), t0.Add(time.Hour))))
	must(t, s.PutTombstone(ctx, tombstone("doomed", "home", t0.Add(time.Hour))))

	if _, err := s.LiveIntent(ctx, idOf("doomed")); !errors.Is(err, store.ErrNotFound) {
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
	if _, err := s.LiveIntent(ctx, idOf("cancelled")); !errors.Is(err, store.ErrNotFound) {
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
