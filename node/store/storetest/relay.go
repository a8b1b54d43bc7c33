package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

func relayedOffer(name, intentName, category string, expires time.Time) store.RelayedOffer {
	return store.RelayedOffer{
		ID:       idOf(name),
		IntentID: idOf(intentName),
		Category: category,
		Raw:      []byte("sealed " + name),
		Expires:  expires,
		Kept:     t0.Add(-time.Minute),
	}
}

// testRelayedOffers: Apply stores relayed offers (but not for an intent with
// a tombstone), RelayedOffers lists the unexpired ones of a category or of
// all, soonest expiry first, and Prune deletes the expired ones.
func testRelayedOffers(t *testing.T, s store.Store) {
	ctx := t.Context()
	past, soon, later := t0.Add(-time.Second), t0.Add(time.Minute), t0.Add(time.Hour)
	must(t, s.PutTombstone(ctx, tombstone("closed", "home", later)))
	b := store.Batch{Relay: []store.RelayedOffer{
		relayedOffer("r-later", "i1", "home", later),
		relayedOffer("r-soon", "i2", "home", soon),
		relayedOffer("r-now", "i2", "home", t0),
		relayedOffer("r-past", "i1", "home", past),
		relayedOffer("r-travel", "i3", "travel", later),
		relayedOffer("r-closed", "closed", "home", later),
	}}
	must(t, s.Apply(ctx, b))
	names := func(list []store.RelayedOffer) []string {
		var out []string
		for _, o := range list {
			out = append(out, nameOf(o.ID))
		}
		return out
	}
	home, err := s.RelayedOffers(ctx, "home", t0)
	must(t, err)
	if got, want := names(home), []string{"r-now", "r-soon", "r-later"}; !slices.Equal(got, want) {
		t.Errorf("RelayedOffers(home) = %v, want %v", got, want)
	}
	if len(home) == 3 {
		same(t, "relayed offer", home[2], b.Relay[0])
	}
	all, err := s.RelayedOffers(ctx, "", t0)
	must(t, err)
	if got, want := names(all), []string{"r-now", "r-soon", "r-later", "r-travel"}; !slices.Equal(got[:2], want[:2]) || len(got) != 4 {
		t.Errorf("RelayedOffers(\"\") = %v, want %v (the last two in either order)", got, want)
	}
	// Unrelay deletes a displaced offer, even one written in the same
	// batch, and an ID that is not stored is no error.
	must(t, s.Apply(ctx, store.Batch{
		Relay:   []store.RelayedOffer{relayedOffer("r-displaced", "i1", "home", later)},
		Unrelay: []store.ID{idOf("r-displaced"), idOf("r-travel"), idOf("never-kept")},
	}))
	travel, err := s.RelayedOffers(ctx, "travel", t0)
	must(t, err)
	if got := names(travel); len(got) != 0 {
		t.Errorf("after Unrelay, RelayedOffers(travel) = %v, want none", got)
	}
	n, err := s.Prune(ctx, t0)
	must(t, err)
	if n != 1 {
		t.Errorf("Prune = %d, want 1 (r-past)", n)
	}
	after, err := s.RelayedOffers(ctx, "home", past.Add(-time.Hour))
	must(t, err)
	if got := names(after); !slices.Equal(got, []string{"r-now", "r-soon", "r-later"}) {
		t.Errorf("after Prune, RelayedOffers(home) from before = %v: r-past should be gone", got)
	}
}
