// Command customer publishes one intent through a daemon's API, prints the
// offers as they arrive, and optionally accepts the cheapest: the customer's
// side of intentcast in one Go program.
//
//	go run ./examples/customer --text "Noise-cancelling headphones" --max-price 250 --currency EUR --offers 2 --accept
//
// The daemon is found like the CLI finds it: --api and --token, else
// INTENTCAST_API and INTENTCAST_TOKEN, else the api.addr and api.token files
// of the data directory.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/intentcast/intentcast/node/api/client"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "customer:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		apiAddr  = flag.String("api", os.Getenv("INTENTCAST_API"), "daemon API address, host:port (default: DATA_DIR/api.addr)")
		token    = flag.String("token", os.Getenv("INTENTCAST_TOKEN"), "API token (default: DATA_DIR/api.token)")
		dataDir  = flag.String("data-dir", os.Getenv("INTENTCAST_DATA_DIR"), "the daemon's data directory")
		category = flag.String("category", "electronics", "top-level category")
		text     = flag.String("text", "Noise-cancelling headphones, over-ear", "what you want")
		maxPrice = flag.String("max-price", "250", "price ceiling in major units")
		currency = flag.String("currency", "EUR", "ISO 4217 currency")
		region   = flag.String("region", "", "ISO 3166 region, e.g. DE")
		want     = flag.Int("offers", 1, "how many offers to wait for")
		wait     = flag.Duration("wait", 2*time.Minute, "how long to wait for them")
		accept   = flag.Bool("accept", false, "accept the cheapest offer")
	)
	flag.Parse()
	d, err := client.Locate(*apiAddr, *token, *dataDir)
	if err != nil {
		return err
	}
	if d.Token == "" {
		return fmt.Errorf("no --token, and no token file at %s: is the daemon's --data-dir right?", d.TokenFile)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	c := client.New(d.URL, d.Token)

	// Publish, showing the proof-of-work minting.
	in, err := c.PublishIntent(ctx, client.PublishRequest{
		Category: *category, Text: *text, MaxPrice: *maxPrice, Currency: *currency, Region: *region,
	}, func(p client.MintProgress) {
		if p.Expected > 0 {
			fmt.Fprintf(os.Stderr, "\rminting: %3.0f%%", float64(p.Tries)*100/float64(p.Expected))
		}
	})
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	fmt.Printf("published intent %s: %s, at most %s %s\n", in.ID, in.Text, in.MaxPrice, in.Currency)

	// Follow the event stream until enough offers are in. The stream
	// replays what the node already holds, so no offer can slip through
	// between publishing and subscribing.
	wctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	var offers []client.OfferView
	errEnough := errors.New("enough offers")
	err = c.Events(wctx, func(ev client.EventView) error {
		if ev.Kind != "offer" || ev.IntentID != in.ID || ev.Offer == nil {
			return nil
		}
		o := *ev.Offer
		if slices.ContainsFunc(offers, func(x client.OfferView) bool { return x.ID == o.ID }) {
			return nil
		}
		if o.Status == "refused" {
			fmt.Printf("refused offer %s from %s: %s\n", o.ID[:12], o.Vendor.Name, o.Reason)
			return nil
		}
		offers = append(offers, o)
		fmt.Printf("offer %s from %-20s %s %s  %q\n", o.ID[:12], o.Vendor.Name, o.Price, o.Currency, o.Text)
		if len(offers) >= *want {
			return errEnough
		}
		return nil
	})
	switch {
	case errors.Is(err, errEnough):
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Printf("%d of %d offers after %s\n", len(offers), *want, *wait)
	case err != nil && ctx.Err() == nil:
		return fmt.Errorf("events: %w", err)
	}
	if !*accept || len(offers) == 0 {
		return nil
	}
	best := slices.MinFunc(offers, func(a, b client.OfferView) int { return cmp.Compare(a.PriceMinor, b.PriceMinor) })
	deal, err := c.Accept(ctx, in.ID, best.ID, "")
	if err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	fmt.Printf("accepted %s from %s for %s %s\n", deal.OfferID[:12], deal.Offer.Vendor.Name, deal.Offer.Price, deal.Offer.Currency)
	return nil
}
