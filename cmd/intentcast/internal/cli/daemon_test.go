package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/intentcast/intentcast/cmd/intentcast/internal/daemon"
	"github.com/intentcast/intentcast/node/api/client"
)

// TestDaemonLoop runs a customer and a vendor daemon in process (through
// Run, as the binary does) and drives the whole loop through the client
// commands: publish, vendor watch and offer, offers watch, list and
// accept, deals on both sides.
func TestDaemonLoop(t *testing.T) {
	cdir, vdir := t.TempDir(), t.TempDir()
	cust := startDaemon(t, cdir)
	if out := cust.stdout.String(); !strings.Contains(out, "peer ID") || !strings.Contains(out, "web page") || !strings.Contains(out, filepath.Join(cdir, daemon.TokenFile)) {
		t.Errorf("daemon banner lacks the peer ID, web page or token path:\n%s", out)
	}
	addr, _ := os.ReadFile(filepath.Join(cdir, daemon.AddrFile))
	resp, err := http.Get("http://" + strings.TrimSpace(string(addr)) + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("web page: %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	c := func(args ...string) []string { return append([]string{"--data-dir", cdir}, args...) }
	v := func(args ...string) []string { return append([]string{"--data-dir", vdir}, args...) }

	info := decodeJSON[client.NodeInfo](t, mustRun(t, c("--json", "id")...))
	if len(info.Addrs) == 0 {
		t.Fatalf("customer has no addresses: %+v", info)
	}
	startDaemon(t, vdir, "--bootstrap", info.Addrs[0])
	eventually(t, 20*time.Second, "the vendor connects to the customer", func() bool {
		peers := decodeJSON[[]client.PeerInfo](t, mustRun(t, v("peers", "--json")...))
		return len(peers) > 0
	})
	if r := mustRun(t, c("peers")...); !strings.Contains(r.stdout, "PEER") || !strings.Contains(r.stdout, "direct") {
		t.Errorf("peers table lacks its header or the direct connection:\n%s", r.stdout)
	}
	// Loopback is never public: AutoNAT has no verdict, no relay serves.
	st := decodeJSON[client.NetworkStatus](t, mustRun(t, c("status", "--json")...))
	if st.Reachability != "unknown" || st.Peers != 1 || st.RelayedPeers != 0 || st.DHT != "off" || len(st.Addrs) == 0 {
		t.Errorf("status = %+v", st)
	}
	if r := mustRun(t, c("status")...); !strings.Contains(r.stdout, "reachability") || !strings.Contains(r.stdout, "1 (0 relayed only)") {
		t.Errorf("status said:\n%s", r.stdout)
	}
	// At runtime: the customer drops the vendor, then dials it again.
	vinfo := decodeJSON[client.NodeInfo](t, mustRun(t, v("--json", "id")...))
	if r := mustRun(t, c("peers", "disconnect", vinfo.PeerID)...); !strings.Contains(r.stdout, "disconnected from "+vinfo.PeerID) {
		t.Errorf("peers disconnect said:\n%s", r.stdout)
	}
	if r := mustRun(t, c("peers", "connect", vinfo.Addrs[0])...); !strings.Contains(r.stdout, "connected to "+vinfo.PeerID+" (direct)") {
		t.Errorf("peers connect said:\n%s", r.stdout)
	}

	// The vendor narrows its filter; the laptop intent still passes.
	f := decodeJSON[client.Filter](t, mustRun(t, v("vendor", "filter", "--category", "electronics,home", "--keyword", "laptop", "--json")...))
	if !slices.Equal(f.Categories, []string{"electronics", "home"}) || !slices.Equal(f.Keywords, []string{"laptop"}) {
		t.Errorf("filter after setting = %+v", f)
	}
	if r := mustRun(t, v("vendor", "filter")...); !strings.Contains(r.stdout, "electronics, home") {
		t.Errorf("filter shown as:\n%s", r.stdout)
	}

	// Publish.
	r := mustRun(t, c("--json", "intent", "publish", "--category", "electronics", "--path", "laptops",
		"--text", "14-inch laptop, 32 GB", "--max-price", "1200", "--currency", "EUR", "--region", "DE",
		"--deliver-by", time.Now().AddDate(0, 1, 0).Format(time.DateOnly), "--terms", "no-tracking,delete-after",
		"--custom", "contact=email, no calls")...)
	in := decodeJSON[client.IntentView](t, r)
	if in.State != client.StateOpen || in.MaxPrice != "1200.00" || in.CustomTerms["contact"] != "email, no calls" ||
		!slices.Equal(in.Terms, []string{"no-tracking", "delete-after"}) {
		t.Errorf("published intent = %+v", in)
	}
	if !strings.Contains(r.stderr, "minted and published") {
		t.Errorf("publish shows no minting progress on stderr:\n%s", r.stderr)
	}

	// The vendor sees it and offers. Its feed lists the intent once the
	// node has stored it (write-behind, up to 100ms after it arrived); the
	// watch then replays it.
	eventually(t, 20*time.Second, "the vendor's feed lists the intent", func() bool {
		return strings.Contains(mustRun(t, v("vendor", "feed")...).stdout, short(in.ID))
	})
	ctx, cancel := context.WithTimeout(t.Context(), patience)
	seen := runCtx(ctx, v("--json", "vendor", "watch", "--until", "1")...)
	cancel()
	if seen.code != 0 {
		t.Fatalf("vendor watch: exit %d: %v", seen.code, seen.err)
	}
	feed := decodeLines[client.IntentView](t, seen.stdout)
	if len(feed) != 1 || feed[0].ID != in.ID {
		t.Fatalf("vendor watch printed %+v, want intent %s", feed, in.ID)
	}
	offer := decodeJSON[client.OfferView](t, mustRun(t, v("--json", "vendor", "offer", in.ID, "--price", "999.90", "--text", "ThinkPad, ships tomorrow")...))
	if offer.IntentID != in.ID || offer.Price != "999.90" {
		t.Errorf("sent offer = %+v", offer)
	}

	if r := run(t, v("vendor", "offer", short(in.ID), "--price", "9,99")...); r.code != ExitUsage || !strings.Contains(r.err.Error(), `--price "9,99"`) {
		t.Errorf("offer with a malformed price: exit %d (%v), want a usage error naming --price", r.code, r.err)
	}
	if r := run(t, v("vendor", "offer", short(in.ID), "--price", "1300")...); r.code != ExitUsage || !strings.Contains(r.err.Error(), `--price "1300": 1300.00 EUR is over the customer's ceiling`) {
		t.Errorf("offer above the ceiling (the daemon's catch): exit %d (%v), want %d naming --price", r.code, r.err, ExitUsage)
	}

	// The customer sees it arrive, lists and accepts it (by prefixes).
	ctx, cancel = context.WithTimeout(t.Context(), patience)
	got := runCtx(ctx, c("offers", "watch", short(in.ID), "--until", "1")...)
	cancel()
	if got.code != 0 || !strings.Contains(got.stdout, short(offer.ID)) || !strings.Contains(got.stdout, "999.90 EUR") {
		t.Fatalf("offers watch: exit %d (%v):\n%s", got.code, got.err, got.stdout)
	}
	offers := decodeJSON[[]client.OfferView](t, mustRun(t, c("--json", "offers", "list", in.ID[:8])...))
	if len(offers) != 1 || offers[0].ID != offer.ID || !offers[0].TermsOK || offers[0].Status != "valid" {
		t.Fatalf("offers list = %+v", offers)
	}
	if r := mustRun(t, c("offers", "list", in.ID[:8])...); !strings.Contains(r.stdout, "TERMS OK") || !strings.Contains(r.stdout, "999.90 EUR") {
		t.Errorf("offers table:\n%s", r.stdout)
	}
	deal := decodeJSON[client.DealView](t, mustRun(t, c("--json", "offers", "accept", in.ID[:10], offer.ID[:10], "--details", "ship to: Kiez 1")...))
	if deal.OfferID != offer.ID || deal.Role != "customer" {
		t.Errorf("accept = %+v", deal)
	}

	// Both sides hold the deal.
	deals := decodeJSON[[]client.DealView](t, mustRun(t, c("--json", "deals")...))
	if len(deals) != 1 || deals[0].OfferID != offer.ID {
		t.Errorf("customer deals = %+v", deals)
	}
	var vdeals []client.DealView
	eventually(t, 20*time.Second, "the vendor records the deal", func() bool {
		vdeals = decodeJSON[[]client.DealView](t, mustRun(t, v("--json", "deals")...))
		return len(vdeals) == 1
	})
	if vdeals[0].OfferID != offer.ID || vdeals[0].Role != "vendor" || vdeals[0].Details != "ship to: Kiez 1" {
		t.Errorf("vendor deal = %+v", vdeals[0])
	}
	sent := decodeJSON[[]client.OfferView](t, mustRun(t, v("--json", "vendor", "offers")...))
	if len(sent) != 1 || sent[0].Status != "accepted" {
		t.Errorf("vendor offers = %+v", sent)
	}

	// offers watch --until counts valid offers only: the accepted one is
	// shown but does not count, so watching for 2 across all intents waits
	// for the second offer to a new intent.
	in2 := decodeJSON[client.IntentView](t, mustRun(t, c("--json", "intent", "publish", "--category", "electronics",
		"--text", "a second laptop", "--max-price", "1000", "--currency", "EUR")...))
	eventually(t, 20*time.Second, "the vendor's feed lists the second intent", func() bool {
		return strings.Contains(mustRun(t, v("vendor", "feed")...).stdout, short(in2.ID))
	})
	first := decodeJSON[client.OfferView](t, mustRun(t, v("--json", "vendor", "offer", in2.ID, "--price", "900")...))
	eventually(t, 20*time.Second, "the customer holds the first offer to the second intent", func() bool {
		return len(decodeJSON[[]client.OfferView](t, mustRun(t, c("--json", "offers", "list", in2.ID)...))) == 1
	})
	watched := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(t.Context(), patience)
		defer cancel()
		watched <- runCtx(ctx, c("--json", "offers", "watch", "--until", "2")...)
	}()
	second := decodeJSON[client.OfferView](t, mustRun(t, v("--json", "vendor", "offer", in2.ID, "--price", "950")...))
	got = <-watched
	printed := decodeLines[client.OfferView](t, got.stdout)
	if got.code != 0 || len(printed) != 3 || printed[0].Status != "accepted" || printed[1].ID != first.ID || printed[2].ID != second.ID {
		t.Errorf("offers watch --until 2: exit %d (%v), want the accepted offer, then %s and %s:\n%s",
			got.code, got.err, short(first.ID), short(second.ID), got.stdout)
	}

	// A vendor's watch goes on past the intents it showed: it says when
	// one closes, in a line of text or, with --json, as the intent again
	// in its new state. Ctrl-C ends it with 130.
	watchCtx, stopWatches := context.WithCancel(t.Context())
	defer stopWatches()
	type watching struct {
		out  *syncBuffer
		code chan int
	}
	text, asJSON := watching{&syncBuffer{}, make(chan int, 1)}, watching{&syncBuffer{}, make(chan int, 1)}
	for w, args := range map[watching][]string{text: v("vendor", "watch"), asJSON: v("--json", "vendor", "watch")} {
		go func() { w.code <- ExitCode(Run(watchCtx, append([]string{"intentcast"}, args...), w.out, io.Discard)) }()
	}
	in3 := decodeJSON[client.IntentView](t, mustRun(t, c("--json", "intent", "publish", "--category", "electronics",
		"--text", "a third laptop", "--max-price", "800", "--currency", "EUR")...))
	for _, w := range []watching{text, asJSON} {
		eventually(t, 20*time.Second, "the vendor's watches show the third intent", func() bool {
			return strings.Contains(w.out.String(), short(in3.ID))
		})
	}
	mustRun(t, c("intent", "cancel", short(in3.ID))...)
	eventually(t, 20*time.Second, "the vendor's text watch says the third intent was cancelled", func() bool {
		return strings.Contains(text.out.String(), "cancelled "+short(in3.ID))
	})
	eventually(t, 20*time.Second, "the vendor's JSON watch shows the third intent cancelled", func() bool {
		return slices.ContainsFunc(decodeLines[client.IntentView](t, asJSON.out.String()), func(in client.IntentView) bool {
			return in.ID == in3.ID && in.State == client.StateCancelled
		})
	})
	stopWatches()
	for _, w := range []watching{text, asJSON} {
		if code := <-w.code; code != ExitInterrupted {
			t.Errorf("vendor watch stopped by Ctrl-C: exit %d, want %d", code, ExitInterrupted)
		}
	}

	// Human output.
	if r := mustRun(t, c("intent", "show", short(in.ID))...); !strings.Contains(r.stdout, "accepted") || !strings.Contains(r.stdout, offer.ID) {
		t.Errorf("intent show:\n%s", r.stdout)
	}
	if r := mustRun(t, c("intent", "list")...); !strings.Contains(r.stdout, "OFFERS") || !strings.Contains(r.stdout, short(in.ID)) {
		t.Errorf("intent list:\n%s", r.stdout)
	}
	if r := mustRun(t, c("deals")...); !strings.Contains(r.stdout, "customer") || !strings.Contains(r.stdout, "999.90 EUR") {
		t.Errorf("deals:\n%s", r.stdout)
	}

	// Errors: unknown IDs are "not found", a wrong token says where the
	// right one is.
	if r := run(t, c("intent", "show", "0000000000")...); r.code != ExitNotFound {
		t.Errorf("intent show of an unknown prefix: exit %d (%v), want %d", r.code, r.err, ExitNotFound)
	}
	if r := run(t, c("intent", "show", strings.Repeat("0", 64))...); r.code != ExitNotFound {
		t.Errorf("intent show of an unknown ID: exit %d (%v), want %d", r.code, r.err, ExitNotFound)
	}
	if r := run(t, c("--token", "wrong", "intent", "list")...); r.code != ExitFailure || !strings.Contains(r.err.Error(), "token") {
		t.Errorf("wrong token: exit %d (%v)", r.code, r.err)
	}
	if r := run(t, c("intent", "cancel", short(in.ID))...); r.code != ExitFailure || !strings.Contains(r.err.Error(), "accepted") {
		t.Errorf("cancelling an accepted intent: exit %d (%v), want 1 and a message that it is accepted", r.code, r.err)
	}

	// A clean stop removes api.addr; the data stays.
	cust.stop(t)
	if _, err := os.Stat(filepath.Join(cdir, daemon.AddrFile)); !os.IsNotExist(err) {
		t.Errorf("api.addr left behind after a clean stop: %v", err)
	}
	if !strings.Contains(cust.stdout.String(), "stopping") {
		t.Errorf("daemon did not say it stops:\n%s", cust.stdout)
	}
}

// TestDaemonRestartKeepsState stops a daemon and starts it again on the
// same data dir: same peer ID, same intents.
func TestDaemonRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, dir)
	id1 := decodeJSON[client.NodeInfo](t, mustRun(t, "--data-dir", dir, "--json", "id"))
	in := decodeJSON[client.IntentView](t, mustRun(t, "--data-dir", dir, "--json", "intent", "publish",
		"--category", "home", "--text", "a sofa", "--max-price", "300", "--currency", "EUR"))
	cancelled := decodeJSON[client.IntentView](t, mustRun(t, "--data-dir", dir, "--json", "intent", "cancel", short(in.ID)))
	if cancelled.State != client.StateCancelled {
		t.Errorf("cancel = %+v", cancelled)
	}
	mustRun(t, "--data-dir", dir, "vendor", "filter", "--keyword", "sofa", "--region", "de")
	d.stop(t)

	startDaemon(t, dir)
	id2 := decodeJSON[client.NodeInfo](t, mustRun(t, "--data-dir", dir, "--json", "id"))
	if id1.PeerID != id2.PeerID || id1.Vendor.Key != id2.Vendor.Key {
		t.Errorf("restart changed identity: %s/%s -> %s/%s", id1.PeerID, id1.Vendor.Key, id2.PeerID, id2.Vendor.Key)
	}
	ins := decodeJSON[[]client.IntentView](t, mustRun(t, "--data-dir", dir, "--json", "intent", "list"))
	if len(ins) != 1 || ins[0].ID != in.ID || ins[0].State != client.StateCancelled {
		t.Errorf("after restart: %+v", ins)
	}
	f := decodeJSON[client.Filter](t, mustRun(t, "--data-dir", dir, "--json", "vendor", "filter"))
	if !slices.Equal(f.Keywords, []string{"sofa"}) || !slices.Equal(f.Regions, []string{"DE"}) {
		t.Errorf("vendor filter after restart = %+v, want keyword sofa, region DE", f)
	}
}

// TestSwarmDemo runs the swarm's demo in process.
func TestSwarmDemo(t *testing.T) {
	r := mustRun(t, "--json", "swarm", "--vendors", "2", "--timeout", "20s")
	res := decodeJSON[demoResult](t, r)
	if len(res.Nodes) != 3 || len(res.Offers) != 2 || len(res.Deals) != 2 {
		t.Fatalf("swarm demo: %d nodes, %d offers, %d deals", len(res.Nodes), len(res.Offers), len(res.Deals))
	}
	// Bot 1 offers 94%, bot 2 88% of 1200: the customer counters the
	// cheaper, 1056, at 95% (1003), and takes the revised offer halfway:
	// 1029.
	if res.Deals[0].Offer.Price != "1029.00" || res.Deals[0].OfferID != res.Deals[1].OfferID {
		t.Errorf("deals: %+v", res.Deals)
	}
	// The customer rated the deal; its node counts the rating, the
	// vendor's reply and profile.
	if r, rep := res.Rating, res.Reputation; r == nil || rep == nil || r.Score != 5 || r.IntentID != res.Deals[0].IntentID ||
		rep.Count != 1 || rep.Replies != 1 || rep.Profile == nil || rep.VendorKey != res.Deals[0].Offer.Vendor.Key {
		t.Errorf("rating %+v, reputation %+v", res.Rating, res.Reputation)
	}
}

// TestSwarmOutput: what the demo prints fits 100 columns, the tokens
// included, and the publish takes one line.
func TestSwarmOutput(t *testing.T) {
	r := mustRun(t, "swarm", "--vendors", "2", "--timeout", "20s")
	for line := range strings.Lines(r.stdout) {
		if n := utf8.RuneCountInString(strings.TrimRight(line, "\n")); n > 100 {
			t.Errorf("a line of %d columns:\n%s", n, line)
		}
	}
	if n := strings.Count(r.stdout+r.stderr, "published"); n != 1 {
		t.Errorf("%d lines say the intent was published, want 1:\n%s\n%s", n, r.stdout, r.stderr)
	}
	if tokens := regexp.MustCompile(`(?m)^  .+  [0-9a-f]{64}$`).FindAllString(r.stdout, -1); len(tokens) != 3 {
		t.Errorf("%d token lines, want one per node:\n%s", len(tokens), r.stdout)
	}
}

// TestInputRulesThroughTheDaemon: bad input that only the daemon can judge
// (a category it does not serve, a filter's codes against the filter it
// holds) is a usage error naming the flag, exit 2, as the input this
// process checks itself is; lower-case codes are read as capitals.
func TestInputRulesThroughTheDaemon(t *testing.T) {
	dir := t.TempDir()
	mustRun(t, "--data-dir", dir, "init", "--profile", "test")
	cfgPath := filepath.Join(dir, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg = regexp.MustCompile(`(?m)^categories = .*$`).ReplaceAll(cfg, []byte(`categories = ["electronics"]`))
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	startDaemon(t, dir)
	d := func(args ...string) []string { return append([]string{"--data-dir", dir}, args...) }

	in := decodeJSON[client.IntentView](t, mustRun(t, d("--json", "intent", "publish", "--category", "electronics",
		"--text", "a laptop", "--max-price", "100", "--currency", "eur", "--region", "de")...))
	if in.Currency != "EUR" || in.Region != "DE" {
		t.Errorf("published with --currency eur --region de: currency %q, region %q; want EUR, DE", in.Currency, in.Region)
	}
	// --text @FILE and --text - (stdin).
	textFile := filepath.Join(t.TempDir(), "want.txt")
	if err := os.WriteFile(textFile, []byte("a laptop, described in a file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile := decodeJSON[client.IntentView](t, mustRun(t, d("--json", "intent", "publish", "--category", "electronics",
		"--text", "@"+textFile, "--max-price", "100", "--currency", "EUR")...))
	if fromFile.Text != "a laptop, described in a file" {
		t.Errorf("--text @FILE published %q", fromFile.Text)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin := os.Stdin
	os.Stdin = pr
	t.Cleanup(func() { os.Stdin = stdin })
	go func() {
		io.WriteString(pw, "a laptop, typed into stdin\n")
		pw.Close()
	}()
	fromStdin := decodeJSON[client.IntentView](t, mustRun(t, d("--json", "intent", "publish", "--category", "electronics",
		"--text", "-", "--max-price", "100", "--currency", "EUR")...))
	os.Stdin = stdin
	if fromStdin.Text != "a laptop, typed into stdin" {
		t.Errorf("--text - published %q", fromStdin.Text)
	}

	tests := []struct {
		args []string
		want []string
	}{
		{d("intent", "publish", "--category", "travel", "--text", "a flight", "--max-price", "100", "--currency", "EUR"),
			[]string{`--category "travel"`, "does not serve travel"}},
		{d("vendor", "filter", "--min-price", "10.999"), []string{`--min-price "10.999"`, "10.999 has 3 decimals; an amount has at most 2 decimals"}},
		{d("vendor", "filter", "--region", "XX"), []string{`--region "XX"`, `"XX" is not a country code`}},
		{d("vendor", "filter", "--currency", "XYZ"), []string{`--currency "XYZ"`, `"XYZ" is not a currency code`}},
		{d("vendor", "filter", "--currency", "jpy", "--min-price", "10.5"), []string{`--min-price "10.5"`, "10.5 has 1 decimal; JPY has no decimals."}},
		// A minimum price is in one currency, which the flags must name.
		{d("vendor", "filter", "--min-price", "10"), []string{"--min-price needs exactly one --currency (the filter would take any currency)", "cannot be compared"}},
		{d("vendor", "filter", "--currency", "jpy,eur", "--min-price", "10"), []string{"--min-price needs exactly one --currency (the filter would take JPY, EUR)"}},
	}
	// The minimum price is in the one currency's major units, as the web
	// page reads it.
	for _, tt := range []struct {
		currencies, min string
		minor           uint64
		shown           string
	}{
		{"jpy", "1050", 1050, "1050 JPY"},
		{"eur", "10.5", 1050, "10.50 EUR"},
		{"eur,EUR", "10.5", 1050, "10.50 EUR"}, // one currency, named twice
	} {
		f := decodeJSON[client.Filter](t, mustRun(t, d("--json", "vendor", "filter", "--currency", tt.currencies, "--min-price", tt.min)...))
		if f.MinPrice != tt.minor {
			t.Errorf("--currency %s --min-price %s: min price %d, want %d", tt.currencies, tt.min, f.MinPrice, tt.minor)
		}
		if r := mustRun(t, d("vendor", "filter")...); !regexp.MustCompile(`(?m)^min price +` + regexp.QuoteMeta(tt.shown) + `$`).MatchString(r.stdout) {
			t.Errorf("--currency %s --min-price %s: the filter shows\n%s\nwant min price %s", tt.currencies, tt.min, r.stdout, tt.shown)
		}
	}
	// A second currency would leave the stored minimum price in none.
	if r := run(t, d("vendor", "filter", "--currency", "eur,usd")...); r.code != ExitUsage || !strings.Contains(r.err.Error(), "--min-price needs exactly one --currency (the filter would take EUR, USD)") {
		t.Errorf("--currency eur,usd over a minimum price in EUR: exit %d (%v), want %d naming --min-price and --currency", r.code, r.err, ExitUsage)
	}
	// Another currency alone would read the minimum price's minor units
	// in it: 10.50 EUR as 1050 JPY.
	if r := run(t, d("vendor", "filter", "--currency", "jpy")...); r.code != ExitUsage || !strings.Contains(r.err.Error(), "--currency JPY would turn the minimum price of 10.50 EUR into 1050 JPY: give --min-price again") {
		t.Errorf("--currency jpy over a minimum price in EUR: exit %d (%v), want %d asking for --min-price", r.code, r.err, ExitUsage)
	}
	if f := decodeJSON[client.Filter](t, mustRun(t, d("--json", "vendor", "filter", "--currency", "jpy", "--min-price", "1500")...)); f.MinPrice != 1500 {
		t.Errorf("--currency jpy --min-price 1500 over a minimum price in EUR: min price %d, want 1500", f.MinPrice)
	}
	mustRun(t, d("vendor", "filter", "--clear")...)

	for _, tt := range tests {
		r := run(t, tt.args...)
		if r.code != ExitUsage {
			t.Errorf("%v: exit %d (%v), want %d", tt.args, r.code, r.err, ExitUsage)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(r.err.Error(), w) {
				t.Errorf("%v: message %q lacks %q", tt.args, r.err, w)
			}
		}
	}
}

// TestDaemonSIGHUP: SIGHUP does not stop the daemon (Go's default would
// kill it); it reloads the log level from config.toml and says what it did,
// and a config that does not load changes nothing.
func TestDaemonSIGHUP(t *testing.T) {
	dir := t.TempDir()
	d := startDaemon(t, dir) // --log-level warn
	cfgPath := filepath.Join(dir, "config.toml")
	cfg, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	level := regexp.MustCompile(`(?m)^level = .*$`)
	if !level.Match(cfg) {
		t.Fatalf("config.toml has no log level line:\n%s", cfg)
	}
	if err := os.WriteFile(cfgPath, level.ReplaceAll(cfg, []byte(`level = "debug"`)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the daemon logs the reload", func() bool {
		return strings.Contains(d.stderr.String(), "SIGHUP: reloaded the log level") && strings.Contains(d.stderr.String(), "level=DEBUG")
	})
	if err := os.WriteFile(cfgPath, []byte("this is not toml ["), 0o600); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	eventually(t, 20*time.Second, "the daemon logs the failed reload", func() bool {
		return strings.Contains(d.stderr.String(), "SIGHUP: config not reloaded")
	})
	// Still serving.
	if r := mustRun(t, "--data-dir", dir, "--json", "id"); !strings.Contains(r.stdout, "peer_id") {
		t.Errorf("after SIGHUP, id printed:\n%s", r.stdout)
	}
}
