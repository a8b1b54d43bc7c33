package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserNoPeers: a node with no peers warns on its page, and an
// intent published there shows as queued, not sent; once a peer connects
// the warning goes and the intent shows as sent, then seen.
func TestBrowserNoPeers(t *testing.T) {
	browser := newBrowser(t)
	lone := startPeer(t, "")
	p := open(t, browser, "customer", lone.url+"/#customer")
	p.login()
	p.do(chromedp.WaitVisible(chromedp.ID("no-peers")))
	if got := p.text("#no-peers"); !containsAll(got, "no peers", "sent when a peer connects") {
		t.Errorf("the warning says %q", got)
	}

	id := p.publish("Queued while alone", "900")
	card := `#own-intents .card.intent[data-intent="` + id + `"]`
	p.do(chromedp.WaitVisible(chromedp.CSS(card + ` .send[data-what="intent"][data-send="queued"]`)))
	if got := p.text(card + ` .send[data-what="intent"]`); !containsAll(got, "queued: no peers", "will send when a peer connects") {
		t.Errorf("the queued intent's card says %q", got)
	}

	startPeer(t, "Acme Laptops", lone.addr())
	poll[bool](p, "the warning goes once a peer is connected", `document.getElementById('no-peers').hidden`)
	got := poll[string](p, "the intent shows as seen by the network", `(() => {
		const s = document.querySelector(`+js(card+` .send[data-what="intent"][data-send="seen"]`)+`);
		return s ? s.textContent : '';
	})()`)
	if !containsAll(got, "seen by the network") {
		t.Errorf("the sent intent's card says %q", got)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
