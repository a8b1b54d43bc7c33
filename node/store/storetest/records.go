package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// testRoundTrip writes one record of every kind, in full and in a minimal
// form (zero times, nil bytes), and reads each back unchanged.
func testRoundTrip(t *testing.T, s store.Store) {
	ctx := t.Context()

	full := ownIntent("own-full", t0)
	full.State = store.IntentAccepted
	full.CancelRaw = []byte("cancel")
	full.AcceptedOffer = idOf("offer-x")
	refused := offer("offer-refused", "intent-a", store.Received, t0)
	refused.Status = store.OfferRefused
	refused.Reason = "price over ceiling"
	accepted := offer("offer-accepted", "intent-a", store.Sent, t0)
	accepted.Status = store.OfferAccepted
	accepted.AcceptRaw = []byte("accept")
	vendorDeal := deal("intent-v", "offer-v", t0)
	vendorDeal.Role = store.RoleVendor

	tests := []struct {
		name string
		put  func(context.Context) error
		get  func(context.Context) (any, error)
		want any
	}{
		{"OwnIntent", ownPut(s, full), ownGet(s, full.ID), full},
		{"OwnIntentMinimal", ownPut(s, store.OwnIntent{ID: idOf("own-min"), State: store.IntentOpen}),
			ownGet(s, idOf("own-min")), store.OwnIntent{ID: idOf("own-min"), State: store.IntentOpen}},
		{"OwnIntentFarFuture", ownPut(s, ownIntent("own-far", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC))),
			ownGet(s, idOf("own-far")), ownIntent("own-far", time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC))},
		{"LiveIntent",
			func(ctx context.Context) error {
				return s.PutLiveIntent(ctx, liveIntent("live", "home", t0, t0.Add(time.Hour)))
			},
			func(ctx context.Context) (any, error) { return storedLive(ctx, s, idOf("live")) },
			liveIntent("live", "home", t0, t0.Add(time.Hour))},
		{"Tombstone",
			func(ctx context.Context) error { return s.PutTombstone(ctx, tombstone("tomb", "home", t0)) },
			func(ctx context.Context) (any, error) { return s.Tombstone(ctx, idOf("tomb")) },
			tombstone("tomb", "home", t0)},
		{"OfferRefused",
			func(ctx context.Context) error { return s.PutOffer(ctx, refused) },
			func(ctx context.Context) (any, error) { return s.Offer(ctx, refused.ID) },
			refused},
		{"OfferAccepted",
			func(ctx context.Context) error { return s.PutOffer(ctx, accepted) },
			func(ctx context.Context) (any, error) { return s.Offer(ctx, accepted.ID) },
			accepted},
		{"Deal",
			func(ctx context.Context) error { return s.PutDeal(ctx, vendorDeal) },
			func(ctx context.Context) (any, error) { return s.Deal(ctx, vendorDeal.IntentID) },
			vendorDeal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			must(t, tc.put(ctx))
			got, err := tc.get(ctx)
			must(t, err)
			same(t, tc.name, got, tc.want)
		})
	}
}

func ownPut(s store.Store, in store.OwnIntent) func(context.Context) error {
	return func(ctx context.Context) error { return s.PutOwnIntent(ctx, in) }
}

func ownGet(s store.Store, id store.ID) func(context.Context) (any, error) {
	return func(ctx context.Context) (any, error) { return s.OwnIntent(ctx, id) }
}

// testNotFound asks every single-record getter for a record that is not
// there.
func testNotFound(t *testing.T, s store.Store) {
	ctx := t.Context()
	missing := idOf("missing")
	tests := []struct {
		name string
		get  func() error
	}{
		{"OwnIntent", func() error { _, err := s.OwnIntent(ctx, missing); return err }},
		{"Tombstone", func() error { _, err := s.Tombstone(ctx, missing); return err }},
		{"Offer", func() error { _, err := s.Offer(ctx, missing); return err }},
		{"Deal", func() error { _, err := s.Deal(ctx, missing); return err }},
	}
	for _, tc := range tests {
		if err := tc.get(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of a missing record: got %v, want ErrNotFound", tc.name, err)
		}
	}
	if seen, err := s.Seen(ctx, missing); err != nil || seen {
		t.Errorf("Seen of an unknown ID = %v, %v; want false, nil", seen, err)
	}
}

// testEmptyLists lists everything in an empty store: no records, no error.
func testEmptyLists(t *testing.T, s store.Store) {
	ctx := t.Context()
	tests := []struct {
		name string
		list func() (int, error)
	}{
		{"OwnIntents", func() (int, error) { l, err := s.OwnIntents(ctx); return len(l), err }},
		{"LiveIntents", func() (int, error) { l, err := s.LiveIntents(ctx, t0); return len(l), err }},
		{"Tombstones", func() (int, error) { l, err := s.Tombstones(ctx, "", t0); return len(l), err }},
		{"Offers", func() (int, error) { l, err := s.Offers(ctx, idOf("intent")); return len(l), err }},
		{"OffersByDirection", func() (int, error) { l, err := s.OffersByDirection(ctx, store.Received); return len(l), err }},
		{"Deals", func() (int, error) { l, err := s.Deals(ctx); return len(l), err }},
		{"Prune", func() (int, error) { return s.Prune(ctx, t0) }},
	}
	for _, tc := range tests {
		if n, err := tc.list(); n != 0 || err != nil {
			t.Errorf("%s on an empty store = %d, %v; want 0, nil", tc.name, n, err)
		}
	}
}

// testInvalid puts records with enum fields outside their values: each is
// refused with ErrInvalid and leaves nothing behind.
func testInvalid(t *testing.T, s store.Store) {
	ctx := t.Context()
	badState := ownIntent("bad-state", t0)
	badState.State = ""
	badDirection := offer("bad-direction", "intent", "inbound", t0)
	badStatus := offer("bad-status", "intent", store.Received, t0)
	badStatus.Status = "maybe"
	badRole := deal("bad-role", "offer", t0)
	badRole.Role = "broker"

	tests := []struct {
		name string
		put  func() error
		get  func() error
	}{
		{"OwnIntentState",
			func() error { return s.PutOwnIntent(ctx, badState) },
			func() error { _, err := s.OwnIntent(ctx, badState.ID); return err }},
		{"OfferDirection",
			func() error { return s.PutOffer(ctx, badDirection) },
			func() error { _, err := s.Offer(ctx, badDirection.ID); return err }},
		{"OfferStatus",
			func() error { return s.PutOffer(ctx, badStatus) },
			func() error { _, err := s.Offer(ctx, badStatus.ID); return err }},
		{"DealRole",
			func() error { return s.PutDeal(ctx, badRole) },
			func() error { _, err := s.Deal(ctx, badRole.IntentID); return err }},
	}
	for _, tc := range tests {
		if err := tc.put(); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%s: put = %v, want ErrInvalid", tc.name, err)
		}
		if err := tc.get(); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: after a refused put, get = %v, want ErrNotFound", tc.name, err)
		}
	}
}
