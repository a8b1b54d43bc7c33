package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// method is one call of a Store method, reduced to its error.
type method struct {
	name string
	call func(ctx context.Context) error
}

// everyMethod lists a call of every Store method but Close. The writes
// would succeed on an open store.
func everyMethod(s store.Store) []method {
	id := idOf("any")
	return []method{
		{"PutOwnIntent", func(ctx context.Context) error { return s.PutOwnIntent(ctx, ownIntent("any", t0)) }},
		{"OwnIntent", func(ctx context.Context) error { _, err := s.OwnIntent(ctx, id); return err }},
		{"OwnIntents", func(ctx context.Context) error { _, err := s.OwnIntents(ctx); return err }},
		{"PutLiveIntent", func(ctx context.Context) error {
			return s.PutLiveIntent(ctx, liveIntent("any", "home", t0, t0.Add(time.Hour)))
		}},
		{"LiveIntents", func(ctx context.Context) error { _, err := s.LiveIntents(ctx, t0); return err }},
		{"PutTombstone", func(ctx context.Context) error { return s.PutTombstone(ctx, tombstone("any", "home", t0)) }},
		{"Tombstone", func(ctx context.Context) error { _, err := s.Tombstone(ctx, id); return err }},
		{"Tombstones", func(ctx context.Context) error { _, err := s.Tombstones(ctx, "", t0); return err }},
		{"PutOffer", func(ctx context.Context) error { return s.PutOffer(ctx, offer("any", "intent", store.Sent, t0)) }},
		{"Offer", func(ctx context.Context) error { _, err := s.Offer(ctx, id); return err }},
		{"Offers", func(ctx context.Context) error { _, err := s.Offers(ctx, id); return err }},
		{"OffersByDirection", func(ctx context.Context) error { _, err := s.OffersByDirection(ctx, store.Sent); return err }},
		{"PutDeal", func(ctx context.Context) error { return s.PutDeal(ctx, deal("any", "offer", t0)) }},
		{"Deal", func(ctx context.Context) error { _, err := s.Deal(ctx, id); return err }},
		{"Deals", func(ctx context.Context) error { _, err := s.Deals(ctx); return err }},
		{"PutRating", func(ctx context.Context) error {
			return errOf(s.PutRating(ctx, rating("any", "intent", "vendor", "home", t0)))
		}},
		{"PutRatingReply", func(ctx context.Context) error { return errOf(s.PutRatingReply(ctx, id, id, []byte("reply"))) }},
		{"Rating", func(ctx context.Context) error { return errOf(s.Rating(ctx, id)) }},
		{"Ratings", func(ctx context.Context) error { return errOf(s.Ratings(ctx, "")) }},
		{"RatingsOfVendor", func(ctx context.Context) error { return errOf(s.RatingsOfVendor(ctx, id[:])) }},
		{"PutProfile", func(ctx context.Context) error {
			return errOf(s.PutProfile(ctx, store.VendorProfile{VendorKey: id, ID: id, Raw: []byte("p"), Created: t0}))
		}},
		{"Profile", func(ctx context.Context) error { return errOf(s.Profile(ctx, id)) }},
		{"Profiles", func(ctx context.Context) error { return errOf(s.Profiles(ctx)) }},
		{"MarkSeen", func(ctx context.Context) error { _, err := s.MarkSeen(ctx, id, t0); return err }},
		{"Seen", func(ctx context.Context) error { _, err := s.Seen(ctx, id); return err }},
		{"SeenEntries", func(ctx context.Context) error { _, err := s.SeenEntries(ctx, t0); return err }},
		{"Apply", func(ctx context.Context) error {
			return s.Apply(ctx, store.Batch{Own: []store.OwnIntent{ownIntent("any", t0)}})
		}},
		{"RelayedOffers", func(ctx context.Context) error { _, err := s.RelayedOffers(ctx, "home", t0); return err }},
		{"Outbox", func(ctx context.Context) error { _, err := s.Outbox(ctx); return err }},
		{"Prune", func(ctx context.Context) error { _, err := s.Prune(ctx, t0); return err }},
		{"ThreadMessage", func(ctx context.Context) error { _, err := s.ThreadMessage(ctx, id); return err }},
		{"ThreadMessages", func(ctx context.Context) error { _, err := s.ThreadMessages(ctx, id); return err }},
	}
}

// testClosed calls every method after Close: each returns ErrClosed, and
// Close itself may be called again.
func testClosed(t *testing.T, s store.Store) {
	must(t, s.Close())
	for _, m := range everyMethod(s) {
		if err := m.call(t.Context()); !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: got %v, want ErrClosed", m.name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

// testContextDone calls every method with a cancelled context and then with
// an expired one: each returns the context's error, and no write happens.
func testContextDone(t *testing.T, s store.Store) {
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	expired, cancel2 := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel2()
	for _, done := range []struct {
		ctx  context.Context
		want error
	}{
		{cancelled, context.Canceled},
		{expired, context.DeadlineExceeded},
	} {
		for _, m := range everyMethod(s) {
			if err := m.call(done.ctx); !errors.Is(err, done.want) {
				t.Errorf("%s with a done context: got %v, want %v", m.name, err, done.want)
			}
		}
	}
	ctx := t.Context()
	own, err := s.OwnIntents(ctx)
	must(t, err)
	live, err := s.LiveIntents(ctx, time.Time{})
	must(t, err)
	offers, err := s.OffersByDirection(ctx, store.Sent)
	must(t, err)
	deals, err := s.Deals(ctx)
	must(t, err)
	tombs, err := s.Tombstones(ctx, "", time.Time{})
	must(t, err)
	seen, err := s.Seen(ctx, idOf("any"))
	must(t, err)
	if len(own)+len(live)+len(offers)+len(deals)+len(tombs) != 0 || seen {
		t.Errorf("calls with a done context wrote: %d own intents, %d live intents, %d offers, %d deals, %d tombstones, seen %v",
			len(own), len(live), len(offers), len(deals), len(tombs), seen)
	}
}

// testConcurrentUse runs writers and readers of every kind at once (under
// the race detector this checks the implementation's locking), then checks
// nothing was lost.
func testConcurrentUse(t *testing.T, s store.Store) {
	ctx := t.Context()
	const workers, each = 8, 10
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				name := fmt.Sprint("w", w, "-", i)
				at := t0.Add(time.Duration(w*each+i) * time.Second)
				for _, err := range []error{
					s.PutLiveIntent(ctx, liveIntent(name, "home", at, t0.Add(time.Hour))),
					s.PutOffer(ctx, offer(name, name, store.Received, at)),
					errOf(s.LiveIntents(ctx, t0)),
					errOf(s.OffersByDirection(ctx, store.Received)),
					errOf(s.MarkSeen(ctx, idOf(name), at)),
				} {
					if err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	live, err := s.LiveIntents(ctx, t0)
	must(t, err)
	offers, err := s.OffersByDirection(ctx, store.Received)
	must(t, err)
	if len(live) != workers*each || len(offers) != workers*each {
		t.Errorf("after %d concurrent puts of each: %d live intents, %d offers", workers*each, len(live), len(offers))
	}
}

// errOf drops a result and keeps the error.
func errOf[T any](_ T, err error) error { return err }
