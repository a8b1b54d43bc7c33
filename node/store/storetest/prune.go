package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// testPrune fills every kind of record, prunes, and checks the count, what
// went and what stayed: records expiring exactly at now stay, and records
// without an expiry (own intents, offers, deals) are never pruned.
func testPrune(t *testing.T, s store.Store) {
	ctx := t.Context()
	past, future := t0.Add(-time.Second), t0.Add(time.Hour)
	must(t, s.PutLiveIntent(ctx, liveIntent("live-past-1", "home", t0.Add(-4*time.Minute), past)))
	must(t, s.PutLiveIntent(ctx, liveIntent("live-past-2", "travel", t0.Add(-3*time.Minute), past.Add(-time.Hour))))
	must(t, s.PutLiveIntent(ctx, liveIntent("live-now", "home", t0.Add(-2*time.Minute), t0)))
	must(t, s.PutLiveIntent(ctx, liveIntent("live-future", "home", t0.Add(-time.Minute), future)))
	must(t, s.PutTombstone(ctx, tombstone("tomb-past", "home", past)))
	must(t, s.PutTombstone(ctx, tombstone("tomb-future", "home", future)))
	for name, until := range map[string]time.Time{"seen-past-1": past, "seen-past-2": past, "seen-now": t0, "seen-future": future} {
		_, err := s.MarkSeen(ctx, idOf(name), until)
		must(t, err)
	}
	// Long expired, and not to be touched.
	must(t, s.PutOwnIntent(ctx, ownIntent("own", t0.Add(-48*time.Hour))))
	must(t, s.PutOffer(ctx, offer("offer", "live-past-1", store.Received, t0.Add(-48*time.Hour))))
	must(t, s.PutDeal(ctx, deal("live-past-1", "offer", t0.Add(-48*time.Hour))))

	n, err := s.Prune(ctx, t0)
	must(t, err)
	if n != 5 {
		t.Errorf("Prune = %d, want 5 (2 live intents, 1 tombstone, 2 replay entries)", n)
	}
	if n, err := s.Prune(ctx, t0); n != 0 || err != nil {
		t.Errorf("second Prune = %d, %v; want 0, nil", n, err)
	}

	tests := []struct {
		name string
		get  func() error
		gone bool
	}{
		{"live-past-1", func() error { _, err := storedLive(ctx, s, idOf("live-past-1")); return err }, true},
		{"live-past-2", func() error { _, err := storedLive(ctx, s, idOf("live-past-2")); return err }, true},
		{"live-now", func() error { _, err := storedLive(ctx, s, idOf("live-now")); return err }, false},
		{"live-future", func() error { _, err := storedLive(ctx, s, idOf("live-future")); return err }, false},
		{"tomb-past", func() error { _, err := s.Tombstone(ctx, idOf("tomb-past")); return err }, true},
		{"tomb-future", func() error { _, err := s.Tombstone(ctx, idOf("tomb-future")); return err }, false},
		{"seen-past-1", seenErr(t, s, "seen-past-1"), true},
		{"seen-past-2", seenErr(t, s, "seen-past-2"), true},
		{"seen-now", seenErr(t, s, "seen-now"), false},
		{"seen-future", seenErr(t, s, "seen-future"), false},
		{"own", func() error { _, err := s.OwnIntent(ctx, idOf("own")); return err }, false},
		{"offer", func() error { _, err := s.Offer(ctx, idOf("offer")); return err }, false},
		{"deal", func() error { _, err := s.Deal(ctx, idOf("live-past-1")); return err }, false},
	}
	for _, tc := range tests {
		err := tc.get()
		switch {
		case tc.gone && !errors.Is(err, store.ErrNotFound):
			t.Errorf("%s after Prune: got %v, want ErrNotFound", tc.name, err)
		case !tc.gone && err != nil:
			t.Errorf("%s after Prune: got %v, want it kept", tc.name, err)
		}
	}

	// The pruned entries are gone from the indexes too.
	live, err := s.LiveIntents(ctx, t0.Add(-48*time.Hour))
	must(t, err)
	checkOrder(t, "LiveIntents after Prune", live, liveID, idOf("live-now"), idOf("live-future"))
	tombs, err := s.Tombstones(ctx, "home", t0.Add(-48*time.Hour))
	must(t, err)
	checkOrder(t, "Tombstones after Prune", tombs, tombID, idOf("tomb-future"))
}

// seenErr adapts Seen to the getter shape of testPrune's table: ErrNotFound
// if the ID is not in the replay index.
func seenErr(t *testing.T, s store.Store, name string) func() error {
	return func() error {
		seen, err := s.Seen(t.Context(), idOf(name))
		if err == nil && !seen {
			return store.ErrNotFound
		}
		return err
	}
}
