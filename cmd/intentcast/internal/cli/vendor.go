package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/api/client"
)

func (a *app) vendorCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "vendor",
		Usage: "the vendor side: filter and watch the live intents, make offers",
		Description: `Your node sees every live intent of the categories it serves; the filter
(kept on your node, told to nobody) narrows what you see. Offers are signed
with your vendor key and sealed so only the customer can read them.

Examples:
  intentcast vendor filter --category electronics --keyword laptop,notebook --region DE
  intentcast vendor watch
  intentcast vendor offer 3f2a9c --price 1099 --text "ThinkPad X1, 32 GB, ships tomorrow"
  intentcast vendor offers`,
		Commands: []*ucli.Command{
			{
				Name:  "filter",
				Usage: "show the vendor filter, or change it with flags",
				Description: `Without flags, shows the filter. Each flag given replaces that part of the
filter; the others stay. --clear starts from the empty filter (everything).
List flags take comma-separated values or repeat.

Examples:
  intentcast vendor filter
  intentcast vendor filter --category electronics,home --region DE,AT
  intentcast vendor filter --keyword laptop --min-price 300 --currency EUR
  intentcast vendor filter --clear`,
				Flags: []ucli.Flag{
					&ucli.StringSliceFlag{Name: "category", Usage: "categories to see (empty: all the node serves)"},
					&ucli.StringFlag{Name: "path", Usage: "sub-category prefix, e.g. laptops"},
					&ucli.StringSliceFlag{Name: "keyword", Usage: "words of which any must appear in the text or path"},
					&ucli.StringSliceFlag{Name: "region", Usage: "regions you serve (DE serves DE-BY); intents without a region always match"},
					&ucli.StringFlag{Name: "min-price", Usage: "ignore intents whose ceiling is below this (in major units of the one --currency it needs)"},
					&ucli.StringSliceFlag{Name: "currency", Usage: "currencies you take (empty: any)"},
					&ucli.BoolFlag{Name: "clear", Usage: "start from the empty filter"},
				},
				Action: a.vendorFilter,
			},
			{
				Name:        "feed",
				Usage:       "list the live intents that pass your filter",
				Description: "Examples:\n  intentcast vendor feed\n  intentcast vendor feed --json",
				Action:      a.vendorFeed,
			},
			{
				Name:  "watch",
				Usage: "print the intents that pass your filter as they arrive, until Ctrl-C",
				Description: `Prints the live intents first, then each new one as it arrives, and a line
when one shown closes ("cancelled ID", or "accepted ID  offer ID": it takes
no more offers). With --json, one JSON intent per line (as vendor feed --json
shows it); a closed one comes again with its new state. Closures do not count
toward --until.

Examples:
  intentcast vendor watch
  intentcast vendor watch --until 1 --json   # wait for one intent, print it, exit`,
				Flags: []ucli.Flag{
					&ucli.IntFlag{Name: "until", Usage: "exit after this many intents (0: run until Ctrl-C)"},
				},
				Action: a.vendorWatch,
			},
			{
				Name:      "offer",
				Usage:     "answer a live intent with an offer",
				ArgsUsage: "INTENT",
				Description: `INTENT is an ID or a unique prefix of one in your feed. The offer commits to
the customer's terms; its price must not exceed the intent's ceiling.

Examples:
  intentcast vendor offer 3f2a9c --price 1099
  intentcast vendor offer 3f2a9c --price 1099.90 --text "Refurbished, 2-year warranty" --valid-for 48h`,
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "price", Required: true, Usage: "your price in major units, e.g. 999 or 999.90"},
					&ucli.StringFlag{Name: "currency", Usage: "currency (default: the intent's)"},
					&ucli.StringFlag{Name: "text", Usage: "what you offer, in your words; @FILE reads it from a file, - from stdin"},
					&ucli.StringFlag{Name: "valid-for", Usage: "how long the offer holds, e.g. 24h or 7d (default 24h, never past the intent's expiry)"},
					&ucli.StringFlag{Name: "vendor-name", Usage: "name shown to the customer (default: vendor.name of config.toml)"},
					&ucli.StringFlag{Name: "vendor-url", Usage: "URL shown to the customer (default: vendor.url of config.toml)"},
				},
				Action: a.vendorOffer,
			},
			{
				Name:        "offers",
				Usage:       "list the offers you sent and whether they were accepted",
				Description: "Examples:\n  intentcast vendor offers",
				Action:      a.vendorOffers,
			},
			a.vendorProfileCommand(),
			a.vendorReplyCommand(),
		},
	}
}

func (a *app) vendorFilter(ctx context.Context, cmd *ucli.Command) error {
	if err := noArgs(cmd); err != nil {
		return err
	}
	changing := slices.ContainsFunc([]string{"category", "path", "keyword", "region", "min-price", "currency", "clear"}, cmd.IsSet)
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (client.Filter, error) {
		f, err := c.Filter(ctx)
		if err != nil || !changing {
			return f, err
		}
		if f, err = filterFromFlags(cmd, f); err != nil {
			return f, err
		}
		return c.SetFilter(ctx, f)
	}, func(_ *conn, f client.Filter) error {
		printFilter(a.stdout, f)
		return nil
	})
}

// filterFromFlags applies the flags given to f.
func filterFromFlags(cmd *ucli.Command, f client.Filter) (client.Filter, error) {
	if cmd.Bool("clear") {
		f = client.Filter{}
	}
	was := filterCurrency(f)
	if cmd.IsSet("category") {
		f.Categories = nil
		for _, cat := range splitList(cmd.StringSlice("category")) {
			if err := intent.CheckCategory(cat); err != nil {
				return f, flagError(cmd, "category", cat, "want some of "+strings.Join(intent.Categories, ", "))
			}
			f.Categories = append(f.Categories, cat)
		}
	}
	if cmd.IsSet("path") {
		f.Path = nil
		if p := strings.Trim(cmd.String("path"), "/"); p != "" {
			f.Path = strings.Split(p, "/")
		}
	}
	if cmd.IsSet("keyword") {
		f.Keywords = splitList(cmd.StringSlice("keyword"))
	}
	if cmd.IsSet("region") {
		f.Regions = nil
		for _, r := range splitList(cmd.StringSlice("region")) {
			r = strings.ToUpper(r)
			if err := intent.CheckRegionInput(intent.FieldRegion, r); err != nil {
				return f, inputError(cmd, err)
			}
			if !slices.Contains(f.Regions, r) {
				f.Regions = append(f.Regions, r)
			}
		}
	}
	if cmd.IsSet("currency") {
		f.Currencies = nil
		for _, cur := range splitList(cmd.StringSlice("currency")) {
			cur = strings.ToUpper(cur)
			if err := intent.CheckCurrencyInput(cur); err != nil {
				return f, inputError(cmd, err)
			}
			if !slices.Contains(f.Currencies, cur) { // --currency eur,EUR is one currency
				f.Currencies = append(f.Currencies, cur)
			}
		}
	}
	if cmd.IsSet("min-price") {
		s := cmd.String("min-price")
		f.MinPrice = 0
		if s != "" && s != "0" {
			v, err := intent.ParseAmount(s, filterCurrency(f))
			if err != nil {
				return f, flagError(cmd, "min-price", s, err.Error())
			}
			f.MinPrice = v
		}
	}
	// The daemon would refuse it too; said here, the error names the flags.
	if intent.CheckMinPriceInput(f.MinPrice, f.Currencies) != nil {
		takes := "any currency"
		if len(f.Currencies) > 0 {
			takes = strings.Join(f.Currencies, ", ")
		}
		return f, usagef(cmd, "--min-price needs exactly one --currency (the filter would take %s): amounts in different currencies cannot be compared", takes)
	}
	// The minimum price is kept in minor units: under another currency the
	// same number is another amount (300.00 EUR would become 30000 JPY).
	if now := filterCurrency(f); f.MinPrice > 0 && !cmd.IsSet("min-price") && now != was {
		return f, usagef(cmd, "--currency %s would turn the minimum price of %s into %s: give --min-price again, in %s (or --min-price 0)",
			now, price(intent.FormatAmount(f.MinPrice, was), was), price(intent.FormatAmount(f.MinPrice, now), now), now)
	}
	return f, nil
}

// filterCurrency is the currency whose decimals the filter's minimum price
// is given in: the one currency the vendor takes. A filter with a minimum
// price has exactly one; else "" reads an amount with 2 decimals, as the
// web page does (minCurrency in web/static/app.js), so that a mistyped
// amount is told before the missing currency.
func filterCurrency(f client.Filter) string {
	if len(f.Currencies) == 1 {
		return f.Currencies[0]
	}
	return ""
}

func printFilter(w io.Writer, f client.Filter) {
	all := func(s []string, what string) string {
		if len(s) == 0 {
			return "any " + what
		}
		return strings.Join(s, ", ")
	}
	t := newTable(w)
	t.row("categories", all(f.Categories, "the node serves"))
	t.row("path", all(f.Path, "sub-category"))
	t.row("keywords", all(f.Keywords, "text"))
	t.row("regions", all(f.Regions, "region"))
	t.row("currencies", all(f.Currencies, "currency"))
	minPrice := "none"
	if f.MinPrice > 0 {
		minPrice = price(intent.FormatAmount(f.MinPrice, filterCurrency(f)), filterCurrency(f))
	}
	t.row("min price", minPrice)
	t.flush()
}

func (a *app) vendorFeed(ctx context.Context, cmd *ucli.Command) error {
	return listAPI(ctx, a, cmd, (*conn).Feed, "no live intents pass your filter (see: intentcast vendor filter)", func(feed []client.IntentView) error {
		printIntentTable(a.stdout, feed, false)
		return nil
	})
}

func (a *app) vendorWatch(ctx context.Context, cmd *ucli.Command) error {
	if err := noArgs(cmd); err != nil {
		return err
	}
	return watchAPI(ctx, a, cmd, "intents", func(*conn, context.Context) (watch[client.IntentView], error) {
		return watch[client.IntentView]{
			banner: "intents that pass your filter",
			pick: func(ev client.EventView) (string, client.IntentView, bool) {
				if ev.Kind != client.KindIntent || ev.Intent == nil {
					return "", client.IntentView{}, false
				}
				return ev.IntentID, *ev.Intent, true
			},
			counts: func(client.IntentView) bool { return true },
			line:   printIntentLine,
			// A closed intent takes no more offers: a cancel, another
			// vendor's offer accepted (closed) or ours (accept).
			update: func(ev client.EventView) (string, client.IntentView, bool) {
				switch ev.Kind {
				case client.KindCancel, client.KindClosed, client.KindAccept:
					if ev.Intent != nil {
						return ev.IntentID, *ev.Intent, true
					}
				}
				return "", client.IntentView{}, false
			},
			updateLine: printClosedLine,
		}, nil
	})
}

// printClosedLine prints how an intent shown earlier closed.
func printClosedLine(w io.Writer, in client.IntentView) {
	line := in.State + " " + short(in.ID)
	if in.AcceptedOffer != "" {
		line += "  offer " + short(in.AcceptedOffer)
	}
	fmt.Fprintln(w, line)
}

// printIntentLine prints one intent as it arrives.
func printIntentLine(w io.Writer, in client.IntentView) {
	line := fmt.Sprintf("intent %s  %-24s max %-14s", short(in.ID), categoryPath(in), price(in.MaxPrice, in.Currency))
	if in.Region != "" {
		line += "  region " + in.Region
	}
	if len(in.Terms) > 0 {
		line += "  terms " + strings.Join(in.Terms, ",")
	}
	if in.Text != "" {
		line += "  \"" + truncate(in.Text, 60) + "\""
	}
	fmt.Fprintln(w, line)
}

func (a *app) vendorOffer(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "INTENT")
	if err != nil {
		return err
	}
	text, err := a.textFlag(cmd, "text")
	if err != nil {
		return err
	}
	req := client.OfferRequest{
		Price:      cmd.String("price"),
		Currency:   strings.ToUpper(cmd.String("currency")),
		Text:       text,
		ValidFor:   cmd.String("valid-for"),
		VendorName: cmd.String("vendor-name"),
		VendorURL:  cmd.String("vendor-url"),
	}
	if req.ValidFor != "" {
		if _, err := parseDays(req.ValidFor); err != nil {
			return flagError(cmd, "valid-for", req.ValidFor, "Say how long the offer holds as a duration, such as 24h, 90m or 7d.")
		}
	}
	if req.Currency != "" {
		if err := intent.CheckCurrencyInput(req.Currency); err != nil {
			return inputError(cmd, err)
		}
	}
	if err := intent.CheckText(intent.FieldText, req.Text); err != nil {
		return inputError(cmd, err)
	}
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (client.OfferView, error) {
		var err error
		if req.IntentID, err = c.feedIntentID(ctx, cmd, args[0]); err != nil {
			return client.OfferView{}, err
		}
		// Check the price here when the currency is known, so a typo is a
		// usage error that names the flag.
		cur := req.Currency
		if cur == "" {
			if feed, err := c.Feed(ctx); err == nil {
				if i := slices.IndexFunc(feed, func(in client.IntentView) bool { return in.ID == req.IntentID }); i >= 0 {
					cur = feed[i].Currency
				}
			}
		}
		if cur != "" {
			if _, err := intent.ParseAmount(req.Price, cur); err != nil {
				return client.OfferView{}, flagError(cmd, "price", req.Price, err.Error())
			}
		}
		return c.SendOffer(ctx, req)
	}, func(_ *conn, o client.OfferView) error {
		verb := "sent"
		if o.Send != nil && o.Send.Status == client.SendQueued {
			verb = "queued"
		}
		fmt.Fprintf(a.stdout, "%s offer %s to intent %s: %s, valid until %s\n",
			verb, o.ID, short(o.IntentID), price(o.Price, o.Currency), when(o.ValidUntil, time.Now()))
		if st := sendStatus(o.Send); st != "" {
			fmt.Fprintf(a.stdout, "status: %s\n", st)
		}
		warnQueued(a.stderr, "offer", o.Send)
		return nil
	})
}

func (a *app) vendorOffers(ctx context.Context, cmd *ucli.Command) error {
	return listAPI(ctx, a, cmd, (*conn).SentOffers, "no offers sent yet; see the live intents with: intentcast vendor feed", func(offers []client.OfferView) error {
		now := time.Now()
		t := newTable(a.stdout, "OFFER", "INTENT", "STATE", "PRICE", "VALID UNTIL", "TEXT")
		for _, o := range offers {
			state := o.Status
			if state == "valid" {
				state = "pending"
				if !o.ValidUntil.IsZero() && now.After(o.ValidUntil) {
					state = "expired"
				}
			}
			t.row(short(o.ID), short(o.IntentID), state, price(o.Price, o.Currency), when(o.ValidUntil, now), truncate(o.Text, 40))
		}
		return t.flush()
	})
}
