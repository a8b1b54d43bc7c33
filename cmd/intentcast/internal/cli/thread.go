package cli

import (
	"context"
	"fmt"
	"io"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/api/client"
)

// Negotiation threads: `counter` and `thread(s)` for the customer,
// `vendor reply` for the vendor.

func (a *app) counterCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "counter",
		Usage:     "answer an offer to your intent with a counter: a price, terms, a question",
		ArgsUsage: "OFFER",
		Description: `OFFER is an ID or a unique prefix of an offer to one of your intents (or of a
revised offer in its thread). The counter is signed with the intent's key and
sealed to the vendor: only they can read it. A thread holds 8 messages, turns
alternating, the customer's first.

Examples:
  intentcast counter 81bd07 --price 950 --text "Would you include a sleeve?"
  intentcast counter 81bd07 --custom warranty="2 years"`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "price", Usage: "the price you would pay, in major units, e.g. 950"},
			&ucli.StringSliceFlag{Name: "terms", Usage: "roster terms you ask for on top of your intent's, comma-separated"},
			&ucli.StringSliceFlag{Name: "custom", Usage: "a term of your own you ask for, key=value, repeatable"},
			&ucli.StringFlag{Name: "text", Usage: "a question or remark; @FILE reads it from a file, - from stdin"},
		},
		Action: a.counter,
	}
}

func (a *app) threadCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "thread",
		Usage:     "show the negotiation on one offer (yours or to your intent)",
		ArgsUsage: "OFFER",
		Description: `Examples:
  intentcast thread 81bd07
  intentcast thread 81bd07 --json`,
		Action: a.thread,
	}
}

func (a *app) threadsCommand() *ucli.Command {
	return &ucli.Command{
		Name:        "threads",
		Usage:       "list the negotiations on one of your intents, one per vendor offer",
		ArgsUsage:   "INTENT",
		Description: "Examples:\n  intentcast threads 3f2a9c",
		Action:      a.threads,
	}
}

func (a *app) vendorReplyCommand() *ucli.Command {
	return &ucli.Command{
		Name:      "reply",
		Usage:     "answer a customer's counter: a revised offer, a message, or both",
		ArgsUsage: "OFFER",
		Description: `OFFER is an ID or a unique prefix of an offer you sent (the thread's name).
A --price makes a revised offer, which the customer can accept like any offer.

Examples:
  intentcast vendor reply 81bd07 --price 960 --offer-text "960 with a sleeve"
  intentcast vendor reply 81bd07 --text "The sleeve is included at 1000."`,
		Flags: []ucli.Flag{
			&ucli.StringFlag{Name: "price", Usage: "the revised offer's price in major units"},
			&ucli.StringFlag{Name: "offer-text", Usage: "the revised offer's own text"},
			&ucli.StringFlag{Name: "valid-for", Usage: "how long the revised offer holds, e.g. 24h or 7d"},
			&ucli.StringFlag{Name: "text", Usage: "your message; @FILE reads it from a file, - from stdin"},
		},
		Action: a.vendorReply,
	}
}

func (a *app) counter(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "OFFER")
	if err != nil {
		return err
	}
	text, err := a.textFlag(cmd, "text")
	if err != nil {
		return err
	}
	custom, err := keyValues(cmd, "custom")
	if err != nil {
		return err
	}
	req := client.CounterRequest{Price: cmd.String("price"), Terms: cmd.StringSlice("terms"), CustomTerms: custom, Text: text}
	if req.Price == "" && len(req.Terms) == 0 && len(custom) == 0 && text == "" {
		return usagef(cmd, "say something: give --price, --terms, --custom or --text")
	}
	if err := intent.CheckText(intent.FieldText, text); err != nil {
		return inputError(cmd, err)
	}
	return a.threadCall(ctx, cmd, func(c *conn, ctx context.Context) (string, error) { return c.threadOfferID(ctx, cmd, args[0], false) },
		func(c *conn, ctx context.Context, id string) (client.ThreadView, error) {
			return c.Counter(ctx, id, req)
		})
}

func (a *app) vendorReply(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "OFFER")
	if err != nil {
		return err
	}
	text, err := a.textFlag(cmd, "text")
	if err != nil {
		return err
	}
	req := client.ThreadReplyRequest{Price: cmd.String("price"), OfferText: cmd.String("offer-text"), ValidFor: cmd.String("valid-for"), Text: text}
	if req.Price == "" && (req.OfferText != "" || req.ValidFor != "") {
		return usagef(cmd, "--offer-text and --valid-for describe a revised offer: give its --price too")
	}
	if req.Price == "" && text == "" {
		return usagef(cmd, "say something: give --price (a revised offer), --text, or both")
	}
	if err := intent.CheckText(intent.FieldText, text); err != nil {
		return inputError(cmd, err)
	}
	return a.threadCall(ctx, cmd, func(c *conn, ctx context.Context) (string, error) { return c.threadOfferID(ctx, cmd, args[0], true) },
		func(c *conn, ctx context.Context, id string) (client.ThreadView, error) { return c.Reply(ctx, id, req) })
}

func (a *app) thread(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "OFFER")
	if err != nil {
		return err
	}
	return a.threadCall(ctx, cmd, func(c *conn, ctx context.Context) (string, error) { return c.anyOfferID(ctx, cmd, args[0]) },
		(*conn).Thread)
}

func (a *app) threads(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "INTENT")
	if err != nil {
		return err
	}
	var id string
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) ([]client.ThreadView, error) {
		if id, err = c.ownIntentID(ctx, cmd, args[0]); err != nil {
			return nil, err
		}
		trs, err := c.Threads(ctx, id)
		return nonNil(trs), err
	}, func(_ *conn, trs []client.ThreadView) error {
		if len(trs) == 0 {
			fmt.Fprintf(a.stdout, "no negotiations on intent %s yet; counter an offer with: intentcast counter OFFER --price ...\n", short(id))
			return nil
		}
		for i, tr := range trs {
			if i > 0 {
				fmt.Fprintln(a.stdout)
			}
			writeThread(a.stdout, tr)
		}
		return nil
	})
}

// threadCall is callAPI for the commands that name one thread by its
// offer: offer resolves the argument, call reads or adds to the thread, and
// the thread prints as it stands after.
func (a *app) threadCall(ctx context.Context, cmd *ucli.Command, offer func(*conn, context.Context) (string, error), call func(*conn, context.Context, string) (client.ThreadView, error)) error {
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (client.ThreadView, error) {
		id, err := offer(c, ctx)
		if err != nil {
			return client.ThreadView{}, err
		}
		return call(c, ctx, id)
	}, func(_ *conn, tr client.ThreadView) error {
		writeThread(a.stdout, tr)
		return nil
	})
}

// writeThread prints a thread: its offer, then one line per message.
func writeThread(w io.Writer, tr client.ThreadView) {
	o := tr.Offer
	fmt.Fprintf(w, "thread on offer %s from %s to intent %s (you are the %s)\n", short(tr.Root), vendorName(o.Vendor), short(tr.IntentID), tr.Role)
	fmt.Fprintf(w, "  0  vendor    offer %s  %s\n", price(o.Price, o.Currency), truncate(o.Text, 60))
	for _, m := range tr.Messages {
		line := fmt.Sprintf("  %d  %-8s ", m.Seq, m.From)
		if m.Price != "" {
			line += " price " + price(m.Price, o.Currency)
		}
		if m.Offer != nil {
			line += fmt.Sprintf(" revised offer %s: %s (%s)", short(m.Offer.ID), price(m.Offer.Price, m.Offer.Currency), m.Offer.Status)
		}
		for _, t := range m.Terms {
			line += " +" + t
		}
		for k, v := range m.CustomTerms {
			line += fmt.Sprintf(" +%s=%q", k, v)
		}
		if m.Text != "" {
			line += fmt.Sprintf(" %q", truncate(m.Text, 80))
		}
		fmt.Fprintln(w, line)
	}
	switch {
	case !tr.Open:
		fmt.Fprintln(w, "closed: the intent is no longer open, or the thread is full")
	case tr.Turn == tr.Role:
		fmt.Fprintln(w, "your turn")
	default:
		fmt.Fprintf(w, "waiting for the %s\n", tr.Turn)
	}
}

// threadOfferID resolves an offer ID or prefix among the offers this node
// sent (sent) or received for its intents.
func (c *conn) threadOfferID(ctx context.Context, cmd *ucli.Command, arg string, sent bool) (string, error) {
	if sent {
		return resolveAmong(ctx, c, cmd, arg, c.SentOffers, offerID, "offer", "intentcast vendor offers")
	}
	return resolveAmong(ctx, c, cmd, arg, c.receivedOffers, offerID, "offer", "intentcast offers list INTENT")
}

// anyOfferID is threadOfferID over both: a node can be a customer and a
// vendor, and a prefix that names offers on both sides is ambiguous.
func (c *conn) anyOfferID(ctx context.Context, cmd *ucli.Command, arg string) (string, error) {
	both := func(ctx context.Context) ([]client.OfferView, error) {
		got, err := c.receivedOffers(ctx)
		if err != nil {
			return nil, err
		}
		sent, err := c.SentOffers(ctx)
		return append(got, sent...), err
	}
	return resolveAmong(ctx, c, cmd, arg, both, offerID, "offer", "intentcast offers list INTENT or intentcast vendor offers")
}

// receivedOffers lists the offers to all of this node's intents.
func (c *conn) receivedOffers(ctx context.Context) ([]client.OfferView, error) {
	ins, err := c.Intents(ctx)
	if err != nil {
		return nil, err
	}
	var all []client.OfferView
	for _, in := range ins {
		offers, err := c.Offers(ctx, in.ID)
		if err != nil {
			return nil, err
		}
		all = append(all, offers...)
	}
	return all, nil
}
