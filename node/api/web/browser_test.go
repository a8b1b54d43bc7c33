package web_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api"
	"github.com/intentcast/intentcast/node/api/client"
	"github.com/intentcast/intentcast/node/api/web"
)

// The page is tested end to end: real nodes on loopback, each with its API
// server and this package's page, driven in headless Chromium (Debian's
// chromium package) through chromedp.
//
// Set INTENTCAST_SCREENSHOTS=1 to write docs/screenshots/customer.png and
// vendor.png, and INTENTCAST_CHROMIUM to use another Chrome binary.

const testToken = "browser-test-token"

// xss is an intent text that runs script if a page puts it in the DOM as
// HTML.
const xss = `<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>`

// stepTimeout bounds each wait in the browser.
const stepTimeout = patience

// peer is a node with its API server on a loopback listener.
type peer struct {
	n   *node.Node
	url string
	c   *client.Client
}

func quietLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
}

// startPeer starts a node serving electronics with an 8-bit proof of work,
// and its API with the web page. Cleanup ends the API server (and with it
// the page's event streams), then the listener, then the node.
func startPeer(t *testing.T, vendor string, bootstrap ...string) *peer {
	t.Helper()
	n, err := node.New(t.Context(), node.Config{
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		DisableMDNS: true,
		DataDir:     t.TempDir(),
		Policy:      intent.Policy{MinWork: 8, MinOfferWork: 8, MinRatingWork: 8},
		Categories:  []string{"electronics"},
		Bootstrap:   bootstrap,
		Vendor:      intent.Vendor{Name: vendor},
		Logger:      quietLogger(t),
		PublishWait: 3 * time.Second,
	})
	if err != nil {
		t.Fatalf("node.New: %v", err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("node Close: %v", err)
		}
	})
	srv, err := api.NewServer(n, api.ServerConfig{Token: testToken, Web: web.Handler(), Version: "test", Logger: quietLogger(t)})
	if err != nil {
		t.Fatalf("api.NewServer: %v", err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	t.Cleanup(func() { _ = srv.Close() })
	return &peer{n: n, url: hs.URL, c: client.New(hs.URL, testToken)}
}

func (p *peer) addr() string { return p.n.Addrs()[0].String() }

// patience is the least time a test waits for a condition. The suite
// must pass on a busy 2-core machine, where starting a node or a gossip
// round can take many times what it takes on an idle one; a condition that
// holds ends the wait at once, so only a failing test pays the full wait.
const patience = 2 * time.Minute

// eventually polls cond until it holds, failing the test after timeout
// (at least patience).
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout = max(timeout, patience)
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// chromium finds the browser, or skips the test: it is the only skip.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("INTENTCAST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("the browser tests need Chromium: apt-get install chromium (Debian's package), or set INTENTCAST_CHROMIUM to a Chrome binary")
	return ""
}

// newBrowser starts headless Chromium with a fresh profile (chromedp makes
// a temporary user data dir and removes it) and returns its context. The
// flags keep it from reaching out to the internet.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	// Chromium itself sometimes exits at start on a busy machine (seen
	// once in 8 full runs beside two CPU hogs, its output showing nothing
	// but the usual D-Bus noise): that is the browser, not the page under
	// test, so a start is tried 3 times, each failure logged.
	var err error
	for range 3 {
		allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancel := chromedp.NewContext(allocCtx)
		// The first run starts the browser, whose life is then bound to
		// its context: it gets no timeout.
		if err = chromedp.Do(ctx); err == nil {
			t.Cleanup(func() {
				cancel()
				cancelAlloc()
			})
			return ctx
		}
		cancel()
		cancelAlloc()
		t.Logf("starting Chromium: %v", err)
	}
	t.Fatalf("starting Chromium, 3 tries: %v", err)
	return nil
}

// page is one tab showing one node's page.
type page struct {
	t    *testing.T
	name string
	ctx  context.Context

	mu       sync.Mutex
	problems []string // exceptions and security errors the page reported
}

// open opens url in a new window of the browser, and fails the test at
// cleanup if the page threw an exception or broke its security policy.
func open(t *testing.T, browser context.Context, name, url string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser)
	p := &page{t: t, name: name, ctx: ctx}
	console := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range console {
			if err != nil {
				return
			}
			bad := m.IsException() || strings.Contains(m.Text, "Content Security Policy")
			if bad || m.Type == chromedp.ConsoleError || m.Type == chromedp.ConsoleWarning {
				t.Logf("%s page console %s: %s (%s:%d)", name, m.Type, m.Text, m.URL, m.Line)
			}
			if bad {
				p.mu.Lock()
				p.problems = append(p.problems, m.Text)
				p.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, pr := range p.problems {
			t.Errorf("the %s page reported: %s", name, pr)
		}
	})
	p.do(chromedp.Navigate(url))
	return p
}

// do runs steps in the tab, failing the test (with what the page shows)
// if they do not finish within stepTimeout.
func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.fail(err)
	}
}

func (p *page) fail(err error) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, patience)
	defer cancel()
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 4000)`))
	p.t.Fatalf("%s page: %v\n--- the page shows:\n%s\n---", p.name, err, text)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.fail(fmt.Errorf("evaluating %s: %w", expr, err))
	}
	return v
}

// poll waits until a JavaScript expression is truthy and returns its value.
func poll[T any](p *page, what, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
	if err != nil {
		p.fail(fmt.Errorf("waiting until %s: %w", what, err))
	}
	return v
}

func (p *page) text(sel string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		p.fail(fmt.Errorf("reading the text of %s: %w", sel, err))
	}
	return s
}

// fill empties a field, then types text into it as a person would.
func fill(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+js(sel)+`).value = ''`),
		chromedp.SendKeys(chromedp.CSS(sel), text),
	)
}

// setValues sets the values of inputs by their IDs at once, as pasting
// would.
func setValues(byID map[string]string) chromedp.Action[chromedp.Void] {
	b, _ := json.Marshal(byID)
	return chromedp.Evaluate[chromedp.Void](`for (const [id, v] of Object.entries(` + string(b) + `)) document.getElementById(id).value = v`)
}

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// login pastes the token and waits until the page is connected and its
// event stream live.
func (p *page) login() {
	p.t.Helper()
	p.do(
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), testToken),
		chromedp.Click(chromedp.ID("connect")),
		chromedp.WaitVisible(chromedp.CSS(`#live[data-state="live"]`)),
	)
	// A reload would clear this; the checks at the end prove none happened.
	eval[chromedp.Void](p, `window.__noReload = 1`)
	if got := eval[string](p, `sessionStorage.getItem('intentcast.token')`); got != testToken {
		p.t.Errorf("%s page keeps %q in sessionStorage, want the token", p.name, got)
	}
	if strings.Contains(eval[string](p, `location.href`), testToken) {
		p.t.Errorf("%s page has the token in its URL", p.name)
	}
}

// stillLoaded checks that the page was never reloaded.
func (p *page) stillLoaded() {
	p.t.Helper()
	if !eval[bool](p, `window.__noReload === 1`) {
		p.t.Errorf("the %s page was reloaded; it should update live", p.name)
	}
}

// publish fills in the compose form and publishes; it returns the new
// intent's ID once its card shows.
func (p *page) publish(text, price string, more ...chromedp.Action[chromedp.Void]) string {
	p.t.Helper()
	before := eval[int](p, `document.querySelectorAll('#own-intents .card.intent').length`)
	steps := []chromedp.Action[chromedp.Void]{
		chromedp.SetValue(chromedp.ID("c-category"), "electronics"),
		chromedp.SendKeys(chromedp.ID("c-text"), text),
		fill("#c-price", price),
	}
	p.do(append(append(steps, more...), chromedp.Click(chromedp.ID("publish")))...)
	return poll[string](p, "the published intent shows", fmt.Sprintf(`(() => {
		const cards = document.querySelectorAll('#own-intents .card.intent');
		if (cards.length <= %d) return '';
		const c = [...cards].find((c) => c.querySelector('.intent-text').textContent === %s);
		return c ? c.dataset.intent : '';
	})()`, before, js(text)))
}

// moduleRoot is the directory of go.mod.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// screenshot saves a full-page PNG of the page when INTENTCAST_SCREENSHOTS
// is set.
func (p *page) screenshot(name string) {
	p.t.Helper()
	if os.Getenv("INTENTCAST_SCREENSHOTS") == "" {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		p.fail(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.fail(err)
	}
	path := filepath.Join(moduleRoot(p.t), "docs", "screenshots", name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("wrote %s (%d bytes)", path, len(png))
}

// TestBrowser runs the customer and vendor pages of two real nodes (and a
// second vendor driven through the API client) in headless Chromium: the
// whole loop from publish to deal, live on both pages; the escaping of
// strangers' text; the layout on a phone.
func TestBrowser(t *testing.T) {
	browser := newBrowser(t)
	customer := startPeer(t, "")
	vendor := startPeer(t, "Acme Laptops", customer.addr())
	rival := startPeer(t, "Berlin Tech Store", customer.addr())
	eventually(t, 10*time.Second, "the nodes are peers", func() bool {
		return len(customer.n.Peers()) >= 2 && len(vendor.n.Peers()) > 0 && len(rival.n.Peers()) > 0
	})

	cp := open(t, browser, "customer", customer.url+"/#customer")
	vp := open(t, browser, "vendor", vendor.url+"/#vendor")
	rp := open(t, browser, "rival", rival.url+"/#vendor")

	// A wrong token is refused, and the page says so.
	cp.do(
		chromedp.WaitVisible(chromedp.ID("token")),
		chromedp.SendKeys(chromedp.ID("token"), "not-the-token"),
		chromedp.Click(chromedp.ID("connect")),
		chromedp.WaitVisible(chromedp.ID("login-error")),
	)
	if msg := cp.text("#login-error"); !strings.Contains(msg, "wrong bearer token") {
		t.Errorf("after a wrong token the page says %q; want the API's message", msg)
	}
	if eval[bool](cp, `sessionStorage.getItem('intentcast.token') !== null`) {
		t.Error("the page kept a refused token")
	}
	cp.login()
	vp.login()
	rp.login()

	t.Run("loop", func(t *testing.T) { testLoop(t, cp, vp, rp, customer, rival) })
	t.Run("escaping", func(t *testing.T) { testEscaping(t, cp, vp) })
	t.Run("phone", func(t *testing.T) { testPhone(t, cp, vp) })
	t.Run("reputation", func(t *testing.T) { testReputation(t, cp, customer, vendor) })
}

// testReputation: next to a vendor's offer the customer's page shows the
// vendor's reputation as the customer's node computed it, and updates it
// when a rating arrives.
func testReputation(t *testing.T, cp *page, customer, vendor *peer) {
	cp.t = t
	ctx := t.Context()
	if _, err := vendor.c.SetProfile(ctx, client.ProfileRequest{Name: "Acme Laptops", Description: "Refurbished laptops, Berlin"}); err != nil {
		t.Fatalf("SetProfile: %v", err)
	}
	id := cp.publish("A laptop to rate", "1300")
	eventually(t, 20*time.Second, "the vendor's feed has the intent", func() bool {
		feed, err := vendor.c.Feed(ctx)
		return err == nil && slices.ContainsFunc(feed, func(v client.IntentView) bool { return v.ID == id })
	})
	offer, err := vendor.c.SendOffer(ctx, client.OfferRequest{IntentID: id, Price: "1000.00", Text: "ThinkPad T14"})
	if err != nil {
		t.Fatalf("SendOffer: %v", err)
	}
	rep := `#own-intents .card.intent[data-intent="` + id + `"] tr.offer[data-vendor="Acme Laptops"] .reputation`
	poll[bool](cp, "the offer shows the vendor has no ratings", `(document.querySelector(`+js(rep)+`) || {}).textContent === 'no ratings yet'`)

	if _, err := customer.c.Accept(ctx, id, offer.ID, ""); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if _, err := customer.c.Rate(ctx, id, client.RateRequest{Score: 4, Text: "As described"}); err != nil {
		t.Fatalf("Rate: %v", err)
	}
	got := poll[string](cp, "the offer shows the new rating", `(() => {
		const el = document.querySelector(`+js(rep)+`);
		return el && el.textContent.startsWith('★') ? el.textContent : '';
	})()`)
	if got != "★ 4.0/5 · 1 rating (1 seen)" {
		t.Errorf("the reputation next to the offer reads %q", got)
	}
	if title := eval[string](cp, `document.querySelector(`+js(rep)+`).title`); title != "Refurbished laptops, Berlin" {
		t.Errorf("the reputation's title is %q; want the vendor's signed description", title)
	}
}

func testLoop(t *testing.T, cp, vp, rp *page, customer, rival *peer) {
	cp.t, vp.t, rp.t = t, t, t
	ctx := t.Context()

	// The page shows the node and the protocol's choices.
	cp.do(
		chromedp.WaitVisible(chromedp.CSS(`#compose`)),
		chromedp.WaitReady(chromedp.CSS(`#c-category option[value="electronics"]`)),
		chromedp.WaitReady(chromedp.CSS(`#c-terms-list input[value="no-tracking"]:checked`)),
		chromedp.WaitReady(chromedp.CSS(`#c-terms-list input[value="no-marketing"]:not(:checked)`)),
	)
	if got := cp.text(`#node-peers`); got != "2 peers" {
		cp.do(chromedp.WaitVisible(chromedp.CSS(`#node-peers`)))
		poll[bool](cp, "the node info shows 2 peers", `document.getElementById('node-peers').textContent === '2 peers'`)
	}
	// Loopback nodes are never public; AutoNAT has no verdict on them.
	poll[bool](cp, "the node info shows the reachability", `(document.getElementById('node-reach') || {}).textContent === 'reachability unknown'`)
	if desc := cp.text(`#c-terms-list label:first-child`); !strings.Contains(desc, "Do not track me") {
		t.Errorf("the first term reads %q; want the roster's plain explanation", desc)
	}

	// Bad input: the input rules' sentence shows next to the field it is
	// about, in plain words (no API field names, no minor units).
	for _, tt := range []struct {
		name, text, price, currency, region string
		at, says                            string // where the message shows, a substring of it
	}{
		{"a comma", "a laptop", "12,00", "EUR", "", "c-price-error", "such as 1200.50"},
		{"price ceiling 0", "a laptop", "0", "EUR", "", "c-price-error", "The price ceiling must be more than 0."},
		{"negative price", "a laptop", "-5", "EUR", "", "c-price-error", "An amount cannot be negative."},
		{"three decimals", "a laptop", "10.999", "EUR", "", "c-price-error", "EUR has at most 2 decimals"},
		{"currency XYZ", "a laptop", "100", "XYZ", "", "c-currency-error", `"XYZ" is not a currency code`},
		{"region XX", "a laptop", "100", "EUR", "XX", "c-region-error", `"XX" is not a country code`},
		{"empty text", "", "100", "EUR", "", "c-text-error", "the description is empty"},
		{"100 KB text", strings.Repeat("x", 100<<10), "100", "EUR", "", "compose-error", "a text holds at most 1024 bytes"},
	} {
		cp.do(
			setValues(map[string]string{"c-text": tt.text, "c-price": tt.price, "c-currency": tt.currency, "c-region": tt.region}),
			chromedp.Click(chromedp.ID("publish")),
			chromedp.WaitVisible(chromedp.ID(tt.at)),
		)
		msg := cp.text("#" + tt.at)
		if !strings.Contains(msg, tt.says) {
			t.Errorf("%s: the page says %q at #%s; want ...%q...", tt.name, msg, tt.at, tt.says)
		}
		for _, jargon := range []string{"max_price", "minor units", "_minor"} {
			if strings.Contains(msg, jargon) {
				t.Errorf("%s: the page says %q, API jargon (%q)", tt.name, msg, jargon)
			}
		}
	}
	cp.do(setValues(map[string]string{"c-text": "", "c-price": "", "c-currency": "EUR", "c-region": ""}))

	// The vendor's filter form says what is wrong next to the field too,
	// for the page's own check (an amount) and the API's (a region, a
	// currency, a minimum price in no single currency), and nowhere else.
	vp.do(chromedp.Click(chromedp.CSS(`#filter-box summary`)), chromedp.WaitVisible(chromedp.ID("f-regions")))
	for _, tt := range []struct{ name, regions, currencies, min, at, says string }{
		{"region XX", "XX", "", "", "f-regions-error", `"XX" is not a country code`},
		{"currency XYZ", "", "XYZ", "", "f-currencies-error", `"XYZ" is not a currency code`},
		{"ceiling 1,5", "", "", "1,5", "f-min-error", "is not an amount"},
		{"ceiling 10.999", "", "", "10.999", "f-min-error", "10.999 has 3 decimals; an amount has at most 2 decimals."},
		{"ceiling 10.5 in JPY", "", "jpy", "10.5", "f-min-error", "10.5 has 1 decimal; JPY has no decimals."},
		{"ceiling 10 in no currency", "", "", "10", "f-min-error", "A minimum price needs exactly one currency"},
		{"ceiling 10 in EUR, JPY", "", "eur, jpy", "10", "f-min-error", "amounts in different currencies cannot be compared"},
	} {
		vp.do(
			setValues(map[string]string{"f-regions": tt.regions, "f-currencies": tt.currencies, "f-min": tt.min}),
			chromedp.Click(chromedp.ID("filter-save")),
			chromedp.WaitVisible(chromedp.ID(tt.at)),
		)
		if msg := vp.text("#" + tt.at); !strings.Contains(msg, tt.says) {
			t.Errorf("filter, %s: the page says %q at #%s; want ...%q...", tt.name, msg, tt.at, tt.says)
		}
		if shown := eval[int](vp, `[...document.querySelectorAll('#filter .error')].filter((e) => !e.hidden).length`); shown != 1 {
			t.Errorf("filter, %s: %d error messages shown, want 1, next to the field", tt.name, shown)
		}
	}
	vp.do(setValues(map[string]string{"f-regions": "", "f-currencies": "", "f-min": ""}), chromedp.Click(chromedp.CSS(`#filter-box summary`)))

	// The customer publishes through the form, with terms beyond the defaults.
	const want = "Light 14-inch laptop, 16 GB RAM, matte screen"
	deliver := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)
	id := cp.publish(want, "1200.00",
		chromedp.SendKeys(chromedp.ID("c-path"), "laptops"),
		chromedp.SendKeys(chromedp.ID("c-region"), "de"),
		chromedp.SetValue(chromedp.ID("c-currency"), "eur"),
		chromedp.SetValue(chromedp.ID("c-deliver"), deliver),
		chromedp.SetValue(chromedp.ID("c-expires"), "7d"),
		chromedp.Click(chromedp.CSS(`#c-terms-list input[value="no-marketing"]`)),
	)
	cp.do(chromedp.WaitVisible(chromedp.CSS(`#mint[data-state="done"]`)), chromedp.WaitNotVisible(chromedp.ID("compose-error")))
	if v := eval[float64](cp, `document.getElementById('mint-bar').value`); v != 1 {
		t.Errorf("the proof-of-work bar ends at %v, want 1", v)
	}
	own := `#own-intents .card.intent[data-intent="` + id + `"]`
	cp.do(chromedp.WaitVisible(chromedp.CSS(own + ` .waiting`)))
	got, err := customer.c.Intent(ctx, id)
	if err != nil {
		t.Fatalf("Intent: %v", err)
	}
	if got.Text != want || got.Region != "DE" || got.MaxPrice != "1200.00" || got.Currency != "EUR" ||
		strings.Join(got.Path, "/") != "laptops" || got.DeliverBy.Format(time.DateOnly) != deliver ||
		strings.Join(got.Terms, ",") != "no-tracking,no-resale,delete-after,no-marketing" {
		t.Errorf("the form published %+v", got)
	}

	// The vendor page sees it arrive, without a reload, and offers through
	// its form, prefilled from the intent.
	card := `#feed .feed-item[data-intent="` + id + `"]`
	vp.do(chromedp.WaitVisible(chromedp.CSS(card)))
	if txt := vp.text(card + ` .intent-text`); txt != want {
		t.Errorf("the vendor's feed shows %q, want %q", txt, want)
	}
	vp.do(
		chromedp.Click(chromedp.CSS(card+` button.make-offer`)),
		chromedp.WaitVisible(chromedp.CSS(card+` .offer-form .o-price`)),
	)
	if price := eval[string](vp, `document.querySelector(`+js(card+` .o-price`)+`).value`); price != "1200.00" {
		t.Errorf("the offer form's price is %q; want the ceiling 1200.00", price)
	}
	// A bad price is refused next to the price, as on the compose form.
	priceErr := "o-" + id[:12] + "-price-error"
	vp.do(
		fill(card+` .o-price`, "12,00"),
		chromedp.Click(chromedp.CSS(card+` button.send-offer`)),
		chromedp.WaitVisible(chromedp.ID(priceErr)),
	)
	if msg := vp.text("#" + priceErr); !strings.Contains(msg, "such as") {
		t.Errorf("the offer form says %q next to a price of 12,00; want how to write one", msg)
	}
	if shown := eval[int](vp, `[...document.querySelectorAll(`+js(card+` .offer-form .error`)+`)].filter((e) => !e.hidden).length`); shown != 1 {
		t.Errorf("the offer form shows %d error messages for one bad price, want 1", shown)
	}
	vp.do(
		fill(card+` .o-price`, "1099.00"),
		chromedp.SendKeys(chromedp.CSS(card+` .o-text`), "ThinkPad X1 Carbon, new, 16 GB; delivered in 3 days"),
		chromedp.SetValue(chromedp.CSS(card+` .o-valid`), "72h"),
		chromedp.Click(chromedp.CSS(card+` button.send-offer`)),
		chromedp.WaitVisible(chromedp.CSS(`#sent tr.sent[data-intent="`+id+`"][data-status="pending"]`)),
		chromedp.WaitNotVisible(chromedp.CSS(card+` .offer-form`)),
	)

	// A second vendor answers through the API, so there is something to
	// compare.
	eventually(t, 15*time.Second, "the second vendor sees the intent", func() bool {
		feed, err := rival.c.Feed(ctx)
		return err == nil && len(feed) > 0 && feed[0].ID == id
	})
	if _, err := rival.c.SendOffer(ctx, client.OfferRequest{IntentID: id, Price: "1149.00", Text: "Dell XPS 13, refurbished, 2-year warranty"}); err != nil {
		t.Fatalf("SendOffer: %v", err)
	}

	// The customer page shows both offers as they arrive, cheapest first,
	// with the terms commitment verified, and accepts one.
	acme := own + ` tr.offer[data-vendor="Acme Laptops"]`
	cp.do(
		chromedp.WaitVisible(chromedp.CSS(acme)),
		chromedp.WaitVisible(chromedp.CSS(own+` tr.offer[data-vendor="Berlin Tech Store"]`)),
	)
	if order := eval[string](cp, `[...document.querySelectorAll(`+js(own+` tr.offer`)+`)].map((r) => r.dataset.vendor).join(',')`); order != "Acme Laptops,Berlin Tech Store" {
		t.Errorf("offers in the order %q; want the cheaper first", order)
	}
	if row := cp.text(acme); !strings.Contains(row, "1099.00 EUR") || !strings.Contains(row, "verified") || !strings.Contains(row, "ThinkPad") {
		t.Errorf("the offer row reads %q", row)
	}
	const details = "Ada Lovelace, ada@example.org, Berliner Str. 1, 10115 Berlin"
	cp.do(
		chromedp.Click(chromedp.CSS(acme+` button.accept`)),
		chromedp.WaitVisible(chromedp.CSS(own+` .accept-panel`)),
		chromedp.SendKeys(chromedp.CSS(own+` .accept-details`), details),
		chromedp.Click(chromedp.CSS(own+` .confirm-accept`)),
		chromedp.WaitVisible(chromedp.CSS(`#customer-deals .deal[data-intent="`+id+`"]`)),
		chromedp.WaitVisible(chromedp.CSS(own+`[data-state="accepted"]`)),
		chromedp.WaitVisible(chromedp.CSS(acme+`[data-status="accepted"]`)),
	)
	if deal := cp.text(`#customer-deals .deal[data-intent="` + id + `"] .deal-line`); !strings.Contains(deal, "1099.00 EUR") || !strings.Contains(deal, "Acme Laptops") {
		t.Errorf("the customer's deal reads %q", deal)
	}

	// The vendor page learns of the accept live, with the sealed details.
	vdeal := `#vendor-deals .deal[data-intent="` + id + `"]`
	vp.do(
		chromedp.WaitVisible(chromedp.CSS(vdeal)),
		chromedp.WaitVisible(chromedp.CSS(`#sent tr.sent[data-intent="`+id+`"][data-status="accepted"]`)),
		chromedp.WaitVisible(chromedp.CSS(card+`[data-state="won"]`)),
	)
	if got := vp.text(vdeal + ` .deal-details`); got != details {
		t.Errorf("the vendor's deal shows details %q, want %q", got, details)
	}

	// The losing vendor's page shows the intent closed, its offer lapsed,
	// and no longer invites an offer.
	rp.do(
		chromedp.WaitVisible(chromedp.CSS(card+`[data-state="closed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#sent tr.sent[data-intent="`+id+`"][data-status="lapsed"]`)),
		chromedp.WaitNotVisible(chromedp.CSS(card+` button.make-offer`)),
	)

	// An intent published elsewhere (the CLI) shows on both pages live.
	const second = "Noise-cancelling headphones, over-ear"
	if _, err := customer.c.PublishIntent(ctx, client.PublishRequest{Category: "electronics", Path: []string{"audio"}, Text: second,
		MaxPrice: "250", Currency: "EUR", Region: "DE"}, nil); err != nil {
		t.Fatalf("PublishIntent: %v", err)
	}
	for _, p := range []*page{cp, vp} {
		poll[bool](p, "the second intent shows", `[...document.querySelectorAll('.card .intent-text')].some((e) => e.textContent === `+js(second)+`)`)
		p.stillLoaded()
	}

	cp.screenshot("customer.png")
	vp.screenshot("vendor.png")
}

func testEscaping(t *testing.T, cp, vp *page) {
	cp.t, vp.t = t, t
	id := cp.publish(xss, "99")
	card := `#feed .feed-item[data-intent="` + id + `"]`
	vp.do(chromedp.WaitVisible(chromedp.CSS(card)))
	for _, p := range []*page{cp, vp} {
		sel := `.card[data-intent="` + id + `"] .intent-text`
		if got := p.text(sel); got != xss {
			t.Errorf("the %s page shows %q, want the text literally", p.name, got)
		}
		if n := eval[int](p, `document.querySelectorAll('main img, main script').length`); n != 0 {
			t.Errorf("the %s page has %d img or script elements in its content: the text became HTML", p.name, n)
		}
		if pwned := eval[string](p, `typeof window.__pwned`); pwned != "undefined" {
			t.Errorf("the %s page ran the intent's script: window.__pwned is %s", p.name, pwned)
		}
	}
}

func testPhone(t *testing.T, cp, vp *page) {
	cp.t, vp.t = t, t
	for _, p := range []*page{cp, vp} {
		p.do(chromedp.EmulateViewport(375, 800, chromedp.EmulateMobile, chromedp.EmulatePortrait))
		if w := eval[int](p, `document.documentElement.scrollWidth`); w > 375 {
			t.Errorf("the %s page is %d px wide on a 375 px screen", p.name, w)
		}
	}
	// Every control of the compose form is on the screen and usable.
	bad := eval[[]string](cp, `[...document.querySelectorAll('#compose input, #compose select, #compose textarea, #compose button')]
		.filter((e) => e.offsetParent !== null)
		.filter((e) => { const r = e.getBoundingClientRect(); return r.left < 0 || r.right > 375 || r.width < 16 || r.height < 16; })
		.map((e) => (e.id || e.name || e.tagName) + ' ' + JSON.stringify(e.getBoundingClientRect()))`)
	if len(bad) > 0 {
		t.Errorf("compose controls off the 375 px screen or too small: %v", bad)
	}
	cp.do(chromedp.ScrollIntoView(chromedp.ID("publish")), chromedp.WaitVisible(chromedp.ID("publish")))
	for _, p := range []*page{cp, vp} {
		p.do(chromedp.EmulateViewport(1280, 900))
	}
}

// TestHandler checks what the page's handler serves without a browser.
func TestHandler(t *testing.T) {
	h := web.Handler()
	for _, tc := range []struct {
		method, path string
		status       int
		ctype, body  string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `<script type="module" src="/static/app.js">`},
		{"GET", "/static/app.js", 200, "text/javascript; charset=utf-8", "api.watch"},
		{"GET", "/static/style.css", 200, "text/css; charset=utf-8", ":root"},
		{"HEAD", "/static/icon.svg", 200, "image/svg+xml", ""},
		{"GET", "/static/", 404, "", ""},
		{"GET", "/static/../web.go", 404, "", ""},
		{"GET", "/static/nope.js", 404, "", ""},
		{"GET", "/index.html", 404, "", ""},
		{"POST", "/", 405, "", ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, "http://127.0.0.1"+tc.path, nil))
		if rec.Code != tc.status {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, rec.Code, tc.status)
			continue
		}
		if tc.status != 200 {
			continue
		}
		res := rec.Result()
		if ct := res.Header.Get("Content-Type"); ct != tc.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", tc.method, tc.path, ct, tc.ctype)
		}
		if csp := res.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("%s %s: Content-Security-Policy %q", tc.method, tc.path, csp)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s %s: no nosniff", tc.method, tc.path)
		}
		body, _ := io.ReadAll(res.Body)
		if !strings.Contains(string(body), tc.body) {
			t.Errorf("%s %s: body lacks %q", tc.method, tc.path, tc.body)
		}
	}
}

// TestNoHTMLSinks keeps the page's scripts free of the DOM's HTML sinks:
// data from strangers must only ever become text.
func TestNoHTMLSinks(t *testing.T) {
	dir := "static"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	sinks := []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "srcdoc", "createContextualFragment", "DOMParser"}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".js") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sinks {
			if i := strings.Index(string(b), s); i >= 0 {
				line := strings.Count(string(b[:i]), "\n") + 1
				t.Errorf("%s:%d uses %s", e.Name(), line, s)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "app.js")); errors.Is(err, os.ErrNotExist) {
		t.Error("static/app.js is missing")
	}
}
