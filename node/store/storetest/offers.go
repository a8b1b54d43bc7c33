package storetest

import (
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/store"
)

// testOffersByIntent checks that Offers returns one intent's offers, oldest
// first, whatever order they were put in.
func testOffersByIntent(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, o := range []store.Offer{
		offer("a-2", "intent-a", store.Received, t0.Add(2*time.Minute)),
		offer("b-1", "intent-b", store.Received, t0.Add(time.Minute)),
		offer("a-3", "intent-a", store.Received, t0.Add(3*time.Minute)),
		offer("a-1", "intent-a", store.Received, t0.Add(time.Minute)),
	} {
		must(t, s.PutOffer(ctx, o))
	}
	tests := []struct {
		intent string
		want   []store.ID
	}{
		{"intent-a", []store.ID{idOf("a-1"), idOf("a-2"), idOf("a-3")}},
		{"intent-b", []store.ID{idOf("b-1")}},
		{"intent-c", nil},
	}
	for _, tc := range tests {
		list, err := s.Offers(ctx, idOf(tc.intent))
		must(t, err)
		checkOrder(t, "Offers("+tc.intent+")", list, offerID, tc.want...)
	}
	list, err := s.Offers(ctx, idOf("intent-b"))
	must(t, err)
	same(t, "Offers(intent-b)", list, []store.Offer{offer("b-1", "intent-b", store.Received, t0.Add(time.Minute))})
}

// testOffersByDirection checks that OffersByDirection separates received
// from sent offers, oldest first, across intents.
func testOffersByDirection(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, o := range []store.Offer{
		offer("in-2", "intent-a", store.Received, t0.Add(2*time.Minute)),
		offer("out-1", "intent-b", store.Sent, t0.Add(time.Minute)),
		offer("in-1", "intent-c", store.Received, t0.Add(time.Minute)),
		offer("out-2", "intent-a", store.Sent, t0.Add(3*time.Minute)),
	} {
		must(t, s.PutOffer(ctx, o))
	}
	received, err := s.OffersByDirection(ctx, store.Received)
	must(t, err)
	checkOrder(t, "OffersByDirection(received)", received, offerID, idOf("in-1"), idOf("in-2"))
	sent, err := s.OffersByDirection(ctx, store.Sent)
	must(t, err)
	checkOrder(t, "OffersByDirection(sent)", sent, offerID, idOf("out-1"), idOf("out-2"))
	same(t, "OffersByDirection(sent)[1]", sent[1], offer("out-2", "intent-a", store.Sent, t0.Add(3*time.Minute)))
}

// testOfferReplace updates an offer's status, then moves it to another
// intent: every query follows, none lists it twice.
func testOfferReplace(t *testing.T, s store.Store) {
	ctx := t.Context()
	o := offer("offer", "intent-a", store.Received, t0)
	must(t, s.PutOffer(ctx, o))
	must(t, s.PutOffer(ctx, offer("later", "intent-a", store.Received, t0.Add(time.Minute))))

	o.Status = store.OfferAccepted
	o.AcceptRaw = []byte("accept")
	must(t, s.PutOffer(ctx, o))
	list, err := s.Offers(ctx, o.IntentID)
	must(t, err)
	checkOrder(t, "Offers after a status change", list, offerID, o.ID, idOf("later"))
	same(t, "accepted offer", list[0], o)

	o.IntentID = idOf("intent-b")
	o.Direction = store.Sent
	o.Received = t0.Add(2 * time.Minute)
	must(t, s.PutOffer(ctx, o))
	tests := []struct {
		name string
		list func() ([]store.Offer, error)
		want []store.ID
	}{
		{"Offers(intent-a)", func() ([]store.Offer, error) { return s.Offers(ctx, idOf("intent-a")) }, []store.ID{idOf("later")}},
		{"Offers(intent-b)", func() ([]store.Offer, error) { return s.Offers(ctx, idOf("intent-b")) }, []store.ID{o.ID}},
		{"OffersByDirection(received)", func() ([]store.Offer, error) { return s.OffersByDirection(ctx, store.Received) }, []store.ID{idOf("later")}},
		{"OffersByDirection(sent)", func() ([]store.Offer, error) { return s.OffersByDirection(ctx, store.Sent) }, []store.ID{o.ID}},
	}
	for _, tc := range tests {
		list, err := tc.list()
		must(t, err)
		checkOrder(t, tc.name+" after moving the offer", list, offerID, tc.want...)
	}
}

// testDealsNewestFirst checks the order of Deals, including after a replace
// that moves a deal's Closed.
func testDealsNewestFirst(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, d := range []store.Deal{
		deal("intent-b", "offer-b", t0.Add(time.Hour)),
		deal("intent-a", "offer-a", t0),
		deal("intent-c", "offer-c", t0.Add(2*time.Hour)),
	} {
		must(t, s.PutDeal(ctx, d))
	}
	list, err := s.Deals(ctx)
	must(t, err)
	checkOrder(t, "Deals", list, dealID, idOf("intent-c"), idOf("intent-b"), idOf("intent-a"))

	redone := deal("intent-a", "offer-a2", t0.Add(3*time.Hour))
	must(t, s.PutDeal(ctx, redone))
	list, err = s.Deals(ctx)
	must(t, err)
	checkOrder(t, "Deals after replacing intent-a's", list, dealID, idOf("intent-a"), idOf("intent-c"), idOf("intent-b"))
	same(t, "replaced deal", list[0], redone)
}
