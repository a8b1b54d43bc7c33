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

func (a *app) intentCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "intent",
		Usage: "publish, list, show and cancel your intents",
		Description: `Examples:
  intentcast intent publish --category electronics --path laptops --text "14-inch, 32 GB RAM" --max-price 1200 --currency EUR --region DE
  intentcast intent list
  intentcast intent show 3f2a9c
  intentcast intent cancel 3f2a9c`,
		Commands: []*ucli.Command{
			{
				Name:  "publish",
				Usage: "broadcast a signed, anonymous intent (mints its proof of work first)",
				Description: `Broadcasts what you want to buy. The intent is signed with a fresh key of
its own and carries no trace of your node; vendors answer with offers only
your node can open. Minting the proof of work takes a moment; its progress
is shown on stderr.

Terms are names from the roster (see 'intentcast protocol'); without
--terms the default terms apply: no-tracking, no-resale, delete-after.
Use --terms none to ask for none.

Examples:
  intentcast intent publish --category electronics --text "Noise-cancelling headphones" --max-price 250 --currency EUR
  intentcast intent publish --category travel --path flights --text "BER to LIS, 2 adults" \
      --max-price 400 --currency EUR --deliver-by 2026-06-01 --expires-in 48h \
      --terms no-tracking,no-resale,delete-after,no-marketing --custom contact=email-only`,
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "category", Required: true, Usage: "top-level category: " + strings.Join(intent.Categories, ", ")},
					&ucli.StringFlag{Name: "path", Usage: "sub-category path, e.g. laptops or laptops/ultrabooks (a-z, 0-9, '-')"},
					&ucli.StringFlag{Name: "text", Usage: "what you want, in your words (any language); @FILE reads it from a file, - from stdin"},
					&ucli.StringFlag{Name: "max-price", Required: true, Usage: "price ceiling in major units, e.g. 1200 or 1199.90"},
					&ucli.StringFlag{Name: "currency", Required: true, Usage: "ISO 4217 code, e.g. EUR, USD, JPY"},
					&ucli.Uint64Flag{Name: "quantity", Value: 1, Usage: "how many"},
					&ucli.StringFlag{Name: "region", Usage: "where: ISO 3166 country or subdivision, e.g. DE or US-CA"},
					&ucli.StringFlag{Name: "deliver-by", Usage: "deadline: a date (2026-12-24) or RFC 3339 time"},
					&ucli.StringFlag{Name: "expires-in", Usage: "how long the intent stays live, e.g. 72h or 7d (default 72h, at most 30d)"},
					&ucli.StringSliceFlag{Name: "terms", Usage: "your terms, comma-separated roster names, or none (default: no-tracking,no-resale,delete-after)"},
					&ucli.StringSliceFlag{Name: "custom", Usage: "a custom term key=value, repeatable"},
					&ucli.BoolFlag{Name: "pq", Usage: "seal offers to this intent post-quantum (X-Wing)"},
				},
				Action: a.intentPublish,
			},
			{
				Name:        "list",
				Aliases:     []string{"ls"},
				Usage:       "list your intents with their state and offer count",
				Description: "Examples:\n  intentcast intent list\n  intentcast intent list --json | jq '.[] | select(.state == \"open\") | .id'",
				Action:      a.intentList,
			},
			{
				Name:        "show",
				Usage:       "show one of your intents",
				ArgsUsage:   "INTENT",
				Description: "INTENT is an ID or a unique prefix of one (as 'intent list' shows).\n\nExamples:\n  intentcast intent show 3f2a9c",
				Action:      a.intentShow,
			},
			{
				Name:        "cancel",
				Usage:       "withdraw one of your open intents (signed; vendors drop it)",
				ArgsUsage:   "INTENT",
				Description: "Examples:\n  intentcast intent cancel 3f2a9c",
				Action:      a.intentCancel,
			},
		},
	}
}

// publishRequest builds the request from the flags and holds it to the
// input rules (client.PublishRequest.Draft, as the daemon does), so that
// mistakes are usage errors that name the flag.
func (a *app) publishRequest(cmd *ucli.Command) (client.PublishRequest, error) {
	text, err := a.textFlag(cmd, "text")
	if err != nil {
		return client.PublishRequest{}, err
	}
	r := client.PublishRequest{
		Category:    cmd.String("category"),
		Text:        text,
		Quantity:    cmd.Uint64("quantity"),
		MaxPrice:    cmd.String("max-price"),
		Currency:    cmd.String("currency"),
		Region:      cmd.String("region"),
		DeliverBy:   cmd.String("deliver-by"),
		ExpiresIn:   cmd.String("expires-in"),
		PostQuantum: cmd.Bool("pq"),
	}
	if p := cmd.String("path"); p != "" {
		r.Path = strings.Split(strings.Trim(p, "/"), "/")
	}
	if r.Quantity == 0 {
		// The API reads 0 as "not given", which means 1.
		return r, flagError(cmd, "quantity", "0", "The quantity must be at least 1.")
	}
	terms, err := termNames(cmd, "terms")
	if err != nil {
		return r, err
	}
	r.Terms = terms
	custom, err := keyValues(cmd, "custom")
	if err != nil {
		return r, err
	}
	r.CustomTerms = custom
	if _, err := r.Draft(time.Now()); err != nil {
		return r, inputError(cmd, err)
	}
	return r, nil
}

// termNames reads a list of roster term names: comma-separated, "none"
// for an empty list, nil when the flag is not set.
func termNames(cmd *ucli.Command, flag string) ([]string, error) {
	if !cmd.IsSet(flag) {
		return nil, nil
	}
	names := []string{}
	for _, n := range splitList(cmd.StringSlice(flag)) {
		if n == "none" {
			continue
		}
		if _, ok := intent.TermByName(n); !ok {
			known := make([]string, len(intent.Roster))
			for i, t := range intent.Roster {
				known[i] = t.Name
			}
			return nil, flagError(cmd, flag, n, "not a term on the roster; want some of "+strings.Join(known, ", ")+", or none")
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names, nil
}

// keyValues reads repeated key=value flags.
func keyValues(cmd *ucli.Command, flag string) (map[string]string, error) {
	vals := cmd.StringSlice(flag)
	if len(vals) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(vals))
	for _, kv := range vals {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, flagError(cmd, flag, kv, "want key=value, e.g. --"+flag+" contact=email-only")
		}
		m[strings.TrimSpace(k)] = v
	}
	return m, nil
}

// splitList splits comma-separated flag values and drops empty items.
func splitList(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// parseDays parses a Go duration or whole days ("7d").
func parseDays(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(d, "%d", &n); err != nil || fmt.Sprint(n) != d || n <= 0 {
			return 0, fmt.Errorf("bad duration %q", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur <= 0 {
		return 0, fmt.Errorf("bad duration %q", s)
	}
	return dur, nil
}

func (a *app) intentPublish(ctx context.Context, cmd *ucli.Command) error {
	if err := noArgs(cmd); err != nil {
		return err
	}
	req, err := a.publishRequest(cmd)
	if err != nil {
		return err
	}
	return callAPI(ctx, a, cmd, func(c *conn, ctx context.Context) (client.IntentView, error) {
		p := newMintProgress(a.stderr)
		in, err := c.PublishIntent(ctx, req, p.update)
		p.done(err)
		return in, err
	}, func(_ *conn, in client.IntentView) error {
		printIntent(a.stdout, in)
		warnQueued(a.stderr, "intent", in.Send)
		fmt.Fprintf(a.stdout, "\nWatch offers arrive with: intentcast offers watch %s\n", short(in.ID))
		return nil
	})
}

func (a *app) intentList(ctx context.Context, cmd *ucli.Command) error {
	return listAPI(ctx, a, cmd, (*conn).Intents, "no intents yet; publish one with: intentcast intent publish --help", func(ins []client.IntentView) error {
		printIntentTable(a.stdout, ins, true)
		return nil
	})
}

// printIntentTable prints intents one per row; own adds the offer count.
func printIntentTable(w io.Writer, ins []client.IntentView, own bool) {
	now := time.Now()
	header := []string{"ID", "STATE", "CATEGORY", "MAX PRICE", "REGION", "EXPIRES", "TEXT"}
	if own {
		header = slices.Insert(header, 2, "OFFERS")
	}
	t := newTable(w, header...)
	for _, in := range ins {
		row := []string{short(in.ID), in.State, categoryPath(in), price(in.MaxPrice, in.Currency),
			orDash(in.Region), when(in.Expires, now), truncate(in.Text, 40)}
		if own {
			row = slices.Insert(row, 2, fmt.Sprint(in.Offers))
		}
		t.row(row...)
	}
	t.flush()
}

func categoryPath(in client.IntentView) string {
	return strings.Join(append([]string{in.Category}, in.Path...), "/")
}

// printIntent prints one intent as a list of fields.
func printIntent(w io.Writer, in client.IntentView) {
	now := time.Now()
	t := newTable(w)
	t.row("intent", in.ID)
	t.row("state", in.State)
	t.row("category", categoryPath(in))
	if in.Text != "" {
		t.row("text", in.Text)
	}
	t.row("quantity", fmt.Sprint(in.Quantity))
	t.row("max price", price(in.MaxPrice, in.Currency))
	t.row("region", orDash(in.Region))
	if !in.DeliverBy.IsZero() {
		t.row("deliver by", when(in.DeliverBy, now))
	}
	terms := strings.Join(in.Terms, ", ")
	for _, k := range sortedKeys(in.CustomTerms) {
		terms += fmt.Sprintf(", %s=%s", k, in.CustomTerms[k])
	}
	t.row("terms", orDash(strings.TrimPrefix(terms, ", ")))
	t.row("created", when(in.Created, now))
	t.row("expires", when(in.Expires, now))
	if in.Own {
		offers := fmt.Sprint(in.Offers)
		if in.RefusedOffers > 0 {
			offers += fmt.Sprintf(" (+%d refused: broke your terms)", in.RefusedOffers)
		}
		t.row("offers", offers)
	}
	if in.AcceptedOffer != "" {
		t.row("accepted", in.AcceptedOffer)
	}
	work := fmt.Sprintf("%d bits", in.Work)
	if in.PostQuantum {
		work += ", offers sealed post-quantum"
	}
	t.row("work", work)
	if st := sendStatus(in.Send); st != "" {
		t.row("sent", st)
	}
	if st := sendStatus(in.CancelSend); st != "" {
		t.row("cancel", st)
	}
	if st := sendStatus(in.AcceptSend); st != "" {
		t.row("accept", st)
	}
	t.flush()
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// nonNil makes an empty list print as [] in JSON.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (a *app) intentShow(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "INTENT")
	if err != nil {
		return err
	}
	return callAPI(ctx, a, cmd, ownIntent(cmd, args[0], (*conn).Intent), func(_ *conn, in client.IntentView) error {
		printIntent(a.stdout, in)
		return nil
	})
}

func (a *app) intentCancel(ctx context.Context, cmd *ucli.Command) error {
	args, err := exactArgs(cmd, "INTENT")
	if err != nil {
		return err
	}
	return callAPI(ctx, a, cmd, ownIntent(cmd, args[0], (*conn).CancelIntent), func(_ *conn, in client.IntentView) error {
		fmt.Fprintf(a.stdout, "cancelled intent %s\n", in.ID)
		if st := sendStatus(in.CancelSend); st != "" {
			fmt.Fprintf(a.stdout, "cancel      %s\n", st)
		}
		warnQueued(a.stderr, "cancel", in.CancelSend)
		return nil
	})
}
