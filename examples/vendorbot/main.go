// Command vendorbot answers intents automatically: it follows a daemon's
// event stream and, for every new intent that one of its rules matches,
// sends an offer priced a set percentage below the customer's ceiling.
//
//	go run ./examples/vendorbot --rules examples/vendorbot/rules.example.toml
//
// The daemon is found like the CLI finds it: --api and --token, else
// INTENTCAST_API and INTENTCAST_TOKEN, else the api.addr and api.token files
// of the data directory (--data-dir, INTENTCAST_DATA_DIR,
// $XDG_DATA_HOME/intentcast or ~/.local/share/intentcast). The rules file
// is TOML or JSON (by its extension); rules.example.toml documents it.
//
// The bot sees what the daemon's vendor filter lets through (intentcast
// vendor filter), and never offers twice on one intent, also across
// restarts: it reads the offers the node already sent before it starts.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/api/client"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "vendorbot:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		apiAddr  = flag.String("api", os.Getenv("INTENTCAST_API"), "daemon API address, host:port (default: DATA_DIR/api.addr)")
		token    = flag.String("token", os.Getenv("INTENTCAST_TOKEN"), "API token (default: DATA_DIR/api.token)")
		dataDir  = flag.String("data-dir", os.Getenv("INTENTCAST_DATA_DIR"), "the daemon's data directory")
		rulePath = flag.String("rules", "rules.toml", "rules file, .toml or .json")
		dryRun   = flag.Bool("dry-run", false, "log the offers the rules would make, send none")
	)
	flag.Parse()
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; the bot takes only flags (see -help)", flag.Arg(0))
	}
	rules, err := LoadRules(*rulePath)
	if err != nil {
		return err
	}
	d, err := client.Locate(*apiAddr, *token, *dataDir)
	if err != nil {
		return err
	}
	if d.Token == "" {
		return fmt.Errorf("no --token, and no token file at %s: is the daemon's --data-dir right?", d.TokenFile)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	b := &Bot{Client: client.New(d.URL, d.Token), Rules: rules, DryRun: *dryRun, Log: log}
	log.Info("vendorbot started", "api", d.URL, "rules", len(rules.Rules))
	err = b.Run(ctx)
	if ctx.Err() != nil {
		return nil // Ctrl-C
	}
	return err
}

// Rules is the rules file.
type Rules struct {
	// VendorName and VendorURL, if set, override the daemon's vendor.name
	// and vendor.url in the bot's offers.
	VendorName string `toml:"vendor_name" json:"vendor_name"`
	VendorURL  string `toml:"vendor_url" json:"vendor_url"`
	// Rules are tried in order; the first that matches an intent prices it.
	Rules []Rule `toml:"rule" json:"rules"`
}

// Rule says which intents to answer and how.
type Rule struct {
	Category string   `toml:"category" json:"category"` // required
	Path     []string `toml:"path" json:"path"`         // sub-category prefix; empty matches any
	Keywords []string `toml:"keywords" json:"keywords"` // any of them in the text or path; empty matches any
	Currency string   `toml:"currency" json:"currency"` // empty matches any
	// DiscountPercent is how far below the ceiling the offer goes: 8 offers
	// 92% of the customer's maximum price.
	DiscountPercent float64 `toml:"discount_percent" json:"discount_percent"`
	// Floor is the lowest price the bot offers, in major units of the
	// intent's currency ("400", "399.90"); an intent whose discounted price
	// falls below it is skipped. Empty means no floor.
	Floor string `toml:"floor" json:"floor"`
	// Text is a text/template for the offer's text; see TemplateData.
	Text string `toml:"text" json:"text"`
	// ValidFor is how long offers hold ("24h", "7d"); empty means the
	// daemon's default.
	ValidFor string `toml:"valid_for" json:"valid_for"`

	tmpl *template.Template
}

// TemplateData is what a rule's text template sees.
type TemplateData struct {
	Intent   client.IntentView
	Price    string // the offer's price in major units, e.g. "1104.00"
	Currency string
	Ceiling  string // the intent's maximum price
}

// LoadRules reads and checks a rules file.
func LoadRules(path string) (*Rules, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("rules: %w (pass --rules; see examples/vendorbot/rules.example.toml)", err)
	}
	var r Rules
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".toml":
		md, err := toml.Decode(string(data), &r)
		if err != nil {
			return nil, fmt.Errorf("rules %s: %w", path, err)
		}
		if und := md.Undecoded(); len(und) > 0 {
			return nil, fmt.Errorf("rules %s: unknown key %s", path, und[0])
		}
	case ".json":
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("rules %s: %w", path, err)
		}
	default:
		return nil, fmt.Errorf("rules %s: want a .toml or .json file, not %q", path, ext)
	}
	if len(r.Rules) == 0 {
		return nil, fmt.Errorf("rules %s: no rules; add a [[rule]] table", path)
	}
	for i := range r.Rules {
		if err := r.Rules[i].check(); err != nil {
			return nil, fmt.Errorf("rules %s: rule %d: %w", path, i+1, err)
		}
	}
	return &r, nil
}

func (r *Rule) check() error {
	if r.Category == "" {
		return errors.New("category is required")
	}
	if r.DiscountPercent < 0 || r.DiscountPercent >= 100 {
		return fmt.Errorf("discount_percent %v: want 0 up to (not including) 100", r.DiscountPercent)
	}
	if r.ValidFor != "" && !strings.HasSuffix(r.ValidFor, "d") {
		if _, err := time.ParseDuration(r.ValidFor); err != nil {
			return fmt.Errorf("valid_for %q: want a duration such as 24h or 7d", r.ValidFor)
		}
	}
	if r.Floor != "" {
		if _, err := intent.ParseAmount(r.Floor, cmpOr(r.Currency, "EUR")); err != nil {
			return fmt.Errorf("floor: %w", err)
		}
	}
	t, err := template.New("text").Option("missingkey=error").Parse(r.Text)
	if err != nil {
		return fmt.Errorf("text: %w", err)
	}
	r.tmpl = t
	return nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Match reports whether the rule applies to an intent.
func (r *Rule) Match(in client.IntentView) bool {
	if in.Category != r.Category || r.Currency != "" && in.Currency != r.Currency {
		return false
	}
	if len(r.Path) > len(in.Path) || !slices.Equal(r.Path, in.Path[:len(r.Path)]) {
		return false
	}
	if len(r.Keywords) == 0 {
		return true
	}
	hay := strings.ToLower(in.Text + " " + strings.Join(in.Path, " "))
	return slices.ContainsFunc(r.Keywords, func(k string) bool { return strings.Contains(hay, strings.ToLower(k)) })
}

// Offer prices an intent by the rule: the request to send, or an error
// saying why the bot skips the intent.
func (r *Rule) Offer(in client.IntentView) (client.OfferRequest, error) {
	// Integer arithmetic in minor units: basis points of the ceiling.
	keep := uint64((100 - r.DiscountPercent) * 100)
	p := in.MaxPriceMinor/10000*keep + in.MaxPriceMinor%10000*keep/10000
	if r.Floor != "" {
		floor, err := intent.ParseAmount(r.Floor, in.Currency)
		if err != nil {
			return client.OfferRequest{}, fmt.Errorf("floor %s in %s: %w", r.Floor, in.Currency, err)
		}
		if p < floor {
			return client.OfferRequest{}, fmt.Errorf("price %s %s would be below the floor of %s",
				intent.FormatAmount(p, in.Currency), in.Currency, r.Floor)
		}
	}
	var text bytes.Buffer
	data := TemplateData{Intent: in, Price: intent.FormatAmount(p, in.Currency), Currency: in.Currency, Ceiling: in.MaxPrice}
	if err := r.tmpl.Execute(&text, data); err != nil {
		return client.OfferRequest{}, fmt.Errorf("text template: %w", err)
	}
	return client.OfferRequest{IntentID: in.ID, PriceMinor: &p, Text: strings.TrimSpace(text.String()), ValidFor: r.ValidFor}, nil
}

// Bot answers intents by its rules.
type Bot struct {
	Client *client.Client
	Rules  *Rules
	DryRun bool
	Log    *slog.Logger

	answered map[string]bool
}

// Run follows the event stream until ctx ends, reconnecting when the
// daemon ends it (the stream replays the live intents, so none is missed).
func (b *Bot) Run(ctx context.Context) error {
	b.answered = map[string]bool{}
	sent, err := b.Client.SentOffers(ctx)
	if err != nil {
		return fmt.Errorf("reading the offers already sent: %w", err)
	}
	for _, o := range sent {
		b.answered[o.IntentID] = true
	}
	for {
		err := b.Client.Events(ctx, func(ev client.EventView) error { return b.handle(ctx, ev) })
		if ctx.Err() != nil {
			return ctx.Err()
		}
		b.Log.Warn("event stream ended; reconnecting in 2s", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
		}
	}
}

func (b *Bot) handle(ctx context.Context, ev client.EventView) error {
	if ev.Kind != "intent" || ev.Intent == nil || b.answered[ev.IntentID] {
		return nil
	}
	in := *ev.Intent
	b.answered[in.ID] = true
	i := slices.IndexFunc(b.Rules.Rules, func(r Rule) bool { return r.Match(in) })
	if i < 0 {
		b.Log.Debug("no rule matches", "intent", in.ID[:12], "category", in.Category)
		return nil
	}
	req, err := b.Rules.Rules[i].Offer(in)
	if err != nil {
		b.Log.Info("skipping intent", "intent", in.ID[:12], "rule", i+1, "why", err)
		return nil
	}
	req.VendorName, req.VendorURL = b.Rules.VendorName, b.Rules.VendorURL
	price := intent.FormatAmount(*req.PriceMinor, in.Currency) + " " + in.Currency
	if b.DryRun {
		b.Log.Info("would offer", "intent", in.ID[:12], "rule", i+1, "price", price, "ceiling", in.MaxPrice, "text", req.Text)
		return nil
	}
	// A deadline keeps one slow answer from stalling the stream.
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	o, err := b.Client.SendOffer(ctx, req)
	if err != nil {
		b.Log.Warn("offer failed", "intent", in.ID[:12], "err", err)
		return nil
	}
	b.Log.Info("offered", "intent", in.ID[:12], "offer", o.ID[:12], "price", price, "ceiling", in.MaxPrice+" "+in.Currency)
	return nil
}
