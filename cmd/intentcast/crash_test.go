package main_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
	"github.com/intentcast/intentcast/node/api/client"
	"github.com/intentcast/intentcast/node/store"
)

// TestCrashLoop kills a real daemon with SIGKILL at random moments while
// intents, offers and accepts flow through its API, restarts it on the same
// data dir, and checks after every kill that
//
//   - the store opens (the test opens it itself while the daemon is down,
//     then the daemon does);
//   - nothing the API acknowledged is lost: every intent it answered 201
//     for, every cancel, every offer sent and every accept (the deal, the
//     intent's accepted state and the accepted offer's record) is in the
//     store and served by the restarted daemon;
//   - the replay index still refuses replays: a peer re-publishes the raw
//     bytes of the messages stored last before the kill (own intents,
//     cancels, received offers, accepts; their replay entries were most
//     likely still in the write-behind queue; not own messages the outbox
//     still holds queued, which never left) and the daemon's /metrics show
//     every one ignored, none delivered, while a fresh intent sent with them
//     is delivered.
//
// The daemon under test (A) is both customer and vendor; its counterpart
// (W) is a node in this process, so the test can choose when W connects:
// after each restart A first meets only the replaying peer, which keeps
// its metrics free of other traffic, and only then W. A third of the kills
// land right after an acknowledged accept, a third right after an
// acknowledged publish (both inside the write-behind window), the rest at
// a random moment.
//
// 20 kills by default (about 30 s); INTENTCAST_LONG=1 makes it 300, and
// INTENTCAST_CRASH_KILLS=N any other number (.ci/run uses 100 to stay
// inside the suite's time budget).
func TestCrashLoop(t *testing.T) {
	kills := 20
	if os.Getenv("INTENTCAST_LONG") != "" {
		kills = 300
	}
	if v := os.Getenv("INTENTCAST_CRASH_KILLS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("INTENTCAST_CRASH_KILLS=%q: want a positive number of kills", v)
		}
		kills = n
	}
	start := time.Now()
	bin := buildBinary(t)
	adir := filepath.Join(t.TempDir(), "a")
	d := startDaemon(t, bin, adir)
	tok, err := os.ReadFile(filepath.Join(adir, "api.token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	client := func() *daemonAPI {
		url := "http://" + readAddr(t, adir)
		return &daemonAPI{client.New(url, token), url, token}
	}
	info, err := client().Node(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	w := startCounterpart(t, intent.Policy{MinWork: info.MinWork, MinOfferWork: info.MinOfferWork})
	l := newLedger()
	rng := rand.New(rand.NewPCG(uint64(start.UnixNano()), 2))
	var restarts []time.Duration
	var replays int
	for i := range kills {
		c := client()
		connectCounterpart(t, w, c)

		// Load, then the kill.
		ctx, stop := context.WithCancel(t.Context())
		var killed atomic.Bool
		acks := make(chan string, 1024)
		drv := l.drive(ctx, t, c, &killed, acks)
		mode := []string{"accept", "publish", "random"}[i%3]
		awaitAck(t, acks, "any", patience)
		// Load for a random while (the kill's moment is what is random
		// here, not a wait for anything), then the kill: at once, or right
		// after the next acknowledgement of an accept or a publish.
		timer := time.NewTimer(time.Duration(200+rng.IntN(1300)) * time.Millisecond)
		<-timer.C
		if mode != "random" {
			drain(acks)
			awaitAck(t, acks, mode, patience)
		}
		killed.Store(true)
		d.kill(t)
		stop()
		drv.Wait()

		// The store opens, holds everything acknowledged, and yields the
		// messages to replay.
		old := readAddr(t, adir)
		replay := l.checkStore(t, filepath.Join(adir, node.StoreFile))

		began := time.Now()
		d = startDaemonAfter(t, bin, adir, old)
		restarts = append(restarts, time.Since(began))
		c = client()
		l.checkAPI(t, c)
		checkReplaysRefused(t, c, replay, info.MinWork)
		replays += len(replay)
		if t.Failed() {
			t.Fatalf("kill %d (%s) broke an invariant", i+1, mode)
		}
	}
	slices.Sort(restarts)
	n := l.counts()
	t.Logf("%d SIGKILLs in %v: %d acknowledged operations (%d intents, %d cancels, %d offers, %d accepts), 0 lost; %d replays after restarts, all refused; restart to API up: median %v, max %v",
		kills, time.Since(start).Round(time.Millisecond), n.publish+n.cancel+n.offer+n.accept, n.publish, n.cancel, n.offer, n.accept,
		replays, restarts[len(restarts)/2].Round(time.Millisecond), restarts[len(restarts)-1].Round(time.Millisecond))
}

// ledger is what the daemon's API acknowledged, across every run.
type ledger struct {
	mu      sync.Mutex
	intents map[string]*ownIntent // own intents the API answered 201 for
	offers  map[string]string     // offers sent (201): offer ID -> intent ID
	recent  []string              // intents touched in the last run, for the API check
	n       opCounts
}

type ownIntent struct {
	cancelled bool
	accepted  string // the offer accepted (200)
}

type opCounts struct{ publish, cancel, offer, accept int }

func newLedger() *ledger {
	return &ledger{intents: make(map[string]*ownIntent), offers: make(map[string]string)}
}

func (l *ledger) counts() opCounts {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// drive runs the load on the daemon until ctx ends: a customer that
// publishes intents (and cancels every fourth at once) and accepts the
// first valid offer to each, and a vendor that offers on every intent
// it sees. Each acknowledgement is recorded and announced on acks by kind.
// Errors are failures unless the daemon was being killed.
func (l *ledger) drive(ctx context.Context, t *testing.T, c *daemonAPI, killed *atomic.Bool, acks chan<- string) *sync.WaitGroup {
	l.mu.Lock()
	l.recent = nil
	l.mu.Unlock()
	ack := func(kind, intentID string, f func()) {
		l.mu.Lock()
		f()
		l.recent = append(l.recent, intentID)
		l.mu.Unlock()
		select {
		case acks <- kind:
		default:
		}
	}
	// expected tells errors the load provokes, or the kill does, from
	// failures.
	expected := func(err error, benign ...string) bool {
		if ctx.Err() != nil || killed.Load() {
			return true
		}
		return slices.Contains(benign, client.ErrorCode(err))
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			v, err := c.PublishIntent(ctx, client.PublishRequest{
				Category: "electronics", Path: []string{"crash"}, Text: fmt.Sprintf("crash loop %d", i),
				MaxPrice: "100", Currency: "EUR", ExpiresIn: "10m",
			}, nil)
			if err != nil {
				if !expected(err) {
					t.Errorf("publish: %v", err)
				}
				return
			}
			ack("publish", v.ID, func() { l.intents[v.ID] = &ownIntent{}; l.n.publish++ })
			if i%4 == 3 {
				if _, err := c.CancelIntent(ctx, v.ID); err != nil {
					if !expected(err, client.CodeIntentNotOpen) {
						t.Errorf("cancel: %v", err)
						return
					}
				} else {
					ack("cancel", v.ID, func() { l.intents[v.ID].cancelled = true; l.n.cancel++ })
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	began := time.Now()
	wg.Go(func() {
		for {
			if err := l.react(ctx, c, began, ack, expected); err != nil && !expected(err) {
				t.Errorf("events: %v", err)
			}
			// The daemon ends the stream when this reader falls behind
			// (or dies): read it again (it replays, then goes on).
			if ctx.Err() != nil || killed.Load() {
				return
			}
		}
	})
	return &wg
}

// react follows the daemon's event stream once, acting as its vendor (an
// offer on every intent from this run of the counterpart's, so the backlog
// that sync brings at each restart does not grow with the kills) and as
// its customer (accepting the first valid offer to each intent).
func (l *ledger) react(ctx context.Context, c *daemonAPI, began time.Time, ack func(kind, intentID string, f func()), expected func(error, ...string) bool) error {
	live := false
	return c.Events(ctx, func(e client.EventView) error {
		switch {
		case e.Kind == client.KindReplayEnd:
			live = true
		case !live:
		case e.Kind == "intent" && (e.Intent == nil || e.Intent.Created.Before(began.Add(-2*time.Second))):
		case e.Kind == "intent":
			o, err := c.SendOffer(ctx, client.OfferRequest{IntentID: e.IntentID, Price: "90", Text: "from the crash loop"})
			if err != nil {
				if !expected(err, client.CodeIntentNotLive) {
					return fmt.Errorf("offer: %w", err)
				}
				return nil
			}
			ack("offer", e.IntentID, func() { l.offers[o.ID] = e.IntentID; l.n.offer++ })
		case e.Kind == "offer" && e.Status == string(store.OfferValid):
			d, err := c.Accept(ctx, e.IntentID, e.OfferID, "")
			if err != nil {
				if !expected(err, client.CodeIntentNotOpen, client.CodeOfferNotAcceptable) {
					return fmt.Errorf("accept: %w", err)
				}
				return nil
			}
			ack("accept", e.IntentID, func() {
				in := l.intents[d.IntentID]
				if in == nil {
					// Published by a request the kill cut short: stored,
					// never acknowledged. Its accept was.
					in = &ownIntent{}
					l.intents[d.IntentID] = in
				}
				in.accepted = d.OfferID
				l.n.accept++
			})
		}
		return nil
	})
}

// drain empties acks of what was acknowledged so far.
func drain(acks <-chan string) {
	for {
		select {
		case <-acks:
		default:
			return
		}
	}
}

// awaitAck waits for an acknowledgement of kind ("any" for any kind).
func awaitAck(t *testing.T, acks <-chan string, kind string, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case k := <-acks:
			if kind == "any" || k == kind {
				return
			}
		case <-deadline.C:
			t.Fatalf("no acknowledged %s within %v", kind, timeout)
		}
	}
}

// replayMsg is a stored message to re-publish after the restart.
type replayMsg struct {
	what  string
	topic string
	raw   []byte
}

// checkStore opens the killed daemon's store and checks that it holds
// everything acknowledged. It returns the messages to replay: the last
// stored of each kind.
func (l *ledger) checkStore(t *testing.T, path string) []replayMsg {
	t.Helper()
	s, err := store.Open(path)
	if err != nil {
		t.Fatalf("the store does not open after SIGKILL: %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	own, err := s.OwnIntents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	received, err := s.OffersByDirection(ctx, store.Received)
	if err != nil {
		t.Fatal(err)
	}
	sent, err := s.OffersByDirection(ctx, store.Sent)
	if err != nil {
		t.Fatal(err)
	}
	deals, err := s.Deals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	outbox, err := s.Outbox(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// An own message still queued never left the daemon (its outbox row is
	// written in the transaction that made it, and moves on only once a peer
	// took it): no peer can hold it, so its first copy is it coming back,
	// not a replay. Replaying it would test what no attacker can do.
	unsent := make(map[intent.ID]bool)
	for _, o := range outbox {
		if o.Status == store.SendQueued {
			unsent[intent.ID(o.ID)] = true
		}
	}
	owns := make(map[string]store.OwnIntent, len(own))
	for _, o := range own {
		owns[intent.ID(o.ID).String()] = o
	}
	offers := make(map[string]store.Offer, len(received)+len(sent))
	for _, o := range append(received, sent...) {
		offers[intent.ID(o.ID).String()] = o
	}
	customerDeals := make(map[string]store.Deal)
	for _, d := range deals {
		if d.Role == store.RoleCustomer {
			customerDeals[intent.ID(d.IntentID).String()] = d
		}
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	for id, want := range l.intents {
		o, ok := owns[id]
		switch {
		case !ok:
			t.Errorf("LOST: intent %s (published, 201) is not in the store", id[:12])
		case want.cancelled && (o.State != store.IntentCancelled || len(o.CancelRaw) == 0):
			t.Errorf("LOST: cancel of intent %s (200): state %s", id[:12], o.State)
		case want.accepted != "":
			d, ok := customerDeals[id]
			rec := offers[want.accepted]
			switch {
			case o.State != store.IntentAccepted || intent.ID(o.AcceptedOffer).String() != want.accepted:
				t.Errorf("LOST: accept of %s for intent %s (200): intent is %s, accepted offer %x", want.accepted[:12], id[:12], o.State, o.AcceptedOffer[:6])
			case !ok || intent.ID(d.OfferID).String() != want.accepted:
				t.Errorf("LOST: deal for intent %s (200) is not in the store", id[:12])
			case rec.Status != store.OfferAccepted || len(rec.AcceptRaw) == 0:
				t.Errorf("LOST: accepted offer %s of intent %s is %q in the store (accept %d bytes)", want.accepted[:12], id[:12], rec.Status, len(rec.AcceptRaw))
			}
		}
	}
	for id, in := range l.offers {
		if o, ok := offers[id]; !ok || o.Direction != store.Sent || intent.ID(o.IntentID).String() != in {
			t.Errorf("LOST: sent offer %s (201) is not in the store", id[:12])
		}
	}

	// The newest of each kind: the likeliest to have lost their replay
	// entries. OwnIntents and Deals come newest first, offers oldest first.
	const each = 6
	var out []replayMsg
	add := func(what, topic string, raw []byte) {
		if !unsent[intent.IDOf(raw)] {
			out = append(out, replayMsg{what, topic, raw})
		}
	}
	intents, offersTopic := intent.IntentTopic("electronics"), intent.OfferTopic("electronics")
	for _, o := range own[:min(each, len(own))] {
		add("own intent", intents, o.Raw)
		if len(o.CancelRaw) > 0 {
			add("own cancel", intents, o.CancelRaw)
		}
	}
	for _, o := range received[max(0, len(received)-each):] {
		add("received offer ("+string(o.Status)+")", offersTopic, o.Raw)
	}
	for _, o := range sent[max(0, len(sent)-each):] {
		add("sent offer", offersTopic, o.Raw)
	}
	for _, d := range deals[:min(each, len(deals))] {
		add("accept ("+string(d.Role)+" deal)", offersTopic, d.AcceptRaw)
	}
	return out
}

// checkAPI checks that the restarted daemon serves what the last run
// acknowledged (the store check covered every run; this is the daemon's
// own view of the same store).
func (l *ledger) checkAPI(t *testing.T, c *daemonAPI) {
	t.Helper()
	ctx := t.Context()
	sent, err := c.SentOffers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	deals, err := c.Deals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range l.recent {
		want, ok := l.intents[id]
		if !ok {
			continue // an offer's intent: W's
		}
		v, err := c.Intent(ctx, id)
		switch {
		case err != nil:
			t.Errorf("LOST: the restarted daemon does not serve intent %s: %v", id[:12], err)
		case want.cancelled && v.State != client.StateCancelled,
			want.accepted != "" && (v.State != client.StateAccepted || v.AcceptedOffer != want.accepted):
			t.Errorf("LOST: the restarted daemon shows intent %s as %s (accepted offer %q), want cancelled %v, accepted %q",
				id[:12], v.State, v.AcceptedOffer, want.cancelled, want.accepted)
		}
	}
	have := make(map[string]bool, len(sent))
	for _, o := range sent {
		have[o.ID] = true
	}
	for id := range l.offers {
		if !have[id] {
			t.Errorf("LOST: the restarted daemon does not list sent offer %s", id[:12])
		}
	}
	dealt := make(map[string]string, len(deals))
	for _, d := range deals {
		if d.Role == "customer" {
			dealt[d.IntentID] = d.OfferID
		}
	}
	for id, in := range l.intents {
		if in.accepted != "" && dealt[id] != in.accepted {
			t.Errorf("LOST: the restarted daemon does not list the deal for intent %s", id[:12])
		}
	}
}

// startCounterpart starts W, the daemon's counterpart in this process: it
// publishes an intent every 100 ms, offers on every intent it sees and
// accepts the first offer to each of its own.
func startCounterpart(t *testing.T, policy intent.Policy) *node.Node {
	t.Helper()
	w, err := node.New(t.Context(), node.Config{
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		DisableMDNS: true,
		DataDir:     t.TempDir(),
		Categories:  []string{"electronics"},
		Policy:      policy,
		Logger:      slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError})),
		// The daemon comes back every few seconds: sync with it each time.
		SyncPeerInterval: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := w.Close(); err != nil {
			t.Errorf("close counterpart: %v", err)
		}
	})
	sub := w.Subscribe()
	wg.Go(func() {
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.C:
				if !ok {
					sub = w.Subscribe() // fell behind: go on with a fresh feed
					continue
				}
				switch e.Kind {
				case node.EventIntent:
					// Only fresh intents: at each reconnection sync brings the
					// daemon's older ones too.
					if in, err := w.LiveIntent(e.IntentID); err == nil && time.Since(in.Body.CreatedAt()) < time.Minute {
						w.SendOffer(ctx, e.IntentID, intent.OfferDraft{Price: 9000, Text: "from the counterpart"})
					}
				case node.EventOffer:
					if e.Status == string(store.OfferValid) {
						w.Accept(ctx, e.IntentID, e.OfferID, nil)
					}
				}
			}
		}
	})
	wg.Go(func() {
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			now := time.Now()
			w.Publish(ctx, intent.Draft{
				Category: "electronics", Path: []string{"crash"}, Text: fmt.Sprintf("counterpart %d", i),
				Want:  intent.Want{Quantity: 1, MaxPrice: 10000, Currency: "EUR"},
				Terms: intent.DefaultTerms(), Created: now, Expires: now.Add(10 * time.Minute),
			}, nil)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return w
}

// connectCounterpart has W dial the daemon and waits until the daemon
// lists W as a peer.
func connectCounterpart(t *testing.T, w *node.Node, c *daemonAPI) {
	t.Helper()
	info, err := c.Node(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ai, err := peer.AddrInfoFromString(info.Addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "the daemon lists the counterpart as a peer", func() bool {
		if err := w.Connect(t.Context(), *ai); err != nil {
			return false
		}
		peers, err := c.Peers(t.Context())
		return err == nil && slices.ContainsFunc(peers, func(p client.PeerInfo) bool { return p.ID == w.ID().String() })
	})
}

// gossipSubProtocol is the intentcast gossipsub protocol ID
// (docs/PROTOCOL.md, Transport).
const gossipSubProtocol = protocol.ID("/intentcast/meshsub/1.2.0")

// replayer is a bare gossipsub peer with the protocol's settings and no
// validators: it publishes whatever bytes it is given.
func replayer(t *testing.T) (host.Host, *pubsub.PubSub, func()) {
	t.Helper()
	h, err := libp2p.New(libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	ps, err := pubsub.NewGossipSub(ctx, h,
		pubsub.WithGossipSubProtocols([]protocol.ID{gossipSubProtocol}, func(f pubsub.GossipSubFeature, p protocol.ID) bool {
			return p == gossipSubProtocol && f == pubsub.GossipSubFeatureMesh
		}),
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(func(m *pb.Message) string { s := sha256.Sum256(m.Data); return string(s[:]) }),
		pubsub.WithMaxMessageSize(65<<10))
	if err != nil {
		cancel()
		h.Close()
		t.Fatal(err)
	}
	return h, ps, func() { cancel(); h.Close() }
}

// checkReplaysRefused re-publishes msgs to the restarted daemon from a
// fresh peer (its only peer at that moment), together with one fresh
// intent, and checks by the daemon's metrics that every replay was
// ignored and only the fresh intent delivered. It then checks that the
// replayed offers of accepted intents are still accepted.
func checkReplaysRefused(t *testing.T, c *daemonAPI, msgs []replayMsg, minWork int) {
	t.Helper()
	ctx := t.Context()
	info, err := c.Node(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ai, err := peer.AddrInfoFromString(info.Addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	h, ps, stop := replayer(t)
	defer stop()
	now := time.Now()
	fresh, _, err := intent.NewIntent(ctx, intent.Draft{
		Category: "electronics", Path: []string{"crash"}, Text: "fresh control intent",
		Want:  intent.Want{Quantity: 1, MaxPrice: 10000, Currency: "EUR"},
		Terms: intent.DefaultTerms(), Created: now, Expires: now.Add(time.Hour), Work: minWork,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	topics := map[string]*pubsub.Topic{}
	for _, name := range []string{intent.IntentTopic("electronics"), intent.OfferTopic("electronics")} {
		if topics[name], err = ps.Join(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Connect(ctx, *ai); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "the replaying peer learns the daemon's subscriptions", func() bool {
		for name := range topics {
			if !slices.Contains(ps.ListPeers(name), ai.ID) {
				return false
			}
		}
		return true
	})
	before := scrapeMetrics(t, c)
	for _, m := range msgs {
		if err := topics[m.topic].Publish(ctx, m.raw); err != nil {
			t.Fatalf("replay %s: %v", m.what, err)
		}
	}
	if err := topics[intent.IntentTopic("electronics")].Publish(ctx, fresh.Raw); err != nil {
		t.Fatal(err)
	}
	var after metricSample
	judged := func() int {
		return after.total("dropped") - before.total("dropped") + after.total("delivered") - before.total("delivered")
	}
	eventually(t, 10*time.Second, fmt.Sprintf("the daemon judges the %d replays and the fresh intent", len(msgs)), func() bool {
		after = scrapeMetrics(t, c)
		return judged() >= len(msgs)+1
	})
	ignored := after[`dropped{verdict="ignore"}`] - before[`dropped{verdict="ignore"}`]
	delivered := after.total("delivered") - before.total("delivered")
	freshIn := after[`delivered{kind="intent"}`] - before[`delivered{kind="intent"}`]
	if ignored != len(msgs) || delivered != 1 || freshIn != 1 || judged() != len(msgs)+1 {
		var what []string
		for _, m := range msgs {
			what = append(what, m.what)
		}
		t.Errorf("REPLAY ACCEPTED: of %d replays (%s) and 1 fresh intent the daemon ignored %d and delivered %d (%d intents); metrics before %v, after %v",
			len(msgs), strings.Join(what, ", "), ignored, delivered, freshIn, before, after)
	}
	// A replayed offer that got through would have reset an accepted
	// offer's record.
	l, err := c.Intents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range l {
		if v.State != client.StateAccepted || v.Created.Before(now.Add(-time.Minute)) {
			continue
		}
		offers, err := c.Offers(ctx, v.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range offers {
			if o.ID == v.AcceptedOffer && o.Status != "accepted" {
				t.Errorf("LOST: after the replays the accepted offer %s of intent %s is %q", o.ID[:12], v.ID[:12], o.Status)
			}
		}
	}
}

// metricSample holds the daemon's intentcast_messages_* counters, keyed
// like `dropped{verdict="ignore"}`.
type metricSample map[string]int

func (m metricSample) total(prefix string) int {
	n := 0
	for k, v := range m {
		if strings.HasPrefix(k, prefix+"{") {
			n += v
		}
	}
	return n
}

func scrapeMetrics(t *testing.T, c *daemonAPI) metricSample {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, c.url+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /metrics: %s\n%s", resp.Status, b)
	}
	out := metricSample{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		name, ok := strings.CutPrefix(line, "intentcast_messages_")
		if !ok {
			continue
		}
		i := strings.LastIndexByte(name, ' ')
		v, err := strconv.ParseFloat(name[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		key := strings.Replace(name[:i], "_total{", "{", 1)
		out[key] = int(v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// daemonAPI is a client of one daemon's API, with what the typed client
// keeps to itself: the address and token, for /metrics.
type daemonAPI struct {
	*client.Client
	url, token string
}
