package cli

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/node/api/client"
)

func (a *app) offersCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "offers",
		Usage: "list, watch and accept the offers vendors made to your intents",
		Description: `Offers arrive sealed to your intent's key; your node opens them and checks
the vendor's signature, its commitment to your terms and your price
ceiling. Offers that break your terms are refused and kept as evidence.

Examples:
  intentcast offers list 3f2a9c
  intentcast offers watch
  intentcast offers watch 3f2a9c --until 3
  intentcast offers accept 3f2a9c 81bd07 --details "ship to: ..."`,
		Commands: []*ucli.Command{
			{
				Name:        "list",
				Aliases:     []string{"ls"},
				Usage:       "list the offers to one of your intents, cheapest first",
				ArgsUsage:   "INTENT",
				Description: "Examples:\n  intentcast offers list 3f2a9c\n  intentcast offers list 3f2a9c --json",
				Action:      a.offersList,
			},
			{
				Name:      "watch",
				Usage:     "print offers as they arrive (all your intents, or one) until Ctrl-C",
				ArgsUsage: "[INTENT]",
				Description: `Prints the offers already received, then each new one as it arrives.
With --json, one JSON object per line.

Examples:
  intentcast offers watch
  intentcast offers watch 3f2a9c --until 2   # exit once 2 valid offers are in`,
				Flags: []ucli.Flag{
					&ucli.IntFlag{Name: "until", Usage: "exit after this many valid offers (0: run until Ctrl-C)"},
				},
				Action: a.offersWatch,
			},
			{
				Name:        "accept",
				Usage:       "accept an offer: a signed deal record for you and the vendor",
				ArgsUsage:   "INTENT OFFER",
				Description: "Details, if given, are sealed to the vendor: only they can read them.\n\nExamples:\n  intentcast offers accept 3f2a9c 81bd07\n  intentcast offers accept 3f2a9c 81bd07 --details \"email: me@example.org\"",
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "details", Usage: "contact or delivery details for the vendor only"},
				},
				Action: a.offersAccept,
			},
		},
	}
}

func (a *app) offersList(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "INTENT")
	if err != nil {
		return err
	}
	var id string
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) ([]client.OfferView, error) {
		if id, err = c.ownIntentID(ctx, cmd, args[0]); err != nil {
			return nil, err
		}
		offers, err := c.Offers(ctx, id)
		sortOffers(offers)
		return nonNil(offers), err
	}, func(_ *conn, offers []client.OfferView) error {
		if len(offers) == 0 {
			fmt.Fprintf(a.stdout, "no offers yet for intent %s; wait for them with: intentcast offers watch %s\n", short(id), short(id))
			return nil
		}
		printOfferTable(a.stdout, offers)
		return nil
	})
}

// sortOffers puts acceptable offers first, cheapest first, and refused ones
// last.
func sortOffers(offers []client.OfferView) {
	slices.SortStableFunc(offers, func(x, y client.OfferView) int {
		rx, ry := x.Status == "refused", y.Status == "refused"
		if rx != ry {
			if rx {
				return 1
			}
			return -1
		}
		return cmp.Compare(x.PriceMinor, y.PriceMinor)
	})
}

func printOfferTable(w io.Writer, offers []client.OfferView) {
	now := time.Now()
	t := newTable(w, "OFFER", "STATUS", "PRICE", "VENDOR", "REPUTATION", "TERMS OK", "VALID UNTIL", "TEXT")
	for _, o := range offers {
		status := o.Status
		if o.Reason != "" {
			status += " (" + truncate(o.Reason, 40) + ")"
		}
		t.row(short(o.ID), status, price(o.Price, o.Currency), vendorName(o.Vendor), reputationCell(o.VendorReputation), yesNo(o.TermsOK),
			when(o.ValidUntil, now), truncate(o.Text, 40))
	}
	t.flush()
}

func vendorName(v client.VendorView) string {
	name := v.Name
	if name == "" {
		name = "(unnamed)"
	}
	if v.Key != "" {
		name += " [" + v.Key[:min(8, len(v.Key))] + "]"
	}
	return name
}

func (a *app) offersWatch(ctx context.Context, cmd *ucli.Command) error {
	if cmd.NArg() > 1 {
		return usagef(cmd, "unexpected argument %q; usage: %s [INTENT]", cmd.Args().Get(1), cmd.FullName())
	}
	return watchAPI(ctx, a, cmd, "offers", func(c *conn, ctx context.Context) (watch[client.OfferView], error) {
		w := watch[client.OfferView]{
			banner: "offers to all your intents",
			// Only offers the customer can still take count: not refused,
			// lapsed, or already accepted (a replay shows those too).
			counts: func(o client.OfferView) bool { return o.Status == "valid" },
			line:   printOfferLine,
		}
		var only string
		if cmd.NArg() == 1 {
			var err error
			if only, err = c.ownIntentID(ctx, cmd, cmd.Args().First()); err != nil {
				return w, err
			}
			w.banner = "offers to intent " + short(only)
		}
		w.pick = func(ev client.EventView) (string, client.OfferView, bool) {
			if ev.Kind != client.KindOffer || ev.Offer == nil || only != "" && ev.IntentID != only {
				return "", client.OfferView{}, false
			}
			return ev.OfferID, *ev.Offer, true
		}
		return w, nil
	})
}

// printOfferLine prints one offer as it arrives.
func printOfferLine(w io.Writer, o client.OfferView) {
	terms := "terms ok"
	if !o.TermsOK {
		terms = "TERMS NOT MET"
	}
	line := fmt.Sprintf("offer %s  intent %s  %-14s %-28s %s", short(o.ID), short(o.IntentID),
		price(o.Price, o.Currency), vendorName(o.Vendor), terms)
	if o.Status == "refused" {
		line += "  REFUSED: " + o.Reason
	}
	if o.Text != "" {
		line += "  \"" + truncate(o.Text, 50) + "\""
	}
	fmt.Fprintln(w, line)
}

func (a *app) offersAccept(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "INTENT", "OFFER")
	if err != nil {
		return err
	}
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (client.DealView, error) {
		intentID, err := c.ownIntentID(ctx, cmd, args[0])
		if err != nil {
			return client.DealView{}, err
		}
		offerID, err := c.offerID(ctx, cmd, intentID, args[1])
		if err != nil {
			return client.DealView{}, err
		}
		return c.Accept(ctx, intentID, offerID, cmd.String("details"))
	}, func(_ *conn, deal client.DealView) error {
		fmt.Fprintf(a.stdout, "accepted offer %s from %s for %s\n", short(deal.OfferID), vendorName(deal.Offer.Vendor), price(deal.Offer.Price, deal.Offer.Currency))
		if st := sendStatus(deal.Intent.AcceptSend); st != "" {
			fmt.Fprintf(a.stdout, "accept: %s\n", st)
		}
		warnQueued(a.stderr, "accept", deal.Intent.AcceptSend)
		printDeal(a.stdout, deal)
		return nil
	})
}
