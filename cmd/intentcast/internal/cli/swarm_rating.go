package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/intentcast/intentcast/node/api/client"
)

// demoRating closes the demo's loop with trust: the winning vendor signs
// its profile, the customer rates the deal, the vendor replies, and the
// customer's node shows the vendor's reputation as it computed it.
func demoRating(ctx context.Context, out io.Writer, cust, winner *swarmNode, intentID string, res *demoResult) error {
	if _, err := winner.client.SetProfile(ctx, client.ProfileRequest{Name: winner.Name, URL: "https://example.org/" + botSlug(winner.Name),
		Description: "Demo vendor bot of intentcast swarm"}); err != nil {
		return fmt.Errorf("vendor profile: %w", err)
	}
	const score, text = 5, "Arrived as offered, thank you"
	fmt.Fprintf(out, "\n%s rates the deal %d/5: %q\n  (signed with the intent's key; it carries the deal record)\n", cust.Name, score, text)
	rated := time.Now()
	r, err := cust.client.Rate(ctx, intentID, client.RateRequest{Score: score, Text: text})
	if err != nil {
		return fmt.Errorf("rate: %w", err)
	}
	if err := poll(ctx, 20*time.Millisecond, func() bool {
		_, err := winner.client.Rating(ctx, r.ID)
		return err == nil
	}); err != nil {
		return fmt.Errorf("%s did not verify the rating: %w", winner.Name, err)
	}
	fmt.Fprintf(out, "  +%-8s %s's node verified the rating\n", fmtDuration(time.Since(rated)), winner.Name)
	const answer = "Thank you for your order!"
	if _, err := winner.client.ReplyToRating(ctx, r.ID, answer); err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	fmt.Fprintf(out, "%s replies: %q\n", winner.Name, answer)
	var rep client.ReputationView
	if err := poll(ctx, 20*time.Millisecond, func() bool {
		rep, err = cust.client.Reputation(ctx, r.VendorKey)
		return err == nil && rep.Count == 1 && rep.Replies == 1 && rep.Profile != nil
	}); err != nil {
		return fmt.Errorf("%s's node did not count the rating, the reply and the profile: %w", cust.Name, err)
	}
	fmt.Fprintf(out, "\nreputation of %s (key %s), from the ratings %s's node verified:\n",
		rep.Profile.Name, short(rep.VendorKey), cust.Name)
	t := newTable(out)
	t.row("  ratings", reputationCell(&rep))
	t.row("  last 30 days", tally(rep.Recent))
	t.row("  replies", fmt.Sprint(rep.Replies))
	t.row("  profile", rep.Profile.URL)
	t.flush()
	res.Rating, res.Reputation = &r, &rep
	return nil
}

// botSlug makes a URL path of a bot's name.
func botSlug(name string) string {
	b := []byte(name)
	for i, c := range b {
		if c == ' ' {
			b[i] = '-'
		}
	}
	return string(b)
}
