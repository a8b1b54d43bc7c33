package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync/atomic"
	"time"

	"github.com/intentcast/intentcast/crypto"
	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
)

// RoundTripOptions describe a round-trip run: Intents intents from random
// customers at Rate, Vendors vendors answering each with an offer, the
// customer accepting the first offer of each intent.
type RoundTripOptions struct {
	Vendors int
	Intents int
	Rate    float64
	Timeout time.Duration // after the last intent
	Seed    uint64
}

// Latency summarises a set of latencies.
type Latency struct {
	Count              int
	P50, P95, P99, Max time.Duration
}

func summarize(xs []int64) Latency {
	slices.Sort(xs)
	return Latency{Count: len(xs),
		P50: time.Duration(percentile(xs, 50)), P95: time.Duration(percentile(xs, 95)),
		P99: time.Duration(percentile(xs, 99)), Max: time.Duration(percentile(xs, 100))}
}

// RoundTripResult is what a round-trip run measured.
type RoundTripResult struct {
	System     string
	N          int
	Repeat     int // which of the suite's repeats (0 outside a suite)
	Vendors    int
	Intents    int
	FirstOffer Latency // intent published -> its first offer opened by the customer
	Accept     Latency // intent published -> the accept seen by the winning vendor
	Legs       Legs    // where Accept's time went
	Offers     int64   // offers the customers received in all
	Errors     int64
	FirstError string
}

// Legs split each intent's round trip into its steps, as p50s over the
// intents: published -> the first vendor has it (Intent); -> the customer
// has its first offer, the vendor's making of it included (Offer); -> the
// customer's accept call returned (AcceptCall: signing and storing it for
// intentcast, the publish call for raw); -> the vendor has the accept
// (AcceptTravel; negative when the vendor had it before the call that
// sent it returned to the customer).
type Legs struct {
	Intent, Offer, AcceptCall, AcceptTravel time.Duration
}

// roundTrip is the bookkeeping common to both systems.
type roundTrip struct {
	// per intent: published, first at a vendor, first offer at the
	// customer, accept call returned, accept at the vendor
	sent, reached, offered, answered, accepted []atomic.Int64
	offers, errs                               atomic.Int64
	firstErr                                   atomic.Value
	customer                                   []int
	vendor                                     []bool
}

func newRoundTrip(n int, o RoundTripOptions) (*roundTrip, error) {
	if o.Vendors >= n {
		return nil, fmt.Errorf("%d vendors leave no customer among %d peers", o.Vendors, n)
	}
	rt := &roundTrip{sent: make([]atomic.Int64, o.Intents), reached: make([]atomic.Int64, o.Intents),
		offered: make([]atomic.Int64, o.Intents), answered: make([]atomic.Int64, o.Intents),
		accepted: make([]atomic.Int64, o.Intents), customer: make([]int, o.Intents), vendor: make([]bool, n)}
	r := rand.New(rand.NewPCG(o.Seed, 0x77))
	perm := r.Perm(n)
	for _, v := range perm[:o.Vendors] {
		rt.vendor[v] = true
	}
	customers := perm[o.Vendors:]
	for k := range rt.customer {
		rt.customer[k] = customers[r.IntN(len(customers))]
	}
	return rt, nil
}

// earliest keeps the earliest of the times reported into a: the vendors
// that reach a step report it in no particular order (from goroutines
// that may be descheduled between stamping and reporting, or from
// processes of their own), and the first report need not be the first
// time. 0 is none yet.
func earliest(a *atomic.Int64, t int64) {
	for {
		cur := a.Load()
		if cur != 0 && cur <= t {
			return
		}
		if a.CompareAndSwap(cur, t) {
			return
		}
	}
}

func (rt *roundTrip) fail(err error) {
	if rt.errs.Add(1) == 1 {
		rt.firstErr.Store(err.Error())
	}
}

// run publishes every intent at o.Rate and waits for every accept.
func (rt *roundTrip) run(ctx context.Context, o RoundTripOptions, publish func(k int) error) {
	interval := time.Duration(float64(time.Second) / o.Rate)
	start := time.Now()
	for k := range o.Intents {
		time.Sleep(time.Until(start.Add(time.Duration(k) * interval)))
		rt.sent[k].Store(now())
		go func() {
			if err := publish(k); err != nil {
				rt.fail(err)
			}
		}()
	}
	deadline := time.Now().Add(o.Timeout)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		done := true
		for k := range rt.accepted {
			if rt.accepted[k].Load() == 0 {
				done = false
				break
			}
		}
		if done {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (rt *roundTrip) result(system string, n int, o RoundTripOptions) RoundTripResult {
	var offer, acc []int64
	for k := range rt.sent {
		s := rt.sent[k].Load()
		if t := rt.offered[k].Load(); t != 0 {
			offer = append(offer, t-s)
		}
		if t := rt.accepted[k].Load(); t != 0 {
			acc = append(acc, t-s)
		}
	}
	res := RoundTripResult{System: system, N: n, Vendors: o.Vendors, Intents: o.Intents,
		FirstOffer: summarize(offer), Accept: summarize(acc), Legs: rt.legs(), Offers: rt.offers.Load(), Errors: rt.errs.Load()}
	if s, ok := rt.firstErr.Load().(string); ok {
		res.FirstError = s
	}
	return res
}

// legs returns the p50 of each step over the intents that completed it.
func (rt *roundTrip) legs() Legs {
	step := func(from, to []atomic.Int64) time.Duration {
		var xs []int64
		for k := range from {
			if a, b := from[k].Load(), to[k].Load(); a != 0 && b != 0 {
				xs = append(xs, b-a)
			}
		}
		return summarize(xs).P50
	}
	return Legs{Intent: step(rt.sent, rt.reached), Offer: step(rt.reached, rt.offered),
		AcceptCall: step(rt.offered, rt.answered), AcceptTravel: step(rt.answered, rt.accepted)}
}

// RoundTripIntentcast runs the round trip on an intentcast swarm: vendors
// follow their node's events and answer every intent with SendOffer; the
// customer's node opens each offer (EventOffer) and the customer accepts the
// first with Accept; the vendor's node reports the deal (EventAccept).
func RoundTripIntentcast(ctx context.Context, s *ICSwarm, o RoundTripOptions) (RoundTripResult, error) {
	n := s.Size()
	rt, err := newRoundTrip(n, o)
	if err != nil {
		return RoundTripResult{}, err
	}
	ins, keys, _, err := mintIntents(ctx, o.Intents, s.minWork)
	if err != nil {
		return RoundTripResult{}, err
	}
	index := make(map[intent.ID]int, len(ins))
	for k, in := range ins {
		index[in.ID] = k
	}
	nodes := s.Nodes()
	hook := func(peer int, e node.Event) {
		k, ok := index[e.IntentID]
		if !ok {
			return
		}
		at := now()
		switch {
		case e.Kind == node.EventIntent && rt.vendor[peer]:
			earliest(&rt.reached[k], at)
			go func() {
				_, err := nodes[peer].SendOffer(ctx, e.IntentID, benchOffer)
				// A vendor slower than the one accepted finds the intent
				// closed: a late offer, refused as it should be, not an
				// error (raw gossipsub has no such check).
				if err != nil && !errors.Is(err, node.ErrNotLive) {
					rt.fail(fmt.Errorf("vendor %d offers: %w", peer, err))
				}
			}()
		case e.Kind == node.EventOffer && peer == rt.customer[k]:
			rt.offers.Add(1)
			if e.Status == "valid" && rt.offered[k].CompareAndSwap(0, at) {
				go func() {
					if _, err := nodes[peer].Accept(ctx, e.IntentID, e.OfferID, nil); err != nil {
						rt.fail(fmt.Errorf("customer %d accepts: %w", peer, err))
						return
					}
					rt.answered[k].Store(now())
				}()
			}
		case e.Kind == node.EventAccept && rt.vendor[peer]:
			rt.accepted[k].CompareAndSwap(0, at)
		}
	}
	s.hook.Store(&hook)
	defer s.hook.Store(nil)
	rt.run(ctx, o, func(k int) error { return nodes[rt.customer[k]].PublishMinted(ctx, ins[k], keys[k]) })
	return rt.result(s.System(), n, o), nil
}

// RoundTripRaw runs the same exchange on a raw swarm with two topics:
// vendors answer each intent payload with an offer-sized payload on the
// second topic, the customer answers the first offer with an accept-sized
// payload, and the vendor it names records it. Sizes are those of real
// sealed offers and accepts.
func RoundTripRaw(ctx context.Context, s *RawSwarm, o RoundTripOptions) (RoundTripResult, error) {
	n := s.Size()
	if len(s.topics[0]) < 2 {
		return RoundTripResult{}, fmt.Errorf("the raw round trip needs a swarm with 2 topics")
	}
	sizes, err := messageSizes()
	if err != nil {
		return RoundTripResult{}, err
	}
	rt, err := newRoundTrip(n, o)
	if err != nil {
		return RoundTripResult{}, err
	}
	run := recorderIDs.Add(1)
	send := func(peer, topic int, p []byte, sent *atomic.Int64) {
		go func() {
			if err := s.topics[peer][topic].Publish(ctx, p); err != nil {
				rt.fail(err)
				return
			}
			if sent != nil {
				sent.Store(now())
			}
		}()
	}
	hook := func(peer, topic int, data []byte) {
		if len(data) < rawHeader || binary.BigEndian.Uint32(data) != run {
			return
		}
		at := now()
		k := int(binary.BigEndian.Uint32(data[4:]))
		vendor := int(binary.BigEndian.Uint32(data[9:]))
		if k >= o.Intents {
			return
		}
		switch {
		case data[8] == kindIntent && rt.vendor[peer]:
			earliest(&rt.reached[k], at)
			send(peer, 1, rawPayload(sizes.offer, run, k, kindOffer, peer), nil)
		case data[8] == kindOffer && peer == rt.customer[k]:
			rt.offers.Add(1)
			if rt.offered[k].CompareAndSwap(0, at) {
				send(peer, 1, rawPayload(sizes.accept, run, k, kindAccept, vendor), &rt.answered[k])
			}
		case data[8] == kindAccept && peer == vendor:
			rt.accepted[k].CompareAndSwap(0, at)
		}
	}
	s.hook.Store(&hook)
	defer s.hook.Store(nil)
	rt.run(ctx, o, func(k int) error {
		return s.topics[rt.customer[k]][0].Publish(ctx, rawPayload(s.payloadSize, run, k, kindIntent, 0))
	})
	return rt.result(s.System(), n, o), nil
}

// benchOffer is what every vendor of a round trip offers.
var benchOffer = intent.OfferDraft{Price: 99900, Text: "ThinkPad X1, 16 GB, ships tomorrow"}

type wireSizes struct{ intent, offer, accept int }

// messageSizes measures a benchmark intent, a sealed offer to it and an
// accept of that offer, as they travel.
func messageSizes() (wireSizes, error) {
	now := time.Now()
	in, keys, err := intent.NewIntent(context.Background(), benchDraft(0, now, DefaultMinWork), nil)
	if err != nil {
		return wireSizes{}, err
	}
	vendor, err := crypto.GenerateIdentity()
	if err != nil {
		return wireSizes{}, err
	}
	draft := benchOffer
	draft.Vendor, draft.Created, draft.ValidUntil = intent.Vendor{Name: "vendor 0123abcd"}, now, now.Add(time.Hour)
	sealed, signed, err := intent.NewOffer(in, vendor, draft)
	if err != nil {
		return wireSizes{}, err
	}
	acc, err := intent.NewAccept(in, keys, sealed.ID, signed, nil, now)
	if err != nil {
		return wireSizes{}, err
	}
	return wireSizes{len(in.Raw), len(sealed.Raw), len(acc.Raw)}, nil
}
