package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/intentcast/intentcast/node/api/client"
)

// TestRateReplyReputation drives ratings through the CLI of two real
// daemons: the vendor's profile, the customer's rating (once), the
// vendor's reply (once), the reputation next to the offer and on its own;
// bad flags exit 2 with what to do.
func TestRateReplyReputation(t *testing.T) {
	cdir, vdir, in, offer := daemonsWithDeal(t)
	c := func(args ...string) []string { return append([]string{"--data-dir", cdir}, args...) }
	v := func(args ...string) []string { return append([]string{"--data-dir", vdir}, args...) }

	for _, bad := range []struct {
		args []string
		want string
	}{
		{v("vendor", "profile", "set", "--name", "Acme", "--url", "javascript:alert(1)"), "https://"},
		{c("rate", in.ID, "--score", "7"), "1 (worst) to 5 (best)"},
		{c("rate", in.ID), "--score"},
		{v("reply", strings.Repeat("0", 64)), "--text"},
		{c("reputation", "acme"), "64 hex digits or self"},
	} {
		r := run(t, bad.args...)
		if r.code != ExitUsage || r.err == nil || !strings.Contains(r.err.Error(), bad.want) {
			t.Errorf("%v: exit %d (%v), want %d naming %q", bad.args[2:], r.code, r.err, ExitUsage, bad.want)
		}
	}

	r := mustRun(t, v("vendor", "profile", "set", "--name", "Acme Laptops", "--url", "https://acme.example", "--description", "Refurbished laptops")...)
	if !strings.Contains(r.stdout, "published your vendor profile") || !strings.Contains(r.stdout, offer.Vendor.Key) {
		t.Errorf("profile set says:\n%s", r.stdout)
	}
	if r := run(t, v("rate", in.ID[:8], "--score", "5")...); r.code != ExitFailure || !strings.Contains(r.err.Error(), "customer rates it") {
		t.Errorf("the vendor rating its own deal: exit %d (%v)", r.code, r.err)
	}
	r = mustRun(t, c("rate", in.ID[:8], "--score", "4", "--text", "Arrived on time")...)
	if !strings.Contains(r.stdout, "4/5") {
		t.Errorf("rate says:\n%s", r.stdout)
	}
	if r := run(t, c("rate", in.ID[:8], "--score", "1")...); r.code != ExitFailure || !strings.Contains(r.err.Error(), "already rated") {
		t.Errorf("a second rating: exit %d (%v)", r.code, r.err)
	}

	// The vendor's node gets the rating by gossip and answers it by prefix.
	var ratings []client.RatingView
	eventually(t, 20*time.Second, "the vendor's node holds the rating", func() bool {
		got := decodeJSON[struct {
			Ratings []client.RatingView `json:"ratings"`
		}](t, mustRun(t, v("--json", "reputation", "self")...))
		ratings = got.Ratings
		return len(ratings) == 1
	})
	mustRun(t, v("reply", ratings[0].ID[:10], "--text", "Thank you!")...)
	if r := run(t, v("reply", ratings[0].ID[:10], "--text", "again")...); r.code != ExitFailure || !strings.Contains(r.err.Error(), "already has a reply") {
		t.Errorf("a second reply: exit %d (%v)", r.code, r.err)
	}

	// The customer sees the reputation next to the offer and in full.
	eventually(t, 20*time.Second, "the customer's node counts the reply", func() bool {
		rep := decodeJSON[struct {
			Reputation client.ReputationView `json:"reputation"`
		}](t, mustRun(t, c("--json", "reputation", offer.Vendor.Key)...)).Reputation
		return rep.Count == 1 && rep.Replies == 1 && rep.Profile != nil
	})
	r = mustRun(t, c("offers", "list", in.ID)...)
	if !strings.Contains(r.stdout, "REPUTATION") || !strings.Contains(r.stdout, "4.0/5 of 1 (1 seen)") {
		t.Errorf("offers list does not show the vendor's reputation:\n%s", r.stdout)
	}
	r = mustRun(t, c("reputation", offer.Vendor.Key)...)
	for _, want := range []string{"Acme Laptops", "https://acme.example", "4.0/5 of 1", "Arrived on time", "Thank you!"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("reputation does not say %q:\n%s", want, r.stdout)
		}
	}
}
