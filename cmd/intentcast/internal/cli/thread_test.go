package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/api/client"
)

// TestThreadCommands negotiates through the CLI between two real daemons:
// the customer counters the vendor's offer, the vendor reads the thread and
// answers with a revised offer, the customer reads the threads of its intent
// and accepts the revised offer; each command names the offer by a prefix.
// Out-of-turn messages, unknown offers and a closed thread are refused with
// the exit codes of the package documentation.
func TestThreadCommands(t *testing.T) {
	cdir, vdir, in, offer := daemonsWithOffer(t)
	c := func(args ...string) []string { return append([]string{"--data-dir", cdir}, args...) }
	v := func(args ...string) []string { return append([]string{"--data-dir", vdir}, args...) }
	thread := func(dir string) client.ThreadView {
		return decodeJSON[client.ThreadView](t, mustRun(t, "--data-dir", dir, "--json", "thread", offer.ID[:10]))
	}

	if r := mustRun(t, c("threads", in.ID[:8])...); !strings.Contains(r.stdout, "no negotiations on intent "+short(in.ID)) {
		t.Errorf("threads before any counter:\n%s", r.stdout)
	}
	if trs := decodeJSON[[]client.ThreadView](t, mustRun(t, c("--json", "threads", in.ID[:8])...)); trs == nil || len(trs) != 0 {
		t.Errorf("threads --json before any counter = %#v, want []", trs)
	}
	if r := run(t, v("vendor", "reply", offer.ID[:10], "--text", "hello?")...); r.code != ExitFailure || !strings.Contains(r.err.Error(), "turn") {
		t.Errorf("a reply before any counter: exit %d (%v), want %d saying whose turn it is", r.code, r.err, ExitFailure)
	}

	// The customer counters: the thread as it stands after comes back.
	tr := decodeJSON[client.ThreadView](t, mustRun(t, c("--json", "counter", offer.ID[:10], "--price", "950",
		"--terms", "no-marketing", "--custom", "warranty=2 years", "--text", "Would you include a sleeve?")...))
	if tr.Root != offer.ID || tr.Role != "customer" || tr.Turn != "vendor" || !tr.Open || len(tr.Messages) != 1 {
		t.Fatalf("counter = %+v", tr)
	}
	if m := tr.Messages[0]; m.From != "customer" || m.Price != "950.00" || m.Text != "Would you include a sleeve?" ||
		len(m.Terms) != 1 || m.Terms[0] != "no-marketing" || m.CustomTerms["warranty"] != "2 years" {
		t.Errorf("the counter = %+v", m)
	}
	if r := run(t, c("counter", offer.ID[:10], "--price", "940")...); r.code != ExitFailure || !strings.Contains(r.err.Error(), "turn") {
		t.Errorf("a second counter in a row: exit %d (%v), want %d saying whose turn it is", r.code, r.err, ExitFailure)
	}
	if r := run(t, c("counter", offer.ID[:10], "--price", "12,50")...); r.code != ExitUsage || !strings.Contains(r.err.Error(), `--price "12,50"`) {
		t.Errorf("a counter with a malformed price (the daemon's catch): exit %d (%v), want %d naming --price", r.code, r.err, ExitUsage)
	}

	// The counter travels sealed to the vendor, whose turn it is.
	eventually(t, 20*time.Second, "the vendor holds the counter", func() bool { return len(thread(vdir).Messages) == 1 })
	r := mustRun(t, v("thread", offer.ID[:10])...)
	for _, want := range []string{"thread on offer " + short(offer.ID), "(you are the vendor)", "950.00 EUR", "+no-marketing", `+warranty="2 years"`, `"Would you include a sleeve?"`, "your turn"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the vendor's thread lacks %q:\n%s", want, r.stdout)
		}
	}

	// The vendor answers with a revised offer.
	tr = decodeJSON[client.ThreadView](t, mustRun(t, v("--json", "vendor", "reply", offer.ID[:10], "--price", "975",
		"--offer-text", "With a sleeve, ships tomorrow", "--text", "Halfway, sleeve included.")...))
	if tr.Role != "vendor" || tr.Turn != "customer" || len(tr.Messages) != 2 || tr.Messages[1].Offer == nil {
		t.Fatalf("reply = %+v", tr)
	}
	revised := *tr.Messages[1].Offer
	if revised.Price != "975.00" || revised.Text != "With a sleeve, ships tomorrow" || revised.ID == offer.ID || tr.Messages[1].Text != "Halfway, sleeve included." {
		t.Errorf("the revised offer = %+v, message %+v", revised, tr.Messages[1])
	}

	// The customer reads it in the thread and in the threads of its intent.
	eventually(t, 20*time.Second, "the customer holds the revised offer", func() bool {
		tr := thread(cdir)
		return len(tr.Messages) == 2 && tr.Messages[1].Offer != nil
	})
	r = mustRun(t, c("threads", in.ID[:8])...)
	for _, want := range []string{"(you are the customer)", "revised offer " + short(revised.ID) + ": 975.00 EUR", `"Halfway, sleeve included."`, "your turn"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("the customer's threads lack %q:\n%s", want, r.stdout)
		}
	}
	if trs := decodeJSON[[]client.ThreadView](t, mustRun(t, c("--json", "threads", in.ID[:8])...)); len(trs) != 1 || trs[0].Root != offer.ID {
		t.Errorf("threads --json = %+v, want the one thread on %s", trs, short(offer.ID))
	}

	// It accepts the revised offer like any other.
	deal := decodeJSON[client.DealView](t, mustRun(t, c("--json", "offers", "accept", in.ID[:8], revised.ID[:10])...))
	if deal.OfferID != revised.ID || deal.Offer.Price != "975.00" {
		t.Errorf("accept of the revised offer = %+v", deal)
	}
	if r := mustRun(t, c("thread", offer.ID[:10])...); !strings.Contains(r.stdout, "closed") {
		t.Errorf("the thread after the accept:\n%s", r.stdout)
	}
	if r := run(t, c("counter", offer.ID[:10], "--text", "one more thing")...); r.code != ExitFailure {
		t.Errorf("a counter on a closed thread: exit %d (%v), want %d", r.code, r.err, ExitFailure)
	}

	// Unknown offers are not found, on either side.
	for _, args := range [][]string{c("thread", "00000000"), c("counter", "00000000", "--price", "1"), v("vendor", "reply", "00000000", "--text", "hi"), c("threads", "00000000")} {
		if r := run(t, args...); r.code != ExitNotFound {
			t.Errorf("%v: exit %d (%v), want %d", args[2:], r.code, r.err, ExitNotFound)
		}
	}
}
