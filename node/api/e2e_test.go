package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/api/client"
)

// TestCustomerVendorLoop drives the whole loop through the real Client
// against two real, connected nodes: publish (with progress), the vendor's
// feed and stream, an offer, the customer's offer list, accept, both deals,
// a signed webhook, and cancel.
func TestCustomerVendorLoop(t *testing.T) {
	customer, vendor := connected(t)
	ctx := t.Context()

	// The vendor's webhook receiver checks every signature independently
	// of Sign.
	type hit struct {
		kind string
		ev   client.EventView
	}
	hits := make(chan hit, 16)
	var secret string
	var secretMu sync.Mutex
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		ts := r.Header.Get("X-Intentcast-Timestamp")
		secretMu.Lock()
		mac := hmac.New(sha256.New, []byte(secret))
		secretMu.Unlock()
		mac.Write([]byte(ts + "." + string(body)))
		if r.Header.Get("X-Intentcast-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) {
			t.Errorf("webhook signature %q does not match", r.Header.Get("X-Intentcast-Signature"))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(sec, 0)) > time.Minute {
			t.Errorf("webhook timestamp %q", ts)
		}
		if r.Header.Get("X-Intentcast-Delivery") == "" {
			t.Errorf("webhook without a delivery id")
		}
		var ev client.EventView
		if err := json.Unmarshal(body, &ev); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		hits <- hit{r.Header.Get("X-Intentcast-Event"), ev}
	}))
	defer receiver.Close()
	secretMu.Lock()
	hook, err := vendor.c.AddWebhook(ctx, receiver.URL, []string{"accept"})
	secret = hook.Secret
	secretMu.Unlock()
	if err != nil {
		t.Fatalf("AddWebhook: %v", err)
	}
	if len(hook.Secret) != 64 || hook.ID == "" || !slices.Equal(hook.Events, []string{"accept"}) {
		t.Errorf("webhook %+v", hook)
	}
	hooks, err := vendor.c.Webhooks(ctx)
	if err != nil || len(hooks) != 1 || hooks[0].Secret != "" || hooks[0].URL != receiver.URL {
		t.Errorf("Webhooks = %+v, %v; want the one webhook without its secret", hooks, err)
	}

	vendorEvents, _ := stream(t, vendor.c)
	awaitEvent(t, vendorEvents, "the vendor's replay-end", func(ev client.EventView) bool { return ev.Kind == client.KindReplayEnd })

	// Publish, watching the minting.
	var progress []client.MintProgress
	in, err := customer.c.PublishIntent(ctx, laptop(), func(p client.MintProgress) { progress = append(progress, p) })
	if err != nil {
		t.Fatalf("PublishIntent: %v", err)
	}
	if len(progress) == 0 || progress[0].Expected != 16 {
		t.Errorf("progress %+v; want reports expecting 2^4 tries", progress)
	}
	if in.State != client.StateOpen || !in.Own || in.MaxPrice != "1200.00" || in.MaxPriceMinor != 120000 || in.Region != "DE" ||
		in.Quantity != 1 || !slices.Equal(in.Terms, []string{"no-tracking", "no-resale", "delete-after"}) || in.Work != 4 {
		t.Errorf("published intent %+v", in)
	}
	if got, err := customer.c.Intent(ctx, in.ID); err != nil || got.ID != in.ID {
		t.Errorf("Intent(%s) = %+v, %v", in.ID, got, err)
	}

	// The vendor sees it in its feed and on its stream.
	eventually(t, 15*time.Second, "the vendor's feed shows the intent", func() bool {
		feed, err := vendor.c.Feed(ctx)
		return err == nil && slices.ContainsFunc(feed, func(v client.IntentView) bool { return v.ID == in.ID })
	})
	ev := awaitEvent(t, vendorEvents, "the intent on the vendor's stream", func(ev client.EventView) bool { return ev.Kind == "intent" && ev.IntentID == in.ID })
	if ev.Intent == nil || ev.Intent.Text != laptop().Text || ev.Intent.State != client.StateLive || ev.Intent.Own {
		t.Errorf("intent event %+v", ev.Intent)
	}

	// A customer stream opened now replays the intent, then goes live.
	customerEvents, customerLog := stream(t, customer.c)
	ev = awaitEvent(t, customerEvents, "the replayed intent", func(ev client.EventView) bool { return ev.Kind == "intent-posted" })
	if ev.IntentID != in.ID || ev.Intent == nil || ev.Intent.State != client.StateOpen {
		t.Errorf("replayed %+v", ev)
	}
	awaitEvent(t, customerEvents, "the customer's replay-end", func(ev client.EventView) bool { return ev.Kind == client.KindReplayEnd })

	// The vendor offers.
	offer, err := vendor.c.SendOffer(ctx, client.OfferRequest{IntentID: in.ID, Price: "999.00", Text: "ThinkPad X1, new"})
	if err != nil {
		t.Fatalf("SendOffer: %v", err)
	}
	if offer.Direction != "sent" || offer.Status != "valid" || offer.Price != "999.00" || offer.PriceMinor != 99900 ||
		offer.Currency != "EUR" || offer.Vendor.Name != "Acme Laptops" || !offer.TermsOK || offer.IntentID != in.ID {
		t.Errorf("sent offer %+v", offer)
	}
	sent, err := vendor.c.SentOffers(ctx)
	if err != nil || len(sent) != 1 || sent[0].ID != offer.ID {
		t.Errorf("SentOffers = %+v, %v", sent, err)
	}
	awaitEvent(t, vendorEvents, "offer-sent on the vendor's stream", func(ev client.EventView) bool { return ev.Kind == "offer-sent" && ev.OfferID == offer.ID })

	// The customer receives it, opened and checked.
	ev = awaitEvent(t, customerEvents, "the offer on the customer's stream", func(ev client.EventView) bool { return ev.Kind == "offer" })
	if ev.OfferID != offer.ID || ev.Status != "valid" || ev.Offer == nil || ev.Offer.Price != "999.00" {
		t.Errorf("offer event %+v (offer %+v)", ev, ev.Offer)
	}
	offers, err := customer.c.Offers(ctx, in.ID)
	if err != nil || len(offers) != 1 {
		t.Fatalf("Offers = %+v, %v; want one", offers, err)
	}
	got := offers[0]
	if got.ID != offer.ID || got.Direction != "received" || got.Status != "valid" || !got.TermsOK || got.Price != "999.00" ||
		got.Text != "ThinkPad X1, new" || got.Vendor != offer.Vendor || got.Vendor.Key == "" || got.ValidUntil.IsZero() {
		t.Errorf("received offer %+v; sent %+v", got, offer)
	}
	if v, _ := customer.c.Intent(ctx, in.ID); v.Offers != 1 {
		t.Errorf("intent shows %d offers; want 1", v.Offers)
	}

	// Accepting an offer through another intent of the customer's fails.
	other, err := customer.c.PublishIntent(ctx, laptop(), nil)
	if err != nil {
		t.Fatalf("PublishIntent: %v", err)
	}
	_, err = customer.c.Accept(ctx, other.ID, offer.ID, "")
	if e := asError(t, err); e.Status != http.StatusNotFound || e.Code != client.CodeUnknownOffer {
		t.Errorf("accept through another intent: %+v", e)
	}

	// Accept.
	deal, err := customer.c.Accept(ctx, in.ID, offer.ID, "Jane, Hauptstr. 1, Berlin")
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if deal.Role != "customer" || deal.OfferID != offer.ID || deal.Intent.State != client.StateAccepted || deal.Intent.AcceptedOffer != offer.ID ||
		deal.Offer.Status != "accepted" || deal.Details != "" {
		t.Errorf("customer deal %+v", deal)
	}
	_, err = customer.c.Accept(ctx, in.ID, offer.ID, "")
	if e := asError(t, err); e.Status != http.StatusConflict || e.Code != client.CodeIntentNotOpen {
		t.Errorf("accepting twice: %+v", e)
	}
	awaitEvent(t, customerEvents, "accepted on the customer's stream", func(ev client.EventView) bool { return ev.Kind == "accepted" && ev.OfferID == offer.ID })

	// The vendor's side: deal, stream and webhook.
	var vdeals []client.DealView
	eventually(t, 15*time.Second, "the vendor has the deal", func() bool {
		vdeals, err = vendor.c.Deals(ctx)
		return err == nil && len(vdeals) == 1
	})
	if d := vdeals[0]; d.Role != "vendor" || d.IntentID != in.ID || d.OfferID != offer.ID || d.Details != "Jane, Hauptstr. 1, Berlin" ||
		d.Offer.Status != "accepted" || d.Intent.Text != laptop().Text {
		t.Errorf("vendor deal %+v", d)
	}
	awaitEvent(t, vendorEvents, "accept on the vendor's stream", func(ev client.EventView) bool { return ev.Kind == "accept" && ev.OfferID == offer.ID })
	select {
	case h := <-hits:
		if h.kind != "accept" || h.ev.Kind != "accept" || h.ev.OfferID != offer.ID || h.ev.Offer == nil || h.ev.Offer.Status != "accepted" {
			t.Errorf("webhook got %+v", h)
		}
	case <-time.After(patience):
		t.Fatal("the webhook did not receive the accept")
	}
	sent, _ = vendor.c.SentOffers(ctx)
	if len(sent) != 1 || sent[0].Status != "accepted" {
		t.Errorf("sent offers after the deal: %+v", sent)
	}
	if cdeals, err := customer.c.Deals(ctx); err != nil || len(cdeals) != 1 || cdeals[0].Role != "customer" {
		t.Errorf("customer Deals = %+v, %v", cdeals, err)
	}

	// Both sides export the same deal record, and it verifies offline.
	crec, cerr := customer.c.DealRecord(ctx, in.ID)
	vrec, verr := vendor.c.DealRecord(ctx, in.ID)
	if cerr != nil || verr != nil || !bytes.Equal(crec, vrec) {
		t.Errorf("deal records: customer %d bytes (%v), vendor %d bytes (%v); want the same bytes", len(crec), cerr, len(vrec), verr)
	}
	if rec, err := intent.VerifyDealRecord(vrec, time.Now()); err != nil || rec.Intent.ID.String() != in.ID || rec.Accept.OfferID.String() != offer.ID {
		t.Errorf("the exported record does not verify as this deal: %v", err)
	}

	// Cancel the other intent: it leaves the vendor's feed.
	eventually(t, 15*time.Second, "the vendor's feed shows the second intent", func() bool {
		feed, _ := vendor.c.Feed(ctx)
		return slices.ContainsFunc(feed, func(v client.IntentView) bool { return v.ID == other.ID })
	})
	cancelled, err := customer.c.CancelIntent(ctx, other.ID)
	if err != nil || cancelled.State != client.StateCancelled {
		t.Fatalf("CancelIntent = %+v, %v", cancelled, err)
	}
	_, err = customer.c.CancelIntent(ctx, other.ID)
	if e := asError(t, err); e.Status != http.StatusConflict || e.Code != client.CodeIntentNotOpen {
		t.Errorf("cancelling twice: %+v", e)
	}
	awaitEvent(t, vendorEvents, "cancel on the vendor's stream", func(ev client.EventView) bool { return ev.Kind == "cancel" && ev.IntentID == other.ID })
	eventually(t, 15*time.Second, "the cancelled intent leaves the vendor's feed", func() bool {
		feed, err := vendor.c.Feed(ctx)
		return err == nil && !slices.ContainsFunc(feed, func(v client.IntentView) bool { return v.ID == other.ID })
	})
	_, err = vendor.c.SendOffer(ctx, client.OfferRequest{IntentID: other.ID, Price: "1.00"})
	if e := asError(t, err); e.Status != http.StatusConflict || e.Code != client.CodeIntentClosed {
		t.Errorf("offer to a cancelled intent: %+v", e)
	}
	if v, err := vendor.c.Intent(ctx, other.ID); err != nil || v.State != client.StateCancelled {
		t.Errorf("the vendor's view of the cancelled intent: %+v, %v", v, err)
	}

	// The customer's own intents came back to its node by gossip; the
	// vendor views of its API leave them out.
	echoed, err := customer.n.Feed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(echoed) > 0 { // as long as the node itself keeps them in its feed
		if feed, err := customer.c.Feed(ctx); err != nil || len(feed) != 0 {
			t.Errorf("customer's feed = %+v, %v; want its own intents left out", feed, err)
		}
	}
	if n := customerLog.count("intent"); n != 0 {
		t.Errorf("customer's stream carried %d intent events about its own intents", n)
	}

	list, err := customer.c.Intents(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("Intents = %+v, %v", list, err)
	}
	states := map[string]string{}
	for _, v := range list {
		states[v.ID] = v.State
	}
	if states[in.ID] != client.StateAccepted || states[other.ID] != client.StateCancelled {
		t.Errorf("states %v", states)
	}
}

// asError returns err as *Error, failing the test if it is not one.
func asError(t *testing.T, err error) *client.Error {
	t.Helper()
	e, ok := err.(*client.Error)
	if !ok {
		t.Fatalf("error %v (%T) is not an *api.Error", err, err)
	}
	if e.Message == "" {
		t.Errorf("error %+v has no message", e)
	}
	return e
}
