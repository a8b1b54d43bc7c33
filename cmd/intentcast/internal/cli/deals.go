package cli

import (
	"context"
	"io"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/node/api/client"
)

func (a *app) dealsCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "deals",
		Usage: "list your deals: offers you accepted and offers of yours that were accepted",
		Description: `A deal is the offer (signed by the vendor) plus the accept (signed with the
intent's key). Customer and vendor keep the same record.

Examples:
  intentcast deals
  intentcast deals --json`,
		Action: a.dealsList,
	}
}

func (a *app) dealsList(ctx context.Context, cmd *ucli.Command) error {
	return listAPI(ctx, a, cmd, (*conn).Deals, "no deals yet", func(deals []client.DealView) error {
		now := time.Now()
		t := newTable(a.stdout, "INTENT", "OFFER", "ROLE", "PRICE", "VENDOR", "CLOSED", "WHAT")
		for _, d := range deals {
			t.row(short(d.IntentID), short(d.OfferID), d.Role, price(d.Offer.Price, d.Offer.Currency),
				vendorName(d.Offer.Vendor), when(d.Closed, now), truncate(categoryPath(d.Intent)+": "+d.Intent.Text, 40))
		}
		return t.flush()
	})
}

// printDeal prints one deal as a list of fields.
func printDeal(w io.Writer, d client.DealView) {
	now := time.Now()
	t := newTable(w)
	t.row("intent", d.IntentID)
	t.row("offer", d.OfferID)
	t.row("role", d.Role)
	t.row("price", price(d.Offer.Price, d.Offer.Currency))
	t.row("vendor", vendorName(d.Offer.Vendor))
	if d.Offer.Text != "" {
		t.row("offer text", d.Offer.Text)
	}
	t.row("terms ok", yesNo(d.Offer.TermsOK))
	t.row("closed", when(d.Closed, now))
	if d.Details != "" {
		t.row("details", d.Details)
	}
	t.flush()
}
