package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/api/client"
)

// Ratings, replies, vendor profiles and reputation. docs/TRUST.md says
// what a reputation is worth; every number here is computed by the user's
// own node from ratings it verified.

func (a *app) rateCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "rate",
		Usage:     "rate the vendor of one of your deals (once per deal)",
		ArgsUsage: "DEAL",
		Description: `DEAL is the deal's intent ID or a prefix of it ('intentcast deals' lists
them). The rating is signed with the intent's key and carries the deal's
record, so every node can check that the deal happened; it makes the deal
public (what you wanted, the vendor's price and text), never who you are.
One rating per deal: it cannot be changed.

Examples:
  intentcast rate 3f2a9c --score 5 --text "Arrived in two days, as offered"
  intentcast rate 3f2a9c --score 2`,
		Flags: []ucli.Flag{
			&ucli.IntFlag{Name: "score", Usage: "1 (worst) to 5 (best)", Required: true},
			&ucli.StringFlag{Name: "text", Usage: fmt.Sprintf("what you say about the deal, at most %d bytes", intent.MaxRatingText)},
		},
		Action: a.rate,
	}
}

func (a *app) rate(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "DEAL")
	if err != nil {
		return err
	}
	score, text := cmd.Int("score"), cmd.String("text")
	if score < 1 || score > intent.MaxScore {
		return flagError(cmd, "score", fmt.Sprint(score), fmt.Sprintf("give 1 (worst) to %d (best)", intent.MaxScore))
	}
	if len(text) > intent.MaxRatingText {
		return flagError(cmd, "text", truncate(text, 20), fmt.Sprintf("%d bytes; at most %d", len(text), intent.MaxRatingText))
	}
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (client.RatingView, error) {
		id, err := c.dealIntentID(ctx, cmd, args[0])
		if err != nil {
			return client.RatingView{}, err
		}
		return c.Rate(ctx, id, client.RateRequest{Score: int(score), Text: text})
	}, func(_ *conn, r client.RatingView) error {
		fmt.Fprintf(a.stdout, "rated the deal of intent %s with vendor %s: %d/5\nrating %s is on the network; the vendor may reply once\n",
			short(r.IntentID), short(r.VendorKey), r.Score, r.ID)
		return nil
	})
}

func (a *app) replyCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "reply",
		Usage:     "answer a rating of one of your deals, as its vendor (once per rating)",
		ArgsUsage: "RATING",
		Description: `RATING is the rating's ID or a prefix of it ('intentcast reputation self'
lists the ratings of your vendor key). The reply is signed with your vendor
key; only the rated vendor's key can answer a rating.

Examples:
  intentcast reply 9c1e04 --text "Thank you! Sorry for the delay."`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "text", Usage: fmt.Sprintf("your answer, 1 to %d bytes", intent.MaxReplyText), Required: true},
		},
		Action: a.reply,
	}
}

func (a *app) reply(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "RATING")
	if err != nil {
		return err
	}
	text := cmd.String("text")
	if text == "" || len(text) > intent.MaxReplyText {
		return flagError(cmd, "text", truncate(text, 20), fmt.Sprintf("%d bytes; give 1 to %d", len(text), intent.MaxReplyText))
	}
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (client.RatingView, error) {
		id, err := c.ownRatingID(ctx, cmd, args[0])
		if err != nil {
			return client.RatingView{}, err
		}
		return c.ReplyToRating(ctx, id, text)
	}, func(_ *conn, r client.RatingView) error {
		fmt.Fprintf(a.stdout, "replied to rating %s (%d/5 of the deal of intent %s)\n", short(r.ID), r.Score, short(r.IntentID))
		return nil
	})
}

// ownRatingID resolves a rating ID or prefix among the ratings of this
// node's vendor key.
func (c *conn) ownRatingID(ctx context.Context, cmd *ucli.Command, arg string) (string, error) {
	ratings := func(ctx context.Context) ([]client.RatingView, error) { return c.VendorRatings(ctx, "self") }
	return resolveAmong(ctx, c, cmd, arg, ratings, func(r client.RatingView) string { return r.ID }, "rating", "intentcast reputation self")
}

func (a *app) reputationCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "reputation",
		Usage:     "show a vendor key's reputation, as your node computed it, and its ratings",
		ArgsUsage: "VENDORKEY",
		Description: `VENDORKEY is a vendor's key, 64 hex digits as offers show it (--json), or
"self" for your own. Your node counts only ratings it verified itself: each
carries the record of a real deal with that key. "Seen" counts the deals
whose intent your node saw on the network; the others may have been staged
(docs/TRUST.md).

Examples:
  intentcast reputation self
  intentcast reputation 62ad32cf73cafe2708d7c114d15c0585c48a33a28c0bd3b436d0931179f1216b`,
		Action: a.reputation,
	}
}

func (a *app) reputation(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "VENDORKEY")
	if err != nil {
		return err
	}
	key := strings.ToLower(args[0])
	if key != "self" && !isFullID(key) {
		return usagef(cmd, "vendor key %q: give 64 hex digits or self", args[0])
	}
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (vendorReputation, error) {
		rep, err := c.Reputation(ctx, key)
		if err != nil {
			return vendorReputation{}, err
		}
		ratings, err := c.VendorRatings(ctx, key)
		return vendorReputation{rep, nonNil(ratings)}, err
	}, func(_ *conn, v vendorReputation) error {
		return printReputation(a.stdout, v.Reputation, v.Ratings)
	})
}

// vendorReputation is what reputation --json prints.
type vendorReputation struct {
	Reputation client.ReputationView `json:"reputation"`
	Ratings    []client.RatingView   `json:"ratings"`
}

// printReputation prints a reputation as a list of fields, then its
// ratings one per row.
func printReputation(w io.Writer, rep client.ReputationView, ratings []client.RatingView) error {
	t := newTable(w)
	t.row("vendor key", rep.VendorKey)
	if p := rep.Profile; p != nil {
		t.row("name", printable(p.Name))
		if p.URL != "" {
			t.row("url", printable(p.URL))
		}
		if p.Description != "" {
			t.row("about", printable(p.Description))
		}
	}
	t.row("ratings", reputationCell(&rep))
	t.row("scores 1..5", fmt.Sprint(rep.Scores))
	t.row("last 30 days", tally(rep.Recent))
	t.row("seen deals", tally(rep.Witnessed))
	t.row("replies", fmt.Sprint(rep.Replies))
	t.flush()
	if len(ratings) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	now := time.Now()
	rt := newTable(w, "RATING", "SCORE", "PRICE", "SEEN", "WHEN", "TEXT", "REPLY")
	for _, r := range ratings {
		reply := ""
		if r.Reply != nil {
			reply = truncate(r.Reply.Text, 30)
		}
		rt.row(short(r.ID), fmt.Sprintf("%d/5", r.Score), price(r.Price, r.Currency), yesNo(r.Witnessed), when(r.Created, now), truncate(r.Text, 40), reply)
	}
	return rt.flush()
}

// reputationCell is a reputation in one cell: the mean, how many ratings,
// and how many of those were deals this node saw.
func reputationCell(r *client.ReputationView) string {
	if r == nil {
		return "-"
	}
	if r.Count == 0 {
		return "no ratings"
	}
	return fmt.Sprintf("%.1f/5 of %d (%d seen)", r.Mean, r.Count, r.Witnessed.Count)
}

func tally(t client.TallyView) string {
	if t.Count == 0 {
		return "none"
	}
	return fmt.Sprintf("%.1f/5 of %d", t.Mean, t.Count)
}

func (a *app) vendorProfileCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "profile",
		Usage: "show your vendor profile, or sign and publish a new one",
		Description: `Your profile (name, URL, description) is signed with your vendor key and
shown next to your offers and your reputation on every node. A newer one
replaces the older everywhere; nodes that join later get it by sync.

Examples:
  intentcast vendor profile
  intentcast vendor profile set --name "Acme Laptops" --url https://acme.example --description "Refurbished laptops, 2-year warranty"`,
		Action: a.vendorProfileShow,
		Commands: []*ucli.Command{{
			Name:        "set",
			Usage:       "sign and publish your vendor profile",
			Description: "Examples:\n  intentcast vendor profile set --name \"Acme Laptops\" --url https://acme.example",
			Flags: []ucli.Flag{
				&ucli.StringFlag{Name: "name", Usage: fmt.Sprintf("your name, 1 to %d bytes", intent.MaxVendorName), Required: true},
				&ucli.StringFlag{Name: "url", Usage: "your web site, https://..."},
				&ucli.StringFlag{Name: "description", Usage: fmt.Sprintf("what you sell, at most %d bytes", intent.MaxProfileText)},
			},
			Action: a.vendorProfileSet,
		}},
	}
}

func (a *app) vendorProfileShow(ctx context.Context, cmd *ucli.Command) error {
	if err := noArgs(cmd); err != nil {
		return err
	}
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (*client.ProfileView, error) {
		rep, err := c.Reputation(ctx, "self")
		return rep.Profile, err
	}, func(_ *conn, p *client.ProfileView) error {
		if p == nil {
			fmt.Fprintln(a.stdout, "no profile yet; set one with: intentcast vendor profile set --name NAME")
			return nil
		}
		printProfile(a.stdout, p)
		return nil
	})
}

func (a *app) vendorProfileSet(ctx context.Context, cmd *ucli.Command) error {
	if err := noArgs(cmd); err != nil {
		return err
	}
	req := client.ProfileRequest{Name: cmd.String("name"), URL: cmd.String("url"), Description: cmd.String("description")}
	switch {
	case req.Name == "" || len(req.Name) > intent.MaxVendorName:
		return flagError(cmd, "name", truncate(req.Name, 20), fmt.Sprintf("give 1 to %d bytes", intent.MaxVendorName))
	case req.URL != "" && !strings.HasPrefix(req.URL, "https://") && !strings.HasPrefix(req.URL, "http://"):
		return flagError(cmd, "url", req.URL, "give an https:// address")
	case len(req.URL) > intent.MaxVendorURL:
		return flagError(cmd, "url", truncate(req.URL, 20), fmt.Sprintf("at most %d bytes", intent.MaxVendorURL))
	case len(req.Description) > intent.MaxProfileText:
		return flagError(cmd, "description", truncate(req.Description, 20), fmt.Sprintf("at most %d bytes", intent.MaxProfileText))
	}
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (client.ProfileView, error) {
		return c.SetProfile(ctx, req)
	}, func(_ *conn, p client.ProfileView) error {
		fmt.Fprintln(a.stdout, "published your vendor profile:")
		printProfile(a.stdout, &p)
		return nil
	})
}

func printProfile(w io.Writer, p *client.ProfileView) {
	t := newTable(w)
	t.row("vendor key", p.VendorKey)
	t.row("name", printable(p.Name))
	if p.URL != "" {
		t.row("url", printable(p.URL))
	}
	if p.Description != "" {
		t.row("about", printable(p.Description))
	}
	t.row("signed", p.Created.Local().Format("2006-01-02 15:04"))
	t.flush()
}
