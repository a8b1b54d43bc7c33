package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/intentcast/intentcast/intent"
	"github.com/intentcast/intentcast/node/store"
)

// Closed means closed. An intent closes when its author cancels it or
// accepts an offer: both are messages signed by the intent's key, so every
// node that knows the intent can check them, and no new message is needed
// to tell the network that an intent was fulfilled: the accept is the
// closure (docs/PROTOCOL.md, "Closing an intent"). A node that sees a
// valid closure drops the intent from its live set and keeps a tombstone
// holding the closure and the intent until the intent would have expired:
// the intent cannot come back, offers and accepts for it are no longer
// relayed (their intent is unknown), vendors are no longer invited to
// offer, this node's pending offers on it lapse, and late-joiner sync
// serves the closure to nodes that missed it.

// ClosureKind says how an intent closed.
type ClosureKind string

// The ways an intent closes before it expires.
const (
	ClosedCancelled ClosureKind = "cancelled" // its author withdrew it
	ClosedAccepted  ClosureKind = "accepted"  // its author accepted an offer
)

// Closure is how an intent this node knew was closed.
type Closure struct {
	IntentID intent.ID
	Kind     ClosureKind
	// Intent is the closed intent; nil if the tombstone predates keeping
	// intents with their closure.
	Intent *intent.SignedIntent
	// Offer is the accepted offer's ID (ClosedAccepted only).
	Offer intent.ID
}

// errNotClosure is a tombstone whose closure is neither a cancel nor an
// accept: never written by this node, so the store was tampered with.
var errNotClosure = errors.New("tombstone holds no cancel or accept")

// closureOf reads a stored tombstone.
func closureOf(t store.Tombstone) (Closure, error) {
	c := Closure{IntentID: t.IntentID}
	m, err := intent.Parse(t.Raw)
	if err != nil {
		return c, fmt.Errorf("tombstone of %x: %w", t.IntentID[:6], err)
	}
	switch m := m.(type) {
	case *intent.SignedCancel:
		c.Kind = ClosedCancelled
	case *intent.SignedAccept:
		c.Kind, c.Offer = ClosedAccepted, m.OfferID
	default:
		return c, fmt.Errorf("tombstone of %x: %w", t.IntentID[:6], errNotClosure)
	}
	if len(t.IntentRaw) > 0 {
		if c.Intent, err = intent.ParseIntent(t.IntentRaw); err != nil {
			return c, fmt.Errorf("tombstone of %x: intent: %w", t.IntentID[:6], err)
		}
	}
	return c, nil
}

// Closure returns how an intent this node knew was closed, or an error
// wrapping store.ErrNotFound if the node holds no closure for it (it is
// live, expired, or unknown).
func (n *Node) Closure(ctx context.Context, id intent.ID) (Closure, error) {
	if err := n.alive(); err != nil {
		return Closure{}, err
	}
	t, err := n.tombstone(ctx, id)
	if err != nil {
		return Closure{}, fmt.Errorf("closure of %s: %w", id.Short(), err)
	}
	return closureOf(t)
}

// tombstone returns the tombstone of an intent, stored or still in the
// write-behind queue (closeIntent), or an error wrapping
// store.ErrNotFound.
func (n *Node) tombstone(ctx context.Context, id intent.ID) (store.Tombstone, error) {
	for _, p := range n.replay.pendingTombstones("") {
		if p.IntentID == id {
			return p, nil
		}
	}
	return n.store.Tombstone(ctx, id)
}

// closeIntent applies a validated closure (raw, a cancel or an accept) of
// in, with what else the closure changes at this node (extra: a vendor's
// deal), in one transaction: the tombstone is stored, and this node's
// offers on it, other than the accepted one, lapse. Then the intent leaves
// the live set and its ID joins the validator's tombstones.
func (n *Node) closeIntent(ctx context.Context, in *intent.SignedIntent, raw []byte, accepted intent.ID, extra store.Batch) error {
	lapsed, err := n.lapsed(ctx, in.ID, accepted)
	if err != nil {
		return err
	}
	t := store.Tombstone{IntentID: in.ID, Category: in.Body.Category, Raw: raw, IntentRaw: in.Raw, Expires: in.Body.ExpiresAt()}
	if len(extra.Offers) == 0 && len(extra.Deals) == 0 && len(lapsed) == 0 && !n.isOwn(in.ID) {
		// Only relayed here: the tombstone is written behind, like the
		// live record it replaces, instead of a disk sync on this node's
		// delivery path for every closure on the network. A crash before
		// the flush leaves this node as one that missed the closure
		// (sync brings it back); it acknowledged nothing about it.
		n.replay.putTombstone(t)
		n.live.remove(in.ID)
		n.tombs.add(in.ID, t.Expires)
		return nil
	}
	// Written behind too, but in the store's queue, which reads see: the
	// event that reports it (a vendor's deal, above all) goes out while it
	// is written. A crash before it is written leaves this node as one
	// that missed the closure; sync brings the closure back from the
	// relays (their tombstones), and with it the deal
	// (docs/ARCHITECTURE.md, "Durable before acknowledged").
	extra.Tombstones = append(extra.Tombstones, t)
	extra.Offers = append(extra.Offers, lapsed...)
	n.storeBehind(ctx, "closure of "+in.ID.Short(), extra)
	n.live.remove(in.ID)
	n.tombs.add(in.ID, t.Expires)
	return nil
}

// lapsed returns the offers this node holds for an intent (sent or
// received) that were still valid, marked lapsed, all but the one
// accepted. It reads the store only if the node has offers on the intent:
// a relay that only passed the intent on has none.
func (n *Node) lapsed(ctx context.Context, intentID, accepted intent.ID) ([]store.Offer, error) {
	live, isLive := n.live.peek(intentID)
	own, isOwn := n.own.get(intentID)
	if (!isLive || live.sent == 0) && (!isOwn || own.offers+own.refused == 0) {
		return nil, nil
	}
	offers, err := n.store.Offers(ctx, intentID)
	if err != nil {
		return nil, fmt.Errorf("lapse offers of %s: %w", intentID.Short(), err)
	}
	var out []store.Offer
	for _, o := range offers {
		if o.Status != store.OfferValid || o.ID == accepted {
			continue
		}
		o.Status = store.OfferLapsed
		out = append(out, o)
	}
	return out, nil
}

// closedRecord is the record of another node's intent that closed, with
// the offers this node sent to it counted.
func (n *Node) closedRecord(ctx context.Context, c Closure) (IntentRecord, error) {
	r := IntentRecord{Intent: c.Intent, State: IntentCancelled, AcceptedOffer: c.Offer}
	if c.Kind == ClosedAccepted {
		r.State = IntentAccepted
	}
	offers, err := n.store.Offers(ctx, c.IntentID)
	if err != nil {
		return r, fmt.Errorf("offers of intent %s: %w", c.IntentID.Short(), err)
	}
	for _, o := range offers {
		if o.Status != store.OfferRefused {
			r.Offers++
		} else {
			r.Refused++
		}
	}
	return r, nil
}
