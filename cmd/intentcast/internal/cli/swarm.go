package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	ucli "github.com/urfave/cli/v3"

	"github.com/intentcast/intentcast/cmd/intentcast/internal/daemon"
	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api"
	"github.com/intentcast/intentcast/node/api/client"
	"github.com/intentcast/intentcast/node/api/web"
)

func (a *app) swarmCommand() *ucli.Command {
	return &ucli.Command{
		Name:  "swarm",
		Usage: "run customers and vendor bots on this machine and show the whole loop",
		Description: `Starts real nodes in this process, on 127.0.0.1 with real TCP transports,
each with its own temporary data dir, keys, API server and token; the
vendors bootstrap to the first node. Every vendor runs a bot that answers
each new intent with an offer:

  vendor i (1, 2, 3, ...) offers (100 - 6i)% of the intent's ceiling
  (94%, 88%, 82%, ..., never below 50%), rounded down to whole units,
  valid for 24h, and skips intents whose ceiling is below 50*i units
  of the intent's currency.

With --demo (the default) the first customer then publishes an intent,
waits for every vendor's offer, accepts the cheapest, waits until the
winning vendor sees the accept, checks both deal records match and prints
the timings; the swarm then stops, unless --keep keeps it running (for the
web pages and the other commands: point them at a node with --api and
--token as the table shows) until Ctrl-C.

Examples:
  intentcast swarm
  intentcast swarm --vendors 5 --keep
  intentcast swarm --demo=false --customers 2 --vendors 3`,
		Flags: []ucli.Flag{
			&ucli.IntFlag{Name: "customers", Value: 1, Usage: "customer nodes"},
			&ucli.IntFlag{Name: "vendors", Value: 3, Usage: "vendor nodes, each with an offer bot"},
			&ucli.BoolFlag{Name: "demo", Value: true, Usage: "run one publish -> offers -> accept loop (--demo=false to skip)"},
			&ucli.BoolFlag{Name: "keep", Usage: "keep the swarm running after the demo, until Ctrl-C"},
			&ucli.IntFlag{Name: "min-work", Value: swarmMinWork, Usage: "the swarm network's proof of work, in bits"},
			&ucli.DurationFlag{Name: "timeout", Value: 30 * time.Second, Usage: "how long the demo waits for each step"},
			&ucli.StringFlag{Name: "log-level", Value: "error", Usage: "the nodes' log level: debug, info, warn or error"},
		},
		Action: a.runSwarm,
	}
}

// swarmMinWork keeps minting in the swarm to a few milliseconds.
const swarmMinWork = 12

// swarmSync is how often swarm nodes ask a peer for the intents they lack.
const swarmSync = 2 * time.Second

// gossipHeartbeat is gossipsub's heartbeat, at which nodes graft the
// peers they are connected to into their topic meshes.
const gossipHeartbeat = time.Second

// SwarmConfig configures a local swarm. The zero value is one customer,
// no vendors, the swarm's default proof of work and the default logger.
type SwarmConfig struct {
	Customers, Vendors int
	MinWork            int          // 0 means swarmMinWork
	Logger             *slog.Logger // the nodes' and bots' logs; nil means slog.Default()
}

// swarmNode is one node of a swarm with its API.
type swarmNode struct {
	Role   string `json:"role"`
	Name   string `json:"name"`
	PeerID string `json:"peer_id"`
	API    string `json:"api"`
	Token  string `json:"token"`

	n      *node.Node
	srv    *daemon.APIServer
	client *client.Client
	bot    *offerBot
}

// swarm is a running local swarm. Close stops it.
type swarm struct {
	nodes  []*swarmNode
	root   string
	log    *slog.Logger
	cancel context.CancelFunc // stops the bots
	wg     sync.WaitGroup     // the bots
}

var vendorNames = []string{"Kiez Electronics", "Nordlicht Trading", "Bazaar of Bits", "Harbor Goods", "Alder & Sons", "Quayside Supply"}

var vendorTexts = []string{
	"In stock, ships tomorrow from Berlin.",
	"Refurbished grade A, 2-year warranty.",
	"New and sealed; free returns for 30 days.",
	"Ships in 3 days; pick-up possible.",
	"Open box, full warranty.",
	"Bundle with a sleeve at no extra cost.",
}

func botName(i int) string {
	name := vendorNames[i%len(vendorNames)]
	if i >= len(vendorNames) {
		name += fmt.Sprintf(" %d", i/len(vendorNames)+1)
	}
	return name
}

// startSwarm starts the nodes, their APIs and the vendor bots. On error,
// whatever started is stopped.
func startSwarm(ctx context.Context, cfg SwarmConfig) (s *swarm, err error) {
	if cfg.Customers == 0 {
		cfg.Customers = 1
	}
	if cfg.Customers < 0 || cfg.Vendors < 0 {
		return nil, fmt.Errorf("swarm: %d customers and %d vendors; neither may be negative", cfg.Customers, cfg.Vendors)
	}
	if cfg.MinWork == 0 {
		cfg.MinWork = swarmMinWork
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	root, err := os.MkdirTemp("", "intentcast-swarm-")
	if err != nil {
		return nil, err
	}
	botCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s = &swarm{root: root, log: cfg.Logger, cancel: cancel}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	var bootstrap []string
	for i := range cfg.Customers + cfg.Vendors {
		role, name := "customer", fmt.Sprintf("customer-%d", i+1)
		if i >= cfg.Customers {
			role, name = "vendor", botName(i-cfg.Customers)
		}
		sn, err := s.startNode(ctx, role, name, bootstrap, cfg.MinWork)
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", name, err)
		}
		if i == 0 {
			for _, addr := range sn.n.Addrs() {
				bootstrap = append(bootstrap, addr.String())
			}
		}
	}
	for i, sn := range s.vendors() {
		sn.bot = newOfferBot(sn.client, i+1, vendorTexts[i%len(vendorTexts)], s.log.With("bot", sn.Name))
		s.wg.Go(func() { sn.bot.run(botCtx) })
	}
	return s, nil
}

func (s *swarm) startNode(ctx context.Context, role, name string, bootstrap []string, minWork int) (*swarmNode, error) {
	dir := filepath.Join(s.root, strings.ToLower(strings.NewReplacer(" ", "-", "&", "and").Replace(name)))
	id, err := crypto.GenerateIdentity()
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	log := s.log.With("node", name)
	n, err := node.New(ctx, node.Config{
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		Bootstrap:   bootstrap,
		DisableMDNS: true,
		DataDir:     dir,
		Categories:  intent.Categories,
		Policy:      intent.Policy{MinWork: minWork, MinOfferWork: minWork, MinRatingWork: minWork},
		Vendor:      intent.Vendor{Name: name},
		Identity:    id,
		Registerer:  reg,
		Logger:      log,
		// A local demo network syncs often, so that an intent that gossip
		// missed (a mesh link that formed just after it passed) still
		// reaches every vendor within seconds.
		SyncInterval:      swarmSync,
		SyncPeerInterval:  swarmSync / 2,
		SyncServeInterval: swarmSync / 2,
	})
	if err != nil {
		return nil, err
	}
	sn := &swarmNode{Role: role, Name: name, PeerID: n.ID().String(), n: n}
	s.nodes = append(s.nodes, sn) // Close closes it from here on
	tok := make([]byte, 32)
	rand.Read(tok)
	sn.Token = hex.EncodeToString(tok)
	ln, err := daemon.ListenAPI("127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	sn.srv, err = daemon.ServeAPI(n, ln, api.ServerConfig{
		Token: sn.Token, DataDir: dir, Registry: reg, Version: version(), Logger: log, Web: web.Handler(),
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	sn.API = sn.srv.URL()
	sn.client = client.New(sn.API, sn.Token)
	return sn, nil
}

func (s *swarm) customers() []*swarmNode {
	return slices.DeleteFunc(slices.Clone(s.nodes), func(n *swarmNode) bool { return n.Role != "customer" })
}

func (s *swarm) vendors() []*swarmNode {
	return slices.DeleteFunc(slices.Clone(s.nodes), func(n *swarmNode) bool { return n.Role != "vendor" })
}

// awaitConnected waits until the first node is connected to every other
// node, then lets a gossipsub heartbeat pass: that is when the nodes graft
// their new peers into their topic meshes, and a message published into a
// mesh that lacks a peer reaches that peer only by the (periodic) sync. The
// meshes cannot be observed from outside the node, so this one wait is by
// the clock.
func (s *swarm) awaitConnected(ctx context.Context) error {
	first := s.nodes[0].n
	want := len(s.nodes) - 1
	defer func() {
		select {
		case <-ctx.Done():
		case <-time.After(gossipHeartbeat + 200*time.Millisecond):
		}
	}()
	return poll(ctx, 20*time.Millisecond, func() bool {
		if len(first.Peers()) < want {
			return false
		}
		for _, sn := range s.nodes[1:] {
			if len(sn.n.Peers()) == 0 {
				return false
			}
		}
		return true
	})
}

// Close stops the bots, the APIs and the nodes, and removes the data.
func (s *swarm) Close() error {
	s.cancel()
	s.wg.Wait()
	var errs []error
	for _, sn := range s.nodes {
		if sn.srv != nil {
			errs = append(errs, sn.srv.Close(2*time.Second))
		}
	}
	for _, sn := range s.nodes {
		errs = append(errs, sn.n.Close())
	}
	errs = append(errs, os.RemoveAll(s.root))
	return errors.Join(errs...)
}

// poll calls cond every interval until it reports true or ctx ends.
func poll(ctx context.Context, interval time.Duration, cond func() bool) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-t.C:
		}
	}
	return nil
}

// offerBot answers every new intent its node sees with an offer, by the
// rules in the swarm command's help.
type offerBot struct {
	c    *client.Client
	i    int // 1-based
	text string
	log  *slog.Logger
}

func newOfferBot(c *client.Client, i int, text string, log *slog.Logger) *offerBot {
	return &offerBot{c: c, i: i, text: text, log: log}
}

// percent is the share of the ceiling the bot offers.
func (b *offerBot) percent() uint64 { return uint64(max(50, 100-6*b.i)) }

// floor is the smallest ceiling, in whole units, the bot answers.
func (b *offerBot) floor() uint64 { return uint64(50 * b.i) }

// price returns the bot's price for an intent in minor units, or false if
// the bot skips it.
func (b *offerBot) price(in client.IntentView) (uint64, bool) {
	unit, err := intent.ParseAmount("1", in.Currency) // minor units per major unit
	if err != nil || unit == 0 {
		return 0, false
	}
	if in.MaxPriceMinor < b.floor()*unit {
		return 0, false
	}
	p := in.MaxPriceMinor / 100 * b.percent() // no overflow near MaxPrice
	p += in.MaxPriceMinor % 100 * b.percent() / 100
	p -= p % unit
	return p, p > 0
}

// run answers intents until ctx ends, reconnecting to the event stream if
// it breaks.
func (b *offerBot) run(ctx context.Context) {
	answered := map[string]bool{}
	for ctx.Err() == nil {
		err := b.c.Events(ctx, func(ev client.EventView) error {
			if ev.Kind != client.KindIntent || ev.Intent == nil || answered[ev.IntentID] {
				return nil
			}
			answered[ev.IntentID] = true
			in := *ev.Intent
			p, ok := b.price(in)
			if !ok {
				b.log.Info("skipping intent: ceiling below the floor", "intent", short(in.ID), "ceiling", in.MaxPrice)
				return nil
			}
			o, err := b.c.SendOffer(ctx, client.OfferRequest{IntentID: in.ID, PriceMinor: &p, Text: b.text, ValidFor: "24h"})
			if err != nil {
				b.log.Warn("offer failed", "intent", short(in.ID), "err", err)
				return nil
			}
			b.log.Info("offered", "intent", short(in.ID), "offer", short(o.ID), "price", o.Price)
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		b.log.Warn("event stream ended; reconnecting", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// demoResult is what the demo did, for --json.
type demoResult struct {
	Nodes  []*swarmNode       `json:"nodes"`
	Intent client.IntentView  `json:"intent"`
	Offers []client.OfferView `json:"offers"`
	Deals  []client.DealView  `json:"deals"` // customer's, then vendor's
	// The customer's rating of the deal and the vendor's reputation as the
	// customer's node computed it.
	Rating     *client.RatingView     `json:"rating,omitempty"`
	Reputation *client.ReputationView `json:"reputation,omitempty"`
	Timings    demoTimings            `json:"timings"`
}

type demoTimings struct {
	Mint       time.Duration `json:"mint_ns"`
	FirstOffer time.Duration `json:"first_offer_ns"`
	AllOffers  time.Duration `json:"all_offers_ns"`
	AcceptSeen time.Duration `json:"accept_seen_ns"`
	Total      time.Duration `json:"total_ns"`
}

func (a *app) runSwarm(ctx context.Context, cmd *ucli.Command) error {
	if err := noArgs(cmd); err != nil {
		return err
	}
	cfg := SwarmConfig{Customers: cmd.Int("customers"), Vendors: cmd.Int("vendors"), MinWork: cmd.Int("min-work")}
	switch {
	case cfg.Customers < 1 || cfg.Customers > 50:
		return flagError(cmd, "customers", fmt.Sprint(cfg.Customers), "want 1 to 50")
	case cfg.Vendors < 0 || cfg.Vendors > 50:
		return flagError(cmd, "vendors", fmt.Sprint(cfg.Vendors), "want 0 to 50")
	case cfg.MinWork < 1 || cfg.MinWork > 32:
		return flagError(cmd, "min-work", fmt.Sprint(cfg.MinWork), "want 1 to 32 bits (every 4 more bits mint 16 times slower)")
	case cmd.Bool("demo") && cfg.Vendors == 0:
		return flagError(cmd, "vendors", "0", "the demo needs at least one vendor; or pass --demo=false")
	}
	level, err := daemon.ParseLogLevel(cmd.String("log-level"))
	if err != nil {
		return flagError(cmd, "log-level", cmd.String("log-level"), "want debug, info, warn or error")
	}
	cfg.Logger = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
	timeout := cmd.Duration("timeout")
	jsonOut := cmd.Bool(flagJSON)
	out := a.stdout
	if jsonOut {
		out = io.Discard
	}

	start := time.Now()
	s, err := startSwarm(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := s.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("stop swarm: %w", cerr))
		}
	}()
	wctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("nodes not connected after %s", timeout))
	err = s.awaitConnected(wctx)
	cancel()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "intentcast swarm: %d nodes on 127.0.0.1, connected in %s\n\n", len(s.nodes), fmtDuration(time.Since(start)))
	// 100 columns: the tokens (64 hex digits) get lines of their own.
	t := newTable(out, "ROLE", "NAME", "PEER ID", "API / WEB PAGE")
	for _, sn := range s.nodes {
		t.row(sn.Role, sn.Name, shortPeer(sn.PeerID), sn.API)
	}
	t.flush()
	fmt.Fprintln(out, "\nAPI tokens (--token):")
	t = newTable(out)
	for _, sn := range s.nodes {
		t.row("  "+sn.Name, sn.Token)
	}
	t.flush()
	fmt.Fprintln(out)

	if cmd.Bool("demo") {
		res, err := a.demo(ctx, out, s, timeout)
		if err != nil {
			return err
		}
		if jsonOut {
			if err := printJSON(a.stdout, res); err != nil {
				return err
			}
		}
	} else if jsonOut {
		if err := printJSON(a.stdout, map[string]any{"nodes": s.nodes}); err != nil {
			return err
		}
	}
	if !cmd.Bool("keep") && cmd.Bool("demo") {
		return nil
	}
	c := s.customers()[0]
	fmt.Fprintf(a.stderr, "\nThe swarm keeps running; Ctrl-C stops it. Try:\n  intentcast --api %s --token %s intent list\n", c.API, c.Token)
	<-ctx.Done()
	fmt.Fprintln(a.stderr, "stopping the swarm...")
	return nil
}

// shortPeer shortens a peer ID for tables: 12D3KooW…last6.
func shortPeer(id string) string {
	if len(id) <= 20 {
		return id
	}
	return id[:8] + "…" + id[len(id)-6:]
}

// negotiate has the customer counter best at 95% and the winner answer
// with a revised offer halfway between; it returns the revised offer as
// the customer holds it. Each side's thread event is awaited: the counter
// and the reply travel sealed through the swarm like offers.
func (a *app) negotiate(ctx context.Context, out io.Writer, wg *sync.WaitGroup, wctx context.Context,
	cust, winner *swarmNode, best client.OfferView, timeout time.Duration) (client.OfferView, error) {
	threadAt := func(n *swarmNode, count int) <-chan client.ThreadView {
		got := make(chan client.ThreadView, 1)
		wg.Go(func() {
			_ = n.client.Events(wctx, func(ev client.EventView) error {
				if ev.Kind == client.KindThread && ev.Thread != nil && ev.Thread.Root == best.ID && len(ev.Thread.Messages) == count {
					got <- *ev.Thread
					return errStopWatch
				}
				return nil
			})
		})
		return got
	}
	await := func(got <-chan client.ThreadView, what string) (client.ThreadView, error) {
		select {
		case tr := <-got:
			return tr, nil
		case <-ctx.Done():
			return client.ThreadView{}, ctx.Err()
		case <-time.After(timeout):
			return client.ThreadView{}, fmt.Errorf("%s within %s", what, timeout)
		}
	}
	cur := best.Currency
	unit := best.PriceMinor / 100 * 100 // whole units
	counter := unit * 95 / 100 / 100 * 100
	fmt.Fprintf(out, "\n%s counters %s from %s: %s, with a sleeve?\n", cust.Name, price(best.Price, cur), winner.Name,
		price(intent.FormatAmount(counter, cur), cur))
	vendorSees := threadAt(winner, 1)
	start := time.Now()
	if _, err := cust.client.Counter(ctx, best.ID, client.CounterRequest{PriceMinor: &counter, Text: "Would you do that with a sleeve?"}); err != nil {
		return client.OfferView{}, fmt.Errorf("counter: %w", err)
	}
	if _, err := await(vendorSees, winner.Name+" did not see the counter"); err != nil {
		return client.OfferView{}, err
	}
	fmt.Fprintf(out, "  +%-8s %s reads the counter (sealed to it: no relay can)\n", fmtDuration(time.Since(start)), winner.Name)
	mid := (unit + counter) / 2 / 100 * 100
	customerSees := threadAt(cust, 2)
	start = time.Now()
	if _, err := winner.client.Reply(ctx, best.ID, client.ThreadReplyRequest{PriceMinor: &mid, OfferText: "With a sleeve, ships tomorrow",
		Text: "Halfway, sleeve included."}); err != nil {
		return client.OfferView{}, fmt.Errorf("reply: %w", err)
	}
	tr, err := await(customerSees, cust.Name+" did not see the revised offer")
	if err != nil {
		return client.OfferView{}, err
	}
	m := tr.Messages[1]
	if m.Offer == nil {
		return client.OfferView{}, errors.New("the vendor's reply carries no revised offer")
	}
	fmt.Fprintf(out, "  +%-8s %s revises its offer: %s, \"%s\"\n", fmtDuration(time.Since(start)), winner.Name, price(m.Offer.Price, cur), truncate(m.Text, 30))
	return *m.Offer, nil
}

// demo runs one loop: publish, offers, accept, deal on both sides.
func (a *app) demo(ctx context.Context, out io.Writer, s *swarm, timeout time.Duration) (res demoResult, err error) {
	res.Nodes = s.nodes
	cust := s.customers()[0]
	vendors := s.vendors()
	start := time.Now()

	// Watch the customer's offers from before the intent exists; the
	// stream replays, so nothing can be missed either way.
	wctx, stopWatch := context.WithCancel(ctx)
	offers := make(chan client.EventView, 64)
	var wg sync.WaitGroup
	defer func() {
		stopWatch()
		wg.Wait()
	}()
	wg.Go(func() {
		_ = cust.client.Events(wctx, func(ev client.EventView) error {
			if ev.Kind == client.KindOffer && ev.Offer != nil {
				select {
				case offers <- ev:
				case <-wctx.Done():
				}
			}
			return nil
		})
	})

	req := client.PublishRequest{
		Category:  "electronics",
		Path:      []string{"laptops"},
		Text:      "Light 14-inch laptop, 32 GB RAM, 1 TB SSD, German keyboard",
		MaxPrice:  "1200",
		Currency:  "EUR",
		Region:    "DE",
		ExpiresIn: "24h",
	}
	fmt.Fprintf(out, "%s publishes an intent: %s/%s, at most %s %s, region %s,\n  %q\n  terms: no-tracking, no-resale, delete-after (the defaults)\n",
		cust.Name, req.Category, strings.Join(req.Path, "/"), req.MaxPrice, req.Currency, req.Region, req.Text)
	p := newMintProgress(a.stderr)
	in, err := cust.client.PublishIntent(ctx, req, p.update)
	p.clear() // the line below says it
	if err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	res.Timings.Mint = time.Since(start)
	res.Intent = in
	fmt.Fprintf(out, "published intent %s (%d bits of proof of work; minted and sent in %s)\n\n", short(in.ID), in.Work, fmtDuration(res.Timings.Mint))

	// Every vendor whose floor the ceiling meets answers.
	want := 0
	for _, v := range vendors {
		if _, ok := v.bot.price(in); ok {
			want++
		}
	}
	fmt.Fprintf(out, "waiting for %d offers...\n", want)
	published := time.Now()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	got := map[string]client.OfferView{}
	for len(got) < want {
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-deadline.C:
			return res, fmt.Errorf("only %d of %d offers arrived within %s", len(got), want, timeout)
		case ev := <-offers:
			if ev.IntentID != in.ID || got[ev.OfferID].ID != "" {
				continue
			}
			got[ev.OfferID] = *ev.Offer
			d := time.Since(published)
			if len(got) == 1 {
				res.Timings.FirstOffer = d
			}
			fmt.Fprintf(out, "  +%-8s offer from %s: %s\n", fmtDuration(d), ev.Offer.Vendor.Name, price(ev.Offer.Price, ev.Offer.Currency))
		}
	}
	res.Timings.AllOffers = time.Since(published)

	// The customer's node holds them now; list them as the CLI does.
	list, err := cust.client.Offers(ctx, in.ID)
	if err != nil {
		return res, fmt.Errorf("list offers: %w", err)
	}
	sortOffers(list)
	res.Offers = list
	fmt.Fprintln(out)
	t := newTable(out, "OFFER", "VENDOR", "PRICE", "TERMS OK", "STATUS", "TEXT")
	for _, o := range list {
		t.row(short(o.ID), o.Vendor.Name, price(o.Price, o.Currency), yesNo(o.TermsOK), o.Status, truncate(o.Text, 34))
	}
	t.flush()
	if len(list) == 0 || list[0].Status == "refused" {
		return res, errors.New("no acceptable offer")
	}
	best := list[0]
	i := slices.IndexFunc(vendors, func(v *swarmNode) bool { return v.Name == best.Vendor.Name })
	if i < 0 {
		return res, fmt.Errorf("the cheapest offer names vendor %q, which is not in the swarm", best.Vendor.Name)
	}
	winner := vendors[i]

	// Negotiate: a counter below the cheapest offer, the vendor's revised
	// offer halfway, which the customer then accepts.
	revised, err := a.negotiate(ctx, out, &wg, wctx, cust, winner, best, timeout)
	if err != nil {
		return res, err
	}
	best = revised

	// Accept, and wait for the winner's node to hear of it.
	fmt.Fprintf(out, "\n%s accepts the revised offer: %s from %s\n", cust.Name, price(best.Price, best.Currency), winner.Name)
	seen := make(chan struct{})
	wg.Go(func() {
		_ = winner.client.Events(wctx, func(ev client.EventView) error {
			if ev.Kind == client.KindAccept && ev.IntentID == in.ID {
				close(seen)
				return errStopWatch
			}
			return nil
		})
	})
	deadline.Reset(timeout)
	accepted := time.Now()
	custDeal, err := cust.client.Accept(ctx, in.ID, best.ID, "Please deliver to the pick-up station; contact: demo@example.org")
	if err != nil {
		return res, fmt.Errorf("accept: %w", err)
	}
	select {
	case <-seen:
	case <-ctx.Done():
		return res, ctx.Err()
	case <-deadline.C:
		return res, fmt.Errorf("%s did not see the accept within %s", winner.Name, timeout)
	}
	res.Timings.AcceptSeen = time.Since(accepted)
	fmt.Fprintf(out, "  +%-8s %s sees the accept\n\n", fmtDuration(res.Timings.AcceptSeen), winner.Name)

	deals, err := winner.client.Deals(ctx)
	if err != nil {
		return res, fmt.Errorf("vendor deals: %w", err)
	}
	j := slices.IndexFunc(deals, func(d client.DealView) bool { return d.IntentID == in.ID })
	if j < 0 {
		return res, fmt.Errorf("%s saw the accept but holds no deal for intent %s", winner.Name, short(in.ID))
	}
	vendDeal := deals[j]
	res.Deals = []client.DealView{custDeal, vendDeal}

	fmt.Fprintln(out, "deal records:")
	t = newTable(out, "", strings.ToUpper(cust.Name), strings.ToUpper(winner.Name))
	t.row("role", custDeal.Role, vendDeal.Role)
	t.row("intent", short(custDeal.IntentID), short(vendDeal.IntentID))
	t.row("offer", short(custDeal.OfferID), short(vendDeal.OfferID))
	t.row("price", price(custDeal.Offer.Price, custDeal.Offer.Currency), price(vendDeal.Offer.Price, vendDeal.Offer.Currency))
	t.row("vendor key", short(custDeal.Offer.Vendor.Key), short(vendDeal.Offer.Vendor.Key))
	t.row("details", "(sealed to the vendor)", truncate(vendDeal.Details, 40))
	t.flush()
	if custDeal.IntentID != vendDeal.IntentID || custDeal.OfferID != vendDeal.OfferID ||
		custDeal.Offer.PriceMinor != vendDeal.Offer.PriceMinor || custDeal.Offer.Vendor.Key != vendDeal.Offer.Vendor.Key {
		return res, errors.New("the customer's and the vendor's deal records differ")
	}
	fmt.Fprintln(out, "both sides hold the same deal: same intent, same offer, same price, same vendor key")
	if err := demoRating(ctx, out, cust, winner, in.ID, &res); err != nil {
		return res, err
	}

	res.Timings.Total = time.Since(start)
	fmt.Fprintln(out, "\ntimings:")
	t = newTable(out)
	t.row("  mint and publish the intent", fmtDuration(res.Timings.Mint))
	t.row("  first offer after publishing", fmtDuration(res.Timings.FirstOffer))
	t.row(fmt.Sprintf("  all %d offers", want), fmtDuration(res.Timings.AllOffers))
	t.row("  accept seen by the vendor", fmtDuration(res.Timings.AcceptSeen))
	t.row("  whole loop", fmtDuration(res.Timings.Total))
	t.flush()
	return res, nil
}
