package bench

import (
	"context"
	"errors"

	"github.com/intentcast/intentcast/intent"
)

// procTrip is a round trip on a ProcSwarm: the bookkeeping, and how the
// peers' step events name its intents.
type procTrip struct {
	rt    *roundTrip
	index map[intent.ID]int // intentcast: intent -> k
}

// event records a step a peer reported, or its failure.
func (t *procTrip) event(m procMsg) {
	if m.Op == "fail" {
		t.rt.fail(errors.New(m.Err))
		return
	}
	k := m.K
	if t.index != nil {
		if len(m.Intent) != len(intent.ID{}) {
			return
		}
		var ok bool
		if k, ok = t.index[intent.ID(m.Intent)]; !ok {
			return
		}
	}
	if k < 0 || k >= len(t.rt.sent) {
		return
	}
	rt := t.rt
	switch m.Step {
	case "reached":
		earliest(&rt.reached[k], m.At)
	case "offer":
		rt.offers.Add(1)
	case "offered":
		rt.offered[k].CompareAndSwap(0, m.At)
	case "answered":
		rt.answered[k].Store(m.At)
	case "accepted":
		rt.accepted[k].CompareAndSwap(0, m.At)
	}
}

// RoundTripProc runs the round trip of RoundTripRaw and
// RoundTripIntentcast on a swarm of a process per peer (raw peers with
// Topics 2): each peer plays its own part (childTrip), so a node's disk
// syncs stall that node alone, as in a deployment, not a whole swarm
// sharing one process's scheduler.
func RoundTripProc(ctx context.Context, s *ProcSwarm, o RoundTripOptions) (RoundTripResult, error) {
	n := s.Size()
	sizes, err := messageSizes()
	if err != nil {
		return RoundTripResult{}, err
	}
	rt, err := newRoundTrip(n, o)
	if err != nil {
		return RoundTripResult{}, err
	}
	trip := &procTrip{rt: rt}
	var ins []*intent.SignedIntent
	var keys []intent.Keys
	if s.intentcast() {
		if ins, keys, _, err = mintIntents(ctx, o.Intents, s.minWork); err != nil {
			return RoundTripResult{}, err
		}
		trip.index = make(map[intent.ID]int, len(ins))
		for k, in := range ins {
			trip.index[in.ID] = k
		}
	}
	s.run.Store(nil)
	s.trip.Store(trip)
	defer s.trip.Store(nil)
	run := recorderIDs.Add(1)
	cctx, cancel := context.WithTimeout(ctx, procCallTimeout)
	defer cancel()
	err = s.each(cctx, func(p *procPeer) error {
		if _, err := p.call(cctx, procMsg{Op: "run", Run: run}); err != nil {
			return err
		}
		_, err := p.call(cctx, procMsg{Op: "trip", Self: p.i, Vendor: rt.vendor[p.i], OfferSize: sizes.offer, AcceptSize: sizes.accept})
		return err
	})
	if err != nil {
		return RoundTripResult{}, err
	}
	rt.run(ctx, o, func(k int) error {
		if ins != nil {
			return s.publishIntent(ctx, rt.customer[k], k, ins[k], keys[k])
		}
		return s.publishIntent(ctx, rt.customer[k], k, nil, intent.Keys{})
	})
	return rt.result(s.System(), n, o), nil
}
