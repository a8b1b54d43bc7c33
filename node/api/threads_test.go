package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/api/client"
)

// TestThreadEndpoints: a counter and a revised offer through the typed
// client, each side's thread view and thread events, and every refusal
// with its status and code: out of turn, the wrong side, a counter that
// says nothing, a bad price, an unknown offer, a closed thread.
func TestThreadEndpoints(t *testing.T) {
	customer, vendor := connected(t)
	ctx := t.Context()
	in, err := customer.c.PublishIntent(ctx, laptop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the vendor sees the intent", func() bool {
		feed, err := vendor.c.Feed(ctx)
		return err == nil && len(feed) == 1
	})
	o, err := vendor.c.SendOffer(ctx, client.OfferRequest{IntentID: in.ID, Price: "1100.00"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 15*time.Second, "the customer holds the offer", func() bool {
		offers, err := customer.c.Offers(ctx, in.ID)
		return err == nil && len(offers) == 1
	})
	refused := func(what string, err error, status int, code string) {
		t.Helper()
		e := asError(t, err)
		if e.Status != status || e.Code != code {
			t.Errorf("%s: %d %s (%s), want %d %s", what, e.Status, e.Code, e.Message, status, code)
		}
	}
	_, err = vendor.c.Reply(ctx, o.ID, client.ThreadReplyRequest{Text: "unasked"})
	refused("a reply before any counter", err, http.StatusConflict, client.CodeNotYourTurn)
	_, err = vendor.c.Counter(ctx, o.ID, client.CounterRequest{Text: "to myself"})
	refused("the vendor countering its own offer", err, http.StatusConflict, client.CodeNotYourTurn)
	_, err = customer.c.Counter(ctx, o.ID, client.CounterRequest{})
	refused("an empty counter", err, http.StatusBadRequest, client.CodeBadText)
	_, err = customer.c.Counter(ctx, o.ID, client.CounterRequest{Price: "9,50"})
	refused("a bad price", err, http.StatusBadRequest, client.CodeBadPrice)
	unknown := "00" + o.ID[2:]
	if unknown == o.ID { // one offer ID in 256 starts with 00
		unknown = "ff" + o.ID[2:]
	}
	_, err = customer.c.Counter(ctx, unknown, client.CounterRequest{Text: "?"})
	refused("an unknown offer", err, http.StatusNotFound, client.CodeUnknownOffer)

	vendorEvents, _ := stream(t, vendor.c)
	tr, err := customer.c.Counter(ctx, o.ID, client.CounterRequest{Price: "1000", CustomTerms: map[string]string{"warranty": "2 years"}, Text: "a sleeve?"})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Role != "customer" || tr.Turn != "vendor" || len(tr.Messages) != 1 || tr.Messages[0].Price != "1000.00" {
		t.Fatalf("the customer's thread after its counter: %+v", tr)
	}
	_, err = customer.c.Counter(ctx, o.ID, client.CounterRequest{Text: "again"})
	refused("a second counter in a row", err, http.StatusConflict, client.CodeNotYourTurn)
	ev := awaitEvent(t, vendorEvents, "the vendor's thread event", func(ev client.EventView) bool { return ev.Kind == client.KindThread })
	if ev.Thread == nil || len(ev.Thread.Messages) != 1 || ev.Thread.Messages[0].CustomTerms["warranty"] != "2 years" {
		t.Fatalf("the vendor's thread event: %+v", ev.Thread)
	}
	_, err = vendor.c.Reply(ctx, o.ID, client.ThreadReplyRequest{Price: "1300", Text: "over the ceiling"})
	refused("a revised offer over the ceiling", err, http.StatusBadRequest, client.CodeBadPrice)
	tr, err = vendor.c.Reply(ctx, o.ID, client.ThreadReplyRequest{Price: "1050", OfferText: "with a sleeve", Text: "Meet halfway."})
	if err != nil {
		t.Fatal(err)
	}
	revised := tr.Messages[1].Offer
	if revised == nil || revised.Price != "1050.00" {
		t.Fatalf("the vendor's reply: %+v", tr.Messages[1])
	}
	eventually(t, 15*time.Second, "the customer holds the reply", func() bool {
		tr, err := customer.c.Thread(ctx, revised.ID) // a revised offer names its thread
		return err == nil && len(tr.Messages) == 2 && tr.Root == o.ID
	})
	// A stream opened now replays each side's thread as the events that
	// made it, one per message, before replay-end.
	for name, c := range map[string]*client.Client{"customer": customer.c, "vendor": vendor.c} {
		late, _ := stream(t, c)
		var got []client.EventView
		awaitEvent(t, late, name+"'s replay", func(ev client.EventView) bool {
			if ev.Kind == client.KindThread {
				got = append(got, ev)
			}
			return ev.Kind == client.KindReplayEnd
		})
		if len(got) != 2 || got[0].OfferID != tr.Messages[0].ID || got[1].OfferID != tr.Messages[1].ID ||
			len(got[0].Thread.Messages) != 1 || len(got[1].Thread.Messages) != 2 || got[0].Thread.Turn != "vendor" {
			t.Fatalf("%s's replay holds %d thread events, want the counter's then the reply's", name, len(got))
		}
	}
	trs, err := customer.c.Threads(ctx, in.ID)
	if err != nil || len(trs) != 1 || trs[0].Root != o.ID {
		t.Fatalf("Threads: %+v, %v", trs, err)
	}
	deal, err := customer.c.Accept(ctx, in.ID, revised.ID, "")
	if err != nil || deal.Offer.PriceMinor != 105000 {
		t.Fatalf("accepting the revised offer: %+v, %v", deal, err)
	}
	_, err = customer.c.Counter(ctx, o.ID, client.CounterRequest{Text: "one more"})
	refused("a counter after the accept", err, http.StatusConflict, client.CodeThreadClosed)
}
