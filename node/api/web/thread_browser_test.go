package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/intentcast/intentcast/node/api/client"
)

// TestBrowserThread runs a negotiation on the pages of a customer and a
// vendor node: the customer counters an offer through the offer's
// "Negotiate…" form, the vendor page shows the counter live and answers
// with a revised offer through its form, and the customer page shows the
// thread and lists the revised offer, which it accepts. The vendor's text
// is a stranger's: it must show as text.
func TestBrowserThread(t *testing.T) {
	browser := newBrowser(t)
	customer := startPeer(t, "")
	vendor := startPeer(t, "Acme Laptops", customer.addr())
	eventually(t, 10*time.Second, "the nodes are peers", func() bool {
		return len(customer.n.Peers()) > 0 && len(vendor.n.Peers()) > 0
	})
	ctx := t.Context()
	cp := open(t, browser, "customer", customer.url+"/#customer")
	vp := open(t, browser, "vendor", vendor.url+"/#vendor")
	cp.login()
	vp.login()

	id := cp.publish("Light laptop, 16 GB", "1200.00")
	eventually(t, 15*time.Second, "the vendor sees the intent", func() bool {
		feed, err := vendor.c.Feed(ctx)
		return err == nil && len(feed) > 0 && feed[0].ID == id
	})
	o, err := vendor.c.SendOffer(ctx, client.OfferRequest{IntentID: id, Price: "1099.00", Text: "ThinkPad X1"})
	if err != nil {
		t.Fatal(err)
	}

	// The customer counters through the offer row's form.
	own := `#own-intents .card.intent[data-intent="` + id + `"]`
	row := own + ` tr.offer[data-offer="` + o.ID + `"]`
	thread := `#threads .thread[data-root="` + o.ID + `"]`
	cp.do(
		chromedp.WaitVisible(chromedp.CSS(row+` button.counter`)),
		chromedp.Click(chromedp.CSS(row+` button.counter`)),
		chromedp.WaitVisible(chromedp.CSS(thread+` .thread-form`)),
		fill(thread+` .t-price`, "950"),
		chromedp.SendKeys(chromedp.CSS(thread+` .t-text`), "Would you include a sleeve?"),
		chromedp.Click(chromedp.CSS(thread+` button.send-counter`)),
		chromedp.WaitVisible(chromedp.CSS(thread+`[data-count="1"][data-turn="vendor"]`)),
	)
	if msg := cp.text(thread + ` .msg[data-seq="1"]`); !strings.Contains(msg, "950.00 EUR") || !strings.Contains(msg, "sleeve") {
		t.Errorf("the customer's thread shows its counter as %q", msg)
	}

	// The vendor page shows it live and answers with a revised offer; its
	// message carries markup, which must stay text.
	vthread := `#vendor-threads .thread[data-root="` + o.ID + `"]`
	vp.do(chromedp.WaitVisible(chromedp.CSS(vthread + `[data-count="1"][data-turn="vendor"] .thread-form`)))
	if msg := vp.text(vthread + ` .msg[data-seq="1"]`); !strings.Contains(msg, "950.00 EUR") || !strings.Contains(msg, "Would you include a sleeve?") {
		t.Errorf("the vendor's thread shows the counter as %q", msg)
	}
	vp.do(
		fill(vthread+` .t-price`, "1020"),
		chromedp.SendKeys(chromedp.CSS(vthread+` .t-offer-text`), "ThinkPad X1 with a sleeve"),
		chromedp.SendKeys(chromedp.CSS(vthread+` .t-text`), xss),
		chromedp.Click(chromedp.CSS(vthread+` button.send-reply`)),
		chromedp.WaitVisible(chromedp.CSS(vthread+`[data-count="2"][data-turn="customer"]`)),
	)

	// The customer page shows the reply and the revised offer, and accepts
	// the revised offer like any other.
	cp.do(chromedp.WaitVisible(chromedp.CSS(thread + `[data-count="2"][data-turn="customer"] .thread-form`)))
	reply := cp.text(thread + ` .msg[data-seq="2"]`)
	if !strings.Contains(reply, "1020.00 EUR") || !strings.Contains(reply, xss) {
		t.Errorf("the customer's thread shows the reply as %q", reply)
	}
	if eval[bool](cp, `window.__pwned === 1`) {
		t.Fatal("the vendor's reply ran as script on the customer's page")
	}
	tr, err := customer.c.Thread(ctx, o.ID)
	if err != nil || len(tr.Messages) != 2 || tr.Messages[1].Offer == nil {
		t.Fatalf("the customer's node holds %+v (%v)", tr, err)
	}
	revised := own + ` tr.offer[data-offer="` + tr.Messages[1].Offer.ID + `"]`
	cp.do(
		chromedp.WaitVisible(chromedp.CSS(revised+` button.accept`)),
		chromedp.Click(chromedp.CSS(revised+` button.accept`)),
		chromedp.WaitVisible(chromedp.CSS(own+` .accept-panel`)),
		chromedp.Click(chromedp.CSS(own+` .confirm-accept`)),
		chromedp.WaitVisible(chromedp.CSS(`#customer-deals .deal[data-intent="`+id+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(thread+`[data-open="false"]`)),
	)
	if deal := cp.text(`#customer-deals .deal[data-intent="` + id + `"] .deal-line`); !strings.Contains(deal, "1020.00 EUR") {
		t.Errorf("the customer's deal reads %q, want the revised price", deal)
	}
	cp.stillLoaded()
	vp.stillLoaded()
}
