package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node"
)

// childTrip is a peer process's part in a round trip (RoundTripProc).
// RoundTripRaw and RoundTripIntentcast play every peer's part from one
// process; here each peer plays its own, as a deployed vendor or customer
// would, and reports each step with the time it took it.
type childTrip struct {
	self       int
	vendor     bool
	offerSize  int // raw payload sizes
	acceptSize int

	mu       sync.Mutex
	mine     map[int]bool       // raw: intents this peer published (it is their customer)
	answered map[int]bool       // raw: intents whose first offer this peer answered
	opened   map[intent.ID]bool // intentcast: the same
}

func newChildTrip(m procMsg) *childTrip {
	return &childTrip{self: m.Self, vendor: m.Vendor, offerSize: m.OfferSize, acceptSize: m.AcceptSize,
		mine: make(map[int]bool), answered: make(map[int]bool), opened: make(map[intent.ID]bool)}
}

// publishing notes that this raw peer is the customer of intent k.
func (t *childTrip) publishing(k int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mine[k] = true
}

// firstRawOffer reports whether an offer to raw intent k is the first this
// peer, its customer, answers.
func (t *childTrip) firstRawOffer(k int) (customer, first bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.mine[k] {
		return false, false
	}
	first = !t.answered[k]
	t.answered[k] = true
	return true, first
}

// firstOpened reports whether a valid offer to intent id is the first
// this peer opened.
func (t *childTrip) firstOpened(id intent.ID) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	first := !t.opened[id]
	t.opened[id] = true
	return first
}

// step reports a step of raw intent k, or of intentcast intent id.
func (c *child) step(step string, k int, id *intent.ID, at int64) {
	m := procMsg{Op: "step", Step: step, K: k, At: at}
	if id != nil {
		m.Intent = id[:]
	}
	c.send(m)
}

func (c *child) fail(err error) { c.send(procMsg{Op: "fail", Err: err.Error()}) }

// tripRaw plays this raw peer's part in the round trip for a message it
// delivered, as RoundTripRaw's hook does for every peer.
func (c *child) tripRaw(ctx context.Context, t *childTrip, data []byte) {
	run := c.run.Load()
	k, ok := rawIndex(data, run)
	if !ok {
		return
	}
	at := now()
	switch vendor := int(binary.BigEndian.Uint32(data[9:])); data[8] {
	case kindIntent:
		if t.vendor {
			c.step("reached", k, nil, at)
			c.publishRaw(ctx, rawPayload(t.offerSize, run, k, kindOffer, t.self), k, "")
		}
	case kindOffer:
		customer, first := t.firstRawOffer(k)
		if customer {
			c.step("offer", k, nil, at)
		}
		if first {
			c.step("offered", k, nil, at)
			c.publishRaw(ctx, rawPayload(t.acceptSize, run, k, kindAccept, vendor), k, "answered")
		}
	case kindAccept:
		if t.vendor && vendor == t.self {
			c.step("accepted", k, nil, at)
		}
	}
}

// publishRaw publishes p on the round trip's second topic on a goroutine
// of its own, as a peer's API call would run, and reports step (if any)
// when the call returns.
func (c *child) publishRaw(ctx context.Context, p []byte, k int, step string) {
	c.wg.Go(func() {
		if err := c.raw[1].Publish(ctx, p); err != nil {
			c.fail(err)
			return
		}
		if step != "" {
			c.step(step, k, nil, now())
		}
	})
}

// tripNode plays this node's part in the round trip for one of its
// events, as RoundTripIntentcast's hook does for every node: a vendor
// answers every intent with SendOffer, a customer (the only node that
// opens an offer) accepts its intent's first valid offer.
func (c *child) tripNode(ctx context.Context, t *childTrip, e node.Event) {
	at := now()
	id := e.IntentID
	switch {
	case e.Kind == node.EventIntent && t.vendor:
		c.step("reached", 0, &id, at)
		c.wg.Go(func() {
			_, err := c.nd.SendOffer(ctx, id, benchOffer)
			// A vendor slower than the one accepted finds the intent
			// closed: a late offer, refused as it should be.
			if err != nil && !errors.Is(err, node.ErrNotLive) && ctx.Err() == nil {
				c.fail(fmt.Errorf("vendor %d offers: %w", t.self, err))
			}
		})
	case e.Kind == node.EventOffer:
		c.step("offer", 0, &id, at)
		if e.Status == "valid" && t.firstOpened(id) {
			c.step("offered", 0, &id, at)
			offer := e.OfferID
			c.wg.Go(func() {
				if _, err := c.nd.Accept(ctx, id, offer, nil); err != nil {
					c.fail(fmt.Errorf("customer %d accepts: %w", t.self, err))
					return
				}
				c.step("answered", 0, &id, now())
			})
		}
	case e.Kind == node.EventAccept && t.vendor:
		c.step("accepted", 0, &id, at)
	}
}
